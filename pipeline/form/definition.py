"""The geometry of the fiche d'orientation CLAS, versions 1 and 2: the one source of truth.

The same definition draws the blank and fillable forms (``pipeline.form.render``)
and tells every reader where each zone, comb, tick box and signature zone is.

Version 1 (:func:`form_v1`) has dotted lines for names, towns, e-mails and home languages. Version 2
(:func:`form_v2`), made for hand-print, has the same fields and the same values (one schema, one validator), but
surnames, first names, the town and e-mails are capital-letter combs, one letter per cell, and home languages are
ticked choices with « autre : … » (:data:`HOME_LANGUAGES`). The page's QR payload says its version;
:func:`form_definition` gives the definition of a version.

Coordinates are PDF points (1/72 inch) with the origin at the *top-left* corner
of an A4 page and y growing downwards, the convention of pdfplumber
(``x0, top, x1, bottom``) and of raster images. ``pipeline.form.render`` flips
them for ReportLab, whose origin is bottom-left.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

PAGE_WIDTH_PT = 595.28
"""A4 width in PDF points (210 mm)."""
PAGE_HEIGHT_PT = 841.89
"""A4 height in PDF points (297 mm)."""
PAGE_COUNT = 2
FORM_CODE = "CLASFO"
FORM_VERSION = 1
"""The version ``clas-referrals form`` prints by default, and the one readers assume when a page says none."""

ANCHOR_SIZE_PT = 14.0
"""Side of a solid square registration anchor: 14 pt = 4.9 mm (the issue asks about 5 mm)."""
QR_SIZE_PT = 62.0
"""Side of each QR code, quiet zone included (21.9 mm): about 5 px a module at 200 dpi."""
TICK_SIZE_PT = 10.0
"""Side of a tick box: 10 pt = 3.5 mm, the smallest box TeleForm's design guide recommends."""
COMB_CELL_W_PT = 14.0
COMB_CELL_H_PT = 17.0
LETTER_CELL_W_PT = 14.0
"""Width of a capital-letter comb cell (4.9 mm): about the 5 mm cell of French administrative forms (Cerfa)."""
EMAIL_CELL_W_PT = 12.5
"""Width of an e-mail comb cell (4.4 mm): narrower, so that 36 characters fit one line of the page."""
TEXT_ZONE_H_PT = 17.0
VALUE_FONT_SIZE_PT = 10.0
"""Font size used when a value is typed or printed into a zone."""


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle in PDF points, top-left origin.

    Attributes:
        x0: Left edge (pt).
        top: Top edge (pt).
        x1: Right edge (pt).
        bottom: Bottom edge (pt).
    """

    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def width(self) -> float:
        """Width in points."""
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        """Height in points."""
        return self.bottom - self.top

    @property
    def center(self) -> tuple[float, float]:
        """Centre ``(x, y)`` in points."""
        return ((self.x0 + self.x1) / 2, (self.top + self.bottom) / 2)

    def inset(self, d: float) -> Rect:
        """Return the rectangle shrunk by ``d`` points on every side."""
        return Rect(self.x0 + d, self.top + d, self.x1 - d, self.bottom - d)

    def contains(self, x: float, y: float) -> bool:
        """Whether the point ``(x, y)`` (pt) lies inside the rectangle."""
        return self.x0 <= x <= self.x1 and self.top <= y <= self.bottom


class FieldKind(StrEnum):
    """What a field holds, which decides how it is drawn, read and compared."""

    TEXT = "text"
    EMAIL = "email"
    DATE = "date"  # comb of 8 digits, JJ/MM/AAAA
    PHONE = "phone"  # comb of 10 digits
    POSTCODE = "postcode"  # comb of 5 digits
    CHOICE = "choice"  # group of tick boxes, options as codes
    FLAG = "flag"  # a single tick box
    SIGNATURE = "signature"  # ink present or not


DIGIT_COMB_KINDS = (FieldKind.DATE, FieldKind.PHONE, FieldKind.POSTCODE)
"""Kinds written one digit per cell."""


class ChoiceRule(StrEnum):
    """How many boxes of a tick-box group may be ticked."""

    EXACTLY_ONE = "exactly_one"
    AT_MOST_ONE = "at_most_one"
    ANY = "any"


@dataclass(frozen=True)
class TickBox:
    """One square tick box (OMR target).

    Attributes:
        option: Option code stored when ticked (e.g. ``"CM1"``), or ``"yes"`` for a flag.
        label: French label printed to its right.
        rect: The box outline, in points.
    """

    option: str
    label: str
    rect: Rect


@dataclass(frozen=True)
class Field:
    """One field of the form and where it is.

    Attributes:
        name: Stable identifier, also the AcroForm field name (for a choice, the
            check boxes are named ``name.option``).
        label: French label printed beside it.
        kind: What it holds.
        page: 1-based page number.
        rect: Bounding zone in points (for combs and choices, the union of the cells/boxes).
        cells: For combs, one rectangle per character cell, left to right.
        boxes: For choices and flags, the tick boxes.
        rule: For choices, how many boxes may be ticked.
        required: Whether validation requires a value.
    """

    name: str
    label: str
    kind: FieldKind
    page: int
    rect: Rect
    cells: tuple[Rect, ...] = ()
    boxes: tuple[TickBox, ...] = ()
    rule: ChoiceRule = ChoiceRule.ANY
    required: bool = False

    @property
    def is_comb(self) -> bool:
        """Whether the field is a digit comb (date, phone, postcode), read one digit per cell."""
        return bool(self.cells) and self.kind in DIGIT_COMB_KINDS

    @property
    def is_letter_comb(self) -> bool:
        """Whether the field is a capital-letter comb (version 2: names, town, e-mails), one letter per cell.

        It holds text (kind ``TEXT`` or ``EMAIL``) and is read as a line once its printed grid is erased
        (``pipeline.reading.scan.letter_combs``); ``cells`` gives the number of letters it holds.
        """
        return bool(self.cells) and self.kind in (FieldKind.TEXT, FieldKind.EMAIL)

    @property
    def is_tick(self) -> bool:
        """Whether the field is read by OMR on tick boxes."""
        return self.kind in (FieldKind.CHOICE, FieldKind.FLAG)


@dataclass(frozen=True)
class StaticText:
    """Printed text that is not a field (titles, labels, the correction rule)."""

    page: int
    x_pt: float
    baseline_pt: float
    text: str
    size: float = 8.0
    bold: bool = False


@dataclass(frozen=True)
class PageLayout:
    """Fixed marks of a page: anchors and QR codes, in points."""

    anchors: tuple[Rect, ...]
    qr_codes: tuple[Rect, ...]


@dataclass(frozen=True)
class FormDefinition:
    """The whole form: fields, printed text and registration marks.

    Attributes:
        version: Form version, encoded in the QR codes.
        fields: Every field, in reading order.
        texts: Printed titles and labels.
        pages: Registration marks per page (index 0 is page 1).
    """

    version: int
    fields: tuple[Field, ...]
    texts: tuple[StaticText, ...]
    pages: tuple[PageLayout, ...]

    def field(self, name: str) -> Field:
        """Return the field called ``name``.

        Raises:
            KeyError: No field has that name.
        """
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def page_fields(self, page: int) -> tuple[Field, ...]:
        """Fields printed on the 1-based ``page``."""
        return tuple(f for f in self.fields if f.page == page)


# --- QR payload -----------------------------------------------------------------

_QR_RE = re.compile(r"^CLASFO\|v(?P<version>\d+)\|(?P<form_id>[A-Z0-9-]+)\|p(?P<page>\d)/(?P<count>\d)$")


@dataclass(frozen=True)
class PageIdentity:
    """What a QR code (or the printed footer) says about a page.

    Attributes:
        form_id: Serial of the printed copy (``FO-…``), shared by its two pages.
        version: Form version.
        page: 1-based page number.
        page_count: Pages in the form.
    """

    form_id: str
    version: int
    page: int
    page_count: int

    def payload(self) -> str:
        """The QR/footer payload, e.g. ``CLASFO|v1|FO-2026-000123|p1/2``."""
        return f"{FORM_CODE}|v{self.version}|{self.form_id}|p{self.page}/{self.page_count}"

    @classmethod
    def parse(cls, payload: str) -> PageIdentity | None:
        """Parse a payload written by :meth:`payload`; ``None`` if it is not ours."""
        m = _QR_RE.match(payload.strip())
        if not m:
            return None
        return cls(m["form_id"], int(m["version"]), int(m["page"]), int(m["count"]))


def is_shared_serial(form_id: str) -> bool:
    """Whether a serial is shared by many copies (the fillable PDF: ``FO-2026-N00001``).

    Printed copies carry one serial each; the fillable PDF is one file sent to every
    school, so all its copies share a serial ending in ``N…``. Pages of a shared
    serial are assembled within their own file only.
    """
    return form_id.rsplit("-", 1)[-1].startswith("N")


def form_key(form_id: str, document_sha256: str) -> str:
    """The key pages are assembled on: the serial, made unique per file when shared."""
    return f"{form_id}@{document_sha256[:12]}" if is_shared_serial(form_id) else form_id


# --- Layout ---------------------------------------------------------------------

MARGIN_PT = 40.0
LABEL_W_PT = 150.0


class _Builder:
    """Lays fields out top to bottom; keeps the arithmetic in one place."""

    def __init__(self) -> None:
        self.fields: list[Field] = []
        self.texts: list[StaticText] = []
        self.page = 1
        self.y = 0.0

    def new_page(self, page: int, y: float) -> None:
        self.page, self.y = page, y

    def text(self, s: str, x: float | None = None, size: float = 8.0, bold: bool = False, dy: float = 12.0) -> None:
        self.texts.append(StaticText(self.page, MARGIN_PT if x is None else x, self.y + size, s, size, bold))
        self.y += dy

    def section(self, title: str) -> None:
        self.y += 4
        self.text(title, size=10, bold=True, dy=16)

    def line(self, name: str, label: str, kind: FieldKind = FieldKind.TEXT, *, x: float = MARGIN_PT,
             label_w: float = LABEL_W_PT, x1: float = PAGE_WIDTH_PT - MARGIN_PT, required: bool = False,
             advance: bool = True) -> None:
        self.texts.append(StaticText(self.page, x, self.y + 11, label))
        rect = Rect(x + label_w, self.y, x1, self.y + TEXT_ZONE_H_PT)
        self.fields.append(Field(name, label, kind, self.page, rect, required=required))
        if advance:
            self.y += TEXT_ZONE_H_PT + 7

    def comb(self, name: str, label: str, kind: FieldKind, *, x: float = MARGIN_PT,
             label_w: float = LABEL_W_PT, required: bool = False, advance: bool = True) -> None:
        n = {FieldKind.DATE: 8, FieldKind.PHONE: 10, FieldKind.POSTCODE: 5}[kind]
        self.texts.append(StaticText(self.page, x, self.y + 11, label))
        cells: list[Rect] = []
        cx = x + label_w
        for i in range(n):
            # Dates get a gap (printed "/") after day and month; phones after each pair.
            if i and ((kind == FieldKind.DATE and i in (2, 4)) or (kind == FieldKind.PHONE and i % 2 == 0)):
                if kind == FieldKind.DATE:
                    self.texts.append(StaticText(self.page, cx + 1.5, self.y + 13, "/", 11))
                cx += 7
            cells.append(Rect(cx, self.y, cx + COMB_CELL_W_PT, self.y + COMB_CELL_H_PT))
            cx += COMB_CELL_W_PT
        rect = Rect(cells[0].x0, cells[0].top, cells[-1].x1, cells[-1].bottom)
        self.fields.append(Field(name, label, kind, self.page, rect, cells=tuple(cells), required=required))
        if advance:
            self.y += COMB_CELL_H_PT + 7

    def letter_comb(self, name: str, label: str, n: int, kind: FieldKind = FieldKind.TEXT, *,
                    x: float = MARGIN_PT, label_w: float = LABEL_W_PT, cell_w: float = LETTER_CELL_W_PT,
                    required: bool = False, advance: bool = True) -> None:
        self.texts.append(StaticText(self.page, x, self.y + 11, label))
        x0 = x + label_w
        cells = tuple(Rect(x0 + i * cell_w, self.y, x0 + (i + 1) * cell_w, self.y + COMB_CELL_H_PT) for i in range(n))
        rect = Rect(cells[0].x0, cells[0].top, cells[-1].x1, cells[-1].bottom)
        self.fields.append(Field(name, label, kind, self.page, rect, cells=cells, required=required))
        if advance:
            self.y += COMB_CELL_H_PT + 7

    def choice(self, name: str, label: str, options: list[tuple[str, str]], rule: ChoiceRule, *,
               x: float = MARGIN_PT, label_w: float = LABEL_W_PT, col_w: float = 60.0,
               per_row: int = 9, required: bool = False, kind: FieldKind = FieldKind.CHOICE,
               row_h: float = 15.0) -> None:
        if label:
            self.texts.append(StaticText(self.page, x, self.y + 9, label))
        boxes = []
        for i, (code, text) in enumerate(options):
            row, col = divmod(i, per_row)
            bx = x + label_w + col * col_w
            by = self.y + row * row_h
            r = Rect(bx, by, bx + TICK_SIZE_PT, by + TICK_SIZE_PT)
            boxes.append(TickBox(code, text, r))
            self.texts.append(StaticText(self.page, bx + TICK_SIZE_PT + 4, by + 8.5, text))
        rect = Rect(min(b.rect.x0 for b in boxes), min(b.rect.top for b in boxes),
                    max(b.rect.x1 for b in boxes), max(b.rect.bottom for b in boxes))
        self.fields.append(Field(name, label, kind, self.page, rect, boxes=tuple(boxes), rule=rule,
                                 required=required))
        rows = (len(options) + per_row - 1) // per_row
        self.y += rows * row_h + 6

    def flag(self, name: str, label: str, *, required: bool = False, x: float = MARGIN_PT) -> None:
        self.choice(name, "", [("yes", label)], ChoiceRule.AT_MOST_ONE, x=x, label_w=0, required=required,
                    kind=FieldKind.FLAG)
        # A flag's label is the box's own label; keep Field.label meaningful for reviewers.
        f = self.fields.pop()
        self.fields.append(Field(f.name, label, f.kind, f.page, f.rect, boxes=f.boxes, rule=f.rule,
                                 required=required))

    def signature(self, name: str, label: str, rect: Rect) -> None:
        self.texts.append(StaticText(self.page, rect.x0, rect.top - 3, label))
        self.fields.append(Field(name, label, FieldKind.SIGNATURE, self.page, rect, required=True))


CLASS_LEVELS: tuple[tuple[str, str], ...] = (
    ("CP", "CP"), ("CE1", "CE1"), ("CE2", "CE2"), ("CM1", "CM1"), ("CM2", "CM2"),
    ("6E", "6e"), ("5E", "5e"), ("4E", "4e"), ("3E", "3e"),
)
CRITERIA_GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Méthodologie et organisation", (
        ("methode", "Pas de méthode de travail"),
        ("organisation", "Difficultés à organiser ou planifier son travail"),
        ("consignes", "Difficultés à lire ou comprendre les consignes"),
        ("memorisation", "Difficultés à apprendre ou mémoriser les leçons"),
        ("devoirs", "Devoirs souvent non faits"),
    )),
    ("Attitude", (
        ("autonomie", "Manque d'autonomie"),
        ("confiance", "Manque de confiance en soi"),
        ("motivation", "Manque de motivation"),
        ("attention", "Difficultés d'attention ou de concentration"),
    )),
    ("Langage", (
        ("lecture_ecriture", "Difficultés de lecture ou d'écriture"),
        ("oral", "Difficultés en français oral"),
        ("allophone", "Élève nouvellement arrivé(e) ou allophone"),
    )),
    ("Environnement familial", (
        ("aide_maison", "Pas d'aide possible à la maison"),
        ("parents_francais", "Parents peu à l'aise en français"),
        ("parents_eloignes", "Parents éloignés de l'école"),
        ("conditions", "Mauvaises conditions pour les devoirs à la maison"),
    )),
)
CRITERIA_FIELDS: tuple[str, ...] = ("criteria_method", "criteria_attitude", "criteria_language", "criteria_family")
RELATIONSHIPS: tuple[tuple[str, str], ...] = (("mere", "Mère"), ("pere", "Père"), ("tuteur", "Tuteur/tutrice"))


def _anchors() -> tuple[Rect, ...]:
    s = ANCHOR_SIZE_PT
    m = 18.0
    w, h = PAGE_WIDTH_PT, PAGE_HEIGHT_PT
    corners = [(m, m), (w - m - s, m), (m, h - m - s), (w - m - s, h - m - s)]
    # The fifth anchor sits on the left edge a third of the way down: under any
    # 90/180/270 degree turn it lands where no anchor is, so orientation is unambiguous.
    corners.append((m, h * 0.33))
    return tuple(Rect(x, y, x + s, y + s) for x, y in corners)


def _qr_codes() -> tuple[Rect, ...]:
    q = QR_SIZE_PT
    # Top-right and bottom-left corners, inside the anchors.
    top_right = Rect(PAGE_WIDTH_PT - 40 - q, 14, PAGE_WIDTH_PT - 40, 14 + q)
    bottom_left = Rect(40, PAGE_HEIGHT_PT - 14 - q, 40 + q, PAGE_HEIGHT_PT - 14)
    return (top_right, bottom_left)


SECOND_COLUMN_X_PT = 310.0
"""Left edge of the form's second column (fields that share a row with another), in points."""


