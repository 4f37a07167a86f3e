"""The ``yanreform`` command line (also ``python -m yanreform``).

Commands (one module each; each module's ``register`` adds its sub-parser)::

    yanreform demo                          tag the bundled collection, recommend related cases
    yanreform tag INPUT... [-o OUT] [...]   batch-tag files (.txt collection, .docx, .jsonl, .csv, .xlsx, -)
    yanreform similar (TEXT | --case ID | --file F) [-k K] [--index PATH] [--json]
    yanreform index build (INPUT | --bundled) -o PATH
    yanreform evaluate LABELS [--text-column C] [--labels-column C] [--json]
    yanreform corpus [--json]
    yanreform library (add|list|show|remove|search|retag|export|dupes|trends) ...   the case library (SQLite)
    yanreform report INPUT_OR_COLLECTION -o report.html   a self-contained HTML report
    yanreform serve [--library PATH] [--host 127.0.0.1] [--port 8765] [--read-only]

Exit status: 0 on success; 1 when ``tag --strict`` met bad records; 2 for an error a person can act on
(unknown file type, missing column, unreadable file, unparsable collection: one line on stderr, no traceback
unless ``--debug``); 130 when interrupted.

This package is the only place in yanreform that prints. Heavy parts (the encoder, torch) load only in the
commands that need them.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from ... import __version__
from ...errors import YanreformError
from . import cmd_demo, cmd_evaluate, cmd_library, cmd_report, cmd_serve, cmd_similar, cmd_tag
from ._common import PROG, err, fit, one_line, setup_logging, silence_stdout, text_width

__all__ = ["COMMANDS", "build_parser", "fit", "main", "text_width"]

#: the command modules, in help order; each has ``register(subparsers, common_parent)``
COMMANDS = (cmd_demo, cmd_tag, cmd_similar, cmd_evaluate, cmd_library, cmd_report, cmd_serve)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``yanreform`` command (one sub-parser per command)."""
    # --debug is accepted before or after the command; SUPPRESS keeps a sub-parser from resetting it to False
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks and debug logging"
    )
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Analyse Chinese political-legal reform case collections: tag reform categories with "
        "evidence and recommend related model cases.",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMANDS:
        module.register(sub, common)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv) if argv is not None else sys.argv[1:]  # to say how to continue a run
    debug = bool(getattr(args, "debug", False))
    setup_logging(debug=debug, quiet=bool(getattr(args, "quiet", False)))
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): stop quietly, and keep Python from complaining at exit
        silence_stdout()
        return 0
    except (YanreformError, OSError) as exc:
        if debug:
            traceback.print_exc()
        err(f"error: {one_line(exc)}")
        return 2
