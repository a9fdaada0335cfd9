"""Mail parsing: one e-mail message → the attachments that may be forms, each classified.

Pure functions over :class:`email.message.EmailMessage` (no network, no disk). A
candidate is found wherever a real mail client puts a file: an attachment, an
inline part or a part with no disposition, inside forwarded messages
(``message/rfc822``, at any depth up to ``MailSettings.max_nesting``) and inside
Outlook's ``winmail.dat`` (TNEF, read with tnefparse). Its media type is detected
from its bytes (``pipeline.intake.ingest.detect_media_type``), never from the declared
type, so an ``application/octet-stream`` PDF is a PDF. File names in RFC 2231 or
encoded-word form are decoded.

Each candidate is classified:

* ``document``: goes to the pipeline (ingest, read); the read stage quarantines
  what it cannot read (zip, Word file, protected PDF, an image too large) with
  its French reason;
* ``decoration``: a signature logo, a tiny image, an S/MIME signature or an empty
  Outlook container: recorded, never a document;
* ``rejected``: could not be taken out of the message (empty, undecodable, a
  forward nested too deep, a broken ``winmail.dat``): recorded with a French
  reason; its message goes to quarantine.

The sender is matched to the school directory here too (:func:`match_sender`),
and compared with the school written on the form (:func:`sender_reasons`).
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import hashlib
import io
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses
from enum import StrEnum

from pipeline.heic import register_heic
from pipeline.intake.ingest import CONTAINER_MAGIC, detect_media_type
from pipeline.intake.names import fit_bytes, safe_filename
from pipeline.settings import MailSettings
from schemas.directory import Directory
from schemas.document import MediaType

TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"
"""First four bytes of a TNEF stream (0x223E9F78 little-endian, [MS-OXTNEF] §2.1.3.1)."""
_SIGNATURE_TYPES = frozenset({"application/pkcs7-signature", "application/x-pkcs7-signature",
                              "application/pgp-signature"})
_BODY_TYPES = frozenset({"text/plain", "text/html", "text/enriched", "text/calendar",
                         "message/delivery-status", "text/rfc822-headers", "message/disposition-notification"})
_EXTENSIONS = {MediaType.PDF: ".pdf", MediaType.JPEG: ".jpg", MediaType.PNG: ".png", MediaType.TIFF: ".tif",
               MediaType.HEIC: ".heic", MediaType.UNKNOWN: ".bin"}
_IDENTITY_ENCODINGS = frozenset({"", "7bit", "8bit", "binary"})
"""Transfer encodings that leave a part's bytes as they are (RFC 2045 §6.2): the only ones a ``message/rfc822``
part may have (RFC 2046 §5.2.1)."""
_IMAGE_TYPES = frozenset({MediaType.JPEG, MediaType.PNG, MediaType.TIFF, MediaType.HEIC})
HEADER_ERRORS = (ValueError, LookupError, TypeError, IndexError, AttributeError)
"""What the stdlib header parser raises on headers it cannot decode: ``UnicodeDecodeError`` (a ``ValueError``) for
RFC 2231 sections in UTF-16 with an odd byte count (issue 17), ``LookupError`` for unknown charsets, and
``IndexError``/``AttributeError``/``TypeError``, which ``email._header_value_parser`` has raised on malformed
headers in several CPython releases."""
NAME_UNDECODABLE_FR = ("Nom de la pièce jointe illisible (encodage invalide, message abîmé) : le message est gardé "
                       "en quarantaine ; demander à l'école de renvoyer la fiche avec un nom simple (ex. fiche.pdf).")


class AttachmentStatus(StrEnum):
    """What a part of a message is, for the pipeline."""

    DOCUMENT = "document"
    DECORATION = "decoration"
    REJECTED = "rejected"


@dataclass(frozen=True)
class AttachmentCandidate:
    """One file found in a message.

    Attributes:
        position: 1-based order in the message, depth first (stable across re-reads).
        part_path: Where it was found: MIME part numbers, ``.tnef<n>`` inside a ``winmail.dat``
            (e.g. ``"2.1.3"``, ``"3.tnef1"``).
        filename: Decoded, sanitised file name (may name a pupil: never log it); invented
            (``piece-jointe-<position>.<ext>``) for a part without one.
        declared_type: Content type the sender's client declared.
        media_type: Type detected from the bytes.
        size_bytes: Decoded size, in bytes.
        status: Document, decoration or rejected.
        reason_code: Why it is a decoration or rejected (``None`` for a document).
        reason_fr: The same, in French, for staff and replies.
        nesting: Forwarded messages around it (0 for a direct attachment).
        width_px: Image width in pixels, when the part is an image whose header was read.
        height_px: Image height in pixels, likewise.
        data: The decoded bytes (not shown in ``repr``).
    """

    position: int
    part_path: str
    filename: str
    declared_type: str
    media_type: MediaType
    size_bytes: int
    status: AttachmentStatus
    reason_code: str | None = None
    reason_fr: str | None = None
    nesting: int = 0
    width_px: int | None = None
    height_px: int | None = None
    data: bytes = field(default=b"", repr=False)

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the decoded bytes."""
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class _Found:
    """A leaf found while walking a message, before it is numbered."""

    part_path: str
    filename: str | None
    declared_type: str
    nesting: int
    data: bytes | None
    has_content_id: bool = False
    rejected: tuple[str, str] | None = None
    forced_decoration: tuple[str, str] | None = None


