"""Plain data as YAML documents, the way `render` and `get` print them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml


def dump_yaml(docs: Sequence[Any]) -> str:
    """YAML documents; top-level keys keep their order (``proxy`` first), nested keys sorted."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    ordered = [
        {k: _sorted(v) for k, v in doc.items()} if isinstance(doc, dict) else doc for doc in docs
    ]
    return yaml.dump_all(ordered, Dumper=dumper, sort_keys=False, default_flow_style=False)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value
