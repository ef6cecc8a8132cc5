"""Configuration: `zhsearch.toml` at the corpus root (or a file given with `--config`).

```toml
[analysis]
user_dict = "words.txt"      # jieba's format: word [freq] [tag], one per line; relative to this file
synonyms = "synonyms.txt"    # one group per line, words separated by spaces or commas
pinyin = true                # also index a pinyin form of the text
```

Unknown sections or keys and values of the wrong type are errors that name the key and the valid choices.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

CONFIG_NAME = "zhsearch.toml"
_KEYS = {"user_dict": "a file path", "synonyms": "a file path", "pinyin": "true or false"}
_SEPARATORS = re.compile(r"[\s,，、;；]+")


@dataclass(frozen=True)
class Config:
    """Analysis settings of an index."""

    user_dict: Path | None = None
    synonyms: Path | None = None
    pinyin: bool = False
    source: Path | None = field(default=None, compare=False)  # the file it was read from

    def with_overrides(self, **overrides: Any) -> Config:
        """A copy with the options given on the command line (None: keep the file's value)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def _toml() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib


def load_config(corpus: Path, config_file: Path | None = None) -> Config:
    """The configuration for `corpus`: `config_file` if given, else `corpus/zhsearch.toml` if present."""
    path = config_file if config_file is not None else corpus / CONFIG_NAME
    if config_file is None and not path.is_file():
        return Config()
    try:
        with open(path, "rb") as f:
            data = _toml().load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except OSError as e:
        raise ConfigError(f"{path}: {e.strerror}") from None
    except ValueError as e:  # tomllib.TOMLDecodeError
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    unknown = sorted(set(data) - {"analysis"})
    if unknown:
        raise ConfigError(f"{path}: unknown section [{unknown[0]}] (valid: [analysis])")
    analysis = data.get("analysis", {})
    if not isinstance(analysis, dict):
        raise ConfigError(f"{path}: analysis must be a table ([analysis])")
    for key, value in analysis.items():
        if key not in _KEYS:
            raise ConfigError(f"{path}: unknown key analysis.{key} (valid: {', '.join(sorted(_KEYS))})")
        expected = bool if key == "pinyin" else str
        if not isinstance(value, expected):
            raise ConfigError(f"{path}: analysis.{key} must be {_KEYS[key]}, not {value!r}")
    base = path.parent

    def file(key: str) -> Path | None:
        value = analysis.get(key)
        if value is None:
            return None
        resolved = (base / value).resolve()
        if not resolved.is_file():
            raise ConfigError(f"{path}: analysis.{key} names {value!r}, which is not a file")
        return resolved

    return Config(user_dict=file("user_dict"), synonyms=file("synonyms"), pinyin=analysis.get("pinyin", False),
                  source=path)


def file_digest(path: Path | None) -> str | None:
    """A short content hash, recorded in the index to notice a changed dictionary."""
    if path is None:
        return None
    try:
        return hashlib.sha1(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return "unreadable"


def read_synonyms(path: Path | None) -> list[list[str]]:
    """Synonym groups of a file: one group per line, words separated by spaces or commas; # starts a comment."""
    if path is None:
        return []
    from .text.folding import fold

    groups = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read synonyms ({e})") from None
    for line in text.splitlines():
        words = [fold(w) for w in _SEPARATORS.split(line.split("#", 1)[0]) if w]
        if len(words) > 1:
            groups.append(list(dict.fromkeys(words)))
    return groups
