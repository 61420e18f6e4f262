"""The join workflow: phase order, flags -> JoinConfiguration, a worker join end to end against an
in-memory cluster, worker skips, control-plane refusals and certificate download."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubeadm_py import api
from kubeadm_py.cluster.copycerts import certs_secret, create_certificate_key, read_plaintexts
from kubeadm_py.config.resolve import build_config
from kubeadm_py.effectors.waiting import Waiter
from kubeadm_py.errors import KubeadmError, PhaseError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.options import run_options
from kubeadm_py.workflow.report import RunReport
from kubeadm_py.workflows.join import join_overrides

from .conftest import ENDPOINT, TOKEN, FakeFetcher, cluster_info, cluster_info_kubeconfig, make_ca, pin
from .helpers import Cluster, FakeKubelet, join_context, kubelet_healthz, run

UPSTREAM_ORDER = [
    "preflight",
    "control-plane-prepare",
    "control-plane-prepare/download-certs",
    "control-plane-prepare/certs",
    "control-plane-prepare/kubeconfig",
    "control-plane-prepare/control-plane",
    "kubelet-start",
    "etcd-join",
    "kubelet-wait-bootstrap",
    "control-plane-join",
    "control-plane-join/mark-control-plane",
    "wait-control-plane",
]


def test_phase_order_matches_upstream() -> None:
    paths = api.phase_paths("join")
    assert [p for p in paths if p in UPSTREAM_ORDER] == UPSTREAM_ORDER
    assert "control-plane-prepare/certs/apiserver" in paths
    assert "control-plane-prepare/certs/ca" not in paths  # shared CAs come from the cluster
    assert "control-plane-prepare/kubeconfig/kubelet" not in paths  # TLS bootstrap writes kubelet.conf


def test_flags_fill_the_join_configuration() -> None:
    opts = {
        "api_server_endpoint": ["10.0.0.1:6443"],
        "token": TOKEN,
        "discovery_token_ca_cert_hash": ["sha256:" + "a" * 64, "sha256:" + "b" * 64],
        "control_plane": True,
    }
    cfg = build_config("join", None, join_overrides(run_options(opts)), dynamic_defaults=False)
    disc = cfg.join["discovery"]
    assert disc["bootstrapToken"] == {
        "apiServerEndpoint": "10.0.0.1:6443",
        "token": TOKEN,
        "caCertHashes": ["sha256:" + "a" * 64, "sha256:" + "b" * 64],
    }
    assert disc["tlsBootstrapToken"] == TOKEN
    assert isinstance(cfg.join["controlPlane"], dict)
    # a discovery file: --token only becomes the TLS bootstrap token
    f = join_overrides(run_options({"discovery_file": "/tmp/d.conf", "token": TOKEN}))
    assert f == {
        "join.discovery.file.kubeConfigPath": "/tmp/d.conf",
        "join.discovery.tlsBootstrapToken": TOKEN,
    }
    # explicit tokens win over --token
    o = join_overrides(
        run_options(
            {
                "api_server_endpoint": ["e:6443"],
                "token": TOKEN,
                "tls_bootstrap_token": "zzzzzz.zzzzzzzzzzzzzzzz",
            }
        )
    )
    assert o["join.discovery.tlsBootstrapToken"] == "zzzzzz.zzzzzzzzzzzzzzzz"
    assert o["join.discovery.bootstrapToken.token"] == TOKEN


def test_worker_join_end_to_end(tmp_path: Path) -> None:
    logs: list[str] = []
    with kubelet_healthz() as port:
        cluster = Cluster(healthz_port=port)
        # the kubelet bootstraps when started: it writes kubelet.conf and registers the Node
        kubelet = FakeKubelet(tmp_path, cluster)
        ctx = join_context(tmp_path, cluster, logs, kubelet=kubelet)
        report = run(ctx)
    status = {o.path: o.status for o in report.phases}
    for p in (
        "control-plane-prepare/download-certs",
        "control-plane-prepare/certs/apiserver",
        "etcd-join",
        "control-plane-join/mark-control-plane",
        "wait-control-plane",
    ):
        assert status[p] == "skipped", p
    assert status["kubelet-start"] == "changed"
    assert status["kubelet-wait-bootstrap"] == "changed"
    assert kubelet.calls == ["restart"]  # not running before: nothing to stop
    assert "[kubelet-check] kubelet is healthy after 0s" in logs
    assert any(m == "[control-plane-prepare] skipped: worker node" for m in logs)
    fs = HostFS(rootfs=tmp_path)
    # the CA from discovery, the kubelet files; bootstrap-kubelet.conf removed after the bootstrap
    assert fs.read_bytes("/etc/kubernetes/pki/ca.crt") == cluster.ca_pem
    assert not fs.exists("/etc/kubernetes/bootstrap-kubelet.conf")
    kc = yaml.safe_load(fs.read_text("/var/lib/kubelet/config.yaml") or "")
    assert kc["cgroupDriver"] == "cgroupfs" and kc["clusterDNS"] == ["10.96.0.10"]
    flags = fs.read_text("/var/lib/kubelet/kubeadm-flags.env") or ""
    assert "--container-runtime-endpoint=unix:///run/containerd/containerd.sock" in flags
    assert "--container-runtime=remote" in flags  # the 1.20 kubelet flags: the cluster version was used
    # nothing else written: no control-plane files on a worker
    assert not fs.exists("/etc/kubernetes/manifests/kube-apiserver.yaml")
    assert not fs.exists("/etc/kubernetes/admin.conf")
    # the cluster's version was used (1.20: versioned kubelet-config name read)
    assert ("GET", "/api/v1/namespaces/kube-system/configmaps/kubelet-config-1.20") in cluster.api.requests


def test_bootstrap_kubelet_conf_content(tmp_path: Path) -> None:
    cluster = Cluster()
    ctx = join_context(tmp_path, cluster, [])
    run(ctx, only=["kubelet-start"])
    fs = HostFS(rootfs=tmp_path)
    text = fs.read_text("/etc/kubernetes/bootstrap-kubelet.conf") or ""
    assert fs.mode("/etc/kubernetes/bootstrap-kubelet.conf") == 0o600
    doc = yaml.safe_load(text)
    assert doc["current-context"] == "tls-bootstrap-token-user@kubernetes"
    assert doc["clusters"] == [
        {
            "name": "kubernetes",
            "cluster": {
                "server": "https://10.0.0.1:6443",
                "certificate-authority-data": __import__("base64").b64encode(cluster.ca_pem).decode(),
            },
        }
    ]
    assert doc["users"] == [{"name": "tls-bootstrap-token-user", "user": {"token": TOKEN}}]
    assert doc["contexts"] == [
        {
            "name": "tls-bootstrap-token-user@kubernetes",
            "context": {"cluster": "kubernetes", "user": "tls-bootstrap-token-user"},
        }
    ]


def test_discovery_failure_writes_nothing(tmp_path: Path) -> None:
    cluster = Cluster()
    other_ca = make_ca("other")[0]
    ctx = join_context(tmp_path, cluster, [], **{"discovery-token-ca-cert-hash": [pin(other_ca)]})
    with pytest.raises(PhaseError) as e:
        run(ctx)
    assert "none of the public keys" in str(e.value)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_existing_ready_node_is_refused(tmp_path: Path) -> None:
    cluster = Cluster()
    cluster.api.put(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "node-b"},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        }
    )
    ctx = join_context(tmp_path, cluster, [])
    with pytest.raises(PhaseError, match='a Node with name "node-b" and status "Ready" already exists'):
        run(ctx, only=["kubelet-start"])
    assert not (tmp_path / "etc/kubernetes/bootstrap-kubelet.conf").exists()


def test_tls_bootstrap_wait_is_bounded_and_reports_written_files(tmp_path: Path) -> None:
    with kubelet_healthz() as port:
        cluster = Cluster(healthz_port=port)
        kubelet = FakeKubelet(tmp_path, cluster, bootstraps=False)
        waiter = Waiter(max_timeout=0.3, max_interval=0.01)
        ctx = join_context(tmp_path, cluster, [], kubelet=kubelet, waiter=waiter)
        with pytest.raises(PhaseError) as e:
            run(ctx)
    msg = str(e.value)
    assert "/etc/kubernetes/kubelet.conf not written yet" in msg
    assert "did not complete the TLS bootstrap within 0s" in msg or "within 0s" in msg
    assert "this run already wrote" in msg and "/etc/kubernetes/bootstrap-kubelet.conf" in msg


def test_control_plane_join_needs_control_plane_endpoint(tmp_path: Path) -> None:
    cluster = Cluster(control_plane_endpoint="")
    ctx = join_context(
        tmp_path, cluster, [], control_plane=True, **{"apiserver-advertise-address": "10.0.0.3"}
    )
    with pytest.raises(PhaseError, match="doesn't have a stable controlPlaneEndpoint"):
        run(ctx)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def _upload_certs(cluster: Cluster, tmp_path: Path, key: str) -> None:
    """What `init phase upload-certs` leaves in the cluster, from a control plane's PKI."""
    from tests.unit.cluster.conftest import write_pki

    cp_root = tmp_path / "cp-a"
    cp_root.mkdir()
    write_pki(cp_root)
    cfg = build_config("init", None, {"cluster.kubernetesVersion": "v1.20.2"}, dynamic_defaults=False)
    plain = read_plaintexts(HostFS(rootfs=cp_root), cfg)
    cluster.api.put(certs_secret(plain, bytes.fromhex(key), "abcdef", "uid-1"))
    cluster.plain = plain


