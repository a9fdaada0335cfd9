"""Attachment extraction (``pipeline.intake.mail``): every way a form arrives in a message, and sender matching."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from pipeline.intake.mail import (
    AttachmentStatus,
    SenderStatus,
    extract_attachments,
    is_automatic,
    match_sender,
    message_identity,
    parse_message,
    sender_address,
    sender_reasons,
    too_many_attachments,
)
from pipeline.settings import MailSettings
from schemas.directory import Directory
from schemas.document import MediaType
from tests.support import mail_builders as b

MAIL = MailSettings()


def _extract(msg: EmailMessage | bytes) -> list:
    raw = msg if isinstance(msg, bytes) else msg.as_bytes()
    return extract_attachments(parse_message(raw), MAIL)


def _documents(msg: EmailMessage | bytes) -> list:
    return [c for c in _extract(msg) if c.status is AttachmentStatus.DOCUMENT]


@pytest.mark.parametrize(("name", "ctype", "media_type"), [
    ("text_pdf-0000.pdf", "application/pdf", MediaType.PDF),
    ("scan_300_grey_jpeg-0000-p1.jpg", "image/jpeg", MediaType.JPEG),
    ("scan_200_bw_png-0000-p1.png", "image/png", MediaType.PNG),
    ("scan_300_bw_tiff-0000.tif", "image/tiff", MediaType.TIFF),
])
def test_a_plain_attachment_of_each_kind_is_a_document(name: str, ctype: str, media_type: MediaType) -> None:
    data = b.sample(name)
    [doc] = _documents(b.attach(b.message(), data, ctype, name))
    assert (doc.filename, doc.media_type, doc.size_bytes, doc.data) == (name, media_type, len(data), data)
    assert doc.nesting == 0


def test_multi_page_tiff_and_heic_are_documents() -> None:
    heic = b.heic_from(b.sample("scan_300_grey_jpeg-0000-p1.jpg"))
    msg = b.attach(b.message(), heic, "image/heic", "IMG_0042.HEIC")
    b.attach(msg, b.sample("scan_300_bw_tiff-0000.tif"), "image/tiff", "scan.tif")
    heic_doc, tiff_doc = _documents(msg)
    assert heic_doc.media_type is MediaType.HEIC and heic_doc.width_px == 1241
    assert tiff_doc.media_type is MediaType.TIFF


def test_octet_stream_is_recognised_by_its_content() -> None:
    [doc] = _documents(b.attach(b.message(), b.sample("text_pdf-0000.pdf"), "application/octet-stream", "fiche"))
    assert doc.media_type is MediaType.PDF and doc.declared_type == "application/octet-stream"


def test_inline_parts_and_parts_without_disposition_are_found() -> None:
    msg = b.message()
    b.attach(msg, b.sample("scan_300_grey_jpeg-0000-p1.jpg"), "image/jpeg", "page1.jpg", disposition="inline")
    raw = msg.as_bytes().replace(b"Content-Disposition: inline", b"X-Was-Disposition: inline")
    [doc] = _documents(raw)
    assert doc.media_type is MediaType.JPEG and doc.filename == "piece-jointe-1.jpg"  # its name was in the header


def test_a_part_without_any_name_gets_one_from_its_type() -> None:
    msg = b.attach(b.message(), b.sample("text_pdf-0000.pdf"), "application/pdf", None)
    [doc] = _documents(msg)
    assert doc.filename == "piece-jointe-1.pdf"


@pytest.mark.parametrize("param", [
    "filename*=UTF-8''Fiche%20d%27orientation%20%E2%80%93%20%C3%89l%C3%A8ve%20n%C2%B03.pdf",
    "filename*0*=UTF-8''Fiche%20d%27orientation%20%E2%80%93%20; filename*1*=%C3%89l%C3%A8ve%20n%C2%B03.pdf",
    "filename*=ISO-8859-1''Fiche%20d%27orientation%20%E2%80%93%20%C9l%E8ve%20n%B03.pdf",
])
def test_rfc2231_filename_with_accents_and_apostrophe(param: str) -> None:
    raw = b.raw_with_filename_param(b.sample("text_pdf-0000.pdf"), param)
    [doc] = _documents(raw)
    expected = "Fiche d'orientation – Élève n°3.pdf"
    if "ISO" in param:  # a dash has no Latin-1 code: its UTF-8 bytes read as Latin-1 controls, made safe
        expected = expected.replace("–", "â__")
    assert doc.filename == expected


def test_encoded_word_filename_inside_quotes() -> None:
    [doc] = _documents(b.raw_with_encoded_word_filename(b.sample("text_pdf-0000.pdf")))
    assert doc.filename == "Fiche d'orientation élève.pdf" and doc.media_type is MediaType.PDF


def test_filenames_are_safe_path_components_and_unique_in_the_message() -> None:
    pdf = b.sample("text_pdf-0000.pdf")
    msg = b.attach(b.message(), pdf, "application/pdf", "../../etc/fiche.pdf")
    b.attach(msg, b.sample("fillable-0000.pdf"), "application/pdf", "../../etc/fiche.pdf")
    names = [d.filename for d in _documents(msg)]
    assert names == ["_.._etc_fiche.pdf", "_.._etc_fiche (2).pdf"]


@pytest.mark.parametrize("depth", [1, 3])
def test_forwarded_messages_at_any_depth(depth: int) -> None:
    inner = b.attach(b.message("Fiche"), b.sample("text_pdf-0000.pdf"), "application/pdf", "fiche.pdf")
    [doc] = _documents(b.forwarded(inner, times=depth))
    assert doc.nesting == depth and doc.media_type is MediaType.PDF


def test_a_forward_nested_beyond_the_limit_is_rejected_not_lost() -> None:
    inner = b.attach(b.message("Fiche"), b.sample("text_pdf-0000.pdf"), "application/pdf", "fiche.pdf")
    [rejected] = _extract(b.forwarded(inner, times=MAIL.max_nesting + 1))
    assert rejected.status is AttachmentStatus.REJECTED and rejected.reason_code == "forward_too_deep"


def test_an_attached_eml_is_opened() -> None:
    inner = b.attach(b.message("Fiche"), b.sample("text_pdf-0000.pdf"), "application/pdf", "fiche.pdf")
    msg = b.attach(b.message(), inner.as_bytes(), "application/octet-stream", "message transféré.eml")
    [doc] = _documents(msg)
    assert doc.filename == "fiche.pdf" and doc.nesting == 1


def test_a_form_attached_under_a_message_name_is_taken_as_the_form() -> None:
    """An attack of 2026-12-07: a PDF named « fiche-2.eml » was parsed as a message without headers, its bytes
    taken for the message's own text and dropped without a word, the message filed as processed."""
    pdf = b.sample("text_pdf-0000.pdf")
    msg = b.attach(b.message(), b.sample("fillable-0000.pdf"), "application/pdf", "fiche-1.pdf")
    b.attach(msg, pdf, "application/octet-stream", "fiche-2.eml")
    b.attach(msg, b"neither a message nor a form\r\n", "application/octet-stream", "notes.eml")

    documents = _documents(msg)

    assert [(d.filename, d.media_type) for d in documents] == [
        ("fiche-1.pdf", MediaType.PDF), ("fiche-2.eml", MediaType.PDF), ("notes.eml", MediaType.UNKNOWN)]
    assert documents[1].data == pdf and documents[1].nesting == 0


