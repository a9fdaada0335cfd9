"""A message's identity in the mail tables (``pipeline.runs.mail.distinct_identity``): its Message-ID, told apart
from another message under the same ID by its files only."""

from __future__ import annotations

from pathlib import Path

from pipeline.intake.mail import AttachmentCandidate, AttachmentStatus
from pipeline.intake.mail_store import MailStore
from pipeline.runs.mail import distinct_identity
from pipeline.store import Store
from schemas.document import MediaType

MID = "scan-to-mail@copieur.ecole.example"


def _pdf(data: bytes) -> AttachmentCandidate:
    return AttachmentCandidate(1, "2", "fiche.pdf", "application/pdf", MediaType.PDF, len(data),
                               AttachmentStatus.DOCUMENT, data=data)


def test_other_files_under_a_known_message_id_make_another_message_and_no_files_never_do(tmp_path: Path) -> None:
    """A copier gives every message one Message-ID (an attack of 2026-12-07: all but the first were filed unread);
    a message without files, resent by another route (one more ``Received`` header, another size), is the same
    message (a review of 2026-12-07: it got a second identity and a second reply)."""
    store = Store(f"sqlite:///{tmp_path / 'clas.sqlite3'}")
    mail = MailStore(store)
    run = store.start_run("test")
    first, second = _pdf(b"%PDF-1.4 fiche A"), _pdf(b"%PDF-1.4 fiche B")
    mail.record_received(run, MID, "imap", 100, "a@ecole.example", "known", [], False, [first])
    mail.record_received(run, "sans-fichier@ecole.example", "imap", 100, "a@ecole.example", "known", [], False, [])

    other = distinct_identity(mail, MID, [second.sha256])

    assert other.startswith(f"{MID}#") and other != MID
    assert distinct_identity(mail, MID, [second.sha256]) == other  # the same second message, known again
    assert distinct_identity(mail, MID, [first.sha256]) == MID  # the first, delivered again
    assert distinct_identity(mail, MID, None) == MID  # refused unread: the Message-ID alone says it
    assert distinct_identity(mail, "sans-fichier@ecole.example", []) == "sans-fichier@ecole.example"
    assert distinct_identity(mail, "nouveau@ecole.example", [second.sha256]) == "nouveau@ecole.example"
    store.close()
