"""Importing Whoosh."""

def import_whoosh() -> None:
    """Import whoosh.compat without the urllib.request it imports for one function zhsearch never calls.

    urllib.request brings http.client, email and ssl into every process that imports Whoosh (a build, an
    update, a pinyin query; other queries read Whoosh's files without it, see reader.py). While whoosh.compat
    loads, a stand-in module offers its urlretrieve, which imports the real one if ever called; the stand-in is
    then removed, so any later `import urllib.request` gets the real module.
    """
    import sys
    import types

    if "whoosh.compat" in sys.modules or "urllib.request" in sys.modules:
        return

    def urlretrieve(*args: object, **kwargs: object) -> object:
        import urllib.request

        return urllib.request.urlretrieve(*args, **kwargs)  # type: ignore[arg-type]

    stand_in = types.ModuleType("urllib.request")
    stand_in.urlretrieve = urlretrieve  # type: ignore[attr-defined]
    sys.modules["urllib.request"] = stand_in
    try:
        import whoosh.compat  # noqa: F401
    finally:
        if sys.modules.get("urllib.request") is stand_in:
            del sys.modules["urllib.request"]