# --- Messages ---------------------------------------------------------------------------

_RAW_BOUNDARY = re.compile(r"""(?:^|;)\s*boundary\s*=\s*([^\s";]+)\s*(?:;|$)""", re.IGNORECASE)


class ClasMessage(EmailMessage):
    """:class:`EmailMessage` that finds a boundary holding an apostrophe when it is not quoted.

    RFC 2046 §5.1.1 allows ``'`` in a boundary and RFC 2045 §5.1 in an unquoted parameter value,
    but both stdlib parameter parsers take an unquoted value with an apostrophe for an RFC 2231
    ``charset'language'value``: ``boundary=l'ecole`` gives no boundary at all (the multipart body
    became one ``.bin`` part, issue 17) and ``boundary=a'b'c`` gives ``c``. An extended
    parameter is written ``boundary*=``, so a plain ``boundary=`` value is taken literally.
    """

    def get_boundary(self, failobj: object = None) -> object:  # type: ignore[override]  # the stdlib's signature
        """The ``boundary`` parameter of ``Content-Type``, unquoted; ``failobj`` when there is none."""
        for name, value in self.raw_items():
            if name.lower() == "content-type":
                m = _RAW_BOUNDARY.search(str(value).replace("\r", "").replace("\n", ""))
                if m and "'" in m.group(1):
                    return m.group(1)
                break
        return super().get_boundary(failobj)


_POLICY = email.policy.default.clone(message_factory=ClasMessage)


def parse_message(raw: bytes) -> EmailMessage:
    """Parse a message's bytes with the modern policy (decoded headers, ``EmailMessage`` parts).

    Parts are :class:`ClasMessage`, which reads a boundary holding an apostrophe. Parsing never
    raises for a malformed message (the parser records defects); reading a header may
    (see :data:`HEADER_ERRORS`).
    """
    message = email.message_from_bytes(raw, policy=_POLICY)
    if not isinstance(message, EmailMessage):  # pragma: no cover - policy.default always builds EmailMessage
        raise TypeError("the parser did not build an EmailMessage")
    return message


def message_identity(message: Message, raw_sha256: str) -> str:
    """The message's Message-ID without angle brackets, or ``sha256:<hash>`` when it has none.

    Args:
        message: The parsed message.
        raw_sha256: Hex SHA-256 of the message's bytes, the identity of a message without Message-ID.
    """
    value = str(message.get("Message-ID", "") or "").strip()
    value = value.strip("<>").strip()
    if not value or len(value) > 400 or any(ch.isspace() for ch in value):
        return f"sha256:{raw_sha256}"
    return value


