"""Argument types shared by several subcommands."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from reconciler.cache import default_cache_dir
from reconciler.load import DEFAULT_MAX_FILE_SIZE

_SIZE = re.compile(r"^\s*(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$", re.IGNORECASE)
_UNITS = {
    None: 1,
    "b": 1,
    "k": 1024,
    "kb": 1000,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1000**3,
    "gib": 1024**3,
}


def parse_size(text: str) -> int:
    """``1048576``, ``512KiB``, ``1MiB`` -> bytes."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (examples: 65536, 512KiB, 2MiB)")
    unit = match.group(2).lower() if match.group(2) else None
    return int(match.group(1)) * _UNITS[unit]


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """``--max-file-size``, ``--cache-dir`` and ``--no-cache``: how resource files are read."""
    parser.add_argument(
        "--max-file-size",
        type=parse_size,
        default=DEFAULT_MAX_FILE_SIZE,
        metavar="BYTES",
        help="largest file read, e.g. 1MiB (default: 1MiB)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help=f"per-file result cache (default: {default_cache_dir()})",
    )
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the cache")


def cache_dir_of(args: argparse.Namespace) -> Path | None:
    """The cache directory the arguments ask for (None with ``--no-cache``)."""
    return None if args.no_cache else (args.cache_dir or default_cache_dir())
