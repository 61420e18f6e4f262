"""Process helpers shared by the test bed (stdlib only)."""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _pdeathsig() -> None:  # runs in the child before exec
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.setpgrp()


def spawn(argv: list[str], log_path: str | None = None, env: dict | None = None,
          cwd: str | None = None) -> subprocess.Popen:
    """Start a long-running helper that dies with the calling thread (PR_SET_PDEATHSIG)
    in its own process group, stdout+stderr appended to ``log_path``."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env=env, cwd=cwd, preexec_fn=_pdeathsig, close_fds=True)
    finally:
        if log_path:
            out.close()  # type: ignore[union-attr]


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (host PID namespace view)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        pass
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            ppid = int(st.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            out.append(int(d))
    return out


def wait_for(pred, timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll ``pred()`` until it returns a truthy value; raise TimeoutError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def terminate(p: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM to the process group, then SIGKILL after ``grace`` seconds; always reaps."""
    if p.poll() is not None:
        return
    _killpg(p, signal.SIGTERM)
    try:
        p.wait(grace)
    except subprocess.TimeoutExpired:
        _killpg(p, signal.SIGKILL)
        p.wait(10)


def _killpg(p: subprocess.Popen, sig: int) -> None:
    # spawn() puts the helper in its own process group; nsenter does not forward
    # signals to the child it forks, so signal the whole group.
    try:
        os.killpg(p.pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        p.send_signal(sig)
