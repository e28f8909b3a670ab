"""The Dockerfile's install steps, replayed in a fresh venv (no container engine here):
the image would build, start, pass its HEALTHCHECK and stop cleanly (needs PyPI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_dockerfile_install_steps_build_a_server_that_starts() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "check_install.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=880,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "[build] line" in done.stdout and "RUN python -m venv /opt/reconciler" in done.stdout
    assert "HEALTHCHECK" in done.stdout
    assert done.stdout.rstrip().endswith("stops on SIGTERM")
