"""The pages: the list with its form, the JSON list, adding a link, and the health check."""
from __future__ import annotations

import html
from typing import Any

from pyramid.httpexceptions import HTTPBadRequest, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>LinkPeek</title>
<link rel="stylesheet" href="/static/linkpeek.css"></head>
<body><h1>LinkPeek</h1>
<form method="post" action="/links"><input name="url" size="60" placeholder="https://...">
<button>Add</button></form>
<ul>{items}</ul></body></html>
"""


def _store(request: Any) -> Any:
    return request.registry["store"]


def _url(request: Any) -> str:
    url = request.json_body.get("url") if request.content_type == "application/json" \
        else request.POST.get("url")
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")) \
            or len(url) > 2000:
        raise HTTPBadRequest("give url: an http or https link")
    return url


@view_config(route_name="home", request_method="GET")
def home(request: Any) -> Response:
    items = "".join(
        f'<li><a href="{html.escape(link.url)}">{html.escape(link.title or link.url)}</a>'
        f' <small>{html.escape(link.status)}</small></li>'
        for link in _store(request).latest())
    return Response(PAGE.format(items=items), content_type="text/html", charset="utf-8")


@view_config(route_name="links_json", request_method="GET", renderer="json")
def links_json(request: Any) -> list[dict[str, Any]]:
    return [{"id": link.id, "url": link.url, "title": link.title, "status": link.status,
             "error": link.error} for link in _store(request).latest()]


@view_config(route_name="links", request_method="POST")
def add_link(request: Any) -> Any:
    link_id = _store(request).add(_url(request))
    if request.content_type == "application/json":
        response = Response(json_body={"id": link_id, "status": "queued"}, status=201)
        return response
    return HTTPSeeOther(location="/")


@view_config(route_name="healthz", request_method="GET")
def healthz(request: Any) -> Response:
    try:
        _store(request).ping()
    except Exception as exc:  # noqa: BLE001 (any database failure means unhealthy)
        return Response(f"database unavailable: {type(exc).__name__}\n", status=503,
                        content_type="text/plain")
    return Response("ok\n", content_type="text/plain")
