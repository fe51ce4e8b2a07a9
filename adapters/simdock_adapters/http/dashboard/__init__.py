"""The dashboard: server-rendered pages under ``/ui/`` where people watch and steer their work.

Pages are Jinja templates over what the core's read use cases return; actions go
through the same use cases as ``/api/v1``. htmx (vendored under ``static/vendor``)
swaps parts of a page in place; no script is written inline, so the
Content-Security-Policy allows scripts from this server only.
"""
