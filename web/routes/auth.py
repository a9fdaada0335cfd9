"""Sign in and out; the home page sends each role to its own start page."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from pipeline.store import AuditRow
from web.accounts import authenticate
from web.deps import SESSION_CSRF, SESSION_USER, CsrfDep, CurrentUser, ServicesDep, UserDep, optional_user, render
from web.models import Role
from web.security import new_csrf_token

logger = logging.getLogger(__name__)
router = APIRouter()


def start_page(user: CurrentUser) -> str:
    """Where a user lands after signing in."""
    return "/overview" if user.is_staff else f"/carriers/{user.carrier_id}"


def _safe_next(target: str | None) -> str | None:
    """Only local paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@router.get("/")
def home(user: UserDep) -> Response:
    """Send the user to their start page."""
    return RedirectResponse(start_page(user), status_code=303)


@router.get("/login")
def login_page(request: Request, services: ServicesDep, next: str | None = None) -> Response:  # noqa: A002
    """The sign-in form."""
    user = optional_user(request, services)
    if user is not None:
        return RedirectResponse(start_page(user), status_code=303)
    return render(request, services, "login.html", {"next": _safe_next(next) or "", "error": None})


@router.post("/login", dependencies=[CsrfDep])
def login(request: Request, services: ServicesDep, username: Annotated[str, Form()],
          password: Annotated[str, Form()], next: Annotated[str, Form()] = "") -> Response:  # noqa: A002
    """Check the credentials; on success start a fresh session (new CSRF token)."""
    with services.store.session() as s:
        row = authenticate(s, username, password)
        if row is None:
            s.add(AuditRow(actor="anonymous", action="login_failed", detail=""))
            user = None
        else:
            s.add(AuditRow(actor=row.username, action="login", detail=""))
            user = CurrentUser(row.id, row.username, Role(row.role), row.carrier_id)
    if user is None:
        logger.info("login failed")
        return render(request, services, "login.html",
                      {"next": _safe_next(next) or "", "error": "Identifiant ou mot de passe incorrect."},
                      status_code=401)
    request.session.clear()  # no session fixation: everything from before sign-in is dropped
    request.session[SESSION_USER] = user.id
    request.session[SESSION_CSRF] = new_csrf_token()
    return RedirectResponse(_safe_next(next) or start_page(user), status_code=303)


@router.post("/logout", dependencies=[CsrfDep])
def logout(request: Request, services: ServicesDep) -> Response:
    """End the session."""
    user = optional_user(request, services)
    if user is not None:
        with services.store.session() as s:
            s.add(AuditRow(actor=user.username, action="logout", detail=""))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
