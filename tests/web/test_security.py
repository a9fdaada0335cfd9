"""Issue 17, the desk's security: session key, sign-in throttling, passwords, server-side sessions,
hostile values from fillable PDFs, CSV formulas, French error pages and audited refusals.

Each test failed on the code before issue 17 (see the commit message); each drives the real app
(``TestClient``) on a private copy of the pipeline's database (``fresh_demo``) when it signs in
or fails to, so the throttling counters of one test never reach another.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import random
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import itsdangerous
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from pipeline.deciding.directory import load_directory
from pipeline.settings import Settings
from pipeline.store import AuditRow, DocumentRow, ReferralRow, ReviewItemRow, Store, utcnow
from samples.generator import invent_form_values, schools_from_directory, write_fillable, write_text_pdf
from tests.web.conftest import PASSWORD, DemoData, csrf_of, login, run_pipeline
from web.carrier_queue import GuardianContact, QueueRow, queue_csv
from web.main import SESSION_COOKIE, create_app
from web.models import UserRow

SOURCE_KEY = "dev-only-change-me"  # the key that used to be written in pipeline/settings
STRONG_KEY = "k3y-of-a-test-" + "x7Qp" * 10


def _store(demo: DemoData) -> Store:
    return Store(demo.settings.database_url)


def _audits(demo: DemoData, action: str) -> list[AuditRow]:
    store = _store(demo)
    with store.session() as s:
        rows = list(s.scalars(select(AuditRow).where(AuditRow.action == action).order_by(AuditRow.id)))
    store.close()
    return rows


@pytest.fixture
def fresh_client(fresh_demo: DemoData) -> Iterator[TestClient]:
    """A client of an app on a private copy of the database."""
    with TestClient(create_app(fresh_demo.settings)) as c:
        yield c


def _try_login(client: TestClient, username: str, password: str):  # noqa: ANN202 - httpx.Response
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False)


# --- 1. A known secret -------------------------------------------------------------------------------


def _forged_cookie(key: str, session: dict[str, object]) -> str:
    """A session cookie as Starlette's SessionMiddleware signs it."""
    data = base64.b64encode(json.dumps(session).encode())
    return itsdangerous.TimestampSigner(key).sign(data).decode()


