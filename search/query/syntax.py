"""The query language: a user's query → a small tree of `Term`, `DateRange`, `And`, `Or` and `Not`.

Syntax: space-separated terms must all match; `OR` between terms or groups; `NOT term` or `-term` excludes;
parentheses group; `"quoted text"` (also “…”) matches exactly that text; `field:term` or `field:"text"` looks in one
field (title, author, category, tag, body); `date:2021`, `date:2021-04`, `date:2016..2017` filter by date.
Quotes and parentheses act at the edges of words; inside a word they are text (`汇丰银行（巴拿马）`).
Unknown `name:` prefixes are ordinary text (so `http://…` can be searched). A missing closing quote or
parenthesis is closed at the end of the query; a stray `)` is an error.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from ..errors import QueryError

FIELDS = {"title": "title", "author": "author", "category": "category", "categories": "category",
          "tag": "tag", "tags": "tag", "body": "body"}
MAX_QUERY_CHARS = 2000
_QUOTES = {'"': '"', "“": "”", "「": "」"}
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


@dataclass(frozen=True)
class Term:
    """Text to find: `quoted` means verbatim only; `field` None means any searchable field; `required` (`+word`)
    means every matching post holds it, even when other words of the query let posts holding some of them in."""

    text: str
    field: str | None = None
    quoted: bool = False
    required: bool = False


@dataclass(frozen=True)
class DateRange:
    """Posts dated from `low` to `high`, both YYYYMMDDhhmmss and inclusive."""

    low: int
    high: int


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Term | DateRange | And | Or | Not


def date_bounds(text: str) -> tuple[int, int]:
    """The first and last moments of a date given as YYYY, YYYY-MM or YYYY-MM-DD, as YYYYMMDDhhmmss numbers."""
    match = _DATE_RE.match(text.strip())
    if not match:
        raise ValueError(f"not a date: {text!r} (use YYYY, YYYY-MM or YYYY-MM-DD)")
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"not a date: {text!r} (month {month})")
    if month is None:
        return year * 10**10 + 101000000, year * 10**10 + 1231235959
    import calendar  # only for dates: it imports locale too

    last = calendar.monthrange(year, month)[1]
    if day is not None and not 1 <= day <= last:
        raise ValueError(f"not a date: {text!r} (day {day})")
    base = (year * 100 + month) * 100
    if day is None:
        return (base + 1) * 10**6, (base + last) * 10**6 + 235959
    return (base + day) * 10**6, (base + day) * 10**6 + 235959


def date_range(text: str) -> DateRange:
    """`2021`, `2021-04-23`, `2016..2017` (either end may be left open) → DateRange."""
    low_text, sep, high_text = text.partition("..")
    if not sep:
        high_text = low_text
    low = date_bounds(low_text)[0] if low_text.strip() else 0
    high = date_bounds(high_text)[1] if high_text.strip() else 99991231235959
    if low > high:
        raise ValueError(f"empty date range: {text!r}")
    return DateRange(low, high)


def _clean(query: str) -> str:
    # Control characters can't be typed meaningfully and would confuse the text store's separators.
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in query)
    return text.replace("（", "(").replace("）", ")").replace("：", ":")


def _lex(query: str) -> list[tuple[str, str]]:
    """Tokens: ("(", ""), (")", ""), ("quote", text), ("word", text).

    Quotes and parentheses are operators at the edges of words only: `"内推" OR (a b)` quotes and groups, while
    a question typed as a sentence keeps its punctuation as text (`“孔雀女”指什么`, `汇丰银行（巴拿马）的总部`):
    cutting it there would make each piece a separate required term.
    """
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(query)
    depth = 0  # groups opened and not closed

    def opens(at: int) -> bool:  # an operator can start here
        return at == 0 or query[at - 1].isspace() or query[at - 1] in "(-+:"

    def closes(at: int) -> bool:  # an operator may end just before `at`
        return at >= n or query[at].isspace() or query[at] == ")"

    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
            continue
        if c == "(" and opens(i):
            tokens.append(("(", ""))
            depth += 1
            i += 1
            continue
        if c == ")":
            tokens.append((")", ""))  # at depth 0 a stray one: the parser reports it
            depth = max(0, depth - 1)
            i += 1
            continue
        if c in _QUOTES and opens(i):
            end = query.find(_QUOTES[c], i + 1)
            end = n if end < 0 else end
            if closes(end + 1):
                tokens.append(("quote", query[i + 1:end]))
                i = end + 1
                continue
        # A word: up to a space, or a parenthesis closing a group (a parenthesis opened in the word is text).
        j, inner = i, 0
        while j < n and not query[j].isspace():
            if j > i and query[j - 1] in "-+:" and (query[j] == "(" or query[j] in _QUOTES):
                break  # -"…", -(…), +"…", title:"…", tag:(…)
            if query[j] == "(":
                inner += 1
            elif query[j] == ")":
                if inner:
                    inner -= 1
                elif depth:
                    break
            j += 1
        tokens.append(("word", query[i:j]))
        i = j
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def parse(self) -> Node | None:
        node = self.or_expr()
        if self.peek() is not None:
            raise QueryError("unbalanced parentheses: a `)` closes nothing")
        return node

    def or_expr(self) -> Node | None:
        items = [self.and_expr()]
        while self.peek() == ("word", "OR"):
            self.take()
            items.append(self.and_expr())
        present = [i for i in items if i is not None]
        if not present:
            return None
        return present[0] if len(present) == 1 else Or(tuple(present))

    def and_expr(self) -> Node | None:
        items: list[Node] = []
        while True:
            token = self.peek()
            if token is None or token[0] == ")" or token == ("word", "OR"):
                break
            node = self.unary()
            if node is not None:
                items.append(node)
        if not items:
            return None
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Node | None:
        token = self.peek()
        if token == ("word", "NOT") or token == ("word", "AND"):
            self.take()
            if token[1] == "AND":
                return None
            nxt = self.peek()
            if nxt is None or nxt[0] == ")" or nxt == ("word", "OR"):
                return None  # a lone operator is ignored
            inner = self.unary()
            return Not(inner) if inner is not None else None
        if token == ("word", "-") and self.at + 1 < len(self.tokens) and self.tokens[self.at + 1][0] in ("quote", "("):
            self.take()
            inner = self.primary(None)
            return Not(inner) if inner is not None else None
        if token is not None and token[0] == "word" and token[1].startswith("-") and len(token[1]) > 1:
            self.tokens[self.at] = ("word", token[1][1:])
            inner = self.unary()
            return Not(inner) if inner is not None else None
        if token is not None and token[0] == "word" and token[1].startswith("+") and len(token[1]) > 1:
            self.tokens[self.at] = ("word", token[1][1:])
            inner = self.unary()
            return replace(inner, required=True) if isinstance(inner, Term) else inner
        if token == ("word", "+") and self.at + 1 < len(self.tokens) and self.tokens[self.at + 1][0] in ("quote", "("):
            self.take()  # +"…" and +(…) are required anyway
        return self.primary(None)

    def primary(self, field: str | None) -> Node | None:
        kind, text = self.take()
        if kind == "(":
            node = self.or_expr()
            closing = self.peek()
            if closing is not None and closing[0] == ")":
                self.take()
            return _in_field(node, field) if field else node
        if kind == ")":
            raise QueryError("unbalanced parentheses: a `)` closes nothing")
        if kind == "quote":
            return Term(text, field, quoted=True) if text.strip() else None
        name, colon, rest = text.partition(":")
        if colon and field is None and name.lower() in FIELDS | {"date": ""}:
            name = name.lower()
            if name == "date":
                try:
                    return date_range(rest)
                except ValueError as e:
                    raise QueryError(str(e)) from None
            if rest:
                return Term(rest, FIELDS[name])
            nxt = self.peek()
            if nxt is not None and nxt[0] in ("quote", "("):
                return self.primary(FIELDS[name])
            return None
        if text in ("-", "OR", "NOT", "AND"):
            return None
        return Term(text, field)


def _in_field(node: Node | None, field: str) -> Node | None:
    """Restrict every term of a group to one field (`title:(a OR b)`)."""
    if node is None or isinstance(node, DateRange):
        return node
    if isinstance(node, Term):
        return replace(node, field=node.field or field)
    if isinstance(node, Not):
        inner = _in_field(node.item, field)
        return Not(inner) if inner is not None else None
    items = tuple(i for i in (_in_field(i, field) for i in node.items) if i is not None)
    return type(node)(items)


def parse(query: str) -> Node:
    """Parse a user's query; QueryError when it is empty or malformed."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is too long ({len(query)} characters; at most {MAX_QUERY_CHARS})")
    node = _Parser(_lex(_clean(query))).parse()
    if node is None:
        raise QueryError("the query is empty: give a word to search for")
    return node


def positive_terms(node: Node) -> list[Term]:
    """The terms a matching post contains (those not under NOT), for ranking and snippets."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, (And, Or)):
        return [t for item in node.items for t in positive_terms(item)]
    return []


def to_text(node: Node) -> str:
    """A query string that parses back to `node` (used to suggest a smaller query)."""
    if isinstance(node, Term):
        text = f'"{node.text}"' if node.quoted or any(c.isspace() for c in node.text) else node.text
        text = f"{node.field}:{text}" if node.field else text
        return "+" + text if node.required and not node.quoted else text
    if isinstance(node, DateRange):
        low, high = str(node.low)[:8], str(node.high)[:8]
        return f"date:{low[:4]}-{low[4:6]}-{low[6:]}..{high[:4]}-{high[4:6]}-{high[6:]}"
    if isinstance(node, Not):
        return "-" + (to_text(node.item) if isinstance(node.item, (Term, DateRange)) else f"({to_text(node.item)})")
    parts = [to_text(i) if isinstance(i, (Term, DateRange, Not)) else f"({to_text(i)})" for i in node.items]
    return (" OR " if isinstance(node, Or) else " ").join(parts)