def sender_address(message: Message) -> str:
    """The ``From`` address, lowercased (``""`` when there is none or it is malformed)."""
    try:
        pairs = getaddresses([str(message.get("From", "") or "")])
    except (TypeError, ValueError, IndexError):
        return ""
    for _name, address in pairs:
        if "@" in address:
            return address.strip().lower()
    return ""


_AUTOMATIC_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoreply-From")
"""Headers that vacation responders put on what they send in place of ``Auto-Submitted``. Not Exchange's
``X-Auto-Response-Suppress``: a sender's request about the answers it wants ([MS-OXCMAIL] 2.1.3.2.20), which a
school's own message may carry (``None``, ``DR, NDR``): a review found it silenced the acknowledgement."""
_AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
"""``Precedence`` values of messages never to be answered automatically (RFC 3834 §2)."""


def is_automatic(message: Message) -> bool:
    """Whether the message was sent by a machine (bounce, delivery report, auto-reply, list): never answered
    (RFC 3834 §2): ``Auto-Submitted`` other than ``no``, a ``Precedence`` of bulk, junk, list or auto_reply, a
    responder's own header (:data:`_AUTOMATIC_HEADERS`), a delivery or read report (``multipart/report``), a list
    (``List-Id``), or a mailer daemon's or postmaster's address. A school's vacation responder that said so only by
    ``Precedence`` or ``X-Autoreply`` was acknowledged (an attack, 2026-12-07)."""
    auto = str(message.get("Auto-Submitted", "no") or "no").strip().lower()
    precedence = str(message.get("Precedence", "") or "").strip().lower()
    sender = sender_address(message)
    return (auto != "no" or precedence in _AUTOMATIC_PRECEDENCE or any(message.get(h) for h in _AUTOMATIC_HEADERS)
            or message.get_content_type() == "multipart/report"
            or sender.startswith(("mailer-daemon@", "postmaster@")) or bool(message.get("List-Id")))


# --- File names -------------------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?[^?]+\?[bBqQ]\?[^?]*\?=")


def decode_filename(part: Message) -> str | None:
    """The part's file name, decoded (RFC 2231 parameters, RFC 2047 encoded words) and sanitised.

    Some clients put encoded words inside a quoted ``filename`` parameter (not allowed
    by RFC 2047 §5 but common); they are decoded too. The name is made safe by
    :func:`pipeline.intake.names.safe_filename` (NFC, one path component, at most 255 bytes).

    Returns:
        The name, or ``None`` when the part has none.

    Raises:
        UnicodeDecodeError: The ``Content-Type`` header cannot be decoded (see :data:`HEADER_ERRORS`).
    """
    try:
        name = part.get_filename()
    except (TypeError, ValueError, LookupError):
        name = None
    if not name:
        raw = part.get_param("name", header="content-type")
        name = email.utils.collapse_rfc2231_value(raw) if raw else None  # type: ignore[arg-type]
    if not name:
        return None
    name = str(name)
    if _ENCODED_WORD.search(name):
        try:
            name = str(make_header(decode_header(name)))
        except (LookupError, ValueError, UnicodeDecodeError):
            pass
    return safe_filename(name)


# --- Walking a message ------------------------------------------------------------------

def _payload(part: Message) -> bytes | None:
    """The part's decoded bytes, or ``None`` when its transfer encoding cannot be undone."""
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, AssertionError):
        return None
    if any(type(d).__name__ == "InvalidBase64LengthDefect" for d in getattr(part, "defects", ())):
        return None
    return data if isinstance(data, bytes) else None