def test_wrong_certificate_key_is_refused_cleanly(tmp_path: Path) -> None:
    cluster = Cluster()
    _upload_certs(cluster, tmp_path, create_certificate_key())
    node = tmp_path / "node-c"
    node.mkdir()
    ctx = join_context(
        node,
        cluster,
        [],
        control_plane=True,
        certificate_key=create_certificate_key(),
        **{"apiserver-advertise-address": "10.0.0.3"},
    )
    with pytest.raises(PhaseError, match="message authentication failed"):
        run(ctx)
    assert [p for p in node.rglob("*") if p.is_file()] == []


def test_control_plane_prepare_downloads_and_writes(tmp_path: Path) -> None:
    cluster = Cluster()
    key = create_certificate_key()
    _upload_certs(cluster, tmp_path, key)
    node = tmp_path / "node-c"
    node.mkdir()
    ctx = join_context(
        node,
        cluster,
        [],
        control_plane=True,
        certificate_key=key,
        **{"apiserver-advertise-address": "10.0.0.3"},
    )
    report = run(ctx, only=["control-plane-prepare"])
    statuses = {o.path: o.status for o in report.phases}
    assert "control-plane-prepare/control-plane" not in statuses  # the parent only logs: no line
    assert set(statuses.values()) == {"changed"} and len(statuses) == 14
    fs = HostFS(rootfs=node)
    assert fs.read_bytes("/etc/kubernetes/pki/ca.key") == cluster.plain["ca.key"]
    assert fs.mode("/etc/kubernetes/pki/ca.key") == 0o600
    for f in ("apiserver.crt", "etcd/peer.crt", "etcd/server.crt", "apiserver-etcd-client.crt"):
        assert fs.exists(f"/etc/kubernetes/pki/{f}"), f
    for f in ("admin.conf", "controller-manager.conf", "scheduler.conf"):
        assert fs.exists(f"/etc/kubernetes/{f}"), f
    assert not fs.exists("/etc/kubernetes/super-admin.conf")
    admin = yaml.safe_load(fs.read_text("/etc/kubernetes/admin.conf") or "")
    assert admin["clusters"][0]["cluster"]["server"] == "https://cp.example:6443"
    apiserver = fs.read_text("/etc/kubernetes/manifests/kube-apiserver.yaml") or ""
    assert "--advertise-address=10.0.0.3" in apiserver
    assert "kube-apiserver:v1.20.2" in apiserver  # the cluster's version, not the library default


