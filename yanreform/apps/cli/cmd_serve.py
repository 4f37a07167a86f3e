"""``yanreform serve``: the local web app (paste or upload a submission, related model cases, the library).

Loads the models first (so ``/healthz`` answers 200 from the first request on), then serves with uvicorn on
127.0.0.1 unless ``--host`` says otherwise, and says where on stderr. Needs the ``web`` extra.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
from pathlib import Path
from typing import Any

from ...errors import InputError
from ._common import err, log


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    s = sub.add_parser(
        "serve",
        parents=[common],
        help="start the local web app",
        description="Start the local web app: paste or upload a submission to see its reform categories with "
        "evidence and related model cases; browse the case library. Binds to 127.0.0.1 (this computer only) "
        "unless --host says otherwise.",
    )
    s.add_argument("--library", metavar="PATH", help="the case library (default: the library's default path)")
    s.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this computer)"
    )
    s.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free port)")
    s.add_argument("--read-only", action="store_true", help="refuse every change to the library")
    s.add_argument("--index", metavar="PATH", help="a saved case index (default: the bundled model cases)")
    s.add_argument("--max-upload-mb", type=float, default=10.0, metavar="MB",
                   help="largest upload or request body, in MiB (default 10)")  # fmt: skip
    s.add_argument("--max-chars", type=int, default=200_000, metavar="N",
                   help="longest text, in characters (default 200000)")  # fmt: skip
    s.add_argument("--max-records", type=int, default=500, metavar="N",
                   help="most records one upload may hold (default 500)")  # fmt: skip
    s.set_defaults(func=run)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket, or InputError saying why not (port taken, unknown address)."""
    if not 0 <= port <= 65535:
        raise InputError(f"--port must be from 0 to 65535, not {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InputError(f"--host {host!r}: not an address of this computer ({exc.strerror})") from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        why = "is in use (another server?): pick another with --port" if exc.errno == 98 else exc.strerror
        raise InputError(f"cannot listen on {host}:{port}: the port {why}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..web import LibraryGateway, Limits, create_app
        from ..web.app import LOOPBACK_HOSTS
        from ..web.libview import library_class
    except ImportError as exc:
        raise InputError(
            f"the web app needs the web extra ({exc.name} is missing): pip install 'yanreform[web]'"
        ) from None
    if args.max_upload_mb <= 0 or args.max_chars < 1 or args.max_records < 1:
        raise InputError("--max-upload-mb, --max-chars and --max-records must be positive")
    limits = Limits(
        max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
        max_chars=args.max_chars,
        max_records=args.max_records,
    )
    sock = _bind(args.host, args.port)  # before the models load: a taken port fails in a second, not a minute
    try:
        from ...tagging.tagger import Tagger

        err("loading models ...")
        tagger = Tagger.default()
        index = None
        if args.index:
            from ...search.index import CaseIndex

            if not Path(args.index).exists():
                raise InputError(f"{args.index}: no such index")
            index = CaseIndex.load(args.index, tagger=tagger)
        gateway = LibraryGateway(args.library, tagger=tagger, read_only=args.read_only)
        if not gateway.available:
            if args.library and library_class() is not None:
                # the library named on the command line exists in this installation but cannot be opened
                raise InputError(f"--library: {gateway.reason}")
            log.warning("library pages are off: %s", gateway.reason)
        loopback = _is_loopback(args.host)
        # loopback: accept only loopback Host names (a DNS-rebinding page can't reach the app); else any
        app = create_app(tagger=tagger, index=index, library=gateway, read_only=args.read_only, limits=limits,
                         allowed_hosts=LOOPBACK_HOSTS if loopback else None)  # fmt: skip
        app.state.analyst.warm_up()
        port = sock.getsockname()[1]
        shown = f"[{args.host}]" if ":" in args.host else args.host
        err(f"serving on http://{shown}:{port}  (API docs: http://{shown}:{port}/docs; Ctrl-C stops)")
        if loopback:
            err("only this computer can connect (bound to a loopback address; --host 0.0.0.0 shares it)")
        else:
            log.warning(
                "listening on %s: anyone who can reach this machine on port %d can use the app (no login)",
                args.host,
                port,
            )
        lib_note = (gateway.path or "default path") if gateway.available else "off"
        err(f"library: {lib_note}{' (read-only)' if args.read_only and gateway.available else ''}")
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0