@pytest.mark.parametrize("encoding", ["base64", "quoted-printable"])
def test_a_forward_sent_in_a_transfer_encoding_is_opened_or_rejected(encoding: str) -> None:
    """A forward as ``message/rfc822`` in base64 (some gateways, Outlook for Mac; RFC 2046 forbids it): the standard
    library keeps its text undecoded, and the form inside was dropped (an attack, 2026-12-07)."""
    import base64
    import quopri

    pdf = b.sample("text_pdf-0000.pdf")
    inner = b.attach(b.message("Fiche"), pdf, "application/pdf", "fiche-3.pdf").as_bytes()
    body = base64.encodebytes(inner) if encoding == "base64" else quopri.encodestring(inner)
    outer = b.message("TR: Fiche").as_bytes().replace(b"\n", b"\r\n")
    head, text = outer.split(b"\r\n\r\n", 1)
    raw = (head.replace(b"Content-Type: text/plain", b"Content-Type: multipart/mixed; boundary=\"BB\"")
           .replace(b"Content-Transfer-Encoding: 7bit\r\n", b"")
           + b"\r\n\r\n--BB\r\nContent-Type: text/plain\r\n\r\n" + text
           + b"\r\n--BB\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"TR.eml\"\r\n"
           + f"Content-Transfer-Encoding: {encoding}\r\n\r\n".encode() + body.replace(b"\n", b"\r\n")
           + b"\r\n--BB--\r\n")

    found = _extract(raw)

    if encoding == "base64":
        [doc] = found
        assert (doc.filename, doc.media_type, doc.nesting, doc.data) == ("fiche-3.pdf", MediaType.PDF, 1, pdf)
    else:  # the parser reads the encoded text's first lines as headers and loses the rest: rejected, never lost
        [rejected] = found
        assert (rejected.status, rejected.reason_code) == (AttachmentStatus.REJECTED, "forward_unreadable")


