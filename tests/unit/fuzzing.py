"""What every fuzzed input must satisfy: accepted, or refused with one ``KubeadmError`` line that
is not the catch-all "unexpected <exception>" (nor an internal error), within a memory bound
that grows with the input."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kubeadm_py.errors import KubeadmError

BASE_BYTES = 24 << 20  # what one run of the loader or the CLI may allocate whatever its input
PER_INPUT_BYTE = 200  # and per byte of input (parsed YAML, JSON schema errors)


@contextmanager
def traced() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def one_line_refusal(fn: Callable[[], object], size: int, what: object, names: str = "") -> bool:
    """Run ``fn`` (inside :func:`traced`); True when it refused the input. Fails the test on any
    other exception, a message of more than one line, "unexpected", one that does not name the
    input (``names``: the file, say), or too much memory."""
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    refused = False
    try:
        fn()
    except KubeadmError as e:
        refused = True
        message = str(e).strip()
        assert message and "\n" not in message, (what, message)
        # the old catch-all ("unexpected ValueError: ...") or a bug: the input is not named
        assert not message.startswith(("unexpected ", "internal error")), (what, message)
        assert names in message, (what, message)
    peak = tracemalloc.get_traced_memory()[1] - before
    assert peak <= BASE_BYTES + PER_INPUT_BYTE * size, (what, size, peak)
    return refused
