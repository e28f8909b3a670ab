"""Run a composite action's steps as the GitHub runner does, on this machine.

What it emulates (research-gitops §4.2): per-step ``GITHUB_OUTPUT``/``GITHUB_ENV``/
``GITHUB_PATH``/``GITHUB_STEP_SUMMARY`` files (plain ``name=value`` and heredoc
``name<<DELIM`` forms), ``GITHUB_EVENT_PATH``, ``GITHUB_WORKSPACE`` (the cwd of every step),
``GITHUB_ACTION_PATH``, ``RUNNER_TEMP``, input defaults, ``${{ }}`` expressions and ``if:``,
the outputs mapping, stop-at-first-failure and workflow commands on stdout (annotations,
``::stop-commands::``). Composite actions get no ``INPUT_*`` variables, and neither do these.

``uses:`` steps cannot run offline: one whose ``if:`` is true raises. The install step is run
for real against an existing interpreter (``RECONCILER_ACTION_PYTHON``, see action.yml).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from action_expressions import condition, substitute

STEP_TIMEOUT_S = 120


@dataclass
class Annotation:
    level: str
    message: str
    properties: dict[str, str]


@dataclass
class RunResult:
    exit_code: int
    outputs: dict[str, str]
    step_outputs: dict[str, dict[str, str]]
    stdout: str
    stderr: str
    summary: str
    annotations: list[Annotation] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)

    def of(self, level: str) -> list[Annotation]:
        return [a for a in self.annotations if a.level == level]


def parse_env_file(text: str) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIM`` ... ``DELIM`` blocks, as the runner reads them."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            body: list[str] = []
            while i < len(lines) and lines[i] != delim:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ValueError(f"unterminated heredoc for {name!r}")
            i += 1
            out[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        else:
            raise ValueError(f"invalid line in env file: {line!r}")
    return out


def _unescape(value: str, prop: bool) -> str:
    if prop:
        value = value.replace("%3A", ":").replace("%2C", ",")
    return value.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


_COMMAND = re.compile(r"^::([a-z-]+)(?: ([^:]*))?::(.*)$")


def parse_commands(stdout: str) -> list[Annotation]:
    found: list[Annotation] = []
    stop_token: str | None = None
    for line in stdout.splitlines():
        if stop_token is not None:
            if line == f"::{stop_token}::":
                stop_token = None
            continue
        m = _COMMAND.match(line)
        if not m:
            continue
        name, raw_props, data = m.group(1), m.group(2) or "", m.group(3)
        if name == "stop-commands":
            stop_token = data
            continue
        if name in ("error", "warning", "notice"):
            props = {}
            for part in filter(None, raw_props.split(",")):
                key, _, value = part.partition("=")
                props[key] = _unescape(value, True)
            found.append(Annotation(name, _unescape(data, False), props))
    return found


def run_action(
    action_dir: Path,
    *,
    workspace: Path,
    runner_temp: Path,
    inputs: dict[str, str] | None = None,
    event: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    github: dict[str, str] | None = None,
    step_timeout_s: float = STEP_TIMEOUT_S,
) -> RunResult:
    meta = yaml.safe_load((action_dir / "action.yml").read_text())
    assert meta["runs"]["using"] == "composite"
    given = dict(inputs or {})
    unknown = set(given) - set(meta.get("inputs", {}))
    assert not unknown, f"unknown inputs {unknown}"
    resolved: dict[str, str] = {}
    for name, spec in meta.get("inputs", {}).items():
        if name in given:
            resolved[name] = given[name]
        elif spec.get("required") and "default" not in spec:
            raise ValueError(f"input {name} is required")
        else:
            resolved[name] = str(spec.get("default", ""))

    runner_temp.mkdir(parents=True, exist_ok=True)
    event_path = runner_temp / "event.json"
    event_path.write_text(json.dumps(event or {}))
    github_ctx = {
        "action_path": str(action_dir),
        "workspace": str(workspace),
        "event_path": str(event_path),
        "token": "test-token",
        "repository": "acme/mesh",
        "api_url": "https://api.github.invalid",
        **(github or {}),
    }
    base_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))},
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "RUNNER_OS": "Linux",
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_ACTION_PATH": str(action_dir),
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_EVENT_NAME": "pull_request" if event and "pull_request" in event else "push",
        "GITHUB_REPOSITORY": github_ctx["repository"],
        "GITHUB_API_URL": github_ctx["api_url"],
        "GITHUB_SERVER_URL": "https://github.invalid",
        "GITHUB_RUN_ID": "1",
        "GITHUB_JOB": "check",
        "XDG_CACHE_HOME": str(runner_temp / "cache"),
        **(env or {}),
    }
    steps_ctx: dict[str, dict[str, dict[str, str]]] = {}
    contexts: dict[str, Any] = {
        "inputs": resolved,
        "steps": steps_ctx,
        "github": github_ctx,
        "runner": {"temp": str(runner_temp), "os": "Linux"},
        "env": base_env,
    }
    status, exit_code = "success", 0
    stdout_all, stderr_all, summary_all, ran = [], [], [], []
    for index, step in enumerate(meta["runs"]["steps"]):
        name = step.get("id") or step.get("name") or str(index)
        if not condition(step.get("if"), contexts, status):
            continue
        if "uses" in step:
            raise NotImplementedError(f"step {name!r} uses {step['uses']}: not runnable offline")
        files = {
            key: runner_temp / f"{key.lower()}_{index}_{uuid.uuid4().hex[:6]}"
            for key in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")
        }
        for path in files.values():
            path.write_text("")
        step_env = {k: substitute(str(v), contexts) for k, v in (step.get("env") or {}).items()}
        script = runner_temp / f"step_{index}.sh"
        script.write_text(substitute(step["run"], contexts))
        assert step.get("shell") == "bash", "every run step needs shell: bash"
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace,
            env={**base_env, **{k: str(v) for k, v in files.items()}, **step_env},
            capture_output=True,
            text=True,
            timeout=step_timeout_s,
            check=False,
        )
        ran.append(name)
        stdout_all.append(proc.stdout)
        stderr_all.append(proc.stderr)
        summary_all.append(files["GITHUB_STEP_SUMMARY"].read_text())
        base_env.update(parse_env_file(files["GITHUB_ENV"].read_text()))
        if step.get("id"):
            steps_ctx[step["id"]] = {"outputs": parse_env_file(files["GITHUB_OUTPUT"].read_text())}
        if proc.returncode != 0:
            status, exit_code = "failure", proc.returncode
    outputs = {
        name: substitute(str(spec["value"]), contexts)
        for name, spec in (meta.get("outputs") or {}).items()
    }
    stdout = "".join(stdout_all)
    return RunResult(
        exit_code=exit_code,
        outputs=outputs,
        step_outputs={k: v["outputs"] for k, v in steps_ctx.items()},
        stdout=stdout,
        stderr="".join(stderr_all),
        summary="".join(summary_all),
        annotations=parse_commands(stdout),
        ran=ran,
    )
