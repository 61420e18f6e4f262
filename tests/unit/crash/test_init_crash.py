"""``kill -9`` of ``kubeadm-py init`` (the phases that need no cluster, on a ``--rootfs``) at every
phase boundary and inside file writes, then a rerun: no file is ever partial or corrupt, and the
rerun completes a node whose certificates all chain to their CAs, with no temporary file left."""

from __future__ import annotations

import signal
import tempfile
from pathlib import Path

from tests.unit.crash import tree
from tests.unit.crash.conftest import Server, init_argv, kill_points


def _baseline(server: Server, root: Path, config: str | None) -> list[str]:
    clean = server.run(init_argv(root, config), root=root)
    assert clean.exit == 0, clean.log
    tree.check_complete(root)
    return clean.events


def _crash_and_rerun(server: Server, base: Path, config: str | None, events: list[str], at: int) -> Path:
    root = Path(tempfile.mkdtemp(dir=base))
    killed = server.run(init_argv(root, config), kill_at=at, root=root)
    assert killed.signal == signal.SIGKILL, (events[at - 1], killed.exit, killed.log[-2000:])
    assert killed.events[-1] == events[at - 1], "the run is deterministic: killed where planned"
    tree.check_files(root)  # what the killed run left: whole files only
    rerun = server.run(init_argv(root, config))
    assert rerun.exit == 0, (events[at - 1], rerun.log[-3000:])
    tree.check_complete(root)
    return root


def test_kill_init_everywhere(server: Server, ecdsa_config: str, scratch: Path) -> None:
    events = _baseline(server, scratch / "clean", ecdsa_config)
    points = kill_points(events)
    phases = sum(e.startswith("phase-start:") for e in events)
    assert len(points) > phases + 30, (len(points), phases)  # boundaries and ~every file write
    for at in points:
        _crash_and_rerun(server, scratch, ecdsa_config, events, at)
    print(f"\n[crash] init: {len(points)} kill points ({phases} phase starts)")


def test_kill_init_with_rsa_keys(server: Server, ecdsa_config: str, scratch: Path) -> None:
    """The default RSA keys come from the key pool's threads: kill inside a certificate write while
    they generate, rerun, and check a sample of the chains with openssl as well. (The events are
    the same as with ECDSA keys: the same files in the same order.)"""
    events = _baseline(server, scratch / "clean", ecdsa_config)
    at = events.index("half:/etc/kubernetes/pki/apiserver.crt") + 1
    root = _crash_and_rerun(server, scratch, None, events, at)
    tree.check_complete(root, openssl_sample=True)
