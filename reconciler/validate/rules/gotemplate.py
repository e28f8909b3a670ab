"""Does a string parse as a Go ``text/template``? (Kuma parses HostnameGenerator and
MeshIdentity templates with ``template.New("").Funcs({"label": ...}).Parse(text)``.)

A port of Go's ``text/template/parse`` parser checks (the lexer is
:mod:`.gotemplate_lexer`): actions,
pipelines and commands, control structures (``if``/``range``/``with``/``else``/``end``,
``define``/``block``/``template``, ``break``/``continue``), declared variables and known
functions. :func:`parse_error` returns Go's message (``template: :1: bad character U+005B
'['``) or None. Templates are not executed; only what ``Parse`` rejects is reported.
"""

from __future__ import annotations

import re

from reconciler import codes
from reconciler.validate.rules.findings import Findings, Path
from reconciler.validate.rules.gotemplate_lexer import Item, Lexer, T, go_quote

BUILTIN_FUNCTIONS = frozenset(
    {
        "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
        "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
    }
)  # fmt: skip


class TemplateError(Exception):
    """Go's parse error, already formatted (``template: :LINE: message``)."""


class _Parser:
    def __init__(self, items: list[Item], functions: frozenset[str]) -> None:
        self.items = items
        self.i = 0
        self.functions = functions
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.action_line = 0

    def fail(self, message: str, item: Item) -> TemplateError:
        return TemplateError(f"template: :{item.line}: {message}")

    def next(self) -> Item:
        item = self.items[min(self.i, len(self.items) - 1)]
        self.i += 1
        return item

    def backup(self) -> None:
        self.i -= 1

    def next_non_space(self) -> Item:
        item = self.next()
        while item.typ is T.SPACE:
            item = self.next()
        return item

    def peek_non_space(self) -> Item:
        item = self.next_non_space()
        self.backup()
        return item

    def unexpected(self, item: Item, context: str) -> TemplateError:
        if item.typ is T.ERROR:
            extra = ""
            if self.action_line not in (0, item.line):
                extra = f" in action started at :{self.action_line}"
                if item.val.endswith(" action"):
                    extra = extra[len(" in action") :]
            return self.fail(f"{item}{extra}", item)
        return self.fail(f"unexpected {item} in {context}", item)

    def expect(self, typ: T, context: str) -> Item:
        item = self.next_non_space()
        if item.typ is not typ:
            raise self.unexpected(item, context)
        return item

    # -- structure --------------------------------------------------------------------------
    def parse(self) -> None:
        while self.peek().typ is not T.EOF:
            if self.peek().typ is T.LEFT_DELIM:
                start = self.i
                self.next()
                word = self.next_non_space()
                if word.typ is T.KEYWORD and word.val == "define":
                    self.define()
                    continue
                self.i = start
            node = self.text_or_action()
            if node in ("end", "else"):
                raise self.fail(f"unexpected {{{{{node}}}}}", self.items[self.i - 1])

    def peek(self) -> Item:
        return self.items[min(self.i, len(self.items) - 1)]

    def define(self) -> None:
        name = self.next_non_space()
        if name.typ not in (T.STRING, T.RAW_STRING):
            raise self.unexpected(name, "define clause")
        self.expect(T.RIGHT_DELIM, "define clause")
        if self.item_list("define") != "end":
            raise self.fail("unexpected {{else}} in define clause", self.items[self.i - 1])

    def item_list(self, context: str) -> str:
        while self.peek_non_space().typ is not T.EOF:
            node = self.text_or_action()
            if node in ("end", "else"):
                return node
        raise self.fail("unexpected EOF", self.peek())

    def text_or_action(self) -> str:
        item = self.next_non_space()
        if item.typ is T.TEXT:
            return "text"
        if item.typ is T.LEFT_DELIM:
            self.action_line = item.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        if item.typ is T.COMMENT:
            return "comment"
        raise self.unexpected(item, "input")

    def action(self) -> str:
        item = self.next_non_space()
        if item.typ is T.KEYWORD:
            word = item.val
            if word == "end":
                self.expect(T.RIGHT_DELIM, "end")
                return "end"
            if word == "else":
                peek = self.peek_non_space()
                if peek.typ is T.KEYWORD and peek.val in ("if", "with"):
                    return "else"  # "else if"/"else with": the enclosing control reads on
                self.expect(T.RIGHT_DELIM, "else")
                return "else"
            if word in ("if", "with"):
                self.control(word, else_chain=True)
                return word
            if word == "range":
                self.control("range", else_chain=False)
                return word
            if word in ("break", "continue"):
                self.expect(T.RIGHT_DELIM, f"{{{{{word}}}}}")
                if self.range_depth == 0:
                    raise self.fail(f"{{{{{word}}}}} outside {{{{range}}}}", item)
                return word
            if word in ("template", "block"):
                self.template(word)
                return word
            raise self.unexpected(item, "command")  # "define" inside an action
        self.backup()
        self.pipeline("command", T.RIGHT_DELIM)
        return "action"

    def control(self, context: str, *, else_chain: bool) -> None:
        depth = len(self.vars)
        try:
            self.pipeline(context, T.RIGHT_DELIM)
            self.range_depth += context == "range"
            end = self.item_list(context)
            self.range_depth -= context == "range"
            while end == "else":
                peek = self.peek_non_space()
                if else_chain and peek.typ is T.KEYWORD and peek.val == context:
                    self.next_non_space()
                    self.pipeline(peek.val, T.RIGHT_DELIM)
                    end = self.item_list(context)
                    continue
                end = self.item_list(context)
                if end == "else":
                    raise self.fail("expected end; found {{else}}", self.items[self.i - 1])
        finally:
            del self.vars[depth:]

    def template(self, word: str) -> None:
        name = self.next_non_space()
        if name.typ not in (T.STRING, T.RAW_STRING):
            raise self.unexpected(name, f"{word} clause")
        if self.next_non_space().typ is not T.RIGHT_DELIM:
            self.backup()
            self.pipeline(f"{word} clause", T.RIGHT_DELIM)
        if word == "block":
            end = self.item_list("block")
            if end != "end":
                raise self.fail("unexpected {{else}} in block clause", self.items[self.i - 1])

    # -- pipelines ----------------------------------------------------------------------------
    def pipeline(self, context: str, end: T) -> None:
        self._declarations(context)
        firsts: list[T] = []
        while True:
            item = self.next_non_space()
            if item.typ is end:
                if not firsts:
                    raise self.fail(f"missing value for {context}", item)
                for stage, first in enumerate(firsts[1:], start=2):
                    if first in _NOT_EXECUTABLE:
                        raise self.fail(f"non executable command in pipeline stage {stage}", item)
                return
            if item.typ in _OPERAND_STARTS:
                self.backup()
                firsts.append(self.command())
            else:
                raise self.unexpected(item, context)

    def _declarations(self, context: str) -> None:
        """``$x :=`` / ``$x =`` (and ``$i, $e :=`` in a range) at the start of a pipeline."""
        declared = 0
        while self.peek_non_space().typ is T.VARIABLE:
            start = self.i
            variable = self.next_non_space()
            following = self.peek_non_space()
            if following.typ in (T.DECLARE, T.ASSIGN):
                self.next_non_space()
                self.vars.append(variable.val)
                return
            if following.typ is T.CHAR and following.val == ",":
                self.next_non_space()
                self.vars.append(variable.val)
                declared += 1
                if context == "range" and declared < 2:
                    if self.peek_non_space().typ in (T.VARIABLE, T.RIGHT_DELIM, T.RIGHT_PAREN):
                        continue
                    raise self.fail("range can only initialize variables", variable)
                raise self.fail(f"too many declarations in {context}", variable)
            self.i = start
            return

    def command(self) -> T:
        """One command of a pipeline; returns the type of its first operand."""
        first: T | None = None
        while True:
            self.peek_non_space()
            term = self.operand()
            if term is not None and first is None:
                first = term
            item = self.next()
            if item.typ is T.SPACE:
                continue
            if item.typ in (T.RIGHT_DELIM, T.RIGHT_PAREN):
                self.backup()
            elif item.typ is not T.PIPE:
                raise self.unexpected(item, "operand")
            break
        if first is None:
            raise self.fail("empty command", self.items[self.i - 1])
        return first

    def operand(self) -> T | None:
        term = self.term()
        if term is None:
            return None
        if self.peek().typ is T.FIELD:
            item = self.items[self.i - 1]
            if term in _LITERALS:
                raise self.fail(f"unexpected . after term {go_quote(item.val)}", self.peek())
            while self.peek().typ is T.FIELD:
                self.next()
        return term

    def term(self) -> T | None:
        item = self.next_non_space()
        if item.typ is T.IDENTIFIER:
            if item.val not in self.functions:
                raise self.fail(f"function {go_quote(item.val)} not defined", item)
        elif item.typ is T.VARIABLE:
            if item.val not in self.vars:
                raise self.fail(f"undefined variable {go_quote(item.val)}", item)
        elif item.typ is T.LEFT_PAREN:
            self.pipeline("parenthesized pipeline", T.RIGHT_PAREN)
        elif item.typ is T.STRING and not _GO_STRING.match(item.val):
            raise self.fail("invalid syntax", item)
        elif item.typ not in _OPERAND_STARTS:
            self.backup()
            return None
        return item.typ


