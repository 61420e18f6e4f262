"""What a dry run wrote and deleted, in memory: nothing of a dry run ever reaches a disk.

Keys are canonical host paths inside the root (``/etc/kubernetes/pki/ca.key``, symlinks of the
real root resolved by :func:`~kubeadm_py.rootfs.walk.walk`). A file written is kept with its
mode; a directory made (or needed by a file) where the disk has none is an overlay directory,
which hides the disk below it; a deletion is a whiteout (``gone``) hiding the disk entry and
everything under it. Reads look here first, then at the (confined) real root.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def _under(key: str, top: str) -> bool:
    return key == top or key.startswith(top.rstrip("/") + "/")


def parent_of(key: str) -> str:
    return key.rsplit("/", 1)[0] or "/"


@dataclass
class Overlay:
    files: dict[str, tuple[bytes, int]] = field(default_factory=dict)
    dirs: dict[str, int] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)

    def kind(self, key: str) -> str | None:
        """``file``, ``dir``, ``gone`` (deleted in this dry run) or None (the disk decides)."""
        if key in self.files:
            return "file"
        if key in self.dirs:
            return "dir"
        if key in self.gone:
            return "gone"
        return None

    def _parents(self, key: str, real_depth: int) -> None:
        """Overlay directories for the parents of ``key`` below the ``real_depth`` that exist."""
        parts = key.strip("/").split("/")[:-1]
        for i in range(real_depth, len(parts)):
            self.dirs.setdefault("/" + "/".join(parts[: i + 1]), 0o755)

    def put(self, key: str, data: bytes, mode: int, real_depth: int) -> None:
        self._parents(key, real_depth)
        self.gone.discard(key)
        self.files[key] = (data, mode)

    def mkdir(self, key: str, mode: int, real_depth: int) -> None:
        self._parents(key, real_depth)
        self.gone.discard(key)
        self.dirs[key] = mode

    def remove(self, key: str) -> None:
        for table in (self.files, self.dirs):
            for k in [k for k in table if _under(k, key)]:
                del table[k]
        self.gone.add(key)

    def children(self, key: str) -> set[str]:
        """Names the overlay adds directly below ``key``."""
        prefix = key.rstrip("/") + "/"
        return {
            k[len(prefix) :]
            for k in (*self.files, *self.dirs)
            if k.startswith(prefix) and "/" not in k[len(prefix) :]
        }
