"""Hostnames HostnameGenerators give MeshServices and MeshExternalServices (Kuma 2.14).

Kuma (``hostnamegenerator/hostname``) renders each generator's Go ``template`` for every
service its ``selector`` picks (``meshService`` / ``meshExternalService`` ``matchLabels`` on the
service's labels), with the fields ``.DisplayName``, ``.Namespace``, ``.Zone``, ``.Mesh`` and
the function ``label "key"`` (the service's label; a missing label is an error, and that
generator gives the service no hostname). The reconciler serves no DNS: it reports the names
(``inspect``, ``/status``) for users who run their own resolver.

Repository resources carry the labels Kuma's control plane would add to resources created
in the zone: ``kuma.io/origin: zone``, ``kuma.io/env: universal``, ``kuma.io/mesh`` and
``kuma.io/display-name`` (so Kuma's documented generators, which select
``kuma.io/origin: zone``, apply); the resource's own labels take precedence.

Templates are rendered for the actions Kuma's generators use: text, ``{{ .Field }}`` and
``{{ label "key" }}`` (with ``{{-`` / ``-}}`` trimming). A template using anything else
renders to nothing and says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reconciler.model import DEFAULT_MESH, Resource

HOSTNAME_GENERATOR = "HostnameGenerator"
SELECTORS = {"MeshService": "meshService", "MeshExternalService": "meshExternalService"}
_ACTION = re.compile(r"\{\{(-\s)?\s*(.*?)\s*(\s-)?\}\}", re.S)
_FIELD = re.compile(r"\.(DisplayName|Namespace|Zone|Mesh)")
_LABEL = re.compile(r'label\s+("(?:[^"\\]|\\.)*"|`[^`]*`)')


@dataclass(frozen=True, slots=True)
class Hostname:
    hostname: str
    generator: str
    """The HostnameGenerator that made it."""


def zone_labels(resource: Resource) -> dict[str, str]:
    """The labels a resource written in the repository has once in Kuma's store."""
    labels = {
        "kuma.io/origin": "zone",
        "kuma.io/env": "universal",
        "kuma.io/mesh": resource.mesh or DEFAULT_MESH,
        "kuma.io/display-name": resource.name,
    }
    labels.update({str(k): str(v) for k, v in resource.labels.items()})
    return labels


def render(template: str, resource: Resource) -> tuple[str | None, str]:
    """The template rendered for ``resource``, or None and why."""
    labels = zone_labels(resource)
    fields = {
        "DisplayName": resource.name,
        "Namespace": labels.get("k8s.kuma.io/namespace", ""),
        "Zone": labels.get("kuma.io/zone", ""),
        "Mesh": resource.mesh or DEFAULT_MESH,
    }
    out: list[str] = []
    position = 0
    for match in _ACTION.finditer(template):
        text = template[position : match.start()]
        out.append(text.rstrip() if match.group(1) else text)
        action = match.group(2)
        field = _FIELD.fullmatch(action)
        label = _LABEL.fullmatch(action)
        if field is not None:
            out.append(fields[field.group(1)])
        elif label is not None:
            quoted = label.group(1)
            key = quoted[1:-1] if quoted.startswith("`") else str(json.loads(quoted))
            if key not in labels:
                return None, f"label {key} not found"
            out.append(labels[key])
        else:
            return None, f"the action {{{{ {action} }}}} is not rendered by the reconciler"
        position = match.end()
        if match.group(3):
            rest = template[position:]
            position += len(rest) - len(rest.lstrip())
    out.append(template[position:])
    return "".join(out), ""


def _selected(generator: Resource, resource: Resource) -> bool:
    selector = generator.spec.get("selector")
    key = SELECTORS.get(resource.kind)
    chosen = selector.get(key) if isinstance(selector, dict) and key else None
    if not isinstance(chosen, dict):
        return False
    wanted = chosen.get("matchLabels")
    labels = zone_labels(resource)
    return not isinstance(wanted, dict) or all(
        labels.get(str(k)) == str(v) for k, v in wanted.items()
    )


def hostnames(
    generators: Iterable[Resource], services: Iterable[Resource]
) -> dict[tuple[str, str, str], tuple[list[Hostname], list[str]]]:
    """Per ``(mesh, kind, name)``: the hostnames (sorted) and the problems met."""
    chosen = sorted(generators, key=lambda g: g.name)
    out: dict[tuple[str, str, str], tuple[list[Hostname], list[str]]] = {}
    for service in services:
        names: list[Hostname] = []
        problems: list[str] = []
        for generator in chosen:
            template = generator.spec.get("template")
            if not isinstance(template, str) or not _selected(generator, service):
                continue
            rendered, why = render(template, service)
            if rendered is None:
                problems.append(f"HostnameGenerator {generator.name}: {why}")
            else:
                names.append(Hostname(rendered, generator.name))
        if names or problems:
            key = (service.mesh or DEFAULT_MESH, service.kind, service.name)
            out[key] = (sorted(names, key=lambda h: h.hostname), problems)
    return out


def as_json(
    found: Mapping[tuple[str, str, str], tuple[list[Hostname], list[str]]],
) -> dict[str, list[dict[str, object]]]:
    """``{mesh: [{kind, name, hostnames: [{hostname, generator}], problems}]}``, sorted."""
    out: dict[str, list[dict[str, object]]] = {}
    for (mesh, kind, name), (names, problems) in sorted(found.items()):
        entry: dict[str, object] = {
            "kind": kind,
            "name": name,
            "hostnames": [{"hostname": h.hostname, "generator": h.generator} for h in names],
        }
        if problems:
            entry["problems"] = problems
        out.setdefault(mesh, []).append(entry)
    return out
