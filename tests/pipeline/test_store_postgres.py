"""The same store, migrations, run lock, flow and erasure against a real PostgreSQL on loopback.

``CLAS_DATABASE_URL`` points at the server of ``tests/support/postgres.py``; the
SQLite runs of the other tests cover the default. The migrations are checked to
build exactly the schema the models declare, on both databases.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, select

import pipeline.intake.mail_store  # noqa: F401 - every table registered, as the migrations expect
import web.desk_models  # noqa: F401
import web.models  # noqa: F401
from flows.nightly import nightly
from pipeline.privacy.keys import pupil_hash_key
from pipeline.settings import Settings
from pipeline.store import Base, DatabaseLockedError, ReceiptRow, ReferralRow, RunAlreadyActiveError, Store, migrate
from tests.conftest import SAMPLES_INBOX
from tests.support.postgres import postgres_server, reset_database


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture
def pg_url(pg_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    reset_database(pg_server)
    monkeypatch.setenv("CLAS_DATABASE_URL", pg_server)
    monkeypatch.setenv("CLAS_DATA_DIR", str(tmp_path / "data"))
    return pg_server


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_build_exactly_the_declared_schema(backend: str, pg_url: str, tmp_path: Path) -> None:
    url = pg_url if backend == "postgresql" else f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    migrate(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diffs == []


def test_the_flow_runs_on_postgresql_and_a_second_run_changes_nothing(harness: None, pg_url: str,
                                                                       tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("text_pdf-0000.pdf", "text_pdf-0000_renvoi.pdf", "not_the_form-0000.pdf",
                 "invalid_no_criterion-0000.pdf", "fillable-0000.pdf"):
        shutil.copy(SAMPLES_INBOX / name, inbox / name)
    migrate(pg_url)
    first = nightly(str(inbox))
    assert first["received"] == 5 and first["balanced"]
    assert (first["quarantined"], first["duplicate"], first["review"]) == (1, 1, 1)
    second = nightly(str(inbox))
    assert second["received"] == 0 and second["already_processed"] == 5
    store = Store(Settings().database_url)
    assert store.engine.dialect.name == "postgresql"
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(ReceiptRow)) == 5
        assert s.scalar(select(func.count()).select_from(ReferralRow)) == first["routed"] + first["waiting_list"]
    # The run lock is PostgreSQL's advisory lock: a second holder is refused.
    with store.exclusive_run():
        other = Store(pg_url)
        with pytest.raises(RunAlreadyActiveError), other.exclusive_run():
            pass
        other.close()
    store.close()


def test_erasure_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    from pipeline.deciding.directory import load_directory
    from pipeline.privacy.subject_rights import erase
    from tests.support.distinctive_forms import (
        PUPIL_FIRST_NAME,
        PUPIL_SURNAME,
        distinctive_birth_date,
        dump_tables,
        find_secrets,
        process_inbox,
        write_distinctive_inbox,
    )

    settings = Settings()
    directory = load_directory(settings.directory_file)
    write_distinctive_inbox(tmp_path / "inbox", directory)
    process_inbox(settings, tmp_path / "inbox")
    store = Store(pg_url)
    assert find_secrets(dump_tables(store))
    found = erase(store, PUPIL_SURNAME, PUPIL_FIRST_NAME, distinctive_birth_date(directory), pupil_hash_key(settings),
                  "agent1", settings.school_year)
    assert len(found.form_ids) == 3
    assert find_secrets(dump_tables(store)) == []
    store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_one_decision_at_a_time_counts_and_takes_places(backend: str, pg_url: str, tmp_path: Path) -> None:
    url = pg_url if backend == "postgresql" else f"sqlite:///{tmp_path / 'places.sqlite3'}"
    first, second = Store(url), Store(url, busy_timeout_s=0.3)
    try:
        with first.session() as s:
            first.lock_places(s)
            s.add(ReferralRow(form_id="FO-2026-000001", school_year="2026-2027", pupil_key="k1", school_id="E1",
                              class_level="CM1", status="routed", carrier_id="C1", data={}))
            with pytest.raises(DatabaseLockedError), second.session() as other:
                second.lock_places(other)  # a second approval waits while the first counts and routes
        with second.session() as other:
            second.lock_places(other)
            assert second.count_places(other, "2026-2027") == {"C1": 1}  # then sees the place taken
        assert second.places_used("2026-2027") == {"C1": 1} and second.places_used("2025-2026") == {}
    finally:
        first.close()
        second.close()
