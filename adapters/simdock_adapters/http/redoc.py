"""ReDoc, the other reader of the OpenAPI document (seeds 002 and 003), served offline.

The page and ReDoc's standalone bundle both come from this app, so the docs
work where the internet is not reachable and send nothing anywhere. The bundle
in ``static/redoc`` is ``bundles/redoc.standalone.js`` of the npm package
``redoc`` (version below, MIT licence and its bundled notices beside it); no
PyPI package ships it without a web framework of its own.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from flask import Blueprint, Response

REDOC_VERSION = "2.5.4"
ASSETS = Path(__file__).parent / "static" / "redoc"
ASSETS_URL = "/redoc-assets"
PAGE_PATHS = ("/redoc", "/api/v1/redoc")

PAGE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{title}</title>
    <style>body {{ margin: 0; padding: 0; }}</style>
  </head>
  <body>
    <redoc spec-url="{spec_url}"></redoc>
    <script src="{script}"></script>
  </body>
</html>
"""


def redoc_blueprint(spec_url: str, title: str) -> Blueprint:
    """ReDoc pages at ``/redoc`` and ``/api/v1/redoc`` reading ``spec_url``, and their script."""
    bp = Blueprint("redoc", __name__, static_folder=ASSETS, static_url_path=ASSETS_URL)
    page = PAGE.format(title=escape(title), spec_url=escape(spec_url),
                       script=f"{ASSETS_URL}/redoc.standalone.js")

    def redoc_page() -> Response:
        return Response(page, mimetype="text/html")

    for number, path in enumerate(PAGE_PATHS):
        bp.add_url_rule(path, f"page_{number}", redoc_page, strict_slashes=False)
    return bp
