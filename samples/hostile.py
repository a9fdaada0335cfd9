"""A corpus of hostile and broken inputs, each with the outcomes the product may reach.

Every file here must end routed, on the waiting list, in review or quarantined with
a French reason; none may crash or hang a run (issue 6). Each case says which
outcomes are acceptable and, for quarantines, which reason codes.

Run ``python -m samples.hostile OUT_DIR`` to write the corpus and its
``expected.json``; ``tests/flows/test_hostile.py`` runs it through the flow.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from pipeline.deciding.directory import load_directory
from pipeline.form.render import Rendering, render_form
from pipeline.settings import Settings
from samples.generator import generate_documents, write_not_the_form
from samples.kinds import SampleKind
from samples.scanner import rasterise_pdf_page

READ = ("routed", "waiting_list", "review")
"""Outcomes of a file that was read as a form (a person may still need to check it)."""


@dataclass(frozen=True)
class HostileCase:
    """One hostile input.

    Attributes:
        name: File name in the corpus (says what it exercises).
        data: The bytes.
        outcomes: Acceptable outcomes.
        reasons: For a quarantine, the acceptable reason codes (empty: any).
        what: One line on what the file exercises.
    """

    name: str
    data: bytes
    outcomes: tuple[str, ...]
    reasons: tuple[str, ...]
    what: str


def _values(seed: int, index: int) -> dict[str, object]:
    directory = load_directory(Settings().directory_file)
    return dict(generate_documents(SampleKind.TEXT_PDF, index, seed, directory)[0].truth["values"])  # type: ignore[call-overload]


def _pdf(values: dict[str, object], serial: str, rendering: Rendering = Rendering.FILLED) -> bytes:
    buf = io.BytesIO()
    render_form(buf, serial, rendering, values)  # type: ignore[arg-type]
    return buf.getvalue()


def _rewrite(data: bytes, change: Callable[[PdfWriter], None]) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _encrypt(data: bytes, user_password: str) -> bytes:
    def change(writer: PdfWriter) -> None:
        writer.encrypt(user_password=user_password, owner_password="proprietaire-ville", algorithm="AES-128")
    return _rewrite(data, change)


def _rotate(data: bytes) -> bytes:
    def change(writer: PdfWriter) -> None:
        for page in writer.pages:
            page.rotate(90)
    return _rewrite(data, change)


def _strip_appearances(data: bytes) -> bytes:
    """Remove every widget's appearance stream and ask viewers to build them (``/NeedAppearances``)."""
    def change(writer: PdfWriter) -> None:
        for page in writer.pages:
            for ref in page.get("/Annots", []):
                annot = ref.get_object()
                for key in ("/AP", "/AS"):
                    if key in annot:
                        del annot[key]
        acro = writer._root_object.get("/AcroForm")  # noqa: SLF001 - pypdf exposes no setter for this flag
        if acro is not None:
            acro.get_object()[NameObject("/NeedAppearances")] = TextStringObject("true")
    return _rewrite(data, change)


def _checkbox_on_state(data: bytes, on_state: str) -> bytes:
    """Rename the check boxes' ``/Yes`` on-state (as some PDF editors write ``/On`` or ``/1``)."""
    state = NameObject(on_state)

    def change(writer: PdfWriter) -> None:
        for page in writer.pages:
            for ref in page.get("/Annots", []):
                annot = ref.get_object()
                ap = annot.get("/AP")
                if annot.get("/FT") != "/Btn":
                    continue
                if ap is not None:
                    for key in ("/N", "/D"):
                        states = ap.get(key)
                        if states is not None and "/Yes" in states:
                            states[state] = states.pop("/Yes")
                for key in ("/V", "/AS"):
                    if annot.get(key) == "/Yes":
                        annot[NameObject(key)] = state
    return _rewrite(data, change)


