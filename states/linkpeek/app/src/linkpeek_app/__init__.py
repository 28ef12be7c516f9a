"""LinkPeek: a small link-preview service. Users submit links; a worker fetches each
page's title; the list shows them. `/healthz` answers 200 only when the database does.

Served by Pyramid under waitress (`pserve production.ini`); the worker is
`python -m linkpeek_app.worker production.ini`.
"""
from __future__ import annotations

from typing import Any

from pyramid.config import Configurator

from linkpeek_app.store import Store


def main(global_config: dict[str, Any], **settings: Any) -> Any:
    """The WSGI app (PasteDeploy's `use = call:linkpeek_app:main`)."""
    store = Store.from_settings(settings)
    store.try_ensure_schema()  # a database still starting is not fatal: /healthz says 503
    with Configurator(settings=settings) as config:
        config.registry["store"] = store
        config.add_route("home", "/")
        config.add_route("links", "/links")
        config.add_route("links_json", "/links.json")
        config.add_route("healthz", "/healthz")
        config.scan("linkpeek_app.views")
        return config.make_wsgi_app()
