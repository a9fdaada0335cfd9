"""Per-document time and memory limits: read each document in a worker process that reads a few, one at a time.

Why a worker process rather than ``signal.alarm`` in the main thread: an alarm only
interrupts Python bytecode, so a reader stuck inside C code (pdfium, OpenCV, a
decompression bomb in Pillow) would never be stopped, and it cannot bound memory;
it also works only in the main thread, which Prefect does not promise to tasks. A
child process can be killed at any point and given its own address-space limit
(``RLIMIT_AS``), and its death never takes the run with it.

Workers are forked from a ``forkserver`` that has already loaded ``pipeline.reading.worker_preload`` (the
readers, and the comb digit model trained once), so starting one costs milliseconds, not the seconds
of a fresh interpreter, and no worker is forked from the threaded main process. The forkserver runs OpenCV on
one thread and each worker starts its own OpenCV pool (``pipeline.reading.opencv_fork``). A worker reads up to
``LimitSettings.documents_per_worker`` documents, or until its private memory passes
``LimitSettings.worker_keep_uss_mib``, then ends; one that timed out, ran out of memory or died is never given another.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable
from multiprocessing import forkserver
from typing import Any, ClassVar, TypeVar

import psutil

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


class _Worker:
    """A reading worker process, the pipe it takes its documents from, and how many it has read.

    Attributes:
        conn: The parent's end of the duplex pipe.
        process: The worker process.
        memory_bytes: Its address-space limit (``RLIMIT_AS``), 0 for none.
        release: Whether it hands its free heap back to the system after each document (:func:`_serve`).
        documents: Documents it has been given.
        idle_since: ``time.monotonic()`` when it last finished a document.
    """

    def __init__(self, ctx: multiprocessing.context.ForkServerContext, memory_bytes: int,
                 release: bool = True) -> None:
        """Fork the worker from the forkserver (see :func:`_serve`)."""
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_serve, args=(child, memory_bytes, release), daemon=True)
        self.process.start()
        child.close()
        self.memory_bytes = memory_bytes
        self.release = release
        self.documents = 0
        self.idle_since = time.monotonic()

    def stop(self) -> None:
        """End the worker: asked to leave when idle, killed when it does not within 5 s."""
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.conn.close()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def release_free_memory() -> bool:
    """Hand the heap's free memory back to the system (glibc's ``malloc_trim(0)``); ``False`` where the C library
    has no such call (not glibc), which changes nothing but the memory a worker keeps.

    A document's arrays (full pages in NumPy and OpenCV, the readers' buffers) are freed when it is read, but glibc
    keeps the freed blocks mapped for the next allocations, so a kept worker's private memory (USS) stayed high and
    it was ended by ``LimitSettings.worker_keep_uss_mib`` after one document. See
    ``LimitSettings.worker_release_memory`` for the figures.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """The C library's ``malloc_trim``, looked up once (``find_library`` runs ``ldconfig``); ``None`` without it."""
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


def _serve(conn: multiprocessing.connection.Connection, memory_bytes: int, release: bool = True) -> None:
    """Body of a worker: set the memory limit, then for each ``(func, args)`` received send back
    ``("ok", value)``, ``("error", exc)`` or, out of memory, ``("memory", None)`` and end; ``None`` ends it.
    With ``release``, the heap's free memory goes back to the system after each document, before its answer
    (:func:`release_free_memory`), so that the parent measures what the worker really keeps."""
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        while (task := conn.recv()) is not None:
            func, args = task
            try:
                value = func(*args)
                if release:
                    release_free_memory()
                conn.send(("ok", value))
            except MemoryError:
                conn.send(("memory", None))
                return  # what ran out of memory may have left the process in any state: not reused
            except BaseException as exc:  # noqa: BLE001 - carried back to the parent, which decides
                if release:
                    release_free_memory()
                conn.send(("error", exc))
    except EOFError:
        return  # the parent went
    finally:
        conn.close()


_IDLE: list[_Worker] = []
_IDLE_LOCK = threading.Lock()


def _take_worker(limits: LimitSettings) -> _Worker:
    """An idle worker with ``limits``' memory bound that is alive and has not idled past
    ``limits.worker_idle_s``, or a new one."""
    memory_bytes = limits.document_memory_mib * _MIB
    now, stale, found = time.monotonic(), [], None
    with _IDLE_LOCK:
        for worker in list(_IDLE):
            if worker.memory_bytes != memory_bytes or worker.release != limits.worker_release_memory:
                continue
            _IDLE.remove(worker)
            if worker.process.is_alive() and now - worker.idle_since <= limits.worker_idle_s:
                found = worker
                break
            stale.append(worker)
    for worker in stale:
        worker.stop()
    return found or _Worker(_context(limits), memory_bytes, limits.worker_release_memory)