def _walk(part: Message, path: str, nesting: int, settings: MailSettings, out: list[_Found]) -> None:
    try:
        ctype = part.get_content_type()
        filename = decode_filename(part)
        disposition = (part.get_content_disposition() or "").lower()
    except HEADER_ERRORS:
        # Its headers cannot be read: keep the part's bytes (if any) as a rejected file; the message
        # goes to quarantine and the run goes on (issue 17).
        data = None if part.is_multipart() else _payload(part)
        out.append(_Found(path or "1", None, "application/octet-stream", nesting, data,
                          rejected=("attachment_name_undecodable", NAME_UNDECODABLE_FR)))
        return
    if ctype == "message/rfc822" or (filename or "").lower().endswith(".eml"):
        _walk_forward(part, path, nesting, filename, settings, out)
        return
    if part.is_multipart():
        for i, sub in enumerate(part.get_payload(), 1):  # type: ignore[union-attr]
            _walk(sub, f"{path}.{i}" if path else str(i), nesting, settings, out)
        return
    if ctype in _BODY_TYPES and filename is None and disposition != "attachment":
        return  # the message's own text, not a file
    data = _payload(part)
    path = path or "1"
    has_cid = bool(part.get("Content-ID"))
    if data is None:
        out.append(_Found(path, filename, ctype, nesting, None, has_cid, rejected=(
            "attachment_undecodable", "Pièce jointe impossible à décoder (message abîmé) : demander à "
                                      "l'école de la renvoyer.")))
        return
    if ctype in _SIGNATURE_TYPES:
        out.append(_Found(path, filename, ctype, nesting, data, has_cid, forced_decoration=(
            "email_signature", "Signature électronique du message (S/MIME ou PGP) : ce n'est pas un document.")))
        return
    named_tnef = ctype == "application/ms-tnef" or (filename or "").lower() == "winmail.dat"
    if data[:4] == TNEF_SIGNATURE or (named_tnef and detect_media_type(data[:2048]) is MediaType.UNKNOWN):
        _walk_tnef(data, path, nesting, filename, ctype, out)  # a PDF or scan under that name is taken as itself
        return
    out.append(_Found(path, filename, ctype, nesting, data, has_cid))


def _walk_forward(part: Message, path: str, nesting: int, filename: str | None, settings: MailSettings,
                  out: list[_Found]) -> None:
    """Open a forwarded message (``message/rfc822`` or an attached ``.eml``); a part under a message's type or name
    whose bytes are no message (a form saved as ``fiche.eml``) is taken as the file it is (:func:`_forwarded`)."""
    path = path or "1"
    inner, data = _forwarded(part)
    if inner is None and data is not None:
        out.append(_Found(path, filename, part.get_content_type(), nesting, data, bool(part.get("Content-ID"))))
        return
    if inner is None:
        out.append(_Found(path, filename, part.get_content_type(), nesting, None, rejected=(
            "forward_unreadable", "Message transféré illisible : demander à l'école d'envoyer la fiche "
                                  "directement en pièce jointe.")))
        return
    if nesting + 1 > settings.max_nesting:
        out.append(_Found(path, filename, "message/rfc822", nesting, inner.as_bytes(), rejected=(
            "forward_too_deep", f"Message transféré plus de {settings.max_nesting} fois : il n'a pas été ouvert ; "
                                "demander à l'école d'envoyer la fiche directement en pièce jointe.")))
        return
    _walk(inner, f"{path}.m", nesting + 1, settings, out)


