"""The phase builders run against a --rootfs directory, in apply and dry-run mode, and
wait-control-plane against real local HTTP(S) health servers."""

from __future__ import annotations

import datetime
import http.server
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from kubeadm_py.effectors.bundle import Hooks
from kubeadm_py.errors import KubeadmError
from kubeadm_py.phases.context import RunContext
from kubeadm_py.phases.init.etcd import etcd_phase
from kubeadm_py.phases.shared.control_plane import control_plane_phase
from kubeadm_py.phases.shared.kubelet_start import kubelet_start_phase
from kubeadm_py.phases.shared.wait_control_plane import wait_control_plane_phase
from kubeadm_py.workflow.phase import flatten
from tests.unit import runctx
from tests.unit.runctx import FakeServices

from .helpers import make_cfg


def ctx_for(
    tmp_path: Path, cfg=None, dry_run=False, services=None, **opts
) -> tuple[RunContext, list[str]]:
    (tmp_path / "root").mkdir(parents=True, exist_ok=True)
    hooks = Hooks(services=services or FakeServices("tini"))
    return runctx.build(cfg or make_cfg(), tmp_path / "root", dry_run=dry_run, hooks=hooks, **opts)


def run_all(phase, ctx):
    for f in flatten((phase,)):
        if f.phase.run:
            f.phase.run(ctx)


def test_phase_tree_and_flags():
    paths = [f.path for f in flatten((etcd_phase(), control_plane_phase()))]
    assert paths == [
        "etcd",
        "etcd/local",
        "control-plane",
        "control-plane/apiserver",
        "control-plane/controller-manager",
        "control-plane/scheduler",
    ]
    api = control_plane_phase().children[0]
    assert {"apiserver-advertise-address", "feature-gates", "patches", "service-cidr"} <= set(api.flags)
    from kubeadm_py.options import FLAGS

    for p in (
        etcd_phase().children[0],
        *control_plane_phase().children,
        kubelet_start_phase(),
        wait_control_plane_phase(),
    ):
        assert set(p.flags) <= set(FLAGS), p.name


def test_manifests_written_with_mode_0600(tmp_path):
    ctx, logs = ctx_for(tmp_path)
    run_all(etcd_phase(), ctx)
    run_all(control_plane_phase(), ctx)
    man = tmp_path / "root/etc/kubernetes/manifests"
    assert sorted(p.name for p in man.iterdir()) == [
        "etcd.yaml",
        "kube-apiserver.yaml",
        "kube-controller-manager.yaml",
        "kube-scheduler.yaml",
    ]
    for p in man.iterdir():
        assert p.stat().st_mode & 0o777 == 0o600
        assert yaml.safe_load(p.read_text())["kind"] == "Pod"
    assert man.stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "root/var/lib/etcd").stat().st_mode & 0o777 == 0o700
    assert '[control-plane] Creating static Pod manifest for "kube-apiserver"' in logs
    # idempotent: a second run changes nothing
    before = {p.name: p.read_bytes() for p in man.iterdir()}
    ctx2, _ = ctx_for(tmp_path)
    run_all(control_plane_phase(), ctx2)
    assert all(c.action == "unchanged" for c in ctx2.fs.changes if c.kind == "file")
    assert before == {p.name: p.read_bytes() for p in man.iterdir()}


def test_dry_run_writes_only_to_memory(tmp_path):
    ctx, _ = ctx_for(tmp_path, dry_run=True)
    run_all(control_plane_phase(), ctx)
    assert not (tmp_path / "root/etc/kubernetes/manifests").exists()
    assert ctx.fs.read_bytes("/etc/kubernetes/manifests/kube-scheduler.yaml")
    assert any(
        c.target == "/etc/kubernetes/manifests/kube-scheduler.yaml" and c.content for c in ctx.fs.changes
    )  # noqa: E501


def test_patches_applied_from_option(tmp_path):
    pdir = tmp_path / "root/patches"
    pdir.mkdir(parents=True)
    (pdir / "kube-scheduler+merge.yaml").write_text("metadata:\n  annotations:\n    team: infra\n")
    ctx, logs = ctx_for(tmp_path, patches="/patches")
    run_all(control_plane_phase(), ctx)
    pod = yaml.safe_load((tmp_path / "root/etc/kubernetes/manifests/kube-scheduler.yaml").read_text())
    assert pod["metadata"]["annotations"] == {"team": "infra"}
    assert "[patches] Reading patches from path '/patches'" in logs


