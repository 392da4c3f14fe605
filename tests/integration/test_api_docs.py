"""Each service's ``/docs`` page works without the internet: its Swagger UI
files come from the service itself, not a CDN."""

from __future__ import annotations

import re
import urllib.request

import pytest

pytestmark = pytest.mark.timeout(300)


def _get(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.headers.get("content-type", ""), answer.read()


@pytest.mark.parametrize("service", ["query", "artifacts", "alerts"])
def test_docs_page_loads_its_assets_from_the_service(local_platform, service):
    port = getattr(local_platform.config, f"{service}_port")
    base = f"http://127.0.0.1:{port}"

    kind, page = _get(base + "/docs")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.decode())
    _, schema = _get(base + "/openapi.json")

    assert kind.startswith("text/html")
    assert sources and all(s.startswith("/docs-assets/") for s in sources), sources
    assets = {source: _get(base + source)[1] for source in sources}
    assert all(assets.values()), sources
    assert b"SwaggerUIBundle" in assets["/docs-assets/swagger-ui-bundle.js"]
    assert b'"openapi"' in schema
