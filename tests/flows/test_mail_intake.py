"""The mail flow against real servers on loopback: Dovecot (IMAP) and aiosmtpd (SMTP), under Prefect's harness.

Messages built from generated samples and the committed scans, one per way a form
arrives, are delivered to a throwaway mailbox; the flow must account for every
attachment, file every message in "Traités" or "Quarantaine", and send one French
reply per message of a known school, never twice, even across a crashed run.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from imap_tools import MailBox
from sqlalchemy import func, select

import flows.mail_intake as mail_flow
from pipeline.deciding.directory import load_directory, match_school
from pipeline.intake.mail_store import MailAttachmentRow, MailMessageRow
from pipeline.intake.mailbox import tls_context
from pipeline.settings import Settings
from pipeline.store import DocumentRow, ReceiptRow, ReferralRow, Store
from samples.generator import generate_documents
from samples.kinds import SampleKind
from schemas.directory import Directory
from tests.conftest import SAMPLES_TRUTH
from tests.support import mail_builders as b
from tests.support.mail_servers import ImapServer, SmtpSink, dovecot_server, smtp_server

pytestmark = pytest.mark.skipif(shutil.which("dovecot") is None and not Path("/usr/sbin/dovecot").exists(),
                                reason="Debian package dovecot-imapd not installed (.ci/run installs it)")
SEED = 4242
SCAN_OUTCOME = "routed|review"
"""A scan is routed, or sent to review when the reader is unsure of a field (the readers' business, not the mail's)."""


@pytest.fixture
def imap() -> Iterator[ImapServer]:
    with dovecot_server() as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with smtp_server() as sink:
        yield sink


@pytest.fixture
def mail_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, imap: ImapServer, smtp: SmtpSink) -> Settings:
    env = {
        "CLAS_DATABASE_URL": f"sqlite:///{tmp_path / 'clas.sqlite3'}", "CLAS_DATA_DIR": str(tmp_path / "data"),
        "CLAS_MAIL__SOURCE": "imap", "CLAS_MAIL__HOST": "127.0.0.1", "CLAS_MAIL__PORT": str(imap.imaps_port),
        "CLAS_MAIL__SECURITY": "tls", "CLAS_MAIL__USER": imap.user, "CLAS_MAIL__PASSWORD": imap.password,
        "CLAS_MAIL__CA_FILE": str(imap.ca_file), "CLAS_MAIL__MAX_MESSAGE_BYTES": str(8 * 1024 * 1024),
        "CLAS_SCAN__MAX_PIXELS": "20000000",
        "CLAS_MAIL__SMTP__ENABLED": "true", "CLAS_MAIL__SMTP__HOST": "127.0.0.1",
        "CLAS_MAIL__SMTP__PORT": str(smtp.port), "CLAS_MAIL__SMTP__SECURITY": "none",
        "CLAS_MAIL__SMTP__SENDER": "fiches-clas@ville-argenteuil.example",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings()


def _deliver(imap: ImapServer, messages: list[EmailMessage | bytes]) -> None:
    with MailBox("127.0.0.1", imap.imaps_port, ssl_context=tls_context(imap.ca_file)).login(
            imap.user, imap.password) as box:
        for msg in messages:
            box.append(msg if isinstance(msg, bytes) else msg.as_bytes(), "INBOX", flag_set=())


def _folders(imap: ImapServer) -> dict[str, list[str]]:
    """Folder → Message-IDs of the messages in it."""
    out: dict[str, list[str]] = {}
    with MailBox("127.0.0.1", imap.imaps_port, ssl_context=tls_context(imap.ca_file)).login(
            imap.user, imap.password) as box:
        for folder in box.folder.list():
            box.folder.set(folder.name)
            # A long Message-ID comes back folded ("\r\n <id>"): unfold before comparing.
            out[folder.name] = ["".join(str(m.headers.get("message-id", ("",))[0]).split()).strip("<>")
                                for m in box.fetch(headers_only=True, mark_seen=False)]
    return out


def _sender_of(values: dict[str, object], directory: Directory) -> str:
    school = match_school(str(values["school_name"]), directory)
    assert school.school_id is not None
    return directory.school(school.school_id).sender_addresses[0]


@dataclass
class Case:
    """One delivered message and what must become of it."""

    name: str
    message: EmailMessage
    folder: str
    attachments: list[tuple[str, str, str | None]]
    """(file name, kind, outcome) in message order."""
    reply: bool
    pupils: tuple[str, ...] = ()


def _committed(name: str) -> dict[str, object]:
    return json.loads((SAMPLES_TRUTH / f"{name}.json").read_text(encoding="utf-8"))


def _cases(directory: Directory) -> list[Case]:
    forms = [generate_documents(SampleKind.TEXT_PDF, i, SEED, directory)[0] for i in range(5)]
    fillable = generate_documents(SampleKind.FILLABLE, 0, SEED, directory)[0]
    values = [f.truth["values"] for f in forms]  # type: ignore[index]
    senders = [_sender_of(v, directory) for v in values]  # type: ignore[arg-type]
    surname = [str(v["pupil_surname"]) for v in values]  # type: ignore[index]
    cases = []

    msg = b.message("Fiche CLAS", senders[0], html=True)
    html = msg.get_body(("html",))
    assert html is not None
    html.add_related(b.logo_png(), maintype="image", subtype="png", cid="<logo>", filename="image001.png")
    b.attach(msg, forms[0].data, "application/pdf", "Fiche d'orientation – élève.pdf")
    cases.append(Case("plain PDF + signature logo", msg, "Traités",
                      [("image001.png", "decoration", None), ("Fiche d'orientation – élève.pdf", "document", "routed")],
                      True, (surname[0],)))

    inner = b.attach(b.message("Fiche", senders[1]), forms[1].data, "application/octet-stream", "scan école.pdf")
    cases.append(Case("forwarded twice, octet-stream", b.forwarded(inner, senders[1], times=2), "Traités",
                      [("scan école.pdf", "document", "routed")], True, (surname[1],)))

    fill_values = fillable.truth["values"]
    msg = b.attach(b.message("Fiche Outlook", _sender_of(fill_values, directory)),  # type: ignore[arg-type]
                   b.winmail_dat({"fiche-remplie.pdf": fillable.data}), "application/ms-tnef", "winmail.dat")
    cases.append(Case("winmail.dat", msg, "Traités", [("fiche-remplie.pdf", "document", "routed")], True,
                      (str(fill_values["pupil_surname"]),)))  # type: ignore[index]

    other = next(a for s in directory.schools for a in s.sender_addresses if a not in (senders[2],)
                 and s.id != match_school(str(values[2]["school_name"]), directory).school_id)  # type: ignore[index]
    msg = b.attach(b.message("Fiche", other), forms[2].data, "application/pdf", "fiche.pdf")
    cases.append(Case("sender of another school", msg, "Traités", [("fiche.pdf", "document", "review")], True,
                      (surname[2],)))

    msg = b.attach(b.message("Fiche", b.UNKNOWN_SENDER), forms[3].data, "application/pdf", "fiche.pdf")
    cases.append(Case("unknown sender", msg, "Traités", [("fiche.pdf", "document", "review")], False, (surname[3],)))

    msg = b.message("Fiches illisibles", senders[4])
    b.attach(msg, b.zip_of({"fiche.pdf": forms[4].data}), "application/zip", "fiches.zip")
    b.attach(msg, b.word_file(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "fiche.docx")
    b.attach(msg, b.protected_pdf(forms[4].data), "application/pdf", "protégée.pdf")
    b.attach(msg, b.huge_png(6000), "image/png", "photo-géante.png")
    cases.append(Case("unreadable kinds", msg, "Quarantaine",
                      [("fiches.zip", "rejected", None), ("fiche.docx", "rejected", None),
                       ("protégée.pdf", "document", "quarantined"), ("photo-géante.png", "document", "quarantined")],
                      True))

    # The committed scans: a multi-page TIFF, and one form photographed as JPEG page 1 + HEIC page 2.
    tiff_truth = _committed("scan_300_bw_tiff-0000.tif")
    msg = b.attach(b.message("Scan", _sender_of(tiff_truth["values"], directory)),  # type: ignore[arg-type]
                   b.sample("scan_300_bw_tiff-0000.tif"), "image/tiff", "scan.tif")
    cases.append(Case("multi-page TIFF", msg, "Traités", [("scan.tif", "document", SCAN_OUTCOME)], True))
    jpeg_truth = _committed("scan_300_grey_jpeg-0000-p1.jpg")
    msg = b.message("Photos", _sender_of(jpeg_truth["values"], directory))  # type: ignore[arg-type]
    b.attach(msg, b.sample("scan_300_grey_jpeg-0000-p1.jpg"), "image/jpeg", None, disposition="inline")
    b.attach(msg, b.heic_from(b.sample("scan_300_grey_jpeg-0000-p2.jpg"), full_size=True), "image/heic",
             "IMG_0002.HEIC")
    expected = SCAN_OUTCOME
    cases.append(Case("JPEG inline + HEIC", msg, "Traités",
                      [("piece-jointe-1.jpg", "document", expected), ("IMG_0002.HEIC", "document", expected)], True))

    cases.append(Case("no attachment", b.message("Bonjour", senders[0]), "Quarantaine", [], True))
    msg = b.attach(b.message("Trop gros", senders[0]), bytes(7 * 1024 * 1024), "application/pdf", "gros.pdf")
    cases.append(Case("too large", msg, "Quarantaine", [], True))
    msg = b.attach(b.message("Encore", senders[0]), forms[0].data, "application/pdf", "fiche-renvoyée.pdf")
    cases.append(Case("same file again", msg, "Traités", [("fiche-renvoyée.pdf", "document", "duplicate")], True))
    return cases


def test_every_message_and_attachment_is_accounted_for(harness: None, imap: ImapServer, smtp: SmtpSink,
                                                       mail_settings: Settings) -> None:
    directory = load_directory(mail_settings.directory_file)
    cases = _cases(directory)
    twice = cases[1].message  # delivered twice with the same Message-ID: processed once
    _deliver(imap, [c.message for c in cases] + [twice])

    report = mail_flow.mail_intake()

    assert report["balanced"] is True and report["mail"]["all_filed"] is True  # type: ignore[index]
    folders = _folders(imap)
    assert folders["INBOX"] == []
    for case in cases:
        mid = str(case.message["Message-ID"]).strip("<>")
        assert mid in folders[case.folder], case.name
    assert folders["Traités"].count(str(twice["Message-ID"]).strip("<>")) == 2
    store = Store(mail_settings.database_url)
    with store.session() as s:
        rows = {r.message_id: r for r in s.scalars(select(MailMessageRow))}
        for case in cases:
            row = rows[str(case.message["Message-ID"]).strip("<>")]
            got = [(a.filename, a.kind, a.outcome) for a in s.scalars(
                select(MailAttachmentRow).where(MailAttachmentRow.message_row_id == row.id)
                .order_by(MailAttachmentRow.position))]
            assert len(got) == len(case.attachments), case.name
            for (name, kind, outcome), expected in zip(got, case.attachments, strict=True):
                assert (name, kind) == expected[:2] and outcome in (expected[2] or "").split("|") + [None] * (
                    expected[2] is None), case.name
            assert row.folder == case.folder, case.name
            assert (row.reply_status == "sent") is case.reply, case.name
        reasons = {d.original_name: {r["code"] for r in d.reasons} for d in s.scalars(select(DocumentRow))}
        routed = s.scalar(select(func.count()).select_from(ReferralRow).where(ReferralRow.carrier_id.is_not(None)))
    assert "sender_school_mismatch" in reasons["fiche.pdf"] or "sender_unknown" in reasons["fiche.pdf"]
    assert routed >= sum(1 for c in cases if any(a[2] == "routed" for a in c.attachments))  # one per form

    # One reply per message of a known school, in French, naming only that message's pupils.
    replied = [c for c in cases if c.reply]
    assert len(smtp.messages) == len(replied)
    by_reference = {str(m["In-Reply-To"]).strip().strip("<>"): (rcpt, m) for rcpt, m in smtp.messages}
    all_pupils = {p for c in cases for p in c.pupils}
    for case in replied:
        rcpt, reply = by_reference[str(case.message["Message-ID"]).strip("<>")]
        assert rcpt == [str(case.message["From"].addresses[0].addr_spec)]
        text = reply.get_content()
        assert "Le service CLAS a bien reçu votre message" in text
        for pupil in all_pupils - set(case.pupils):
            assert pupil not in text, (case.name, "names a pupil of another message")
        for filename, kind, _outcome in case.attachments:
            if kind == "document":
                assert f"« {filename} »" in text, case.name
    unreadable = by_reference[str(cases[5].message["Message-ID"]).strip("<>")][1].get_content()
    assert "À corriger" in unreadable and "Archive ZIP" in unreadable and "Document Word" in unreadable
    assert "mot de passe" in unreadable and "Image trop grande" in unreadable
    store.close()


def test_a_crashed_run_loses_nothing_and_routes_and_replies_once(harness: None, imap: ImapServer, smtp: SmtpSink,
                                                                  mail_settings: Settings,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    directory = load_directory(mail_settings.directory_file)
    forms = [generate_documents(SampleKind.TEXT_PDF, i, SEED + 1, directory)[0] for i in range(3)]
    messages = [b.attach(b.message("Fiche", _sender_of(f.truth["values"], directory)),  # type: ignore[arg-type]
                         f.data, "application/pdf", f"fiche-{i}.pdf") for i, f in enumerate(forms)]
    _deliver(imap, messages)

    # First run: every form is recorded, then filing the second message fails for good (server gone).
    real_settle = mail_flow.settle_message
    calls = {"n": 0}

    def crash_on_second(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionResetError("IMAP connection lost")
        return real_settle(*args, **kwargs)

    monkeypatch.setattr(mail_flow, "settle_message", crash_on_second)
    monkeypatch.setattr(mail_flow, "settle_task", mail_flow.settle_task.with_options(retries=0))
    with pytest.raises(ConnectionResetError):
        mail_flow.mail_intake()
    assert len(_folders(imap)["INBOX"]) == 2
    assert len(smtp.messages) == 1

    monkeypatch.setattr(mail_flow, "settle_message", real_settle)
    second = mail_flow.mail_intake()
    assert second["received"] == 0 and second["already_processed"] == 2  # recorded by the first run, not again
    assert second["mail"]["all_filed"] is True  # type: ignore[index]
    third = mail_flow.mail_intake()
    assert third["mail"]["messages"] == 0  # type: ignore[index]

    folders = _folders(imap)
    assert folders["INBOX"] == [] and len(folders["Traités"]) == 3
    assert len(smtp.messages) == 3 and len({str(m["In-Reply-To"]).strip() for _, m in smtp.messages}) == 3
    store = Store(mail_settings.database_url)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(ReferralRow)) == 3
        assert s.scalar(select(func.count()).select_from(ReceiptRow)) == 3
    store.close()


def test_a_message_with_an_undecodable_attachment_name_is_quarantined_over_imap(
        harness: None, imap: ImapServer, smtp: SmtpSink, mail_settings: Settings) -> None:
    # Issue 17: RFC 2231 sections in UTF-16 made the parser raise; the run aborted on every night.
    broken = b.raw_with_utf16_continued_name(b.sample("text_pdf-0000.pdf"))
    good = b.attach(b.message("Fiche"), b.sample("fillable-0000.pdf"), "application/pdf", "fiche.pdf")
    _deliver(imap, [broken, good])

    report = mail_flow.mail_intake()

    assert report["mail"]["statuses"] == {"quarantined": 1, "processed": 1}  # type: ignore[index]
    folders = _folders(imap)
    assert folders["INBOX"] == [] and len(folders["Quarantaine"]) == 1 and len(folders["Traités"]) == 1
    store = Store(mail_settings.database_url)
    with store.session() as s:
        codes = s.scalars(select(MailAttachmentRow.reason_code).where(MailAttachmentRow.kind == "rejected")).all()
    store.close()
    assert codes == ["attachment_name_undecodable"]


def test_starttls_and_refusals(imap: ImapServer, mail_settings: Settings) -> None:
    from pydantic import SecretStr

    from pipeline.intake.mailbox import ImapSource, MailSourceError

    _deliver(imap, [b.message()])
    starttls = mail_settings.mail.model_copy(update={"security": "starttls", "port": imap.imap_port})
    source = ImapSource(starttls)  # the server refuses a plain-text login: this proves TLS was negotiated
    assert len(source.list_messages()) == 1
    source.close()
    wrong = mail_settings.mail.model_copy(update={"password": SecretStr("faux")})
    with pytest.raises(MailSourceError) as err:
        ImapSource(wrong)
    assert imap.password not in str(err.value) and "faux" not in str(err.value)
    untrusted = mail_settings.mail.model_copy(update={"ca_file": None})
    with pytest.raises(MailSourceError, match="CERTIFICATE_VERIFY_FAILED"):
        ImapSource(untrusted)
    plain = mail_settings.mail.model_copy(update={"security": "none", "host": "mail.example.org"})
    with pytest.raises(MailSourceError, match="plain-text"):
        ImapSource(plain)


def test_flag_mode_leaves_messages_in_place_and_skips_them_next_time(imap: ImapServer, mail_settings: Settings) -> None:
    from pipeline.intake.mailbox import ImapSource

    _deliver(imap, [b.message("a"), b.message("b")])
    flagging = mail_settings.mail.model_copy(update={"after": "flag"})
    source = ImapSource(flagging)
    first, second = source.list_messages()
    source.file_message(first.key, flagging.processed_folder)
    source.file_message(second.key, flagging.quarantine_folder)
    assert source.list_messages() == []
    source.close()
    assert len(_folders(imap)["INBOX"]) == 2