@cache
def form_v1() -> FormDefinition:
    """Build the version-1 form definition (cached; it is immutable)."""
    b = _Builder()
    _build_page1(b)
    _build_page2(b)
    layout = PageLayout(_anchors(), _qr_codes())
    return FormDefinition(FORM_VERSION, tuple(b.fields), tuple(b.texts), (layout, layout))


def _build_page1(b: _Builder) -> None:
    """Lay out page 1 of form version 1: heading, referral, the pupil, schooling, criteria.

    Args:
        b: The builder; its fields and texts are appended to in reading order.
    """
    col2 = SECOND_COLUMN_X_PT
    b.new_page(1, 24.0)
    b.text("Fiche d'orientation CLAS", x=60, size=15, bold=True, dy=18)
    b.text("Contrat local d'accompagnement à la scolarité — Ville d'Argenteuil", x=60, size=9, dy=12)
    b.text("À remplir par l'enseignant(e), signer par la famille, puis envoyer à clas@ville.example",
           x=60, size=7.5, dy=10)
    b.text("Cocher d'une croix (X). Pour annuler une case, la noircir entièrement.", x=60, size=7.5, bold=True,
           dy=20)
    b.line("school_year", "Année scolaire (ex. 2026-2027)", x1=300, required=True, advance=False)
    b.comb("referral_date", "Date de l'orientation", FieldKind.DATE, x=col2, label_w=95, required=True)
    b.choice("referrer_role", "Orienté(e) par",
             [("enseignant", "Enseignant(e)"), ("autre_pro", "Autre professionnel"), ("famille", "Famille")],
             ChoiceRule.EXACTLY_ONE, col_w=110, required=True)

    b.section("L'élève")
    b.line("pupil_surname", "Nom", x1=300, required=True, label_w=60, advance=False)
    b.line("pupil_first_name", "Prénom", x=col2, label_w=50, required=True)
    b.comb("pupil_birth_date", "Date de naissance", FieldKind.DATE, required=True, label_w=85, advance=False)
    b.choice("pupil_sex", "Sexe (facultatif)", [("F", "F"), ("M", "M")], ChoiceRule.AT_MOST_ONE, x=col2,
             label_w=80, col_w=40)
    b.y += 2
    b.line("pupil_address", "Adresse", label_w=60, required=True)
    b.comb("pupil_postcode", "Code postal", FieldKind.POSTCODE, label_w=60, required=True, advance=False)
    b.line("pupil_town", "Commune", x=col2 - 60, label_w=50, required=True)

    b.section("Scolarité")
    b.line("school_name", "École ou collège", label_w=85, required=True)
    b.choice("class_level", "Niveau (une seule case)", list(CLASS_LEVELS), ChoiceRule.EXACTLY_ONE,
             label_w=100, col_w=46, required=True)
    b.line("class_name", "Classe / enseignant(e)", label_w=100, x1=300, required=True, advance=False)
    b.line("referrer_email", "Courriel", kind=FieldKind.EMAIL, x=col2, label_w=45, required=True)
    _support_and_criteria(b)


