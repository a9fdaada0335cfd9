"""The review desk application: ``create_app`` wires settings, store, sessions and routes.

Run it with ``clas-referrals web`` (uvicorn, 127.0.0.1:8000 by default). Session cookies
are signed with a key that is never written in a source (:mod:`web.secret`), HttpOnly,
SameSite=Lax, and Secure outside development; they name a server-side session
(:mod:`web.sessions`). Every response, error pages included (404, 405, 422, 429, 500…), is a
French page with no-store and a strict Content Security Policy (scripts from ``/static`` only).
A signed-in user refused a page (403) or sent to a missing one (404) is audited with the path
and the client address.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import HTMLResponse, RedirectResponse, Response

import pipeline.notices  # noqa: F401 - registers the teacher notices' tables (issue 20) likewise
import web.desk_models  # noqa: F401 - registers the desk workflow tables (issue 17) likewise
import web.models  # noqa: F401 - registers the web tables on Base before the store creates them
from pipeline.deciding.directory import load_directory
from pipeline.reporting.render import TEMPLATES as REPORT_TEMPLATES
from pipeline.settings import Settings
from pipeline.store import AuditRow, Store
from web.deps import LoginRequired, Services, client_address, csrf_token, optional_user
from web.images import PageCache
from web.routes import (
    account,
    admin,
    auth,
    carriers,
    notices,
    overview,
    places,
    quarantine,
    referrals,
    report,
    review,
)
from web.secret import session_signing_key
from web.settings import WebSettings

logger = logging.getLogger(__name__)
WEB_DIR = Path(__file__).resolve().parent
SESSION_COOKIE = "clas_session"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
ERROR_TITLES_FR = {
    400: "Demande invalide", 401: "Connexion nécessaire", 403: "Accès refusé", 404: "Page introuvable",
    405: "Méthode non permise", 409: "Action impossible", 413: "Envoi trop volumineux", 422: "Formulaire incomplet",
    429: "Trop de demandes", 500: "Erreur interne", 503: "Service indisponible",
}
"""Title of the error page of each status; any other status gets « Erreur »."""
ERROR_MESSAGES_FR = {
    400: "La demande n'a pas pu être comprise.",
    401: "Se connecter pour voir cette page.",
    403: "Cette page n'est pas accessible avec ce compte.",
    404: "Cette page n'existe pas, ou l'élément demandé est introuvable.",
    405: "Cette action n'est pas possible à cette adresse.",
    413: "Le fichier ou le formulaire envoyé est trop volumineux.",
    422: "Des champs du formulaire manquent ou sont mal remplis : recharger la page et recommencer.",
    429: "Trop de demandes : patienter un peu puis réessayer.",
    500: "Une erreur inattendue est survenue ; elle a été enregistrée. Réessayer, puis prévenir l'équipe technique "
         "si elle se reproduit.",
}
"""What an error page says when the code raising it gave no French message (Starlette's own are English)."""
AUDITED_REFUSALS = (403, 404)
MAX_AUDITED_PATH = 200


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
    # The yearly report's body is shared with the file ``clas-referrals report`` writes (issue 20).
    templates.env.loader = ChoiceLoader([FileSystemLoader(str(WEB_DIR / "templates")),
                                         FileSystemLoader(str(REPORT_TEMPLATES))])
    templates.env.filters["pct"] = lambda x: f"{float(x):.0%}".replace("%", " %")
    templates.env.filters["frdate"] = lambda d: d.astimezone().strftime("%d/%m/%Y %H:%M") if d else ""
    return templates


def create_app(settings: Settings | None = None, web_settings: WebSettings | None = None) -> FastAPI:
    """Build the application.

    Args:
        settings: Product settings; read from ``CLAS_*`` when omitted.
        web_settings: Web settings; read from ``CLAS_WEB_*`` when omitted.

    Returns:
        The FastAPI app, its services in ``app.state.services``.
    """
    settings = settings or Settings()
    web_settings = web_settings or WebSettings()
    signing_key = session_signing_key(settings, web_settings)
    store = Store(settings.database_url, settings.database.busy_timeout_s)
    services = Services(settings, web_settings, store, load_directory(settings.directory_file),
                        PageCache(web_settings.image_cache_forms, web_settings.crop_dpi), _templates())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        services.store.close()

    app = FastAPI(title="Bureau de vérification CLAS", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.services = services
    secure = web_settings.cookie_secure or settings.environment != "development"
    app.add_middleware(SessionMiddleware, secret_key=signing_key, session_cookie=SESSION_COOKIE,
                       max_age=web_settings.session_max_age_s, same_site="lax", https_only=secure)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
        response: Response = await call_next(request)
        _secure(request, response)
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def error_page(request: Request, exc: StarletteHTTPException) -> Response:
        message = _french(exc.status_code, exc.detail)
        # A route's own refusal (its French detail) is audited; a path no route serves (a browser's
        # /favicon.ico, a typo) is not, or every page load would write to the audit log.
        from_route = message == exc.detail
        return _error_page(request, services, exc.status_code, message, dict(exc.headers or {}),
                           audit=exc.status_code == 403 or from_route)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # A path id that is not an id names nothing (404); a missing or malformed form field is a 422.
        in_path = any(err.get("loc", ("",))[0] == "path" for err in exc.errors())
        status = 404 if in_path else 422
        return _error_page(request, services, status, ERROR_MESSAGES_FR[status], {}, audit=in_path)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        # Runs in Starlette's outermost middleware, outside security_headers: headers are set here.
        logger.error("unhandled error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        response = _plain_error_page(services, 500)
        _secure(request, response)
        return response

    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
    for module in (auth, account, overview, review, referrals, carriers, admin, quarantine, report, notices, places):
        app.include_router(module.router)

    return app


def _secure(request: Request, response: Response) -> None:
    """Add the security headers; pages and images hold personal data: never cached."""
    response.headers.update(SECURITY_HEADERS)
    if not request.url.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"


def _french(status: int, detail: object) -> str:
    """The message of an error: the route's own French text, else the status's French message.

    Starlette's default details (``Not Found``, ``Method Not Allowed``) are its status phrases, in English.
    """
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    if isinstance(detail, str) and detail and detail != phrase:
        return detail
    return ERROR_MESSAGES_FR.get(status, "La demande n'a pas abouti.")


def _audit_refusal(request: Request, services: Services, status: int, username: str) -> None:
    """Record who was refused what, from where (the path carries ids and serials, never names)."""
    path = request.url.path[:MAX_AUDITED_PATH]
    with services.store.session() as s:
        s.add(AuditRow(actor=username, action="access_refused",
                       detail=f"status {status}; {request.method} {path}; address {client_address(request)}"))


def _error_page(request: Request, services: Services, status: int, message: str, headers: dict[str, str], *,
                audit: bool) -> Response:
    """The French error page, with the user's menu when signed in.

    Args:
        audit: Whether a 403 or 404 of a signed-in user is recorded (``access_refused``).
    """
    try:
        user = optional_user(request, services)
    except Exception:  # noqa: BLE001 - the database itself may be what failed: the page is still shown
        logger.exception("error page without user (session lookup failed)")
        return _plain_error_page(services, status, message, headers)
    if audit and user is not None and status in AUDITED_REFUSALS:
        _audit_refusal(request, services, status, user.username)
    return services.templates.TemplateResponse(
        request, "error.html", {"user": user, "csrf_token": csrf_token(request), "csrf_field": "csrf_token",
                                "status": status, "title": ERROR_TITLES_FR.get(status, "Erreur"),
                                "message": message},
        status_code=status, headers=headers)


def _plain_error_page(services: Services, status: int, message: str | None = None,
                      headers: dict[str, str] | None = None) -> Response:
    """The error page without user nor session (a server error, the database unreachable)."""
    html = services.templates.get_template("error.html").render(
        {"user": None, "csrf_token": "", "csrf_field": "csrf_token", "status": status,
         "title": ERROR_TITLES_FR.get(status, "Erreur"),
         "message": message or ERROR_MESSAGES_FR.get(status, "La demande n'a pas abouti.")})
    return HTMLResponse(html, status_code=status, headers=headers)
