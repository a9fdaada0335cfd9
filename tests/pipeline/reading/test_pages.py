"""Page results are importable without the readers: deciding and the run's process stay light (issue 19)."""

from __future__ import annotations

import subprocess
import sys

READERS = ("cv2", "sklearn", "scipy", "pdfplumber", "pypdfium2", "pytesseract", "tesserocr", "zxingcpp", "onnxruntime",
           "numpy")


def test_deciding_and_handing_documents_to_the_readers_do_not_load_them() -> None:
    # A fresh interpreter: this test process has imported the readers already.
    code = ("import sys, flows.nightly, pipeline.deciding.decide, pipeline.reading.document, pipeline.stages; "
            "import pipeline.installation, pipeline.reading.calibration; "
            f"print(sorted(m for m in {READERS!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_a_page_read_in_a_worker_comes_back_whole() -> None:
    import pickle

    from pipeline.form.definition import PageIdentity
    from pipeline.reading.extract import PageReading as Reexported
    from pipeline.reading.pages import PageReading
    from schemas.extraction import Source

    page = PageReading(0, PageIdentity("F-2026-000001", 1, 1, 2), Source.OCR, {}, handwritten=True,
                       stage_seconds={"ink": 0.5})
    assert Reexported is PageReading
    assert pickle.loads(pickle.dumps(page)) == page
