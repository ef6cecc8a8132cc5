"""Every CLI command has help text and is named in README.md."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from search.cli import main

README = Path(__file__).parents[1] / "README.md"
COMMANDS = sorted(main.commands)


def readme_usage() -> str:
    if not README.is_file():
        pytest.skip("README.md is not written yet")
    text = README.read_text(encoding="utf-8")
    if not re.search(r"^#+\s*Usage", text, re.M):
        pytest.skip("README.md has no Usage section yet")
    return text


def test_docs_main_has_help():
    assert main.help and main.help.strip()


@pytest.mark.parametrize("name", COMMANDS)
def test_docs_command_has_help(name):
    command = main.commands[name]
    assert command.help and command.help.strip(), name
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{name} {param.opts}"


@pytest.mark.parametrize("name", COMMANDS)
def test_docs_command_in_readme(name):
    assert f"zhsearch {name}" in readme_usage(), name
