"""The yearly report's charts: horizontal bar charts drawn by matplotlib (Agg), as PNG bytes.

The same PNGs go into the HTML page, the PDF and the desk's page. Text is drawn in DejaVu Sans from
Debian's ``fonts-dejavu-core`` (``ReportSettings.font_file``), so a chart does not depend on the fonts of
the machine. A hidden count (« < 5 », « s ») gets no bar, only its text: a bar's length would give it back.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot's import

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from pipeline.installation import MissingInstallError  # noqa: E402
from pipeline.reporting.figures import PlacesRow, Row, Table, YearlyReport  # noqa: E402
from pipeline.settings import ReportSettings  # noqa: E402

BAR_COLOUR = "#2f6f9f"
USED_COLOUR = "#2f6f9f"
LEFT_COLOUR = "#b9d3e6"
WIDTH_IN = 7.2
"""Chart width in inches (at ``chart_dpi`` 150: 1080 px; 18 cm on the A4 PDF page)."""
ROW_IN = 0.34
"""Height of one bar's line, in inches (room for two lines of a wrapped label at 9 pt)."""
LABEL_CHARS = 38
"""Characters of a label per line before it wraps (a long school name takes two lines)."""
LEFT_IN, RIGHT_IN, TOP_IN, BOTTOM_IN = 2.9, 0.45, 0.15, 0.55
"""Fixed margins in inches (labels at 9 pt: 38 characters are about 2.8 in), so every chart has the same
scale: none is enlarged because its labels are short."""


class ChartFontMissingError(MissingInstallError):
    """The charts' font file is missing (``CLAS_REPORT__FONT_FILE``; Debian ``fonts-dejavu-core`` installs the
    default): an installation error, as for the form's fonts, not a document's reason."""

    part_fr = "police des graphiques du bilan absente (ou régler CLAS_REPORT__FONT_FILE)"
    part_en = "chart font missing (or set CLAS_REPORT__FONT_FILE)"
    default_package = "fonts-dejavu-core"


@dataclass(frozen=True)
class Chart:
    """One chart of the report.

    Attributes:
        key: The table it draws (``outcome``, ``level``...) or ``places``.
        title: French title (also the image's alternative text).
        png: The image, PNG bytes at ``ReportSettings.chart_dpi``.
    """

    key: str
    title: str
    png: bytes


def _use_font(font_file: Path) -> str:
    if not font_file.is_file():
        raise ChartFontMissingError(font_file)
    font_manager.fontManager.addfont(str(font_file))
    return font_manager.FontProperties(fname=str(font_file)).get_name()


def _wrap(text: str) -> str:
    return "\n".join(textwrap.wrap(text, LABEL_CHARS)) or text


def _figure(rows: int, extra_bottom_in: float = 0.0) -> tuple[plt.Figure, plt.Axes]:
    """A figure ``WIDTH_IN`` wide with room for ``rows`` bars and the fixed margins."""
    height = TOP_IN + BOTTOM_IN + extra_bottom_in + ROW_IN * max(1, rows) + 0.2
    fig, ax = plt.subplots(figsize=(WIDTH_IN, height))
    fig.subplots_adjust(left=LEFT_IN / WIDTH_IN, right=1 - RIGHT_IN / WIDTH_IN, top=1 - TOP_IN / height,
                        bottom=(BOTTOM_IN + extra_bottom_in) / height)
    return fig, ax


def _png(fig: plt.Figure, dpi: int) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def bar_chart(rows: Sequence[Row], settings: ReportSettings) -> bytes:
    """A horizontal bar per row, its count printed at its end (hidden counts: text only, no bar).

    Args:
        rows: The table's lines, top to bottom.
        settings: Font and DPI.

    Returns:
        PNG bytes, ``WIDTH_IN`` inches wide at ``settings.chart_dpi``.
    """
    family = _use_font(settings.font_file)
    with plt.rc_context({"font.family": family, "font.size": 9}):
        fig, ax = _figure(len(rows))
        y = list(range(len(rows)))[::-1]
        widths = [r.value if r.visible else 0 for r in rows]
        ax.barh(y, widths, color=BAR_COLOUR, height=0.6)
        top = max(widths + [1])
        for yi, r, w in zip(y, rows, widths, strict=True):
            ax.text(w + top * 0.01, yi, r.text, va="center", ha="left", fontsize=9,
                    color="#222" if r.visible else "#a33")
        ax.set_yticks(y, [_wrap(r.label) for r in rows])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlim(0, top * 1.12)
        ax.set_xlabel("Nombre de fiches")
        ax.spines[["top", "right"]].set_visible(False)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        return _png(fig, settings.chart_dpi)


def places_chart(places: Sequence[PlacesRow], settings: ReportSettings) -> bytes:
    """Each carrier's capacity as a bar, split into places used and left (a hidden count: capacity only)."""
    family = _use_font(settings.font_file)
    with plt.rc_context({"font.family": family, "font.size": 9}):
        fig, ax = _figure(len(places), extra_bottom_in=0.35)
        y = list(range(len(places)))[::-1]
        for yi, p in zip(y, places, strict=True):
            if p.used.visible:
                ax.barh(yi, p.used.value, color=USED_COLOUR, height=0.6)
                ax.barh(yi, max(0, p.capacity - p.used.value), left=p.used.value, color=LEFT_COLOUR, height=0.6)
            else:
                ax.barh(yi, p.capacity, color="white", edgecolor="#888", hatch="///", height=0.6)
            ax.text(max(p.capacity, p.used.value if p.used.visible else 0) + 0.5, yi,
                    f"{p.used.text} / {p.capacity}", va="center", ha="left", fontsize=9)
        ax.set_yticks(y, [_wrap(p.name) for p in places])
        ax.set_ylim(-0.6, len(places) - 0.4)
        top = max([p.capacity for p in places] + [p.used.value for p in places if p.used.visible] + [1])
        ax.set_xlim(0, top * 1.2)
        ax.set_xlabel("Places (utilisées / capacité de l'année)")
        handles = [plt.Rectangle((0, 0), 1, 1, color=USED_COLOUR), plt.Rectangle((0, 0), 1, 1, color=LEFT_COLOUR),
                   plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="#888", hatch="///")]
        fig.legend(handles, ["utilisées", "restantes", "nombre masqué (< 5 ou s)"], loc="lower center",
                   bbox_to_anchor=(0.5, 0.0), ncol=3, frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        return _png(fig, settings.chart_dpi)


def report_charts(report: YearlyReport, settings: ReportSettings) -> list[Chart]:
    """Every chart of the report, in its order: one per table, then the places."""
    charts = [Chart(t.key, t.title, bar_chart(t.rows, settings)) for t in _charted(report.tables)]
    charts.append(Chart("places", "Places utilisées par structure", places_chart(report.places, settings)))
    return charts


def _charted(tables: Sequence[Table]) -> list[Table]:
    return [t for t in tables if t.rows]
