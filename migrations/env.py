"""Alembic environment: the database of ``CLAS_DATABASE_URL`` and every table declared on ``pipeline.store.Base``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import pipeline.intake.mail_store  # noqa: F401 - registers the mail tables
import pipeline.notices  # noqa: F401 - registers the teacher notices' tables (issue 20)
import web.models  # noqa: F401 - registers the review desk's tables
from pipeline.settings import Settings
from pipeline.store import Base

target_metadata = Base.metadata


def _url() -> str:
    return context.config.attributes.get("url") or Settings().database_url


def run_migrations_offline() -> None:
    """Write the SQL instead of running it (``alembic upgrade head --sql``)."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the database (batch mode, so SQLite can alter tables)."""
    engine = create_engine(_url())
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
