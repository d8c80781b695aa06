"""The web layer: Starlette app, routes, pages, HTTP caching. Starlette lives only here."""
