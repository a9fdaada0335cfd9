"""PDFium used from several threads at once does not kill the process (pipeline.pdfium_lock).

A scanned page is read by several threads; two of them rasterising with PDFium at once crashed the process
with SIGTRAP in about half of the runs. The work runs in a fresh interpreter, so a crash fails this test
instead of killing the test session.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

CONCURRENT_RENDERING = textwrap.dedent("""
    import threading
    import pypdfium2 as pdfium
    from pipeline.form.template_image import _blank_pdf, rasterise_pdf_page
    from pipeline.pdfium_lock import PDFIUM_LOCK
    from pipeline.reading.extract import _render_pdf_page
    from pipeline.settings import Settings

    settings = Settings()
    blank = _blank_pdf(1)
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(blank)
    sizes = []

    def templates(i):
        for k in range(12):
            sizes.append(rasterise_pdf_page(blank, 1 + (i + k) % 2, 100 + 5 * i + k).shape)

    def scan_pages(i):
        for k in range(6):
            sizes.append(_render_pdf_page(document, (i + k) % 2, 1.0, settings)[0].shape)

    for _ in range(5):
        threads = [threading.Thread(target=templates, args=(i,)) for i in range(4)]
        threads += [threading.Thread(target=scan_pages, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    with PDFIUM_LOCK:
        document.close()
    print(len(sizes), len({s for s in sizes}))
""")


def test_pdfium_rendering_from_several_threads_at_once_does_not_crash() -> None:
    # Without the lock this script died with SIGTRAP in about half of its rounds (5 rounds: ~97 % of runs).
    done = subprocess.run([sys.executable, "-c", CONCURRENT_RENDERING], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    renders, shapes = map(int, done.stdout.split())
    assert renders == 5 * (4 * 12 + 2 * 6)
    assert shapes > 20  # every template resolution gave its own size: the renders really ran
