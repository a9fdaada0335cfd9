"""Per-document time and memory limits: read each document in a short-lived worker process.

Why a worker process rather than ``signal.alarm`` in the main thread: an alarm only
interrupts Python bytecode, so a reader stuck inside C code (pdfium, OpenCV, a
decompression bomb in Pillow) would never be stopped, and it cannot bound memory;
it also works only in the main thread, which Prefect does not promise to tasks. A
child process can be killed at any point and given its own address-space limit
(``RLIMIT_AS``), and its death never takes the run with it.

Workers are forked from a ``forkserver`` that has already loaded ``pipeline.reading.worker_preload`` (the
readers, and the comb digit model trained once), so starting one costs milliseconds, not the seconds
of a fresh interpreter, and no worker is forked from the threaded main process. The forkserver runs OpenCV on
one thread and each worker starts its own OpenCV pool (``pipeline.reading.opencv_fork``).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import threading
from collections.abc import Callable
from multiprocessing import forkserver
from typing import ClassVar, TypeVar

from pipeline.errors import DocumentError
from pipeline.settings import LimitSettings

T = TypeVar("T")
_MIB = 1024 * 1024


class DocumentTimeoutError(DocumentError):
    """Reading the document took longer than ``CLAS_LIMITS__DOCUMENT_TIMEOUT_S``.

    Attributes:
        timeout_s: The limit that was exceeded, in seconds.
    """

    code: ClassVar[str] = "document_timeout"
    default_reason_fr: ClassVar[str] = (
        "Lecture trop longue : le fichier a été mis de côté pour ne pas bloquer les autres. "
        "Le traiter à la main ou demander à l'école de le renvoyer (PDF simple ou scan à 300 dpi)."
    )

    def __init__(self, message: str, *, timeout_s: float = 0.0, reason_fr: str | None = None) -> None:
        """Create the error; see the class docstring for ``timeout_s``."""
        super().__init__(message, reason_fr=reason_fr)
        self.timeout_s = timeout_s


class DocumentMemoryError(DocumentError):
    """Reading the document needed more memory than ``CLAS_LIMITS__DOCUMENT_MEMORY_MIB``, or crashed the reader.

    Attributes:
        exit_code: The worker's exit code (negative: killed by that signal).
    """

    code: ClassVar[str] = "document_memory"
    default_reason_fr: ClassVar[str] = (
        "Fichier trop lourd à lire (mémoire dépassée ou lecteur arrêté) : le traiter à la main "
        "ou demander à l'école de le renvoyer en PDF simple ou en scan à 300 dpi."
    )

    def __init__(self, message: str, *, exit_code: int | None = None, reason_fr: str | None = None) -> None:
        """Create the error; see the class docstring for ``exit_code``."""
        super().__init__(message, reason_fr=reason_fr)
        self.exit_code = exit_code


_CONTEXT: multiprocessing.context.ForkServerContext | None = None
_CONTEXT_LOCK = threading.Lock()


def _context(limits: LimitSettings) -> multiprocessing.context.ForkServerContext:
    global _CONTEXT  # noqa: PLW0603 - one forkserver per process, started on first use
    with _CONTEXT_LOCK:
        if _CONTEXT is None:
            ctx = multiprocessing.get_context("forkserver")
            # OpenCV's pool first: no pool may start in the forkserver, whose warm-up runs OpenCV (opencv_fork).
            ctx.set_forkserver_preload(["pipeline.reading.opencv_fork", "pipeline.reading.worker_preload"])
            _start_forkserver(limits.worker_glibc_tunables)
            _CONTEXT = ctx
    return _CONTEXT


def _start_forkserver(tunables: str) -> None:
    """Start the forkserver now, with ``GLIBC_TUNABLES`` set to ``tunables`` in its environment only
    (``LimitSettings.worker_glibc_tunables``; glibc reads it when a process starts). A ``GLIBC_TUNABLES`` this
    process already has is kept as it is."""
    if not tunables or "GLIBC_TUNABLES" in os.environ:
        forkserver.ensure_running()
        return
    os.environ["GLIBC_TUNABLES"] = tunables
    try:
        forkserver.ensure_running()
    finally:
        del os.environ["GLIBC_TUNABLES"]


def _worker(conn: multiprocessing.connection.Connection, func: Callable[..., object], args: tuple[object, ...],
            memory_bytes: int) -> None:
    """Body of the worker: set the memory limit, call ``func``, send back ``("ok", value)`` or ``("error", exc)``."""
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        conn.send(("ok", func(*args)))
    except MemoryError:
        conn.send(("memory", None))
    except BaseException as exc:  # noqa: BLE001 - carried back to the parent, which decides
        conn.send(("error", exc))
    finally:
        conn.close()


def run_limited(func: Callable[..., T], args: tuple[object, ...], limits: LimitSettings) -> T:
    """Call ``func(*args)`` in a worker process under the time and memory limits.

    ``func`` must be a module-level function and its arguments and result picklable.
    With ``document_timeout_s`` = 0 it is called in this process, unbounded.

    Args:
        func: The work (module-level, importable by the worker).
        args: Its arguments.
        limits: Time (s) and memory (MiB) bounds.

    Returns:
        What ``func`` returned.

    Raises:
        DocumentTimeoutError: The worker did not finish within ``document_timeout_s`` (it is killed).
        DocumentMemoryError: The worker ran out of memory or died (signal, segfault).
        Exception: Whatever ``func`` raised, re-raised in this process.
    """
    if limits.document_timeout_s <= 0:
        return func(*args)
    ctx = _context(limits)
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_worker, args=(sender, func, args, limits.document_memory_mib * _MIB),
                          daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(limits.document_timeout_s):
            process.kill()
            raise DocumentTimeoutError(f"reading exceeded {limits.document_timeout_s:g} s",
                                       timeout_s=limits.document_timeout_s)
        try:
            status, value = receiver.recv()
        except (EOFError, OSError) as exc:
            process.join(5)
            raise DocumentMemoryError("reading worker died", exit_code=process.exitcode) from exc
    finally:
        receiver.close()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
    if status == "ok":
        return value  # type: ignore[return-value]
    if status == "memory":
        raise DocumentMemoryError("reading worker ran out of memory")
    raise value  # type: ignore[misc]
