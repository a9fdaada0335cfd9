"""The yearly report on the desk: the same figures and charts as ``clas-referrals report``, for staff and admins.

Carriers never see it (:data:`web.deps.StaffDep`): it counts every carrier's referrals. Counts only, small
counts hidden by the same rule (:mod:`pipeline.reporting.suppression`); the PDF is offered for download.
Each view is audited (who, which year), without any figure.
"""

from __future__ import annotations

import re
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from pipeline.reporting.charts import report_charts
from pipeline.reporting.figures import YearlyReport, yearly_report
from pipeline.reporting.render import render_pdf, report_context
from pipeline.store import AuditRow, utcnow
from web.carrier_queue import settle_refusals
from web.deps import Services, ServicesDep, StaffDep, render

router = APIRouter(prefix="/report")
YEAR_RE = re.compile(r"^(\d{4})-(\d{4})$")


def _year(services: Services, year: str | None) -> str:
    """The school year asked for (``AAAA-AAAA``), the configured one by default.

    Raises:
        HTTPException: 404 for anything else.
    """
    if year is None:
        return services.settings.school_year
    m = YEAR_RE.match(year)
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise HTTPException(status_code=404, detail="Année scolaire inconnue (forme attendue : 2026-2027).")
    return year


def _report(services: Services, year: str, now: datetime, username: str, action: str) -> YearlyReport:
    settle_refusals(services.store, services.web.followup_undo)  # places freed by refusals that stand
    with services.store.session() as s:
        report = yearly_report(s, services.directory, year, services.settings.report, now)
        s.add(AuditRow(actor=username, action=action, detail=f"school year {year}"))
    return report


@router.get("")
def report_page(request: Request, services: ServicesDep, user: StaffDep, year: str | None = None) -> Response:
    """The report's page: its text, charts and tables (staff and admins)."""
    chosen = _year(services, year)
    report = _report(services, chosen, utcnow(), user.username, "report_viewed")
    context = report_context(report, report_charts(report, services.settings.report))
    return render(request, services, "report.html", context, user)


@router.get("/pdf")
def report_pdf(services: ServicesDep, user: StaffDep, year: str | None = None) -> Response:
    """The report as PDF, the same file ``clas-referrals report`` writes."""
    chosen = _year(services, year)
    report = _report(services, chosen, utcnow(), user.username, "report_downloaded")
    pdf = render_pdf(report, report_charts(report, services.settings.report), services.settings.report)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="bilan-clas-{chosen}.pdf"'})
