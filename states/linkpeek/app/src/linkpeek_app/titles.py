"""Fetch a page and read its <title>: http(s) only, bounded in time and size."""
from __future__ import annotations

import html.parser
import urllib.request

MAX_BYTES = 256 * 1024
TIMEOUT_S = 10


class _TitleParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self._in_title = False
        self.parts: list[str] = []
        self.done = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "title" and not self.done:
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title = False
            self.done = True

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.parts.append(data)


def title_of_html(text: str) -> str | None:
    parser = _TitleParser()
    parser.feed(text)
    title = " ".join("".join(parser.parts).split())
    return title[:300] or None


def fetch_title(url: str) -> str | None:
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError("only http and https links are fetched")
    request = urllib.request.Request(url, headers={"User-Agent": "LinkPeek/1.0"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        body = response.read(MAX_BYTES)
        charset = response.headers.get_content_charset() or "utf-8"
    return title_of_html(body.decode(charset, "replace"))
