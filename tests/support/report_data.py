"""A store with known referrals and outcomes for the yearly report's tests (invented, no reading involved).

``fill_report_store`` writes referrals of one school year straight into the tables the pipeline and the
desk write (``referrals``, ``carrier_followups``), from a seeded draw over the demo directory: levels,
schools, criteria, statuses (routed, waiting list, declined, review), enrolments with their dates.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import web.desk_models  # noqa: F401 - registers the desk tables on Base
from pipeline.deciding.route import rank_candidates
from pipeline.form.definition import CRITERIA_GROUPS
from pipeline.store import REFERRAL_DECLINED, REFERRAL_WITHDRAWN, ReferralRow, Store
from schemas.directory import ClassLevel, Directory
from web.models import CarrierFollowUpRow

YEAR = "2026-2027"
START = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)
CODES = [code for _, options in CRITERIA_GROUPS for code, _ in options]


def fill_report_store(store: Store, directory: Directory, *, n: int = 160, seed: int = 20,
                      school_year: str = YEAR) -> None:
    """Write ``n`` referrals of ``school_year`` (and 7 of the year before, which the report must ignore)."""
    rng = random.Random(seed)
    schools = list(directory.schools)
    weights = [rng.choice((1, 2, 3, 8, 15)) for _ in schools]  # some schools refer a lot, some very little
    used: dict[str, int] = {}
    with store.session() as s:
        for i in range(n + 7):
            year = school_year if i < n else "2025-2026"
            school = rng.choices(schools, weights)[0]
            level = rng.choice(school.levels)
            if i % 23 == 0:  # a level no carrier of its neighbourhood takes: no place at all
                school, level = directory.school("clg-claude-monet"), ClassLevel.TROISIEME
            ranked = rank_candidates(school.id, school.neighbourhood, level, directory, {})
            created = START + timedelta(days=rng.randint(0, 200), hours=rng.randint(0, 9))
            draw = rng.random()
            if not ranked or draw < 0.12:
                status, carrier = "waiting_list", None
            elif draw < 0.17:
                status, carrier = "review", None
            elif draw < 0.27:
                status, carrier = REFERRAL_DECLINED, ranked[0].carrier.id
            else:
                free = [c.carrier.id for c in ranked[:2] if used.get(c.carrier.id, 0) < c.carrier.places]
                status, carrier = ("routed", rng.choice(free)) if free else ("waiting_list", None)
                if carrier is not None and year == school_year:
                    used[carrier] = used.get(carrier, 0) + 1
            criteria = sorted(set(rng.sample(CODES, rng.randint(1, 4))))
            data = {"criteria": criteria, "criteria_other_text": "Timidité" if rng.random() < 0.05 else None,
                    "pupil": {"first_name": f"Prénom{i}", "surname": f"Nom{i}"},
                    "referrer": {"role": "enseignant", "name": f"M. Enseignant{i}",
                                 "email": f"enseignant{i}@ac-versailles.example", "class_name": level.label_fr}}
            row = ReferralRow(form_id=f"FO-2026-{i + 1:05d}", school_year=year, pupil_key=f"k{i:03d}",
                              school_id=school.id, class_level=ClassLevel(level).value, status=status,
                              carrier_id=carrier, data=data, created_at=created)
            s.add(row)
            s.flush()
            if status == "routed" and rng.random() < 0.6:
                if rng.random() < 0.12:  # enrolled, then left during the year: the place is freed
                    row.status = REFERRAL_WITHDRAWN
                    if year == school_year:
                        used[carrier] -= 1
                s.add(CarrierFollowUpRow(referral_id=row.id, acknowledged_at=created, acknowledged_by="structure",
                                         outcome="enrolled", outcome_at=created + timedelta(days=rng.randint(1, 90)),
                                         outcome_by="structure"))
            elif status == REFERRAL_DECLINED:
                s.add(CarrierFollowUpRow(referral_id=row.id, outcome="declined", outcome_by="structure",
                                         outcome_at=created + timedelta(days=3)))
