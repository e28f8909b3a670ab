"""VirtualOutbound (Kuma 2.14 ``virtual_outbound_validator.go``): selectors, template
parameters, and the host and port templates pre-evaluated with placeholder tags.

Kuma evaluates ``conf.host`` and ``conf.port`` as Go templates over the parameters. The
templates are parsed as Go parses them (``validate/rules/gotemplate.py``); those of Kuma's
documentation, plain text with ``{{.name}}`` actions, are also evaluated as Go does. A
template with any other action (pipelines, conditionals) is not evaluated: once it parses,
it is accepted, never rejected by guesswork.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler import codes
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map
from reconciler.validate.rules.gotemplate import parse_error
from reconciler.validate.rules.gotemplate_lexer import go_quote
from reconciler.validate.rules.selectors import (
    ANY_TAGS,
    SERVICE_TAG,
    TAG_NAME,
    check_selectors,
    is_dns_name,
    proto_field,
)

DEFINED = "has to be defined"
PARAMETER_NAME = re.compile(r"^[a-zA-Z0-9]+$")
ACTION = re.compile(r"\{\{(-\s)?\s*(.*?)\s*(\s-)?\}\}", re.S)
FIELD = re.compile(r"^\.([A-Za-z0-9_]+)$")
NO_VALUE = "<no value>"
"""What Go's ``text/template`` prints for a key the map does not have."""


class TemplateError(Exception):
    """The template does not evaluate (Go's ``text/template`` error text)."""


class Unsupported(Exception):
    """The template uses more of Go's template language than is evaluated here."""


def check(f: Findings, resource: Resource) -> None:
    data = resource.spec
    check_selectors(f, ("selectors",), data.get("selectors"), ANY_TAGS)
    conf = data.get("conf")
    if conf is None:
        f.add(codes.SETTING_MISSING, ("conf",), DEFINED)
        return
    if not isinstance(conf, dict):
        return
    parameters = [as_map(p) for p in as_list(conf.get("parameters"))]
    _parameters(f, ("conf", "parameters"), parameters)
    _template(f, ("conf", "host"), conf.get("host"), parameters, "dummy", _host_result)
    _template(f, ("conf", "port"), conf.get("port"), parameters, "1", _port_result)


def _tag_key(parameter: Mapping[str, Any]) -> str:
    tag_key = proto_field(parameter, "tagKey", "tag_key")
    if isinstance(tag_key, str) and tag_key:
        return tag_key
    name = parameter.get("name")
    return name if isinstance(name, str) else ""


def _parameters(f: Findings, path: Path, parameters: Sequence[Mapping[str, Any]]) -> None:
    has_service = False
    names: set[str] = set()
    for i, parameter in enumerate(parameters):
        name = parameter.get("name")
        name = name if isinstance(name, str) else ""
        if name in names:
            f.add(codes.SETTINGS_CONFLICT, (*path, i, "name"), "name is already used")
        names.add(name)
        tag_key = proto_field(parameter, "tagKey", "tag_key")
        if isinstance(tag_key, str) and tag_key:
            has_service = has_service or tag_key == SERVICE_TAG
            if not TAG_NAME.match(tag_key):
                f.add(codes.NAME_FORMAT, (*path, i, "tagKey"), "must be a valid tag name")
        elif not TAG_NAME.match(name):
            f.add(
                codes.NAME_FORMAT,
                (*path, i, "name"),
                "must be a valid tag name if you are not setting tagKey",
            )
        if not PARAMETER_NAME.match(name):
            f.add(
                codes.NAME_FORMAT,
                (*path, i, "name"),
                "must consist of alphanumeric characters to be used as a gotemplate key",
            )
    if not has_service:
        f.add(
            codes.SETTING_MISSING,
            path,
            f"must contain a parameter with {SERVICE_TAG} as a tagKey",
        )


def _template(
    f: Findings,
    path: Path,
    text: object,
    parameters: Sequence[Mapping[str, Any]],
    placeholder: str,
    result: Any,
) -> None:
    if text is None or text == "":
        f.add(codes.SETTING_MISSING, path, DEFINED)
        return
    if not isinstance(text, str):
        return
    tags = {_tag_key(p): placeholder for p in parameters}
    values: dict[str, str] = {}
    for parameter in parameters:
        name = parameter.get("name")
        if isinstance(name, str):
            values[name] = tags.get(_tag_key(parameter), "")
    try:
        problem = result(evaluate(text, values))
    except Unsupported:
        return
    except TemplateError as error:
        problem = str(error)
    if problem:
        f.add(
            codes.VALUE_NOT_ALLOWED,
            path,
            f"template pre evaluation failed with error={go_quote(problem)}",
        )


def evaluate(text: str, values: Mapping[str, str]) -> str:
    """Go's ``text/template`` (default options): parse as Go does, then run plain text and
    ``{{.key}}`` actions (any other action raises :class:`Unsupported`)."""
    problem = parse_error(text, frozenset())
    if problem is not None:
        raise TemplateError(_compile_error(problem))
    out: list[str] = []
    position = 0
    for match in ACTION.finditer(text):
        literal = text[position : match.start()]
        if match.group(1):
            literal = literal.rstrip()
        out.append(literal)
        field = FIELD.match(match.group(2))
        if field is None:
            raise Unsupported(match.group(2))
        out.append(values.get(field.group(1), NO_VALUE))
        position = match.end()
        if match.group(3):
            rest = text[position:]
            position += len(rest) - len(rest.lstrip())
    out.append(text[position:])
    return "".join(out)


def _compile_error(message: str) -> str:
    return f"failed compiling gotemplate error={go_quote(message)}"


def _host_result(host: str) -> str:
    if is_dns_name(host):
        return ""
    return (
        "evaluation of template with parameters didn't return a valid dns name "
        f"result={go_quote(host)}"
    )


def _port_result(port: str) -> str:
    if not re.fullmatch(r"[+-]?[0-9]+", port) or not -(2**63) <= int(port) < 2**63:
        return (
            "evaluation of template with parameters didn't evaluate to a parsable number "
            f"result={go_quote(port)}"
        )
    number = int(port)
    if number <= 0 or number > 65535:
        return (
            "evaluation of template returned a port outside of the range [1..65535] "
            f"result={number}"
        )
    return ""
