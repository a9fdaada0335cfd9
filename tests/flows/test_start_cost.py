"""A run's fixed cost (issue 19): starting the nightly flow imports no reader, no scikit-learn and no SciPy.

Those imports cost 1.3-1.8 s of every run, empty inbox included (measured with ``python -X importtime`` on
2026-12-05); the readers are imported by the first document's reading, in the workers that read it.
"""

from __future__ import annotations

import subprocess
import sys


def test_the_flow_module_imports_no_reader_nor_model_library() -> None:
    code = ("import sys, flows.nightly, flows.cli; "
            "heavy = sorted(m for m in ('sklearn', 'scipy', 'cv2', 'onnxruntime', 'rapidocr', "
            "'pipeline.reading.scan.page', 'pipeline.reading.scan.constrained', 'pipeline.deciding.decide') "
            "if m in sys.modules); print(','.join(heavy))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)

    assert done.stdout.strip() == ""