def stop_idle_workers() -> None:
    """End every idle reading worker of this process (at the end of a run: a long-lived process, such as
    ``serve``, does not keep their memory between runs)."""
    with _IDLE_LOCK:
        idle = list(_IDLE)
        _IDLE.clear()
    for worker in idle:
        worker.stop()


def run_limited(func: Callable[..., T], args: tuple[object, ...], limits: LimitSettings) -> T:
    """Call ``func(*args)`` in a worker process under the time and memory limits.

    A worker reads up to ``limits.documents_per_worker`` documents, one at a time, then ends (sooner once it holds
    more than ``limits.worker_keep_uss_mib`` of private memory): forking one per
    document cost every document the worker's cold start (its first allocations and caches; issue 19). A worker
    that timed out, ran out of memory or died is never reused, and a document that ran out of memory in a worker
    that had read others is read again in a new one (what the others left in its address space must not decide).
    ``func`` must be a module-level function and its arguments and result picklable. With ``document_timeout_s``
    = 0 it is called in this process, unbounded.

    Args:
        func: The work (module-level, importable by the worker).
        args: Its arguments.
        limits: Time (s) and memory (MiB) bounds, documents per worker.

    Returns:
        What ``func`` returned.

    Raises:
        DocumentTimeoutError: The worker did not finish within ``document_timeout_s`` (it is killed).
        DocumentMemoryError: The worker ran out of memory or died (signal, segfault).
        Exception: Whatever ``func`` raised, re-raised in this process.
    """
    if limits.document_timeout_s <= 0:
        return func(*args)
    worker = _take_worker(limits)
    status, value = _read_in(worker, func, args, limits)
    if status in ("memory", "not started") and worker.documents > 1:
        status, value = _read_in(_Worker(_context(limits), worker.memory_bytes), func, args, limits)
    if status == "ok":
        return value  # type: ignore[no-any-return]
    if status == "memory":
        raise DocumentMemoryError("reading worker ran out of memory")
    if status == "not started":
        raise DocumentMemoryError("reading worker died", exit_code=worker.process.exitcode)
    raise value


def _holds_too_much(worker: _Worker, keep_uss_mib: int) -> bool:
    """Whether ``worker``'s private memory (USS, from ``/proc/<pid>/smaps_rollup`` through psutil: about 0.6 ms) is
    above ``keep_uss_mib`` MiB (``LimitSettings.worker_keep_uss_mib``; 0: never); a worker that cannot be measured
    (gone) holds too much."""
    if keep_uss_mib <= 0:
        return False
    try:
        return bool(psutil.Process(worker.process.pid).memory_full_info().uss > keep_uss_mib * _MIB)
    except (psutil.Error, OSError):
        return True


def _read_in(worker: _Worker, func: Callable[..., object], args: tuple[object, ...],
             limits: LimitSettings) -> tuple[str, Any]:
    """Give ``worker`` one document; back to the idle workers afterwards, unless it must end.

    Returns:
        ``("ok", value)``, ``("error", exception)``, ``("memory", None)``, or ``("not started", None)`` when the
        worker had died before it (an idle worker killed from outside).

    Raises:
        DocumentTimeoutError: See :func:`run_limited`.
        DocumentMemoryError: The worker died while reading.
    """
    reusable = False
    worker.documents += 1
    try:
        try:
            worker.conn.send((func, args))
        except OSError:
            return "not started", None
        if not worker.conn.poll(limits.document_timeout_s):
            worker.process.kill()
            raise DocumentTimeoutError(f"reading exceeded {limits.document_timeout_s:g} s",
                                       timeout_s=limits.document_timeout_s)
        try:
            status, value = worker.conn.recv()
        except (EOFError, OSError) as exc:
            worker.process.join(5)
            raise DocumentMemoryError("reading worker died", exit_code=worker.process.exitcode) from exc
        reusable = (status != "memory" and worker.documents < limits.documents_per_worker
                    and not _holds_too_much(worker, limits.worker_keep_uss_mib))
        return status, value
    finally:
        if reusable:
            worker.idle_since = time.monotonic()
            with _IDLE_LOCK:
                _IDLE.append(worker)
        else:
            worker.stop()
