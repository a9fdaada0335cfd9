"""Forms carrying distinctive invented personal data, to search for in logs, artifacts and files.

The values are invented and unusual on purpose, so that finding one of them anywhere
outside the database can only mean a leak. Also: the pipeline stages run on such an
inbox without Prefect, and the database dumped as text to search it.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import inspect, text

from pipeline.form.render import Rendering, render_form
from pipeline.settings import Settings
from pipeline.stages import RunContext, decide_and_record, group_forms, read_file, receive_file, record_duplicate
from pipeline.store import Store
from samples.generator import generate_documents
from samples.kinds import SampleKind
from schemas.directory import Directory

PUPIL_SURNAME = "ZORGLUBINSKA"
PUPIL_FIRST_NAME = "Quentaline"
PUPIL_ADDRESS = "17 rue des Xylophones Mauves"
GUARDIAN_SURNAME = "VASTRAGONEL"
GUARDIAN_FIRST_NAME = "Ophrasie"
GUARDIAN_PHONE = "0687654321"
GUARDIAN_EMAIL = "ophrasie.vastragonel@orange.fr"

SECRETS = (PUPIL_SURNAME, PUPIL_FIRST_NAME, "Xylophones", GUARDIAN_SURNAME, GUARDIAN_FIRST_NAME,
           GUARDIAN_PHONE, "687654321", "06 87 65 43 21", "ophrasie.vastragonel")
"""Every string whose presence outside the database is a leak (the phone in each of its shapes)."""


def distinctive_values(directory: Directory, seed: int = 7) -> dict[str, object]:
    """A complete, valid set of form values with the distinctive identity above."""
    values = dict(generate_documents(SampleKind.TEXT_PDF, 0, seed, directory)[0].truth["values"])  # type: ignore[call-overload]
    values.update({"pupil_surname": PUPIL_SURNAME, "p2_pupil_surname": PUPIL_SURNAME,
                   "pupil_first_name": PUPIL_FIRST_NAME, "p2_pupil_first_name": PUPIL_FIRST_NAME,
                   "pupil_address": PUPIL_ADDRESS, "guardian1_surname": GUARDIAN_SURNAME,
                   "guardian1_first_name": GUARDIAN_FIRST_NAME, "guardian1_phone": GUARDIAN_PHONE,
                   "guardian1_email": GUARDIAN_EMAIL})
    return values


def write_distinctive_inbox(inbox: Path, directory: Directory) -> list[Path]:
    """Write forms with the distinctive identity, named after the pupil as schools often do.

    * a filled PDF (routed), named after the pupil;
    * the same pupil on a fillable PDF with another serial (review: already referred);
    * a filled PDF without the family's agreement and with a malformed e-mail (review);
    * a copy of the first file under another name (duplicate).
    """
    inbox.mkdir(parents=True, exist_ok=True)
    values = distinctive_values(directory)
    files: list[Path] = []

    def write(name: str, serial: str, rendering: Rendering, vals: dict[str, object]) -> None:
        buf = io.BytesIO()
        render_form(buf, serial, rendering, vals)  # type: ignore[arg-type]
        path = inbox / name
        path.write_bytes(buf.getvalue())
        files.append(path)

    write(f"Fiche {PUPIL_SURNAME} {PUPIL_FIRST_NAME}.pdf", "FO-2026-913001", Rendering.FILLED, values)
    write(f"{GUARDIAN_SURNAME} {GUARDIAN_PHONE}.pdf", "FO-2026-N91302", Rendering.FILLABLE, values)
    invalid = {**values, "agreement_data_sharing": False, "guardian1_email": "ophrasie.vastragonel@@orange"}
    write(f"{PUPIL_SURNAME} sans accord.pdf", "FO-2026-913003", Rendering.FILLED, invalid)
    copy = inbox / f"renvoi {PUPIL_FIRST_NAME}.pdf"
    copy.write_bytes(files[0].read_bytes())
    files.append(copy)
    return files


def find_secrets(text: str) -> list[str]:
    """The distinctive strings found in ``text`` (case-insensitive)."""
    lowered = text.lower()
    return [s for s in SECRETS if s.lower() in lowered]


def distinctive_birth_date(directory: Directory) -> date:
    """The distinctive pupil's birth date, as the family's rights are asked with it."""
    return datetime.strptime(str(distinctive_values(directory)["pupil_birth_date"]), "%d/%m/%Y").date()


def process_inbox(settings: Settings, inbox: Path) -> None:
    """One run of the pipeline stages (no Prefect), as the nightly flow orders them."""
    ctx = RunContext(settings)
    run_id = ctx.store.start_run("test")
    readings, duplicates, seen = [], [], set()
    for path in sorted(inbox.iterdir()):
        doc = receive_file(ctx, path, "test")
        if doc.sha256 in seen:  # type: ignore[union-attr]
            duplicates.append(doc)
            continue
        seen.add(doc.sha256)  # type: ignore[union-attr]
        readings.append(read_file(ctx, doc))  # type: ignore[arg-type]
    groups, failures = group_forms(readings)
    assert not failures
    for group in groups:
        decide_and_record(ctx, run_id, group)
    for doc in duplicates:
        record_duplicate(ctx, run_id, doc)  # type: ignore[arg-type]
    ctx.close()


def dump_tables(store: Store) -> str:
    """Every row of every table, as text (to search for personal data)."""
    with store.session() as s:
        names = inspect(s.connection()).get_table_names()
        return "\n".join(str(tuple(r)) for name in names for r in s.execute(text(f'SELECT * FROM "{name}"')))
