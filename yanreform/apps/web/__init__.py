"""The local web app (``yanreform serve``): paste or upload a submission, see its reform categories with
evidence and related model cases, browse the case library. Needs the ``web`` extra
(``pip install 'yanreform[web]'``: FastAPI, Jinja2, uvicorn, python-multipart, Swagger UI files).

:func:`create_app` builds the ASGI app from injected components (``tagger``, ``index``, ``library``), so
tests use small fake models and ``yanreform serve`` the shipped ones. Modules: :mod:`.app` (factory,
safety, errors), :mod:`.api` (JSON API), :mod:`.pages` (HTML), :mod:`.services` (what is computed, no web
code), :mod:`.libview` (the one seam to :class:`yanreform.Library`), :mod:`.charts` (SVG trend chart);
``templates/`` and ``static/`` ship inside the package.
"""

from .app import create_app
from .libview import LibraryGateway
from .services import Analyst, Limits

__all__ = ["Analyst", "LibraryGateway", "Limits", "create_app"]
