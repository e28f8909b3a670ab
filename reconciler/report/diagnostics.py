"""Diagnostics in every output format: text, json, github (workflow commands), sarif."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler import __version__
from reconciler.codes import CODES
from reconciler.diagnostics import Diagnostic, Severity, count

FORMATS = ("text", "json", "github", "sarif")


def summary_line(diags: Sequence[Diagnostic], *, files: int, resources: int) -> str:
    c = count(diags)
    status = "ok" if c.errors == 0 else "failed"
    return (
        f"{status}: {files} file{'s' if files != 1 else ''}, "
        f"{resources} resource{'s' if resources != 1 else ''}, "
        f"{c.errors} error{'s' if c.errors != 1 else ''}, "
        f"{c.warnings} warning{'s' if c.warnings != 1 else ''}"
    )


def as_text(diags: Sequence[Diagnostic], *, files: int, resources: int) -> str:
    lines = [d.format_text() for d in diags]
    lines.append(summary_line(diags, files=files, resources=resources))
    return "\n".join(lines) + "\n"


def as_json_data(diags: Sequence[Diagnostic], *, files: int, resources: int) -> dict[str, Any]:
    c = count(diags)
    return {
        "diagnostics": [d.to_json() for d in diags],
        "summary": {
            "files": files,
            "resources": resources,
            "errors": c.errors,
            "warnings": c.warnings,
        },
    }


def as_json(diags: Sequence[Diagnostic], *, files: int, resources: int) -> str:
    return json.dumps(as_json_data(diags, files=files, resources=resources), indent=2) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github_command(diag: Diagnostic) -> str:
    """``::error file=..,line=..,col=..,title=CODE::message`` (escaped as the runner expects)."""
    level = {"error": "error", "warning": "warning", "info": "notice"}[diag.severity.value]
    props: list[str] = []
    if diag.file:
        props.append(f"file={_escape_property(diag.file)}")
    if diag.line is not None:
        props.append(f"line={diag.line}")
    if diag.col is not None:
        props.append(f"col={diag.col}")
    props.append(f"title={_escape_property(diag.code)}")
    message = diag.message
    if diag.field:
        message = f"{diag.field}: {message}"
    if diag.resource is not None:
        message += f" ({diag.resource})"
    return f"::{level} {','.join(props)}::{_escape_data(message)}"


def as_github(diags: Sequence[Diagnostic], *, files: int, resources: int) -> str:
    lines = [github_command(d) for d in diags]
    lines.append(summary_line(diags, files=files, resources=resources))
    return "\n".join(lines) + "\n"


def as_sarif_data(diags: Sequence[Diagnostic]) -> dict[str, Any]:
    used = sorted({d.code for d in diags})
    rules = [
        {
            "id": code,
            "name": CODES[code].title if code in CODES else code,
            "shortDescription": {"text": CODES[code].title if code in CODES else code},
            "fullDescription": {"text": CODES[code].explanation if code in CODES else code},
            "defaultConfiguration": {
                "level": _sarif_level(CODES[code].severity) if code in CODES else "error"
            },
            "help": {"text": f"reconciler explain-code {code}"},
        }
        for code in used
    ]
    index = {code: i for i, code in enumerate(used)}
    results = []
    for d in diags:
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _sarif_level(d.severity),
            "message": {"text": (f"{d.field}: " if d.field else "") + d.message},
            "partialFingerprints": {
                "reconciler/v1": f"{d.code}:{d.file}:{d.resource}:{d.field}:{d.message}"
            },
        }
        if d.file:
            location: dict[str, Any] = {"artifactLocation": {"uri": d.file}}
            if d.line is not None:
                region: dict[str, Any] = {"startLine": d.line}
                if d.col is not None:
                    region["startColumn"] = d.col
                location["region"] = region
            result["locations"] = [{"physicalLocation": location}]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "reconciler",
                        "version": __version__,
                        "informationUri": "https://kuma.io/docs/",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }


def _sarif_level(severity: Severity) -> str:
    return {"error": "error", "warning": "warning", "info": "note"}[severity.value]


def as_sarif(diags: Sequence[Diagnostic], *, files: int, resources: int) -> str:
    return json.dumps(as_sarif_data(diags), indent=2) + "\n"


RENDERERS = {"text": as_text, "json": as_json, "github": as_github, "sarif": as_sarif}
