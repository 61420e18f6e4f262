"""``upgrade apply`` / ``upgrade node`` through the public API on a node made by the real init phases,
against the in-memory API server, with a fake waiter (both through ``Hooks``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from cryptography import x509

from kubeadm_py.errors import KubeadmError, PhaseError
from tests.unit.upgrade.conftest import BASE_VERSION, FakeWaiter, Node


def config_change(node: Node, tmp_path: Path, *, arg: tuple[str, str], san: str | None = None) -> Path:
    doc = yaml.safe_load(node.stored_cluster())
    doc.setdefault("apiServer", {}).setdefault("extraArgs", []).append({"name": arg[0], "value": arg[1]})
    if san:
        doc["apiServer"]["certSANs"] = [san]
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def san_dns(node: Node) -> list[str]:
    cert = x509.load_pem_x509_certificate(node.path("/etc/kubernetes/pki/apiserver.crt").read_bytes())
    return list(
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName
        )
    )


def backups(node: Node) -> list[Path]:
    return sorted(node.path("/etc/kubernetes/tmp").glob("kubeadm-backup-manifests-*"))


def test_config_change_without_version_change(node: Node, waiter: FakeWaiter, tmp_path: Path) -> None:
    cfg = config_change(node, tmp_path, arg=("audit-log-maxage", "7"), san="api.example.test")
    old_api = node.manifest("kube-apiserver")
    old_cm = node.manifest("kube-controller-manager")
    report = node.run(
        "upgrade-apply",
        options={"version": BASE_VERSION, "config": str(cfg), "yes": True},
    )
    new_api = node.manifest("kube-apiserver")
    assert "- --audit-log-maxage=7" in new_api and "audit-log-maxage" not in old_api
    assert node.manifest("kube-controller-manager") == old_cm  # unchanged components are not touched
    [backup] = backups(node)
    assert (backup / "kube-apiserver.yaml").read_text() == old_api
    assert not (backup / "kube-controller-manager.yaml").exists()
    assert "api.example.test" in san_dns(node)
    stored = yaml.safe_load(node.stored_cluster())
    assert {"name": "audit-log-maxage", "value": "7"} in stored["apiServer"]["extraArgs"]
    assert stored["apiServer"]["certSANs"] == ["api.example.test"]
    assert waiter.calls == [("new-pod", "kube-apiserver"), ("healthy", "kube-apiserver")]
    assert report.outputs["upgraded"] == ["kube-apiserver"]
    assert report.outputs["version"] == BASE_VERSION
    assert any("SUCCESS" in m for m in report.outputs["messages"])


def test_a_flag_file_no_volume_holds_is_refused_before_anything_changes(
    node: Node, waiter: FakeWaiter, tmp_path: Path
) -> None:
    cfg = config_change(node, tmp_path, arg=("audit-policy-file", "/nonexistent"))
    old_api = node.manifest("kube-apiserver")
    with pytest.raises(KubeadmError, match="--audit-policy-file=/nonexistent: no volume of the kube-apiser"):
        node.run("upgrade-apply", options={"version": BASE_VERSION, "config": str(cfg), "yes": True})
    assert node.manifest("kube-apiserver") == old_api and backups(node) == [] and waiter.calls == []


def test_minor_upgrade_rewrites_every_manifest(node: Node, waiter: FakeWaiter) -> None:
    node.run("upgrade-apply", options={"version": "v1.31.14", "yes": True})
    for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        assert f"image: registry.k8s.io/{comp}:v1.31.14" in node.manifest(comp)
    # kubeadm v1.30.14 lists etcd 3.5.15-0 and v1.31.14 3.5.24-0 (kubeadm_py/image_tags.py), and
    # kubeadm 1.31 probes etcd on /livez and /readyz (PR #124465): etcd is upgraded first, as
    # upstream's StaticPodControlPlane does.
    assert "etcd:3.5.24-0" in node.manifest("etcd") and "path: /livez" in node.manifest("etcd")
    assert [c[1] for c in waiter.calls if c[0] == "new-pod"] == [
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
    ]
    assert yaml.safe_load(node.stored_cluster())["kubernetesVersion"] == "v1.31.14"
    assert node.api.obj("ConfigMap", "kubelet-config", "kube-system") is not None
    assert node.path("/var/lib/kubelet/config.yaml").exists()


def test_broken_component_is_rolled_back(node: Node, tmp_path: Path) -> None:
    node.waiter = FakeWaiter(broken={"kube-apiserver"})
    cfg = config_change(node, tmp_path, arg=("no-such-flag", "1"))
    before = node.manifest("kube-apiserver")
    with pytest.raises(PhaseError) as exc:
        node.run(
            "upgrade-apply",
            options={"version": BASE_VERSION, "config": str(cfg), "yes": True},
        )
    assert exc.value.path == "control-plane"
    assert "the upgrade of kube-apiserver failed" in str(exc.value)
    assert "rolled back the manifests of kube-apiserver" in str(exc.value)
    assert node.manifest("kube-apiserver") == before
    # the stored configuration was not changed: upload-config never ran
    assert "no-such-flag" not in node.stored_cluster()


def test_dry_run_changes_nothing_and_prints_diffs(node: Node, tmp_path: Path) -> None:
    cfg = config_change(node, tmp_path, arg=("audit-log-maxage", "7"), san="api.example.test")
    before = {p: p.read_bytes() for p in node.root.rglob("*") if p.is_file()}
    messages: list[str] = []

    class Rep:
        def phase_started(self, path: str) -> None: ...
        def phase_finished(self, outcome: object) -> None: ...
        def message(self, text: str) -> None:
            messages.append(text)

    report = node.run(
        "upgrade-apply",
        dry_run=True,
        options={"version": BASE_VERSION, "config": str(cfg), "print-config": True},
        reporter=Rep(),  # type: ignore[arg-type]
    )
    after = {p: p.read_bytes() for p in node.root.rglob("*") if p.is_file()}
    assert before == after
    text = "\n".join(messages)
    assert "+    - --audit-log-maxage=7" in text
    assert "Would wait for the kubelet to restart kube-apiserver" in text
    # --print-config
    assert "kind: ClusterConfiguration" in text and "certSANs:\n  - api.example.test" in text
    targets = [c.target for o in report.phases for c in o.changes]
    assert "/etc/kubernetes/manifests/kube-apiserver.yaml" in targets
    assert "ConfigMap kube-system/kubeadm-config" in targets


def test_missing_version_is_a_clear_error(node: Node) -> None:
    with pytest.raises(KubeadmError, match="missing the version to upgrade to"):
        node.run("upgrade-apply", options={"yes": True})


def test_policy_refusal_stops_before_any_change(node: Node, waiter: FakeWaiter) -> None:
    before = node.manifest("kube-apiserver")
    with pytest.raises(PhaseError, match=r"too high; kubeadm can upgrade only 1 minor version"):
        node.run("upgrade-apply", options={"version": "v1.32.10", "yes": True})
    assert node.manifest("kube-apiserver") == before
    assert waiter.calls == []


def test_certificate_renewal_false_keeps_certificates(node: Node, waiter: FakeWaiter) -> None:
    crt = node.path("/etc/kubernetes/pki/apiserver-kubelet-client.crt").read_bytes()
    node.run(
        "upgrade-apply",
        options={"version": "v1.31.14", "yes": True, "certificate-renewal": "false"},
    )
    assert node.path("/etc/kubernetes/pki/apiserver-kubelet-client.crt").read_bytes() == crt


def test_certificate_renewal_on_by_default(node: Node, waiter: FakeWaiter) -> None:
    crt = node.path("/etc/kubernetes/pki/apiserver-kubelet-client.crt").read_bytes()
    admin = node.path("/etc/kubernetes/admin.conf").read_bytes()
    node.run("upgrade-apply", options={"version": "v1.31.14", "yes": True})
    assert node.path("/etc/kubernetes/pki/apiserver-kubelet-client.crt").read_bytes() != crt
    assert node.path("/etc/kubernetes/admin.conf").read_bytes() != admin


def test_bad_certificate_renewal_value(node: Node, waiter: FakeWaiter) -> None:
    with pytest.raises(KubeadmError, match=r"certificate-renewal: 'maybe' is not a boolean"):
        node.run(
            "upgrade-apply",
            options={"version": BASE_VERSION, "certificate-renewal": "maybe"},
        )


@pytest.mark.parametrize("how", ["disabled", "removed"])
def test_addons_not_redeployed_when_disabled_or_removed(
    node: Node, waiter: FakeWaiter, tmp_path: Path, how: str
) -> None:
    doc = yaml.safe_load(node.stored_cluster())
    node.api.put(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "coredns", "namespace": "kube-system"},
            "data": {"Corefile": ".:53 {}"},
        }
    )
    if how == "disabled":
        node.api.put(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
                "data": {},
            }
        )
        doc["proxy"] = {"disabled": True}
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(doc))
    report = node.run(
        "upgrade-apply",
        options={"version": "v1.31.14", "config": str(cfg), "yes": True},
    )
    assert node.api.obj("DaemonSet", "kube-proxy", "kube-system") is None
    assert node.api.obj("Deployment", "coredns", "kube-system") is not None  # CoreDNS is upgraded
    note = next(o for o in report.phases if o.path == "addon/kube-proxy").changes[0].detail
    assert (
        ("proxy.disabled" in note) if how == "disabled" else ("kube-system/kube-proxy does not exist" in note)
    )


def test_upgrade_node_on_a_worker_writes_only_the_kubelet_config(node: Node, waiter: FakeWaiter) -> None:
    for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"):
        node.path(f"/etc/kubernetes/manifests/{comp}.yaml").unlink()
    kubelet_cfg = node.path("/var/lib/kubelet/config.yaml")
    kubelet_cfg.parent.mkdir(parents=True, exist_ok=True)
    kubelet_cfg.write_text("kind: KubeletConfiguration\nold: true\n")
    node.api.put(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "kubelet-config", "namespace": "kube-system"},
            "data": {
                "kubelet": "apiVersion: kubelet.config.k8s.io/v1beta1\n"
                "kind: KubeletConfiguration\nmaxPods: 42\n"
            },
        }
    )
    report = node.run("upgrade-node", options={})
    assert "maxPods: 42" in kubelet_cfg.read_text()
    [backup] = node.path("/etc/kubernetes/tmp").glob("kubeadm-kubelet-config*/config.yaml")
    assert backup.read_text() == "kind: KubeletConfiguration\nold: true\n"
    assert waiter.calls == []
    assert next(o for o in report.phases if o.path == "control-plane").status == "unchanged"


def test_single_phase_takes_the_version_from_the_upgrade_configuration(
    node: Node, waiter: FakeWaiter, tmp_path: Path
) -> None:
    cfg = tmp_path / "upgrade.yaml"
    cfg.write_text(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: UpgradeConfiguration\n"
        "apply:\n  kubernetesVersion: v1.31.14\n"
    )
    report = node.run("upgrade-apply", phases=["control-plane"], options={"config": str(cfg)})
    assert [o.path for o in report.phases] == ["control-plane"]
    assert "kube-scheduler:v1.31.14" in node.manifest("kube-scheduler")
    # only the selected phase ran: the stored configuration is still the old one
    assert yaml.safe_load(node.stored_cluster())["kubernetesVersion"] == BASE_VERSION


def test_upgrade_node_on_a_control_plane_follows_the_stored_version(node: Node, waiter: FakeWaiter) -> None:
    node.run("upgrade-apply", options={"version": "v1.31.14", "yes": True})
    waiter.calls.clear()
    report = node.run("upgrade-node", options={})
    # already at the stored version: nothing to swap, nothing waited for
    assert waiter.calls == []
    assert sorted(report.outputs["unchanged"]) == [
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
    ]
    assert report.outputs["version"] == "v1.31.14"


def test_cli_dry_run_prints_the_manifest_diff(
    node: Node, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kubeadm_py.cli.main import main

    node.route_cli(monkeypatch)
    cfg = config_change(node, tmp_path, arg=("audit-log-maxage", "7"))
    before = node.manifest("kube-apiserver")
    code = main(
        ["upgrade", "apply", BASE_VERSION, "--config", str(cfg), "--rootfs", str(node.root), "--dry-run"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "+    - --audit-log-maxage=7" in out
    assert node.manifest("kube-apiserver") == before


def test_etcd_snapshot_before_etcd_restarts(node: Node, waiter: FakeWaiter, tmp_path: Path) -> None:
    doc = yaml.safe_load(node.stored_cluster())
    local = doc.setdefault("etcd", {}).setdefault("local", {})
    local.setdefault("extraArgs", []).append({"name": "heartbeat-interval", "value": "250"})
    cfg = tmp_path / "cluster.yaml"
    cfg.write_text(yaml.safe_dump(doc))
    report = node.run("upgrade-apply", options={"version": BASE_VERSION, "config": str(cfg), "yes": True})
    assert "--heartbeat-interval=250" in node.manifest("etcd")
    [(endpoints, cert_dir, dest)] = node.etcd.saved
    assert endpoints == ["https://10.0.0.1:2379"] and cert_dir == "/etc/kubernetes/pki"
    named = report.outputs["etcd_snapshot"]
    assert named.startswith("/etc/kubernetes/tmp/kubeadm-etcd-snapshot-") and dest == node.path(named)
    # the snapshot came before etcd's manifest was swapped: the first wait is etcd's new Pod
    assert waiter.calls[0] == ("new-pod", "etcd")


def test_no_etcd_snapshot_when_etcd_is_not_touched(node: Node, waiter: FakeWaiter, tmp_path: Path) -> None:
    cfg = config_change(node, tmp_path, arg=("audit-log-maxage", "7"))
    report = node.run("upgrade-apply", options={"version": BASE_VERSION, "config": str(cfg), "yes": True})
    assert node.etcd.saved == [] and "etcd_snapshot" not in report.outputs


def test_an_unreachable_etcd_is_a_warning_not_a_stop(node: Node, waiter: FakeWaiter, tmp_path: Path) -> None:
    from kubeadm_py.etcd.client import EtcdError

    def unreachable(dest: Path) -> None:
        raise EtcdError("etcd snapshot: no endpoint answered (https://10.0.0.1:2379: Connection refused)")

    node.etcd.save_snapshot = unreachable  # type: ignore[method-assign]
    doc = yaml.safe_load(node.stored_cluster())
    doc.setdefault("etcd", {}).setdefault("local", {}).setdefault("extraArgs", []).append(
        {"name": "heartbeat-interval", "value": "250"}
    )
    cfg = tmp_path / "cluster.yaml"
    cfg.write_text(yaml.safe_dump(doc))
    report = node.run("upgrade-apply", options={"version": BASE_VERSION, "config": str(cfg), "yes": True})
    assert "--heartbeat-interval=250" in node.manifest("etcd")
    assert "etcd_snapshot" not in report.outputs
