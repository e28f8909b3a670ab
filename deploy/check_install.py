"""Replay deploy/Dockerfile's install steps in a fresh directory, then run the result as the
image would: proof that the image builds and starts, on a machine without a container engine.

What it does, reading the Dockerfile (so a change there is what gets tested):

1. the ``build`` stage's ``ENV``, ``WORKDIR``, ``COPY`` and ``RUN`` instructions, in order,
   with the container paths ``/src`` and ``/opt/reconciler`` mapped into a temporary
   directory and ``python`` being this machine's Python (a new venv, the network for PyPI);
2. the runtime stage's ``ENV`` (``XDG_STATE_HOME`` mapped too), then ``reconciler serve``
   on ``sample-repo/`` with the image's default state dir, on free 127.0.0.1 ports;
3. the ``HEALTHCHECK`` command (its port swapped for the free one) must succeed once the
   server is ready, nothing may be written inside the installed tree (read-only root file
   system), and SIGTERM must stop the server with exit code 0.

Usage: ``python deploy/check_install.py [--keep]``; exit 0 when every step passed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
READY_TIMEOUT_S = 120.0
STEP_TIMEOUT_S = 900.0


@dataclass(frozen=True, slots=True)
class Instruction:
    line: int
    name: str
    args: str


@dataclass(slots=True)
class Stage:
    name: str
    instructions: list[Instruction] = field(default_factory=list)


def parse(text: str) -> list[Stage]:
    """Stages of a Dockerfile: instructions with continuation lines joined, comments dropped."""
    stages: list[Stage] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        start = start or number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full, pending = pending + line, ""
        name, _, args = full.partition(" ")
        inst = Instruction(start, name.upper(), args.strip())
        start = 0
        if inst.name == "FROM":
            alias = re.search(r"\bAS\s+(\S+)", inst.args, re.IGNORECASE)
            stages.append(Stage(alias.group(1) if alias else f"stage-{len(stages)}"))
        elif stages:
            stages[-1].instructions.append(inst)
    return stages


def env_pairs(args: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in shlex.split(args))


class Replay:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.paths = {"/opt/reconciler": work / "opt" / "reconciler", "/src": work / "src"}
        self.bin = work / "bin"
        self.bin.mkdir(parents=True)
        base = getattr(sys, "_base_executable", sys.executable)
        (self.bin / "python").symlink_to(base)
        self.env = {
            "PATH": f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "LC_ALL": "C.UTF-8",
            "HOME": str(work / "home"),
        }
        self.cwd = work

    def map(self, text: str) -> str:
        """Container paths in ``text`` replaced by their directories here, in one pass."""
        pattern = "|".join(re.escape(p) for p in sorted(self.paths, key=len, reverse=True))
        return re.sub(
            rf"(?<![\w./-])({pattern})(?=[/\s:]|$)",
            lambda m: str(self.paths[m.group(1)]),
            text,
        )

    def run_stage(self, stage: Stage) -> None:
        for inst in stage.instructions:
            print(f"[{stage.name}] line {inst.line}: {inst.name} {inst.args}", flush=True)
            if inst.name == "ENV":
                self.env.update({k: self.map(v) for k, v in env_pairs(inst.args).items()})
            elif inst.name == "WORKDIR":
                self.cwd = Path(self.map(inst.args))
                self.cwd.mkdir(parents=True, exist_ok=True)
            elif inst.name == "COPY":
                self.copy(inst)
            elif inst.name == "RUN":
                subprocess.run(
                    ["sh", "-ec", self.map(inst.args)],
                    cwd=self.cwd,
                    env=self.env,
                    check=True,
                    timeout=STEP_TIMEOUT_S,
                )
            elif inst.name not in ("ARG", "LABEL"):
                raise SystemExit(
                    f"line {inst.line}: {inst.name} in the build stage is not replayed"
                )

    def copy(self, inst: Instruction) -> None:
        *sources, dest = shlex.split(inst.args)
        if any(s.startswith("--") for s in sources):
            raise SystemExit(f"line {inst.line}: COPY flags are not replayed in the build stage")
        target = Path(self.map(dest)) if dest.startswith("/") else self.cwd / dest
        for source in sources:
            src = ROOT / source
            if src.is_dir():
                shutil.copytree(  # symlinks stay links, as COPY keeps them
                    src,
                    target,
                    symlinks=True,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"),
                )
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target / src.name if dest.endswith("/") else target)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def files_under(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")}


def healthcheck_command(runtime: Stage, port: int) -> list[str]:
    [check] = [i for i in runtime.instructions if i.name == "HEALTHCHECK"]
    exec_form = check.args[check.args.index("CMD") + 3 :].strip()
    command = [str(c) for c in json.loads(exec_form)]
    return [c.replace("127.0.0.1:5680", f"127.0.0.1:{port}") for c in command]


def wait_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"reconciler serve exited with {server.returncode} before ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} not ready after {READY_TIMEOUT_S:.0f}s")


def prove_runtime(replay: Replay, runtime: Stage) -> None:
    replay.paths["/var/lib"] = replay.work / "var" / "lib"
    replay.paths["/tmp"] = replay.work / "tmp"
    env = dict(replay.env)
    for inst in runtime.instructions:
        if inst.name == "ENV":
            for key, value in env_pairs(inst.args).items():
                env[key] = replay.map(value).replace("${PATH}", env["PATH"])
    venv = replay.paths["/opt/reconciler"]
    before = files_under(venv)
    xds, http = free_port(), free_port()
    command = [
        str(venv / "bin" / "reconciler"),
        "serve",
        str(ROOT / "sample-repo"),
        "--xds-address",
        f"127.0.0.1:{xds}",
        "--http-address",
        f"127.0.0.1:{http}",
    ]
    print("[runtime]", " ".join(command), flush=True)
    server = subprocess.Popen(command, env=env, cwd=replay.work)
    try:
        wait_ready(f"http://127.0.0.1:{http}/readyz", server)
        check = healthcheck_command(runtime, http)
        check[0] = str(venv / "bin" / check[0]) if check[0] == "python" else check[0]
        print("[runtime] HEALTHCHECK", " ".join(check), flush=True)
        subprocess.run(check, env=env, check=True, timeout=10)
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
    if code != 0:
        raise SystemExit(f"reconciler serve exited with {code} on SIGTERM (expected 0)")
    state = replay.paths["/var/lib"] / "reconciler"
    if not state.is_dir() or not any(state.iterdir()):
        raise SystemExit(f"the image's default state dir {state} was not used")
    written = sorted(files_under(venv) - before)
    if written:
        raise SystemExit(f"the server wrote inside its install tree: {written[:5]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    stages = parse(DOCKERFILE.read_text(encoding="utf-8"))
    [build] = [s for s in stages if s.name == "build"]
    runtime = stages[-1]
    work = Path(tempfile.mkdtemp(prefix="reconciler-image-"))
    try:
        replay = Replay(work)
        replay.run_stage(build)
        prove_runtime(replay, runtime)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("ok: Dockerfile install steps replayed in a fresh venv; the server starts, passes "
          "its HEALTHCHECK and stops on SIGTERM")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