def test_phase_alone_on_worker_is_skipped_not_failed(tmp_path: Path) -> None:
    cluster = Cluster()
    ctx = join_context(tmp_path, cluster, [])
    report = run(ctx, only=["control-plane-join"])
    assert [(o.path, o.status) for o in report.phases] == [
        ("control-plane-join/mark-control-plane", "skipped")
    ]


def test_fetcher_gets_token_endpoint(tmp_path: Path) -> None:
    ca = make_ca()[0]
    f = FakeFetcher(ca, [cluster_info(cluster_info_kubeconfig(ca))])
    cluster = Cluster()
    cluster.fetcher = f
    ctx = join_context(tmp_path, cluster, [], **{"discovery-token-ca-cert-hash": [pin(ca)]})
    run(ctx, only=["kubelet-start"])
    assert f.calls[0][0] == f"https://{ENDPOINT}"


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    cluster = Cluster()
    ctx = join_context(tmp_path, cluster, [], dry_run=True)
    report = run(ctx)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert any(c.target == "/etc/kubernetes/bootstrap-kubelet.conf" for o in report.phases for c in o.changes)


def test_invalid_config_errors_are_one_line() -> None:
    with pytest.raises(KubeadmError, match="caCertHashes"):
        api.build_context("join", {"api_server_endpoint": ["1.2.3.4:6443"], "token": TOKEN})


