"""A fast path for plain files: parse with ``yaml-rs`` (Rust), keep its result only when libyaml
would have given the same documents.

libyaml composes in C but calls back into Python for every node; ``yaml_rs.loads`` builds the
Python values in Rust, several times faster. It follows YAML 1.2, where ``validate`` has always
read YAML 1.1 (PyYAML's resolvers: ``on`` is true, ``010`` is 8, ``1:20`` is 80), and it keeps
no marks. So :func:`fast_documents` answers only for a file where the two cannot differ, and
``None`` otherwise (the caller then parses with libyaml, which reports every problem):

* the text is in a subset of YAML that both read alike: ASCII printable characters and
  newlines only (no tab, carriage return, control or non-ASCII character: libyaml's reader,
  line breaks and columns are then those of YAML 1.2); a line break at the end; no directive
  (``%``) or document end marker (``...``) starting a line; no merge key (``<<``); no word
  starting a tag, an anchor, an alias, a complex key or a value key (``!``, ``&``, ``*``,
  ``?``, ``=``); no JSON-like key glued to its value (``"a":1``); in a file with a flow
  collection, no colon right before a flow indicator (``[a:]``) and no key or string value
  starting with ``|``, ``>`` or ``:`` (``yaml-rs`` reads ``[>]`` as a plain scalar, libyaml
  refuses it); no block scalar left empty at the end (``yaml-rs`` reads a line break); no
  indentation of 256 spaces or more;
* every plain scalar is one or more whole words of the text (``,[]{}`` separate words as
  spaces do). Every word that either parser could read as other than a string (it starts
  like a number, or is a boolean or null word in any case) has its two values compared once,
  by the two parsers themselves (a memo): a file with one that differs (``010``, ``0o10``,
  ``1e3``, ``1_000``, ``.5``, ``1:20``...) takes the libyaml path. The words ``yaml-rs``
  reads as strings and PyYAML as booleans (``on``, ``no``...) are looked for among the
  values: a file takes the libyaml path when one is a whole string value (plain or quoted),
  not when a sentence or a comment holds it. Any other string value (a quoted ``'1:20'``, a
  sentence) is a string in both;
* every document is a non-empty mapping, no deeper than :data:`MAX_DEPTH` and within
  :data:`MAX_NODES`, whose keys are short strings; ``yaml-rs`` refuses duplicate keys (an
  error: the libyaml path reports it).

Over-broad on purpose: a ``*`` starting a word of a comment also sends the file to libyaml, a
false alarm costing only speed. ``tests/unit/test_yaml_fast.py`` compares both paths on every
YAML file of the repository and on generated documents (block and flow).

Positions are not taken from ``yaml-rs``: a document's own position is where its first token
starts (computed here from the text, where libyaml marks it), and field positions come from a
:class:`LazyLocator`, which composes the text with libyaml when a diagnostic first needs one.

``yaml-rs`` is a dependency (wheels for Linux, macOS and Windows); should it not import (a
platform without a wheel), :func:`fast_documents` always answers ``None`` and every file takes
the libyaml path, with the same results. It answers ``None`` in any thread but the main one
too (see :data:`_MAIN_THREAD`).
"""

from __future__ import annotations

import math
import re
import sys
import threading
from collections.abc import Callable
from functools import cache
from typing import Any

from reconciler.load.yaml_documents import MAX_DEPTH, MAX_NODES, build_plain_scalar, shared_text
from reconciler.model import Position

_loads: Callable[..., Any] | None
try:
    import yaml_rs

    _loads = yaml_rs.loads
except ImportError:  # pragma: no cover - the wheel exists for the supported platforms
    _loads = None

AVAILABLE = _loads is not None
"""Whether the fast path can run at all (``yaml-rs`` imported)."""

_MAIN_THREAD = threading.main_thread()
"""The only thread the fast path runs in: ``yaml-rs`` 0.1.6 crashed the process (a
segmentation fault inside the extension) when called from a new executor thread of the
server after an earlier one had ended. One-shot commands (``validate``, the Action) and
parsing workers parse in their main thread; the server's builds, in executor threads, take
the libyaml path."""

MAX_KEY_LENGTH = 100
"""Longest key taken: libyaml refuses an implicit key over 1024 characters of source, and an
escaped character is at most 10 characters of source."""

_MEMO_LIMIT = 50_000

_DOCUMENT_START = re.compile(r"^---(?=\s|$)", re.MULTILINE)
_CONTENT = re.compile(r"^[ ]*[^\s#]", re.MULTILINE)
_START_OF_CONTENT = re.compile(r"(?:[ ]*(?:#[^\n]*)?\n)*[ ]*")
"""Blank and comment lines, then the indentation: what precedes a document's first token."""

_FLOW_INDICATORS = str.maketrans(",[]{}", "     ")
"""They end a plain scalar in a flow collection, as a space does."""