def test_winmail_dat_is_opened() -> None:
    pdf = b.sample("text_pdf-0000.pdf")
    tnef = b.winmail_dat({"fiche-outlook.pdf": pdf, "logo.png": b.logo_png()})
    msg = b.attach(b.message(), tnef, "application/ms-tnef", "winmail.dat")
    parts = _extract(msg)
    assert [(p.filename, p.status) for p in parts] == [("fiche-outlook.pdf", AttachmentStatus.DOCUMENT),
                                                       ("logo.png", AttachmentStatus.DECORATION)]
    assert parts[0].data == pdf and parts[0].part_path.endswith(".tnef1")


def test_a_broken_winmail_dat_is_rejected_with_a_french_reason() -> None:
    msg = b.attach(b.message(), b"\x78\x9f\x3e\x22\x01\x00garbage", "application/ms-tnef", "winmail.dat")
    b.attach(msg, b"\x78\x9f\x3e\x22\x01\x00" + b"\x02\x02\x90\x06\x00\xff\xff\xff\x7f" + b"x" * 20,
             "application/ms-tnef", "winmail.dat")
    parts = _extract(msg)
    assert [p.status for p in parts] == [AttachmentStatus.REJECTED] * 2  # unreadable, then a file without data
    part = parts[0]
    assert part.status is AttachmentStatus.REJECTED and part.reason_code == "winmail_unreadable"
    assert "winmail.dat" in (part.reason_fr or "")


