"""Tracebacks of failed steps, as a user wants to read them.

A step's exception travels through the engine (runner, executors, the event
loop, worker threads) before it is recorded. Those frames say nothing to the
person whose function failed, so :func:`user_traceback` keeps only the frames
of their code. Files that a front-end knows better (a notebook cell compiled
to ``/tmp/ipykernel_1/2877.py``) are named the way that front-end names them:
a labeller registered with :func:`add_file_labeler` turns the file into
``Cell In[3]``, and the frame reads ``Cell In[3], line 17, in validate``, as
IPython prints it. The engine itself imports no front-end: the magics register
the labeller.

:func:`last_user_frame` reads the innermost frame back out of such a text, so
a stored traceback still says where a step failed.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

__all__ = ["MAX_FRAMES", "FrameInfo", "add_file_labeler", "file_label", "last_user_frame", "user_traceback"]

MAX_FRAMES = 30  # innermost frames kept per exception; deeper recursion is elided

FileLabeler = Callable[[str], "str | None"]

_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])
_HIDDEN = (
    _PACKAGE_DIR,
    str(Path(threading.__file__).parent / "asyncio"),
    str(Path(threading.__file__).parent / "concurrent"),
    threading.__file__,
)
_log = logging.getLogger(__name__)
_labelers: list[FileLabeler] = []
_lock = threading.Lock()


def add_file_labeler(labeler: FileLabeler) -> Callable[[], None]:
    """Name files the way a front-end does; returns a function that removes the labeller.

    ``labeler(filename)`` returns a label such as ``"Cell In[3]"``, or ``None``
    for files it does not know.
    """
    with _lock:
        _labelers.append(labeler)

    def remove() -> None:
        with _lock:
            if labeler in _labelers:
                _labelers.remove(labeler)

    return remove


def file_label(filename: str) -> str | None:
    """The label a registered labeller gives ``filename``, if any."""
    with _lock:
        labelers = list(_labelers)
    for labeler in labelers:
        try:
            label = labeler(filename)
        except Exception:  # noqa: BLE001 - a broken labeller must not lose the traceback
            _log.debug("file labeller %r failed on %s", labeler, filename, exc_info=True)
            continue
        if label:
            return label
    return None


def _hidden(filename: str) -> bool:
    return filename.startswith(_HIDDEN) or filename.startswith("<frozen ")


def _frame_lines(frames: list[traceback.FrameSummary]) -> list[str]:
    shown = [f for f in frames if not _hidden(f.filename)] or frames[-1:]
    lines = []
    if len(shown) > MAX_FRAMES:
        lines.append(f"  ... {len(shown) - MAX_FRAMES} more frames ...\n")
        shown = shown[-MAX_FRAMES:]
    for f in shown:
        label = file_label(f.filename)
        where = f"{label}, line {f.lineno}" if label else f'File "{f.filename}", line {f.lineno}'
        lines.append(f"  {where}, in {f.name}\n")
        if f.line:
            lines.append(f"    {f.line.strip()}\n")
    return lines


def _format(te: traceback.TracebackException, seen: set[int]) -> list[str]:
    seen.add(id(te))
    lines: list[str] = []
    cause, context = te.__cause__, te.__context__
    if cause is not None and id(cause) not in seen:
        lines += _format(cause, seen)
        lines.append("\nThe above exception was the direct cause of the following exception:\n\n")
    elif context is not None and not te.__suppress_context__ and id(context) not in seen:
        lines += _format(context, seen)
        lines.append("\nDuring handling of the above exception, another exception occurred:\n\n")
    if te.stack:
        lines.append("Traceback (most recent call last):\n")
        lines += _frame_lines(list(te.stack))
    lines += list(te.format_exception_only())
    return lines


def user_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` without the engine's frames, cells named as IPython names them.

    Frames of this package, of asyncio, ``concurrent.futures`` and
    ``threading`` are dropped (when nothing else is left, the innermost frame
    stays). Chained exceptions keep their chain.
    """
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__, capture_locals=False)
    return "".join(_format(te, set()))


class FrameInfo:
    """Where a step failed: ``label`` (``"Cell In[3], line 17"``) and the code on that line."""

    __slots__ = ("code", "label", "line", "where")

    def __init__(self, where: str, line: int, code: str | None) -> None:
        self.where = where
        self.line = line
        self.code = code
        self.label = f"{where}, line {line}"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form: ``{"label", "file", "line", "code"}``."""
        return {"label": self.label, "file": self.where, "line": self.line, "code": self.code}


_FRAME = re.compile(r'^  (?:(?P<cell>Cell In\[\d+\])|File "(?P<file>[^"]+)"), line (?P<line>\d+), in .*$')


def last_user_frame(text: str | None) -> FrameInfo | None:
    """The innermost frame of a traceback text (as :func:`user_traceback` or Python writes it)."""
    if not text:
        return None
    lines = text.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        m = _FRAME.match(lines[i])
        if m is None:
            continue
        where = m["cell"] or m["file"]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        code = nxt.strip() if nxt.startswith("    ") else None
        return FrameInfo(where, int(m["line"]), code)
    return None