def _support_and_criteria(b: _Builder) -> None:
    """Lay out the end of page 1, the same on every version: the support already in place, the orientation
    criteria with « Autre (préciser) », and the observations."""
    b.choice("existing_support", "Aides déjà en place",
             [("APC", "APC"), ("RASED", "RASED"), ("PPRE", "PPRE"), ("PRE", "PRE"), ("aucun", "Aucune")],
             ChoiceRule.ANY, label_w=100, col_w=62)

    b.section("Critères d'orientation (au moins un)")
    for field_name, (group_label, options) in zip(CRITERIA_FIELDS, CRITERIA_GROUPS, strict=True):
        b.text(group_label, size=8.5, bold=True, dy=12)
        b.choice(field_name, "", list(options), ChoiceRule.ANY, label_w=10, col_w=262, per_row=2, row_h=14)
    b.flag("criteria_other", "Autre (préciser) :")
    b.y -= 21
    b.line("criteria_other_text", "", x=MARGIN_PT + 100, label_w=0)
    b.line("observations", "Observations", label_w=70)


def _build_page2(b: _Builder) -> None:
    """Lay out page 2 of form version 1: the guardians, the family, its agreement, the referrer.

    Args:
        b: The builder, after :func:`_build_page1`; its fields and texts are appended to in reading order.
    """
    col2 = SECOND_COLUMN_X_PT
    b.new_page(2, 24.0)
    b.text("Fiche d'orientation CLAS — page 2", x=60, size=13, bold=True, dy=22)
    b.line("p2_pupil_surname", "Nom de l'élève", x1=300, label_w=70, advance=False)
    b.line("p2_pupil_first_name", "Prénom", x=col2, label_w=45, x1=480)  # stops short of the QR code
    for n, title, req in ((1, "Responsable légal 1", True), (2, "Responsable légal 2 (facultatif)", False)):
        b.section(title)
        b.line(f"guardian{n}_surname", "Nom", x1=300, label_w=60, required=req, advance=False)
        b.line(f"guardian{n}_first_name", "Prénom", x=col2, label_w=45, required=req)
        b.choice(f"guardian{n}_relationship", "Lien avec l'élève", list(RELATIONSHIPS),
                 ChoiceRule.EXACTLY_ONE if req else ChoiceRule.AT_MOST_ONE, label_w=85, col_w=80, required=req)
        b.comb(f"guardian{n}_phone", "Téléphone portable", FieldKind.PHONE, label_w=85, required=req)
        b.line(f"guardian{n}_email", "Courriel", kind=FieldKind.EMAIL, label_w=85)

    b.section("Famille")
    b.line("home_languages", "Langues parlées à la maison", label_w=130)
    b.choice("interpreter_needed", "Besoin d'un interprète", [("oui", "Oui"), ("non", "Non")],
             ChoiceRule.AT_MOST_ONE, label_w=130, col_w=50)

    _agreement_and_referrer(b, gap=10, signature_h=60, advance=72)