_NOT_IN_FLOW = ("|", ">", ":")
"""In a flow collection, ``yaml-rs`` reads a plain scalar starting so (``[>]``, ``{a: :b}``,
``{a: |\n b}``), libyaml refuses it: in a file with a flow collection, a key or a string
value starting so sends the file to libyaml (a block scalar's text never starts with its
header; a quoted one would be a false alarm)."""

_GLUED_COLON = (":,", ":[", ":]", ":{", ":}")
"""A colon before a flow indicator: a value indicator for YAML 1.2, not always for libyaml."""

_ADJACENT_VALUE = re.compile(r"[\"']:[^\s]")

_AT_LINE_START = ("%", "...")
"""A directive, a document end marker (or a plain scalar starting so: libyaml then)."""

_ANYWHERE = ("<<", " " * 256)
"""A merge key (or a string holding ``<<``); an indentation deeper than any document takes."""

_NUMBER_START = frozenset("-+.0123456789_~")
"""First characters of every plain scalar that is not a string in YAML 1.1 (PyYAML) or 1.2
(``yaml-rs``), but for the words of :data:`_WORDS`."""

_INDICATOR = frozenset("!&*?=")
"""A word starting so: a tag, an anchor, an alias, a complex key, a value key (or a plain
string starting so: libyaml then)."""


def _spellings(word: str) -> set[str]:
    out = {""}
    for char in word:
        out = {prefix + c for prefix in out for c in (char.lower(), char.upper())}
    return out


_WORDS = frozenset().union(
    *(_spellings(w) for w in ("yes", "no", "true", "false", "on", "off", "null", "y", "n"))
)
"""Every spelling, in any case, of a YAML 1.1 or 1.2 boolean or null word."""

_known: set[str] = set()
"""Words known to read the same in both (most words of a file were in an earlier file)."""

_tokens: dict[str, bool] = {}
"""Word -> whether, written plain, it has the same value in YAML 1.2 (``yaml-rs``) and in
YAML 1.1 (what :mod:`yaml_documents` builds)."""

_intern = sys.intern


class _Differs(Exception):
    """The file is not for the fast path."""


def fast_documents(text: str) -> list[tuple[dict[str, Any], Position]] | None:
    """Each document's data and position, as libyaml and :mod:`yaml_documents` would give
    them, or None when the file must be parsed with libyaml (see the module's docstring)."""
    if _loads is None or threading.current_thread() is not _MAIN_THREAD:
        return None
    checked = _plain_text(text)
    if checked is None:
        return None
    suspects, flow = checked
    try:
        loaded = _loads(text, parse_datetime=False)
    except Exception:  # YAMLDecodeError (duplicate keys too), an unhashable key...: libyaml says
        return None
    starts = _document_starts(text)
    if starts is None:
        return None
    documents: list[Any]
    if len(starts) == 1:
        documents = [loaded]
    elif type(loaded) is list and len(loaded) == len(starts):
        documents = loaded
    else:
        return None
    out: list[tuple[dict[str, Any], Position]] = []
    try:
        for data, start in zip(documents, starts, strict=True):
            if type(data) is not dict or not data:
                return None
            built = _mapping(data, 0, [MAX_NODES])  # within the limits, string keys
            if (suspects and _holds(built, suspects)) or (flow and _flow_suspect(built)):
                return None
            out.append((built, _position(text, start)))
    except _Differs:
        return None
    return out


def _plain_text(text: str) -> tuple[set[str], bool] | None:
    """None unless ``text`` is in the subset of YAML whose reading the fast path can vouch
    for; then the words of it that ``yaml-rs`` reads as strings and PyYAML does not (``on``,
    ``no``: a string value equal to one of them sends the file to libyaml; a sentence or a
    comment holding one does not), and whether it has a flow collection."""
    if not text.isascii() or not text.replace("\n", " ").isprintable():
        return None  # tab, carriage return, control characters
    if not text.endswith("\n"):
        return None  # a block scalar ending the file: yaml-rs adds a line break
    if ('":' in text or "':" in text) and _ADJACENT_VALUE.search(text):
        return None  # a JSON-like key and its value with no space between them
    for marker in _AT_LINE_START:
        if text.startswith(marker) or "\n" + marker in text:
            return None
    if any(part in text for part in _ANYWHERE):
        return None
    last = text.rstrip().rpartition("\n")[2].split()
    if any(word[0] in "|>" for word in last):
        return None  # an empty block scalar ending the file: yaml-rs reads a line break
    # A plain scalar is one or more whole words (flow indicators end words too); any that
    # either parser reads as other than a string is a word of its own. Words seen before are
    # known.
    flow = text.count("{") != text.count("{}") or text.count("[") != text.count("[]")
    words = set(text.translate(_FLOW_INDICATORS).split()) if flow else set(text.split())
    if flow and any(p in text for p in _GLUED_COLON):
        return None  # a value indicator for yaml-rs in a flow collection, not for libyaml
    if not all(_word_same(word) for word in words - _known):
        return None
    return words & _strings_in_1_2(), flow


