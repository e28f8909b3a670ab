"""Git's loose objects, read directly: what a small fetch leaves in the bare cache.

A fetch that brings fewer objects than ``fetch.unpackLimit`` (100 by default: a commit that
edits a few files) stores each of them as a loose object, ``objects/<2 hex>/<rest>``, the
zlib stream of ``<type> <size>\\0<content>``. Reading those here saves the ``cat-file``
processes of a revision. An object that is not loose (packed by a larger fetch or by ``gc``)
is left to ``cat-file``. Git checked each object's id against its content when it stored it.
"""

from __future__ import annotations

import os
import zlib

_HEADER_MAX = 64
"""Bytes inflated to read ``<type> <size>\\0`` (the longest is about 30)."""
_HEX = frozenset("0123456789abcdef")


def read_loose(git_dir: str, oid: str, max_size: int) -> tuple[str, int, bytes | None] | None:
    """``(type, size, content)`` of the loose object ``oid`` in ``git_dir``; content is None
    when ``size`` is over ``max_size`` (then only the header is inflated). None when the
    object is not loose, or not readable as one (the caller asks git)."""
    if len(oid) not in (40, 64) or not _HEX.issuperset(oid):
        return None
    try:
        with open(os.path.join(git_dir, "objects", oid[:2], oid[2:]), "rb") as fh:
            inflater = zlib.decompressobj()
            head = inflater.decompress(fh.read(4096), _HEADER_MAX)
            kind, _, rest = head.partition(b" ")
            size_text, nul, content = rest.partition(b"\0")
            if not nul or not size_text.isdigit():
                return None
            size = int(size_text)
            if size > max_size:
                return kind.decode("ascii", "replace"), size, None
            content += inflater.decompress(inflater.unconsumed_tail + fh.read())
    except (OSError, zlib.error):
        return None
    if not inflater.eof or len(content) != size:
        return None
    return kind.decode("ascii", "replace"), size, content
