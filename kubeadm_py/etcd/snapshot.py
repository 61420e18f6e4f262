"""etcd snapshot files: what ``etcdctl snapshot save`` writes, checked without etcd's tools.

A snapshot is etcd's bbolt database as the ``Maintenance.Snapshot`` RPC streams it, followed by
the 32-byte SHA-256 of that database (etcd ``server/etcdserver/api/v3rpc/maintenance.go``: "send
checksum at the end"). ``etcdctl``/``etcdutl snapshot restore`` check that hash (unless
``--skip-hash-check``, meant for a ``member/snap/db`` copied from a data directory). bbolt's first
two pages are meta pages: page header (16 bytes), then magic ``0xED0CDAED``, version 2, page size,
flags, root bucket, freelist, high-water page id, transaction id and an FNV-64a checksum of those
fields (``go.etcd.io/bbolt`` ``db.go`` ``meta.validate``/``meta.sum64``).

:func:`check` reads a file once and refuses a truncated or altered snapshot with one line;
:func:`tool_status` and :func:`restore_command` use etcd's own tool (``etcdutl`` from etcd 3.5,
``etcdctl`` with ``ETCDCTL_API=3`` before) for what needs bbolt's contents: the revision and key
count, and restoring with the membership rewritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kubeadm_py.errors import KubeadmError

HASH_SIZE = 32
BOLT_MAGIC = 0xED0CDAED
BOLT_VERSION = 2
PAGE_HEADER = 16
# magic, version, pageSize, flags, root (pgid, sequence), freelist, pgid, txid, checksum
_META = struct.Struct("<IIIIQQQQQQ")
_CHUNK = 1 << 20
TOOLS = ("etcdutl", "etcdctl")  # preferred first: etcdutl owns offline snapshot work from etcd 3.5


class SnapshotError(KubeadmError):
    """A snapshot file that cannot be used."""


@dataclass(frozen=True)
class SnapshotFacts:
    path: str
    size: int  # bytes in the file
    sha256: str  # etcd's hash of the database (the file's last 32 bytes), hex
    page_size: int
    txid: int  # bbolt transaction id of the newest valid meta page

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "pageSize": self.page_size,
            "txid": self.txid,
            "integrity": "ok",
        }


def _fnv64a(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def _meta(page: bytes) -> tuple[int, int] | None:
    """(page size, txid) of a valid bbolt meta page, or None."""
    if len(page) < PAGE_HEADER + _META.size:
        return None
    fields = _META.unpack_from(page, PAGE_HEADER)
    magic, version, page_size, txid, checksum = fields[0], fields[1], fields[2], fields[8], fields[9]
    body = page[PAGE_HEADER : PAGE_HEADER + _META.size - 8]
    if magic != BOLT_MAGIC or version != BOLT_VERSION or checksum != _fnv64a(body):
        return None
    return page_size, txid


def check(path: str | Path) -> SnapshotFacts:
    """Check a snapshot file: etcd's trailing SHA-256 matches the database, and the database
    starts with a valid bbolt meta page. One-line :class:`SnapshotError` otherwise."""
    p = Path(path)
    try:
        size = p.stat().st_size
        f = p.open("rb")
    except FileNotFoundError:
        raise SnapshotError(f"snapshot {p}: no such file") from None
    except OSError as e:
        raise SnapshotError(f"snapshot {p}: {e.strerror or e}") from None
    if size <= HASH_SIZE + PAGE_HEADER or (size - HASH_SIZE) % 512:
        raise SnapshotError(
            f"snapshot {p} is not an etcd snapshot with an integrity hash ({size} bytes)",
            hint="save one with 'kubeadm-py etcd snapshot save' or 'etcdctl snapshot save'",
        )
    digest = hashlib.sha256()
    with f:
        head = f.read(min(size - HASH_SIZE, 2 * 65536))
        digest.update(head)
        remaining = size - HASH_SIZE - len(head)
        while remaining > 0:
            chunk = f.read(min(_CHUNK, remaining))
            if not chunk:
                raise SnapshotError(f"snapshot {p} changed while it was read")
            digest.update(chunk)
            remaining -= len(chunk)
        trailer = f.read(HASH_SIZE)
    if digest.digest() != trailer:
        raise SnapshotError(
            f"snapshot {p} is corrupt: its SHA-256 does not match the hash etcd wrote at its end",
            hint="use another snapshot; a truncated or altered file cannot be restored",
        )
    metas = [m for m in (_meta(head), _meta(head[_page_size(head) :])) if m]
    if not metas:
        raise SnapshotError(f"snapshot {p} is corrupt: no valid bbolt meta page")
    page_size, txid = max(metas, key=lambda m: m[1])
    return SnapshotFacts(str(p), size, trailer.hex(), page_size, txid)


def _page_size(head: bytes) -> int:
    m = _meta(head)
    return m[0] if m and 0 < m[0] <= 65536 else 4096


def find_tool(explicit: str | None = None) -> tuple[str, str] | None:
    """(name, path) of etcd's own snapshot tool: ``explicit`` when given, else ``etcdutl`` or
    ``etcdctl`` on PATH."""
    if explicit:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise KubeadmError(f"--etcd-tool {explicit}: not an executable file")
        return os.path.basename(explicit), explicit
    for name in TOOLS:
        found = shutil.which(name)
        if found:
            return name, found
    return None


def _env(tool: tuple[str, str]) -> dict[str, str]:
    return {**os.environ, "ETCDCTL_API": "3"}


def _run_tool(tool: tuple[str, str], cmd: list[str], what: str, failed: str, timeout: float) -> str:
    """Run etcd's tool; its stdout, or a one-line :class:`SnapshotError` (``what: reason`` when it
    could not run, ``failed: last stderr line`` when it failed)."""
    try:
        env = _env(tool)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SnapshotError(f"{what}: {e}") from None
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["exit code " + str(out.returncode)])[-1]
        raise SnapshotError(f"{failed}: {last}")
    return out.stdout


def tool_status(tool: tuple[str, str], path: str) -> dict[str, object]:
    """``snapshot status -w json`` by etcd's tool: hash, revision, totalKey, totalSize."""
    what = f"{tool[0]} snapshot status {path}"
    stdout = _run_tool(tool, [tool[1], "snapshot", "status", path, "-w", "json"], what, what, 120)
    try:
        data = json.loads(stdout)
    except ValueError:
        raise SnapshotError(f"{what}: unreadable output") from None
    return dict(data) if isinstance(data, dict) else {}


