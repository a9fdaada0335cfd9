"""The yearly report on a store with known referrals: every printed number is the database's count, no count
under 5 is printed, nothing hidden can be recomputed, and the HTML and PDF say the same."""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, datetime
from pathlib import Path

import pdfplumber
import pytest
from sqlalchemy import text

from pipeline.deciding.directory import load_directory
from pipeline.reporting.figures import YearlyReport, yearly_report
from pipeline.reporting.render import write_report
from pipeline.reporting.suppression import Shown, recoverable_small_cells
from pipeline.settings import ReportSettings, Settings
from pipeline.store import Store
from tests.support.report_data import YEAR, fill_report_store

NOW = datetime(2027, 7, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, YearlyReport, Path]:
    root = tmp_path_factory.mktemp("report")
    store = Store(f"sqlite:///{root / 'clas.sqlite3'}")
    directory = load_directory(Settings().directory_file)
    fill_report_store(store, directory)
    with store.session() as s:
        report = yearly_report(s, directory, YEAR, ReportSettings(), NOW)
    write_report(report, root / "out", ReportSettings())
    return store, report, root / "out"


def _sql(store: Store, query: str) -> dict[str, int]:
    with store.session() as s:
        return {str(k): int(n) for k, n in s.execute(text(query), {"y": YEAR}).all()}


def _check(report: YearlyReport, key: str, expected: int) -> None:
    """A printed cell equals the database's count when its number is shown."""
    assert report.values[key] == expected, key
    if report.shown[key] is Shown.VALUE:
        assert expected == 0 or expected >= 5, key


def test_every_number_is_the_database_count(built: tuple[Store, YearlyReport, Path]) -> None:
    store, report, _ = built
    total = _sql(store, "SELECT 'all', count(*) FROM referrals WHERE school_year = :y")["all"]
    assert total == 160 and report.total.value == 160 and report.total.text == "160"
    levels = _sql(store, "SELECT class_level, count(*) FROM referrals WHERE school_year = :y GROUP BY 1")
    for row in report.table("level").rows:
        _check(report, row.key, levels.get(row.key.split(":", 1)[1], 0))
    schools = _sql(store, "SELECT school_id, count(*) FROM referrals WHERE school_year = :y GROUP BY 1")
    assert {r.key.split(":", 1)[1] for r in report.table("school").rows} == set(schools)
    for row in report.table("school").rows:
        _check(report, row.key, schools[row.key.split(":", 1)[1]])
    carriers = _sql(store, "SELECT coalesce(carrier_id, ''), count(*) FROM referrals WHERE school_year = :y "
                           "GROUP BY 1")
    for row in report.table("carrier").rows:
        _check(report, row.key, carriers.get(row.key.split(":", 1)[1], 0))
    status = _sql(store, "SELECT status, count(*) FROM referrals WHERE school_year = :y GROUP BY 1")
    enrolled = _sql(store, "SELECT 'n', count(*) FROM referrals r JOIN carrier_followups f ON f.referral_id = r.id "
                           "WHERE r.school_year = :y AND r.status = 'routed' AND f.outcome = 'enrolled'")["n"]
    assert enrolled > 0
    _check(report, "outcome:enrolled", enrolled)
    _check(report, "outcome:in_progress", status["routed"] - enrolled)
    _check(report, "outcome:declined", status["declined"])
    assert status["withdrawn"] > 0
    _check(report, "outcome:withdrawn", status["withdrawn"])
    _check(report, "outcome:review", status["review"])
    directory = load_directory(Settings().directory_file)
    waiting = _sql(store, "SELECT school_id || '/' || class_level, count(*) FROM referrals "
                          "WHERE school_year = :y AND status = 'waiting_list' GROUP BY 1")
    no_place = 0
    for pair, n in waiting.items():
        school = directory.school(pair.split("/")[0])
        level = pair.split("/")[1]
        if not any((school.id in c.schools or school.neighbourhood in c.neighbourhoods)
                   and level in {lv.value for lv in c.levels} for c in directory.carriers):
            no_place += n
    assert no_place > 0  # 3e at a collège no carrier serves
    _check(report, "outcome:no_place", no_place)
    _check(report, "outcome:waiting_list", status["waiting_list"] - no_place)
    used = _sql(store, "SELECT carrier_id, count(*) FROM referrals WHERE school_year = :y AND status = 'routed' "
                       "GROUP BY 1")
    for p in report.places:
        _check(report, p.used.key, used.get(p.carrier_id, 0))
        assert report.values[p.left.key] == p.capacity - used.get(p.carrier_id, 0)
    delays = sum(report.values[r.key] for r in report.table("delay").rows)
    assert delays == enrolled


