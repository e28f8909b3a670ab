"""Kuma's merge of policy confs, with provenance: which policy set each effective value.

Source: Kuma ``pkg/plugins/policies/core/rules/merge/merge.go``:

* confs merge as RFC 7396 JSON Merge Patch, least specific first, so the last one wins:
  objects field by field, scalars and arrays replaced whole, ``null`` deletes;
* fields whose name starts with ``append`` concatenate across policies (MADR 017);
* MeshHTTPRoute ``rules`` are a map keyed by ``matches``: rules with deep-equal matches merge
  into one rule (their ``default`` merged as above); the merged rule takes the position of its
  highest-priority occurrence.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.model import FieldPath, Resource, format_path

APPEND_PREFIX = "append"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a value came from: a policy and the absolute path of the value in its document."""

    resource: Resource
    path: FieldPath

    def where(self) -> str:
        """``file:line`` of the value (positions are resolved lazily, only for ``inspect``)."""
        pos = self.resource.locate(self.path)
        return f"{self.resource.file}:{pos.line}"

    def describe(self) -> str:
        return f"{self.resource.kind} {self.resource.name} {format_path(self.path)}"


@dataclass(frozen=True, slots=True)
class Contribution:
    """One ``default`` block taking part in a merge, in merge order."""

    resource: Resource
    path: FieldPath
    """Absolute path of the ``default`` block (e.g. ``spec.to[1].default``)."""
    conf: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Merged:
    """The effective conf of one policy kind for one place (outbound service, inbound)."""

    conf: Mapping[str, Any]
    origins: Mapping[FieldPath, tuple[Origin, ...]]
    contributions: tuple[Contribution, ...]
    key: str = field(default="")
    """Canonical JSON of ``conf``: equal keys mean equal Envoy output (used for sharing)."""

    @property
    def policies(self) -> tuple[Resource, ...]:
        """Contributing policies in merge order (least specific first), without repeats."""
        seen: dict[int, Resource] = {}
        for c in self.contributions:
            seen.setdefault(id(c.resource), c.resource)
        return tuple(seen.values())

    def get(self, *path: str, default: Any = None) -> Any:
        node: Any = self.conf
        for part in path:
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    def origin(self, *path: str | int) -> tuple[Origin, ...]:
        """Who set ``path``, or the nearest ancestor set as a whole."""
        probe: FieldPath = tuple(path)
        while probe:
            if probe in self.origins:
                return self.origins[probe]
            probe = probe[:-1]
        return ()


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one (confs are plain, possibly odd, data)."""
    return value if isinstance(value, Mapping) else {}


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _drop(origins: dict[FieldPath, tuple[Origin, ...]], prefix: FieldPath) -> None:
    n = len(prefix)
    for key in [k for k in origins if k[:n] == prefix]:
        del origins[key]


def _patch(
    target: dict[str, Any],
    patch: Mapping[str, Any],
    origins: dict[FieldPath, tuple[Origin, ...]],
    at: FieldPath,
    source: Resource,
    source_path: FieldPath,
) -> None:
    for key, value in patch.items():
        here = (*at, key)
        src = (*source_path, key)
        previous = target.get(key)
        if value is None:
            target.pop(key, None)
            _forget(origins, here, previous)
        elif key.startswith(APPEND_PREFIX) and isinstance(value, list):
            target[key] = (list(previous) if isinstance(previous, list) else []) + list(value)
            origins[here] = (*origins.get(here, ()), Origin(source, src))
        elif isinstance(value, Mapping):
            if not isinstance(previous, dict):
                _forget(origins, here, previous)
                previous = {}
                target[key] = previous
            _patch(previous, value, origins, here, source, src)
        else:
            target[key] = _copy(value)
            _forget(origins, here, previous)
            origins[here] = (Origin(source, src),)


def _forget(origins: dict[FieldPath, tuple[Origin, ...]], here: FieldPath, previous: Any) -> None:
    """Drop the origins of a replaced value (and of its fields when it was an object)."""
    if isinstance(previous, Mapping):
        _drop(origins, here)
    else:
        origins.pop(here, None)


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def merge_plain(confs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The same merge on plain confs, without provenance (Kuma ``merge.Confs``)."""
    out: dict[str, Any] = {}
    for conf in confs:
        _merge_plain(out, conf)
    return out


def _merge_plain(target: dict[str, Any], patch: Mapping[str, Any]) -> None:
    for key, value in patch.items():
        previous = target.get(key)
        if value is None:
            target.pop(key, None)
        elif key.startswith(APPEND_PREFIX) and isinstance(value, list):
            target[key] = (list(previous) if isinstance(previous, list) else []) + list(value)
        elif isinstance(value, Mapping):
            if not isinstance(previous, dict):
                previous = {}
                target[key] = previous
            _merge_plain(previous, value)
        else:
            target[key] = _copy(value)


def merge(contributions: Sequence[Contribution]) -> Merged:
    """RFC 7396 merge of ``contributions`` in order (the last one wins)."""
    conf: dict[str, Any] = {}
    origins: dict[FieldPath, tuple[Origin, ...]] = {}
    for c in contributions:
        _patch(conf, c.conf, origins, (), c.resource, c.path)
    return Merged(conf, origins, tuple(contributions), canonical(conf))


NO_CONF = merge(())
"""The conf of a kind that applies with nothing set: every value takes the kind's default."""


@dataclass(frozen=True, slots=True)
class KeyedRule:
    """One merged MeshHTTPRoute rule: its ``matches`` (the key) and the merged ``default``."""

    matches: tuple[Mapping[str, Any], ...]
    default: Merged
    key: str


def merge_rules_by_matches(
    entries: Iterable[tuple[Resource, FieldPath, Sequence[Any]]],
) -> list[KeyedRule]:
    """MeshHTTPRoute ``rules`` of every to-entry, in merge order, keyed by ``matches``.

    ``entries`` are ``(policy, absolute path of the rules list, rules)`` ordered least
    specific first. Returns rules in the order of their highest-priority occurrence.
    """
    by_key: dict[str, list[Contribution]] = {}
    matches_of: dict[str, tuple[Mapping[str, Any], ...]] = {}
    position: dict[str, int] = {}
    occurrence = 0
    for resource, path, rules in entries:
        for i, rule in enumerate(rules):
            if not isinstance(rule, Mapping):
                continue
            matches = rule.get("matches")
            matches_t = (
                tuple(m for m in matches if isinstance(m, Mapping))
                if isinstance(matches, list)
                else ()
            )
            key = canonical(list(matches_t))
            default = rule.get("default")
            by_key.setdefault(key, []).append(
                Contribution(
                    resource, (*path, i, "default"), default if isinstance(default, Mapping) else {}
                )
            )
            matches_of[key] = matches_t
            # A later (more specific) occurrence moves the rule to the front of the list.
            occurrence += 1
            position[key] = -occurrence
    ordered = sorted(by_key, key=lambda k: position[k])
    return [KeyedRule(matches_of[k], merge(by_key[k]), k) for k in ordered]
