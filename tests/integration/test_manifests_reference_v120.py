"""Our v1.20 static Pods and kubelet files against the ones the reference kubeadm v1.20.2 writes for
the same configuration (`kubeadm --rootfs <dir> init phase control-plane all / etcd local /
kubelet-start --config <v1beta2>`).

Run as root (kubeadm --rootfs chroots). Skipped with a reason when the test bed's kubeadm binary
(/var/cache/kubeadm-py-testbed/bin/kubeadm, built by testbed/build.sh) is absent.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeadm_py import api
from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.phases.init.etcd import etcd_phase
from kubeadm_py.phases.shared.certs import certs_phase
from kubeadm_py.phases.shared.control_plane import control_plane_phase
from kubeadm_py.phases.shared.kubeconfig import kubeconfig_phase
from kubeadm_py.phases.shared.kubelet_start import kubelet_start_phase
from kubeadm_py.workflow.phase import flatten

pytestmark = pytest.mark.integration

KUBEADM = Path(os.environ.get("KUBEADM_REFERENCE", "/var/cache/kubeadm-py-testbed/bin/kubeadm"))
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")

# Differences we make on purpose, as (component, dotted field path, reason). Empty paths mean none.
INTENDED_DIFFERENCES: list[tuple[str, str, str]] = []

# Two scenarios: the defaults, and one exercising extraArgs/extraVolumes/podSubnet/feature gates/patches.
SCENARIOS: dict[str, dict[str, Any]] = {
    "defaults": {"v1beta2_cluster": {}, "v1beta4_cluster": {}, "patches": {}},
    "extras": {
        "v1beta2_cluster": {
            "networking": {"podSubnet": "10.244.0.0/16"},
            "featureGates": {"IPv6DualStack": False},
            "apiServer": {
                "extraArgs": {
                    "audit-log-maxage": "30",
                    "enable-admission-plugins": "NodeRestriction,PodNodeSelector",
                },
                "extraVolumes": [
                    {
                        "name": "audit",
                        "hostPath": "/var/log/kubernetes",
                        "mountPath": "/var/log/kubernetes",
                        "pathType": "DirectoryOrCreate",
                    },
                    {
                        "name": "ca-certs",
                        "hostPath": "/etc/pki/tls/certs",
                        "mountPath": "/etc/ssl/certs",
                        "readOnly": True,
                    },
                ],
            },
            "controllerManager": {
                "extraArgs": {"bind-address": "0.0.0.0", "flex-volume-plugin-dir": "/opt/flex"}
            },
            "scheduler": {"extraArgs": {"v": "2"}},
            "etcd": {
                "local": {
                    "dataDir": "/data/etcd",
                    "extraArgs": {"listen-metrics-urls": "http://127.0.0.1:2382"},
                }
            },
        },
        "v1beta4_cluster": {
            "networking": {"podSubnet": "10.244.0.0/16"},
            "featureGates": {"IPv6DualStack": False},
            "apiServer": {
                "extraArgs": [
                    {"name": "audit-log-maxage", "value": "30"},
                    {"name": "enable-admission-plugins", "value": "NodeRestriction,PodNodeSelector"},
                ],
                "extraVolumes": [
                    {
                        "name": "audit",
                        "hostPath": "/var/log/kubernetes",
                        "mountPath": "/var/log/kubernetes",
                        "pathType": "DirectoryOrCreate",
                    },
                    {
                        "name": "ca-certs",
                        "hostPath": "/etc/pki/tls/certs",
                        "mountPath": "/etc/ssl/certs",
                        "readOnly": True,
                    },
                ],
            },
            "controllerManager": {
                "extraArgs": [
                    {"name": "bind-address", "value": "0.0.0.0"},
                    {"name": "flex-volume-plugin-dir", "value": "/opt/flex"},
                ]
            },
            "scheduler": {"extraArgs": [{"name": "v", "value": "2"}]},
            "etcd": {
                "local": {
                    "dataDir": "/data/etcd",
                    "extraArgs": [{"name": "listen-metrics-urls", "value": "http://127.0.0.1:2382"}],
                }
            },
        },
        "patches": {
            "kube-scheduler+json.yaml": "- op: add\n  path: /metadata/annotations\n  value: {team: infra}\n",
            "etcd.yaml": "spec:\n  containers:\n  - name: etcd\n    resources:\n      requests:\n        cpu: 200m\n",  # noqa: E501
        },
    },
}


def _merge(dst: dict[str, Any], src: dict[str, Any]) -> dict[str, Any]:
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(dst[k], v)
        else:
            dst[k] = v
    return dst


def _base_cluster() -> dict[str, Any]:
    return {
        "kubernetesVersion": "v1.20.2",
        "imageRepository": "registry.k8s.io",
        "certificatesDir": "/etc/kubernetes/pki",
        "clusterName": "kubernetes",
        "networking": {"serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"},
        "etcd": {"local": {"dataDir": "/var/lib/etcd"}},
    }


def _prepare_root(root: Path) -> None:
    # host directories the CA-trust volume logic looks for: one present, the others absent
    (root / "etc/ca-certificates").mkdir(parents=True)
    (root / "etc/kubernetes/manifests").mkdir(parents=True)
    (root / "tmp").mkdir()


REFERENCE_PHASES = (["control-plane", "all"], ["etcd", "local"], ["kubelet-start"])


def _reference(
    tmp_path: Path, scenario: dict[str, Any], phases: tuple[list[str], ...] = REFERENCE_PHASES
) -> Path:
    root = tmp_path / "reference"
    _prepare_root(root)
    cluster = _merge(_base_cluster(), scenario["v1beta2_cluster"])
    docs = [
        {
            "apiVersion": "kubeadm.k8s.io/v1beta2",
            "kind": "InitConfiguration",
            "localAPIEndpoint": {"advertiseAddress": "10.0.0.5", "bindPort": 6443},
            "nodeRegistration": {
                "name": "node1",
                "criSocket": "/run/containerd/containerd.sock",
                "taints": [],
            },
        },
        {"apiVersion": "kubeadm.k8s.io/v1beta2", "kind": "ClusterConfiguration", **cluster},
    ]
    (root / "cfg.yaml").write_text(yaml.safe_dump_all(docs))
    patch_args: list[str] = []
    if scenario["patches"]:
        (root / "patches").mkdir()
        for name, text in scenario["patches"].items():
            (root / "patches" / name).write_text(text)
        patch_args = ["--experimental-patches", "/patches"]
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    for phase in phases:
        extra = patch_args if phase[0] in ("control-plane", "etcd") else []
        p = subprocess.run(
            [str(KUBEADM), "--rootfs", str(root), "init", "phase", *phase, "--config", "/cfg.yaml", *extra],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        assert p.returncode == 0, f"reference kubeadm {' '.join(phase)} failed:\n{p.stdout}\n{p.stderr}"
    return root


def _ours(tmp_path: Path, scenario: dict[str, Any], phases: tuple[Any, ...] | None = None) -> Path:
    root = tmp_path / "ours"
    _prepare_root(root)
    cluster = _merge(_base_cluster(), scenario["v1beta4_cluster"])
    init = {
        "localAPIEndpoint": {"advertiseAddress": "10.0.0.5", "bindPort": 6443},
        "nodeRegistration": {"name": "node1", "criSocket": "/run/containerd/containerd.sock", "taints": []},
        "timeouts": {"controlPlaneComponentHealthCheck": "4m0s"},
    }
    opts: dict[str, Any] = {}
    if scenario["patches"]:
        (root / "patches").mkdir()
        for name, text in scenario["patches"].items():
            (root / "patches" / name).write_text(text)
        opts["patches"] = "/patches"
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.lower().endswith("_proxy")}
    try:
        # under --rootfs kubelet-start leaves this machine's kubelet alone (it prints the command)
        cfg = KubeadmConfig(cluster=cluster, init=init)
        ctx = api.build_context("init", {"rootfs": str(root), **opts}, cfg=cfg)
        for phase in phases or (control_plane_phase(), etcd_phase(), kubelet_start_phase()):
            for f in flatten((phase,)):
                if f.phase.run:
                    f.phase.run(ctx)
    finally:
        os.environ.update(saved)
    return root


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            p = f"{path}.{k}" if path else k
            if k not in a:
                out.append(f"{p}: only in reference: {b[k]!r}")
            elif k not in b:
                out.append(f"{p}: only in ours: {a[k]!r}")
            else:
                out += _diff(a[k], b[k], p)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _diff(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: ours {a!r} != reference {b!r}"]


def _is_zero(v: Any) -> bool:
    return v in (None, "", 0, False, "0s", {}, []) or (
        isinstance(v, dict) and all(_is_zero(x) for x in v.values())
    )


@pytest.fixture(scope="module")
def kubeadm_binary() -> Path:
    if not KUBEADM.exists():
        pytest.skip(f"reference kubeadm v1.20.2 not built yet: {KUBEADM} is absent (run testbed/build.sh)")
    if os.geteuid() != 0:
        pytest.skip("kubeadm --rootfs needs root (chroot)")
    out = subprocess.run([str(KUBEADM), "version", "-o", "short"], capture_output=True, text=True, timeout=30)
    assert "1.20" in out.stdout, out.stdout
    return KUBEADM


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_static_pods_match_reference(name, tmp_path, kubeadm_binary):
    ref_root = _reference(tmp_path, SCENARIOS[name])
    our_root = _ours(tmp_path, SCENARIOS[name])
    problems = []
    for comp in COMPONENTS:
        ours = yaml.safe_load((our_root / f"etc/kubernetes/manifests/{comp}.yaml").read_text())
        ref = yaml.safe_load((ref_root / f"etc/kubernetes/manifests/{comp}.yaml").read_text())
        intended = {p for c, p, _ in INTENDED_DIFFERENCES if c == comp}
        problems += [f"{comp}: {d}" for d in _diff(ours, ref) if d.split(":")[0] not in intended]
        if not intended:  # byte-for-byte the same file as upstream writes
            our_text = (our_root / f"etc/kubernetes/manifests/{comp}.yaml").read_text()
            ref_text = (ref_root / f"etc/kubernetes/manifests/{comp}.yaml").read_text()
            if our_text != ref_text:
                problems.append(f"{comp}: same content but not the same YAML text")
        # file mode as upstream
        assert (our_root / f"etc/kubernetes/manifests/{comp}.yaml").stat().st_mode & 0o777 == 0o600
    assert not problems, "differences from kubeadm v1.20.2:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", ["defaults"])
def test_kubelet_files_match_reference(name, tmp_path, kubeadm_binary):
    ref_root = _reference(tmp_path, SCENARIOS[name])
    our_root = _ours(tmp_path, SCENARIOS[name])
    ref_env = (ref_root / "var/lib/kubelet/kubeadm-flags.env").read_text()
    our_env = (our_root / "var/lib/kubelet/kubeadm-flags.env").read_text()
    assert our_env == ref_env
    assert (
        "--container-runtime=remote --container-runtime-endpoint=/run/containerd/containerd.sock" in our_env
    )
    assert ("--hostname-override=node1" in our_env) is (socket.gethostname().lower() != "node1")
    # byte-identical config.yaml (componentconfigs serialises the zero values upstream writes)
    assert (our_root / "var/lib/kubelet/config.yaml").read_text() == (
        ref_root / "var/lib/kubelet/config.yaml"
    ).read_text()
    ours = yaml.safe_load((our_root / "var/lib/kubelet/config.yaml").read_text())
    ref = yaml.safe_load((ref_root / "var/lib/kubelet/config.yaml").read_text())
    # Everything we write equals the reference; what only the reference has are Go zero values
    # (e.g. cacheTTL: 0s, logging: {}) that the kubelet defaults exactly as if absent.
    only_ref = [d for d in _diff(ours, ref) if "only in reference" in d]
    mismatched = [d for d in _diff(ours, ref) if "only in reference" not in d]
    assert not mismatched, mismatched
    for d in only_ref:
        path = d.split(":")[0]
        node: Any = ref
        for k in path.split("."):
            node = node[k]
        assert _is_zero(node), f"reference sets a non-zero value we do not: {d}"
    assert (our_root / "var/lib/kubelet/config.yaml").stat().st_mode & 0o777 == (
        ref_root / "var/lib/kubelet/config.yaml"
    ).stat().st_mode & 0o777


_KEY_DATA = re.compile(r"(certificate-authority-data|client-certificate-data|client-key-data): \S+")


def _kubeconfig_text(path: Path) -> str:
    """The file with its key and certificate data masked (each run signs its own)."""
    return _KEY_DATA.sub(r"\1: <data>", path.read_text())


@pytest.mark.parametrize("name", ["kubelet.conf", "admin.conf", "scheduler.conf"])
def test_kubeconfigs_match_reference_with_control_plane_endpoint(name, tmp_path, kubeadm_binary):
    """kubeadm v1.20 points kubelet.conf (and admin.conf) at controlPlaneEndpoint and the
    scheduler at the local API endpoint; the files are the same text apart from key material."""
    endpoint = "lb.example.test:8443"
    scenario = {
        "v1beta2_cluster": {"controlPlaneEndpoint": endpoint},
        "v1beta4_cluster": {"controlPlaneEndpoint": endpoint},
        "patches": {},
    }
    kind = name.removesuffix(".conf")
    ref_root = _reference(tmp_path, scenario, (["certs", "ca"], ["kubeconfig", kind]))
    our_root = _ours(tmp_path, scenario, (certs_phase(["ca"]), kubeconfig_phase([kind])))
    ours = our_root / "etc/kubernetes" / name
    ref = ref_root / "etc/kubernetes" / name
    assert _kubeconfig_text(ours) == _kubeconfig_text(ref)
    server = yaml.safe_load(ours.read_text())["clusters"][0]["cluster"]["server"]
    assert server == ("https://10.0.0.5:6443" if name == "scheduler.conf" else f"https://{endpoint}")
