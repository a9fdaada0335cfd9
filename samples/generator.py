"""Seeded generator of invented referral forms, in every kind the city receives.

Each generated file gets a ground-truth JSON beside it (``name.pdf`` + ``name.json``)
holding the values written on the form and the outcome the product must reach.
People are invented with Faker ``fr_FR``; schools come from the directory. The kinds
made are named in ``samples.kinds``; scanning and encoding pages is ``samples.scanner``'s.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from faker import Faker
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

from pipeline.form.definition import (
    CLASS_LEVELS,
    CRITERIA_FIELDS,
    CRITERIA_GROUPS,
    RELATIONSHIPS,
    VALUE_FONT_SIZE_PT,
    FieldKind,
    form_v1,
)
from pipeline.form.fonts import BOLD_FONT, VALUE_FONT, form_font, register_form_fonts
from pipeline.form.render import Rendering, render_form
from samples.kinds import COPY_KINDS, HANDWRITTEN_KINDS, IMAGE_KINDS, SCAN_KINDS, V2_KINDS, SampleKind
from schemas.directory import Directory
from schemas.extraction import FormValues, RawValue


@dataclass(frozen=True)
class SchoolChoice:
    """A school the generator may write on a form.

    Attributes:
        written_names: Ways a teacher writes its name (official name first).
        levels: Class level codes the school teaches.
    """

    written_names: tuple[str, ...]
    levels: tuple[str, ...]


OBSERVATIONS = (
    "Élève volontaire mais très dispersé en classe.",
    "Besoin d'un cadre calme pour faire ses devoirs.",
    "Progrès en lecture depuis la rentrée, à encourager.",
    "Arrivé en France cette année, comprend bien l'oral.",
    "Manque souvent ses affaires, peu d'aide à la maison.",
    "Très bonne participation orale, écrit fragile.",
    None,
)
LANGUAGES = ("Français", "Français, arabe", "Turc", "Tamoul, français", "Portugais", "Arabe", "Français, wolof",
             "Roumain", "Français, lingala")
SUPPORTS = ("APC", "RASED", "PPRE", "PRE")
OTHER_CRITERIA = ("Absences fréquentes le matin", "Changement d'école en cours d'année", "Fratrie nombreuse")


def _school_year_start(school_year: str) -> int:
    return int(school_year[:4])


def _birth_date(rng: random.Random, level: str, school_year: str) -> date:
    """A birth date typical for ``level``: CP pupils turn 6 in the school year's first calendar year."""
    index = [code for code, _ in CLASS_LEVELS].index(level)
    year = _school_year_start(school_year) - 6 - index
    return date(year, 1, 1) + timedelta(days=rng.randrange(365))


def _fits(text: str, name: str) -> bool:
    """Whether ``text`` fits field ``name``'s zone at the value font (no silent truncation)."""
    from reportlab.pdfbase import pdfmetrics

    form_font(VALUE_FONT)
    rect = form_v1().field(name).rect
    return pdfmetrics.stringWidth(text, VALUE_FONT, VALUE_FONT_SIZE_PT) <= rect.width - 8


def _fake_phone(rng: random.Random) -> str:
    """A French mobile number that libphonenumber accepts (07 numbers start 073-079)."""
    import phonenumbers

    while True:
        number = rng.choice(("06", "07")) + "".join(str(rng.randrange(10)) for _ in range(8))
        if phonenumbers.is_valid_number(phonenumbers.parse(number, "FR")):
            return number


def _ascii_local(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch == "-")


