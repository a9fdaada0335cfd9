"""Replies to schools (``pipeline.intake.replies``): what a school is told of its files, in words addressed to it."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import pipeline
from pipeline.errors import ClasError
from pipeline.intake import mail as mail_intake
from pipeline.intake.mail_store import AttachmentOutcome
from pipeline.intake.replies import INTERNAL_REASONS, reply_text, to_school
from pipeline.settings import MailSettings
from schemas.document import MediaType


def _every_error_class() -> list[type[ClasError]]:
    for module in pkgutil.walk_packages(pipeline.__path__, "pipeline."):
        importlib.import_module(module.name)
    found, stack = [], [ClasError]
    while stack:
        for sub in stack.pop().__subclasses__():
            found.append(sub)
            stack.append(sub)
    return found


def _reasons_a_school_may_read() -> list[str]:
    """Every error's own reason but the team's (:data:`INTERNAL_REASONS`), and the mail intake's refusals."""
    own = INTERNAL_REASONS | {"reply_failed", "database_locked"}  # the city's own systems, never a file's reason
    errors = [e.default_reason_fr for e in _every_error_class()
              if getattr(e, "code", None) not in own and isinstance(e.default_reason_fr, str)]
    settings = MailSettings()
    pdf = mail_intake.AttachmentCandidate(1, "2", "f.pdf", "application/pdf", MediaType.PDF, 9,
                                          mail_intake.AttachmentStatus.DOCUMENT, data=b"%PDF-1.4 ")
    many = mail_intake.too_many_attachments([pdf] * (settings.max_attachments + 1), settings)
    from pipeline.reading.extract import DAMAGED_PDF_FR

    checked = "Fiche incohérente après contrôle : la transmettre à l'équipe technique pour vérification."
    return [*errors, mail_intake.NAME_UNDECODABLE_FR, DAMAGED_PDF_FR, checked, *([many] if many else [])]


def test_no_reason_a_school_reads_tells_it_to_ask_itself() -> None:
    """An attack of 2026-12-07: a school was told « le traiter à la main ou demander à l'école de l'envoyer »."""
    reasons = _reasons_a_school_may_read()
    assert len(reasons) > 10 and any("demander à l'école" in r for r in reasons)

    said = [to_school(r) for r in reasons]

    assert [s for s in said if "l'école" in s or "à la main" in s or "équipe technique" in s] == []


@pytest.mark.parametrize(("staff", "school"), [
    ("Le traiter à la main ou demander à l'école de le renvoyer (PDF simple).", "Merci de le renvoyer (PDF simple)."),
    ("Plusieurs fiches : demander à l'école d'envoyer une fiche par fichier.",
     "Plusieurs fiches : merci d'envoyer une fiche par fichier."),
    ("Page 2 de la fiche manquante : demander à l'école de l'envoyer.", "Page 2 de la fiche manquante : merci de "
                                                                        "l'envoyer."),
    ("Lecture impossible : la saisir à la main ou la rescanner.", "Lecture impossible : merci de la rescanner."),
    ("Trop de pages : demander à l'école d'envoyer une fiche par fichier, ou le traiter à la main.",
     "Trop de pages : merci d'envoyer une fiche par fichier."),
])
def test_a_staff_directive_is_addressed_to_the_school(staff: str, school: str) -> None:
    assert to_school(staff) == school


def test_a_message_refused_whole_is_acknowledged_without_a_count_of_files_it_did_not_read() -> None:
    text = reply_text([], ["Message avec 40 pièces jointes (au plus 30) : le traiter à la main ou demander à "
                           "l'école de l'envoyer en plusieurs fois."])
    assert "Le service CLAS a bien reçu votre message." in text and "0 fichier" not in text
    assert "merci de l'envoyer en plusieurs fois" in text

    read = reply_text([AttachmentOutcome("fiche.pdf", "document", "routed", (), "FO-2026-000001")])
    assert "votre message (1 fichier)" in read and "« fiche.pdf » (fiche FO-2026-000001) : fiche acceptée." in read
