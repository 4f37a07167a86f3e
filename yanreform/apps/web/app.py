"""The app factory: :func:`create_app` wires the injected tagger, index and library into a FastAPI app.

Safety, all here so every route gets it:

* a request guard (pure ASGI): bodies are read into memory up to ``Limits.max_upload_bytes`` and refused with
  413 past it (a ``Content-Length`` over the limit is refused before anything is read); a POST whose
  ``Origin`` is another site is refused (403), so a web page open in the same browser cannot make the app
  tag or import anything; an unexpected ``Host`` is refused (400) when the app serves loopback only, which
  stops DNS-rebinding pages; every response carries a strict Content-Security-Policy (scripts only from
  ``/static``), ``nosniff``, ``Referrer-Policy: same-origin`` and ``frame-ancestors 'none'``; a
  ``Server-Timing`` header gives the request's time on the worker thread (``work``) and waiting for it
  (``queue``);
* templates autoescape everything; the only pre-rendered HTML is from :mod:`yanreform.apps.display`, which
  escapes all text itself;
* errors are JSON ``{"status", "error", "message"}`` under ``/api/`` and ``/healthz``, an HTML page
  elsewhere; an unexpected exception is logged with its traceback and answered with a 500 that names no
  internals.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ...errors import FormatError, InputError, ModelError, UnknownCaseError, YanreformError
from .libview import LibraryGateway, LibraryUnavailable, ReadOnlyError
from .services import TIMING, Analyst, Limits, TooLarge, UnsupportedType

log = logging.getLogger("yanreform")

__all__ = ["LOOPBACK_HOSTS", "create_app", "status_of"]

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

#: Host header values accepted when the app serves loopback only
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
_SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def status_of(exc: BaseException) -> int:
    """The HTTP status for an exception raised while serving a request."""
    if isinstance(exc, TooLarge):
        return 413
    if isinstance(exc, UnsupportedType):
        return 415
    if isinstance(exc, UnknownCaseError):
        return 404
    if isinstance(exc, ReadOnlyError):
        return 403
    if isinstance(exc, LibraryUnavailable | ModelError):
        return 503
    if isinstance(exc, FormatError):
        return 500
    if isinstance(exc, InputError | ValueError):
        return 422
    return 500


def wants_json(path: str) -> bool:
    return path.startswith("/api/") or path in ("/api", "/healthz", "/openapi.json")


def _error_page(status: int, message: str) -> bytes:
    """A bare HTML error page for the guard (before any template is in reach); ``message`` is escaped."""
    import html

    phrase = HTTPStatus(status).phrase
    return (
        f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{status} {phrase}</title>'
        f'<link rel="stylesheet" href="/static/style.css"><main class="page"><h1>{status} {phrase}</h1>'
        f'<p class="error-message">{html.escape(message)}</p>'
        '<p><a href="/">返回首页 Home</a></p></main></html>'
    ).encode()


class RequestGuard:
    """Pure ASGI middleware: body limit, cross-site POST and Host checks, security headers (see the module
    docstring). ``allowed_hosts``: Host names accepted (None: any)."""

    def __init__(self, app: ASGIApp, *, max_body: int, allowed_hosts: Iterable[str] | None) -> None:
        self.app = app
        self.max_body = max_body
        self.allowed_hosts = {h.lower() for h in allowed_hosts} if allowed_hosts is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path = scope.get("path", "")
        host = headers.get("host", "")
        if self.allowed_hosts is not None and _host_name(host) not in self.allowed_hosts:
            await self._refuse(send, path, 400, f"unexpected Host {host!r}: open the app at http://127.0.0.1")
            return
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD", "OPTIONS"):
            origin = headers.get("origin")
            # "null" too: a sandboxed frame of another site sends it (our own pages send their origin, since
            # the referrer policy is same-origin)
            if origin and (origin == "null" or urlsplit(origin).netloc.lower() != host.lower()):
                await self._refuse(send, path, 403, "cross-site request refused: use the app's own pages")
                return
            length = headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > self.max_body:
                await self._refuse(send, path, 413, self._too_large(int(length)))
                return
            body, more = bytearray(), True
            while more:
                msg = await receive()
                if msg["type"] == "http.disconnect":
                    return
                body += msg.get("body", b"")
                more = msg.get("more_body", False)
                if len(body) > self.max_body:
                    await self._refuse(send, path, 413, self._too_large(None))
                    return
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": bytes(body), "more_body": False}
                return await receive()

            TIMING.set({})
            await self.app(scope, replay, self._with_headers(send))
            return
        TIMING.set({})
        await self.app(scope, receive, self._with_headers(send))

    def _too_large(self, n: int | None) -> str:
        mib = self.max_body / (1024 * 1024)
        got = f" ({n / (1024 * 1024):.1f} MiB)" if n is not None else ""
        return (
            f"the request{got} is larger than the app's limit of {mib:g} MiB; upload a smaller file, or use "
            "`yanreform tag` for batch work"
        )

    @staticmethod
    def _with_headers(send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in _SECURITY_HEADERS if k not in have]
                timing = TIMING.get()
                if timing:  # model/library time of this request, for devtools and bench_web.py
                    value = ", ".join(f"{k};dur={v * 1000:.1f}" for k, v in timing.items())
                    extra.append((b"server-timing", value.encode()))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        return wrapped

    async def _refuse(self, send: Send, path: str, status: int, message: str) -> None:
        if wants_json(path):
            body = json.dumps(
                {"status": status, "error": HTTPStatus(status).phrase, "message": message}, ensure_ascii=False
            ).encode()
            ctype = b"application/json"
        else:
            body, ctype = _error_page(status, message), b"text/html; charset=utf-8"
        headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode()), *_SECURITY_HEADERS]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def create_app(
    *,
    tagger: Any = None,
    index: Any = None,
    library: Any = None,
    corpus: Any = None,
    read_only: bool = False,
    limits: Limits | None = None,
    allowed_hosts: Iterable[str] | None = LOOPBACK_HOSTS,
) -> Any:
    """The web app (a FastAPI ASGI application), ready to serve.

    Args:
        tagger: a fitted Tagger (None: ``Tagger.default()``, the shipped model).
        index: a CaseIndex of model cases (None: the bundled corpus indexed with ``tagger``).
        library: a library object, a :class:`LibraryGateway`, or None for no library (library pages answer
            503 and say so). ``yanreform serve`` passes a gateway to ``--library PATH``.
        corpus: the Corpus the index holds, for case pages (None: the bundled corpus when the index holds all
            of its cases).
        read_only: refuse writes to the library (403).
        limits: request and text limits (:class:`Limits`).
        allowed_hosts: accepted ``Host`` names (None: any; the default is loopback names only).

    Raises ModelError if the default models cannot be built (with an injected tagger and index nothing is
    built). Models are not loaded lazily here: call ``app.state.analyst.warm_up()`` to load them before
    serving.
    """
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.staticfiles import StaticFiles
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from . import api, pages

    limits = limits or Limits()
    if tagger is None:
        from ...tagging.tagger import Tagger

        tagger = Tagger.default()
    if corpus is None:
        from ...corpus import load_corpus

        bundled = load_corpus()
        if index is None or all(cid in index for cid in bundled.ids):
            corpus = bundled
    if index is None:
        from ...search.index import CaseIndex

        index = CaseIndex.from_corpus(corpus, tagger=tagger, encoder=getattr(tagger, "encoder", None))
    if isinstance(library, LibraryGateway):
        gateway = library
        gateway.read_only = gateway.read_only or read_only
    elif library is None:
        gateway = LibraryGateway.disabled("no case library was given (start with --library PATH)", read_only)
    else:
        gateway = LibraryGateway(library, tagger=tagger, read_only=read_only)

    analyst = Analyst(tagger, index, corpus=corpus, limits=limits)
    # One worker thread for the models and the library: the library tags and encodes with the same tagger
    # (whose thread safety is not promised) and an SQLite connection stays on the thread that opened it.
    models = gateway.worker

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        yield
        gateway.close()  # closes the library (if the gateway opened it), then the worker

    app = FastAPI(
        title="yanreform",
        summary="Tag reform-case submissions with categories and evidence; find related model cases.",
        description=(
            'Local web app of yanreform. Errors are JSON `{"status", "error", "message"}`. Limits: '
            f"requests up to {limits.max_upload_bytes:,} bytes (413 past it), texts up to "
            f"{limits.max_chars:,} characters (422 past it), uploads up to {limits.max_records:,} records."
        ),
        version=_version(),
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.analyst = analyst
    app.state.models = models
    app.state.library = gateway
    app.state.limits = limits
    app.state.templates = pages.make_templates(TEMPLATES)

    async def on_error(request: Any, exc: Exception) -> Any:
        status = status_of(exc)
        if status >= 500 and not isinstance(exc, LibraryUnavailable | ModelError | FormatError):
            # the server (uvicorn) logs the traceback of an unexpected exception; the client gets no internals
            message = "internal error: the server log has the details"
        else:
            message = " ".join(str(exc).split()) or type(exc).__name__
        return pages.error_response(request, status, message)

    async def on_http(request: Any, exc: StarletteHTTPException) -> Any:
        message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and message == "Not Found":
            message = f"no page {request.url.path}"
        return pages.error_response(request, exc.status_code, message)

    async def on_validation(request: Any, exc: RequestValidationError) -> Any:
        return pages.error_response(request, 422, validation_message(exc.errors()))

    app.add_exception_handler(YanreformError, on_error)
    app.add_exception_handler(Exception, on_error)
    app.add_exception_handler(StarletteHTTPException, on_http)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, on_validation)  # type: ignore[arg-type]
    app.add_middleware(RequestGuard, max_body=limits.max_upload_bytes, allowed_hosts=allowed_hosts)

    swagger = _swagger_dir()
    if swagger is not None:
        app.mount("/static/swagger", StaticFiles(directory=str(swagger)), name="swagger")
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.state.swagger = swagger is not None
    return app


def validation_message(errors: Iterable[Any]) -> str:
    """FastAPI/pydantic validation errors as one sentence: ``"text: Field required; k: ..."``."""
    parts = []
    for e in errors:
        loc = [str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path", "form")]
        where = ".".join(loc) or "request body"
        msg = str(e.get("msg", "invalid"))
        if e.get("type") == "json_invalid":
            msg = 'not valid JSON (send a JSON object such as {"text": "..."})'
            where = "request body"
        parts.append(f"{where}: {msg}")
    return "; ".join(parts) or "invalid request"


def _swagger_dir() -> Path | None:
    """Swagger UI's files shipped by the ``swagger-ui-bundle-v2`` package (the web extra), or None."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    p = Path(str(swagger_ui_path))
    return p if (p / "swagger-ui-bundle.js").is_file() else None


def _version() -> str:
    from ... import __version__

    return __version__