def test_cookie_forged_with_the_key_from_the_source_opens_nothing(fresh_demo: DemoData) -> None:
    store = _store(fresh_demo)
    with store.session() as s:
        admin_id = s.scalar(select(UserRow.id).where(UserRow.username == "admin"))
    store.close()
    with TestClient(create_app(fresh_demo.settings)) as client:
        client.cookies.set(SESSION_COOKIE, _forged_cookie(SOURCE_KEY, {"uid": admin_id, "csrf": "x"}))
        r = client.get("/admin/users", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_session_key_is_generated_once_owner_only_and_kept(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", data_dir=tmp_path / "var" / "data")
    key_file = tmp_path / "var" / "web-session.key"
    with TestClient(create_app(settings)):
        pass
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    first = key_file.read_text()
    assert len(first.strip()) >= 43  # 32 random bytes, URL-safe base64
    with TestClient(create_app(settings)):
        pass
    assert key_file.read_text() == first  # kept: sessions survive a restart


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    from pipeline.privacy.keys import SecretKeyError

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", data_dir=tmp_path / "var" / "data")
    key_file = tmp_path / "var" / "web-session.key"
    key_file.parent.mkdir(parents=True)
    key_file.write_text(STRONG_KEY)
    os.chmod(key_file, 0o644)
    with pytest.raises(SecretKeyError, match="0600"):
        create_app(settings)


@pytest.mark.parametrize("key", [SOURCE_KEY, "changeme", "secret", "short-key"])
@pytest.mark.parametrize("environment", ["development", "production"])
def test_known_or_weak_secret_is_refused_in_every_mode(tmp_path: Path, key: str, environment: str) -> None:
    from pipeline.privacy.keys import SecretKeyError

    with pytest.raises((SecretKeyError, ValueError)):
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", data_dir=tmp_path / "data",
                            secret_key=key, environment=environment)
        create_app(settings)


def test_session_cookie_is_secure_outside_development(tmp_path: Path, demo: DemoData) -> None:
    db = tmp_path / "clas.sqlite3"
    db.write_bytes(Path(demo.settings.database_url.removeprefix("sqlite:///")).read_bytes())
    settings = demo.settings.model_copy(update={"database_url": f"sqlite:///{db}", "environment": "production",
                                                "secret_key": STRONG_KEY})
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        r = _try_login(client, "agent", PASSWORD)
    assert r.status_code == 303
    assert "secure" in r.headers["set-cookie"].lower()


# --- 2. Sign-in: throttling, passwords, sessions -----------------------------------------------------


def test_thirty_wrong_passwords_are_slowed_then_locked_and_audited(
        fresh_client: TestClient, fresh_demo: DemoData, caplog: pytest.LogCaptureFixture) -> None:
    import web.throttle

    clock = [utcnow()]
    web.throttle.now = lambda: clock[0]  # type: ignore[assignment]
    try:
        caplog.set_level(logging.DEBUG)
        statuses, waits = [], []
        for _ in range(30):
            r = _try_login(fresh_client, "agent", "not-the-password-at-all")
            statuses.append(r.status_code)
            if r.status_code == 429 and "verrouillé" not in r.text:
                assert "Trop de tentatives" in r.text
                waits.append(int(r.headers["retry-after"]))
                clock[0] += timedelta(seconds=waits[-1])  # wait as told, then try again
        assert statuses[:3] == [401, 401, 401]  # a few typing errors are free
        lockout = fresh_client.app.state.services.web.login_lockout_failures  # type: ignore[attr-defined]
        assert statuses.count(401) == lockout  # then locked: 30 tries gave 10 guesses
        assert statuses[-1] == 429 and int(r.headers["retry-after"]) > 60
        assert waits == sorted(waits) and waits[-1] > waits[0]  # the delay grows
        # Locked now: even the right password is refused until the lock ends.
        assert _try_login(fresh_client, "agent", PASSWORD).status_code == 429
        locked = _audits(fresh_demo, "login_locked")
        assert locked and locked[0].actor == "agent" and "testclient" in locked[0].detail
        clock[0] += timedelta(seconds=fresh_client.app.state.services.web.login_lockout_s + 1)  # type: ignore[attr-defined]
        assert _try_login(fresh_client, "agent", PASSWORD).status_code == 303
    finally:
        web.throttle.now = utcnow  # type: ignore[assignment]
    failed = _audits(fresh_demo, "login_failed")
    assert failed and all(a.actor == "agent" and "address testclient" in a.detail for a in failed)
    assert _audits(fresh_demo, "login_throttled")
    # The username and the address are in the audit log only, never in the application's log.
    assert caplog.records and not any("agent" in r.getMessage() or "testclient" in r.getMessage()
                                      for r in caplog.records if r.name.startswith("web"))


def test_one_address_trying_many_accounts_is_slowed(fresh_client: TestClient) -> None:
    statuses = [_try_login(fresh_client, f"inconnu{i}", "not-the-password-at-all").status_code for i in range(15)]
    assert statuses[0] == 401
    assert statuses[-1] == 429  # each account is new, the address is not


@pytest.mark.parametrize("password", [" " * 12, "a" * 12, "nouvel.agent", "azertyuiop12", "motdepasse123"])
def test_weak_passwords_are_refused(fresh_demo: DemoData, password: str) -> None:
    from web.accounts import AccountError, create_user
    from web.models import Role

    store = _store(fresh_demo)
    with pytest.raises(AccountError) as caught, store.session() as s:
        create_user(s, load_directory(fresh_demo.settings.directory_file), "nouvel.agent", password, Role.STAFF,
                    actor="test")
    store.close()
    assert caught.value.message_fr  # a French reason for the admin


def test_user_changes_password_and_other_sessions_end(fresh_demo: DemoData) -> None:
    new_password = "Violon-Marelle-Cerise-81"
    with TestClient(create_app(fresh_demo.settings)) as other, TestClient(create_app(fresh_demo.settings)) as me:
        login(other, "agent")
        token = login(me, "agent")
        page = me.get("/account/password")
        assert page.status_code == 200 and "Changer de mot de passe" in page.text
        r = me.post("/account/password", data={"csrf_token": csrf_of(page.text), "current": "wrong-password-typed",
                                               "new": new_password, "confirm": new_password})
        assert r.status_code == 422
        r = me.post("/account/password", data={"csrf_token": token, "current": PASSWORD,
                                               "new": "aaaaaaaaaaaa", "confirm": "aaaaaaaaaaaa"})
        assert r.status_code == 422
        r = me.post("/account/password", data={"csrf_token": token, "current": PASSWORD,
                                               "new": new_password, "confirm": new_password})
        assert r.status_code == 200 and "Mot de passe changé" in r.text
        assert me.get("/overview", follow_redirects=False).status_code == 200  # this session goes on
        assert other.get("/overview", follow_redirects=False).status_code == 303  # the others end
    with TestClient(create_app(fresh_demo.settings)) as c:
        assert _try_login(c, "agent", PASSWORD).status_code == 401
        assert _try_login(c, "agent", new_password).status_code == 303
    assert _audits(fresh_demo, "password_changed")


def test_admin_resets_a_password_and_the_users_sessions_end(fresh_demo: DemoData) -> None:
    store = _store(fresh_demo)
    with store.session() as s:
        agent_id = s.scalar(select(UserRow.id).where(UserRow.username == "agent"))
    store.close()
    new_password = "Girafe-Tambour-Prune-27"
    with TestClient(create_app(fresh_demo.settings)) as agent, TestClient(create_app(fresh_demo.settings)) as admin:
        login(agent, "agent")
        token = login(admin, "admin")
        r = admin.post(f"/admin/users/{agent_id}/password", data={"csrf_token": token, "password": "agent"})
        assert r.status_code == 422  # the policy holds for resets too
        r = admin.post(f"/admin/users/{agent_id}/password", data={"csrf_token": token, "password": new_password})
        assert r.status_code == 200 and "réinitialisé" in r.text
        assert agent.get("/overview", follow_redirects=False).status_code == 303
        assert _try_login(agent, "agent", new_password).status_code == 303
        staff_token = csrf_of(agent.get("/overview").text)
        assert agent.post(f"/admin/users/{agent_id}/password",
                          data={"csrf_token": staff_token, "password": new_password}).status_code == 403
    resets = _audits(fresh_demo, "password_reset")
    assert resets and resets[0].actor == "admin" and "agent" in resets[0].detail


def test_cookie_copied_before_logout_is_dead_after_it(fresh_client: TestClient) -> None:
    token = login(fresh_client, "admin")
    copied = fresh_client.cookies.get(SESSION_COOKIE)
    assert fresh_client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    fresh_client.cookies.set(SESSION_COOKIE, copied)
    r = fresh_client.get("/admin/users", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_idle_session_ends(fresh_client: TestClient, fresh_demo: DemoData) -> None:
    from web.models import WebSessionRow

    login(fresh_client, "agent")
    assert fresh_client.get("/overview", follow_redirects=False).status_code == 200
    idle = fresh_client.app.state.services.web.session_idle_timeout_s  # type: ignore[attr-defined]
    store = _store(fresh_demo)
    with store.session() as s:
        s.execute(update(WebSessionRow).values(last_seen_at=utcnow() - timedelta(seconds=idle + 5)))
    store.close()
    assert fresh_client.get("/overview", follow_redirects=False).status_code == 303


# --- 3. Values from fillable PDFs, CSV formulas ------------------------------------------------------


HOSTILE_SURNAME = "<svg/onload=alert(4)>"


def test_hostile_name_in_a_fillable_or_text_pdf_is_never_routed(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'clas.sqlite3'}", data_dir=tmp_path / "data")
    directory = load_directory(settings.directory_file)
    rng = random.Random(1717)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, writer in (("fillable.pdf", lambda v: write_fillable(v, "FO-2026-N00001", rng)),
                         ("printed.pdf", lambda v: write_text_pdf(v, "FO-2026-171717", 17))):
        values = invent_form_values(rng, schools_from_directory(directory), settings.school_year)
        values["pupil_surname"] = values["p2_pupil_surname"] = HOSTILE_SURNAME
        (inbox / name).write_bytes(writer(values))
    run_pipeline(settings, inbox)
    store = Store(settings.database_url)
    with store.session() as s:
        referrals = s.scalars(select(ReferralRow)).all()
        statuses = sorted(s.scalars(select(DocumentRow.status)).all())
        reasons = [json.dumps(r.reasons, ensure_ascii=False) for r in s.scalars(select(ReviewItemRow))]
    store.close()
    assert referrals == []
    assert statuses == ["review", "review"], statuses
    assert len(reasons) == 2 and all("Nom de l'élève" in r for r in reasons)
    assert not any(HOSTILE_SURNAME in r for r in reasons)  # reasons never quote a name


def _queue_row(pupil: str, languages: str) -> QueueRow:
    return QueueRow(referral_id=1, form_id="FO-2026-000001", routed_at=utcnow(), pupil=pupil, class_level="CM1",
                    school="EE Test", guardians=(GuardianContact("=1+1", "Mère", "06 12 34 56 78", "@x"),),
                    home_languages=languages, interpreter="non", criteria=("Méthode",), state="Nouvelle",
                    acknowledged=False, outcome=None)


@pytest.mark.parametrize("hostile", ["=HYPERLINK(\"http://x\";\"y\")", "+1+1", "-1+1", "@SUM(1)", "\t=1+1",
                                     " =1+1", "\n=1+1", "＝1+1", "Dupont,=1+1", "Dupont\t=1+1"])
def test_csv_export_never_starts_a_formula(hostile: str) -> None:
    import csv
    import io

    text = queue_csv([_queue_row(hostile, hostile)]).lstrip("\ufeff")
    assert text.startswith("Fiche;")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 2 and len(rows[1]) == len(rows[0])
    for cell in rows[1]:
        assert cell.lstrip()[:1] not in ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠"), cell
    assert hostile in "".join(rows[1])  # kept, as text: nothing dropped
    # Every data cell is quoted (OWASP CSV Injection): a comma or a tab in a value never splits it in a
    # spreadsheet set to another separator.
    data_line = text.split("\r\n", 1)[1]
    assert data_line.startswith('"') and '";"' in data_line


# --- 4. Errors ---------------------------------------------------------------------------------------


SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options")


def _is_french_page(r) -> bool:  # noqa: ANN001 - httpx.Response
    return (r.headers["content-type"].startswith("text/html") and '<html lang="fr">' in r.text
            and all(h in r.headers for h in SECURITY_HEADERS) and r.headers.get("cache-control") == "no-store")


def test_unknown_page_method_and_bad_id_give_french_pages(fresh_client: TestClient, fresh_demo: DemoData) -> None:
    login(fresh_client, "structure")
    a = fresh_demo.carrier_id
    r = fresh_client.get("/nulle-part")
    assert r.status_code == 404 and _is_french_page(r) and "Page introuvable" in r.text
    r = fresh_client.delete("/overview")
    assert r.status_code == 405 and _is_french_page(r) and "Méthode" in r.text
    for bad in ("abc", "1" * 23, "-1", "0"):
        r = fresh_client.get(f"/carriers/{a}/referrals/{bad}")
        assert r.status_code == 404 and _is_french_page(r), (bad, r.status_code, r.text[:200])
    token = csrf_of(fresh_client.get(f"/carriers/{a}").text)
    r = fresh_client.post(f"/carriers/{a}/referrals/{'9' * 23}/acknowledge", data={"csrf_token": token})
    assert r.status_code == 404 and _is_french_page(r)


def test_missing_form_field_gives_a_french_422(fresh_client: TestClient) -> None:
    token = csrf_of(fresh_client.get("/login").text)
    r = fresh_client.post("/login", data={"csrf_token": token})
    assert r.status_code == 422 and _is_french_page(r) and "Formulaire incomplet" in r.text


def test_server_error_is_a_french_page_with_security_headers(fresh_demo: DemoData) -> None:
    app = create_app(fresh_demo.settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom")
    assert r.status_code == 500 and _is_french_page(r) and "Erreur interne" in r.text
    assert "boom" not in r.text


def test_refused_accesses_are_audited_with_who_and_where(fresh_client: TestClient, fresh_demo: DemoData) -> None:
    login(fresh_client, "autre")  # bound to other_carrier_id
    assert fresh_client.get(f"/carriers/{fresh_demo.carrier_id}").status_code == 403
    assert fresh_client.get(f"/carriers/{fresh_demo.other_carrier_id}/referrals/{fresh_demo.referral_id}"
                            ).status_code == 404
    assert fresh_client.get(f"/carriers/{fresh_demo.other_carrier_id}/referrals/{'9' * 23}").status_code == 404
    assert fresh_client.get("/favicon.ico").status_code == 404  # a path no route serves: not a refusal
    refused = _audits(fresh_demo, "access_refused")
    assert [a.actor for a in refused] == ["autre", "autre", "autre"]
    assert "status 403" in refused[0].detail and f"/carriers/{fresh_demo.carrier_id}" in refused[0].detail
    assert "status 404" in refused[1].detail and f"/referrals/{fresh_demo.referral_id}" in refused[1].detail
    assert all("address testclient" in a.detail for a in refused)


def test_review_page_of_unknown_form_is_french(fresh_client: TestClient) -> None:
    login(fresh_client, "agent")
    r = fresh_client.get(f"/review/{quote('FO-2026-999999')}/page/{'1' * 23}")
    assert r.status_code == 404 and _is_french_page(r)