def invent_form_values(rng: random.Random, schools: Sequence[SchoolChoice],
                       school_year: str = "2026-2027") -> FormValues:
    """Invent one complete, valid set of values for the form.

    Args:
        rng: Seeded random source; the same seed gives the same form.
        schools: Schools to pick from (a name as a teacher might write it, and levels).
        school_year: ``AAAA-AAAA``.

    Returns:
        Field name → raw value for every field of the form (shape of
        :data:`schemas.extraction.FormValues`).
    """
    fake = Faker("fr_FR")
    fake.seed_instance(rng.randrange(2**32))
    start = _school_year_start(school_year)
    school = rng.choice(list(schools))
    level = rng.choice(list(school.levels))
    # Referrals are written between mid-September and mid-November: early enough that
    # the committed samples are never dated in the future of a demo run.
    referral_day = date(start, 9, 14) + timedelta(days=rng.randrange(60))
    surname, first = _pupil_name(fake)
    address = _pupil_address(fake)
    teacher = fake.last_name()
    values = _blank_values()
    values.update(_ticked_criteria(rng))
    g1_surname = surname if rng.random() < 0.8 else fake.last_name().upper()
    g1_first = fake.first_name_female() if rng.random() < 0.6 else fake.first_name_male()
    values.update({
        "school_year": school_year,
        "referral_date": referral_day.strftime("%d/%m/%Y"),
        "referrer_role": [rng.choices(["enseignant", "autre_pro", "famille"], [8, 2, 1])[0]],
        "pupil_surname": surname,
        "pupil_first_name": first,
        "pupil_birth_date": _birth_date(rng, level, school_year).strftime("%d/%m/%Y"),
        "pupil_sex": rng.choice([["F"], ["M"], []]),
        "pupil_address": address,
        "pupil_postcode": "95100",
        "pupil_town": "Argenteuil",
        "school_name": rng.choice(school.written_names),
        "class_level": [level],
        "class_name": f"{dict(CLASS_LEVELS)[level]} {rng.choice('ABC')} - {rng.choice(['Mme', 'M.'])} {teacher}",
        "referrer_email": f"{_ascii_local(first[0])}.{_ascii_local(teacher)}@ac-versailles.fr",
        "existing_support": rng.choice([["aucun"], [rng.choice(SUPPORTS)], ["APC", "PPRE"], []]),
        "observations": rng.choice(OBSERVATIONS),
        "p2_pupil_surname": surname,
        "p2_pupil_first_name": first,
        "guardian1_surname": g1_surname,
        "guardian1_first_name": g1_first,
        "guardian1_relationship": [rng.choice([code for code, _ in RELATIONSHIPS])],
        "guardian1_phone": _fake_phone(rng),
        "guardian1_email": (f"{_ascii_local(g1_first)}.{_ascii_local(g1_surname)}@"
                            f"{rng.choice(['gmail.com', 'orange.fr', 'free.fr'])}" if rng.random() < 0.7 else None),
        "home_languages": rng.choice(LANGUAGES),
        "interpreter_needed": [rng.choice(["oui", "non", "non", "non"])],
        "agreement_orientation": True,
        "agreement_data_sharing": True,
        "family_date": (referral_day + timedelta(days=rng.randint(1, 10))).strftime("%d/%m/%Y"),
        "family_signature": True,
        "referrer_name": f"{rng.choice(['Mme', 'M.'])} {teacher}, {rng.choice(['enseignant(e)', 'directeur(trice)'])}",
        "referrer_date": referral_day.strftime("%d/%m/%Y"),
        "referrer_signature": True,
    })
    values.update(_second_guardian(rng, fake, g1_surname))
    return values


def _pupil_name(fake: Faker) -> tuple[str, str]:
    """A pupil's surname, in capitals as teachers write it, and first name, drawn until both fit their zones."""
    while True:
        surname, first = fake.last_name().upper(), fake.first_name()
        if _fits(surname, "pupil_surname") and _fits(first, "pupil_first_name"):
            return surname, first


def _pupil_address(fake: Faker) -> str:
    """A street address on one line, drawn until it fits the address zone."""
    while True:
        address = fake.street_address().replace("\n", " ")
        if _fits(address, "pupil_address"):
            return address


def _blank_values() -> FormValues:
    """Every field of the form left blank: no box ticked, no flag or signature, no text."""
    return {f.name: ([] if f.kind is FieldKind.CHOICE else
                     False if f.kind in (FieldKind.FLAG, FieldKind.SIGNATURE) else None)
            for f in form_v1().fields}


