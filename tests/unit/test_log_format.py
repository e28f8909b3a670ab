"""``--log-format json``: one JSON object per record, fixed keys first, then the fields."""

from __future__ import annotations

import json
import logging
import sys

from reconciler.cli.log_format import JsonFormatter


def record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    logger = logging.getLogger("reconciler.serve")
    out = logger.makeRecord(
        logger.name, logging.WARNING, __file__, 1, msg, args, None, extra=extra or None
    )
    out.created = 1767323045.25  # 2026-01-02T03:04:05.250Z
    return out


def test_fixed_keys_then_the_records_fields() -> None:
    line = JsonFormatter().format(
        record("%s NACKed %s", "default.web-1", "LDS", proxy="default.web-1", type="LDS")
    )
    assert "\n" not in line
    assert json.loads(line) == {
        "time": "2026-01-02T03:04:05.250+00:00",
        "level": "warning",
        "logger": "reconciler.serve",
        "message": "default.web-1 NACKed LDS",
        "proxy": "default.web-1",
        "type": "LDS",
    }
    assert list(json.loads(line))[:4] == ["time", "level", "logger", "message"]


def test_a_traceback_and_values_json_cannot_hold() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        rec = record("failed: %s", "x\ny", path=object.__new__(type("Where", (), {})))
        rec.exc_info = sys.exc_info()
    out = json.loads(JsonFormatter().format(rec))
    assert out["message"] == "failed: x\ny"
    assert out["exception"].startswith("Traceback") and "ValueError: broken" in out["exception"]
    assert out["path"].startswith("<")  # str() of what JSON cannot hold
