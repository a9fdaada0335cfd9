"""OpenCV's thread pool kept out of the reading workers' forkserver, and started afresh in each forked worker.

Imported by the forkserver before :mod:`pipeline.reading.worker_preload` (:func:`pipeline.reading.limits._context`),
never by a long-lived process. A thread pool's threads do not survive ``fork``: a worker forked from a forkserver
whose OpenCV pool had started (the preload's warm-up runs OpenCV) ran every parallel OpenCV call on its main thread
alone, and changing its thread count hung it. Measured 2026-12-05 on the 2-core machine: ``cv2.resize`` of a
300 dpi page to 100 dpi, 20 times, 0.24 s in such a worker against 0.13 s in a long-lived process; with this module,
0.13-0.14 s in the worker. The forkserver runs OpenCV on one thread; each worker, once forked, gets OpenCV's own
default back (:func:`opencv_threads_back`, registered with :func:`multiprocessing.util.register_after_fork`).
"""

from __future__ import annotations

import multiprocessing.util
import sys

import cv2

OPENCV_THREADS = cv2.getNumThreads()
"""OpenCV's own default thread count in this process (the CPUs it may use), given back to each forked worker."""


def opencv_threads_back(_module: object) -> None:
    """In a worker just forked from the forkserver: OpenCV's default thread count, so that it starts a pool of its
    own (``_module`` is this module, as :func:`multiprocessing.util.register_after_fork` calls it)."""
    cv2.setNumThreads(OPENCV_THREADS)


cv2.setNumThreads(1)
multiprocessing.util.register_after_fork(sys.modules[__name__], opencv_threads_back)
