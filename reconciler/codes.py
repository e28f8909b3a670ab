"""Every diagnostic code, its default severity and its explanation: the one place they live.

Ranges: RC1xx YAML and files, RC2xx schema, RC3xx semantic (one resource), RC4xx
cross-resource, RC5xx compile, RC6xx serve and source. A code, once published, keeps its
meaning; retire a code rather than reuse it. ``reconciler explain-code CODE`` prints the
explanation, and ``docs/codes.md`` is generated from this table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    severity: str  # "error" | "warning" | "info"
    title: str
    explanation: str


def _table(*infos: CodeInfo) -> dict[str, CodeInfo]:
    table: dict[str, CodeInfo] = {}
    for info in infos:
        assert info.code not in table, info.code
        table[info.code] = info
    return table


# --- RC1xx: files and YAML (reconciler/load) ---------------------------------------------
YAML_SYNTAX = "RC101"
YAML_DUPLICATE_KEY = "RC102"
YAML_TAB = "RC103"
FILE_NOT_UTF8 = "RC104"
YAML_EMPTY_DOCUMENT = "RC105"
DOC_NOT_MAPPING = "RC106"
TYPE_MISSING = "RC107"
TYPE_UNKNOWN = "RC108"
NAME_MISSING = "RC109"
YAML_ALIAS_LIMIT = "RC110"
YAML_DEPTH_LIMIT = "RC111"
FILE_TOO_LARGE = "RC112"
FILE_UNREADABLE = "RC113"
YAML_UNSUPPORTED_VALUE = "RC114"

# --- RC2xx: JSON Schema (reconciler/validate/schema.py) ----------------------------------
SCHEMA_UNKNOWN_FIELD = "RC201"
SCHEMA_REQUIRED = "RC202"
SCHEMA_TYPE = "RC203"
SCHEMA_ENUM = "RC204"
SCHEMA_PATTERN = "RC205"
SCHEMA_RANGE = "RC206"
SCHEMA_LENGTH = "RC207"
SCHEMA_ONE_OF = "RC208"
SCHEMA_OTHER = "RC209"

# --- RC3xx: semantic rules of one resource (reconciler/validate/rules) -------------------
# (codes are added by the rule families; keep them grouped by family)

# --- RC4xx: cross-resource checks (reconciler/validate/rules/cross_*.py) ------------------

# --- RC5xx: compile (reconciler/compile) -------------------------------------------------

# --- RC6xx: serve and source (reconciler/serve, reconciler/source) -----------------------


_FILES_AND_SCHEMA: tuple[CodeInfo, ...] = (
    CodeInfo(
        YAML_SYNTAX,
        "error",
        "invalid YAML",
        "The file is not valid YAML (or JSON). The message quotes the parser; fix the syntax at "
        "the position shown. Nothing in this document is validated until it parses.",
    ),
    CodeInfo(
        YAML_DUPLICATE_KEY,
        "error",
        "duplicate mapping key",
        "A key appears twice in one mapping. YAML parsers disagree on which value wins, so the "
        "reconciler refuses the document. The message names the line of the first occurrence.",
    ),
    CodeInfo(
        YAML_TAB,
        "error",
        "tab character in indentation",
        "YAML forbids tabs for indentation. Replace the tab with spaces.",
    ),
    CodeInfo(
        FILE_NOT_UTF8,
        "error",
        "file is not UTF-8",
        "Resource files must be UTF-8. The position points at the first byte that does not "
        "decode; re-save the file as UTF-8.",
    ),
    CodeInfo(
        YAML_EMPTY_DOCUMENT,
        "warning",
        "empty document",
        "A YAML document (between `---` separators) holds nothing. It is skipped; remove it or "
        "the stray separator.",
    ),
    CodeInfo(
        DOC_NOT_MAPPING,
        "error",
        "document is not a mapping",
        "Each document must be a mapping with at least `type` and `name` (a list or a scalar "
        "is not a resource).",
    ),
    CodeInfo(
        TYPE_MISSING,
        "error",
        "missing `type`",
        "Every resource needs `type:` naming its kind, e.g. `type: MeshTimeout`.",
    ),
    CodeInfo(
        TYPE_UNKNOWN,
        "error",
        "unknown `type`",
        "The `type` is not a kind the reconciler reads. The message suggests the closest known "
        "kind; `reconciler schema --list` prints them all.",
    ),
    CodeInfo(
        NAME_MISSING,
        "error",
        "missing `name`",
        "Every resource needs a non-empty string `name:`.",
    ),
    CodeInfo(
        YAML_ALIAS_LIMIT,
        "error",
        "too many nodes (alias expansion)",
        "The document expands to more nodes than the loader allows (aliases that refer to "
        "aliases grow exponentially: a 'billion laughs' file). Write the values out, or split "
        "the document.",
    ),
    CodeInfo(
        YAML_DEPTH_LIMIT,
        "error",
        "nesting too deep",
        "The document nests deeper than the loader allows. No Kuma resource needs that depth.",
    ),
    CodeInfo(
        FILE_TOO_LARGE,
        "error",
        "file too large",
        "The file is larger than the size limit (`--max-file-size`, default 1 MiB). Split it, or "
        "raise the limit if it really is one mesh file.",
    ),
    CodeInfo(
        FILE_UNREADABLE,
        "error",
        "file cannot be read",
        "The file exists but could not be read (permissions, a broken symlink, a directory "
        "named like a file).",
    ),
    CodeInfo(
        YAML_UNSUPPORTED_VALUE,
        "error",
        "unsupported YAML value",
        "The value uses a YAML feature with no JSON equivalent (a non-string mapping key, a "
        "binary, a set, a custom tag). Write it as a plain string, number, list or mapping.",
    ),
    CodeInfo(
        SCHEMA_UNKNOWN_FIELD,
        "error",
        "unknown field",
        "The field is not part of the kind in Kuma 2.14. Kuma drops unknown fields silently; "
        "the reconciler rejects them so a typo never goes unnoticed. The message suggests the "
        "closest known field.",
    ),
    CodeInfo(
        SCHEMA_REQUIRED,
        "error",
        "required field missing",
        "A field the kind requires is absent.",
    ),
    CodeInfo(
        SCHEMA_TYPE,
        "error",
        "wrong value type",
        "The value has the wrong type (e.g. a string where a number is expected).",
    ),
    CodeInfo(
        SCHEMA_ENUM,
        "error",
        "value not allowed",
        "The value is not one of the allowed values, which the message lists.",
    ),
    CodeInfo(
        SCHEMA_PATTERN,
        "error",
        "value has the wrong format",
        "The value does not match the expected format (a duration like `1s`, a name, ...).",
    ),
    CodeInfo(
        SCHEMA_RANGE,
        "error",
        "value out of range",
        "A number is outside its allowed range (ports 1-65535, percentages 0-100, ...).",
    ),
    CodeInfo(
        SCHEMA_LENGTH,
        "error",
        "wrong length",
        "A string, list or mapping is too short or too long.",
    ),
    CodeInfo(
        SCHEMA_ONE_OF,
        "error",
        "ambiguous or missing alternative",
        "Exactly one of several alternative fields must be set.",
    ),
    CodeInfo(
        SCHEMA_OTHER,
        "error",
        "schema violation",
        "The value violates the kind's schema; the message says how.",
    ),
)

_SEMANTIC: tuple[CodeInfo, ...] = ()
"""RC3xx explanations, one per code defined above."""

_CROSS_RESOURCE: tuple[CodeInfo, ...] = ()
"""RC4xx explanations."""

_COMPILE: tuple[CodeInfo, ...] = ()
"""RC5xx explanations."""

_SERVE_AND_SOURCE: tuple[CodeInfo, ...] = ()
"""RC6xx explanations."""

CODES: dict[str, CodeInfo] = _table(
    *_FILES_AND_SCHEMA, *_SEMANTIC, *_CROSS_RESOURCE, *_COMPILE, *_SERVE_AND_SOURCE
)


def explain(code: str) -> str | None:
    """The explanation of ``code`` (case-insensitive), or None if there is no such code."""
    info = CODES.get(code.upper())
    if info is None:
        return None
    return f"{info.code} ({info.severity}): {info.title}\n\n{info.explanation}"