def test_signature_logos_and_tiny_images_are_decoration() -> None:
    msg = b.message(html=True)
    html = msg.get_body(("html",))
    assert html is not None
    html.add_related(b.logo_png(), maintype="image", subtype="png", cid="<logo>", filename="image001.png")
    b.attach(msg, b.logo_png(40), "image/gif", "pixel.gif")
    b.attach(msg, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml", None, disposition="inline")
    b.attach(msg, b.sample("text_pdf-0000.pdf"), "application/pdf", "fiche.pdf")
    parts = _extract(msg)
    statuses = [(p.filename, p.status, p.reason_code) for p in parts]
    assert statuses[0] == ("image001.png", AttachmentStatus.DECORATION, "small_image")
    assert statuses[1] == ("pixel.gif", AttachmentStatus.DECORATION, "small_image")
    assert statuses[-1] == ("fiche.pdf", AttachmentStatus.DOCUMENT, None)
    assert sum(p.status is AttachmentStatus.DOCUMENT for p in parts) == 2  # the SVG has no Content-ID: kept


def test_an_smime_signature_is_decoration() -> None:
    msg = b.attach(b.message(), b"0\x82\x01\x00signature", "application/pkcs7-signature", "smime.p7s")
    [part] = _extract(msg)
    assert part.status is AttachmentStatus.DECORATION and part.reason_code == "email_signature"


@pytest.mark.parametrize(("data", "ctype", "name", "label"), [
    (b.zip_of({"fiche.pdf": b.sample("text_pdf-0000.pdf")}), "application/zip", "fiches.zip", "Archive ZIP"),
    (b.word_file(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "fiche.docx",
     "Document Word"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "application/msword", "fiche.doc", "Document Office"),
])
def test_archives_and_office_files_are_rejected_with_a_french_reason(data: bytes, ctype: str, name: str,
                                                                     label: str) -> None:
    """A zip storing a PDF uncompressed has "%PDF-" in its first 1 KiB: it must not pass for a PDF."""
    [part] = _extract(b.attach(b.message(), data, ctype, name))
    assert part.status is AttachmentStatus.REJECTED and part.reason_code == "unsupported_media_type"
    assert (part.reason_fr or "").startswith(label) and part.filename == name


def test_a_protected_pdf_is_a_document_for_the_read_stage_to_quarantine() -> None:
    data = b.protected_pdf(b.sample("text_pdf-0000.pdf"))
    [doc] = _documents(b.attach(b.message(), data, "application/pdf", "fiche-protegee.pdf"))
    assert doc.media_type is MediaType.PDF and doc.data == data


def test_empty_and_undecodable_parts_are_rejected() -> None:
    msg = b.attach(b.message(), b"", "application/pdf", "vide.pdf")
    raw = msg.as_bytes()
    [part] = _extract(raw)
    assert part.status is AttachmentStatus.REJECTED and part.reason_code == "attachment_empty"
    broken = (b"From: a@b.example\r\nMessage-ID: <x@y>\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: application/pdf; name=a.pdf\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\nJVBER\r\n--zz--\r\n")
    [part] = _extract(broken)
    assert part.status is AttachmentStatus.REJECTED and part.reason_code == "attachment_undecodable"


def test_too_many_attachments() -> None:
    msg = b.message()
    for i in range(MAIL.max_attachments + 1):
        b.attach(msg, b"%PDF-1.4 " + bytes([i]), "application/pdf", f"f{i}.pdf")
    reason = too_many_attachments(_extract(msg), MAIL)
    assert reason is not None and str(MAIL.max_attachments + 1) in reason


def test_message_identity_and_sender() -> None:
    msg = b.message()
    msg.replace_header("Message-ID", "<abc.123@ecole.example>")
    assert message_identity(msg, "f" * 64) == "abc.123@ecole.example"
    del msg["Message-ID"]
    assert message_identity(msg, "f" * 64) == "sha256:" + "f" * 64
    assert sender_address(msg) == b.SCHOOL_SENDER


def test_senders_are_matched_by_address_then_by_own_domain(directory: Directory) -> None:
    assert match_sender(b.SCHOOL_SENDER.upper(), directory).school_ids == ("ee-jules-ferry",)
    assert match_sender(b.COLLEGE_SENDER, directory).school_ids == ("clg-claude-monet",)
    # The academy's shared domain identifies no school, only its listed addresses do.
    assert match_sender("someone@ac-versailles.example", directory).status is SenderStatus.UNKNOWN
    assert match_sender("ce.0950101a@ac-versailles.example", directory).school_ids == ("ee-jules-ferry",)


def test_sender_reasons(directory: Directory) -> None:
    ferry = match_sender(b.SCHOOL_SENDER, directory)
    unknown = match_sender(b.UNKNOWN_SENDER, directory)
    assert sender_reasons("ee-jules-ferry", [ferry]) == []
    assert [c for c, _ in sender_reasons("clg-claude-monet", [ferry])] == ["sender_school_mismatch"]
    assert [c for c, _ in sender_reasons("ee-jules-ferry", [ferry, unknown])] == ["sender_unknown"]


# --- Issue 17: one bad item never stops a run ---------------------------------------------------

def test_an_attachment_name_in_broken_utf16_sections_is_rejected_with_its_reason_not_raised() -> None:
    # RFC 2231 continuations in UTF-16 with a truncated code unit: the stdlib parser raises UnicodeDecodeError
    # when the header is read; it aborted the whole mailbox run.
    raw = b.raw_with_utf16_continued_name(b.sample("text_pdf-0000.pdf"))
    [part] = _extract(raw)
    assert part.status is AttachmentStatus.REJECTED
    assert part.reason_code == "attachment_name_undecodable"
    assert part.reason_fr is not None and "Nom de la pièce jointe illisible" in part.reason_fr
    assert part.media_type is MediaType.PDF and part.data == b.sample("text_pdf-0000.pdf")


@pytest.mark.parametrize("boundary", ["l'ecole", "=_Part'1", "abc'def'ghi"])
@pytest.mark.parametrize("quoted", [True, False])
def test_a_boundary_holding_an_apostrophe_still_separates_the_parts(boundary: str, quoted: bool) -> None:
    data = b.sample("text_pdf-0000.pdf")
    [doc] = _documents(b.raw_with_boundary(data, boundary, quoted=quoted))
    assert (doc.filename, doc.media_type, doc.data) == ("fiche.pdf", MediaType.PDF, data)


def test_an_attachment_name_over_255_bytes_is_cut_in_bytes_keeping_its_extension() -> None:
    name = "報告書" * 34 + "表" + "e\u0301.pdf"  # 103 CJK characters + a decomposed é: 104 characters, 314 bytes
    assert len(name) < 180 < len(name.encode())
    msg = b.attach(b.message(), b.sample("text_pdf-0000.pdf"), "application/pdf", name)
    b.attach(msg, b.sample("not_the_form-0000.pdf"), "application/pdf", name)  # same name: made unique, still cut
    first, second = _documents(msg)
    for doc in (first, second):
        assert len(doc.filename.encode()) <= 255 and doc.filename.endswith(".pdf")
        assert doc.filename.startswith("報告書報告書")
    assert first.filename != second.filename and "(2)" in second.filename


@pytest.mark.parametrize(("header", "value"), [
    ("Auto-Submitted", "auto-replied"), ("Precedence", "bulk"), ("Precedence", "auto_reply"),
    ("X-Autoreply", "yes"), ("X-Autorespond", "Absent du bureau"), ("List-Id", "<parents.ecole.example>"),
])
def test_automatic_messages_are_told_apart(header: str, value: str) -> None:
    """RFC 3834 §2: never answer a machine; a school's vacation responder said so only by ``Precedence`` or
    ``X-Autoreply`` and was acknowledged (an attack, 2026-12-07)."""
    msg = b.message("Absence")
    assert not is_automatic(msg)
    msg[header] = value
    assert is_automatic(msg)


def test_a_school_asking_exchange_not_to_send_reports_is_still_answered() -> None:
    """A review of 2026-12-07: ``X-Auto-Response-Suppress`` is a sender's request, not a responder's mark."""
    msg = b.message("Fiches")
    msg["X-Auto-Response-Suppress"] = "DR, NDR"
    assert not is_automatic(msg)


def test_a_delivery_report_is_automatic() -> None:
    report = parse_message(b"From: robot@ecoles-argenteuil.example\r\nMIME-Version: 1.0\r\n"
                           b"Content-Type: multipart/report; report-type=delivery-status; boundary=R\r\n\r\n"
                           b"--R\r\nContent-Type: text/plain\r\n\r\nNon remis.\r\n--R--\r\n")
    assert is_automatic(report)


def test_a_form_under_outlooks_container_name_is_taken_as_the_form() -> None:
    """An attack of 2026-12-07: a PDF named « winmail.dat » was rejected as an unreadable Outlook container."""
    pdf = b.sample("text_pdf-0000.pdf")
    [doc] = _documents(b.attach(b.message(), pdf, "application/ms-tnef", "winmail.dat"))
    assert (doc.media_type, doc.data) == (MediaType.PDF, pdf)
