"""The config API against real v1.20.2 components from the test bed (testbed/build.sh):

* the reference kubeadm's own v1beta2 output (`config print init-defaults/join-defaults
  --component-configs ...`) is accepted by our loader, converts to v1beta4 and defaults to the same
  values; our v1beta2 sample files are accepted by the reference kubeadm;
* the real kubelet loads the KubeletConfiguration we generate (it fails afterwards only on a
  deliberately invalid flag, before doing anything to the host);
* the real kube-proxy loads the KubeProxyConfiguration we generate and writes it back
  (`--write-config-to`, which exits before touching iptables).

Skipped with a reason when a binary is absent. Every process is bounded by a timeout."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from kubeadm_py.config.componentconfigs import default_kubelet_config, default_kubeproxy_config
from kubeadm_py.config.resolve import build_config, migrate, validate

pytestmark = pytest.mark.integration

BIN = Path(os.environ.get("KUBEADM_PY_TESTBED_CACHE", "/var/cache/kubeadm-py-testbed")) / "bin"
DATA = Path(__file__).resolve().parent.parent / "unit" / "config" / "data"


class _Probe:
    warnings: list[str] = []

    def hostname(self) -> str:
        return "node-1"

    def advertise_address(self) -> str:
        return "10.0.0.5"

    def cri_socket(self) -> str:
        return "unix:///run/containerd/containerd.sock"


def _binary(name: str) -> Path:
    path = BIN / name
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} is absent (build the test bed with testbed/build.sh)")
    return path


def _run(args: list[str], timeout: float = 60, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload,no-any-return]
        args, capture_output=True, text=True, errors="replace", timeout=timeout, check=False, **kw
    )


@pytest.mark.parametrize("which", ["init", "join"])
def test_reference_kubeadm_defaults_load_and_convert(which: str) -> None:
    kubeadm = _binary("kubeadm")
    args = [str(kubeadm), "config", "print", f"{which}-defaults"]
    if which == "init":
        args += ["--component-configs", "KubeletConfiguration,KubeProxyConfiguration"]
    res = _run(args)
    assert res.returncode == 0, res.stderr
    text = res.stdout
    assert "kubeadm.k8s.io/v1beta2" in text
    warnings = validate(text=text, source="kubeadm-v1.20")
    assert any("deprecated API version kubeadm.k8s.io/v1beta2" in w for w in warnings)
    upstream = {d["kind"]: d for d in yaml.safe_load_all(text)}
    migrated = migrate(text)
    assert "v1beta2" not in migrated
    validate(text=migrated)
    cfg = build_config(which, text, probe=_Probe())  # type: ignore[arg-type]
    if which == "init":
        up_cluster, up_init = upstream["ClusterConfiguration"], upstream["InitConfiguration"]
        assert cfg.cluster["networking"]["serviceSubnet"] == up_cluster["networking"]["serviceSubnet"]
        assert cfg.cluster["networking"]["dnsDomain"] == up_cluster["networking"]["dnsDomain"]
        assert cfg.cert_dir == up_cluster["certificatesDir"]
        assert cfg.cluster["etcd"]["local"]["dataDir"] == up_cluster["etcd"]["local"]["dataDir"]
        assert cfg.kubernetes_version == up_cluster["kubernetesVersion"]
        assert cfg.bind_port == up_init["localAPIEndpoint"]["bindPort"]
        assert cfg.init is not None
        ours, theirs = cfg.init["bootstrapTokens"][0], up_init["bootstrapTokens"][0]
        assert (ours["ttl"], ours["usages"], ours["groups"]) == (
            theirs["ttl"],
            theirs["usages"],
            theirs["groups"],
        )
        assert (
            cfg.init["timeouts"]["controlPlaneComponentHealthCheck"]
            == up_cluster["apiServer"]["timeoutForControlPlane"]
        )
        assert cfg.node_registration["taints"] == up_init["nodeRegistration"]["taints"]
        # The kubelet/kube-proxy documents kubeadm v1.20 prints pass through and are accepted.
        assert cfg.kubelet is not None and cfg.kubelet["clusterDNS"] == ["10.96.0.10"]
        assert cfg.kubeproxy is not None
        # Without the kubelet document, our defaults for v1.20 are exactly what kubeadm v1.20 prints.
        bare = "---\n".join(
            yaml.safe_dump(upstream[k]) for k in ("InitConfiguration", "ClusterConfiguration")
        )
        assert (
            default_kubelet_config(build_config("init", bare, probe=_Probe()))
            == upstream["KubeletConfiguration"]
        )
        assert (
            default_kubeproxy_config(build_config("init", bare, probe=_Probe()))
            == upstream["KubeProxyConfiguration"]
        )
        ours_kc = default_kubelet_config(cfg)
        for key in (
            "staticPodPath",
            "clusterDomain",
            "healthzBindAddress",
            "healthzPort",
            "rotateCertificates",
            "authentication",
            "authorization",
            "clusterDNS",
        ):
            assert ours_kc[key] == upstream["KubeletConfiguration"][key], key
    else:
        up_join = upstream["JoinConfiguration"]
        assert cfg.join is not None
        assert cfg.join["caCertPath"] == up_join["caCertPath"]
        assert cfg.join["discovery"]["bootstrapToken"] == up_join["discovery"]["bootstrapToken"]
        assert cfg.join["discovery"]["tlsBootstrapToken"] == up_join["discovery"]["tlsBootstrapToken"]
        assert cfg.join["timeouts"]["discovery"] == up_join["discovery"]["timeout"]


@pytest.mark.parametrize("name", ["v1beta2-init.yaml", "v1beta2-join.yaml"])
def test_reference_kubeadm_accepts_our_v1beta2_samples(tmp_path: Path, name: str) -> None:
    """Our v1beta2 fixtures are real v1beta2 (kubeadm v1.20 reads them without complaint)."""
    kubeadm = _binary("kubeadm")
    out = tmp_path / "out.yaml"
    res = _run(
        [str(kubeadm), "config", "migrate", "--old-config", str(DATA / name), "--new-config", str(out)]
    )
    assert res.returncode == 0, res.stderr
    assert "kubeadm.k8s.io/v1beta2" in out.read_text()


def test_kubelet_v120_loads_our_kubelet_config(tmp_path: Path) -> None:
    kubelet = _binary("kubelet")
    text = (DATA / "v1beta3-init.yaml").read_text().replace("v1.30.2", "v1.20.2")
    cfg = build_config("init", text, {"cluster.networking.serviceSubnet": "10.100.0.0/16"}, probe=_Probe())
    doc = default_kubelet_config(cfg)
    assert "cgroupDriver" in doc  # the user's systemd value is kept
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=True))
    # The config file is loaded first; the invalid flag then fails validation and the kubelet exits
    # before it touches the host.
    res = _run([str(kubelet), f"--config={path}", "--healthz-port=-1", "--v=2"], timeout=60)
    output = res.stdout + res.stderr
    assert res.returncode != 0
    assert "failed to load Kubelet config file" not in output, output[-2000:]
    assert "strict decoding" not in output and "unknown field" not in output, output[-2000:]
    assert "healthzPort (--healthz-port) -1" in output, output[-2000:]
    # Control: a config file the kubelet cannot decode fails at the loading step.
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nhealthzPort: x\n")
    res = _run([str(kubelet), f"--config={bad}", "--healthz-port=-1"], timeout=60)
    assert "failed to load Kubelet config file" in res.stdout + res.stderr


def test_kube_proxy_v120_loads_our_config(tmp_path: Path) -> None:
    proxy = _binary("kube-proxy")
    cfg = build_config(
        "init",
        None,
        {"cluster.networking.podSubnet": "10.244.0.0/16", "cluster.kubernetesVersion": "v1.20.2"},
        probe=_Probe(),
    )
    cfg.kubeproxy = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
    }
    doc = default_kubeproxy_config(cfg)
    path, out = tmp_path / "config.conf", tmp_path / "written.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=True))
    res = _run([str(proxy), f"--config={path}", f"--write-config-to={out}"], timeout=60)
    assert res.returncode == 0, (res.stdout + res.stderr)[-2000:]
    written = yaml.safe_load(out.read_text())
    assert written["bindAddress"] == "0.0.0.0"
    assert written["clusterCIDR"] == "10.244.0.0/16"
    assert written["clientConnection"]["kubeconfig"] == "/var/lib/kube-proxy/kubeconfig.conf"
    assert written["mode"] == "iptables"