def _ticked_criteria(rng: random.Random) -> FormValues:
    """One to four referral criteria ticked among all groups' and, one form in five, "other" with its text.

    Returns:
        A value for every criteria field, and ``criteria_other`` and its text when ticked.
    """
    criteria_pool = [(fname, code) for fname, (_, opts) in zip(CRITERIA_FIELDS, CRITERIA_GROUPS, strict=True)
                     for code, _ in opts]
    chosen = set(rng.sample(criteria_pool, rng.randint(1, 4)))
    values: FormValues = {fname: [code for code, _ in opts if (fname, code) in chosen]
                          for fname, (_, opts) in zip(CRITERIA_FIELDS, CRITERIA_GROUPS, strict=True)}
    if rng.random() < 0.2:
        values["criteria_other"] = True
        values["criteria_other_text"] = rng.choice(OTHER_CRITERIA)
    return values


def _second_guardian(rng: random.Random, fake: Faker, surname: str) -> FormValues:
    """The optional second guardian, on two forms in five: a father with the first guardian's surname.

    Returns:
        The second guardian's fields, or nothing (they stay blank).
    """
    if rng.random() >= 0.4:
        return {}
    return {
        "guardian2_surname": surname,
        "guardian2_first_name": fake.first_name_male(),
        "guardian2_relationship": ["pere"],
        "guardian2_phone": _fake_phone(rng),
    }


# --- Writing documents -------------------------------------------------------------

CHECKBOX_ON_STATES = ("/Yes", "/On", "/1")
"""Export values seen on check boxes of fillable PDFs in the wild (the issue lists them)."""


def write_fillable(values: FormValues, form_id: str, rng: random.Random) -> bytes:
    """A filled fillable PDF whose check boxes use a randomly chosen on-state name."""
    buf = io.BytesIO()
    render_form(buf, form_id, Rendering.FILLABLE, values)
    on_state = NameObject(rng.choice(CHECKBOX_ON_STATES))
    if on_state == "/Yes":
        return buf.getvalue()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buf.getvalue())))
    for page in writer.pages:
        for annot_ref in page.get("/Annots", []):
            annot = annot_ref.get_object()
            ap = annot.get("/AP")
            if annot.get("/FT") != "/Btn" or ap is None:
                continue
            for key in ("/N", "/D"):
                states = ap.get(key)
                if states is not None and "/Yes" in states:
                    states[on_state] = states.pop("/Yes")
            for key in ("/V", "/AS"):
                if annot.get(key) == "/Yes":
                    annot[NameObject(key)] = on_state
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write_text_pdf(values: FormValues, form_id: str, seed: int, pages: Sequence[int] = (1, 2)) -> bytes:
    """The filled form "printed to PDF": values in the text layer, no AcroForm."""
    buf = io.BytesIO()
    render_form(buf, form_id, Rendering.FILLED, values, signature_seed=seed)
    if tuple(pages) == (1, 2):
        return buf.getvalue()
    writer = PdfWriter()
    reader = PdfReader(io.BytesIO(buf.getvalue()))
    for p in pages:
        writer.add_page(reader.pages[p - 1])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write_not_the_form(seed: int) -> bytes:
    """A one-page PDF that is not the form (a school newsletter), in the form's embedded font."""
    from reportlab.pdfgen.canvas import Canvas

    register_form_fonts()
    buf = io.BytesIO()
    c = Canvas(buf, invariant=1, initialFontName=VALUE_FONT)
    c.setFont(BOLD_FONT, 16)
    c.drawString(72, 760, "Lettre d'information de l'école")
    c.setFont(VALUE_FONT, 11)
    rng = random.Random(seed)
    for i, line in enumerate(rng.sample([
        "La kermesse aura lieu le samedi 13 juin.", "Pensez à marquer les vêtements de vos enfants.",
        "La photo de classe est prévue le 2 octobre.", "Le conseil d'école se réunira en novembre.",
        "Merci de rendre les autorisations de sortie signées."], 4)):
        c.drawString(72, 720 - 20 * i, line)
    c.showPage()
    c.save()
    return buf.getvalue()