def test_unknown_extra_arg_warning_logged(tmp_path):
    cfg = make_cfg(cluster={"controllerManager": {"extraArgs": [{"name": "contollers", "value": "*"}]}})
    ctx, logs = ctx_for(tmp_path, cfg)
    run_all(control_plane_phase(), ctx)
    assert any("WARNING" in m and "contollers" in m for m in logs)


def test_external_etcd_skips_local_manifest(tmp_path):
    cfg = make_cfg(cluster={"etcd": {"external": {"endpoints": ["https://e:2379"]}}})
    del cfg.cluster["etcd"]["local"]
    ctx, logs = ctx_for(tmp_path, cfg)
    run_all(etcd_phase(), ctx)
    assert not (tmp_path / "root/etc/kubernetes/manifests/etcd.yaml").exists()
    assert any("External etcd mode" in m for m in logs)


def test_kubelet_start_without_systemd(tmp_path):
    pdir = tmp_path / "root/patches"
    pdir.mkdir(parents=True)
    (pdir / "kubeletconfiguration.yaml").write_text("maxPods: 42\nclusterDNS: [10.96.0.53]\n")
    (tmp_path / "root/proc/1").mkdir(parents=True)
    (tmp_path / "root/proc/1/comm").write_text("tini\n")
    ctx, logs = ctx_for(tmp_path, make_cfg("v1.20.2"), patches="/patches")
    kubelet_start_phase().run(ctx)  # type: ignore[misc]
    kdir = tmp_path / "root/var/lib/kubelet"
    conf = yaml.safe_load((kdir / "config.yaml").read_text())
    assert conf["maxPods"] == 42 and conf["clusterDNS"] == ["10.96.0.53"]  # lists replaced, as upstream
    assert conf["kind"] == "KubeletConfiguration" and conf["staticPodPath"] == "/etc/kubernetes/manifests"
    assert (kdir / "config.yaml").stat().st_mode & 0o777 == 0o644
    env = (kdir / "kubeadm-flags.env").read_text()
    assert env.startswith('KUBELET_KUBEADM_ARGS="--container-runtime=remote --container-runtime-endpoint=')
    assert any("PID 1 is 'tini', not systemd" in m for m in logs)
    assert any(
        m.strip().startswith("[kubelet-start]   kubelet --bootstrap-kubeconfig=")
        and "--container-runtime=remote" in m
        for m in logs
    )


def test_kubelet_start_stops_then_restarts_through_systemd(tmp_path):
    services = FakeServices("systemd", active={"kubelet"})
    ctx, logs = ctx_for(tmp_path, make_cfg("v1.20.2"), services=services)
    changes = kubelet_start_phase().run(ctx)  # type: ignore[misc]
    assert services.calls == ["stop kubelet", "restart kubelet"]
    assert [c.target for c in changes if c.kind == "process"] == [
        "systemctl stop kubelet",
        "systemctl restart kubelet",
    ]
    assert "[kubelet-start] Starting the kubelet" in logs


def test_kubelet_start_failures_are_warnings(tmp_path):
    services = FakeServices("systemd", active={"kubelet"}, fail="unit masked")
    ctx, logs = ctx_for(tmp_path, make_cfg("v1.20.2"), services=services)
    changes = kubelet_start_phase().run(ctx)  # type: ignore[misc]
    assert "[kubelet-start] WARNING: could not stop the kubelet: unit masked" in logs
    assert "[kubelet-start] WARNING: unable to start the kubelet service: unit masked" in logs
    assert changes[-1].detail == "failed: unit masked"


def test_kubelet_start_under_rootfs_leaves_this_machines_kubelet_alone(tmp_path):
    (tmp_path / "root").mkdir()
    ctx, logs = runctx.build(make_cfg("v1.20.2"), tmp_path / "root")  # the real service manager
    kubelet_start_phase().run(ctx)  # type: ignore[misc]
    assert any("under --rootfs" in m and "not starting the kubelet" in m for m in logs)


def test_dry_run_kubelet_start_only_says_it_would_restart(tmp_path):
    services = FakeServices("systemd", active={"kubelet"})
    ctx, logs = ctx_for(tmp_path, make_cfg("v1.20.2"), dry_run=True, services=services)
    kubelet_start_phase().run(ctx)  # type: ignore[misc]
    assert services.calls == []
    assert "[dryrun] Would stop the kubelet (systemctl stop kubelet)" in logs
    assert "[dryrun] Would restart the kubelet (systemctl restart kubelet)" in logs
    assert not (tmp_path / "root/var/lib/kubelet").exists()


# --- wait-control-plane ------------------------------------------------------------------------------


def _self_signed(tmp_path: Path) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    c, k = tmp_path / "tls.crt", tmp_path / "tls.key"
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    k.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(c), str(k)


