"""Read one stored original into page results: the one place where readers' exceptions become outcomes.

:func:`read_received` runs the readers (``pipeline.reading.extract``) in a reading worker
under the document's time and memory limits (``pipeline.reading.limits``). A
:class:`~pipeline.errors.DocumentError` becomes a :class:`Reason` with its French text, and the
document is quarantined by the stage that records it (``pipeline.stages``); nothing a reader
raises stops the run.
"""


from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass

from pipeline.errors import (
    DocumentError,
    FileTooLargeError,
    MultipleFormsError,
    NotTheFormError,
    UnknownFormVersionPageError,
)
from pipeline.form.definition import FormDefinition, form_key
from pipeline.reading.limits import run_limited
from pipeline.reading.pages import PageReading, PageResult, UnidentifiedPage
from pipeline.settings import Settings
from schemas.document import ReceivedDocument

logger = logging.getLogger(__name__)


INTERNAL_ERROR_FR = ("Erreur interne pendant la lecture de ce fichier : il est conservé ; "
                     "le signaler à l'équipe technique puis le traiter à la main.")


@dataclass(frozen=True)
class Reason:
    """Why a document is not routed, for staff (French) and for counting (code).

    Attributes:
        code: Stable machine code (``low_confidence``, ``missing_page``, a validation code…).
        message_fr: What staff read.
        field: The field concerned, if one is.
    """

    code: str
    message_fr: str
    field: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """JSON form, as stored."""
        return {"field": self.field, "code": self.code, "message_fr": self.message_fr}


@dataclass(frozen=True)
class DocumentReading:
    """A received document read into pages, or the reason it could not be.

    Attributes:
        doc: The received document.
        pages: Its pages, identified or not (empty when ``failure`` is set).
        failure: Why the whole document is quarantined, if it is.
    """

    doc: ReceivedDocument
    pages: tuple[PageResult, ...] = ()
    failure: Reason | None = None

    @property
    def form_ids(self) -> tuple[str, ...]:
        """Distinct form keys of the identified pages, sorted (see :func:`form_key`)."""
        return tuple(sorted({form_key(p.identity.form_id, self.doc.sha256)
                             for p in self.pages if isinstance(p, PageReading)}))


def read_received(doc: ReceivedDocument, settings: Settings, definition: FormDefinition | None = None
                  ) -> DocumentReading:
    """Read a document's pages; the one place where reading errors become outcomes.

    The reading runs in a worker process bounded by ``settings.limits`` (time in
    seconds, memory in MiB; see :mod:`pipeline.reading.limits` for why a process and not an
    alarm); a file over ``settings.scan.max_file_mib`` is not read at all. A
    :class:`~pipeline.errors.DocumentError` (unsupported, encrypted,
    unreadable, too large, too slow, too heavy) or an unexpected failure of a reader
    becomes a quarantine reason; a document without any page of the form, or with
    pages of several forms, too. This function does not raise for bad input.
    """
    try:
        if doc.size_bytes > settings.scan.max_file_mib * 1024 * 1024:
            raise FileTooLargeError(f"file of {doc.size_bytes} bytes over the limit", size_bytes=doc.size_bytes)
        return run_limited(_read_unbounded, (doc, settings, definition), settings.limits)
    except DocumentError as exc:
        # Codes and sizes only: the exception carries no file content (ClasError messages never do).
        logger.warning("document %s: %s", doc.short_id, exc.code)
        return DocumentReading(doc, failure=Reason(exc.code, exc.reason_fr))
    except Exception as exc:  # noqa: BLE001 - the worker machinery itself failed: keep the file, go on
        logger.error("document %s: unexpected %s around the reading worker", doc.short_id, type(exc).__name__)
        return DocumentReading(doc, failure=Reason("internal_error", INTERNAL_ERROR_FR))


def _read_unbounded(doc: ReceivedDocument, settings: Settings, definition: FormDefinition | None
                    ) -> DocumentReading:
    """:func:`read_received` without limits (runs inside the worker process; never raises for bad input)."""
    # Imported here: the readers are the worker's (its forkserver preloads them, pipeline.reading.worker_preload);
    # the run's process, which only hands documents over and gets pages back, never loads them (issue 19).
    from pipeline.reading.extract import read_document

    try:
        pages = tuple(read_document(doc.stored_path, doc.media_type, settings, definition))
    except DocumentError as exc:
        return DocumentReading(doc, failure=Reason(exc.code, exc.reason_fr))
    except MemoryError:
        raise  # the worker reports it as the memory limit
    except Exception as exc:  # noqa: BLE001 - a reader bug must not stop the run nor lose the file
        # The exception's message may quote file content: log its type, and at debug level where it was raised
        # (the trace's frames, code lines only, never the message).
        logger.error("document %s: unexpected %s while reading", doc.short_id, type(exc).__name__)
        logger.debug("document %s: %s raised at\n%s", doc.short_id, type(exc).__name__,
                     "".join(traceback.format_tb(exc.__traceback__)))
        return DocumentReading(doc, failure=Reason("internal_error", INTERNAL_ERROR_FR))
    reading = DocumentReading(doc, pages)
    if not reading.form_ids:
        # A page of our form in a version the product does not read says so, rather than « not the form ».
        unknown = next((p.error for p in pages if isinstance(p, UnidentifiedPage)
                        and isinstance(p.error, UnknownFormVersionPageError)), None)
        foreign = unknown or NotTheFormError("no page of the form", page_count=len(pages))
        return DocumentReading(doc, failure=Reason(foreign.code, foreign.reason_fr))
    if len(reading.form_ids) > 1:
        err = MultipleFormsError("several forms in one file", form_count=len(reading.form_ids))
        return DocumentReading(doc, failure=Reason(err.code, err.reason_fr))
    return reading