def _forwarded(part: Message) -> tuple[Message | None, bytes | None]:
    """The message a forward part carries, or else the bytes it carries; ``(None, None)`` when it carries nothing
    that can be decoded.

    A message is one the parser finds header fields in, and whose bytes are not a file type
    (:func:`pipeline.intake.ingest.detect_media_type`: a PDF named ``fiche.eml`` is a PDF). A ``message/rfc822``
    part sent in base64 (which RFC 2046 §5.2.1 forbids, and some gateways and Outlook for Mac do) is parsed by the
    standard library as one message with no header and its still encoded text as body: that text is decoded here
    and parsed again. Before (an attack, 2026-12-07), both reached :func:`_walk` as a header-less body, were taken
    for the message's own text, and the form they held was dropped without a word. In quoted-printable, the
    parser reads the encoded text's first lines as headers and loses the rest: such a forward is not opened
    (``(None, None)``: the caller rejects it with a reason, and the message goes to quarantine whole).
    """
    if part.get_content_type() == "message/rfc822" and part.is_multipart():
        payload = part.get_payload()
        first = payload[0] if isinstance(payload, list) and payload else None
        encoding = str(part.get("Content-Transfer-Encoding", "") or "").strip().lower()
        if not isinstance(first, Message) or encoding not in _IDENTITY_ENCODINGS | {"base64"}:
            return None, None
        if first.keys() and encoding != "base64":
            return first, None
        data = _undo_transfer_encoding(first.get_payload(), encoding)
    else:
        data = _payload(part)
    if not data:
        return None, None
    if detect_media_type(data[:2048]) is MediaType.UNKNOWN:
        inner = parse_message(data)
        if inner.keys():
            return inner, None
    return None, data


def _undo_transfer_encoding(text: object, encoding: str) -> bytes | None:
    """``text``, a part's body as the parser kept it, decoded from base64 when ``encoding`` (lower case) says so,
    else as it is; ``None`` when it is no text or is not base64."""
    if not isinstance(text, str):
        return None
    raw = text.encode("utf-8", "surrogateescape")
    if encoding != "base64":
        return raw
    try:
        return base64.b64decode(raw)
    except (binascii.Error, ValueError):
        return None


def _walk_tnef(data: bytes, path: str, nesting: int, filename: str | None, ctype: str, out: list[_Found]) -> None:
    """Open an Outlook ``winmail.dat`` (TNEF) and list the files it carries."""
    try:
        from tnefparse import TNEF

        tnef = TNEF(data)
        if not tnef.objects:
            raise ValueError("no TNEF attribute")
        files = [(att.long_filename() or att.name, att.data) for att in tnef.attachments]
    except Exception:  # noqa: BLE001 - tnefparse raises bare ValueError/struct.error/KeyError on bad input
        out.append(_Found(path, filename, ctype, nesting, data, rejected=(
            "winmail_unreadable", "Pièce jointe Outlook « winmail.dat » illisible : demander à l'école de "
                                  "renvoyer la fiche en PDF depuis un autre logiciel de messagerie.")))
        return
    if not files:
        out.append(_Found(path, filename, ctype, nesting, data, forced_decoration=(
            "winmail_without_file", "Conteneur Outlook « winmail.dat » sans fichier : mise en forme du "
                                    "message seulement.")))
        return
    for i, (name, body) in enumerate(files, 1):
        if isinstance(name, bytes):
            name = name.decode("cp1252", errors="replace")
        out.append(_Found(f"{path}.tnef{i}", safe_filename(str(name)) if name else None,
                          "application/octet-stream", nesting, bytes(body or b"")))


# --- Classifying ------------------------------------------------------------------------

def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height in pixels from an image's header (no pixel is decoded), or ``None``."""
    from PIL import Image, UnidentifiedImageError

    if data[4:8] == b"ftyp" and not register_heic():  # pragma: no cover - pillow-heif is a dependency
        return None
    try:
        with Image.open(io.BytesIO(data)) as img:
            return int(img.width), int(img.height)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


_CONTAINER_MAGIC = CONTAINER_MAGIC