def schools_from_directory(directory: Directory) -> list[SchoolChoice]:
    """Schools as teachers write them: official name, then the directory's aliases."""
    return [SchoolChoice((s.name, *s.aliases), tuple(str(level) for level in s.levels)) for s in directory.schools]


UNKNOWN_SCHOOLS = ("École élémentaire des Tilleuls de Bezons", "Collège Pierre Brossolette de Nanterre")


@dataclass(frozen=True)
class GeneratedDocument:
    """One generated file and its ground truth.

    Attributes:
        name: File name (e.g. ``scan_300_grey_jpeg-0003.jpg``).
        data: The file's bytes.
        truth: Ground truth: kind, form serial, values written, expected outcome and reason codes.
    """

    name: str
    data: bytes
    truth: dict[str, object]


_SCAN_SPECS: dict[SampleKind, tuple[int, str, str]] = {
    SampleKind.SCAN_300_GREY_JPEG: (300, "grey", "JPEG"),
    SampleKind.SCAN_200_BW_PNG: (200, "bw", "PNG"),
    SampleKind.SCAN_300_BW_TIFF: (300, "bw", "TIFF"),
    SampleKind.SCAN_200_GREY_PDF: (200, "grey", "PDF"),
}


def _scan_documents(kind: SampleKind, values: FormValues, form_id: str, rng: random.Random,
                    pages: Sequence[int] = (1, 2)) -> list[tuple[str, bytes]]:
    """Scan a filled form; single-image formats give one file per page (``-p1``, ``-p2``)."""
    from samples.scanner import image_bytes, random_scan, render_filled_pdf

    dpi, mode, fmt = _SCAN_SPECS[kind]
    pdf = render_filled_pdf(values, form_id, signature_seed=rng.randint(0, 10_000))
    images = [random_scan(values, form_id, p, rng, dpi=dpi, mode=mode, pdf=pdf) for p in pages]  # type: ignore[arg-type]
    if mode == "bw":
        images = [im.convert("1") for im in images]
    ext = {"JPEG": "jpg", "PNG": "png", "TIFF": "tif", "PDF": "pdf"}[fmt]
    if fmt in ("TIFF", "PDF"):
        return [(ext, image_bytes(images, fmt, dpi))]
    quality = rng.randint(55, 70) if fmt == "JPEG" else None  # office scanners default to medium quality
    return [(f"p{p}.{ext}", image_bytes([im], fmt, dpi, quality)) for p, im in zip(pages, images, strict=True)]


EXIF_ORIENTATION_TURNS = {1: 0, 6: 3, 3: 2, 8: 1}
"""EXIF Orientation tag → quarter turns counter-clockwise a viewer applies to show the image upright
(6 means "turn 90° clockwise to display": a portrait sheet shot with the phone held sideways)."""

HEIC_ENCODER_PARAMS = {"preset": "ultrafast"}
"""x265 settings of a generated HEIC photo (``pillow_heif``'s ``enc_params``). A phone encodes its photos in its
HEVC hardware, in a few milliseconds, not with libheif's default ``slow`` software preset, which took 14.4 s of the
18.1 s that generating one HEIC phone photo took on a 2-core machine (2026-12-07, ``photo_heic`` form 3 of seed
2026, page 1; ``ultrafast``: 2.4 s, the whole photo 5.9 s), and was the largest cost of the tests that read such
photos. The quality drawn (60-80) still sets how coarse the compression is."""


