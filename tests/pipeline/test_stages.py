"""The run's stages without Prefect: duplicates of pupils and files, places counted in the store."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

from pipeline.form.render import Rendering, render_form
from pipeline.privacy.keys import pupil_hash_key
from pipeline.settings import Settings
from pipeline.stages import (
    SKIPPED,
    RunContext,
    decide_and_record,
    group_forms,
    is_duplicate,
    read_file,
    receive_file,
    record_duplicate,
    summarise,
)
from pipeline.store import ReferralRow
from samples.generator import generate_documents
from samples.kinds import SampleKind
from schemas.directory import Carrier, Directory


def _run(ctx: RunContext, inbox: Path) -> list:  # noqa: ANN001
    """One run over ``inbox`` in the nightly flow's order, without Prefect."""
    run_id = ctx.store.start_run("test")
    results, readings, duplicates, seen = [], [], [], set()
    for path in sorted(inbox.iterdir()):
        received = receive_file(ctx, path, "test")
        if not hasattr(received, "stored_path"):
            results.append(received)
        elif is_duplicate(ctx, received, seen):
            duplicates.append(received)
        else:
            seen.add(received.sha256)
            readings.append(read_file(ctx, received))
    groups, failures = group_forms(readings)
    assert failures == []
    for group in groups:
        results.extend(decide_and_record(ctx, run_id, group))
    results.extend(record_duplicate(ctx, run_id, doc) for doc in duplicates)
    return results


def _render(values: dict, serial: str) -> bytes:  # noqa: ANN001
    buf = io.BytesIO()
    render_form(buf, serial, Rendering.FILLED, values, signature_seed=1)
    return buf.getvalue()


def test_same_pupil_twice_in_a_year_goes_to_staff_not_to_a_second_carrier(
        tmp_path: Path, settings: Settings, directory: Directory) -> None:
    values = dict(generate_documents(SampleKind.TEXT_PDF, 0, 31, directory)[0].truth["values"])
    ctx = RunContext(settings)
    first, second = tmp_path / "run1", tmp_path / "run2"
    first.mkdir()
    second.mkdir()
    (first / "fiche.pdf").write_bytes(_render(values, "FO-2026-500001"))
    again = dict(values, pupil_surname=values["pupil_surname"].lower(), observations="Nouvelle fiche.")
    (second / "fiche-bis.pdf").write_bytes(_render(again, "FO-2026-500002"))  # another copy, same pupil

    [r1] = _run(ctx, first)
    [r2] = _run(ctx, second)
    assert r1.outcome in {"routed", "waiting_list"}
    assert r2.outcome == "review"
    assert r2.reason_codes == ("pupil_already_referred",)
    ctx.close()


def test_rerun_skips_and_copies_are_duplicates(tmp_path: Path, settings: Settings, directory: Directory) -> None:
    doc = generate_documents(SampleKind.TEXT_PDF, 1, 31, directory)[0]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.pdf").write_bytes(doc.data)
    (inbox / "b.pdf").write_bytes(doc.data)
    ctx = RunContext(settings)
    summary = summarise(_run(ctx, inbox))
    assert summary.received == 2 and summary.balanced
    assert summary.counts.get("duplicate") == 1
    again = summarise(_run(ctx, inbox))
    assert (again.received, again.already_processed) == (0, 2)
    assert all(r.outcome == SKIPPED for r in _run(ctx, inbox))
    ctx.close()


def _first_routed(tmp_path: Path, settings: Settings, directory: Directory,
                  serial: str) -> tuple[RunContext, dict, Carrier]:
    """A run routing one valid form (seed chosen so that its school and level have carriers): the run's context,
    the form's values and the carrier it went to."""
    values = dict(generate_documents(SampleKind.TEXT_PDF, 2, 31, directory)[0].truth["values"])
    ctx = RunContext(settings)
    inbox = tmp_path / "first"
    inbox.mkdir()
    (inbox / "f.pdf").write_bytes(_render(values, serial))
    [result] = _run(ctx, inbox)
    assert result.outcome == "routed"
    return ctx, values, directory.carrier(result.carrier_id)


def test_places_run_out_and_the_next_carrier_or_waiting_list_takes_over(
        tmp_path: Path, settings: Settings, directory: Directory) -> None:
    """Fill the first carrier's places through the store: the routing moves on, never overbooks."""
    ctx, values, carrier = _first_routed(tmp_path, settings, directory, "FO-2026-600000")
    carriers_seen = [carrier.id]
    for i in range(1, carrier.places + 1):
        inbox = tmp_path / f"run{i}"
        inbox.mkdir()
        first = "Prenom" + "".join("abcdefghij"[int(d)] for d in f"{i:03d}")  # a name is letters only, every source
        pupil = dict(values, pupil_first_name=first, p2_pupil_first_name=first)
        (inbox / "f.pdf").write_bytes(_render(pupil, f"FO-2026-6{i:05d}"))
        [r] = _run(ctx, inbox)
        carriers_seen.append(r.carrier_id or r.outcome)
    used = ctx.store.places_used(settings.school_year)
    assert used[carrier.id] == carrier.places  # exactly full, never more
    assert carriers_seen[-1] != carrier.id  # the last one went elsewhere or to the waiting list
    ctx.close()