def _container_kind(data: bytes) -> str | None:
    """French name of an archive or office file recognised by its first bytes, else ``None``."""
    kind = _CONTAINER_MAGIC.get(data[:4])
    if kind == "zip":
        head = data[:4096]
        if b"word/" in head:
            return "Document Word"
        if b"xl/" in head:
            return "Classeur Excel"
        if b"ppt/" in head:
            return "Présentation PowerPoint"
        if b"mimetypeapplication/vnd.oasis.opendocument" in head:
            return "Document OpenDocument"
        return "Archive ZIP"
    return {"ole": "Document Office (ancien format)", "rar": "Archive RAR", "7z": "Archive 7-Zip"}.get(kind or "")


def _classify(found: _Found, position: int, settings: MailSettings) -> AttachmentCandidate:
    data = found.data or b""
    media_type = detect_media_type(data[:1024]) if data else MediaType.UNKNOWN
    name = found.filename or f"piece-jointe-{position}{_EXTENSIONS[media_type]}"
    common = {"position": position, "part_path": found.part_path, "filename": name,
              "declared_type": found.declared_type, "media_type": media_type, "size_bytes": len(data),
              "nesting": found.nesting, "data": data}
    if found.rejected is not None:
        return AttachmentCandidate(status=AttachmentStatus.REJECTED, reason_code=found.rejected[0],
                                   reason_fr=found.rejected[1], **common)  # type: ignore[arg-type]
    if found.forced_decoration is not None:
        return AttachmentCandidate(status=AttachmentStatus.DECORATION, reason_code=found.forced_decoration[0],
                                   reason_fr=found.forced_decoration[1], **common)  # type: ignore[arg-type]
    if not data:
        return AttachmentCandidate(status=AttachmentStatus.REJECTED, reason_code="attachment_empty",
                                   reason_fr="Pièce jointe vide (0 octet) : demander à l'école de la renvoyer.",
                                   **common)  # type: ignore[arg-type]
    container = _container_kind(data)
    if container is not None:
        # Checked before the media type: a zip that stores a PDF uncompressed holds "%PDF-" in its
        # first 1024 bytes, which ``detect_media_type`` takes for a PDF header.
        return AttachmentCandidate(
            status=AttachmentStatus.REJECTED, reason_code="unsupported_media_type",
            reason_fr=(f"{container} : type de fichier non pris en charge ; envoyer la fiche elle-même en PDF, "
                       "JPEG, PNG ou TIFF (pas dans une archive ni un document de traitement de texte)."),
            **{**common, "media_type": MediaType.UNKNOWN})  # type: ignore[arg-type]
    looks_like_image = media_type in _IMAGE_TYPES or found.declared_type.startswith("image/")
    size = image_size(data) if looks_like_image else None
    if size is not None:
        common.update(width_px=size[0], height_px=size[1])
        if max(size) < settings.decoration_max_side_px:
            return AttachmentCandidate(
                status=AttachmentStatus.DECORATION, reason_code="small_image",
                reason_fr=(f"Petite image ({size[0]}×{size[1]} pixels : logo ou signature) : trop petite pour "
                           "être une fiche, ignorée."), **common)  # type: ignore[arg-type]
    elif found.declared_type.startswith("image/") and media_type is MediaType.UNKNOWN and found.has_content_id:
        # An inline picture the imaging library cannot open (EMF, WMF, SVG): Outlook's signature logos.
        return AttachmentCandidate(
            status=AttachmentStatus.DECORATION, reason_code="inline_picture",
            reason_fr="Image intégrée au texte du message (logo ou signature) : ce n'est pas une fiche, ignorée.",
            **common)  # type: ignore[arg-type]
    return AttachmentCandidate(status=AttachmentStatus.DOCUMENT, **common)  # type: ignore[arg-type]


def extract_attachments(message: Message, settings: MailSettings) -> list[AttachmentCandidate]:
    """Every file of a message, found wherever a mail client puts one, and classified.

    Args:
        message: The parsed message (see :func:`parse_message`).
        settings: Mail limits (``max_nesting``, ``decoration_max_side_px``).

    Returns:
        The candidates in message order (depth first); file names are made unique
        within the message (``name (2).pdf``) so that each can be stored beside the others.
    """
    found: list[_Found] = []
    _walk(message, "", 0, settings, found)
    candidates = [_classify(f, i, settings) for i, f in enumerate(found, 1)]
    return _unique_names(candidates)


