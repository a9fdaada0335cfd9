"""The review desk application: ``create_app`` wires settings, store, sessions and routes.

Run it with ``clas-referrals web`` (uvicorn, 127.0.0.1:8000 by default). Session cookies
are signed with ``CLAS_SECRET_KEY`` (itsdangerous), HttpOnly and SameSite=Lax; pages
carry no-store and a strict Content Security Policy (scripts from ``/static`` only).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import RedirectResponse, Response

import web.desk_models  # noqa: F401 - registers the desk workflow tables (issue 17) likewise
import web.models  # noqa: F401 - registers the web tables on Base before the store creates them
from pipeline.deciding.directory import load_directory
from pipeline.settings import Settings
from pipeline.store import Store
from web.deps import LoginRequired, Services, csrf_token, optional_user
from web.images import PageCache
from web.routes import admin, auth, carriers, overview, quarantine, referrals, review
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


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
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
    services = Services(settings, web_settings, Store(settings.database_url), load_directory(settings.directory_file),
                        PageCache(web_settings.image_cache_forms, web_settings.crop_dpi), _templates())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        services.store.close()

    app = FastAPI(title="Bureau de vérification CLAS", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.services = services
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key, session_cookie=SESSION_COOKIE,
                       max_age=web_settings.session_max_age_s, same_site="lax", https_only=web_settings.cookie_secure)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
        response: Response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"  # pages and images hold personal data
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(HTTPException)
    async def error_page(request: Request, exc: HTTPException) -> Response:
        if exc.status_code in (401, 403, 404, 405, 409, 422):
            user = optional_user(request, services)
            return services.templates.TemplateResponse(
                request, "error.html", {"user": user, "csrf_token": csrf_token(request), "csrf_field": "csrf_token",
                                        "status": exc.status_code, "message": exc.detail},
                status_code=exc.status_code)
        return Response(str(exc.detail), status_code=exc.status_code)

    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
    for module in (auth, overview, review, referrals, carriers, admin, quarantine):
        app.include_router(module.router)

    return app