def test_no_count_under_five_is_printed_and_none_can_be_recomputed(built: tuple[Store, YearlyReport, Path]) -> None:
    _, report, _ = built
    small = [k for k, v in report.values.items() if 0 < v < 5 and not k.startswith("capacity:")]
    assert small, "the data should hold small counts, or this test proves nothing"
    for k in small:
        assert report.shown[k] is not Shown.VALUE, k
    assert any(v is Shown.SECRET for v in report.shown.values())  # secondary suppression did act
    assert recoverable_small_cells(report.values, report.shown, report.equations, 5) == []


def test_html_and_pdf_print_the_same_cells_and_no_small_number(built: tuple[Store, YearlyReport, Path]) -> None:
    _, report, out = built
    html = (out / f"bilan-clas-{YEAR}.html").read_text(encoding="utf-8")
    cells = re.findall(r'data-key="([^"]+)"[^>]*>(?:<td[^>]*>[^<]*</td><td class="num">)?([^<]*)<', html)
    printed = dict(cells)
    assert len(printed) > 50
    for key, shown_text in printed.items():
        assert html_lib.unescape(shown_text).strip() == _text(report, key), key
        if not key.startswith("capacity:") and shown_text.strip().isdigit():
            assert not 0 < int(shown_text) < 5, key
    assert "Secret statistique" in html and "&lt; 5" in html and html.count("data:image/png;base64,") == 8
    for forbidden in ("Prénom", "Nom1", "enseignant1@", "FO-2026-"):
        assert forbidden not in html
    with pdfplumber.open(out / f"bilan-clas-{YEAR}.pdf") as pdf:
        words = "\n".join(page.extract_text() or "" for page in pdf.pages)
        images = sum(len(page.images) for page in pdf.pages)
    assert images == 8  # every chart is in the PDF
    assert "Secret statistique" in words and f"{report.total.text} fiches valides" in words
    for row in report.table("outcome").rows + report.table("level").rows:
        assert f"{row.label} {row.text}" in words, row.key
    for forbidden in ("Prénom", "enseignant1@", "FO-2026-"):
        assert forbidden not in words


def _text(report: YearlyReport, key: str) -> str:
    from pipeline.reporting.suppression import label

    return label(report.shown[key], report.values[key], 5) if not key.startswith("capacity:") \
        else str(report.values[key])


def test_a_hidden_level_count_cannot_be_recomputed_from_the_school_table(tmp_path: Path) -> None:
    """An attack of 2026-12-07: 2 referrals in 6e, shown « < 5 », came back as the only collège's printed count
    less the other collège levels (9 - 7 - 0 - 0), and the « s » hiding CM2 as the école's count less CP-CM1:
    validation refuses a level a school does not teach, so a reader knows those sums."""
    from pipeline.reporting.suppression import Equation
    from pipeline.store import ReferralRow

    store = Store(f"sqlite:///{tmp_path / 'clas.sqlite3'}")
    directory = load_directory(Settings().directory_file)
    plan = {("ee-jules-ferry", "CP"): 8, ("ee-jules-ferry", "CE1"): 8, ("ee-jules-ferry", "CE2"): 8,
            ("ee-jules-ferry", "CM1"): 8, ("ee-jules-ferry", "CM2"): 5,
            ("clg-claude-monet", "6E"): 2, ("clg-claude-monet", "5E"): 7}
    n = 0
    with store.session() as s:
        for (school, level), count in plan.items():
            for _ in range(count):
                n += 1
                s.add(ReferralRow(form_id=f"FO-2026-{n:06d}", school_year=YEAR, pupil_key=f"{n:064x}",
                                  school_id=school, class_level=level, status="waiting_list", carrier_id=None,
                                  data={"criteria": ["methode"], "criteria_other_text": None}))
    with store.session() as s:
        report = yearly_report(s, directory, YEAR, ReportSettings(), NOW)
    store.close()
    # What a reader knows, written out here from the directory (not from the product's own equations).
    college = [f"level:{lv}" for lv in ("6E", "5E", "4E", "3E")]
    elementary = [f"level:{lv}" for lv in ("CP", "CE1", "CE2", "CM1", "CM2")]
    kind_of = {sc.id: sc.kind.value for sc in directory.schools}
    colleges = [f"school:{sid}" for sid, kind in kind_of.items() if sid and "coll" in kind.lower()]
    ecoles = [f"school:{sid}" for sid, kind in kind_of.items() if f"school:{sid}" not in colleges]
    reader = [*report.equations, Equation(tuple((k, 1) for k in college) + tuple((k, -1) for k in colleges)),
              Equation(tuple((k, 1) for k in elementary) + tuple((k, -1) for k in ecoles))]

    assert report.shown["level:6E"] is not Shown.VALUE and colleges and ecoles
    assert recoverable_small_cells(report.values, report.shown, reader, 5) == []
