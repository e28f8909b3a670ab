"""The subset of GitHub Actions expressions action.yml uses, evaluated like the runner does.

Supported: contexts (``inputs.x``, ``steps.<id>.outputs.x``, ``github.x``, ``runner.x``,
``env.x``; a missing value is ``''``), string literals, ``== != && || !``, parentheses and
the status functions ``success() failure() always() cancelled()``. String comparison is
case-insensitive, as on GitHub. Anything else raises, so an unsupported expression in
action.yml fails the tests instead of being guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))"
    r"|(?P<call>[a-z]+)\(\)|(?P<ident>[A-Za-z_][A-Za-z0-9_.-]*))"
)
_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}")


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text.rstrip()):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"unsupported expression: {text!r} at {pos}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


def lookup(path: str, contexts: Mapping[str, Any]) -> Any:
    value: Any = contexts
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return ""
        value = value[part]
    return value


def truthy(value: Any) -> bool:
    return value not in ("", None, False, 0)


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], contexts: Mapping[str, Any], status: str):
        self.tokens, self.i, self.contexts, self.status = tokens, 0, contexts, status

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expr(self) -> Any:
        left = self.conj()
        while self.peek() == "||":
            self.take()
            right = self.conj()
            left = left if truthy(left) else right
        return left

    def conj(self) -> Any:
        left = self.comparison()
        while self.peek() == "&&":
            self.take()
            right = self.comparison()
            left = right if truthy(left) else left
        return left

    def comparison(self) -> Any:
        left = self.unary()
        while self.peek() in ("==", "!="):
            op = self.take()[1]
            right = self.unary()
            same = str(left).lower() == str(right).lower()
            left = same if op == "==" else not same
        return left

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        if self.peek() == "(":
            self.take()
            value = self.expr()
            assert self.take()[1] == ")", "missing )"
            return value
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "call":
            return {
                "success": self.status == "success",
                "failure": self.status == "failure",
                "always": True,
                "cancelled": False,
            }[text]
        if kind == "ident":
            return lookup(text, self.contexts)
        raise ValueError(f"unexpected token {text!r}")


def evaluate(expression: str, contexts: Mapping[str, Any], status: str = "success") -> Any:
    parser = _Parser(tokenize(expression), contexts, status)
    value = parser.expr()
    if parser.i != len(parser.tokens):
        raise ValueError(f"trailing tokens in {expression!r}")
    return value


def substitute(text: str, contexts: Mapping[str, Any]) -> str:
    """Replace every ``${{ ... }}`` in ``text`` by its value as a string."""

    def one(m: re.Match[str]) -> str:
        value = evaluate(m.group(1), contexts)
        if value is True or value is False:
            return "true" if value else "false"
        return str(value)

    return _TEMPLATE.sub(one, text)


def condition(expr: str | None, contexts: Mapping[str, Any], status: str) -> bool:
    """A step's ``if:``; without a status function, ``success() && (...)`` is implied."""
    if expr is None:
        return status == "success"
    text = expr.strip()
    m = re.fullmatch(r"\$\{\{(.*)\}\}", text, re.S)
    if m:
        text = m.group(1)
    value = truthy(evaluate(text, contexts, status))
    if not re.search(r"\b(success|failure|always|cancelled)\(\)", text):
        value = value and status == "success"
    return value
