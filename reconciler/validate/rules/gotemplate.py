"""Does a string parse as a Go ``text/template``? (Kuma parses HostnameGenerator and
MeshIdentity templates with ``template.New("").Funcs({"label": ...}).Parse(text)``.)

A port of Go's ``text/template/parse`` lexer and of the parser's structure checks: actions,
pipelines and commands, control structures (``if``/``range``/``with``/``else``/``end``,
``define``/``block``/``template``, ``break``/``continue``), declared variables and known
functions. :func:`parse_error` returns Go's message (``template: :1: bad character U+005B
'['``) or None. Templates are not executed; only what ``Parse`` rejects is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, auto

from reconciler import codes
from reconciler.validate.rules.findings import Findings, Path

BUILTIN_FUNCTIONS = frozenset(
    {
        "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
        "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
    }
)  # fmt: skip
LEFT, RIGHT = "{{", "}}"
_SPACE = " \t\r\n"


class T(Enum):
    ERROR = auto()
    BOOL = auto()
    CHAR = auto()
    CHAR_CONSTANT = auto()
    COMMENT = auto()
    COMPLEX = auto()
    ASSIGN = auto()
    DECLARE = auto()
    EOF = auto()
    FIELD = auto()
    IDENTIFIER = auto()
    LEFT_DELIM = auto()
    LEFT_PAREN = auto()
    NUMBER = auto()
    PIPE = auto()
    RAW_STRING = auto()
    RIGHT_DELIM = auto()
    RIGHT_PAREN = auto()
    SPACE = auto()
    STRING = auto()
    TEXT = auto()
    VARIABLE = auto()
    KEYWORD = auto()  # the value says which: block, break, continue, define, else, end, ...
    DOT = auto()
    NIL = auto()


KEYWORDS = frozenset(
    {"block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"}
)


@dataclass(frozen=True, slots=True)
class Item:
    typ: T
    val: str
    line: int

    def __str__(self) -> str:  # Go's item.String()
        if self.typ is T.EOF:
            return "EOF"
        if self.typ is T.ERROR:
            return self.val
        if self.typ in (T.KEYWORD, T.DOT, T.NIL):
            return f"<{self.val}>"
        if len(self.val) > 10:
            return f"{_go_quote(self.val[:10])}..."
        return _go_quote(self.val)


def _go_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return f'"{escaped}"'


def _rune(ch: str) -> str:
    """Go's ``%#U``."""
    code = f"U+{ord(ch):04X}"
    return f"{code} '{ch}'" if ch.isprintable() else code


