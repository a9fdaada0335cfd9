"""Settings of the alert tests: the staff address and the SMTP server an alert goes to."""

from __future__ import annotations

import pytest

from pipeline.settings import Settings

STAFF = "equipe-clas@ville-argenteuil.example"
PUPIL = "Léa Dupont-Moreau"
"""An invented pupil's name, put where a careless alert would copy it (a path, an exception message)."""


def alert_settings(monkeypatch: pytest.MonkeyPatch, port: int) -> Settings:
    """Settings that send alerts to ``STAFF`` through a plain SMTP server on loopback ``port``."""
    monkeypatch.setenv("CLAS_ALERTS__STAFF_ADDRESS", STAFF)
    monkeypatch.setenv("CLAS_MAIL__SMTP__HOST", "127.0.0.1")
    monkeypatch.setenv("CLAS_MAIL__SMTP__PORT", str(port))
    monkeypatch.setenv("CLAS_MAIL__SMTP__SECURITY", "none")
    monkeypatch.setenv("CLAS_MAIL__SMTP__SENDER", "clas@ville-argenteuil.example")
    return Settings()