def _word_same(word: str) -> bool:
    """Whether ``word``, written plain, reads the same in both (memoized when it does)."""
    first = word[0]
    if first in _NUMBER_START:
        same = word.isdigit() and (first != "0" or word == "0")  # a decimal integer in both
        if not same:
            known = _tokens.get(word)
            same = _remember(word) if known is None else known
    elif first in _INDICATOR:
        return False
    else:
        # a word yaml-rs reads as a string is looked for among the values instead
        same = word not in _WORDS or word in _strings_in_1_2() or _remember(word)
    if same and len(_known) < _MEMO_LIMIT:
        _known.add(word)
    return same


@cache
def _strings_in_1_2() -> frozenset[str]:
    """The spellings of :data:`_WORDS` that ``yaml-rs`` reads as themselves (strings) and
    PyYAML as something else (``on``, ``No``...)."""
    assert _loads is not None
    return frozenset(
        word
        for word in _WORDS
        if _loads(f"k: {word}\n", parse_datetime=False) == {"k": word} and not _same_token(word)
    )


def _holds(data: Any, strings: set[str]) -> bool:
    """Whether ``data`` holds one of ``strings`` as a value (not as a key)."""
    if type(data) is dict:
        return any(_holds(value, strings) for value in data.values())
    if type(data) is list:
        return any(_holds(value, strings) for value in data)
    return type(data) is str and data in strings


def _flow_suspect(data: Any) -> bool:
    """Whether ``data`` has a key or a string value starting as :data:`_NOT_IN_FLOW`."""
    if type(data) is dict:
        return any(
            key.startswith(_NOT_IN_FLOW) or _flow_suspect(value) for key, value in data.items()
        )
    if type(data) is list:
        return any(_flow_suspect(value) for value in data)
    return type(data) is str and data.startswith(_NOT_IN_FLOW)


def forget() -> None:
    """Empty the memo of words (what a new process starts with; for measurements)."""
    _known.clear()
    _tokens.clear()


def _remember(word: str) -> bool:
    same = _same_token(word)
    if len(_tokens) < _MEMO_LIMIT:
        _tokens[word] = same
    return same


def _document_starts(text: str) -> list[int] | None:
    """Where each document's content starts (after its ``---`` line, if any); None when a
    ``---`` line carries content (a document on the marker's line). An empty document is
    refused by the caller: ``yaml-rs`` reads it as null."""
    if not text.startswith("---") and "\n---" not in text:
        return [0]  # one document (yaml-rs found it: it is not empty)
    markers = [m.end() for m in _DOCUMENT_START.finditer(text)]
    starts: list[int] = []
    first = markers[0] - 3 if markers else len(text)
    if _CONTENT.search(text, 0, first):
        starts.append(0)
    for end in markers:
        newline = text.find("\n", end)
        rest = text[end : newline if newline >= 0 else len(text)].strip()
        if rest and not rest.startswith("#"):
            return None
        starts.append(newline + 1 if newline >= 0 else len(text))
    return starts or None


def _position(text: str, start: int) -> Position:
    offset = _START_OF_CONTENT.match(text, start)
    assert offset is not None  # the pattern matches the empty string
    at = offset.end()
    line_start = text.rfind("\n", 0, at) + 1
    return Position(text.count("\n", 0, at) + 1, at - line_start + 1)


def _mapping(data: dict[Any, Any], depth: int, budget: list[int]) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise _Differs
    budget[0] -= len(data) + 1
    if budget[0] < 0:
        raise _Differs
    out: dict[str, Any] = {}
    inner = depth + 1
    for key, value in data.items():
        if type(key) is not str or len(key) > MAX_KEY_LENGTH:
            raise _Differs
        kind = type(value)
        if kind is dict:
            value = _mapping(value, inner, budget)
        elif kind is list:
            value = _sequence(value, inner, budget)
        elif kind is str:
            value = shared_text(value)
        out[_intern(key)] = value  # the same few keys in every document: held once
    return out


def _sequence(data: list[Any], depth: int, budget: list[int]) -> list[Any]:
    if depth > MAX_DEPTH:
        raise _Differs
    budget[0] -= len(data) + 1
    if budget[0] < 0:
        raise _Differs
    inner = depth + 1
    for i, value in enumerate(data):
        kind = type(value)
        if kind is dict:
            data[i] = _mapping(value, inner, budget)
        elif kind is list:
            data[i] = _sequence(value, inner, budget)
        elif kind is str:
            data[i] = shared_text(value)
    return data


def _same_token(token: str) -> bool:
    """Whether a plain scalar ``token`` has the same value, of the same type, in both."""
    assert _loads is not None
    try:
        ours = build_plain_scalar(token)
    except ValueError:  # PyYAML resolves it to a tag we do not build (merge, value)
        return False
    try:
        theirs = _loads(f"k: {token}\n", parse_datetime=False)
    except ValueError:
        # not a plain scalar for YAML 1.2 (``-``): it cannot be a value yaml-rs resolves
        return True
    if type(theirs) is not dict or "k" not in theirs:
        return False
    return _same_value(ours, theirs["k"])


def _same_value(a: object, b: object) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or repr(a) == repr(b)
    return a == b
