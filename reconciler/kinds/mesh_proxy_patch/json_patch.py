"""RFC 6902 JSON Patch with the options Kuma 2.14 applies them with.

Kuma (``core/jsonpatch/merge.go``) runs ``evanphx/json-patch`` v5 with
``SupportNegativeIndices``, ``AllowMissingPathOnRemove`` and ``EnsurePathExistsOnAdd``:

* an array index may be negative (``-1`` is the last element);
* ``remove`` of a path that does not exist does nothing;
* ``add`` creates the missing containers on its way (an object, or an array when the next
  token is an index or ``-``, padded with ``null`` up to that index).

The ``jsonpatch`` package on PyPI has none of these options, so the few operations are
written here. Operations: ``add``, ``remove``, ``replace``, ``move``, ``copy``, ``test``.
The document is edited in place (pass a copy); a failure raises :class:`JsonPatchError`.
"""

from __future__ import annotations

import copy as _copy
from collections.abc import Mapping, Sequence
from typing import Any


class JsonPatchError(ValueError):
    """A patch operation that does not apply to the document (``index``: which one)."""

    index: int | None = None


Container = dict[str, Any] | list[Any]


def apply_patch(document: Any, operations: Sequence[Mapping[str, Any]]) -> Any:
    """``document`` after ``operations`` in order (the root may be replaced)."""
    for number, operation in enumerate(operations):
        op = operation.get("op")
        try:
            document = _apply(document, op, operation)
        except JsonPatchError as exc:
            error = JsonPatchError(f"{op} {operation.get('path')}: {exc}")
            error.index = number
            raise error from exc
    return document


def _apply(document: Any, op: object, operation: Mapping[str, Any]) -> Any:
    path = _tokens(operation.get("path"))
    if op == "add":
        return _add(document, path, _copy.deepcopy(operation.get("value")))
    if op == "remove":
        _remove(document, path)
        return document
    if op == "replace":
        return _replace(document, path, _copy.deepcopy(operation.get("value")))
    if op in ("move", "copy"):
        source = _tokens(operation.get("from"))
        if op == "move" and not source:
            raise JsonPatchError("unable to move the entire document to another path")
        value = _get(document, source)
        if op == "move":
            _remove(document, source, strict=True)
        else:
            value = _copy.deepcopy(value)
        container, key = _parent(document, path)
        if container is None:
            raise JsonPatchError("the document is missing the destination path")
        _insert(container, key, value)
        return document
    if op == "test":
        if _get(document, path) != operation.get("value"):
            raise JsonPatchError("the value differs")
        return document
    raise JsonPatchError(f"unsupported operation {op!r}")


def _tokens(path: object) -> list[str]:
    if not isinstance(path, str):
        raise JsonPatchError("the path must be a string")
    if path == "":
        return []
    if not path.startswith("/"):
        raise JsonPatchError(f"path {path!r} must start with '/'")
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _index(container: list[Any], token: str, *, extra: int = 0) -> int:
    """The position ``token`` names in ``container`` (``extra`` = 1 when inserting)."""
    try:
        index = int(token)
    except ValueError as exc:
        raise JsonPatchError(f"{token!r} is not an array index") from exc
    size = len(container) + extra
    if index < 0:
        index += size
    if not 0 <= index < size:
        raise JsonPatchError(f"index {token} is out of range")
    return index


def _child(node: Any, token: str) -> Any:
    if isinstance(node, dict):
        if token not in node:
            raise JsonPatchError(f"missing key {token!r}")
        return node[token]
    if isinstance(node, list):
        return node[_index(node, token)]
    raise JsonPatchError(f"{token!r}: not inside an object or array")


def _get(document: Any, path: list[str]) -> Any:
    node = document
    for token in path:
        node = _child(node, token)
    return node


def _parent(document: Any, path: list[str]) -> tuple[Container | None, str]:
    node = document
    for token in path[:-1]:
        try:
            node = _child(node, token)
        except JsonPatchError:
            return None, path[-1]
    return (node if isinstance(node, dict | list) else None), path[-1]


def _insert(container: Container, key: str, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value
    elif key == "-":
        container.append(value)
    else:
        container.insert(_index(container, key, extra=1), value)


def _ensure_path(document: Any, path: list[str]) -> None:
    """evanphx ``ensurePathExists``: create every missing container before the last token."""
    node = document
    for position, token in enumerate(path[:-1]):
        following = path[position + 1]
        try:
            node = _child(node, token)
            continue
        except JsonPatchError:
            pass
        if isinstance(node, list) and token.lstrip("-").isdigit():
            while len(node) < int(token):
                node.append(None)
        new: Container
        if following == "-" or following.lstrip("-").isdigit():
            size = 0 if following == "-" else int(following)
            if size < -1:
                raise JsonPatchError(f"unable to ensure path for negative index {size}")
            new = [None] * max(size, 0)
        else:
            new = {}
        if isinstance(node, dict):
            node[token] = new
        elif isinstance(node, list):
            _insert(node, token, new)
        else:
            raise JsonPatchError(f"{token!r}: not inside an object or array")
        node = new


def _add(document: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    _ensure_path(document, path)
    container, key = _parent(document, path)
    if container is None:
        raise JsonPatchError("the document is missing the path")
    _insert(container, key, value)
    return document


def _remove(document: Any, path: list[str], *, strict: bool = False) -> None:
    if not path:
        raise JsonPatchError("the root cannot be removed")
    container, key = _parent(document, path)
    if container is None:
        if strict:
            raise JsonPatchError("the document is missing the path")
        return
    if isinstance(container, dict):
        if key in container:
            del container[key]
        elif strict:
            raise JsonPatchError(f"missing key {key!r}")
        return
    if not key.lstrip("-").isdigit():
        raise JsonPatchError(f"{key!r} is not an array index")
    try:
        index = _index(container, key)
    except JsonPatchError:
        if strict:
            raise
        return  # Kuma: AllowMissingPathOnRemove
    del container[index]


def _replace(document: Any, path: list[str], value: Any) -> Any:
    if not path:
        if not isinstance(value, dict | list):
            raise JsonPatchError("a replaced root must be an object or an array")
        return value
    container, key = _parent(document, path)
    if container is None:
        raise JsonPatchError("the document is missing the path")
    if isinstance(container, dict):
        if key not in container:
            raise JsonPatchError(f"missing key {key!r}")
        container[key] = value
    else:
        container[_index(container, key)] = value
    return document
