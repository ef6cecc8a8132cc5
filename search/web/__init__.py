"""zhsearch's web server: `zhsearch serve`, a search page and a JSON API over one index.

    from search.web import create_app      # a Starlette application, for any ASGI server
    app = create_app("index", cors_origin="https://blog.example")

`serve` runs it under uvicorn; app.py has the routes, views.py what the pages show, live.py the live index.
"""

from .app import create_app as create_app, is_loopback as is_loopback, running as running, serve as serve

__all__ = ["create_app", "is_loopback", "running", "serve"]