def _agreement_and_referrer(b: _Builder, gap: float, signature_h: float, advance: float) -> None:
    """Lay out the end of page 2, the same on every version: the family's agreement, its date and signature, then
    the referrer's name, date and signature, and the data notice.

    Args:
        b: The builder, on page 2.
        gap: Space (pt) between a date comb and the signature box under it.
        signature_h: Height of each signature box (pt).
        advance: Space (pt) each signature box takes down the page, the box included.
    """
    b.section("Accord de la famille")
    b.flag("agreement_orientation", "J'accepte l'orientation de mon enfant vers l'accompagnement à la scolarité.",
           required=True)
    b.flag("agreement_data_sharing",
           "J'accepte que ces informations soient transmises à la structure CLAS qui accueillera mon enfant.",
           required=True)
    b.comb("family_date", "Date", FieldKind.DATE, label_w=60, required=True)
    b.y += gap
    b.signature("family_signature", "Signature du ou des responsables légaux",
                Rect(MARGIN_PT, b.y, 300, b.y + signature_h))
    b.y += advance

    b.section("Personne qui oriente")
    b.line("referrer_name", "Nom et fonction", label_w=85, required=True)
    b.comb("referrer_date", "Date", FieldKind.DATE, label_w=85, required=True)
    b.y += gap
    b.signature("referrer_signature", "Signature ou cachet de l'école", Rect(MARGIN_PT, b.y, 300, b.y + signature_h))
    b.y += advance
    b.text("Aucune information de santé ou de diagnostic ne doit figurer sur cette fiche.", size=7.5, dy=10)
    b.text("Données traitées par la Ville pour l'orientation vers le CLAS ; voir la notice d'information.",
           size=7.5, dy=10)


