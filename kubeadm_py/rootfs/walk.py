"""Resolve a host path inside a root directory the way ``openat2(RESOLVE_IN_ROOT)`` does.

The walk holds an ``O_PATH`` descriptor for every directory it enters, starting at the root, and
opens each next component relative to it with ``O_NOFOLLOW``. A symlink is read with
``readlinkat`` and its target spliced into the rest of the path: an absolute target restarts at
the root, ``..`` pops one directory but never above the root (the descriptor of the parent is
the one held, so a directory moved away meanwhile cannot lead out). A component replaced by a
symlink between the check and the open fails (``ELOOP``/``ENOTDIR``) rather than being followed.

What stays open to a race (documented in docs/architecture.md): a directory the walk already
holds can be moved out of the root by someone who can write inside it; ``openat2`` refuses that
case with ``EXDEV`` (``RESOLVE_IN_ROOT`` checks ``..`` against the root), this walk does not.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass

MAX_LINKS = 40  # as Linux (ELOOP after 40 symlinks in one resolution)
DIR_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

# kind of a canonical key in the dry-run overlay: "file", "dir", "gone" or None (not shadowed)
Shadow = Callable[[str], "str | None"]


def split(path: str) -> list[str]:
    return [c for c in path.split("/") if c not in ("", ".")]


def key_of(parts: list[str]) -> str:
    return "/" + "/".join(parts)


@dataclass
class Walk:
    """A resolved host path. ``parts``: its components inside the root, symlinks resolved (the
    last one only with ``follow``); ``dir_fd``: an ``O_PATH`` descriptor of the real parent
    directory, None when the parent does not exist on disk (or only in the overlay); ``name``:
    the last component, ``""`` for the root itself; ``real_depth``: how many leading components
    exist on disk; ``shadow``: the overlay's kind of the path (``file``/``dir``/``gone``) or None."""

    parts: list[str]
    dir_fd: int | None
    name: str
    real_depth: int
    shadow: str | None
    _owned: bool

    @property
    def key(self) -> str:
        return key_of(self.parts)

    def close(self) -> None:
        if self._owned and self.dir_fd is not None:
            os.close(self.dir_fd)
            self._owned = False

    def __enter__(self) -> Walk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def walk(
    root_fd: int,
    host_path: str,
    *,
    follow: bool = True,
    create: bool = False,
    shadow: Shadow | None = None,
    dir_mode: int = 0o755,
) -> Walk:
    """Resolve ``host_path`` inside the directory ``root_fd``. ``follow``: resolve a symlink in
    the last component too (reads); without it the last component is taken as is (writes,
    deletions). ``create``: make missing parent directories (``dir_mode``). ``shadow`` answers for
    canonical keys the dry-run overlay knows: its entries hide (``gone``) or replace the disk."""
    todo = split(host_path)
    todo.reverse()  # a stack: the next component is todo[-1]
    stack = [root_fd]  # stack[i] is the open directory of parts[:i]
    parts: list[str] = []
    links = 0
    last_shadow: str | None = None
    try:
        while todo:
            comp = todo.pop()
            if comp == "..":
                if parts:
                    parts.pop()
                    if len(stack) > len(parts) + 1:
                        os.close(stack.pop())
                last_shadow = shadow(key_of(parts)) if shadow and parts else None
                continue
            is_last = not todo
            here = parts + [comp]
            kind = shadow(key_of(here)) if shadow else None
            last_shadow = kind
            if len(stack) != len(parts) + 1 or kind is not None:  # below a missing or overlay dir
                if kind == "file" and not is_last:
                    raise NotADirectoryError(errno.ENOTDIR, "Not a directory", key_of(here))
                parts.append(comp)
                continue
            try:
                st = os.stat(comp, dir_fd=stack[-1], follow_symlinks=False)
            except FileNotFoundError:
                if create and not is_last:
                    os.mkdir(comp, dir_mode, dir_fd=stack[-1])
                    st = os.stat(comp, dir_fd=stack[-1], follow_symlinks=False)
                else:
                    parts.append(comp)
                    continue
            if stat.S_ISLNK(st.st_mode) and (follow or not is_last):
                links += 1
                if links > MAX_LINKS:
                    raise OSError(errno.ELOOP, "Too many levels of symbolic links", host_path)
                target = os.readlink(comp, dir_fd=stack[-1])
                if target.startswith("/"):
                    while len(stack) > 1:
                        os.close(stack.pop())
                    parts.clear()
                more = split(target)
                more.reverse()
                todo.extend(more)
                if target.startswith("/") and not more:
                    last_shadow = None
                continue
            parts.append(comp)
            if is_last:
                break
            if not stat.S_ISDIR(st.st_mode):
                raise NotADirectoryError(errno.ENOTDIR, "Not a directory", key_of(parts))
            stack.append(os.open(comp, DIR_FLAGS, dir_fd=stack[-1]))
        return _result(stack, parts, last_shadow if parts else None)
    except BaseException:
        for fd in stack[1:]:
            os.close(fd)
        raise


def _result(stack: list[int], parts: list[str], kind: str | None) -> Walk:
    """The parent's descriptor is kept; every other one the walk opened is closed."""
    if len(stack) == len(parts) + 1 and parts:  # the last component is an open directory
        os.close(stack.pop())
    if not parts:  # the root itself
        return Walk([], stack[0], "", 0, None, False)
    real_depth = len(stack) - 1  # directories of ``parts`` that exist on disk
    dir_fd = stack[-1] if len(stack) == len(parts) else None
    for fd in stack[1:]:
        if fd != dir_fd:
            os.close(fd)
    return Walk(parts, dir_fd, parts[-1], real_depth, kind, dir_fd is not None and dir_fd != stack[0])
