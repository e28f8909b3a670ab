"""Would Go's ``regexp.Compile`` (RE2 syntax) accept a pattern?

Kuma compiles user regexes with Go, so a pattern is valid when RE2 accepts it. Python's
``re`` is close; the differences that matter are translated before compiling: RE2 has no
lookaround, backreferences, atomic groups or ``(?#`` comments (invalid there), and has
``\\z``, ``\\pL``/``\\p{Greek}``, ``\\Q...\\E``, ``(?<name>`` and flags anywhere (valid there).
"""

from __future__ import annotations

import re
import warnings

_GROUP_FLAGS = re.compile(r"\(\?([imsU-]*)(:|\))")
_NAMED = re.compile(r"\(\?P?<([A-Za-z0-9_]+)>")


def is_valid(pattern: str) -> bool:
    translated = _translate(pattern)
    if translated is None:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FutureWarning on POSIX classes like [[:alpha:]]
        try:
            re.compile(translated)
        except (re.error, OverflowError, RecursionError):
            return False
    return True


def _translate(pattern: str) -> str | None:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                return None  # trailing backslash
            nxt = pattern[i + 1]
            if nxt in "123456789":
                return None  # backreference
            if nxt in "pP":
                end = pattern.find("}", i) if pattern[i + 2 : i + 3] == "{" else i + 2
                if end < 0:
                    return None
                out.append(".")
                i = end + 1
                continue
            if nxt == "Q":
                stop = pattern.find("\\E", i + 2)
                literal = pattern[i + 2 :] if stop < 0 else pattern[i + 2 : stop]
                out.append(re.escape(literal))
                i = n if stop < 0 else stop + 2
                continue
            out.append("\\Z" if nxt == "z" else c + nxt)
            i += 2
            continue
        if c == "(" and pattern.startswith("(?", i):
            named = _NAMED.match(pattern, i)
            flags = _GROUP_FLAGS.match(pattern, i)
            if named is not None:
                out.append(f"(?P<{named.group(1)}>")
                i = named.end()
            elif flags is not None:
                letters = flags.group(1).replace("U", "")
                if flags.group(2) == ":":
                    out.append(f"(?{letters}:" if letters.strip("-") else "(?:")
                # a bare flag group changes matching, not validity: dropped
                i = flags.end()
            else:
                return None  # lookaround, atomic group, comment, conditional: not RE2
            continue
        out.append(c)
        i += 1
    return "".join(out)
