"""The reading workers' forkserver holds the blank form at the resolutions the readers compare pages with."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from pipeline.form.definition import PAGE_HEIGHT_PT, PAGE_WIDTH_PT, form_v1
from pipeline.form.template_image import blank_page_image
from pipeline.reading.register import FEATURE_DPI
from pipeline.reading.scan.foreign_ink import WORK_DPI, template_ink
from pipeline.reading.worker_preload import warm_templates
from pipeline.settings import OmrSettings
from pipeline.settings.registration import IdentificationSettings


def test_warm_templates_fills_the_caches_the_readers_hit() -> None:
    definition, identification, omr = form_v1(), IdentificationSettings(), OmrSettings()
    warm_templates(definition, identification, omr)
    pages_before, masks_before = blank_page_image.cache_info(), template_ink.cache_info()

    for number in (1, 2):
        for dpi in (FEATURE_DPI, identification.layout_dpi):
            image = blank_page_image(number, dpi, definition.version)
            assert image.shape == (round(PAGE_HEIGHT_PT * dpi / 72), round(PAGE_WIDTH_PT * dpi / 72))
            assert (image < 128).mean() > 0.01  # the printed form, not a blank raster
        mask = template_ink(definition.version, number, WORK_DPI, omr.foreign_template_tolerance_pt,
                            omr.template_ink_grey_max)
        assert mask.dtype == np.bool_ and mask.any()

    assert blank_page_image.cache_info().hits == pages_before.hits + 4
    assert blank_page_image.cache_info().misses == pages_before.misses
    assert template_ink.cache_info().hits == masks_before.hits + 2


def _opencv_threads_changed_twice() -> tuple[int, int]:
    """In a reading worker: parallel OpenCV work, its thread count changed to 1 and back, then its count."""
    import cv2

    page = np.zeros((3508, 2480), np.uint8)
    page[::7, ::5] = 255
    cv2.resize(page, (827, 1169), interpolation=cv2.INTER_AREA)
    default = cv2.getNumThreads()
    cv2.setNumThreads(1)
    cv2.resize(page, (827, 1169), interpolation=cv2.INTER_AREA)
    cv2.setNumThreads(default)
    small = cv2.resize(page, (827, 1169), interpolation=cv2.INTER_AREA)
    return default, int(small.max())


def test_a_reading_worker_runs_opencv_on_a_pool_of_its_own() -> None:
    """A worker forked from a forkserver whose OpenCV pool had started ran OpenCV on one thread and hung when its
    thread count changed (this function timed out); it now starts with OpenCV's default count and its own pool."""
    from pipeline.reading.limits import run_limited
    from pipeline.settings import LimitSettings

    default, ink = run_limited(_opencv_threads_changed_twice, (), LimitSettings(document_timeout_s=60))
    # OpenCV's default, from a fresh interpreter: this test process may have imported the forkserver's module.
    fresh = subprocess.run([sys.executable, "-c", "import cv2; print(cv2.getNumThreads())"], capture_output=True,
                           text=True, check=True)
    assert default == int(fresh.stdout)
    assert ink > 0


def _first_use_caches() -> dict[str, int]:
    """In a reading worker, before any document: how full the caches a first document used to fill are."""
    import sys

    from pipeline.reading.field_lexicons import language_names, school_names, town_names, town_postcodes
    from pipeline.reading.french_words import french_words
    from pipeline.reading.lexicon import _folded_entries

    caches = {f.__name__: f.cache_info().currsize
              for f in (_folded_entries, language_names, school_names, town_names, town_postcodes, french_words)}
    modules = ("PIL.JpegImagePlugin", "PIL.TiffImagePlugin", "pdfplumber.display", "pypdf.filters", "_strptime")
    return {**caches, **{m: int(m in sys.modules) for m in modules}}


def test_a_reading_worker_starts_with_the_lexicons_and_modules_its_first_document_needs() -> None:
    from pipeline.reading.limits import run_limited
    from pipeline.settings import LimitSettings

    found = run_limited(_first_use_caches, (), LimitSettings(document_timeout_s=60))
    assert found == dict.fromkeys(found, 1)


def _malloc_tunables() -> str | None:
    """In a reading worker: its ``GLIBC_TUNABLES``."""
    import os

    return os.environ.get("GLIBC_TUNABLES")


def test_reading_workers_run_with_the_malloc_tunables_and_this_process_keeps_its_own() -> None:
    import os

    from pipeline.reading.limits import run_limited
    from pipeline.settings import LimitSettings

    limits = LimitSettings(document_timeout_s=60)
    assert run_limited(_malloc_tunables, (), limits) == limits.worker_glibc_tunables == "glibc.malloc.hugetlb=1"
    assert "GLIBC_TUNABLES" not in os.environ  # the reference tesseract and every other child start as before
