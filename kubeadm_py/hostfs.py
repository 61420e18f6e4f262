"""Host filesystem access for phases.

:class:`HostFS` maps the host paths kubeadm uses (``/etc/kubernetes/...``) to real locations:
under ``rootfs`` when one is given (image builders, unprivileged tests), and in dry-run mode
writes go to a sandbox directory instead, while reads see the sandbox first and then the host,
so a later phase of the same dry run reads what an earlier one "wrote". Every write is atomic
(temporary file in the same directory, fsync, rename) with an explicit mode, and returns a
:class:`~kubeadm_py.changes.Change` that says whether anything changed.

The fsync of the directories that make the renames durable is batched: it happens once per
directory when the changes are read (the runner reads them when a phase ends, so every write is
durable by then), on :meth:`HostFS.sync`, or at the latest when the HostFS is collected or the
process exits.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from kubeadm_py.changes import Action, Change
from kubeadm_py.errors import KubeadmError

KEY_MODE = 0o600
CERT_MODE = 0o644
CONFIG_MODE = 0o600  # kubeconfig files and static Pod manifests, as kubeadm writes them
MANIFEST_MODE = 0o600
PUBLIC_MODE = 0o644


def atomic_write(path: Path, data: bytes, mode: int, *, sync_dir: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part,
    whenever the process dies (``kill -9``) or the machine stops.

    The data goes to a temporary file in the same directory (created exclusively with ``mode``,
    so a key is never readable by others, not even for an instant), is fsynced, then renamed over
    ``path``. Directories this creates are fsynced into their parents. ``sync_dir=False`` leaves
    the fsync of the directory (which makes the rename durable) to the caller, e.g.
    :meth:`HostFS.sync` once for several files of the same directory. Temporary files that a
    killed earlier run left in the directory are removed (once per directory and process)."""
    directory = path.parent
    created = _make_dirs(directory)
    _sweep_stale_temps(directory)
    tmp = directory / f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}{_TMP_SUFFIX}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(tmp, flags, mode)
        try:
            os.fchmod(fd, mode)  # the umask may have taken bits away
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    for parent in sorted({d.parent for d in created}):
        _fsync_dir(parent)  # the new directories' entries, at once: they are not batched
    if sync_dir:
        fsync_dirs([directory])


_TMP_SUFFIX = ".tmp"
_swept: set[Path] = set()


def _make_dirs(directory: Path) -> list[Path]:
    """``mkdir -p``; the directories it created, outermost first."""
    missing: list[Path] = []
    d = directory
    while not d.is_dir():
        missing.append(d)
        if d.parent == d:
            break
        d = d.parent
    if missing:
        directory.mkdir(parents=True, exist_ok=True)
    return missing[::-1]


def _sweep_stale_temps(directory: Path) -> None:
    """Remove the temporary files of writers that are gone (a run killed mid-write)."""
    if directory in _swept:
        return
    _swept.add(directory)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        pid = _temp_owner(name)
        if pid is None or _alive(pid):
            continue
        with contextlib.suppress(OSError):
            os.unlink(directory / name)


def _temp_owner(name: str) -> int | None:
    """The writer's pid in an :func:`atomic_write` temporary name (``.<file>.<pid>.<hex>.tmp``)."""
    parts = name.split(".")
    if len(parts) < 5 or parts[0] or parts[-1] != "tmp" or not parts[-3].isdigit():
        return None
    return int(parts[-3])


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def fsync_dirs(dirs: Iterable[Path]) -> None:
    for d in dirs:
        _fsync_dir(d)


