"""Messages as real mail clients build them, for the mail tests: every way a form arrives.

Each builder returns an :class:`email.message.EmailMessage`; the files come from the
committed sample inbox (``samples/inbox``) or are made here (HEIC, protected PDF,
zip, Word file, logos, ``winmail.dat``). :func:`maildir` files raw messages in a Maildir.
"""

from __future__ import annotations

import io
import struct
import zipfile
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from PIL import Image

from tests.conftest import SAMPLES_INBOX

SCHOOL_SENDER = "direction.jules-ferry@ecoles-argenteuil.example"
"""A known address of École élémentaire Jules Ferry in the demo directory."""
COLLEGE_SENDER = "secretariat@clg-monet-argenteuil.example"
"""An address on Collège Claude Monet's own domain."""
UNKNOWN_SENDER = "quelqu.un@gmail.example"
MAILBOX = "fiches-clas@ville-argenteuil.example"


def sample(name: str) -> bytes:
    """Bytes of a committed sample file."""
    return (SAMPLES_INBOX / name).read_bytes()


def message(subject: str = "Fiches CLAS", sender: str = SCHOOL_SENDER, text: str = "Bonjour, ci-joint les fiches.",
            html: bool = False) -> EmailMessage:
    """An empty message with the usual headers (and an HTML alternative when ``html``)."""
    msg = EmailMessage()
    msg["From"] = f"Direction école <{sender}>"
    msg["To"] = MAILBOX
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="ecoles-argenteuil.example")
    msg["Date"] = "Mon, 14 Sep 2026 10:00:00 +0200"
    msg.set_content(text)
    if html:
        msg.add_alternative(f"<p>{text}</p><p><img src=\"cid:logo\"></p>", subtype="html")
    return msg


def attach(msg: EmailMessage, data: bytes, ctype: str, filename: str | None,
           disposition: str = "attachment") -> EmailMessage:
    """Attach ``data``; ``filename`` non-ASCII gives RFC 2231 parameters (what the stdlib writes)."""
    maintype, subtype = ctype.split("/")
    kwargs = {"filename": filename} if filename else {}
    msg.add_attachment(data, maintype=maintype, subtype=subtype, disposition=disposition, **kwargs)
    return msg