# --- Version 2: made for hand-print ---------------------------------------------------

FORM_VERSION_2 = 2
NAME_CELLS = 24
"""Cells of a surname or first-name comb: 24 letters, longer than 99.9 % of French surnames (INSEE's file of
surnames has few over 20 letters) and than every given name of the first-name lexicon."""
TOWN_CELLS = 28
"""Cells of the town comb: the longest town of the towns lexicon has 24 letters (Conflans-Sainte-Honorine)."""
EMAIL_CELLS = 36
"""Cells of an e-mail comb (:data:`EMAIL_CELL_W_PT` wide, one line of the page)."""
ACCENT_CLEARANCE_PT = 3.0
"""Room left between a title and the letter comb under it: a capital's accent rises over the cells' top line, and
the reader's writing area with it (``LetterCombSettings.accent_room_pt``); a title's descenders must stay out."""
OTHER_LANGUAGE_CELLS = 14
"""Cells of « autre : … » for a home language not in :data:`HOME_LANGUAGES` (« vietnamien », 10 letters)."""
CAPITALS_INSTRUCTION = ("En lettres capitales, une lettre par case (une case vide entre deux mots). "
                        "Cocher d'une croix (X).")

HOME_LANGUAGES: tuple[tuple[str, str], ...] = (
    ("fr", "français"), ("ar", "arabe"), ("tr", "turc"), ("pt", "portugais"), ("es", "espagnol"),
    ("en", "anglais"), ("ta", "tamoul"), ("ro", "roumain"),
)
"""The home languages version 2 offers as tick boxes (ISO 639-1 code, French name as CLDR writes it).

French, then the languages the referrals of the town name most, as the project's sample referrals hold them
(Arabic, Turkish, Portuguese, Tamil, Romanian) and the two foreign languages most spoken in France besides
(Spanish, English; INSEE's *Enquête Famille* 2011 finds Arabic, Portuguese, Spanish and English among the
languages parents most pass on). This is an assumption to review with the town's family services: every other
language is written in « autre : … », and reading it is checked against the same languages lexicon (CLDR through
Babel, ``pipeline.reading.field_lexicons.language_names``), which knows every name here. Eight boxes fit two rows."""

