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


class UnknownFormVersionPageError(PageNotIdentifiedError):
    """A page of our form whose QR code or footer says a version the product does not read (``CLASFO|v9|…``).

    Attributes:
        version: The version the page says.
    """

    code: ClassVar[str] = "unknown_form_version"

    def __init__(self, message: str, *, version: int, codes_found: int = 0) -> None:
        """Create the error; the French reason names the version and what to ask the school."""
        super().__init__(message, codes_found=codes_found, reason_fr=(
            f"Version de fiche inconnue (v{version}) : cette version n'est pas lue par le logiciel. "
            "Demander à l'école d'utiliser la fiche d'orientation en vigueur."))
        self.version = version


class NoFormCodeError(PageNotIdentifiedError):
    """No barcode on the page is one of ours: the page may still be found by its anchors and footer
    (``pipeline.reading.anchors``)."""


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


class DocumentError(ClasError):
    """The document as a whole cannot be processed: it is quarantined with its reason."""

    code: ClassVar[str] = "document_error"


class UnsupportedMediaTypeError(DocumentError):
    """The file is neither a PDF nor a supported image (JPEG, PNG, TIFF, HEIC).

    Attributes:
        media_type: The type detected from the content.
    """

    code: ClassVar[str] = "unsupported_media_type"
    default_reason_fr: ClassVar[str] = (
        "Type de fichier non pris en charge : envoyer la fiche en PDF, JPEG, PNG ou TIFF."
    )

    def __init__(self, message: str, *, media_type: str, reason_fr: str | None = None) -> None:
        """Create the error; see the class docstring for ``media_type``."""
        super().__init__(message, reason_fr=reason_fr)
        self.media_type = media_type


class EncryptedPdfError(DocumentError):
    """The PDF is protected by a password (other than the empty one)."""

    code: ClassVar[str] = "encrypted_pdf"
    default_reason_fr: ClassVar[str] = (
        "PDF protégé par un mot de passe : demander à l'école de renvoyer la fiche sans protection."
    )


class UnreadableDocumentError(DocumentError):
    """The file is truncated or corrupt."""

    code: ClassVar[str] = "unreadable_document"
    default_reason_fr: ClassVar[str] = (
        "Fichier illisible ou endommagé : demander à l'école de renvoyer la fiche."
    )


class ImageTooLargeError(DocumentError):
    """An image exceeds the pixel limit (``CLAS_SCAN__MAX_PIXELS``).

    Attributes:
        pixels: The image's pixel count.
    """

    code: ClassVar[str] = "image_too_large"
    default_reason_fr: ClassVar[str] = (
        "Image trop grande : la renvoyer scannée en 300 dpi au plus."
    )

    def __init__(self, message: str, *, pixels: int, reason_fr: str | None = None) -> None:
        """Create the error; see the class docstring for ``pixels``."""
        super().__init__(message, reason_fr=reason_fr)
        self.pixels = pixels


class FileTooLargeError(DocumentError):
    """The file is larger than is read (``CLAS_SCAN__MAX_FILE_MIB``): it is kept and quarantined, never parsed.

    Attributes:
        size_bytes: The file's size.
    """

    code: ClassVar[str] = "file_too_large"
    default_reason_fr: ClassVar[str] = (
        "Fichier trop volumineux pour une fiche : demander à l'école de la renvoyer en PDF simple ou en scan à "
        "300 dpi, ou la traiter à la main."
    )

    def __init__(self, message: str, *, size_bytes: int, reason_fr: str | None = None) -> None:
        """Create the error; see the class docstring for ``size_bytes``."""
        super().__init__(message, reason_fr=reason_fr)
        self.size_bytes = size_bytes


class TooManyPagesError(DocumentError):
    """The file has more pages than are read (``CLAS_SCAN__MAX_PAGES``): it is quarantined before any is read.

    Attributes:
        page_count: The file's pages (PDF pages), or ``None`` when only known to be over (image frames).
        max_pages: The limit it is over.
    """

    code: ClassVar[str] = "too_many_pages"
    default_reason_fr: ClassVar[str] = (
        "Fichier de plus de pages qu'une fiche n'en a (2) : demander à l'école d'envoyer une fiche par fichier, ou "
        "le traiter à la main."
    )

    def __init__(self, message: str, *, page_count: int | None, max_pages: int, reason_fr: str | None = None
                 ) -> None:
        """Create the error; see the class docstring for ``page_count`` and ``max_pages``."""
        pages = f"de {page_count} pages" if page_count is not None else f"de plus de {max_pages} pages"
        super().__init__(message, reason_fr=reason_fr or (
            f"Fichier {pages}, au-delà des {max_pages} lues au plus (une fiche en a 2) : demander à l'école "
            "d'envoyer une fiche par fichier, ou le traiter à la main."))
        self.page_count = page_count
        self.max_pages = max_pages


class NotTheFormError(DocumentError):
    """No page of the document is a page of the fiche d'orientation.

    Attributes:
        page_count: Pages examined.
    """

    code: ClassVar[str] = "not_the_form"
    default_reason_fr: ClassVar[str] = (
        "Ce document n'est pas une fiche d'orientation CLAS (aucun code de la fiche trouvé)."
    )

    def __init__(self, message: str, *, page_count: int, reason_fr: str | None = None) -> None:
        """Create the error; see the class docstring for ``page_count``."""
        super().__init__(message, reason_fr=reason_fr)
        self.page_count = page_count


class MultipleFormsError(DocumentError):
    """Pages of several forms are in one file; each form must come in its own file.

    Attributes:
        form_count: Distinct form serials found.
    """

    code: ClassVar[str] = "multiple_forms"
    default_reason_fr: ClassVar[str] = (
        "Le fichier contient plusieurs fiches : demander à l'école d'envoyer une fiche par fichier."
    )

    def __init__(self, message: str, *, form_count: int, reason_fr: str | None = None) -> None:
        """Create the error; see the class docstring for ``form_count``."""
        super().__init__(message, reason_fr=reason_fr)
        self.form_count = form_count


class RepeatedPageError(MultipleFormsError):
    """A page of the fillable PDF's shared serial comes twice in one file, and the copies are not one page sent twice.

    The fillable PDF's serial is shared by every school, so two filled fillable forms joined into one file carry
    one serial: the serial cannot tell them apart, their values can (typed: all equal; scanned: the same pupil
    named). See :func:`pipeline.deciding.assemble.repeated_page_copies`.

    Attributes:
        form_count: Copies of the most repeated page.
    """

    code: ClassVar[str] = "repeated_page"
    default_reason_fr: ClassVar[str] = (
        "La même page de la fiche à remplir sur ordinateur figure plusieurs fois dans le fichier, avec des valeurs "
        "différentes (ou, scannée, un élève différent ou illisible) : sans doute plusieurs fiches dans un seul "
        "fichier. Demander à l'école d'envoyer une fiche par fichier."
    )