def _hard_documents(kind: SampleKind, values: FormValues, form_id: str, rng: random.Random,
                    pages: Sequence[int] = (1, 2)) -> tuple[list[tuple[str, bytes]], dict[str, object]]:
    """Files of one form of a hard kind, and what was done to each page (for the ground truth)."""
    from samples.scanner import image_bytes, random_photo, render_filled_pdf, rotate_quarter_turns, simulate_scan

    files: list[tuple[str, bytes]] = []
    conditions: dict[str, object] = {}
    if kind is SampleKind.SCAN_HAND_MARKS:
        return _hand_marked_documents(values, form_id, rng, pages)
    if kind in COPY_KINDS:
        from samples.copies import copy_documents

        return copy_documents(kind, values, form_id, rng, pages)
    if kind in (*HANDWRITTEN_KINDS, *V2_KINDS):
        from samples.handwriting import handwritten_documents

        return handwritten_documents(kind, values, form_id, rng, pages)
    pdf = render_filled_pdf(values, form_id, signature_seed=rng.randint(0, 10_000))
    if kind in (SampleKind.SCAN_TURNED, SampleKind.SCAN_FIT_TO_PAGE):
        turned = kind is SampleKind.SCAN_TURNED
        dpi = 300 if turned else 200
        images = []
        for p in pages:
            turns = rng.randint(0, 3) if turned else rng.choice((0, 2))
            skew = rng.uniform(-10, 10) if turned else rng.uniform(-3, 3)
            scan = simulate_scan(pdf, dpi, page=p, skew_deg=skew, offset_pt=(rng.uniform(-4, 4), rng.uniform(-4, 4)),
                                 noise=rng.uniform(0.01, 0.04), blur_px=rng.uniform(0.3, 0.8) * dpi / 300,
                                 jpeg_quality=None, fit_to_page=1.0 if turned else 0.94, expand=turned, rng=rng)
            images.append(rotate_quarter_turns(scan, turns))
            conditions[f"p{p}"] = {"quarter_turns": turns, "skew_deg": round(skew, 2)}
        if turned:
            return [(f"p{p}.jpg", image_bytes([im], "JPEG", dpi, rng.randint(70, 90)))
                    for p, im in zip(pages, images, strict=True)], conditions
        return [("pdf", image_bytes(images, "PDF", dpi))], conditions
    for p in pages:
        photo = random_photo(values, form_id, p, rng, pdf=pdf)
        orientation = rng.choice(tuple(EXIF_ORIENTATION_TURNS))
        # The phone stores the sensor's frame and says in EXIF how to turn it for display.
        stored = rotate_quarter_turns(photo, -EXIF_ORIENTATION_TURNS[orientation])
        exif = Image.Exif()
        exif[0x0112] = orientation
        buf = io.BytesIO()
        if kind is SampleKind.PHOTO_HEIC:
            from pillow_heif import register_heif_opener

            register_heif_opener()
            stored.save(buf, format="HEIF", quality=rng.randint(60, 80), exif=exif.tobytes(),
                       enc_params=HEIC_ENCODER_PARAMS)
            ext = "heic"
        else:
            stored.save(buf, format="JPEG", quality=rng.randint(80, 93), exif=exif.tobytes())
            ext = "jpg"
        files.append((f"p{p}.{ext}", buf.getvalue()))
        conditions[f"p{p}"] = {"exif_orientation": orientation}
    return files, conditions