_OPERAND_STARTS = frozenset(
    {
        T.BOOL, T.CHAR_CONSTANT, T.COMPLEX, T.DOT, T.FIELD, T.IDENTIFIER, T.NUMBER, T.NIL,
        T.RAW_STRING, T.STRING, T.VARIABLE, T.LEFT_PAREN,
    }
)  # fmt: skip
_LITERALS = frozenset(
    {T.BOOL, T.STRING, T.RAW_STRING, T.NUMBER, T.CHAR_CONSTANT, T.COMPLEX, T.NIL, T.DOT}
)
_NOT_EXECUTABLE = frozenset(
    {T.BOOL, T.DOT, T.NIL, T.NUMBER, T.CHAR_CONSTANT, T.COMPLEX, T.STRING, T.RAW_STRING}
)
_GO_STRING = re.compile(
    r'^"(?:[^"\\\n]|\\(?:[abfnrtv\\"]|[0-7]{3}|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}))*"$'
)
"""A double-quoted Go string literal ``strconv.Unquote`` accepts."""


def parse_error(text: str, functions: frozenset[str] = frozenset({"label"})) -> str | None:
    """Go's ``Parse`` error for ``text`` (with the extra ``functions``), or None if it parses."""
    items = Lexer(text).run()
    try:
        _Parser(items, BUILTIN_FUNCTIONS | functions).parse()
    except TemplateError as err:
        return str(err)
    return None


def check_template(f: Findings, path: Path, template: object) -> None:
    """Kuma's ``template.New("").Funcs({"label": ...}).Parse(template)`` must succeed."""
    if not isinstance(template, str):
        return
    error = parse_error(template)
    if error is not None:
        f.add(codes.TEMPLATE_INVALID, path, f"couldn't parse template: {error}")
