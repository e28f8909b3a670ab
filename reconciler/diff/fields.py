"""Field-level differences between two JSON-like values (dicts, lists, scalars).

Paths use the Kuma/Envoy dotted form of :func:`reconciler.model.format_path`
(``virtual_hosts[0].routes[1].route.timeout``). Lists whose items are all objects with a
unique ``name`` are matched by name (an inserted listener filter chain is one change, not a
shifted list); other lists are compared index by index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from reconciler.model import FieldPath, format_path


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()
"""The value on a side where the field does not exist (distinct from JSON ``null``)."""

MASK = "*****"


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One changed field: ``old`` is MISSING when added, ``new`` is MISSING when removed."""

    path: str
    old: Any = MISSING
    new: Any = MISSING

    @property
    def op(self) -> str:
        if self.old is MISSING:
            return "added"
        if self.new is MISSING:
            return "removed"
        return "changed"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "op": self.op}
        if self.old is not MISSING:
            out["old"] = self.old
        if self.new is not MISSING:
            out["new"] = self.new
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> FieldChange:
        return cls(raw["path"], raw.get("old", MISSING), raw.get("new", MISSING))

    def masked(self) -> FieldChange:
        """The same change with both values hidden (secrets)."""
        return FieldChange(
            self.path,
            MISSING if self.old is MISSING else MASK,
            MISSING if self.new is MISSING else MASK,
        )


def diff_values(old: Any, new: Any, prefix: FieldPath = ()) -> list[FieldChange]:
    """Every leaf-level difference between ``old`` and ``new``, in document order."""
    out: list[FieldChange] = []
    _walk(old, new, prefix, out)
    return out


def _walk(old: Any, new: Any, path: FieldPath, out: list[FieldChange]) -> None:
    if old is new:
        return
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in _merged_keys(old, new):
            _walk(old.get(key, MISSING), new.get(key, MISSING), (*path, key), out)
        return
    if isinstance(old, list) and isinstance(new, list):
        _walk_list(old, new, path, out)
        return
    # Containers are walked even when equal: True == 1 in Python, but it is still a change.
    if type(old) is not type(new) or old != new:
        out.append(FieldChange(format_path(path), old, new))


def _merged_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    keys = list(old)
    seen = set(keys)
    keys.extend(k for k in new if k not in seen)
    return keys


def _walk_list(old: list[Any], new: list[Any], path: FieldPath, out: list[FieldChange]) -> None:
    old_names, new_names = _names(old), _names(new)
    if old_names is None or new_names is None:
        for i in range(max(len(old), len(new))):
            _walk(
                old[i] if i < len(old) else MISSING,
                new[i] if i < len(new) else MISSING,
                (*path, i),
                out,
            )
        return
    new_index = {name: i for i, name in enumerate(new_names)}
    for i, name in enumerate(old_names):
        if name not in new_index:
            out.append(FieldChange(format_path((*path, i)), old[i], MISSING))
    old_index = {name: i for i, name in enumerate(old_names)}
    for j, name in enumerate(new_names):
        if name in old_index:
            _walk(old[old_index[name]], new[j], (*path, j), out)
        else:
            out.append(FieldChange(format_path((*path, j)), MISSING, new[j]))


def _names(items: Sequence[Any]) -> list[str] | None:
    """Item names when every item is an object with a unique string ``name``."""
    if not items:
        return []
    names: list[str] = []
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            return None
        names.append(item["name"])
    return names if len(set(names)) == len(names) else None
