"""Host filesystem access for phases.

:class:`HostFS` maps the host paths kubeadm uses (``/etc/kubernetes/...``) to real locations
inside ``rootfs`` (``/`` when none is given), confined as a chroot: every path is resolved
component by component inside the root (:mod:`kubeadm_py.rootfs.walk`, as
``openat2(RESOLVE_IN_ROOT)``), so no symlink or ``..`` leads out, and every operation works on the
descriptor of the resolved parent directory. In dry-run mode writes and deletions go to an
in-memory overlay (:mod:`kubeadm_py.rootfs.overlay`), never to a disk, while reads see the overlay
first and then the root, so a later phase of the same dry run reads what an earlier one "wrote".
Every write is atomic (temporary file in the same directory, fsync, rename) with an explicit
mode, and returns a :class:`~kubeadm_py.changes.Change` that says whether anything changed.

The fsync of the directories that make the renames durable is batched: it happens once per
directory when the changes are read (the runner reads them when a phase ends, so every write is
durable by then), on :meth:`HostFS.sync`, or at the latest when the HostFS is collected or the
process exits.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import IO

from kubeadm_py.changes import Action, Change
from kubeadm_py.errors import KubeadmError
from kubeadm_py.rootfs.overlay import Overlay
from kubeadm_py.rootfs.walk import DIR_FLAGS, Walk, walk

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
    key = Path(os.path.realpath(directory))  # HostFS names directories /proc/self/fd/N: reused
    if key in _swept:
        return
    _swept.add(key)
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


def check_rootfs(rootfs: str | Path | None) -> Path | None:
    """The root directory ``--rootfs`` names, resolved; None for ``/`` (or no flag). An empty
    value (an unset variable) and a missing or non-directory path are one-line errors."""
    if rootfs is None:
        return None
    text = str(rootfs)
    if not text.strip():
        raise KubeadmError(
            "--rootfs is empty (an unset variable?)",
            hint="give the node's root directory, or leave --rootfs out for /",
        )
    if "\0" in text:
        raise KubeadmError("--rootfs contains a NUL byte")
    real = os.path.realpath(text)
    if not os.path.exists(real):
        raise KubeadmError(f"--rootfs {text}: no such directory")
    if not os.path.isdir(real):
        raise KubeadmError(f"--rootfs {text}: not a directory")
    return None if real == "/" else Path(real)


def _fd_path(fd: int, name: str = "") -> str:
    """A path naming ``name`` in the directory open as ``fd`` (the kernel resolves the magic
    link to that very directory, wherever it is now)."""
    return f"/proc/self/fd/{fd}/{name}" if name else f"/proc/self/fd/{fd}"


def _finish(unsynced: set[Path], root_fd: int) -> None:
    fsync_dirs(unsynced)
    os.close(root_fd)


class HostFS:
    """Effector for host files. ``rootfs`` is the root every host path resolves in (a chroot);
    ``dry_run`` keeps writes and deletions in memory. Host paths are absolute POSIX strings
    such as ``/etc/kubernetes/pki/ca.crt``."""

    def __init__(self, rootfs: str | Path | None = None, *, dry_run: bool = False) -> None:
        self.rootfs = check_rootfs(rootfs)
        self.overlay = Overlay() if dry_run else None
        try:
            self._root_fd = os.open(str(self.rootfs or "/"), DIR_FLAGS)
        except OSError as e:
            raise KubeadmError(f"--rootfs {rootfs}: cannot open: {e.strerror or e}") from None
        self._changes: list[Change] = []
        self._unsynced: set[Path] = set()  # directories with renames not yet fsynced
        self._finalizer = weakref.finalize(self, _finish, self._unsynced, self._root_fd)

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
        """Make every write durable. (A dry run's overlay is memory: nothing to remove.)"""
        self.sync()

    @property
    def dry_run(self) -> bool:
        return self.overlay is not None

    # --- resolution -----------------------------------------------------------------------------

    def _walk(
        self, host_path: str, *, follow: bool = True, create: bool = False, dir_mode: int = 0o755
    ) -> Walk:
        if not PurePosixPath(host_path).is_absolute():
            raise KubeadmError(f"internal: host path must be absolute: {host_path}")
        shadow = self.overlay.kind if self.overlay is not None else None
        return walk(self._root_fd, host_path, follow=follow, create=create, shadow=shadow, dir_mode=dir_mode)

    def _stat(self, w: Walk) -> tuple[str, int] | None:
        """(kind, permission bits) of a walked path, None when absent; kind is ``file``, ``dir``,
        ``link`` (only for a last component not followed), ``socket``, ``char``, ``block`` or
        ``other``."""
        if self.overlay is not None and w.shadow in ("file", "dir"):
            mode = self.overlay.files[w.key][1] if w.shadow == "file" else self.overlay.dirs[w.key]
            return w.shadow, mode
        if w.shadow == "gone" or w.dir_fd is None:
            return None
        try:
            st = os.stat(w.name or ".", dir_fd=w.dir_fd, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None
        kind = next((k for k, test in _KINDS if test(st.st_mode)), "other")
        return kind, st.st_mode & 0o7777

    def _lookup(self, host_path: str, *, follow: bool = True) -> tuple[str, int] | None:
        try:
            with self._walk(host_path, follow=follow) as w:
                return self._stat(w)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            if e.errno == errno.ELOOP:  # a symlink loop leads nowhere: absent, as Path.exists
                return None
            raise KubeadmError(f"cannot resolve {host_path}: {e.strerror or e}") from None

    def confined_path(self, host_path: str) -> str:
        """Where ``host_path`` resolves on this machine now, inside the root (symlinks resolved
        in the root), for what must be named by path: a CRI socket, mount points, commands
        printed for the user. Between this answer and its use the path may change; file
        contents go through :meth:`read_bytes` and friends instead."""
        root = str(self.rootfs or "")
        try:
            with self._walk(host_path) as w:
                if w.dir_fd is None:
                    return root + w.key if w.parts else root or "/"
                base = os.readlink(_fd_path(w.dir_fd))
                return f"{base.rstrip('/')}/{w.name}" if w.name else base
        except OSError:
            return root + str(PurePosixPath("/") / host_path.lstrip("/"))

    def real_path(self, host_path: str) -> Path:
        """:meth:`confined_path` as a ``Path``, for a tool that takes a path (etcd's snapshot
        file, etcdutl's data directory); the same window between the answer and its use."""
        return Path(self.confined_path(host_path))

    def canonical(self, host_path: str) -> str:
        """``host_path`` with its symlinks resolved inside the root (``/`` is the root), as far as
        it exists; the rest as written, ``..`` applied."""
        try:
            with self._walk(host_path) as w:
                return w.key
        except OSError:
            return str(PurePosixPath("/") / host_path.lstrip("/"))

    def in_overlay(self, host_path: str) -> bool:
        """Whether this dry run wrote or deleted ``host_path`` (always False in a real run)."""
        if self.overlay is None:
            return False
        try:
            with self._walk(host_path) as w:
                return w.shadow is not None
        except OSError:
            return False

    # --- reads ----------------------------------------------------------------------------------

    def exists(self, host_path: str) -> bool:
        return self._lookup(host_path) is not None

    def is_dir(self, host_path: str, *, follow: bool = True) -> bool:
        """Whether ``host_path`` is a directory; ``follow=False``: a real directory, not a
        symlink to one."""
        found = self._lookup(host_path, follow=follow)
        return found is not None and found[0] == "dir"

    def kind(self, host_path: str) -> str | None:
        """What ``host_path`` is, symlinks followed: ``file``, ``dir``, ``socket``, ``char``,
        ``block`` or ``other``; None when absent."""
        found = self._lookup(host_path)
        return None if found is None else found[0]

    def mode(self, host_path: str) -> int | None:
        found = self._lookup(host_path)
        return None if found is None else found[1]

    def open_file(self, host_path: str) -> IO[bytes] | None:
        """The file open for reading (the overlay's copy in a dry run), None when absent."""
        with self._walk(host_path) as w:
            if self.overlay is not None and w.shadow == "file":
                return io.BytesIO(self.overlay.files[w.key][0])
            if w.shadow == "dir":
                raise IsADirectoryError(errno.EISDIR, "Is a directory")
            if w.shadow == "gone" or w.dir_fd is None:
                return None
            try:
                fd = os.open(w.name or ".", os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=w.dir_fd)
            except FileNotFoundError:
                return None
            return os.fdopen(fd, "rb")

    def read_bytes(self, host_path: str, reader: Callable[[IO[bytes]], bytes] | None = None) -> bytes | None:
        """File content, or None when absent. A directory or unreadable file is an error.
        ``reader`` reads the open file instead of ``read()`` (e.g. a bounded read)."""
        try:
            f = self.open_file(host_path)
            if f is None:
                return None
            with f:
                return reader(f) if reader is not None else f.read()
        except (FileNotFoundError, NotADirectoryError):
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
        try:
            with self._walk(host_path) as w:
                if w.shadow is None and w.dir_fd is not None:
                    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
                        fd = os.open(w.name or ".", flags, dir_fd=w.dir_fd)
                        try:
                            names.update(os.listdir(fd))
                        finally:
                            os.close(fd)
                key = w.key
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                return []  # not a directory one can reach: nothing in it, as before
            raise KubeadmError(f"cannot list {host_path}: {e.strerror or e}") from None
        if self.overlay is not None:
            names.update(self.overlay.children(key))
            names = {n for n in names if self.overlay.kind(f"{key.rstrip('/')}/{n}") != "gone"}
        return sorted(names)

    # --- writes ---------------------------------------------------------------------------------

    def write(
        self, host_path: str, data: bytes, mode: int, *, secret: bool = False, detail: str = ""
    ) -> Change:
        """Atomically write ``data`` with ``mode`` unless the file already has exactly that
        content and mode. ``secret`` keeps the content out of dry-run output."""
        old = self.read_bytes(host_path)
        if old == data and self.mode(host_path) == mode:
            change = Change("file", "unchanged", host_path, detail or "already up to date")
        else:
            try:
                with self._walk(host_path, follow=False, create=not self.dry_run) as w:
                    if not w.name:
                        raise IsADirectoryError(errno.EISDIR, "Is a directory")
                    if self.overlay is not None:
                        self.overlay.put(w.key, data, mode, w.real_depth)
                    else:
                        assert w.dir_fd is not None  # create=True made the parents
                        atomic_write(Path(_fd_path(w.dir_fd, w.name)), data, mode, sync_dir=False)
                        self._unsynced.add(Path(os.readlink(_fd_path(w.dir_fd))))
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
        try:
            with self._walk(host_path, follow=False, create=not self.dry_run) as w:
                if self.overlay is not None:
                    self.overlay.mkdir(w.key, mode, w.real_depth)
                elif w.name:
                    assert w.dir_fd is not None
                    os.mkdir(w.name, mode, dir_fd=w.dir_fd)
        except OSError as e:
            raise KubeadmError(f"cannot create directory {host_path}: {e.strerror or e}") from None
        change = Change("dir", "create", host_path, f"mode {mode:04o}")
        self._changes.append(change)
        return change

    def copy_tree(self, src: str, dst: str) -> Change:
        """Replace the directory ``dst`` by a copy of the directory ``src`` (symlinks kept), e.g.
        the etcd data directory and its backup. A dry run only records it: the overlay gets no
        copy of a tree that may be large."""
        import shutil

        action: Action = "update" if self.exists(dst) else "create"
        if not self.dry_run:
            if not self.is_dir(src):
                raise KubeadmError(f"cannot copy {src}: not a directory")
            with self._walk(src) as s, self._walk(dst, follow=False, create=True, dir_mode=0o700) as d:
                assert s.dir_fd is not None and d.dir_fd is not None
                found = self._stat(d)
                if found is not None and found[0] == "dir":
                    shutil.rmtree(d.name, dir_fd=d.dir_fd)
                elif found is not None:
                    os.unlink(d.name, dir_fd=d.dir_fd)
                shutil.copytree(_fd_path(s.dir_fd, s.name), _fd_path(d.dir_fd, d.name), symlinks=True)
        change = Change("dir", action, dst, f"would copy {src}" if self.dry_run else f"copy of {src}")
        self._changes.append(change)
        return change

    def move(self, src: str, dst: str) -> Change:
        """Rename the file ``src`` to ``dst`` (replacing it), both inside the root; in a dry run
        the overlay moves it. Neither last component is followed."""
        try:
            create = not self.dry_run
            with self._walk(src, follow=False) as s, self._walk(dst, follow=False, create=create) as d:
                if not s.name or not d.name or self._stat(s) is None:
                    raise FileNotFoundError(errno.ENOENT, "No such file or directory")
                if self.overlay is not None:
                    data, mode = self.read_bytes(src) or b"", self.mode(src) or 0o600
                    self.overlay.put(d.key, data, mode, d.real_depth)
                    self.overlay.remove(s.key)
                else:
                    assert s.dir_fd is not None and d.dir_fd is not None
                    os.rename(s.name, d.name, src_dir_fd=s.dir_fd, dst_dir_fd=d.dir_fd)
                    self._unsynced.update({Path(os.readlink(_fd_path(fd))) for fd in (s.dir_fd, d.dir_fd)})
        except OSError as e:
            raise KubeadmError(f"cannot move {src} to {dst}: {e.strerror or e}") from None
        change = Change("file", "update", dst, f"moved from {src}")
        self._changes.append(change)
        return change

    def remove(self, host_path: str) -> Change:
        """Remove a file or a directory tree inside the root; a symlink is removed, never
        followed. In dry-run only records the deletion."""
        try:
            w = self._walk(host_path, follow=False)
        except (FileNotFoundError, NotADirectoryError):
            return Change("file", "unchanged", host_path, "absent")
        with w:
            if not w.name:
                raise KubeadmError(f"refusing to remove the root directory ({host_path})")
            found = self._stat(w)
            if found is None:
                return Change("file", "unchanged", host_path, "absent")
            if self.overlay is not None:
                self.overlay.remove(w.key)
            elif found[0] == "dir":
                import shutil  # only for removals (it imports bz2/lzma: ~5 ms of every start-up)

                assert w.dir_fd is not None
                shutil.rmtree(w.name, dir_fd=w.dir_fd)
            else:
                assert w.dir_fd is not None
                os.unlink(w.name, dir_fd=w.dir_fd)
        change = Change("file", "delete", host_path, "removed")
        self._changes.append(change)
        return change


_KINDS = (
    ("dir", stat.S_ISDIR),
    ("file", stat.S_ISREG),
    ("link", stat.S_ISLNK),
    ("socket", stat.S_ISSOCK),
    ("char", stat.S_ISCHR),
    ("block", stat.S_ISBLK),
)


def _printable(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "PRIVATE KEY" in text:
        return None
    return text