LETTER_COMB_FIELDS_V2 = ("pupil_surname", "pupil_first_name", "pupil_town", "referrer_email", "p2_pupil_surname",
                         "p2_pupil_first_name", "guardian1_surname", "guardian1_first_name", "guardian1_email",
                         "guardian2_surname", "guardian2_first_name", "guardian2_email")
"""Fields version 2 turns into capital-letter combs."""


@cache
def form_v2() -> FormDefinition:
    """Build the version-2 form definition (cached; it is immutable): same fields and values as version 1, but
    names, the town and e-mails in capital-letter combs and home languages ticked
    (``home_languages`` a choice of :data:`HOME_LANGUAGES`, ``home_languages_other`` a letter comb).
    Both pages end above the bottom QR code (y < 760 pt)."""
    b = _Builder()
    _build_v2_page1(b)
    _build_v2_page2(b)
    layout = PageLayout(_anchors(), _qr_codes())
    return FormDefinition(FORM_VERSION_2, tuple(b.fields), tuple(b.texts), (layout, layout))


def _build_v2_page1(b: _Builder) -> None:
    """Lay out page 1 of form version 2 (see :func:`_build_page1` for version 1)."""
    col2 = SECOND_COLUMN_X_PT
    b.new_page(1, 24.0)
    b.text("Fiche d'orientation CLAS", x=60, size=15, bold=True, dy=18)
    b.text("Contrat local d'accompagnement à la scolarité — Ville d'Argenteuil", x=60, size=9, dy=12)
    b.text("À remplir par l'enseignant(e), signer par la famille, puis envoyer à clas@ville.example",
           x=60, size=7.5, dy=10)
    b.text(CAPITALS_INSTRUCTION, x=60, size=7.5, bold=True, dy=10)
    b.text("Pour annuler une case cochée, la noircir entièrement.", x=60, size=7.5, bold=True, dy=14)
    b.line("school_year", "Année scolaire (ex. 2026-2027)", x1=300, required=True, advance=False)
    b.comb("referral_date", "Date de l'orientation", FieldKind.DATE, x=col2, label_w=95, required=True)
    b.choice("referrer_role", "Orienté(e) par",
             [("enseignant", "Enseignant(e)"), ("autre_pro", "Autre professionnel"), ("famille", "Famille")],
             ChoiceRule.EXACTLY_ONE, col_w=110, required=True)

    b.section("L'élève (en lettres capitales)")
    b.y += ACCENT_CLEARANCE_PT
    b.letter_comb("pupil_surname", "Nom", NAME_CELLS, label_w=60, required=True)
    b.letter_comb("pupil_first_name", "Prénom", NAME_CELLS, label_w=60, required=True)
    b.comb("pupil_birth_date", "Date de naissance", FieldKind.DATE, required=True, label_w=85, advance=False)
    b.choice("pupil_sex", "Sexe (facultatif)", [("F", "F"), ("M", "M")], ChoiceRule.AT_MOST_ONE, x=col2,
             label_w=80, col_w=40)
    b.y += 2
    b.line("pupil_address", "Adresse", label_w=60, required=True)
    b.comb("pupil_postcode", "Code postal", FieldKind.POSTCODE, label_w=60, required=True)
    b.letter_comb("pupil_town", "Commune", TOWN_CELLS, label_w=60, required=True)

    b.section("Scolarité")
    b.line("school_name", "École ou collège", label_w=85, required=True)
    b.choice("class_level", "Niveau (une seule case)", list(CLASS_LEVELS), ChoiceRule.EXACTLY_ONE,
             label_w=100, col_w=46, required=True)
    b.line("class_name", "Classe / enseignant(e)", label_w=100, required=True)
    b.letter_comb("referrer_email", "Courriel", EMAIL_CELLS, FieldKind.EMAIL, label_w=65,
                  cell_w=EMAIL_CELL_W_PT, required=True)
    _support_and_criteria(b)


