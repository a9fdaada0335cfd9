"""The page images the review desk shows beside the fields (web.images)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pipeline.form.definition import PAGE_HEIGHT_PT, PAGE_WIDTH_PT
from schemas.document import MediaType
from tests.support.mail_builders import heic_from, sample

SHOW_PAGES = """
import json, sys
from pathlib import Path
from web.images import form_page_images
pages = form_page_images([(Path(sys.argv[1]), sys.argv[2])], 100.0)
print(json.dumps({n: [p.aligned, p.image.shape[1] / p.px_per_pt, p.image.shape[0] / p.px_per_pt]
                  for n, p in pages.items()}))
"""
"""The desk's page rendering in a process of its own, as the web server runs it: this test's process has Pillow's
HEIC opener already (the test wrote the page with it)."""


def test_a_heic_page_is_shown_registered_on_the_desk(tmp_path: Path) -> None:
    # The desk opened HEIC originals without pillow-heif's opener: staff saw no page image for an iPhone photo.
    # A committed scan as HEIC, at half size (a generated phone photo costs 12 s, most of it HEIC encoding).
    path = tmp_path / "page.heic"
    path.write_bytes(heic_from(sample("scan_300_grey_jpeg-0000-p1.jpg")))

    shown = subprocess.run([sys.executable, "-c", SHOW_PAGES, str(path), MediaType.HEIC.value], capture_output=True,
                           text=True, check=True, timeout=120)

    pages = json.loads(shown.stdout)
    assert list(pages) == ["1"]
    aligned, width_pt, height_pt = pages["1"]
    assert aligned
    assert (round(width_pt), round(height_pt)) == (round(PAGE_WIDTH_PT), round(PAGE_HEIGHT_PT))
