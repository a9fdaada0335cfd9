"""Outcome notices to the referring teacher, end to end on a loopback SMTP server (aiosmtpd).

A carrier records outcomes with the desk's own functions; a referral waits on the list; staff opt one school
in. Then ``send_pending`` runs three times against a server that refuses the first message with a 451: the
refused notice is retried once and delivered once, the others are delivered once, the school that did not opt
in receives nothing, an undone outcome sends nothing, and no message carries the family's data.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import web.desk_models  # noqa: F401 - the desk tables
import web.models  # noqa: F401
from pipeline.deciding.directory import load_directory
from pipeline.notices import (
    NoticeStatus,
    TeacherNoticeRow,
    queue_waiting_list_notices,
    send_pending,
    set_school_opt_in,
)
from pipeline.settings import NoticeSettings, Settings, SmtpSettings
from pipeline.store import AuditRow, ReferralRow, Store
from tests.support.mail_servers import smtp_server
from web.carrier_queue import set_outcome, undo_outcome
from web.models import FollowUpOutcome

YEAR = "2026-2027"
UNDO = timedelta(hours=24)
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
OPTED_IN, NOT_OPTED_IN = "ee-jules-ferry", "ee-anatole-france"
CARRIER = "asso-plume-cartable"  # serves both schools


def _referral(s, n: int, school: str, status: str, carrier: str | None, role: str = "enseignant") -> int:  # noqa: ANN001
    data = {"pupil": {"first_name": "Éloïse", "surname": f"Vandermeulen{n}", "address": "12 rue des Lilas"},
            "guardians": [{"surname": f"Vandermeulen{n}", "first_name": "Karim", "phone": "+33612345678"}],
            "referrer": {"role": role, "name": "Mme Professeure", "email": f"prof{n}@ecole.example",
                         "class_name": "CM1 B"},
            "criteria": ["methode"], "observations": "Très discrète en classe"}
    row = ReferralRow(form_id=f"FO-2026-{n:05d}", school_year=YEAR, pupil_key=f"k{n}", school_id=school,
                      class_level="CM1", status=status, carrier_id=carrier, data=data, created_at=T0)
    s.add(row)
    s.flush()
    return row.id


@pytest.mark.mail_server
def test_notices_sent_once_per_change_retried_once_and_never_to_a_school_not_opted_in(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'clas.sqlite3'}")
    directory = load_directory(Settings().directory_file)
    with store.session() as s:
        enrolled = _referral(s, 1, OPTED_IN, "routed", CARRIER)
        declined_elsewhere = _referral(s, 2, NOT_OPTED_IN, "routed", CARRIER)
        undone = _referral(s, 3, OPTED_IN, "routed", CARRIER)
        waiting = _referral(s, 4, OPTED_IN, "waiting_list", None)
        family = _referral(s, 5, OPTED_IN, "routed", CARRIER, role="famille")
    set_school_opt_in(store, OPTED_IN, True, "agent", directory)
    set_school_opt_in(store, NOT_OPTED_IN, True, "agent", directory)
    set_school_opt_in(store, NOT_OPTED_IN, False, "agent", directory)  # the school changed its mind

    assert set_outcome(store, CARRIER, enrolled, FollowUpOutcome.ENROLLED, "structure", undo_window=UNDO, now=T0)
    assert set_outcome(store, CARRIER, declined_elsewhere, FollowUpOutcome.DECLINED, "structure", undo_window=UNDO,
                       reason_code="family_declined", now=T0)
    assert set_outcome(store, CARRIER, undone, FollowUpOutcome.ENROLLED, "structure", undo_window=UNDO, now=T0)
    assert undo_outcome(store, CARRIER, undone, "structure", undo_window=UNDO, now=T0 + timedelta(hours=1))
    assert set_outcome(store, CARRIER, family, FollowUpOutcome.ENROLLED, "structure", undo_window=UNDO, now=T0)
    assert queue_waiting_list_notices(store, YEAR, now=T0) == 1
    assert queue_waiting_list_notices(store, YEAR, now=T0) == 0  # one notice per change, however often asked

    on = NoticeSettings(enabled=True, max_attempts=3)
    with smtp_server(refuse_first=1) as sink:
        smtp = SmtpSettings(enabled=False, host="127.0.0.1", port=sink.port, security="none",
                            sender="clas@ville.example", timeout_s=5)
        # Before the undo window ends, only the waiting list's notice is due, and the server refuses it.
        first = send_pending(store, smtp, on, directory, now=T0 + timedelta(hours=2))
        assert (first.sent, first.retry, sink.refused, len(sink.messages)) == (0, 1, 1, 0)
        second = send_pending(store, smtp, on, directory, now=T0 + UNDO + timedelta(minutes=1))
        assert (second.sent, second.retry, second.skipped) == (2, 0, 2)  # waiting (retried) + enrolled
        third = send_pending(store, smtp, on, directory, now=T0 + UNDO + timedelta(hours=1))
        assert third == type(third)()  # nothing left: nothing sent twice
        assert send_pending(store, smtp, NoticeSettings(enabled=False), directory, now=T0 + 2 * UNDO).sent == 0

    by_recipient = {rcpt[0]: msg for rcpt, msg in sink.messages}
    assert sorted(by_recipient) == ["prof1@ecole.example", "prof4@ecole.example"]
    assert len(sink.messages) == 2
    enrolled_body = by_recipient["prof1@ecole.example"].get_content()
    assert "Élève : É. V." in enrolled_body and "Classe : CM1" in enrolled_body
    assert "Structure CLAS : Association Plume et Cartable" in enrolled_body
    assert "inscrit(e) à l'accompagnement" in enrolled_body
    waiting_body = by_recipient["prof4@ecole.example"].get_content()
    assert "liste d'attente" in waiting_body and "aucune pour l'instant" in waiting_body
    for msg in by_recipient.values():
        whole = msg.as_string()
        for family_data in ("Vandermeulen", "Éloïse", "Karim", "0612345678", "+33612345678", "Lilas", "discrète",
                            "CM1 B"):
            assert family_data not in whole
        assert msg["Subject"].startswith("Suite de votre orientation CLAS")

    with store.session() as s:
        notices = {n.referral_id: n for n in s.scalars(select(TeacherNoticeRow))}
        audit = s.scalars(select(AuditRow).where(AuditRow.action.like("teacher_notice%"))).all()
    assert notices[enrolled].status == NoticeStatus.SENT and notices[enrolled].attempts == 1
    assert notices[waiting].status == NoticeStatus.SENT and notices[waiting].attempts == 2
    assert notices[declined_elsewhere].status == NoticeStatus.SKIPPED  # the school opted out
    assert notices[undone].status == NoticeStatus.CANCELLED
    assert notices[family].status == NoticeStatus.SKIPPED  # a family referrer is never written to
    actions = sorted(a.action for a in audit)
    assert actions.count("teacher_notice_sent") == 2 and actions.count("teacher_notice_retry") == 1
    assert actions.count("teacher_notice_cancelled") == 1 and actions.count("teacher_notice_skipped") == 2
    assert not [a for a in audit if "@" in a.detail or "Vandermeulen" in a.detail]
    store.close()


def test_a_notice_lost_after_hand_over_is_never_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import smtplib

    import pipeline.notices as notices

    store = Store(f"sqlite:///{tmp_path / 'clas.sqlite3'}")
    directory = load_directory(Settings().directory_file)
    with store.session() as s:
        rid = _referral(s, 7, OPTED_IN, "routed", CARRIER)
    set_school_opt_in(store, OPTED_IN, True, "agent", directory)
    set_outcome(store, CARRIER, rid, FollowUpOutcome.ENROLLED, "structure", undo_window=UNDO, now=T0)

    class LostAfterData:
        def __init__(self, *_a, **_k) -> None: ...
        def send_message(self, _msg) -> None:  # noqa: ANN001
            raise smtplib.SMTPServerDisconnected("connection lost")
        def quit(self) -> None: ...

    monkeypatch.setattr(notices.smtplib, "SMTP", LostAfterData)
    smtp = SmtpSettings(host="127.0.0.1", port=2525, security="none", sender="clas@ville.example")
    on = NoticeSettings(enabled=True)
    assert send_pending(store, smtp, on, directory, now=T0 + 2 * UNDO).uncertain == 1
    assert send_pending(store, smtp, on, directory, now=T0 + 3 * UNDO) == notices.NotifySummary()
    with store.session() as s:
        assert s.scalar(select(TeacherNoticeRow.status)) == NoticeStatus.UNCERTAIN
    store.close()


def test_staff_opt_a_school_in_and_out_on_the_desk_and_carriers_cannot(client, demo) -> None:  # noqa: ANN001
    from tests.web.conftest import csrf_of, login

    login(client, "structure")
    assert client.get("/notices").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/carriers/" + demo.carrier_id).text)})
    login(client, "agent")
    page = client.get("/notices")
    assert page.status_code == 200 and "Avis aux enseignants" in page.text
    assert 'id="optin-ee-jules-ferry"><td>École élémentaire Jules Ferry</td><td class="state">non' in page.text
    token = csrf_of(page.text)
    done = client.post("/notices/ee-jules-ferry", data={"csrf_token": token, "enabled": "1"})
    assert done.status_code == 200 and "avis aux enseignants activés" in done.text
    assert 'id="optin-ee-jules-ferry"><td>École élémentaire Jules Ferry</td><td class="state">activés' in done.text
    assert client.post("/notices/ee-jules-ferry", data={"enabled": "0"}).status_code == 403  # no CSRF token
    assert client.post("/notices/no-such-school", data={"csrf_token": token, "enabled": "1"}).status_code == 404
    done = client.post("/notices/ee-jules-ferry", data={"csrf_token": token, "enabled": "0"})
    assert 'id="optin-ee-jules-ferry"><td>École élémentaire Jules Ferry</td><td class="state">non' in done.text


@pytest.mark.mail_server
def test_the_notify_command_queues_the_waiting_list_and_sends_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from flows.cli import main

    url = f"sqlite:///{tmp_path / 'clas.sqlite3'}"
    store = Store(url)
    with store.session() as s:
        _referral(s, 8, OPTED_IN, "waiting_list", None)
        _referral(s, 9, NOT_OPTED_IN, "waiting_list", None)
    set_school_opt_in(store, OPTED_IN, True, "agent", load_directory(Settings().directory_file))
    store.close()
    monkeypatch.setenv("CLAS_DATABASE_URL", url)
    assert main(["notify"]) == 0
    assert "désactivés" in capsys.readouterr().out
    with smtp_server() as sink:
        for key, value in {"CLAS_NOTICES__ENABLED": "true", "CLAS_MAIL__SMTP__HOST": "127.0.0.1",
                           "CLAS_MAIL__SMTP__PORT": str(sink.port), "CLAS_MAIL__SMTP__SECURITY": "none",
                           "CLAS_MAIL__SMTP__SENDER": "clas@ville.example"}.items():
            monkeypatch.setenv(key, value)
        assert main(["notify"]) == 0
        out = capsys.readouterr().out
        assert "1 envoyé(s)" in out and "1 non envoyé(s)" in out
        assert main(["notify"]) == 0
        assert "0 mis en file (liste d'attente), 0 envoyé(s)" in capsys.readouterr().out
    assert [rcpt for rcpt, _ in sink.messages] == [["prof8@ecole.example"]]


def test_a_school_that_opts_in_receives_no_backlog(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'clas.sqlite3'}")
    directory = load_directory(Settings().directory_file)
    with store.session() as s:
        _referral(s, 10, OPTED_IN, "waiting_list", None)
    assert queue_waiting_list_notices(store, YEAR) == 1  # queued while the school had not opted in
    set_school_opt_in(store, OPTED_IN, True, "agent", directory)
    unused = SmtpSettings(host="127.0.0.1", port=9, security="none", sender="clas@ville.example")
    done = send_pending(store, unused, NoticeSettings(enabled=True), directory)
    assert (done.sent, done.skipped) == (0, 1)
    with store.session() as s:
        assert s.scalar(select(AuditRow.detail).where(AuditRow.action == "teacher_notice_skipped")).endswith(
            "change before the school opted in")
    store.close()