def _build_v2_page2(b: _Builder) -> None:
    """Lay out page 2 of form version 2 (see :func:`_build_page2` for version 1)."""
    col2 = SECOND_COLUMN_X_PT
    b.new_page(2, 24.0)
    b.text("Fiche d'orientation CLAS — page 2", x=60, size=13, bold=True, dy=14)
    b.text(CAPITALS_INSTRUCTION, x=60, size=7.5, bold=True, dy=16)
    # Both rows stop short of the top-right QR code (x ≥ 493 pt down to y = 76 pt).
    b.letter_comb("p2_pupil_surname", "Nom de l'élève", NAME_CELLS, label_w=70)
    b.letter_comb("p2_pupil_first_name", "Prénom de l'élève", NAME_CELLS, label_w=70)
    for n, title, req in ((1, "Responsable légal 1", True), (2, "Responsable légal 2 (facultatif)", False)):
        b.section(title)
        b.y += ACCENT_CLEARANCE_PT
        b.letter_comb(f"guardian{n}_surname", "Nom", NAME_CELLS, label_w=85, required=req)
        b.letter_comb(f"guardian{n}_first_name", "Prénom", NAME_CELLS, label_w=85, required=req)
        b.choice(f"guardian{n}_relationship", "Lien avec l'élève", list(RELATIONSHIPS),
                 ChoiceRule.EXACTLY_ONE if req else ChoiceRule.AT_MOST_ONE, label_w=85, col_w=66, required=req)
        b.y -= 21
        b.comb(f"guardian{n}_phone", "Tél. portable", FieldKind.PHONE, x=col2 + 22, label_w=53, required=req)
        b.letter_comb(f"guardian{n}_email", "Courriel", EMAIL_CELLS, FieldKind.EMAIL, label_w=65,
                      cell_w=EMAIL_CELL_W_PT)

    b.section("Famille")
    b.choice("home_languages", "Langue(s) parlée(s) à la maison", [(c, n.capitalize()) for c, n in HOME_LANGUAGES],
             ChoiceRule.ANY, label_w=130, col_w=64, per_row=6)
    b.y -= 21
    b.letter_comb("home_languages_other", "Autre :", OTHER_LANGUAGE_CELLS, x=MARGIN_PT + 130 + 2 * 64,
                  label_w=32)
    b.choice("interpreter_needed", "Besoin d'un interprète", [("oui", "Oui"), ("non", "Non")],
             ChoiceRule.AT_MOST_ONE, label_w=130, col_w=50)

    _agreement_and_referrer(b, gap=8, signature_h=48, advance=56)


