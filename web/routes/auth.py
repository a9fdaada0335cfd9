"""Sign in (throttled, :mod:`web.signin`) and out; the home page sends each role to its own start page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from web.deps import (
    SESSION_CSRF,
    SESSION_TOKEN,
    CsrfDep,
    CurrentUser,
    ServicesDep,
    UserDep,
    client_address,
    optional_user,
    render,
)
from web.security import new_csrf_token
from web.signin import Throttled, WrongCredentials, sign_in, sign_out

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
    """Check the credentials (throttled, audited); on success start a fresh server-side session."""
    previous = request.session.get(SESSION_TOKEN)
    outcome = sign_in(services.store, username, password, client_address(request), services.web,
                      previous_token=previous if isinstance(previous, str) else None)
    if isinstance(outcome, Throttled):
        return render(request, services, "login.html",
                      {"next": _safe_next(next) or "", "error": outcome.refusal.message_fr}, status_code=429,
                      headers={"Retry-After": str(outcome.refusal.retry_after_s)})
    if isinstance(outcome, WrongCredentials):
        return render(request, services, "login.html", {"next": _safe_next(next) or "", "error": outcome.message_fr},
                      status_code=401)
    request.session.clear()  # no session fixation: everything from before sign-in is dropped
    request.session[SESSION_TOKEN] = outcome.token
    request.session[SESSION_CSRF] = new_csrf_token()
    return RedirectResponse(_safe_next(next) or start_page(outcome.user), status_code=303)


@router.post("/logout", dependencies=[CsrfDep])
def logout(request: Request, services: ServicesDep) -> Response:
    """End the session, on the server too: a copy of the cookie opens nothing afterwards."""
    token = request.session.get(SESSION_TOKEN)
    sign_out(services.store, token if isinstance(token, str) else None, optional_user(request, services),
             client_address(request))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
