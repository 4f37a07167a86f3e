"""What every command shares: terminal text helpers, error lines, logging to stderr, progress bars.

The command line is the only part of yanreform that prints.
"""

from __future__ import annotations

import logging
import os
import sys
import unicodedata
from typing import Any

from ...errors import YanreformError

PROG = "yanreform"
log = logging.getLogger("yanreform")


def text_width(s: str) -> int:
    """Display width of ``s`` in a terminal: wide and full-width characters count 2, combining marks 0."""
    w = 0
    for ch in s:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return w


def fit(s: str, width: int, *, align: str = "<") -> str:
    """``s`` cut (with "…") or padded with spaces to exactly ``width`` display columns."""
    s = s.replace("\r", " ").replace("\n", " ").replace("\t", " ")  # keep each row on one line
    if text_width(s) > width:
        out, w = [], 0
        for ch in s:
            cw = text_width(ch)
            if w + cw > width - 1:
                break
            out.append(ch)
            w += cw
        s = "".join(out) + "…"
    pad = " " * max(0, width - text_width(s))
    return pad + s if align == ">" else s + pad


def err(msg: str) -> None:
    """One line on stderr, prefixed with the program name."""
    print(f"{PROG}: {msg}", file=sys.stderr)


def one_line(exc: BaseException) -> str:
    """An exception as one line a person can act on (file names of OS errors kept)."""
    if isinstance(exc, OSError) and not isinstance(exc, YanreformError) and exc.filename:
        msg = f"{exc.filename}: {exc.strerror or exc}"
    else:
        msg = str(exc) or type(exc).__name__
        if isinstance(exc, KeyError) and exc.args:
            msg = str(exc.args[0])
    return " ".join(msg.split())


class _StderrHandler(logging.Handler):
    """yanreform's log records as ``yanreform: message`` lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = record.getMessage()
            if logging.WARNING <= record.levelno < logging.ERROR:
                msg = f"warning: {msg}"
            err(msg)
        except Exception:  # logging must never break the command (handleError reports it)
            self.handleError(record)


def setup_logging(*, debug: bool, quiet: bool = False) -> None:
    """Show yanreform's messages on stderr: progress notes (model build) and warnings; ``--debug`` adds the
    debug log with logger names, ``--quiet`` keeps only warnings and errors."""
    for h in list(log.handlers):
        if isinstance(h, _StderrHandler | logging.StreamHandler) and getattr(h, "_yanreform_cli", False):
            log.removeHandler(h)
    handler: logging.Handler
    if debug:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        log.setLevel(logging.DEBUG)
    else:
        handler = _StderrHandler()
        log.setLevel(logging.WARNING if quiet else logging.INFO)
    setattr(handler, "_yanreform_cli", True)  # noqa: B010 - marks our handler, replaced on the next call
    log.addHandler(handler)
    log.propagate = False


def progress(enabled: bool, total: int | None, unit: str = "rec") -> Any:
    """A tqdm bar on stderr, or None when disabled."""
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True, smoothing=0.1)


def stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def silence_stdout() -> None:
    """Point stdout at /dev/null (after a broken pipe, so Python does not complain at exit)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def add_encoder_options(p: Any) -> None:
    """``--device`` and ``--backend``: where and how the default encoder runs (commands that encode)."""
    from ...embed import BACKENDS

    p.add_argument(
        "--device",
        metavar="D",
        help="where the encoder runs: cpu, cuda, cuda:N (fp16 on a GPU) "
        "(default: $YANREFORM_DEVICE, else auto)",
    )
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        help="encoder backend: torch (fp32) or onnx-int8 (ONNX Runtime, CPU) (default: $YANREFORM_BACKEND, "
        "else torch)",
    )


def apply_encoder_options(args: Any) -> None:
    """Make ``--device``/``--backend`` the default encoder's settings for this process and the worker
    processes it starts (through ``YANREFORM_DEVICE``/``YANREFORM_BACKEND``), checked now: CUDA asked for on
    a machine without it stops the command before any input is read (ModelError)."""
    from ...embed import resolve_settings

    if getattr(args, "backend", None):
        os.environ["YANREFORM_BACKEND"] = args.backend
    if getattr(args, "device", None):
        os.environ["YANREFORM_DEVICE"] = args.device
    resolve_settings()
