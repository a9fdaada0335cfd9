"""Progress of the long commands (``run``, ``mail``, ``samples``, ``bench``, ``calibrate``), always on stderr.

On a terminal, a rich progress bar; otherwise (a log file, a pipe, ``run --json | jq``) a plain French line
``Lecture des fiches : 12/40 (30 %, 1 min 05 s)`` at most every :data:`PLAIN_EVERY_S` seconds and at the end.
Standard output is left to the command's result, so ``run --json`` prints pure JSON there. The labels say
counts only, never a file name (a school's file name often carries the pupil's name).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

PLAIN_EVERY_S = 5.0
"""Seconds between two plain progress lines: a night's log stays short (1,000 forms at ~3 s each write about
600 lines), a person watching a pipe still sees it move."""

Advance = Callable[[], None]
"""Called once per item done."""


def _elapsed_fr(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


@contextmanager
def progress_line(label_fr: str, total: int | None, stream: TextIO | None = None) -> Iterator[Advance]:
    """Show the progress of ``total`` items on ``stream`` (stderr by default) while the block runs.

    Args:
        label_fr: What is being done, in French (``"Lecture des fiches"``).
        total: Items expected; the line says ``done/total``. ``None`` when the count is known only as the items
            come (a mailbox's messages, listed inside the flow): the line says ``done`` alone.
        stream: Where to write; stderr when ``None``.

    Yields:
        The function to call after each item.
    """
    out = stream if stream is not None else sys.stderr
    if out.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn(label_fr), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=Console(file=out)) as bar:
            task = bar.add_task(label_fr, total=total)
            yield lambda: bar.advance(task)
        return
    start = time.monotonic()
    state = {"done": 0, "shown_at": start}

    def show() -> None:
        share = f" ({state['done'] / total:.0%})".replace("%", " %") if total else ""
        count = f"{state['done']}/{total}" if total is not None else f"{state['done']}"
        print(f"{label_fr} : {count}{share}, {_elapsed_fr(time.monotonic() - start)}", file=out, flush=True)
        state["shown_at"] = time.monotonic()

    def advance() -> None:
        state["done"] += 1
        if state["done"] == total or time.monotonic() - state["shown_at"] >= PLAIN_EVERY_S:
            show()

    show()
    try:
        yield advance
    finally:
        if state["done"] != total:  # fewer than announced (a run stopped early), or no count: say where it ended
            show()
