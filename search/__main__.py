"""`python -m search` runs the zhsearch command."""

from .cli import main

main(prog_name="zhsearch")
