"""Write the yearly report: a self-contained HTML page (charts embedded as PNG) and an A4 PDF (reportlab).

Both say, in French, what is counted and the small-count rule (:func:`suppression_rule_fr`, the rule of
:mod:`pipeline.reporting.suppression`). The PDF draws its text in DejaVu Sans (``ReportSettings.font_file``)
and embeds the same chart PNGs as the page; a chart 7.2 in wide is placed 17 cm wide on the page.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from pipeline.reporting.charts import Chart, report_charts
from pipeline.reporting.figures import YearlyReport
from pipeline.settings import ReportSettings

TEMPLATES = Path(__file__).resolve().parent / "templates"
PDF_FONT = "DejaVuSans"
PDF_FONT_BOLD = "DejaVuSans-Bold"


def suppression_rule_fr(min_cell: int) -> list[str]:
    """The small-count rule as the report states it, paragraph by paragraph (French)."""
    return [
        "Ce bilan ne contient que des nombres : aucun nom, aucune adresse, aucune donnée d'une famille.",
        f"Secret statistique : un nombre de 1 à {min_cell - 1} n'est jamais affiché ; il apparaît « < {min_cell} ». "
        "Un zéro est affiché (sauf s'il faut le masquer pour protéger un autre nombre).",
        "Lorsqu'un nombre masqué pourrait être retrouvé par différence avec un total affiché (lignes d'un tableau, "
        "établissements d'un quartier, places utilisées et restantes d'une structure…), un second nombre de la "
        "même somme est masqué aussi ; il apparaît « s », et ne peut pas davantage être retrouvé. Sur les graphiques, "
        "un nombre masqué n'a pas de barre.",
    ]


@dataclass(frozen=True)
class ReportFiles:
    """The written report.

    Attributes:
        html: The HTML page (self-contained).
        pdf: The PDF.
    """

    html: Path
    pdf: Path


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _frdate(report: YearlyReport) -> str:
    return report.generated_at.astimezone().strftime("%d/%m/%Y à %H:%M")


def report_context(report: YearlyReport, charts: list[Chart]) -> dict[str, object]:
    """What the HTML templates (the file's and the desk's) need."""
    return {"report": report, "charts": {c.key: c for c in charts}, "chart_uri": {c.key: _data_uri(c.png)
                                                                                  for c in charts},
            "rule": suppression_rule_fr(report.min_cell), "generated": _frdate(report)}


def render_html(report: YearlyReport, charts: list[Chart]) -> str:
    """The report as one HTML page in French, charts embedded."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    return env.get_template("yearly_report.html").render(report_context(report, charts))


