from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
# The phases of init that need a cluster (they wait for, or write to, an API server), and
# preflight, which only reads (and takes a third of a run's time).
SKIPPED_PHASES = (
    "preflight,wait-control-plane,upload-config,upload-certs,mark-control-plane,bootstrap-token,"
    "kubelet-finalize,addon,show-join-command"
)
ECDSA_CONFIG = """\
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.20.2
encryptionAlgorithm: ECDSA-P256
"""


@dataclass
class Outcome:
    exit: int | None
    signal: int | None
    events: list[str]
    log: str


class Server:
    """The fork server of ``driver.py``: runs command lines, killing them at an event."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.runs = 0
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.unit.crash.driver"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, argv: Sequence[str], kill_at: int | None = None, root: Path | None = None) -> Outcome:
        """Run ``argv``; events name files relative to ``root``."""
        self.runs += 1
        events, log = self.workdir / f"events-{self.runs}", self.workdir / f"log-{self.runs}"
        req = {"argv": list(argv), "kill_at": kill_at, "events": str(events), "log": str(log)}
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        lines = events.read_text().splitlines() if events.exists() else []
        if root is not None:
            lines = [line.replace(f"{root}/", "/") for line in lines]
        return Outcome(reply.get("exit"), reply.get("signal"), lines, log.read_text())

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("crash-server"))
    yield s
    s.close()


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A directory for rootfs trees, in memory when /dev/shm exists: the runs fsync every file and
    directory, which on a busy disk costs more than the runs themselves (kill -9 tests the
    ordering of writes and renames; it cannot test what a power cut loses)."""
    shm = Path("/dev/shm")
    base = Path(tempfile.mkdtemp(prefix="kubeadm-py-crash-", dir=shm)) if shm.is_dir() else tmp_path
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def ecdsa_config(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("crash-config") / "ecdsa.yaml"
    path.write_text(ECDSA_CONFIG)
    return str(path)


def init_argv(root: Path, config: str | None) -> list[str]:
    cfg = ["--config", config] if config else ["--kubernetes-version", "v1.20.2"]
    flags = [f"--skip-phases={SKIPPED_PHASES}"]
    return ["init", *cfg, "--rootfs", str(root), *flags]


def kill_points(events: Sequence[str]) -> list[int]:
    """1-based event numbers to kill at: every phase start (and the end of the last phase), and
    inside every file write one of its steps, the step rotating from file to file so that each
    step (empty temporary file, half written, before fsync, before and after the rename) is hit."""
    from tests.unit.crash.driver import WRITE_STEPS

    points: list[int] = []
    files: list[str] = []
    for i, e in enumerate(events, start=1):
        kind, _, target = e.partition(":")
        if kind == "phase-start":
            points.append(i)
        elif kind in WRITE_STEPS:
            if target not in files:
                files.append(target)
            if kind == WRITE_STEPS[files.index(target) % len(WRITE_STEPS)]:
                points.append(i)
    ends = [i for i, e in enumerate(events, start=1) if e.startswith("phase-end:")]
    return sorted(set(points) | set(ends[-1:]))
