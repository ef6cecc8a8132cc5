"""The Whoosh index: every import of Whoosh and every use of its internals lives in this subpackage.

Modules: `fieldnames` (the indexed fields' names; no Whoosh), `schema` (the Whoosh schema and the fields of a post),
`reader` (Whoosh's segment files read without importing Whoosh), `writer` (a segment writer that takes postings in
bulk), `writing` (creating and committing segments: a build's segments in turn, an update's writer and its merge
policy, a patch of Whoosh's posting pool), `access` (the segments of a generation for reading, and what only
Whoosh's own reader answers).
"""
