"""Generating the RSA keys of a run in parallel worker processes.

RSA key generation (a random prime search, ~60 ms for RSA-2048, much more for 4096) dominates
``init phase certs all``; every certificate's key is independent, so worker processes can generate
them while the main process signs and writes. The pool is opt-in (:func:`enable`; the CLI turns it
on, library callers and tests keep the sequential path) and changes nothing in what is written:

- the main process still decides, per certificate and in table order, whether a key is needed and
  writes every file itself; a worker only hands over a private key (PEM through a pipe);
- a prefetch covers the certificates whose key and certificate files are both absent when the first
  certificate of the run is handled; a key that is asked for and was not prefetched (or whose worker
  failed) is generated in the main process, so a single phase (``init phase certs apiserver``) still
  runs alone and a failing worker can only cost time;
- workers are forked (they inherit the loaded cryptography), each generates its share in a fixed
  order, and they are killed and reaped when the process exits.

ECDSA keys take well under a millisecond: no workers for them.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # this module is imported by the CLI entry point: keep it free of cryptography
    from kubeadm_py.pki.keys import KeyAlgorithm, PrivateKey

_enabled = False
_workers_override: int | None = None


def enable(workers: int | None = None) -> None:
    """Allow :func:`prefetch` to fork workers in this process (``workers`` default: CPU count)."""
    global _enabled, _workers_override
    _enabled = True
    _workers_override = workers


def disable() -> None:
    global _enabled, _active
    _enabled = False
    if _active is not None:
        _active.close()
        _active = None


def enabled() -> bool:
    return _enabled


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class _Worker:
    __slots__ = ("pid", "fd", "buf", "dead")

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self.fd = fd  # read end of the pipe the worker writes its keys to
        self.buf = bytearray()
        self.dead = False


def _child(count: int, alg: str, wfd: int) -> None:  # pragma: no cover - in a fork
    try:
        from kubeadm_py.pki.keys import algorithm, encode_private_key, generate_key

        a = algorithm(alg)
        for _ in range(count):
            pem = encode_private_key(generate_key(a))
            os.write(wfd, len(pem).to_bytes(4, "big") + pem)
    except BaseException:  # noqa: BLE001 - the parent generates what it did not receive
        os._exit(1)
    os._exit(0)


class KeyPool:
    """Fresh keys of one algorithm for the named certificates of a run, from forked workers.

    Keys are interchangeable, so the first key any worker finishes goes to the next certificate
    that needs one (random prime search times vary a lot; this keeps the workers evenly busy). The
    workers share ``count`` keys between them (no key is generated that the run cannot use, so the
    workers never compete for CPU with the main process beyond that); they are killed once every
    name got its key.
    ``names`` may be given later (:func:`speculate` starts workers before the run knows them)."""

    def __init__(self, key: Any, alg: str, count: int, workers: int, names: Sequence[str] = ()) -> None:
        self.key = key
        self.alg = alg  # encryptionAlgorithm name, e.g. "RSA-2048"
        self.count = count
        self.pending = set(names)
        self.ready: list[bytes] = []
        self.workers: list[_Worker] = []
        # Load cryptography once, before forking: every worker inherits it instead of importing it
        # itself (~50 ms of CPU per worker, which matters when the machine is busy).
        import kubeadm_py.pki.keys  # noqa: F401

        n = max(1, min(workers, count))
        for i in range(n):
            share = count // n + (1 if i < count % n else 0)
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - child
                os.close(r)
                _child(share, alg, w)
            os.close(w)
            self.workers.append(_Worker(pid, r))

    def _pop_ready(self, wk: _Worker) -> None:
        while len(wk.buf) >= 4:
            size = int.from_bytes(wk.buf[:4], "big")
            if len(wk.buf) < 4 + size:
                return
            self.ready.append(bytes(wk.buf[4 : 4 + size]))
            del wk.buf[: 4 + size]

    def _wait_any(self) -> bool:
        """Block until some worker delivered a key; False when every worker has ended."""
        import select

        while not self.ready:
            live = {wk.fd: wk for wk in self.workers if not wk.dead}
            if not live:
                return False
            poller = select.poll()
            for fd in live:
                poller.register(fd, select.POLLIN)
            for fd, _ev in poller.poll():
                wk = live[fd]
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b""
                if chunk:
                    wk.buf += chunk
                    self._pop_ready(wk)
                else:
                    self._finish(wk)
        return True

    def take(self, name: str) -> PrivateKey | None:
        """A fresh key for ``name`` if it is one of the prefetched names (waiting for a worker)."""
        if name not in self.pending or not self._wait_any():
            return None
        from cryptography.hazmat.primitives import serialization

        self.pending.discard(name)
        pem = self.ready.pop(0)
        if not self.pending:
            self.close()
        # Generated by our own worker a moment ago: OpenSSL's RSA consistency check is not needed.
        key = serialization.load_pem_private_key(pem, password=None, unsafe_skip_rsa_key_validation=True)
        return key  # type: ignore[return-value]

    def _finish(self, wk: _Worker, kill: bool = False) -> None:
        if wk.dead:
            return
        wk.dead = True
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(wk.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.close(wk.fd)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(wk.pid, 0)

    def close(self) -> None:
        for wk in self.workers:
            self._finish(wk, kill=True)


_active: KeyPool | None = None


def _close_active() -> None:
    global _active
    if _active is not None:
        _active.close()
        _active = None


atexit.register(_close_active)


SPECULATIVE = "speculative"


def speculate(alg: str, count: int) -> None:
    """Start workers for ``count`` keys of ``alg`` before the run has loaded its configuration
    (the CLI does, for the commands that generate the certificates). The first :func:`prefetch`
    adopts them when its algorithm is the same, else they are killed: a wrong guess costs CPU time,
    never a different result."""
    global _active
    if not _enabled or not alg.startswith("RSA-") or count < 2 or _active is not None:
        return
    _active = KeyPool(SPECULATIVE, alg, count, _workers_override or _cpu_count())


def prefetch(key: Any, alg: KeyAlgorithm, names: Callable[[], Sequence[str]]) -> None:
    """Start generating keys for ``names()`` unless the pool is disabled, the algorithm is not RSA,
    or a prefetch for ``key`` (e.g. the run's certificate directory) already started."""
    global _active
    if not _enabled or alg.kind != "rsa":
        _close_active()
        return
    if _active is not None and _active.key == key:
        return
    wanted = list(names())
    pool = _active
    adopt = pool is not None and pool.key == SPECULATIVE and pool.alg == alg.name and bool(wanted)
    if pool is not None and adopt and len(wanted) <= pool.count:
        pool.key, pool.pending = key, set(wanted)  # the speculative workers become this run's
        return
    _close_active()
    if len(wanted) < 2:
        return
    workers = _workers_override or _cpu_count()
    _active = KeyPool(key, alg.name, len(wanted), workers, wanted)


def take(key: Any, alg: KeyAlgorithm, name: str) -> PrivateKey | None:
    if _active is None or _active.key != key or _active.alg != alg.name:
        return None
    return _active.take(name)


def new_key(key: Any, alg: KeyAlgorithm, names: Callable[[], Sequence[str]], name: str) -> PrivateKey:
    """A fresh private key for ``name`` of the run ``key``: :func:`prefetch` for ``names()``, then
    the pool's key, else one generated here (pool disabled, ECDSA, or the worker failed)."""
    from kubeadm_py.pki.keys import generate_key

    prefetch(key, alg, names)
    return take(key, alg, name) or generate_key(alg)
