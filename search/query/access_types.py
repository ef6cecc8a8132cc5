"""Types that matching hands to ranking."""

from __future__ import annotations

# The share of a run of words each matching doc has (None for a term matched whole).
Coverage = dict[int, float] | None
# For one query term: (docs matching it verbatim, docs matching it literally, its coverage).
Seen = tuple[set[int], set[int], Coverage]
