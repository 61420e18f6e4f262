"""Files that live only in memory (``memfd_create``), for libraries that take a path (``ssl``
``load_cert_chain``, the ``kubernetes`` kubeconfig loader): the path ``/proc/self/fd/N`` is valid
while the context is open, and the data never reaches a disk; the kernel frees it when the
descriptor closes, however the process ends (``SIGKILL`` included)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def memfiles(*contents: bytes) -> Iterator[list[str]]:
    """One in-memory file per content; yields their paths."""
    fds: list[int] = []
    try:
        for data in contents:
            fd = os.memfd_create("kubeadm-py", os.MFD_CLOEXEC)
            fds.append(fd)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        yield [f"/proc/self/fd/{fd}" for fd in fds]
    finally:
        for fd in fds:
            os.close(fd)
