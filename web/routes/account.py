"""The signed-in user's own account: change the password (current one asked again).

A change ends the user's other sessions (a browser left signed in elsewhere) and keeps this one.
An admin's reset of another account's password is under ``/admin/users`` (:mod:`web.routes.admin`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from web.accounts import AccountError, change_password
from web.deps import SESSION_TOKEN, CsrfDep, ServicesDep, UserDep, render

router = APIRouter(prefix="/account")


@router.get("/password")
def password_page(request: Request, services: ServicesDep, user: UserDep) -> Response:
    """The form to change one's password."""
    return render(request, services, "account_password.html", {"error": None, "done": False,
                                                                "web": services.web}, user)


@router.post("/password", dependencies=[CsrfDep])
def change(request: Request, services: ServicesDep, user: UserDep, current: Annotated[str, Form()],
           new: Annotated[str, Form()], confirm: Annotated[str, Form()]) -> Response:
    """Change the password; 422 with the reason when refused."""
    error: str | None = None
    if new != confirm:
        error = "Les deux saisies du nouveau mot de passe diffèrent."
    else:
        token = request.session.get(SESSION_TOKEN)
        try:
            with services.store.session() as s:
                change_password(s, user.id, current, new, keep_token=token if isinstance(token, str) else None,
                                web=services.web)
        except AccountError as exc:
            error = exc.message_fr
    return render(request, services, "account_password.html", {"error": error, "done": error is None,
                                                                "web": services.web},
                  user, 422 if error else 200)
