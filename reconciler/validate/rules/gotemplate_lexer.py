"""Go's ``text/template/parse`` lexer, ported: the items of a template (text, delimiters,
fields, identifiers, keywords, strings, numbers...) and Go's lexer error messages
(``bad character U+005B '['``, ``unclosed action``, ``unterminated quoted string``...).
An error item ends the list, as Go's lexer stops there. :mod:`.gotemplate` parses the items.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

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
            return f"{go_quote(self.val[:10])}..."
        return go_quote(self.val)


def go_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return f'"{escaped}"'


def _rune(ch: str) -> str:
    """Go's ``%#U``."""
    code = f"U+{ord(ch):04X}"
    return f"{code} '{ch}'" if ch.isprintable() else code


def _is_alnum(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch.isdigit()


class Lexer:
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
        """Every item of the template, ending with EOF or an error item."""
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
            self.error(f"bad number syntax: {go_quote(self.text[self.start : self.pos])}")
            return False
        if self.peek() in ("+", "-") and self.peek() != "":
            if not self._scan_number() or self.text[self.pos - 1] != "i":
                self.error(f"bad number syntax: {go_quote(self.text[self.start : self.pos])}")
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