def restore_command(
    tool: tuple[str, str], path: str, *, name: str, initial_cluster: str, peer_urls: str, data_dir: str
) -> list[str]:
    """The command that restores ``path`` into the new ``data_dir`` as a one-member (or
    ``initial_cluster``) etcd cluster: new cluster and member ids, membership rewritten."""
    return [
        tool[1], "snapshot", "restore", path,
        f"--name={name}",
        f"--initial-cluster={initial_cluster}",
        f"--initial-advertise-peer-urls={peer_urls}",
        f"--data-dir={data_dir}",
    ]  # fmt: skip


def run_restore(tool: tuple[str, str], cmd: list[str]) -> None:
    what = f"{tool[0]} snapshot restore"
    _run_tool(tool, cmd, what, f"{what} failed", 600)


def _remove_stale_parts(dest: Path) -> None:
    """Partial files of saves that were killed (their pid no longer runs)."""
    for part in dest.parent.glob(f".{dest.name}.part-*"):
        pid = part.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            with contextlib.suppress(OSError):
                part.unlink()


def write_snapshot(dest: Path, produce: Callable[[Callable[[bytes], object]], object]) -> SnapshotFacts:
    """Stream a snapshot into ``dest`` atomically: a private temporary file beside it (0600: a
    snapshot holds every Secret of the cluster), fsynced, checked with :func:`check`, renamed over
    ``dest`` and the directory fsynced. A failed or interrupted save leaves ``dest`` as it was."""
    dest = Path(dest)
    if dest.is_dir():
        raise SnapshotError(f"snapshot destination {dest} is a directory")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _remove_stale_parts(dest)
        tmp = dest.parent / f".{dest.name}.part-{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    except OSError as e:
        raise SnapshotError(f"cannot write snapshot {dest}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            produce(f.write)
            f.flush()
            os.fsync(f.fileno())
        facts = check(tmp)
        os.replace(tmp, dest)
        dfd = os.open(dest.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return SnapshotFacts(str(dest), facts.size, facts.sha256, facts.page_size, facts.txid)