def logo_png(side_px: int = 120) -> bytes:
    """A small coloured PNG such as a signature logo."""
    buf = io.BytesIO()
    Image.new("RGB", (side_px, side_px // 2), (30, 90, 160)).save(buf, format="PNG")
    return buf.getvalue()


def heic_from(jpeg: bytes, full_size: bool = False) -> bytes:
    """The same page as an iPhone HEIC photo (half size unless ``full_size``)."""
    from pillow_heif import register_heif_opener

    from samples.generator import HEIC_ENCODER_PARAMS

    register_heif_opener()
    buf = io.BytesIO()
    with Image.open(io.BytesIO(jpeg)) as img:
        # Half size (150 dpi) keeps the encoder quick; still far above the decoration limit.
        page = img.convert("RGB")
        (page if full_size else page.reduce(2)).save(buf, format="HEIF", quality=80, enc_params=HEIC_ENCODER_PARAMS)
    return buf.getvalue()


def protected_pdf(pdf: bytes, password: str = "ecole") -> bytes:
    """A PDF protected by a user password."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zip_of(files: dict[str, bytes]) -> bytes:
    """A zip archive of ``files``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def word_file() -> bytes:
    """A minimal .docx (a zip with the Word parts)."""
    return zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


def huge_png(side_px: int = 6000) -> bytes:
    """A blank bilevel PNG of ``side_px``² pixels (small file, many pixels)."""
    buf = io.BytesIO()
    Image.new("1", (side_px, side_px), 1).save(buf, format="PNG")
    return buf.getvalue()


def _tnef_attr(level: int, name: int, atype: int, data: bytes) -> bytes:
    checksum = sum(data) & 0xFFFF
    return struct.pack("<BHHI", level, name, atype, len(data)) + data + struct.pack("<H", checksum)


def winmail_dat(files: dict[str, bytes]) -> bytes:
    """An Outlook TNEF stream ([MS-OXTNEF]) carrying ``files`` as attachments."""
    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += _tnef_attr(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # attTnefVersion
    out += _tnef_attr(1, 0x9007, 0x0006, struct.pack("<II", 1252, 0))  # attOemCodepage
    for name, data in files.items():
        out += _tnef_attr(2, 0x9002, 0x0006, b"\x01\x00" + b"\xff" * 4 + b"\x00" * 8)  # attAttachRendData
        out += _tnef_attr(2, 0x8010, 0x0001, name.encode() + b"\x00")  # attAttachTitle
        out += _tnef_attr(2, 0x800F, 0x0006, data)  # attAttachData
    return out


def forwarded(inner: EmailMessage, sender: str = SCHOOL_SENDER, times: int = 1) -> EmailMessage:
    """``inner`` forwarded as an attachment ``times`` times (message/rfc822 inside message/rfc822…)."""
    msg = inner
    for i in range(times):
        outer = message(f"TR: {inner['Subject']} ({i + 1})", sender=sender, text="Je vous transfère.")
        outer.add_attachment(msg)
        msg = outer
    return msg


def raw_with_encoded_word_filename(data: bytes, sender: str = SCHOOL_SENDER) -> bytes:
    """A message whose attachment name is an RFC 2047 encoded word inside quotes (Outlook, Lotus)."""
    import base64

    name = "=?UTF-8?B?" + base64.b64encode("Fiche d'orientation élève.pdf".encode()).decode() + "?="
    return raw_with_filename_param(data, f'filename="{name}"', f'name="{name}"', sender)


def raw_with_filename_param(data: bytes, disposition_param: str, type_param: str = "", sender: str = SCHOOL_SENDER
                            ) -> bytes:
    """A message with one octet-stream attachment whose name parameters are written as given."""
    import base64

    body = base64.encodebytes(data).decode()
    return (f"From: {sender}\r\nTo: {MAILBOX}\r\nSubject: fiche\r\nMessage-ID: {make_msgid()}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
            "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour\r\n"
            f"--b1\r\nContent-Type: application/octet-stream{'; ' + type_param if type_param else ''}\r\n"
            f"Content-Disposition: attachment; {disposition_param}\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" + body.replace("\n", "\r\n") + "--b1--\r\n").encode()


def maildir(root: Path, messages: list[bytes]) -> Path:
    """A Maildir at ``root`` holding ``messages`` as new, unread mail."""
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i, raw in enumerate(messages):
        (root / "new" / f"17000000{i:02d}.M{i}P1.test").write_bytes(raw)
    return root


def raw_with_utf16_continued_name(data: bytes, sender: str = SCHOOL_SENDER) -> bytes:
    """A message whose attachment name is RFC 2231 continuation sections in UTF-16 holding bytes that are not
    valid UTF-16 (an odd byte count: a truncated code unit), as a broken mail client writes them (issue 17).

    The stdlib email parser raises ``UnicodeDecodeError`` when such a header is read.
    """
    return raw_with_filename_param(data, "filename*0*=utf-16''%FF%FE%46%00%69%00; filename*1*=%63%00%68%00%65",
                                   'name="fiche.pdf"', sender)


def raw_with_boundary(data: bytes, boundary: str, quoted: bool = False, filename: str = "fiche.pdf",
                      sender: str = SCHOOL_SENDER) -> bytes:
    """A message with one PDF attachment whose MIME boundary is ``boundary``, written quoted or not.

    RFC 2046 §5.1.1 allows an apostrophe in a boundary (``bchars``) and RFC 2045 §5.1 in an unquoted token.
    """
    import base64

    body = base64.encodebytes(data).decode().replace("\n", "\r\n")
    param = f'"{boundary}"' if quoted else boundary
    return (f"From: {sender}\r\nTo: {MAILBOX}\r\nSubject: fiche\r\nMessage-ID: {make_msgid()}\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary={param}\r\n\r\n"
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour\r\n"
            f"--{boundary}\r\nContent-Type: application/pdf; name=\"{filename}\"\r\n"
            f"Content-Disposition: attachment; filename=\"{filename}\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" + body + f"--{boundary}--\r\n").encode()