def _hand_marked_documents(values: FormValues, form_id: str, rng: random.Random,
                           pages: Sequence[int]) -> tuple[list[tuple[str, bytes]], dict[str, object]]:
    """Tick boxes marked by hand: crosses, checks, overflowing crosses; some boxes filled to cancel them.

    The form is rendered with no typed tick, then every box the truth ticks gets a ticking mark, and
    one or two boxes of the page the truth leaves empty are filled or crossed then filled (cancelled).
    300 dpi grey, JPEG, one file per page.
    """
    from samples.scanner import (
        MARK_STYLES,
        TICK_STYLES,
        draw_hand_mark,
        image_bytes,
        rasterise_pdf_page,
        render_filled_pdf,
        simulate_scan,
    )

    definition = form_v1()
    unticked: dict[str, RawValue] = {f.name: ([] if f.kind is FieldKind.CHOICE else False)
                                     for f in definition.fields if f.is_tick}
    pdf = render_filled_pdf({**values, **unticked}, form_id, signature_seed=rng.randint(0, 10_000))
    dpi = 300
    files: list[tuple[str, bytes]] = []
    conditions: dict[str, object] = {}
    for p in pages:
        grey = np.asarray(rasterise_pdf_page(pdf, p, dpi)).copy()
        marks: dict[str, str] = {}
        empty = []
        for f in definition.page_fields(p):
            if not f.is_tick:
                continue
            chosen = {"yes"} if values[f.name] is True else set(values[f.name] or [])  # type: ignore[arg-type]
            for b in f.boxes:
                if b.option in chosen:
                    style = rng.choice(TICK_STYLES)
                    draw_hand_mark(grey, b.rect, style, dpi / 72, rng)
                    marks[f"{f.name}.{b.option}"] = style
                else:
                    empty.append((f, b))
        for f, b in rng.sample(empty, min(len(empty), rng.randint(1, 2))):
            style = rng.choice(MARK_STYLES[3:])
            draw_hand_mark(grey, b.rect, style, dpi / 72, rng)
            marks[f"{f.name}.{b.option}"] = style
        scan = simulate_scan(Image.fromarray(grey), dpi, skew_deg=rng.uniform(-3, 3),
                             offset_pt=(rng.uniform(-4, 4), rng.uniform(-4, 4)), noise=rng.uniform(0.01, 0.04),
                             blur_px=rng.uniform(0.3, 0.8), jpeg_quality=None, rng=rng)
        files.append((f"p{p}.jpg", image_bytes([scan], "JPEG", dpi, rng.randint(70, 90))))
        conditions[f"p{p}"] = {"marks": marks}
    return files, conditions


PHOTO_KINDS = (SampleKind.PHOTO_JPEG, SampleKind.PHOTO_HEIC)
"""Kinds written one phone photo per page, each page's random draws after the previous page's."""