def _unique_names(candidates: list[AttachmentCandidate]) -> list[AttachmentCandidate]:
    from dataclasses import replace

    seen: set[str] = set()
    unique = []
    for c in candidates:
        name, n = c.filename, 1
        while name.casefold() in seen:
            n += 1
            name = fit_bytes(c.filename, marker=f" ({n})")  # still a writable name (issue 17)
        seen.add(name.casefold())
        unique.append(c if name == c.filename else replace(c, filename=name))
    return unique


def too_many_attachments(candidates: list[AttachmentCandidate], settings: MailSettings) -> str | None:
    """French reason when a message carries more files than ``settings.max_attachments``, else ``None``.

    Decorations do not count: a signature full of logos is not abuse.
    """
    count = sum(1 for c in candidates if c.status is not AttachmentStatus.DECORATION)
    if count <= settings.max_attachments:
        return None
    return (f"Message avec {count} pièces jointes (au plus {settings.max_attachments}) : il n'a pas été traité "
            "automatiquement ; le traiter à la main ou demander à l'école de l'envoyer en plusieurs fois.")


# --- Senders ----------------------------------------------------------------------------

class SenderStatus(StrEnum):
    """How a sender relates to the school directory."""

    KNOWN = "known"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SenderMatch:
    """The schools a sender address may speak for.

    Attributes:
        status: Known (one or more schools) or unknown.
        school_ids: Schools listing this address, or else this domain; empty when unknown.
    """

    status: SenderStatus
    school_ids: tuple[str, ...] = ()


def match_sender(address: str, directory: Directory) -> SenderMatch:
    """Match a sender to the directory: a school's known address first, then its own domain.

    A shared domain (the academy's) is listed by no school, so it identifies none;
    only an exact address from it does.
    """
    address = address.strip().lower()
    if "@" not in address:
        return SenderMatch(SenderStatus.UNKNOWN)
    by_address = tuple(s.id for s in directory.schools
                       if address in {a.strip().lower() for a in s.sender_addresses})
    if by_address:
        return SenderMatch(SenderStatus.KNOWN, by_address)
    domain = address.rsplit("@", 1)[1]
    by_domain = tuple(s.id for s in directory.schools if domain in {d.strip().lower() for d in s.sender_domains})
    return SenderMatch(SenderStatus.KNOWN, by_domain) if by_domain else SenderMatch(SenderStatus.UNKNOWN)


SENDER_UNKNOWN_FR = ("Expéditeur inconnu de l'annuaire des écoles : vérifier que la fiche vient bien d'un "
                     "établissement avant de l'orienter (ou ajouter son adresse à l'annuaire).")


def sender_reasons(form_school_id: str | None, senders: list[SenderMatch]) -> list[tuple[str, str]]:
    """Why a form must be reviewed because of who sent it: ``(code, French reason)`` pairs.

    Args:
        form_school_id: The school written on the form, as matched in the directory
            (``None`` when the form's school was not recognised: validation says so already).
        senders: The match of each message that carried the form's files.

    Returns:
        ``sender_unknown`` when a sender is not in the directory; ``sender_school_mismatch``
        when a sender speaks for other schools than the form's; nothing otherwise.
    """
    reasons: list[tuple[str, str]] = []
    if any(s.status is SenderStatus.UNKNOWN for s in senders):
        reasons.append(("sender_unknown", SENDER_UNKNOWN_FR))
    elif form_school_id is not None and any(form_school_id not in s.school_ids for s in senders):
        reasons.append(("sender_school_mismatch",
                        "L'établissement qui a envoyé le message n'est pas celui écrit sur la fiche : vérifier "
                        "l'établissement de l'élève avant de l'orienter."))
    return reasons