def test_a_run_deciding_while_a_reviewer_takes_the_last_place_does_not_take_it_too(
        tmp_path: Path, settings: Settings, directory: Directory) -> None:
    """The run counts places under the lock a desk approval holds (``Store.lock_places``): it waits, then sees the
    place taken. Counted outside it, the run saw the place free and overbooked the carrier."""
    ctx, values, carrier = _first_routed(tmp_path, settings, directory, "FO-2026-700000")
    with ctx.store.session() as s:  # all its places but one taken
        for i in range(1, carrier.places - 1):
            s.add(ReferralRow(form_id=f"FO-2026-71{i:04d}", school_year=settings.school_year, pupil_key=f"k{i}",
                              school_id="x", class_level="CM1", status="routed", carrier_id=carrier.id, data={}))
    inbox = tmp_path / "second"
    inbox.mkdir()
    pupil = dict(values, pupil_first_name="Prenomb", p2_pupil_first_name="Prenomb")
    (inbox / "f.pdf").write_bytes(_render(pupil, "FO-2026-700001"))
    received = receive_file(ctx, inbox / "f.pdf", "test")
    [group], failures = group_forms([read_file(ctx, received)])
    assert failures == []
    run_id = ctx.store.start_run("test")

    held, release = threading.Event(), threading.Event()

    def reviewer() -> None:  # approves another pupil to the carrier's last place, slowly
        with ctx.store.session() as s:
            ctx.store.lock_places(s)
            s.add(ReferralRow(form_id="FO-2026-719999", school_year=settings.school_year, pupil_key="desk",
                              school_id="x", class_level="CM1", status="routed", carrier_id=carrier.id, data={}))
            held.set()
            release.wait(10)

    desk = threading.Thread(target=reviewer)
    desk.start()
    assert held.wait(10)
    threading.Timer(0.5, release.set).start()
    [r] = decide_and_record(ctx, run_id, group)
    desk.join()
    assert ctx.store.places_used(settings.school_year)[carrier.id] == carrier.places  # full, not one over
    assert r.carrier_id != carrier.id
    ctx.close()



def test_page_2_in_a_separate_file_of_the_same_run_is_assembled_into_one_referral(
        tmp_path: Path, settings: Settings, directory: Directory) -> None:
    """Pages are assembled by their serial across the run's files, never by file name or order."""
    import hashlib
    from datetime import datetime

    from pipeline.deciding.decide import pupil_key
    from samples.generator import write_text_pdf

    doc = generate_documents(SampleKind.TEXT_PDF, 2, 31, directory)[0]
    values, serial = dict(doc.truth["values"]), str(doc.truth["form_id"])
    page2, page1 = write_text_pdf(values, serial, 5, pages=(2,)), write_text_pdf(values, serial, 5, pages=(1,))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # Page 2 comes first in the inbox's order, and another form's file sits between the two pages.
    (inbox / "a-page2.pdf").write_bytes(page2)
    (inbox / "b-autre.pdf").write_bytes(generate_documents(SampleKind.TEXT_PDF, 3, 31, directory)[0].data)
    (inbox / "c-page1.pdf").write_bytes(page1)
    ctx = RunContext(settings)

    results = {r.sha256: r for r in _run(ctx, inbox)}

    assert len(results) == 3
    ours = [results[hashlib.sha256(data).hexdigest()] for data in (page2, page1)]
    assert ours[0].outcome == ours[1].outcome == "routed"  # seed chosen so that this school has carriers
    assert ours[0].carrier_id == ours[1].carrier_id is not None
    assert not any("missing_page" in r.reason_codes for r in results.values())
    birth = datetime.strptime(str(values["pupil_birth_date"]), "%d/%m/%Y").date()
    key = pupil_key(str(values["pupil_surname"]), str(values["pupil_first_name"]), birth, pupil_hash_key(settings))
    with ctx.store.session() as s:
        assert ctx.store.earlier_referral(s, key, settings.school_year) == serial  # one referral, this pupil
    ctx.close()


def test_a_run_stops_before_reading_when_the_second_readers_model_is_not_the_measured_one(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.reading.scan import second_reader
    from pipeline.stages import _CONTEXTS, run_context

    monkeypatch.setattr(second_reader, "MODEL_SHA256", "0" * 64)
    with pytest.raises(second_reader.SecondReaderError) as caught:
        run_context(settings, check_readers=True)
    assert settings not in _CONTEXTS  # nothing opened, nothing read
    assert "make venv" in caught.value.reason_fr and "PP-OCRv6" in caught.value.reason_fr


def test_a_run_with_nothing_to_read_does_not_check_the_readers(settings: Settings,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.reading.scan import second_reader
    from pipeline.stages import _CONTEXTS, close_run_contexts, run_context

    monkeypatch.setattr(second_reader, "MODEL_SHA256", "0" * 64)
    try:
        ctx = run_context(settings, check_readers=False)  # an empty inbox: the model is not hashed
        assert _CONTEXTS[settings] is ctx
        assert run_context(settings) is ctx  # the tasks after it reuse the context, unchecked
        # A later run of the same long-lived process has files to read: it checks, although the context is open.
        with pytest.raises(second_reader.SecondReaderError):
            run_context(settings, check_readers=True)
    finally:
        close_run_contexts()
