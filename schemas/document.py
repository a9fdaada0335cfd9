"""Received documents, their pages and their final outcome.

A :class:`ReceivedDocument` is built once, at ingestion, and every later record
points back to it by ``sha256``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict


class MediaType(StrEnum):
    """Media types recognised by their content (magic bytes), not their name."""

    PDF = "application/pdf"
    JPEG = "image/jpeg"
    PNG = "image/png"
    TIFF = "image/tiff"
    HEIC = "image/heic"
    UNKNOWN = "application/octet-stream"


class Outcome(StrEnum):
    """Where a received document ends: exactly one of these.

    ``received = routed + waiting_list + review + quarantined + duplicate``.
    """

    ROUTED = "routed"
    WAITING_LIST = "waiting_list"
    REVIEW = "review"
    QUARANTINED = "quarantined"
    DUPLICATE = "duplicate"


OUTCOME_LABELS_FR: dict[Outcome, str] = {
    Outcome.ROUTED: "orientées vers une structure",
    Outcome.WAITING_LIST: "en liste d'attente",
    Outcome.REVIEW: "à vérifier par l'équipe",
    Outcome.QUARANTINED: "en quarantaine",
    Outcome.DUPLICATE: "doublons",
}


class ReceivedDocument(BaseModel):
    """One received file, as recorded at ingestion.

    Attributes:
        sha256: Hex SHA-256 of the file's bytes; the document's identity.
        source: Where it came from, e.g. ``folder:/srv/inbox``.
        original_name: File name as received (may contain a pupil's name: never log it).
        media_type: Detected from the content.
        size_bytes: File size in bytes.
        received_at: When the run picked it up (UTC).
        stored_path: The kept copy under the data directory.
        intake_reason: ``(code, French reason)`` when ingestion already knows the file must be
            quarantined without being read (a file name that is not UTF-8); ``None`` otherwise.
    """

    model_config = ConfigDict(frozen=True)

    sha256: str
    source: str
    original_name: str
    media_type: MediaType
    size_bytes: int
    received_at: datetime
    stored_path: Path
    intake_reason: tuple[str, str] | None = None

    @property
    def short_id(self) -> str:
        """First 12 hex digits of the SHA-256: safe to log."""
        return self.sha256[:12]


REASON_LABELS_FR: dict[str, str] = {
    "duplicate_file": "fichier déjà reçu",
    "form_already_received": "fiche déjà reçue",
    "not_the_form": "pas une fiche d'orientation",
    "unknown_form_version": "version de fiche inconnue",
    "multiple_forms": "plusieurs fiches dans un fichier",
    "repeated_page": "même page pour plusieurs élèves",
    "unsupported_media_type": "type de fichier non pris en charge",
    "encrypted_pdf": "PDF protégé par mot de passe",
    "unreadable_document": "fichier illisible",
    "image_too_large": "image trop grande",
    "too_many_pages": "trop de pages",
    "file_too_large": "fichier trop volumineux",
    "internal_error": "erreur interne",
    "document_timeout": "lecture trop longue",
    "document_memory": "lecture trop gourmande en mémoire",
    "ingest_io": "fichier illisible à la réception",
    "file_name_not_utf8": "nom de fichier illisible",
    "empty_file": "fichier vide",
    "attachment_name_undecodable": "nom de pièce jointe illisible",
    "message_unreadable": "message illisible",
    "database_locked": "base de données verrouillée",
    "run_crashed": "exécution interrompue",
    "run_already_active": "exécution déjà en cours",
    "reply_failed": "réponse à l'école non envoyée",
    "page_not_identified": "page non reconnue",
    "registration_failed": "page mal cadrée",
    "ocr_failed": "lecture impossible",
    "missing_page": "page manquante",
    "low_confidence": "lecture incertaine",
    "pupil_already_referred": "élève déjà orienté(e)",
    "waiting_list": "liste d'attente",
    "required": "champ obligatoire vide",
    "invalid_value": "valeur non valide",
    "too_many_choices": "plusieurs cases cochées",
    "invalid_date": "date non valide",
    "date_in_future": "date dans le futur",
    "date_outside_school_year": "date hors année scolaire",
    "invalid_phone": "téléphone non valide",
    "invalid_email": "courriel non valide",
    "invalid_postcode": "code postal non valide",
    "no_criterion": "aucun critère coché",
    "other_criterion_text_missing": "critère « autre » sans précision",
    "agreement_missing": "accord de la famille manquant",
    "signature_missing": "signature manquante",
    "age_implausible": "âge incohérent avec le niveau",
    "school_unknown": "établissement inconnu",
    "school_ambiguous": "établissement ambigu",
    "level_not_offered": "niveau absent de l'établissement",
    "school_year_mismatch": "année scolaire différente",
    "name_mismatch": "nom différent entre les pages",
    "guardian_incomplete": "responsable 2 incomplet",
}
"""Short French label of each reason code, for summaries (the full reason is per field)."""
