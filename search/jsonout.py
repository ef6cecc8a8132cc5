"""JSON documents that have no result type of their own, shared by `zhsearch ... --json` and `zhsearch serve`.

Results, Document and IndexStats give theirs with `to_dict()`; `tokens_to_dict` gives `analyze`'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def tokens_to_dict(text: str, tokens: Iterable[Any]) -> dict[str, Any]:
    """The document of `zhsearch analyze --json`: `text` and its tokens (as `Index.analyze` returns them)."""
    return {"text": text, "tokens": [
        {"token": t.text, "position": t.pos, "start": t.start, "end": t.end, "field": t.field,
         "original": text[t.start:t.end]} for t in tokens]}
