"""An index directory on disk: its generations, its tables and its verbatim text store.

Modules: `layout` (the files a generation holds, the format version), `generations` (CURRENT, commit, readers'
pins, the write lock, checks on open), `fileio` (atomic writes, JSON files), `path_tables` (the path-keyed tables
and their changes), `text_ranges` (where each post's text stands in the store, as binary columns, by path or by
document number), `verbatim` (the text store: posts' folded text, searched like grep) and `pairs` (its index of
character pairs).
"""
