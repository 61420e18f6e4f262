"""``kubeadm-py etcd snapshot save|status|restore``: etcd snapshots of a kubeadm cluster.

* **save** streams a snapshot over the etcd v3 API (``Maintenance.Snapshot``) from the node's
  local etcd member (client URL from its static Pod manifest, or ``endpoints``) with the node's
  etcd client certificate (``etcd/healthcheck-client``, as kubeadm's own etcd calls), writes it
  atomically with mode 0600 and checks the SHA-256 etcd appends. No etcd tool is needed.
* **status** checks a file's integrity (hash, bbolt meta page) and adds the revision and key
  count from etcd's own tool when one is installed (``etcdutl``, or ``etcdctl`` before 3.5).
* **restore** stops the member (its manifest parked), writes new member data from a snapshot with
  etcd's own tool (``snapshot restore``: new cluster id, membership rewritten to
  ``initial_cluster``, by default this member alone), swaps it in (the old ``member`` kept inside
  the data directory) and starts the member again. A member named with flags is not stopped:
  restore refuses while it answers on its client URL or holds its database lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from kubeadm_py.constants import TMP_DIR
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
PARK_DIR = f"{TMP_DIR}/kubeadm-py-etcd-restore"  # the etcd manifest while restore runs
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
    client_urls: list[str]
    # The node's etcd manifest (host path) restore stops etcd with and starts it again with, and
    # where it is parked meanwhile; None when the member was named with flags (stop it yourself).
    manifest: str | None = None
    parked: str | None = None


@dataclass(frozen=True)
class RestoreResult:
    plan: RestorePlan
    previous: str | None  # where the old member directory was kept, if there was one


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
    manifest = parked = None
    if not (data_dir and name and peer_url):
        # the live manifest, or the parked one an interrupted restore left
        manifest, parked = f"{manifests_dir.rstrip('/')}/{ETCD_MANIFEST}", f"{PARK_DIR}/{ETCD_MANIFEST}"
        source = manifest if fs.exists(manifest) or not fs.exists(parked) else parked
        text = fs.read_text(source)
        if text is None:
            raise KubeadmError(
                f"no local etcd on this node ({manifest} not found)",
                hint="run on a control-plane node with local etcd, or pass --data-dir, --name and "
                "--initial-advertise-peer-urls",
            )
        local = read_local_etcd(text, source)
    name = name or (local.name if local else "")
    peer_url = peer_url or (local.peer_url if local else "")
    data_dir = data_dir or (local.data_dir if local else "")
    if not name:
        raise KubeadmError("the etcd member has no name", hint="pass --name")
    initial_cluster = initial_cluster or f"{name}={peer_url}"
    target = fs.real_path(data_dir)
    tool = find_tool(etcd_tool)
    if tool is None:
        raise SnapshotError("no etcd snapshot tool found (etcdutl or etcdctl)", hint=NO_TOOL_HINT)
    staging = _staging(target)
    cmd = restore_command(
        tool, str(Path(path).resolve()), name=name, initial_cluster=initial_cluster,
        peer_urls=peer_url, data_dir=str(staging),
    )  # fmt: skip
    urls = local.client_urls if local else []
    if manifest is None:  # named with flags: the operator stopped the member
        _refuse_running(urls, target)
    return RestorePlan(facts, name, peer_url, initial_cluster, data_dir, target, cmd, urls, manifest, parked)


def _staging(target: Path) -> Path:
    """Inside the data directory: often a mount point of its own (a dedicated etcd disk), so only
    its entries can be renamed, and only within it."""
    return target / ".kubeadm-py-restore"


def _running(urls: list[str], target: Path) -> str | None:
    """Why etcd counts as running: it answers on a client URL, or bbolt holds the exclusive
    flock on ``member/snap/db``."""
    for url in urls:
        u = urlsplit(url)
        if not u.hostname or not u.port:
            continue
        with contextlib.suppress(OSError), socket.create_connection((u.hostname, u.port), timeout=1.0):
            return f"it answers on {url}"
    db = target / "member" / "snap" / "db"
    try:
        fd = os.open(db, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return f"it holds the lock on {db}"
    finally:
        os.close(fd)
    return None


def _refuse_running(urls: list[str], target: Path) -> None:
    why = _running(urls, target)
    if why:
        raise KubeadmError(
            f"etcd is running on this node ({why}); restore needs it stopped",
            hint="stop it first (move etcd.yaml out of the manifests directory), or let restore do it: "
            "run it without --data-dir/--name/--initial-advertise-peer-urls",
        )


def _wait_stopped(plan: RestorePlan, log: Callable[[str], None], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (why := _running(plan.client_urls, plan.target)) is not None:
        if time.monotonic() > deadline:
            raise KubeadmError(
                f"etcd did not stop within {timeout:g}s after its manifest moved to {plan.parked} ({why})",
                hint=f"check the kubelet; rerun restore when etcd is gone (its manifest stays in {PARK_DIR})",
            )
        time.sleep(1.0)
    log("[etcd-restore] etcd has stopped")


def restore(
    fs: HostFS, plan: RestorePlan, log: Callable[[str], None] = lambda _m: None, stop_timeout: float = 120.0
) -> RestoreResult:
    """Stop the member (its manifest parked in /etc/kubernetes/tmp, so the kubelet stops it), run
    etcd's tool into a staging directory inside the data directory, swap its ``member`` in (the old
    one kept as ``member.before-restore-<time>``), and start the member again (manifest back). A
    rerun after an interruption finds the parked manifest and continues; old data is never deleted."""
    if plan.manifest and plan.parked:
        if fs.exists(plan.manifest):
            log(f"[etcd-restore] Stopping etcd: moving {plan.manifest} to {plan.parked}")
            fs.mkdir(PARK_DIR, 0o700)
            os.replace(fs.real_path(plan.manifest), fs.real_path(plan.parked))
        _wait_stopped(plan, log, stop_timeout)
    target = plan.target
    staging = _staging(target)
    if staging.exists():
        shutil.rmtree(staging)  # an interrupted earlier restore: etcd's tool wants a new directory
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    tool = (Path(plan.command[0]).name, plan.command[0])
    log(f"[etcd-restore] Running {' '.join(plan.command)}")
    run_restore(tool, plan.command)
    previous: str | None = None
    member = target / "member"
    if member.exists():
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        aside = target / f"member.before-restore-{stamp}"
        os.rename(member, aside)
        previous = str(aside)
    os.rename(staging / "member", member)
    shutil.rmtree(staging)
    os.chmod(target, 0o700)
    _fsync_dir(target)
    if plan.manifest and plan.parked and fs.exists(plan.parked):
        log(f"[etcd-restore] Starting etcd: moving its manifest back to {plan.manifest}")
        os.replace(fs.real_path(plan.parked), fs.real_path(plan.manifest))
        _fsync_dir(fs.real_path(plan.manifest).parent)
    return RestoreResult(plan, previous)


def _fsync_dir(path: Path) -> None:
    dfd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
