"""Answering queries: query string → tree → matching posts → ranking → `Results`.

Modules: `syntax` (the query language: `parse` gives a tree of Term, And, Or, Not, DateRange), `index` (`Index`,
`open_index`: one generation opened for reading, `Index.search`), `matching` (each term of the tree → the set of
posts it matches), `ranking` (BM25F with field boosts, coverage, question re-scoring), `snippets` (excerpts of the
page of hits), `results` (the typed results: Hit, Results, Facets, Document, IndexStats).
"""
