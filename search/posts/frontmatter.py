"""Front matter: a post's YAML (`---`) or JSON (`;;;`) head, loaded with guarded loaders, its loose values coerced."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import yaml

# Real front matter is well under 4 KiB; a huge one can only be hostile or broken, and the pure-Python YAML
# parser would spend seconds on it.
_MAX_FRONT_MATTER_CHARS = 64 * 1024
# Bounds for coercing front-matter values: YAML aliases can make a small file describe an exponential tree.
_MAX_META_ITEMS = 200
_MAX_META_DEPTH = 20

_FM_OPEN = re.compile(r"(?:[ \t]*\n)*(---|;;;)[ \t]*\n")
_FM_CLOSE = {"---": re.compile(r"^---[ \t]*$", re.MULTILINE), ";;;": re.compile(r"^;;;[ \t]*$", re.MULTILINE)}
# hexo-front-matter's forms without the leading separator: a head, then a line of 3+ `-` (YAML) or `;` (JSON).
_HEADLESS_CLOSE = re.compile(r"^(?:(-{3,})|;{3,})[ \t]*$", re.MULTILINE)
# The head's first line that is not blank or a YAML comment holds a key (`title:`, `"title":`), or no parse is tried.
_HEADLESS_KEY = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*[^\s#][^\n]*:")


def read_front_matter(text: str) -> tuple[dict, str, list[str]]:
    """(metadata, body, problems) of a post's text, with front matter in the forms hexo-front-matter reads: YAML
    between `---` lines, JSON members between `;;;` lines, and either without its first line. A head without the
    leading separator counts only if it parses as a mapping (a JSON one that starts like one is reported broken);
    otherwise the whole text is body."""
    front, first_line, body, separator, problem = split_front_matter(text)
    if front is not None:
        loaded, problem = load_json(front, first_line) if separator == ";;;" else load_yaml(front, first_line)
        return loaded or {}, body, [problem] if problem else []
    if problem is None:
        headless = _headless(text)
        if headless is not None:
            return headless
    return {}, body, [problem] if problem else []


def split_front_matter(text: str) -> tuple[str | None, int, str, str, str | None]:
    """(front matter or None, its first line number, body, separator, problem) of the forms that open with a
    `---` or `;;;` line."""
    opening = _FM_OPEN.match(text)
    if not opening:
        return None, 0, text, "", None
    separator = opening.group(1)
    start = opening.end()
    closing = _FM_CLOSE[separator].search(text, start)
    if not closing:
        return None, 0, text, separator, f"front matter has no closing '{separator}' line; read as body"
    return text[start:closing.start()], text.count("\n", 0, start) + 1, text[closing.end() + 1:], separator, None


def _headless(text: str) -> tuple[dict, str, list[str]] | None:
    """read_front_matter's answer when `text` opens with front matter without its leading separator, else None."""
    closing = _HEADLESS_CLOSE.search(text, 0, _MAX_FRONT_MATTER_CHARS)
    if closing is None or closing.start() == 0 or not _HEADLESS_KEY.match(text, 0, closing.start()):
        return None
    head, body = text[:closing.start()], text[closing.end() + 1:]
    if closing.group(1):
        loaded, problem = load_yaml(head, 1)
        return (loaded, body, []) if loaded and problem is None else None
    if not head.lstrip().startswith('"'):
        return None
    loaded, problem = load_json(head, 1)
    return loaded or {}, body, [problem] if problem else []


def load_json(source: str, first_line: int) -> tuple[dict | None, str | None]:
    """(mapping or None, problem or None) of JSON front matter: the members of an object, without its braces."""
    if len(source) > _MAX_FRONT_MATTER_CHARS:
        return None, f"front matter is larger than {_MAX_FRONT_MATTER_CHARS // 1024} KiB; ignored"
    try:
        return json.loads("{" + source + "}"), None
    except json.JSONDecodeError as e:
        return None, f"front matter is not valid JSON (line {first_line + e.lineno - 1}): {e.msg}"
    except (RecursionError, ValueError) as e:
        return None, f"front matter is not valid JSON: {short(str(e) or type(e).__name__)}"


def _safe_loader(base: type) -> type:
    """A subclass of a safe loader that never builds dates (we parse them ourselves, so one bad date can't
    break the whole front matter) and refuses merge keys (`<<: [*a, *a]` chains grow exponentially)."""

    def flatten_mapping(self: Any, node: Any) -> None:
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise yaml.constructor.ConstructorError(None, None, "merge keys (<<) are not supported",
                                                        key_node.start_mark)

    resolvers = {first: [(tag, rx) for tag, rx in entries if tag != "tag:yaml.org,2002:timestamp"]
                 for first, entries in base.yaml_implicit_resolvers.items()}  # type: ignore[attr-defined]
    return type("_PostLoader", (base,), {"flatten_mapping": flatten_mapping, "yaml_implicit_resolvers": resolvers})


_PY_LOADER = _safe_loader(yaml.SafeLoader)
_FAST_LOADER = _safe_loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader))


