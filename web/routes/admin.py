"""Accounts, for admins: list, create (staff, admin or carrier bound to one carrier), deactivate, reset a password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from web.accounts import AccountError, create_user, list_users, reset_password, set_active
from web.deps import AdminDep, CsrfDep, DbId, ServicesDep, render
from web.models import ROLE_LABELS_FR, Role

router = APIRouter(prefix="/admin")


def _page(request: Request, services: ServicesDep, user: AdminDep, error: str | None = None,
          status_code: int = 200, notice: str | None = None) -> Response:
    with services.store.session() as s:
        users = [(u.id, u.username, u.role, u.carrier_id, u.active, u.created_at) for u in list_users(s)]
    return render(request, services, "admin_users.html",
                  {"users": users, "roles": list(Role), "role_labels": ROLE_LABELS_FR, "error": error, "notice": notice,
                   "carriers": sorted(services.directory.carriers, key=lambda c: c.name)}, user, status_code)


@router.get("/users")
def users_page(request: Request, services: ServicesDep, user: AdminDep) -> Response:
    """Accounts and the form to add one."""
    return _page(request, services, user)


@router.post("/users", dependencies=[CsrfDep])
def add_user(request: Request, services: ServicesDep, user: AdminDep, username: Annotated[str, Form()],
             password: Annotated[str, Form()], role: Annotated[str, Form()],
             carrier_id: Annotated[str, Form()] = "") -> Response:
    """Create an account."""
    try:
        with services.store.session() as s:
            create_user(s, services.directory, username, password, Role(role), carrier_id or None,
                        actor=user.username, web=services.web)
    except (AccountError, ValueError) as exc:
        message = exc.message_fr if isinstance(exc, AccountError) else "Rôle inconnu."
        return _page(request, services, user, message, 422)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{user_id}/active", dependencies=[CsrfDep])
def toggle_user(services: ServicesDep, user: AdminDep, user_id: DbId, active: Annotated[str, Form()]) -> Response:
    """Deactivate (or reactivate) an account (its sessions end); an admin cannot deactivate themselves."""
    if user_id == user.id:
        raise HTTPException(status_code=409, detail="Impossible de désactiver son propre compte.")
    with services.store.session() as s:
        if set_active(s, user_id, active == "1", actor=user.username) is None:
            raise HTTPException(status_code=404, detail="Compte introuvable.")
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{user_id}/password", dependencies=[CsrfDep])
def reset_user_password(request: Request, services: ServicesDep, user: AdminDep, user_id: DbId,
                        password: Annotated[str, Form()]) -> Response:
    """Set a new password for an account (to give to its user): its sessions and sign-in lock end."""
    try:
        with services.store.session() as s:
            target = reset_password(s, user_id, password, actor=user.username, web=services.web).username
    except AccountError as exc:
        return _page(request, services, user, exc.message_fr, 422)
    return _page(request, services, user, notice=f"Mot de passe de « {target} » réinitialisé : ses sessions "
                                                 "sont fermées. Le lui transmettre de vive voix, et lui demander "
                                                 "de le changer (menu : son identifiant).")