def render_pdf(report: YearlyReport, charts: list[Chart], settings: ReportSettings) -> bytes:
    """The report as an A4 PDF in French: title, rule, then per table its chart and its figures.

    Raises:
        reportlab.pdfbase.ttfonts.TTFError: The font file is not a TrueType font.
    """
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    bold_file = settings.font_file.with_name(settings.font_file.stem + "-Bold" + settings.font_file.suffix)
    pdfmetrics.registerFont(TTFont(PDF_FONT, str(settings.font_file)))
    pdfmetrics.registerFont(TTFont(PDF_FONT_BOLD, str(bold_file if bold_file.is_file() else settings.font_file)))
    pdfmetrics.registerFontFamily(PDF_FONT, normal=PDF_FONT, bold=PDF_FONT_BOLD, italic=PDF_FONT,
                                  boldItalic=PDF_FONT_BOLD)  # so that <b> in a paragraph is DejaVu Sans Bold
    body = ParagraphStyle("body", fontName=PDF_FONT, fontSize=9.5, leading=13)
    small = ParagraphStyle("small", parent=body, fontSize=8.5, leading=11, textColor=colors.HexColor("#444444"),
                           spaceAfter=3)
    h1 = ParagraphStyle("h1", parent=body, fontName=PDF_FONT_BOLD, fontSize=16, leading=20, spaceAfter=6)
    h2 = ParagraphStyle("h2", parent=body, fontName=PDF_FONT_BOLD, fontSize=12, leading=15, spaceBefore=10,
                        spaceAfter=4)
    by_key = {c.key: c for c in charts}
    width_pt = A4[0] - 4 * cm

    def image(chart: Chart) -> Image:
        from PIL import Image as PilImage

        with PilImage.open(io.BytesIO(chart.png)) as im:
            w_px, h_px = im.size
        return Image(io.BytesIO(chart.png), width=width_pt, height=width_pt * h_px / w_px)

    def grid(rows: list[list[str]], bold: list[int]) -> PdfTable:
        t = PdfTable(rows, colWidths=[width_pt * 0.75, width_pt * 0.25], repeatRows=1)
        t.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), PDF_FONT, 8.5),
                               ("FONT", (0, 0), (-1, 0), PDF_FONT_BOLD, 8.5),
                               ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                               ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                               ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#cccccc")),
                               ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]
                              + [("FONT", (0, i), (-1, i), PDF_FONT_BOLD, 8.5) for i in bold]
                              # a neighbourhood's heading never ends a page without its first school
                              + [("NOSPLIT", (0, i), (-1, min(i + 1, len(rows) - 1))) for i in bold]))
        return t

    story: list[object] = [
        Paragraph(f"Bilan annuel CLAS {report.school_year} — {report.city}", h1),
        Paragraph(f"Orientations reçues par le réseau : <b>{report.total.text}</b> fiches valides. "
                  f"Chiffres lus dans la base le {_frdate(report)}.", body),
        Spacer(1, 4),
    ]
    story += [Paragraph(p, small) for p in suppression_rule_fr(report.min_cell)]
    if report.median_delay_days is not None:
        story.append(Paragraph("Délai médian entre la réception de la fiche et l'inscription : "
                               f"<b>{_decimal_fr(report.median_delay_days)} jours</b>.", body))
    for t in report.tables:
        rows = [["", "Fiches"]]
        bold: list[int] = []
        current = None
        for r in t.rows:
            if r.group and r.group != current:
                current = r.group
                bold.append(len(rows))
                rows.append([f"Quartier : {r.group}", ""])
            rows.append([("    " if r.group else "") + r.label, r.text])
        if t.total is not None:
            bold.append(len(rows))
            rows.append(["Total", t.total.text])
        block: list[object] = [Paragraph(t.title, h2)]
        if t.key in by_key:
            block.append(image(by_key[t.key]))
        if t.note:
            block.append(Paragraph(t.note, small))
        block.append(grid(rows, bold))
        story.append(KeepTogether(block))
    place_rows = [["Structure", "Capacité", "Utilisées", "Restantes"]]
    place_rows += [[p.name, str(p.capacity), p.used.text, p.left.text] for p in report.places]
    pt = PdfTable(place_rows, colWidths=[width_pt * 0.55, width_pt * 0.15, width_pt * 0.15, width_pt * 0.15],
                  repeatRows=1)
    pt.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), PDF_FONT, 8.5), ("FONT", (0, 0), (-1, 0), PDF_FONT_BOLD, 8.5),
                            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                            ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                            ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#cccccc"))]))
    story.append(KeepTogether([
        Paragraph("Places par structure", h2), image(by_key["places"]),
        Paragraph("Places utilisées : orientations en cours ou inscrites ; une place refusée, ou quittée en cours "
                  "d'année, est libérée.", small),
        pt]))

    buf = io.BytesIO()

    def footer(canvas, doc) -> None:  # noqa: ANN001 - reportlab's callback
        canvas.setFont(PDF_FONT, 8)
        canvas.drawRightString(A4[0] - 2 * cm, 1.2 * cm, f"Bilan CLAS {report.school_year} — page {doc.page}")

    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm, topMargin=1.8 * cm,
                            bottomMargin=1.8 * cm, title=f"Bilan annuel CLAS {report.school_year}",
                            author=f"Réseau CLAS — {report.city}", lang="fr-FR")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def _decimal_fr(x: float) -> str:
    return f"{x:g}".replace(".", ",")


def write_report(report: YearlyReport, out_dir: Path, settings: ReportSettings) -> ReportFiles:
    """Draw the charts and write ``bilan-clas-<année>.html`` and ``.pdf`` into ``out_dir`` (created).

    Raises:
        pipeline.reporting.charts.ChartFontMissingError: The charts' font is missing.
        OSError: The folder cannot be written.
    """
    charts = report_charts(report, settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"bilan-clas-{report.school_year}"
    html, pdf = out_dir / f"{stem}.html", out_dir / f"{stem}.pdf"
    html.write_text(render_html(report, charts), encoding="utf-8")
    pdf.write_bytes(render_pdf(report, charts, settings))
    return ReportFiles(html, pdf)