FORM_VERSIONS: dict[int, Callable[[], FormDefinition]] = {FORM_VERSION: form_v1, FORM_VERSION_2: form_v2}
"""Every version the product prints and reads, by the number its QR payload carries."""


def form_definition(version: int) -> FormDefinition:
    """The definition of form ``version``.

    Raises:
        UnknownFormVersionError: The product has no such version (a page printed from a newer or foreign form).
    """
    builder = FORM_VERSIONS.get(version)
    if builder is None:
        raise UnknownFormVersionError(version)
    return builder()


class UnknownFormVersionError(KeyError):
    """A page says a form version the product does not know.

    Attributes:
        version: The version the page's QR code or footer says.
    """

    def __init__(self, version: int) -> None:
        self.version = version
        super().__init__(f"unknown form version {version}; known: {sorted(FORM_VERSIONS)}")


def home_languages_text(ticked: Sequence[str], other: str | None) -> str | None:
    """Version 2's ticked home languages and « autre » as version 1's value: ``Français, arabe, wolof``.

    Names in the form's order, then « autre », joined by ``, ``, the first letter in capitals (as version 1's
    line is written and the schema keeps it); ``None`` when nothing is ticked nor written.

    Args:
        ticked: Option codes of :data:`HOME_LANGUAGES` ticked.
        other: What « autre » holds (any case), or ``None``.
    """
    names = [name for code, name in HOME_LANGUAGES if code in set(ticked)]
    if other and other.strip():
        names.append(other.strip().lower())
    text = ", ".join(dict.fromkeys(names))
    return text[:1].upper() + text[1:] if text else None


def home_languages_choices(text: str | None) -> tuple[list[str], str | None]:
    """The inverse of :func:`home_languages_text` for a version-1 value: the codes to tick and the rest.

    Languages not in :data:`HOME_LANGUAGES` are joined into « autre » (lower case); ``([], None)`` for no value.
    """
    codes = {name: code for code, name in HOME_LANGUAGES}
    parts = [p.strip().lower() for p in re.split(r"[,;/]| et ", text or "") if p.strip()]
    ticked = [codes[p] for p in parts if p in codes]
    others = [p for p in parts if p not in codes]
    return [c for c, _ in HOME_LANGUAGES if c in ticked], (", ".join(others) or None)


FOOTER_BASELINE_PT = PAGE_HEIGHT_PT - 30
"""Baseline of the printed footer that repeats the QR payload in the text layer."""
