"""Settings of the web page only (``CLAS_WEB_`` prefix); product settings stay in ``pipeline.settings``.

Kept apart because ``pipeline/`` imports no web code; the secret that signs session
cookies is the product's ``CLAS_SECRET_KEY`` (refused as a placeholder outside development).
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    """Options of the review desk.

    Attributes:
        host: Interface uvicorn listens on; loopback by default (put a TLS proxy in front).
        port: TCP port.
        cookie_secure: Send the session cookie over HTTPS only. Off by default because the
            default deployment is loopback HTTP; turn it on behind HTTPS.
        session_max_age_s: Session lifetime: 8 h, one working day (OWASP session guidance:
            absolute timeouts of a few hours for internal applications).
        page_dpi: Resolution at which form pages are shown (pixels per inch).
        crop_dpi: Resolution of field crops: 150 dpi keeps handwriting legible at 1:1.
        image_cache_forms: How many forms' page images are kept in memory (bounded cache).
        followup_undo_s: Seconds during which a carrier's « Inscrit(e) » or « Refus » can be undone;
            a refusal frees its place only once this has passed (issue 17: "an undo within a day").
    """

    model_config = SettingsConfigDict(env_prefix="CLAS_WEB_", frozen=True)

    host: str = "127.0.0.1"
    port: int = 8000
    cookie_secure: bool = False
    session_max_age_s: int = 8 * 3600
    page_dpi: int = 100
    crop_dpi: int = 150
    image_cache_forms: int = 8
    followup_undo_s: int = 24 * 3600
