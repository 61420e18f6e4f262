"""``kubeadm-py etcd snapshot save|status|restore``: etcd snapshots of a kubeadm cluster.

* **save** streams a snapshot over the etcd v3 API (``Maintenance.Snapshot``) from the node's
  local etcd member (client URL from its static Pod manifest, or ``endpoints``) with the node's
  etcd client certificate (``etcd/healthcheck-client``, as kubeadm's own etcd calls), writes it
  atomically with mode 0600 and checks the SHA-256 etcd appends. No etcd tool is needed.
* **status** checks a file's integrity (hash, bbolt meta page) and adds the revision and key
  count from etcd's own tool when one is installed (``etcdutl``, or ``etcdctl`` before 3.5).
* **restore** writes a new data directory from a snapshot with etcd's own tool (``snapshot
  restore``: new cluster id, membership rewritten to ``initial_cluster``, by default this member
  alone), then swaps it in for the member's data directory, keeping the old one beside it. The
  member must be stopped (its manifest moved out of the manifests directory); restore refuses
  while etcd listens on its client URL or holds its database lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from kubeadm_py.errors import KubeadmError
from kubeadm_py.etcd.snapshot import (
    SnapshotError,
    SnapshotFacts,
    check,
    find_tool,
    restore_command,
    run_restore,
    tool_status,
    write_snapshot,
)
from kubeadm_py.hostfs import HostFS
from kubeadm_py.manifests.etcd import LocalEtcd, read_local_etcd

ETCD_MANIFEST = "etcd.yaml"
NO_TOOL_HINT = (
    "install etcd's tool (Debian: apt-get install etcd-client; or copy etcdutl from the etcd image "
    "of this node) or pass --etcd-tool PATH"
)


def node_etcd(fs: HostFS, manifests_dir: str, flags: str) -> LocalEtcd:
    """The local etcd member described by this node's static Pod manifest; ``flags`` names the
    flags that replace it."""
    path = f"{manifests_dir.rstrip('/')}/{ETCD_MANIFEST}"
    text = fs.read_text(path)
    if text is None:
        raise KubeadmError(
            f"no local etcd on this node ({path} not found)",
            hint=f"run on a control-plane node with local etcd, or pass {flags}",
        )
    return read_local_etcd(text, path)


def save(
    fs: HostFS,
    dest: str,
    *,
    cert_dir: str,
    manifests_dir: str,
    endpoints: list[str] | None = None,
) -> tuple[SnapshotFacts, str]:
    """Save a snapshot to ``dest``; returns its facts and the endpoint that served it."""
    from kubeadm_py.etcd.client import EtcdClient

    eps = endpoints or node_etcd(fs, manifests_dir, "--endpoints").client_urls
    client = EtcdClient.for_node(fs, cert_dir, eps)
    served: list[str] = []
    facts = write_snapshot(Path(dest), lambda sink: served.append(client.snapshot(sink)))
    return facts, served[0] if served else eps[0]


def status(path: str, etcd_tool: str | None = None) -> dict[str, object]:
    """Integrity facts of a snapshot file, plus etcd's tool's status when available."""
    facts = check(path)
    doc: dict[str, object] = facts.to_dict()
    tool = find_tool(etcd_tool)
    if tool is None:
        doc["revision"] = None
        doc["note"] = "revision and key count need etcd's tool: " + NO_TOOL_HINT
        return doc
    st = tool_status(tool, path)
    doc.update({"revision": st.get("revision"), "totalKey": st.get("totalKey"), "hash": st.get("hash")})
    doc["tool"] = tool[0]
    return doc


@dataclass(frozen=True)
class RestorePlan:
    snapshot: SnapshotFacts
    name: str
    peer_url: str
    initial_cluster: str
    data_dir: str  # host path
    target: Path  # the real path (under the root)
    command: list[str]


@dataclass(frozen=True)
class RestoreResult:
    plan: RestorePlan
    previous: str | None  # where the old data directory was moved, if there was one


def plan_restore(
    fs: HostFS,
    path: str,
    *,
    manifests_dir: str,
    data_dir: str | None = None,
    name: str | None = None,
    peer_url: str | None = None,
    initial_cluster: str | None = None,
    etcd_tool: str | None = None,
) -> RestorePlan:
    """Check the snapshot and the member, and say exactly what restore will run."""
    facts = check(path)
    local: LocalEtcd | None = None
    if not (data_dir and name and peer_url):
        local = node_etcd(fs, manifests_dir, "--data-dir, --name and --initial-advertise-peer-urls")
    name = name or (local.name if local else "")
    peer_url = peer_url or (local.peer_url if local else "")
    data_dir = data_dir or (local.data_dir if local else "")
    if not name:
        raise KubeadmError("the etcd member has no name", hint="pass --name")
    initial_cluster = initial_cluster or f"{name}={peer_url}"
    if local is not None:
        _refuse_running(local)
    target = fs.real_path(data_dir)
    _refuse_locked(target)
    tool = find_tool(etcd_tool)
    if tool is None:
        raise SnapshotError("no etcd snapshot tool found (etcdutl or etcdctl)", hint=NO_TOOL_HINT)
    staging = _staging(target)
    cmd = restore_command(
        tool, str(Path(path).resolve()), name=name, initial_cluster=initial_cluster,
        peer_urls=peer_url, data_dir=str(staging),
    )  # fmt: skip
    return RestorePlan(facts, name, peer_url, initial_cluster, data_dir, target, cmd)


def _staging(target: Path) -> Path:
    return target.parent / f".{target.name}.restore"


def _refuse_running(local: LocalEtcd) -> None:
    for url in local.client_urls:
        u = urlsplit(url)
        if not u.hostname or not u.port:
            continue
        with contextlib.suppress(OSError), socket.create_connection((u.hostname, u.port), timeout=1.0):
            raise KubeadmError(
                f"etcd is running on this node (it answers on {url}); restore needs it stopped",
                hint="move etcd.yaml out of the manifests directory, wait for etcd to stop, then rerun",
            )


def _refuse_locked(target: Path) -> None:
    """bbolt holds an exclusive flock on ``member/snap/db`` while etcd runs."""
    db = target / "member" / "snap" / "db"
    try:
        fd = os.open(db, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise KubeadmError(
            f"etcd is using {db}; restore needs the member stopped",
            hint="move etcd.yaml out of the manifests directory, wait for etcd to stop, then rerun",
        ) from None
    finally:
        os.close(fd)


def restore(plan: RestorePlan) -> RestoreResult:
    """Run etcd's tool into a staging directory, then swap it in for the data directory. A
    rerun after an interruption starts the staging over; the old data is never deleted."""
    target = plan.target
    staging = _staging(target)
    if staging.exists():
        shutil.rmtree(staging)  # an interrupted earlier restore: etcd's tool wants a new directory
    target.parent.mkdir(parents=True, exist_ok=True)
    tool = (Path(plan.command[0]).name, plan.command[0])
    run_restore(tool, plan.command)
    previous: str | None = None
    if target.exists():
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()
        else:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            aside = target.parent / f"{target.name}.before-restore-{stamp}"
            os.rename(target, aside)
            previous = str(aside)
    os.rename(staging, target)
    os.chmod(target, 0o700)
    dfd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return RestoreResult(plan, previous)