_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def load_yaml(source: str, first_line: int) -> tuple[dict | None, str | None]:
    """(mapping or None, problem or None)."""
    if len(source) > _MAX_FRONT_MATTER_CHARS:
        return None, f"front matter is larger than {_MAX_FRONT_MATTER_CHARS // 1024} KiB; ignored"
    # libyaml's composer recurses on the C stack and crashes the process on ~50,000 nested collections. Each
    # nesting level needs at least one of these characters, so a small count proves the C parser is safe;
    # otherwise the pure-Python parser runs and stops at Python's recursion limit instead.
    loader = _FAST_LOADER
    if sum(source.count(c) for c in "[{-?:\n") >= 1000:
        # The pure-Python scanner is quadratic in flow-collection depth (seconds at depth 2,000).
        depth = deepest = 0
        for bracket in _NOT_BRACKET.sub("", source):
            depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
            deepest = max(deepest, depth)
        if deepest > 100:
            return None, f"front matter nests too deeply ({deepest} levels of brackets); ignored"
        loader = _PY_LOADER
    try:
        data = yaml.load(source, Loader=loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f" (line {first_line + mark.line})" if mark else ""
        return None, f"front matter is not valid YAML{where}: {short(e.problem or e.context or str(e))}"
    except (yaml.YAMLError, RecursionError, ValueError, TypeError, OverflowError, MemoryError) as e:
        return None, f"front matter is not valid YAML: {short(str(e) or type(e).__name__)}"
    if data is None:
        return {}, None
    if not isinstance(data, dict):
        return None, f"front matter is not a mapping (it is a {type(data).__name__})"
    return data, None


def short(message: str, limit: int = 120) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 1] + "…"


def scalars(value: object) -> list[str]:
    """Every scalar in a (possibly nested, possibly aliased) YAML value as stripped non-empty strings, in order,
    without repeats; bounded in depth and count because aliases can describe huge or cyclic trees."""
    result: list[str] = []
    seen: set[str] = set()
    stack = [(value, 0)]
    budget = 50 * _MAX_META_ITEMS  # nodes visited: `&a [*b, *b]` chains double at every level
    while stack and len(result) < _MAX_META_ITEMS and budget:
        budget -= 1
        item, depth = stack.pop()
        if isinstance(item, (list, tuple, dict)):
            if depth < _MAX_META_DEPTH:
                children = list(item.items()) if isinstance(item, dict) else item
                stack.extend((child, depth + 1) for child in reversed(children[:_MAX_META_ITEMS]))
            continue
        if item is None:
            continue
        try:
            text = item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
        except ValueError:  # an int too long to print (sys.get_int_max_str_digits)
            continue
        text = " ".join(text.split())
        if text and text not in seen:
            seen.add(text)
            result.append(text)
    return result


_LIST_SEPARATORS = re.compile(r"[,，、;；]")


def meta_list(meta: dict, *keys: str) -> list[str]:
    """Values of several keys (strings, comma strings, nested lists), flattened, de-duplicated, order kept."""
    values: list[str] = []
    for key in keys:
        value = meta.get(key)
        if isinstance(value, str):
            value = _LIST_SEPARATORS.split(value)
        values.extend(scalars(value))
    return list(dict.fromkeys(values))


_ISO_DATE = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6})\d*)?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?", re.IGNORECASE)
NAME_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})-")


def parse_date(value: object) -> datetime.datetime | None:
    """A front-matter date (string, or date/datetime from an explicit YAML tag) -> datetime, else None."""
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day)
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return None
    text = str(value).strip()
    match = _ISO_DATE.fullmatch(text)
    try:
        if match:
            year, month, day, hour, minute, second, fraction, zone = match.groups()
            micro = int(fraction.ljust(6, "0")) if fraction else 0
            tz = None
            if zone and zone.upper() in ("Z", "UTC", "GMT"):
                tz = datetime.timezone.utc
            elif zone:
                digits = zone[1:].replace(":", "")
                hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
                offset = datetime.timedelta(hours=hours, minutes=minutes)
                tz = datetime.timezone(-offset if zone[0] == "-" else offset)
            return datetime.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                                     int(second or 0), micro, tzinfo=tz)
        import email.utils  # here: it imports socket, random and more, for a rare date form

        return email.utils.parsedate_to_datetime(text)  # RFC 2822: "Mon, 13 Dec 2021 14:40:19 GMT"
    except (ValueError, TypeError, OverflowError, IndexError):
        return None


def name_date(stem: str) -> datetime.datetime | None:
    match = NAME_DATE.match(stem)
    if not match:
        return None
    try:
        year, month, day = (int(part) for part in match.groups())
        return datetime.datetime(year, month, day)
    except ValueError:
        return None


def http_url(value: object) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        if re.fullmatch(r"https?://\S+", value, re.IGNORECASE):
            return value
    return None


def flag(value: object, wanted: bool) -> bool:
    """`value` is the YAML boolean `wanted`, or a string spelling it ("false", "no", "off" / "true", ...)."""
    words = ("true", "yes", "on") if wanted else ("false", "no", "off")
    return value is wanted or (isinstance(value, str) and value.strip().lower() in words)