def _with_javascript(data: bytes) -> bytes:
    """Add document-level JavaScript (a ``/Names /JavaScript`` tree) and a JavaScript ``/OpenAction``."""
    def change(writer: PdfWriter) -> None:
        action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                   NameObject("/JS"): TextStringObject(
                                       "app.alert('bonjour'); this.submitForm('http://exemple.invalid/');")})
        ref = writer._add_object(action)  # noqa: SLF001 - pypdf 7 removed add_js; build the tree by hand
        names = DictionaryObject({NameObject("/JavaScript"): DictionaryObject(
            {NameObject("/Names"): ArrayObject([TextStringObject("ouverture"), ref])})})
        root = writer._root_object  # noqa: SLF001 - raw catalogue entries
        root[NameObject("/Names")] = names
        root[NameObject("/OpenAction")] = DictionaryObject({
            NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.beep(0);")})
    return _rewrite(data, change)


def _page_images(data: bytes, dpi: int) -> list[Image.Image]:
    return [rasterise_pdf_page(data, page, dpi).convert("L") for page in (1, 2)]


def _exif_rotated_jpeg(page: Image.Image) -> bytes:
    """A phone-style JPEG: pixels stored turned a quarter, upright only through the EXIF Orientation tag (6)."""
    stored = page.transpose(Image.Transpose.ROTATE_90)  # counter-clockwise; Orientation 6 turns it back
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    stored.save(out, "JPEG", quality=85, dpi=(300, 300), exif=exif.tobytes())
    return out.getvalue()


def _multipage_tiff(pages: list[Image.Image]) -> bytes:
    out = io.BytesIO()
    bw = [p.point(lambda v: 255 if v > 160 else 0).convert("1") for p in pages]
    bw[0].save(out, "TIFF", save_all=True, append_images=bw[1:], compression="group4", dpi=(300, 300))
    return out.getvalue()


def _huge_png(max_pixels: int) -> bytes:
    """A white PNG just over the pixel limit (tiny on disk: a decompression bomb in miniature)."""
    side = int(max_pixels ** 0.5) + 64
    out = io.BytesIO()
    Image.new("1", (side, side), 1).save(out, "PNG", optimize=True)
    return out.getvalue()


def build_cases(seed: int = 606) -> list[HostileCase]:
    """Build every hostile case (deterministic for a seed; about 10 s, mostly rendering)."""
    settings = Settings()
    cases: list[HostileCase] = []
    text = _pdf(_values(seed, 0), "FO-2026-606001")
    cases.append(HostileCase("encrypted-empty-password.pdf", _encrypt(text, ""), READ, (),
                             "PDF chiffré avec un mot de passe utilisateur vide : lisible"))
    cases.append(HostileCase("encrypted-real-password.pdf", _encrypt(_pdf(_values(seed, 1), "FO-2026-606002"),
                                                                      "motdepasse"),
                             ("quarantined",), ("encrypted_pdf",), "PDF protégé par un vrai mot de passe"))
    other = _pdf(_values(seed, 2), "FO-2026-606003")
    cases.append(HostileCase("truncated-half.pdf", other[: len(other) // 2], ("quarantined",) + READ, (),
                             "PDF coupé à la moitié (envoi interrompu)"))
    cases.append(HostileCase("truncated-header-only.pdf", other[:600], ("quarantined",),
                             ("unreadable_document", "not_the_form"), "PDF réduit à son en-tête"))
    cases.append(HostileCase("broken-garbage.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n",
                             ("quarantined",), ("unreadable_document", "not_the_form"),
                             "en-tête PDF puis octets sans sens"))
    cases.append(HostileCase("empty-file.pdf", b"", ("quarantined",), (), "fichier vide"))
    cases.append(HostileCase("rotated-pages.pdf", _rotate(_pdf(_values(seed, 3), "FO-2026-606004")), READ, (),
                             "pages avec /Rotate 90"))
    fillable = _pdf(_values(seed, 4), "FO-2026-N60605", Rendering.FILLABLE)
    cases.append(HostileCase("fillable-no-appearance.pdf", _strip_appearances(fillable), READ, (),
                             "fiche remplissable dont les champs n'ont pas d'apparence"))
    fillable2 = _pdf(_values(seed, 5), "FO-2026-N60606", Rendering.FILLABLE)
    cases.append(HostileCase("fillable-checkbox-on-state.pdf", _checkbox_on_state(fillable2, "/Coche"), READ, (),
                             "cases à cocher dont l'état coché s'appelle /Coche et non /Yes"))
    scan_values = _values(seed, 6)
    pages = _page_images(_pdf(scan_values, "FO-2026-606007"), 300)
    cases.append(HostileCase("photo-exif-rotated-p1.jpg", _exif_rotated_jpeg(pages[0]), READ, (),
                             "photo JPEG tournée, redressée seulement par l'étiquette EXIF Orientation"))
    cases.append(HostileCase("photo-exif-rotated-p2.jpg", _exif_rotated_jpeg(pages[1]), READ, (),
                             "page 2 de la même fiche, même rotation EXIF"))
    cases.append(HostileCase("multipage.tif", _multipage_tiff(_page_images(_pdf(_values(seed, 7), "FO-2026-606008"),
                                                                            300)),
                             READ, (), "TIFF noir et blanc de deux pages (Group 4)"))
    cases.append(HostileCase("image-over-pixel-limit.png", _huge_png(settings.scan.max_pixels), ("quarantined",),
                             ("image_too_large",), "image au-delà de la limite de pixels"))
    cases.append(HostileCase("many-blank-pages.pdf", _blank_pages(settings.scan.max_pages + 1), ("quarantined",),
                             ("too_many_pages",), "PDF de quelques Ko et de pages blanches, au-delà du nombre lu"))
    cases.append(HostileCase("javascript.pdf", _with_javascript(_pdf(_values(seed, 8), "FO-2026-606009")), READ, (),
                             "PDF avec JavaScript (ouverture et document) : ignoré, jamais exécuté"))
    cases.append(HostileCase("not-the-form.pdf", write_not_the_form(seed), ("quarantined",), ("not_the_form",),
                             "un autre document (lettre d'école)"))
    cases.append(HostileCase("text-named-as.pdf", b"Bonjour, voici la fiche.\n" * 20, ("quarantined",),
                             ("unsupported_media_type",), "texte brut nommé .pdf"))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("fiche.pdf", text)
    cases.append(HostileCase("archive-with-pdf.pdf", archive.getvalue(), ("quarantined",),
                             ("unsupported_media_type",), "archive zip contenant une fiche, nommée .pdf"))
    return cases


def _blank_pages(count: int) -> bytes:
    """A PDF of ``count`` blank A4 pages: a few kilobytes that once held a reading worker for minutes."""
    writer = PdfWriter()
    for _ in range(count):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write_corpus(out_dir: Path, seed: int = 606) -> dict[str, dict[str, object]]:
    """Write the corpus and ``expected.json`` (name → outcomes, reasons, what) under ``out_dir``.

    Returns:
        The expectations written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    expected: dict[str, dict[str, object]] = {}
    for case in build_cases(seed):
        (out_dir / case.name).write_bytes(case.data)
        expected[case.name] = {"outcomes": list(case.outcomes), "reasons": list(case.reasons), "what": case.what}
    (out_dir.parent / f"{out_dir.name}-expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=1), encoding="utf-8")
    return expected


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "samples/hostile")
    print(f"{len(write_corpus(target))} fichier(s) écrit(s) dans {target}")
