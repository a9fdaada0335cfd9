"""Shared fixtures (settings on a temporary database and data folder, the demo directory, one Prefect server a test
process for the flows run in-process) and the markers of the tests that start a server.

A test that uses a fixture of ``SERVER_FIXTURES``, directly or through another fixture, gets that
fixture's marker; a test that starts a server by other means (a subprocess, a server opened in its
body) carries the marker itself. ``make test-fast`` deselects the four markers, which pyproject.toml
registers: ``browser``, ``postgres``, ``mail_server`` and ``prefect_server``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.deciding.directory import load_directory
from pipeline.settings import Settings
from schemas.directory import Directory
from tests.support.mail_servers import free_port
from tests.support.prefect_server import PrefectServer, prefect_server, reporting_to

PROJECT = Path(__file__).resolve().parent.parent
SAMPLES_INBOX = PROJECT / "samples" / "inbox"
SAMPLES_TRUTH = PROJECT / "samples" / "truth"

NO_LOCAL_PREFECT_SERVER = f"http://127.0.0.1:{free_port()}/api"
"""Where the tests' runs look for a long-lived local Prefect server (``CLAS_SCALE__PREFECT_LOCAL_API_URL``): a port
nothing listens on. The default, 127.0.0.1:4200, is where ``make prefect-server`` serves a developer's own server;
a run that found it there reported to it instead of starting its temporary server, and the crash test that kills
a run and looks for the temporary server it left failed on a machine where that server was up (2026-12-07). Set in
the test process's environment, which the runs it starts inherit; a test that strips ``CLAS_*`` from a run's
environment passes it again, and a test that wants a server gives its own address."""
os.environ.setdefault("CLAS_SCALE__PREFECT_LOCAL_API_URL", NO_LOCAL_PREFECT_SERVER)

SERVER_FIXTURES: dict[str, str] = {
    "harness": "prefect_server",  # the session's Prefect server (``prefect server start`` in a subprocess)
    "prefect_api": "prefect_server",  # the same server, for tests that talk to it themselves
    "imap": "mail_server",  # Dovecot (tests/support/mail_servers.py)
    "smtp": "mail_server",  # aiosmtpd on loopback (tests/support/mail_servers.py)
    "pg_server": "postgres",  # a throwaway PostgreSQL cluster (tests/support/postgres.py)
    "browser": "browser",  # Debian's chromium driven by Playwright (tests/web/test_browser.py)
    "base_url": "browser",  # uvicorn serving the review desk to that browser
}
"""Fixtures that start a server, and the marker each gives the tests that use it."""


SLOW_TESTS: frozenset[str] = frozenset({
    "tests/bench/test_benchmark.py::test_a_tick_box_under_a_stamp_is_counted_for_a_person_not_as_read_wrong",
    "tests/bench/test_benchmark.py::test_digital_forms_score_every_accepted_field_right",
    "tests/bench/test_benchmark.py::test_forms_benchmarked_side_by_side_sum_to_the_same_figures",
    "tests/flows/test_dask.py::test_a_local_clusters_workers_and_their_reading_processes_are_bound_to_their_cores",
    "tests/pipeline/intake/test_mail.py::test_multi_page_tiff_and_heic_are_documents",
    "tests/pipeline/reading/scan/test_comb_cells.py::test_a_dates_slash_blurred_onto_a_cell_is_not_read_as_ink",
    "tests/pipeline/reading/scan/test_constrained.py::test_the_shortlist_does_not_depend_on_the_hash_seed",
    "tests/pipeline/reading/scan/test_digit_model.py::test_handwritten_comb_digits_measured",
    "tests/pipeline/reading/scan/test_hand.py::test_typed_zones_match_their_value_typed_again_and_handwritten_ones_do_not",
    "tests/pipeline/reading/scan/test_page.py::test_cancelled_box_is_not_a_tick_and_two_levels_lower_confidence",
    "tests/pipeline/reading/test_calibration.py::test_verifications_simulated_from_truth_on_generated_hand_forms",
    "tests/pipeline/reading/test_pdf.py::test_checkbox_on_state_names_all_read",
    "tests/pipeline/reading/test_pdf.py::test_digital_forms_are_read_exactly",
    "tests/pipeline/reading/test_pdfium_threads.py::test_pdfium_rendering_from_several_threads_at_once_does_not_crash",
    "tests/pipeline/reading/test_read_copies.py::test_a_first_name_whose_case_only_height_tells_goes_to_a_person",
    "tests/pipeline/reading/test_read_copies.py::test_a_one_pixel_streak_and_two_streaks_side_by_side_are_found_and_dropped",
    "tests/pipeline/reading/test_read_copies.py::test_fax_is_read_at_square_pixels_with_or_without_its_resolution",
    "tests/pipeline/reading/test_read_copies.py::test_generated_stamps_never_leave_a_wrong_confident_value",
    "tests/pipeline/reading/test_read_copies.py::test_photocopy_of_a_photocopy_never_misroutes",
    "tests/pipeline/reading/test_read_copies.py::test_photocopy_streaks_beside_the_values_are_dropped_and_specks_at_the_ends_too",
    "tests/pipeline/reading/test_read_copies.py::test_scanned_pdf_with_page_2_first_is_assembled_by_qr",
    "tests/pipeline/reading/test_read_copies.py::test_two_pages_in_one_image_are_cut_apart_and_routed",
    "tests/pipeline/reading/test_read_hand_marks.py::test_issue_3_scan_hand_marks_20_a_surname_misread_beside_its_email_goes_to_a_person",
    "tests/pipeline/reading/test_read_handwriting.py::test_a_handwritten_school_is_vouched_by_the_directory_and_the_ticked_level",
    "tests/pipeline/reading/test_read_handwriting.py::test_every_handwritten_value_is_right_or_below_the_review_threshold",
    "tests/pipeline/reading/test_read_handwriting.py::test_handwritten_form_goes_to_review_with_its_doubtful_fields_and_crops",
    "tests/pipeline/reading/test_read_odd_images.py::test_a_16_bit_or_transparent_page_is_read_through",
    "tests/pipeline/reading/test_read_odd_images.py::test_a_blurred_phone_photo_stored_turned_with_its_exif_tag_is_identified",
    "tests/pipeline/reading/test_read_odd_images.py::test_a_dim_16_bit_scan_is_identified_once_its_contrast_is_stretched",
    "tests/pipeline/reading/test_read_photos.py::test_a_blurred_heic_photo_is_sharpened_before_ocr",
    "tests/pipeline/reading/test_read_photos.py::test_a_phone_photo_stating_72_dpi_keeps_its_text_confidences",
    "tests/pipeline/reading/test_read_photos.py::test_a_photo_zone_whose_readers_differ_is_settled_by_the_grey_photo_and_not_read_a_third_time",
    "tests/pipeline/reading/test_read_photos.py::test_typed_zones_blur_pulls_off_one_baseline_are_read_as_typed",
    "tests/pipeline/reading/test_read_v2.py::test_a_handwritten_version_2_form_is_read_against_what_was_written",
    "tests/pipeline/reading/test_read_v2.py::test_a_light_pens_thin_strokes_reach_the_comb_readers",
    "tests/pipeline/reading/test_register.py::test_photo_with_three_anchors_under_sticky_notes_is_read_on_form_features",
    "tests/pipeline/reading/test_text_register.py::test_a_moved_born_digital_page_is_read_exactly",
    "tests/pipeline/reading/test_text_register.py::test_a_page_no_similarity_places_is_read_as_a_scan",
    "tests/pipeline/test_stages.py::test_places_run_out_and_the_next_carrier_or_waiting_list_takes_over",
    "tests/samples/test_generator.py::test_a_photo_forms_first_page_alone_is_the_same_file_as_in_the_whole_form",
    "tests/samples/test_handwriting.py::test_generator_writes_by_hand_with_ground_truth",
    "tests/web/test_load.py::test_thirty_reviewers_decide_concurrently_without_error_or_lost_decision",
    "tests/web/test_quarantine.py::test_the_overview_shows_files_received_and_forms_side_by_side",
    "tests/web/test_security.py::test_thirty_wrong_passwords_are_slowed_then_locked_and_audited",
})
"""The slowest tests of the fast tier (``path::name``, parameters aside): 10 s or more each in
``pytest -n 2 --durations=40`` on the shared 2-core machine at load 12-15 (issue 19), or 3.5 s or more on the quiet
machine (``--durations=60`` of ``make test-fast`` in a fresh clone, 2026-12-07: the tier took 2 min 14 s, over its
2-minute target), mostly end-to-end readings of generated photos, copies and handwriting. They get the ``slow``
marker: ``make test`` runs them, ``make test-fast`` leaves them out; each of their modules keeps faster tests in the
tier. Listed here rather than marked in their modules, so the list is one place."""


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a server fixture, so that ``-m "not prefect_server"`` and the like leave it out;
    mark the tests of :data:`SLOW_TESTS` ``slow``."""
    for item in items:
        for name in sorted(set(item.fixturenames) & SERVER_FIXTURES.keys()):
            item.add_marker(SERVER_FIXTURES[name])
        if item.nodeid.partition("[")[0] in SLOW_TESTS:
            item.add_marker("slow")


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings pointing at a fresh SQLite file and data folder under ``tmp_path``."""
    monkeypatch.setenv("CLAS_DATABASE_URL", f"sqlite:///{tmp_path / 'clas.sqlite3'}")
    monkeypatch.setenv("CLAS_DATA_DIR", str(tmp_path / "data"))
    return Settings()


@pytest.fixture(scope="session")
def directory() -> Directory:
    """The demo city's directory shipped with the package."""
    return load_directory(Settings().directory_file)


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[PrefectServer]:
    """A real Prefect server on loopback (``prefect server start``), started once for the test process.

    Every test that runs a flow shares it (issue 19): a server start took 10-17 s, and a fresh server for each
    module that ran a flow (Prefect's ``prefect_test_harness``) cost 12 starts, about 140 s of a 964 s ``make test``
    (pytest's junit times, 2026-12-06); with ``-n 2`` each of the two test processes starts one. A test that reads
    back what the server holds reads its own flow run's logs and artifacts, never the server's whole content.
    """
    with prefect_server() as server:
        yield server


@pytest.fixture(scope="module")
def harness(prefect_api: PrefectServer) -> Iterator[None]:
    """In-process flow runs of the module report to the session's Prefect server (:func:`prefect_api`)."""
    with reporting_to(prefect_api):
        yield
