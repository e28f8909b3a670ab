"""``--log-format text|json``: how the long-running commands write their log to stderr.

``json`` writes one object per line for log shippers (Loki, Elasticsearch, Cloud Logging):
``time`` (RFC 3339, UTC, milliseconds), ``level``, ``logger``, ``message`` (the formatted
text, identical to the text format's), then the record's structured fields (the ``extra=``
of the call: ``proxy``, ``type``, ``revision``, ``code`` ...), then ``exception`` when a
traceback is logged. Keys never collide: a field named like a fixed key is dropped.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)
_FIXED = ("time", "level", "logger", "message", "exception")


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in _FIXED and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def configure_logging(level: str, log_format: LogFormat) -> None:
    """Send every logger's records at ``level`` and above to stderr in ``log_format``
    (like ``logging.basicConfig``: nothing changes if the root logger has handlers already,
    as under a test runner that captures logs)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if log_format is LogFormat.JSON else logging.Formatter(TEXT_FORMAT)
    )
    logging.basicConfig(level=level.upper(), handlers=[handler])