def generate_documents(kind: SampleKind, index: int, seed: int, directory: Directory,
                       school_year: str = "2026-2027", first_page_only: bool = False) -> list[GeneratedDocument]:
    """Generate the file(s) of one form of ``kind``, deterministically from ``(seed, kind, index)``.

    A single-image scan (JPEG, PNG) gives one file per page, both with the same
    ground truth: the product assembles them by QR code.

    Args:
        first_page_only: For a kind of :data:`PHOTO_KINDS`, write page 1's photo only: the same bytes as the
            first file of the whole form (page 2 is drawn after it), without page 2's simulation and encoding
            (a HEIC page costs 10-15 s of CPU, issue 19). The truth still describes the whole form; its
            ``conditions`` the page written.

    Returns:
        One or two documents with their ground truth.

    Raises:
        ValueError: ``first_page_only`` for a kind outside :data:`PHOTO_KINDS`.
    """
    if first_page_only and kind not in PHOTO_KINDS:
        raise ValueError(f"first_page_only is for one photo per page, not {kind.value}")
    rng = random.Random(f"{seed}:{kind.value}:{index}")
    form_id = f"FO-{school_year[:4]}-{rng.randrange(10**6):06d}"
    base = f"{kind.value}-{index:04d}"
    values = invent_form_values(rng, schools_from_directory(directory), school_year)
    expected, reasons = "routed", []
    pages: tuple[int, ...] = (1, 2)
    if kind is SampleKind.NOT_THE_FORM:
        return [GeneratedDocument(f"{base}.pdf", write_not_the_form(rng.randrange(10**6)),
                                  {"kind": kind.value, "form_id": None, "values": None,
                                   "expected_outcome": "quarantined", "expected_reasons": ["not_the_form"]})]
    if kind is SampleKind.INVALID_NO_AGREEMENT:
        values["agreement_data_sharing"] = False
        expected, reasons = "review", ["agreement_missing"]
    elif kind is SampleKind.INVALID_NO_CRITERION:
        for name in CRITERIA_FIELDS:
            values[name] = []
        values["criteria_other"], values["criteria_other_text"] = False, None
        expected, reasons = "review", ["no_criterion"]
    elif kind is SampleKind.INVALID_UNKNOWN_SCHOOL:
        values["school_name"] = rng.choice(UNKNOWN_SCHOOLS)
        expected, reasons = "review", ["school_unknown"]
    elif kind is SampleKind.INVALID_TWO_LEVELS:
        level = values["class_level"][0]  # type: ignore[index]
        codes = [code for code, _ in CLASS_LEVELS]
        other = codes[codes.index(level) + 1] if level != codes[-1] else codes[-2]
        values["class_level"] = [code for code in codes if code in (level, other)]
        expected, reasons = "review", ["too_many_choices"]
    elif kind is SampleKind.INVALID_PAGE2_MISSING:
        pages = (1,)
        expected, reasons = "review", ["missing_page"]
    elif kind in HANDWRITTEN_KINDS:
        # Tesseract cannot be trusted on a hand (issue 3): its written names go to a person.
        expected, reasons = "review", ["low_confidence"]
    elif kind in V2_KINDS:
        from samples.handwriting import fits_v2

        # Version 2's combs hold as many letters as they have cells: values drawn until they fit (never cut).
        while not fits_v2(values):
            values = invent_form_values(rng, schools_from_directory(directory), school_year)
        # Street, observations and the class line are still open text on version 2: a person reads them.
        expected, reasons = "review", ["low_confidence"]
    elif kind is SampleKind.SCAN_STAMPED:
        # A zone or box under a stamp or a stray signature goes to a person with its crop (issue 3).
        expected, reasons = "review", ["low_confidence"]
    truth: dict[str, object] = {"kind": kind.value, "form_id": form_id, "values": values, "pages": list(pages),
                                "expected_outcome": expected, "expected_reasons": reasons}
    if kind is SampleKind.FILLABLE:
        form_id = f"FO-{school_year[:4]}-N00001"  # the one fillable PDF every school receives
        truth["form_id"] = form_id
        return [GeneratedDocument(f"{base}.pdf", write_fillable(values, form_id, rng), truth)]
    if kind in IMAGE_KINDS:
        if kind in SCAN_KINDS:
            files = _scan_documents(kind, values, form_id, rng)
        else:
            files, truth["conditions"] = (_hard_documents(kind, values, form_id, rng, pages[:1]) if first_page_only
                                           else _hard_documents(kind, values, form_id, rng))
        return [GeneratedDocument(f"{base}-{suffix}" if "." in suffix and suffix.startswith("p") else
                                  f"{base}.{suffix}", data, truth)
                for suffix, data in files]
    return [GeneratedDocument(f"{base}.pdf", write_text_pdf(values, form_id, rng.randrange(10**6), pages), truth)]


def write_corpus(out_dir: Path, truth_dir: Path, kinds: Sequence[SampleKind], per_kind: int, seed: int,
                 directory: Directory, school_year: str = "2026-2027",
                 progress: Callable[[], None] | None = None) -> list[Path]:
    """Generate ``per_kind`` forms of each kind into ``out_dir``, ground truth into ``truth_dir``.

    Ground truth goes beside the files' names in a separate folder: the inbox is an
    inbox, and a JSON file in it would (rightly) be quarantined as not a form.

    Args:
        progress: Called after each form (``len(kinds) * per_kind`` times), for a progress line.

    Returns:
        The paths written to ``out_dir``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in kinds:
        for i in range(per_kind):
            for doc in generate_documents(kind, i, seed, directory, school_year):
                path = out_dir / doc.name
                path.write_bytes(doc.data)
                (truth_dir / f"{doc.name}.json").write_text(
                    json.dumps(doc.truth, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
                written.append(path)
            if progress:
                progress()
    return written
