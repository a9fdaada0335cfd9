"""The project's exception hierarchy: one base class, specific subclasses with structured fields.

Every error carries a stable machine ``code`` (for outcomes, metrics and tests) and a
French ``reason_fr`` shown to staff on the review desk. Exceptions are turned into
outcomes (review, quarantine) in exactly one place, the flow's handler; stages only raise.

To add an error, subclass :class:`ClasError` (or one of its subclasses), set ``code``
and a default ``reason_fr``, and add structured attributes as keyword arguments.
"""

from __future__ import annotations

from typing import ClassVar


class ClasError(Exception):
    """Base class of every error the pipeline raises on purpose.

    Attributes:
        code: Stable identifier of the error kind (snake_case, never translated).
        reason_fr: What staff see, in French: what went wrong and what to do next.
    """

    code: ClassVar[str] = "clas_error"
    default_reason_fr: ClassVar[str] = "Erreur de traitement : transmettre le document à l'équipe technique."

    def __init__(self, message: str, *, reason_fr: str | None = None) -> None:
        """Create the error.

        Args:
            message: English message for logs (never field values such as names or phones).
            reason_fr: French reason for staff; defaults to the class's ``default_reason_fr``.
        """
        super().__init__(message)
        self.reason_fr: str = reason_fr or self.default_reason_fr


class PageNotIdentifiedError(ClasError):
    """No QR code of ours could be read on a page (or its codes disagree).

    Attributes:
        codes_found: Number of barcodes decoded on the page (ours or not).
    """

    code: ClassVar[str] = "page_not_identified"
    default_reason_fr: ClassVar[str] = (
        "Page non reconnue : aucun code QR de la fiche CLAS n'a pu être lu. "
        "Vérifier qu'il s'agit bien de la fiche d'orientation et la rescanner à 300 dpi."
    )

    def __init__(self, message: str, *, codes_found: int = 0, reason_fr: str | None = None) -> None:
        """Create the error; see the class docstring for ``codes_found``."""
        super().__init__(message, reason_fr=reason_fr)
        self.codes_found = codes_found


class RegistrationError(ClasError):
    """The page could not be aligned on the form template.

    Attributes:
        anchors_found: Number of registration anchors located (of five).
        residual_pt: Residual position error of the best fit in PDF points, if any fit was made.
    """

    code: ClassVar[str] = "registration_failed"
    default_reason_fr: ClassVar[str] = (
        "Page mal cadrée : les repères noirs des coins n'ont pas été trouvés. "
        "Rescanner la page entière, à plat, sans la recadrer."
    )

    def __init__(
        self,
        message: str,
        *,
        anchors_found: int = 0,
        residual_pt: float | None = None,
        reason_fr: str | None = None,
    ) -> None:
        """Create the error; see the class docstring for the attributes."""
        super().__init__(message, reason_fr=reason_fr)
        self.anchors_found = anchors_found
        self.residual_pt = residual_pt


class OcrError(ClasError):
    """Tesseract failed or timed out on a page.

    Attributes:
        page: 1-based page number concerned, if known.
    """

    code: ClassVar[str] = "ocr_failed"
    default_reason_fr: ClassVar[str] = (
        "Lecture automatique impossible sur cette page : la saisir à la main ou la rescanner."
    )

    def __init__(self, message: str, *, page: int | None = None, reason_fr: str | None = None) -> None:
        """Create the error; see the class docstring for ``page``."""
        super().__init__(message, reason_fr=reason_fr)
        self.page = page
