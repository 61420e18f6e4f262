"""A fork server that runs ``kubeadm-py`` command lines and kills them with SIGKILL at a chosen
event, the way ``kill -9`` would: no handler, no ``finally``, no flush.

The server imports kubeadm-py once (single-threaded), then forks one child per request, so a
run costs its own work and not an interpreter start. In the child, events are counted:

* ``phase-start:<path>`` / ``phase-end:<path>``: every phase boundary (the runner's reporter);
* inside every atomic file write: ``open`` (an empty temporary file exists), ``half`` (half of
  the data is written), ``fsync`` (all data written, not yet durable), ``rename`` (about to
  replace the target), ``renamed`` (replaced, directory not yet fsynced).

``python -m tests.unit.crash.driver once EVENT ARGV...`` runs one command line in the current
process instead, killed at the first event ending with ``EVENT`` (for a node of the test bed).

A request ``{"argv": [...], "kill_at": N, "events": path, "log": path}`` runs ``argv``; at event
``N`` (1-based) the child sends itself SIGKILL. ``kill_at: null`` runs to the end. The reply is
``{"exit": code}`` or ``{"signal": 9}``. With ``events`` the child appends one event per line
(``<step>:<path of the file written>``).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import types
from typing import Any

WRITE_STEPS = ("open", "half", "fsync", "rename", "renamed")


class _Counter:
    def __init__(self, kill_at: int | str | None, events_path: str | None) -> None:
        self.n = 0
        self.kill_at = kill_at  # an event number, or the first event ending with this text
        self.log = open(events_path, "a", buffering=1) if events_path else None  # noqa: SIM115

    def __call__(self, name: str) -> None:
        self.n += 1
        if self.log is not None:
            self.log.write(f"{name}\n")
        if self.n == self.kill_at or (isinstance(self.kill_at, str) and name.endswith(self.kill_at)):
            os.kill(os.getpid(), signal.SIGKILL)


def _instrument(event: _Counter) -> None:
    from kubeadm_py import hostfs
    from kubeadm_py.workflow import runner

    real = os
    module = sys.modules[hostfs.atomic_write.__module__]
    tmp_fds: dict[int, str] = {}

    def _open(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        fd = real.open(path, flags, mode, **kw)
        name = real.fspath(path)
        if isinstance(name, str) and name.endswith(".tmp"):
            head, _, tail = name.rpartition("/")
            tmp_fds[fd] = f"{head}/{tail[1:].rsplit('.', 3)[0]}"  # the file it becomes
            event(f"open:{tmp_fds[fd]}")
        return fd

    halved: set[int] = set()

    def _write(fd: int, data: Any) -> int:
        if fd in tmp_fds and fd not in halved and len(data) > 1:
            halved.add(fd)
            written = real.write(fd, data[: len(data) // 2])
            event(f"half:{tmp_fds[fd]}")
            return written
        return real.write(fd, data)

    def _fsync(fd: int) -> None:
        if fd in tmp_fds:
            halved.discard(fd)
            event(f"fsync:{tmp_fds.pop(fd)}")
        real.fsync(fd)

    def _replace(src: Any, dst: Any, **kw: Any) -> None:
        event(f"rename:{real.fspath(dst)}")
        real.replace(src, dst, **kw)
        event(f"renamed:{real.fspath(dst)}")

    proxy = types.SimpleNamespace(**{k: getattr(real, k) for k in dir(real) if not k.startswith("__")})
    proxy.open, proxy.write, proxy.fsync = _open, _write, _fsync
    proxy.replace = proxy.rename = _replace
    module.os = proxy  # type: ignore[attr-defined]

    execute = runner.execute

    class Boundaries:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def phase_started(self, path: str) -> None:
            event(f"phase-start:{path}")
            self.inner.phase_started(path)

        def phase_finished(self, outcome: Any) -> None:
            self.inner.phase_finished(outcome)
            event(f"phase-end:{outcome.path}")

    def wrapped(*args: Any, reporter: Any = None, **kw: Any) -> Any:
        from kubeadm_py.workflow.report import NullReporter

        return execute(*args, reporter=Boundaries(reporter or NullReporter()), **kw)

    runner.execute = wrapped  # type: ignore[assignment]


def _child(req: dict[str, Any]) -> None:
    log = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.environ.update(req.get("env", {}))
    _instrument(_Counter(req.get("kill_at"), req.get("events")))
    from kubeadm_py.cli.main import main

    try:
        code = main(req["argv"])
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    # Everything a run imports, imported once here; no thread may exist when forking.
    import kubeadm_py.api  # noqa: F401
    import kubeadm_py.certs.renew  # noqa: F401
    import kubeadm_py.cli.app  # noqa: F401
    import kubeadm_py.cli.main  # noqa: F401
    import kubeadm_py.workflows  # noqa: F401

    for line in sys.stdin:
        req = json.loads(line)
        assert threading.active_count() == 1, "the fork server must be single-threaded"
        pid = os.fork()
        if pid == 0:
            try:
                _child(req)
            finally:
                os._exit(99)  # never back into the server loop
        _, status = os.waitpid(pid, 0)
        reply = (
            {"signal": os.WTERMSIG(status)} if os.WIFSIGNALED(status) else {"exit": os.WEXITSTATUS(status)}
        )
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def once(kill_on: str, argv: list[str]) -> None:
    """Run one command line in this process, killed at the first event ending with ``kill_on``
    (``phase-start:upload-certs``, ``renamed:/var/lib/kubelet/config.yaml``): for a node of the
    test bed, where kubeadm-py runs inside the node's namespaces."""
    _instrument(_Counter(kill_on, None))
    from kubeadm_py.cli.main import main

    sys.exit(main(argv))


if __name__ == "__main__":
    if sys.argv[1:2] == ["once"]:  # once KILL_ON ARGV...
        once(sys.argv[2], sys.argv[3:])
    else:
        serve()
