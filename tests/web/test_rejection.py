"""Rejecting a form tells the school that sent it by mail, once, through a real SMTP server on loopback.

Each test works on a private copy of the demo database (``fresh_demo``). The form's file
is recorded as an attachment of a school's message through ``MailStore``, as the mail
intake does; the notice goes to an aiosmtpd server (``tests.support.mail_servers``).
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pipeline.intake.mail import AttachmentCandidate, AttachmentStatus
from pipeline.intake.mail_store import MailStore
from pipeline.settings import MailSettings, Settings, SmtpSettings
from pipeline.store import AuditRow, DocumentRow, ReviewItemRow, Store
from schemas.document import MediaType
from tests.support.mail_servers import SmtpSink, smtp_server
from tests.web.conftest import DemoData, login
from web.main import create_app

pytestmark = pytest.mark.mail_server  # every test sends through aiosmtpd on loopback

SCHOOL_ADDRESS = "ce.0950001a@ac-versailles.example"
MESSAGE_ID = "fiches-du-lundi@ac-versailles.example"
SCHOOL_FILE_NAME = "fiche orientation CM1 B.pdf"
REASON = "Aucun critère coché : merci de compléter la fiche et de la renvoyer."


def _record_mail(settings: Settings, form_id: str, *, sender_status: str = "known") -> None:
    """Record the form's file as the attachment of a school's message, as the mail intake does."""
    store = Store(settings.database_url)
    try:
        with store.session() as s:
            doc = s.scalars(select(DocumentRow).where(DocumentRow.form_id == form_id)).one()
            data = Path(doc.stored_path).read_bytes()
        mail_store = MailStore(store)
        run_id = store.start_run("imap:INBOX")
        attachment = AttachmentCandidate(1, "2", SCHOOL_FILE_NAME, "application/pdf", MediaType.PDF, len(data),
                                         AttachmentStatus.DOCUMENT, data=data)
        mail_store.record_received(run_id, MESSAGE_ID, "imap:INBOX", len(data) + 2000, SCHOOL_ADDRESS,
                                   sender_status, ["0950001A"], False, [attachment])
    finally:
        store.close()


def _with_smtp(settings: Settings, sink: SmtpSink, *, enabled: bool = True) -> Settings:
    smtp = SmtpSettings(enabled=enabled, host="127.0.0.1", port=sink.port, security="none",
                        sender="clas@ville.example", timeout_s=10)
    return settings.model_copy(update={"mail": MailSettings(smtp=smtp)})


def _reasons_and_audit(settings: Settings, form_id: str) -> tuple[list[dict[str, object]], list[str]]:
    store = Store(settings.database_url)
    try:
        with store.session() as s:
            reasons = list(s.scalar(select(ReviewItemRow.reasons).where(ReviewItemRow.form_id == form_id)) or [])
            actions = list(s.scalars(select(AuditRow.action).where(AuditRow.action.like("rejection_notice_%"))
                                     .order_by(AuditRow.id)))
    finally:
        store.close()
    return reasons, actions


@contextmanager
def _desk(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def _reject(client: TestClient, form_id: str, token: str) -> tuple[int, str]:
    url = f"/review/{quote(form_id, safe='')}"
    r = client.post(f"{url}/reject", data={"csrf_token": token, "reason": REASON}, follow_redirects=False)
    if r.status_code != 303:
        return r.status_code, html.unescape(r.text)
    return r.status_code, html.unescape(client.get(r.headers["location"]).text)


def test_rejection_is_sent_once_to_the_school_that_mailed_the_form(fresh_demo: DemoData) -> None:
    form_id = fresh_demo.forms["invalid_no_criterion-4"]
    _record_mail(fresh_demo.settings, form_id)
    with smtp_server() as sink, _desk(_with_smtp(fresh_demo.settings, sink)) as client:
        token = login(client, "agent")
        form_page = html.unescape(client.get(f"/review/{quote(form_id, safe='')}").text)
        assert "sera envoyé par courriel à l'école" in form_page
        status, page = _reject(client, form_id, token)
        assert status == 303
        assert f"Fiche {form_id} rejetée. Motif du rejet envoyé à l'école par courriel." in page
        again, _ = _reject(client, form_id, token)  # the action repeated: refused, nothing sent
        assert again == 409
        assert len(sink.messages) == 1

    recipients, notice = sink.messages[0]
    assert recipients == [SCHOOL_ADDRESS] and notice["To"] == SCHOOL_ADDRESS
    assert notice["In-Reply-To"] == f"<{MESSAGE_ID}>"
    assert form_id in notice["Subject"] and "rejetée" in notice["Subject"]
    body = notice.get_content()
    assert f"« {SCHOOL_FILE_NAME} »" in body and f"Motif : {REASON}" in body and form_id in body
    values = fresh_demo.truths[form_id]["values"]
    assert isinstance(values, dict)
    for read_on_the_form in ("pupil_surname", "pupil_first_name", "pupil_address", "guardian1_phone"):
        if values.get(read_on_the_form):
            assert str(values[read_on_the_form]) not in body, read_on_the_form

    reasons, actions = _reasons_and_audit(fresh_demo.settings, form_id)
    notice_entry = next(r for r in reasons if r["code"] == "rejection_notice")
    assert notice_entry["status"] == "sent"
    assert actions == ["rejection_notice_sending", "rejection_notice_sent"]


def test_nothing_is_sent_while_replies_are_off(fresh_demo: DemoData) -> None:
    form_id = fresh_demo.forms["invalid_no_criterion-4"]
    _record_mail(fresh_demo.settings, form_id)
    with smtp_server() as sink, _desk(_with_smtp(fresh_demo.settings, sink, enabled=False)) as client:
        token = login(client, "agent")
        assert "ne sera pas envoyé" in html.unescape(client.get(f"/review/{quote(form_id, safe='')}").text)
        status, page = _reject(client, form_id, token)
        assert status == 303 and "Réponses aux écoles désactivées" in page
    assert sink.messages == []
    reasons, actions = _reasons_and_audit(fresh_demo.settings, form_id)
    assert next(r for r in reasons if r["code"] == "rejection_notice")["status"] == "replies_off"
    assert actions == ["rejection_notice_replies_off"]


def test_nothing_is_sent_for_a_form_from_a_folder_or_an_unknown_sender(fresh_demo: DemoData) -> None:
    folder_form = fresh_demo.forms["invalid_no_criterion-4"]
    unknown_form = fresh_demo.forms["invalid_no_agreement-3"]
    _record_mail(fresh_demo.settings, unknown_form, sender_status="unknown")
    with smtp_server() as sink, _desk(_with_smtp(fresh_demo.settings, sink)) as client:
        token = login(client, "agent")
        status, page = _reject(client, folder_form, token)
        assert status == 303 and "Fiche reçue par dossier, pas par courriel" in page
        status, page = _reject(client, unknown_form, token)
        assert status == 303 and "n'est pas celle d'une école connue" in page
    assert sink.messages == []
