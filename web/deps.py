"""Dependencies of the routes: the app's services, the current user, role checks, CSRF, rendering.

Every route states what it needs with ``Depends``: an anonymous visitor meets
:class:`LoginRequired` (turned into a redirect to the login page by ``main``), a user
without the role gets 403, and every POST goes through :func:`csrf_protect`.

The cookie names a server-side session (:mod:`web.sessions`): a user is signed in only while
that session is neither revoked, idle nor too old. Path ids are bounded (:data:`DbId`), so a
23-digit id is a 404 page, not a database overflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from pipeline.settings import Settings
from pipeline.store import Store
from schemas.directory import Directory
from web.images import PageCache
from web.models import Role, UserRow
from web.security import csrf_matches, new_csrf_token
from web.sessions import resolve
from web.settings import WebSettings

SESSION_TOKEN = "sid"
SESSION_CSRF = "csrf"
CSRF_FIELD = "csrf_token"
MAX_DB_ID = 2**63 - 1
"""Largest row id a database integer holds (SQLite and PostgreSQL ``bigint``)."""
DbId = Annotated[int, Path(ge=1, le=MAX_DB_ID)]
"""A row id in a URL: outside 1 … 2^63 − 1 it is refused before any query (a French 404 page)."""


class LoginRequired(Exception):
    """No valid session: the visitor is sent to the login page."""


@dataclass(frozen=True)
class Services:
    """What the app opens once at start-up and every request shares.

    Attributes:
        settings: Product settings.
        web: Web page settings.
        store: The database.
        directory: Schools and carriers.
        pages: Bounded cache of rendered form pages.
        templates: Jinja2 environment.
    """

    settings: Settings
    web: WebSettings
    store: Store
    directory: Directory
    pages: PageCache
    templates: Jinja2Templates


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in user, detached from any database session.

    Attributes:
        id: Account id.
        username: Shown in the page and written as the audit actor.
        role: Staff, admin or carrier.
        carrier_id: For a carrier account, the one carrier it belongs to.
    """

    id: int
    username: str
    role: Role
    carrier_id: str | None

    @property
    def is_staff(self) -> bool:
        """Staff and admin review and see every referral."""
        return self.role in (Role.STAFF, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        """Admins manage accounts."""
        return self.role is Role.ADMIN

    @property
    def is_supervisor(self) -> bool:
        """Supervisors decide the forms staff set aside; admins act as supervisors."""
        return self.role is Role.ADMIN


def get_services(request: Request) -> Services:
    """The app's shared services."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = new_csrf_token()
        request.session[SESSION_CSRF] = token
    return str(token)


def client_address(request: Request) -> str:
    """The client's address as the server sees it (uvicorn runs without proxy headers)."""
    return request.client.host if request.client else "inconnue"


def optional_user(request: Request, services: ServicesDep) -> CurrentUser | None:
    """The signed-in, still active user, or ``None``; a revoked, idle or expired session is cleared."""
    token = request.session.get(SESSION_TOKEN)
    if not isinstance(token, str):
        return None
    with services.store.session() as s:
        valid = resolve(s, token, services.web)
        row: UserRow | None = valid.user if valid else None
        if row is None:
            request.session.clear()
            return None
        return CurrentUser(row.id, row.username, Role(row.role), row.carrier_id)


def current_user(user: Annotated[CurrentUser | None, Depends(optional_user)]) -> CurrentUser:
    """The signed-in user.

    Raises:
        LoginRequired: Nobody is signed in.
    """
    if user is None:
        raise LoginRequired
    return user


UserDep = Annotated[CurrentUser, Depends(current_user)]


def require_staff(user: UserDep) -> CurrentUser:
    """A staff or admin user.

    Raises:
        HTTPException: 403 for a carrier account.
    """
    if not user.is_staff:
        raise HTTPException(status_code=403, detail="Accès réservé aux agents de la Ville.")
    return user


def require_admin(user: UserDep) -> CurrentUser:
    """An admin user.

    Raises:
        HTTPException: 403 otherwise.
    """
    if not user.is_admin:
        raise HTTPException(status_code=403, detail="Accès réservé aux administrateurs.")
    return user


def require_supervisor(user: UserDep) -> CurrentUser:
    """A supervisor (an admin account), for the queue of set-aside forms.

    Raises:
        HTTPException: 403 otherwise.
    """
    if not user.is_supervisor:
        raise HTTPException(status_code=403, detail="Accès réservé aux responsables (administrateurs).")
    return user


StaffDep = Annotated[CurrentUser, Depends(require_staff)]
AdminDep = Annotated[CurrentUser, Depends(require_admin)]
SupervisorDep = Annotated[CurrentUser, Depends(require_supervisor)]


def require_carrier_access(carrier_id: str, user: UserDep, services: ServicesDep) -> CurrentUser:
    """A user allowed to see ``carrier_id``'s queue: that carrier's own account, or staff.

    Raises:
        HTTPException: 403 for another carrier's account; 404 for an unknown carrier.
    """
    if not user.is_staff and user.carrier_id != carrier_id:
        raise HTTPException(status_code=403, detail="Cette file appartient à une autre structure.")
    if carrier_id not in {c.id for c in services.directory.carriers}:
        raise HTTPException(status_code=404, detail="Structure inconnue.")
    return user


CarrierAccessDep = Annotated[CurrentUser, Depends(require_carrier_access)]


async def csrf_protect(request: Request) -> None:
    """Refuse a form post whose token does not match the session's (403).

    Raises:
        HTTPException: 403 when the token is missing or wrong.
    """
    form = await request.form()
    submitted = form.get(CSRF_FIELD)
    if not csrf_matches(request.session.get(SESSION_CSRF), submitted if isinstance(submitted, str) else None):
        raise HTTPException(status_code=403, detail="Formulaire expiré ou invalide : recharger la page et recommencer.")


CsrfDep = Depends(csrf_protect)


def render(request: Request, services: Services, template: str, context: dict[str, Any],
           user: CurrentUser | None = None, status_code: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    """Render a page with what every page needs (user, CSRF token, directory names)."""
    base = {"user": user, "csrf_token": csrf_token(request), "csrf_field": CSRF_FIELD,
            "carrier_names": {c.id: c.name for c in services.directory.carriers},
            "school_names": {s.id: s.name for s in services.directory.schools}}
    return services.templates.TemplateResponse(request, template, {**base, **context}, status_code=status_code,
                                               headers=headers)