def test_unhealthy_kubelet_wait_is_bounded(tmp_path: Path) -> None:
    from .helpers import free_port

    cluster = Cluster(healthz_port=free_port())  # nothing listens there
    ctx = join_context(tmp_path, cluster, [], waiter=Waiter(max_timeout=0.2, max_interval=0.01))
    with pytest.raises(
        PhaseError, match=r"the kubelet is not healthy after 0s: http://127.0.0.1:\d+/healthz"
    ):
        run(ctx)


def test_tls_bootstrap_waits_for_the_node(tmp_path: Path) -> None:
    """kubelet.conf alone is not enough: the Node must be registered (read with the bootstrap token)."""
    with kubelet_healthz() as port:
        cluster = Cluster(healthz_port=port)
        kubelet = FakeKubelet(tmp_path, cluster, bootstraps=False)
        HostFS(rootfs=tmp_path).write("/etc/kubernetes/kubelet.conf", b"kind: Config\n", 0o600)
        ctx = join_context(
            tmp_path, cluster, [], kubelet=kubelet, waiter=Waiter(max_timeout=0.2, max_interval=0.01)
        )
        with pytest.raises(PhaseError, match="Node 'node-b' not registered yet"):
            run(ctx)
        cluster.api.put({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-b"}})
        report = run(ctx, only=["kubelet-wait-bootstrap"])
    assert report.phases[0].status == "changed"
    assert not HostFS(rootfs=tmp_path).exists("/etc/kubernetes/bootstrap-kubelet.conf")


def _api_run(tmp_path: Path, cluster: Cluster, logs: list[str], **options: object) -> RunReport:
    """api.run as an embedding program calls it, with the fakes of join_context as Hooks."""
    from .helpers import Logs, hooks_for

    opts = {
        "api_server_endpoint": [ENDPOINT],
        "token": TOKEN,
        "discovery-token-ca-cert-hash": [pin(cluster.ca_pem)],
        "node-name": "node-b",
        "cri-socket": "unix:///run/containerd/containerd.sock",
        **options,
    }
    return api.run(
        "join",
        rootfs=str(tmp_path),
        skip_phases=["preflight"],
        options=opts,
        reporter=Logs(logs),
        hooks=hooks_for(tmp_path, cluster),
    )


def test_closing_messages_and_outputs(tmp_path: Path) -> None:
    with kubelet_healthz() as port:
        cluster = Cluster(healthz_port=port)
        (tmp_path / "real").mkdir()
        report = _api_run(tmp_path / "real", cluster, [])
        (tmp_path / "dry").mkdir()
        dry = _api_run(tmp_path / "dry", cluster, [], dry_run=True)
    assert report.outputs["messages"][0] == "This node has joined the cluster:"
    assert report.outputs["api_server"] == "https://10.0.0.1:6443"
    assert dry.outputs["messages"] == [api.DRY_RUN_FINISHED]
    assert dry.outputs["api_server"] == "https://10.0.0.1:6443"
    assert not (tmp_path / "dry").exists() or not any(p.is_file() for p in (tmp_path / "dry").rglob("*"))


def test_control_plane_dry_run_contacts_no_etcd_and_waits_for_nothing(tmp_path: Path) -> None:
    from .conftest import FakeEtcd

    cluster = Cluster(version="v1.31.0")
    key = create_certificate_key()
    _upload_certs(cluster, tmp_path, key)
    node = tmp_path / "node-c"
    node.mkdir()
    etcd = FakeEtcd([])
    logs: list[str] = []
    ctx = join_context(
        node,
        cluster,
        logs,
        etcd=lambda endpoints, cert_dir: etcd,
        waiter=Waiter(max_timeout=0.0),  # would fail every wait; a dry run waits for nothing
        dry_run=True,
        control_plane=True,
        certificate_key=key,
        **{"apiserver-advertise-address": "10.0.0.3"},
    )
    report = run(ctx)
    assert etcd.calls == []
    assert "[dryrun] Would add etcd member https://10.0.0.3:2380 as a learner" in logs
    assert "[dryrun] Would wait for the kubelet to perform the TLS bootstrap (up to 5m0s)" in logs
    assert "[dryrun] Would wait for the etcd cluster to be healthy" in logs
    assert [p for p in node.rglob("*") if p.is_file()] == []
    etcd_yaml = next(c for o in report.phases for c in o.changes if c.target.endswith("manifests/etcd.yaml"))
    assert "--initial-cluster-state=existing" in (etcd_yaml.content or "")
    assert "--initial-cluster=node-b=https://10.0.0.3:2380" in (etcd_yaml.content or "")
