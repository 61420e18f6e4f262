"""Golden files of everything ``kubeadm-py init --dry-run`` writes, per supported minor.

One file per minor of :data:`kubeadm_py.versions.RELEASES` (``init-v1.XX.txt``): every file, directory
and API object the dry run would write, in phase order, with their content. Values that differ run
to run are masked (certificates, keys, tokens, hashes, timestamps). The differences between two
minors' goldens come from the rows of ``kubeadm_py/versions.py`` (images, flags) and
``kubeadm_py/versioned.py`` (objects), which cite their upstream sources; each golden's header names
the two rows it was built from.

Regenerate all (after changing a row or adding a minor; review the diff):

    .venv/bin/python -m tests.unit.goldens.generate

``tests/unit/goldens/test_goldens.py`` fails for a minor whose golden is missing or stale."""

from __future__ import annotations

import os
import re
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from kubeadm_py import api
from kubeadm_py.effectors.bundle import Hooks
from kubeadm_py.versioned import profile_for
from kubeadm_py.versions import RELEASES, MinorRelease

HERE = Path(__file__).parent
REGENERATE = ".venv/bin/python -m tests.unit.goldens.generate"

# One configuration for every minor: a named node, an advertise address, a control-plane endpoint
# (so that kubelet.conf's server shows ControlPlaneKubeletLocalMode's history) and a pod subnet.
CONFIG = {
    "init": {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "InitConfiguration",
        "localAPIEndpoint": {"advertiseAddress": "10.0.0.5", "bindPort": 6443},
        "nodeRegistration": {"name": "cp-1", "criSocket": "unix:///run/containerd/containerd.sock"},
    },
    "cluster": {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "controlPlaneEndpoint": "lb.example.test:6443",
        "networking": {"podSubnet": "10.244.0.0/16"},
    },
}

_MASKS = [
    (re.compile(r"-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----\n?"), r"<\1 PEM>\n"),
    (
        re.compile(r"(certificate-authority-data|client-certificate-data|client-key-data): \S+"),
        r"\1: <base64>",
    ),
    (re.compile(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b"), "<token>"),
    (re.compile(r"bootstrap-token-[a-z0-9]{6}"), "bootstrap-token-<id>"),
    (re.compile(r"(token-id|expiration|token-secret): \S+"), r"\1: <masked>"),
    (re.compile(r"sha256:[0-9a-f]{64}"), "sha256:<hex>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"), "<time>"),
]


def _mask(text: str) -> str:
    for rx, rep in _MASKS:
        text = rx.sub(rep, text)
    return text


class _NoResolved:
    """A service manager without systemd-resolved, so the kubelet config is host-independent."""

    def manager(self) -> str:
        return "none"

    def exists(self, unit: str) -> bool:
        return False

    def is_active(self, unit: str) -> bool:
        return False

    def restart(self, unit: str):  # type: ignore[no-untyped-def]
        from kubeadm_py.changes import Change

        return Change("process", "run", f"restart {unit}", "planned")

    stop = restart


GOLDEN_HOST = "golden-host"  # this machine's name as the run sees it (not the node name cp-1)


@contextmanager
def _isolated_env(sandbox: str) -> Iterator[None]:
    """No proxy variables (they go into the static Pods), the dry-run sandbox where the test can
    read the secret files back, and a fixed host name (kubeadm-flags.env's --hostname-override)."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.lower().endswith("_proxy")}
    saved["KUBEADM_PY_DRYRUN_DIR"] = os.environ.get("KUBEADM_PY_DRYRUN_DIR", "")
    os.environ["KUBEADM_PY_DRYRUN_DIR"] = sandbox
    real_hostname = socket.gethostname
    socket.gethostname = lambda: GOLDEN_HOST
    try:
        yield
    finally:
        socket.gethostname = real_hostname
        os.environ.pop("KUBEADM_PY_DRYRUN_DIR", None)
        os.environ.update({k: v for k, v in saved.items() if v})


def render(rel: MinorRelease) -> str:
    """The golden text of ``init --dry-run`` for ``rel``'s default patch."""
    version = rel.default_patch
    with tempfile.TemporaryDirectory(prefix="kubeadm-py-golden-") as tmp:
        root, sandbox = Path(tmp, "root"), Path(tmp, "sandbox")
        root.mkdir()
        sandbox.mkdir()
        cfg_path = Path(tmp, "config.yaml")
        cluster = {**CONFIG["cluster"], "kubernetesVersion": version}
        cfg_path.write_text(yaml.safe_dump_all([CONFIG["init"], cluster]))
        with _isolated_env(str(sandbox)):
            report = api.run(
                "init",
                config=str(cfg_path),
                dry_run=True,
                rootfs=str(root),
                hooks=Hooks(services=_NoResolved()),  # type: ignore[arg-type]
            )
        profile = profile_for(version)
        lines = [
            f"# kubeadm-py init --dry-run, Kubernetes {version}; regenerate: {REGENERATE}",
            f"# version row: kubeadm_py/versions.py minor {rel.minor}; objects row: kubeadm_py/versioned.py "
            f"since {profile.since[0]}.{profile.since[1]} (each value cites its upstream source there)",
        ]
        for phase in report.phases:
            for c in phase.changes:
                if c.kind not in ("file", "dir", "object"):
                    continue
                what = f"{phase.path}: {c.action}"
                if c.target.endswith(".crt") and c.detail:  # subject, SANs, signer
                    what += f"; {c.detail}"
                lines.append(f"=== {c.kind} {_mask(c.target)} ({_mask(what)})")
                content = c.content
                if content is None and c.kind == "file":
                    copy = sandbox / c.target.lstrip("/")
                    if copy.is_file() and not c.target.endswith(".key"):
                        content = copy.read_text()
                    else:
                        content = "<secret>\n"
                if content:
                    lines.append(_mask(content).rstrip("\n"))
        return "\n".join(lines) + "\n"


def golden_path(rel: MinorRelease) -> Path:
    return HERE / f"init-v{rel.minor}.txt"


def main() -> int:
    for rel in RELEASES:
        path = golden_path(rel)
        path.write_text(render(rel))
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    known = {golden_path(r).name for r in RELEASES}
    for stale in sorted(HERE.glob("init-v*.txt")):
        if stale.name not in known:
            stale.unlink()
            print(f"removed {stale} (minor no longer in the version table)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
