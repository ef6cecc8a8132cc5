"""`python -m search` runs the zhsearch command."""

from .cli import run

run()
