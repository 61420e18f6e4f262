"""Mounts below a directory and unmounting them (reset): the real effector and its dry-run twin."""

from __future__ import annotations

import ctypes
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from kubeadm_py.changes import Change

# umount2(2) flags by the names ResetConfiguration.unmountFlags uses.
UNMOUNT_FLAGS = {"MNT_FORCE": 1, "MNT_DETACH": 2, "MNT_EXPIRE": 4, "UMOUNT_NOFOLLOW": 8}


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mounts_below(root: str, mountinfo: str) -> list[str]:
    """Mount points strictly below ``root`` in ``/proc/self/mountinfo`` text, deepest first."""
    prefix = root.rstrip("/") + "/"
    found = []
    for line in mountinfo.splitlines():
        parts = line.split()
        if len(parts) > 4:
            mp = _unescape(parts[4])
            if mp.startswith(prefix):
                found.append(mp)
    return sorted(dict.fromkeys(found), key=lambda p: (-p.count("/"), p))


class Mounts(Protocol):
    def below(self, path: Path) -> list[str]:
        """Mount points strictly below ``path`` (a real path), deepest first. Raises OSError when
        the mount table cannot be read."""
        ...

    def unmount(self, mount_point: str, flags: int) -> Change:
        """Unmount one mount point; raises OSError on failure."""
        ...


class HostMounts:
    mountinfo = Path("/proc/self/mountinfo")

    def below(self, path: Path) -> list[str]:
        return mounts_below(str(path.resolve()), self.mountinfo.read_text())

    def unmount(self, mount_point: str, flags: int) -> Change:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.umount2(os.fsencode(mount_point), flags) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        return Change("note", "run", f"umount {mount_point}", "unmounted")


class DryRunMounts:
    def __init__(self, real: Mounts, log: Callable[[str], None]) -> None:
        self.real = real
        self.log = log

    def below(self, path: Path) -> list[str]:
        return self.real.below(path)

    def unmount(self, mount_point: str, flags: int) -> Change:
        return Change("note", "run", f"umount {mount_point}", "would unmount")
