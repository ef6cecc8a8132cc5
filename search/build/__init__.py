"""Building and updating an index: posts read, analysed and written as a new generation.

Modules: `building` (`build_index`: a complete new generation, its posts spread over worker processes),
`updating` (`update_index`: a new generation sharing the unchanged files, with only what changed added or
deleted), `generation` (what both share: `BuildReport`, indexing a list of files, finishing and committing a
generation), `workers` (a build's forked processes).
"""