@contextmanager
def health_server(status: dict[str, int], tls: tuple[str, str] | None = None) -> Iterator[int]:
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            code = status.get(self.path, 404)
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b"ok" if code == 200 else b"[-]etcd failed")

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    if tls:
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(*tls)
        srv.socket = sctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield srv.server_address[1]
    finally:
        srv.shutdown()
        srv.server_close()


def _wait_setup(tmp_path, api_port, kcm_port, sched_port, kubelet_port, timeout="3s", dry_run=False):
    cfg = make_cfg(
        "v1.32.10",
        cluster={
            "controllerManager": {"extraArgs": [{"name": "secure-port", "value": str(kcm_port)}]},
            "scheduler": {"extraArgs": [{"name": "secure-port", "value": str(sched_port)}]},
        },
        init={
            "localAPIEndpoint": {"advertiseAddress": "127.0.0.1", "bindPort": api_port},
            "timeouts": {"controlPlaneComponentHealthCheck": timeout, "kubeletHealthCheck": timeout},
        },
    )
    ctx, logs = ctx_for(tmp_path, cfg, dry_run=dry_run)
    run_all(control_plane_phase(), ctx)
    kdir = tmp_path / "root/var/lib/kubelet"
    kdir.mkdir(parents=True, exist_ok=True)
    (kdir / "config.yaml").write_text(f"healthzBindAddress: 127.0.0.1\nhealthzPort: {kubelet_port}\n")
    return ctx, logs


def test_wait_control_plane_healthy(tmp_path):
    tls = _self_signed(tmp_path)
    with (
        health_server({"/healthz": 200}) as kport,
        health_server({"/livez": 200}, tls) as aport,
        health_server({"/healthz": 200}, tls) as cport,
        health_server({"/livez": 200}, tls) as sport,
    ):
        ctx, logs = _wait_setup(tmp_path, aport, cport, sport, kport)
        wait_control_plane_phase().run(ctx)  # type: ignore[misc]
    assert any(m.startswith("[kubelet-check] kubelet is healthy after") for m in logs)
    for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        assert any(m.startswith(f"[control-plane-check] {comp} is healthy after") for m in logs), comp
    assert f"[control-plane-check] Checking kube-apiserver at https://127.0.0.1:{aport}/livez" in logs


def test_wait_control_plane_timeout_names_unhealthy_components(tmp_path):
    tls = _self_signed(tmp_path)
    with (
        health_server({"/healthz": 200}) as kport,
        health_server({"/livez": 200}, tls) as aport,
        health_server({"/healthz": 500}, tls) as cport,
    ):
        ctx, _ = _wait_setup(tmp_path, aport, cport, 1, kport, timeout="2s")
        with pytest.raises(KubeadmError) as e:
            wait_control_plane_phase().run(ctx)  # type: ignore[misc]
    msg = str(e.value)
    assert "not healthy after 2s" in msg
    assert "kube-controller-manager" in msg and "HTTP 500" in msg
    assert "kube-scheduler" in msg and "kube-apiserver (" not in msg
    assert "crictl" in msg and "journalctl -xeu kubelet" in msg


def test_wait_control_plane_kubelet_down(tmp_path):
    ctx, _ = _wait_setup(tmp_path, 1, 1, 1, 1, timeout="1s")
    with pytest.raises(
        KubeadmError, match=r"the kubelet is not healthy after 1s: http://127\.0\.0\.1:1/healthz"
    ):
        wait_control_plane_phase().run(ctx)  # type: ignore[misc]


def test_wait_control_plane_dry_run(tmp_path):
    ctx, logs = _wait_setup(tmp_path, 6443, 10257, 10259, 10248, dry_run=True)
    assert wait_control_plane_phase().run(ctx) == []  # type: ignore[misc]
    assert (
        "[dryrun] Would wait for the kubelet to be healthy at http://127.0.0.1:10248/healthz (up to 3s)"
        in logs
    )  # noqa: E501
    assert any(
        "Would wait for kube-scheduler to be healthy at https://127.0.0.1:10259/livez" in m for m in logs
    )  # noqa: E501


def test_wait_uses_healthz_for_1_20_scheduler(tmp_path):
    ctx, logs = ctx_for(tmp_path, make_cfg("v1.20.2"), dry_run=True)
    run_all(control_plane_phase(), ctx)
    wait_control_plane_phase().run(ctx)  # type: ignore[misc]
    assert any("kube-scheduler to be healthy at https://127.0.0.1:10259/healthz" in m for m in logs)
    assert any("kube-apiserver to be healthy at https://10.0.0.5:6443/livez" in m for m in logs)