def _is_alnum(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch.isdigit()


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.start = 0
        self.line = 1
        self.start_line = 1
        self.paren_depth = 0
        self.items: list[Item] = []

    # -- primitives -------------------------------------------------------------------------
    def next(self) -> str:
        if self.pos >= len(self.text):
            self.pos += 1  # so that backup() undoes it
            return ""
        ch = self.text[self.pos]
        self.pos += 1
        if ch == "\n":
            self.line += 1
        return ch

    def backup(self) -> None:
        self.pos -= 1
        if self.pos < len(self.text) and self.text[self.pos] == "\n":
            self.line -= 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def emit(self, typ: T) -> None:
        self.items.append(Item(typ, self.text[self.start : self.pos], self.start_line))
        self.ignore()

    def ignore(self) -> None:
        self.start = self.pos
        self.start_line = self.line

    def error(self, message: str) -> None:
        self.items.append(Item(T.ERROR, message, self.start_line))

    def accept(self, valid: str) -> bool:
        ch = self.next()
        if ch and ch in valid:
            return True
        self.backup()
        return False

    def accept_run(self, valid: str) -> None:
        while True:
            ch = self.next()
            if not ch or ch not in valid:
                break
        self.backup()

    def at_right_delim(self) -> tuple[bool, bool]:
        rest = self.text[self.pos :]
        if rest.startswith(" -" + RIGHT) or rest.startswith("\t-" + RIGHT):
            return True, True
        if rest.startswith("\n-" + RIGHT) or rest.startswith("\r-" + RIGHT):
            return True, True
        return rest.startswith(RIGHT), False

    def at_terminator(self) -> bool:
        ch = self.peek()
        if ch == "" or ch in _SPACE or ch in ".,|:)(":
            return True
        return self.text.startswith(RIGHT, self.pos)

    # -- states -----------------------------------------------------------------------------
    def run(self) -> list[Item]:
        while True:
            x = self.text.find(LEFT, self.pos)
            if x < 0:
                self.pos = len(self.text)
                if self.pos > self.start:
                    self.line += self.text.count("\n", self.start, self.pos)
                    self.emit(T.TEXT)
                self.items.append(Item(T.EOF, "", self.line))
                return self.items
            self.pos = x
            trim = self.text.startswith(LEFT + "-", x) and (
                x + 3 < len(self.text) and self.text[x + 3] in _SPACE
            )
            if self.pos > self.start:
                self.line += self.text.count("\n", self.start, self.pos)
                self.emit(T.TEXT)
            if not self._action(trim):
                return self.items

    def _action(self, trim: bool) -> bool:
        self.pos += len(LEFT)
        after = 2 if trim else 0
        if self.text.startswith("/*", self.pos + after):
            self.pos += after
            self.ignore()
            return self._comment()
        self.emit(T.LEFT_DELIM)
        self.pos += after
        self.ignore()
        self.paren_depth = 0
        return self._inside_action()

    def _comment(self) -> bool:
        self.pos += 2
        end = self.text.find("*/", self.pos)
        if end < 0:
            self.error("unclosed comment")
            return False
        self.line += self.text.count("\n", self.pos, end + 2)
        self.pos = end + 2
        delim, trim = self.at_right_delim()
        if not delim:
            self.error("comment ends before closing delimiter")
            return False
        self.emit(T.COMMENT)
        if trim:
            self.pos += 2
        self.pos += len(RIGHT)
        self.ignore()
        return True

    def _inside_action(self) -> bool:
        while True:
            delim, trim = self.at_right_delim()
            if delim:
                if self.paren_depth != 0:
                    self.error("unclosed left paren")
                    return False
                if trim:
                    self.pos += 2
                    self.ignore()
                self.pos += len(RIGHT)
                self.emit(T.RIGHT_DELIM)
                return True
            ch = self.next()
            if ch == "":
                self.error("unclosed action")
                return False
            if ch in _SPACE:
                self.backup()
                self._space()
            elif ch == "=":
                self.emit(T.ASSIGN)
            elif ch == ":":
                if self.next() != "=":
                    self.error("expected :=")
                    return False
                self.emit(T.DECLARE)
            elif ch == "|":
                self.emit(T.PIPE)
            elif ch == '"':
                if not self._quote():
                    return False
            elif ch == "`":
                if not self._raw_quote():
                    return False
            elif ch == "$":
                if not self._variable():
                    return False
            elif ch == "'":
                if not self._char():
                    return False
            elif ch == "." and self.pos < len(self.text) and not self.text[self.pos].isdigit():
                if not self._field_or_variable(T.FIELD):
                    return False
            elif ch in "+-." or ch.isdigit():
                self.backup()
                if not self._number():
                    return False
            elif _is_alnum(ch):
                self.backup()
                if not self._identifier():
                    return False
            elif ch == "(":
                self.paren_depth += 1
                self.emit(T.LEFT_PAREN)
            elif ch == ")":
                self.paren_depth -= 1
                if self.paren_depth < 0:
                    self.error("unexpected right paren")
                    return False
                self.emit(T.RIGHT_PAREN)
            elif ord(ch) < 128 and ch.isprintable():
                self.emit(T.CHAR)
            else:
                self.error(f"unrecognized character in action: {_rune(ch)}")
                return False

    def _space(self) -> None:
        while self.peek() and self.peek() in _SPACE:
            self.next()
        # " -}}": leave the space to the right delimiter's trim marker
        if self.pos > self.start and self.text.startswith("-" + RIGHT, self.pos):
            self.backup()
            if self.pos == self.start:
                return
        self.emit(T.SPACE)

    def _identifier(self) -> bool:
        while True:
            ch = self.next()
            if not _is_alnum(ch):
                self.backup()
                break
        if not self.at_terminator():
            self.error(f"bad character {_rune(self.peek())}")
            return False
        word = self.text[self.start : self.pos]
        if word in KEYWORDS:
            self.emit(T.KEYWORD)
        elif word == "nil":
            self.emit(T.NIL)
        elif word in ("true", "false"):
            self.emit(T.BOOL)
        else:
            self.emit(T.IDENTIFIER)
        return True

    def _variable(self) -> bool:
        if self.at_terminator():
            self.emit(T.VARIABLE)
            return True
        return self._field_or_variable(T.VARIABLE)

    def _field_or_variable(self, typ: T) -> bool:
        if self.at_terminator():
            self.emit(T.VARIABLE if typ is T.VARIABLE else T.DOT)
            return True
        while True:
            ch = self.next()
            if not _is_alnum(ch):
                self.backup()
                break
        if not self.at_terminator():
            self.error(f"bad character {_rune(self.peek())}")
            return False
        self.emit(typ)
        return True

    def _char(self) -> bool:
        while True:
            ch = self.next()
            if ch == "\\":
                nxt = self.next()
                if nxt not in ("", "\n"):
                    continue
                ch = nxt
            if ch in ("", "\n"):
                self.error("unterminated character constant")
                return False
            if ch == "'":
                break
        self.emit(T.CHAR_CONSTANT)
        return True

    def _quote(self) -> bool:
        while True:
            ch = self.next()
            if ch == "\\":
                nxt = self.next()
                if nxt not in ("", "\n"):
                    continue
                ch = nxt
            if ch in ("", "\n"):
                self.error("unterminated quoted string")
                return False
            if ch == '"':
                break
        self.emit(T.STRING)
        return True

    def _raw_quote(self) -> bool:
        while True:
            ch = self.next()
            if ch == "":
                self.error("unterminated raw quoted string")
                return False
            if ch == "`":
                break
        self.emit(T.RAW_STRING)
        return True

    def _number(self) -> bool:
        if not self._scan_number():
            self.error(f"bad number syntax: {_go_quote(self.text[self.start : self.pos])}")
            return False
        if self.peek() in ("+", "-") and self.peek() != "":
            if not self._scan_number() or self.text[self.pos - 1] != "i":
                self.error(f"bad number syntax: {_go_quote(self.text[self.start : self.pos])}")
                return False
            self.emit(T.COMPLEX)
            return True
        self.emit(T.NUMBER)
        return True

    def _scan_number(self) -> bool:
        self.accept("+-")
        digits = "0123456789_"
        if self.accept("0"):
            if self.accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self.accept("oO"):
                digits = "01234567_"
            elif self.accept("bB"):
                digits = "01_"
        self.accept_run(digits)
        if self.accept("."):
            self.accept_run(digits)
        if len(digits) == 11 and self.accept("eE"):
            self.accept("+-")
            self.accept_run("0123456789_")
        if len(digits) == 23 and self.accept("pP"):
            self.accept("+-")
            self.accept_run("0123456789_")
        self.accept("i")
        if _is_alnum(self.peek()):
            self.next()
            return False
        return True


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
                raise self.fail(f"unexpected . after term {_go_quote(item.val)}", self.peek())
            while self.peek().typ is T.FIELD:
                self.next()
        return term

    def term(self) -> T | None:
        item = self.next_non_space()
        if item.typ is T.IDENTIFIER:
            if item.val not in self.functions:
                raise self.fail(f"function {_go_quote(item.val)} not defined", item)
        elif item.typ is T.VARIABLE:
            if item.val not in self.vars:
                raise self.fail(f"undefined variable {_go_quote(item.val)}", item)
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
    items = _Lexer(text).run()
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