def _fsync_dir(d: Path) -> None:
    with contextlib.suppress(OSError):
        dfd = os.open(d, os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


class HostFS:
    """Effector for host files. ``rootfs`` prefixes every host path; ``sandbox`` (dry-run)
    receives the writes. Host paths are absolute POSIX strings such as ``/etc/kubernetes/pki/ca.crt``."""

    def __init__(
        self,
        rootfs: str | Path | None = None,
        sandbox: str | Path | None = None,
        *,
        owns_sandbox: bool = False,
    ) -> None:
        self.rootfs = Path(rootfs) if rootfs else None
        self.sandbox = Path(sandbox) if sandbox else None
        self.owns_sandbox = owns_sandbox and self.sandbox is not None
        self._changes: list[Change] = []
        self._unsynced: set[Path] = set()  # directories with renames not yet fsynced
        self._finalizer = weakref.finalize(self, fsync_dirs, self._unsynced)

    @property
    def changes(self) -> list[Change]:
        """What this HostFS did so far (callers may append their own); reading it makes every
        write so far durable (:meth:`sync`)."""
        self.sync()
        return self._changes

    def sync(self) -> None:
        """fsync the directories written to since the last sync."""
        if self._unsynced:
            dirs = sorted(self._unsynced)
            self._unsynced.clear()
            fsync_dirs(dirs)

    def close(self) -> None:
        """Make every write durable; remove the sandbox when this HostFS created it."""
        self.sync()
        if self.owns_sandbox and self.sandbox is not None:
            import shutil

            shutil.rmtree(self.sandbox, ignore_errors=True)
            self.owns_sandbox = False

    @property
    def dry_run(self) -> bool:
        return self.sandbox is not None

    @staticmethod
    def _rel(host_path: str) -> str:
        p = PurePosixPath(host_path)
        if not p.is_absolute():
            raise KubeadmError(f"internal: host path must be absolute: {host_path}")
        return str(p.relative_to("/"))

    def real_path(self, host_path: str) -> Path:
        """Where the host path lives on this machine (ignoring the dry-run sandbox)."""
        rel = self._rel(host_path)
        return (self.rootfs / rel) if self.rootfs else Path("/") / rel

    def sandbox_path(self, host_path: str) -> Path | None:
        return self.sandbox / self._rel(host_path) if self.sandbox else None

    def read_path(self, host_path: str) -> Path:
        """The location a read should use: the sandbox copy if a dry run wrote one."""
        sp = self.sandbox_path(host_path)
        if sp is not None and (sp.exists() or self._deleted(host_path)):
            return sp
        return self.real_path(host_path)

    def _deleted(self, host_path: str) -> bool:
        return any(c.kind == "file" and c.action == "delete" and c.target == host_path for c in self._changes)

    def exists(self, host_path: str) -> bool:
        return self.read_path(host_path).exists()

    def is_dir(self, host_path: str) -> bool:
        return self.read_path(host_path).is_dir()

    def read_bytes(self, host_path: str) -> bytes | None:
        """File content, or None when absent. A directory or unreadable file is an error."""
        p = self.read_path(host_path)
        try:
            return p.read_bytes()
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise KubeadmError(f"{host_path} is a directory, expected a file") from None
        except OSError as e:
            raise KubeadmError(f"cannot read {host_path}: {e.strerror}") from None

    def read_text(self, host_path: str) -> str | None:
        data = self.read_bytes(host_path)
        return None if data is None else data.decode("utf-8", errors="replace")

    def read_or_assume(self, host_path: str, assumed: str) -> tuple[str | None, bool]:
        """A file a real run needs: (its text, False). When it is missing a real run gets
        (None, False); a dry run, which may run on a node not set up yet, gets (``assumed``, True)."""
        text = self.read_text(host_path)
        if text is None and self.dry_run:
            return assumed, True
        return text, False

    def listdir(self, host_path: str) -> list[str]:
        names: set[str] = set()
        for p in {self.real_path(host_path), self.sandbox_path(host_path)}:
            if p is not None and p.is_dir():
                names.update(os.listdir(p))
        return sorted(n for n in names if not self._deleted(f"{host_path.rstrip('/')}/{n}"))

    def mode(self, host_path: str) -> int | None:
        try:
            return self.read_path(host_path).stat().st_mode & 0o7777
        except FileNotFoundError:
            return None

    def write(
        self, host_path: str, data: bytes, mode: int, *, secret: bool = False, detail: str = ""
    ) -> Change:
        """Atomically write ``data`` with ``mode`` unless the file already has exactly that
        content and mode. ``secret`` keeps the content out of dry-run output."""
        old = self.read_bytes(host_path)
        if old == data and self.mode(host_path) == mode:
            change = Change("file", "unchanged", host_path, detail or "already up to date")
        else:
            target = self.sandbox_path(host_path) or self.real_path(host_path)
            try:
                atomic_write(target, data, mode, sync_dir=False)
                self._unsynced.add(target.parent)
            except OSError as e:
                raise KubeadmError(f"cannot write {host_path}: {e.strerror or e}") from None
            action: Action = "create" if old is None else "update"
            content = None if secret else _printable(data)
            desc = detail or f"{len(data)} bytes, mode {mode:04o}"
            change = Change("file", action, host_path, desc, content)
        self._changes.append(change)
        return change

    def mkdir(self, host_path: str, mode: int = 0o755) -> Change:
        if self.is_dir(host_path):
            return Change("dir", "unchanged", host_path, "exists")
        target = self.sandbox_path(host_path) or self.real_path(host_path)
        target.mkdir(parents=True, exist_ok=True, mode=mode)
        change = Change("dir", "create", host_path, f"mode {mode:04o}")
        self._changes.append(change)
        return change

    def copy_tree(self, src: str, dst: str) -> Change:
        """Replace the directory ``dst`` by a copy of the directory ``src`` (symlinks kept), e.g.
        the etcd data directory and its backup. A dry run only records it: the sandbox gets no
        copy of a tree that may be large."""
        import shutil

        action: Action = "update" if self.exists(dst) else "create"
        if not self.dry_run:
            real_src, real_dst = self.real_path(src), self.real_path(dst)
            if not real_src.is_dir():
                raise KubeadmError(f"cannot copy {src}: not a directory")
            if real_dst.exists():
                shutil.rmtree(real_dst)
            real_dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.copytree(real_src, real_dst, symlinks=True)
        change = Change("dir", action, dst, f"would copy {src}" if self.dry_run else f"copy of {src}")
        self._changes.append(change)
        return change

    def remove(self, host_path: str) -> Change:
        """Remove a file or a directory tree. In dry-run only records the deletion."""
        p = self.read_path(host_path)
        if not p.exists() and not p.is_symlink():
            return Change("file", "unchanged", host_path, "absent")
        import shutil  # only for removals (it imports bz2/lzma: ~5 ms of every start-up)

        if not self.dry_run:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
        else:
            sp = self.sandbox_path(host_path)
            if sp is not None and sp.exists():
                shutil.rmtree(sp) if sp.is_dir() else sp.unlink()
        change = Change("file", "delete", host_path, "removed")
        self._changes.append(change)
        return change


def _printable(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "PRIVATE KEY" in text:
        return None
    return text
