"""Static defaults (upstream v1beta4 defaults.go), `config print`, and dynamic run-time defaults."""

from __future__ import annotations

import re
import socket

import pytest
import yaml

from kubeadm_py.config.resolve import build_config, print_defaults, to_yaml, validate
from kubeadm_py.errors import ConfigError
from kubeadm_py.versions import DEFAULT_KUBERNETES_VERSION, RELEASES

TIMEOUTS = """\
timeouts:
  controlPlaneComponentHealthCheck: 4m0s
  discovery: 5m0s
  etcdAPICall: 2m0s
  kubeletHealthCheck: 4m0s
  kubernetesAPICall: 1m0s
  tlsBootstrap: 5m0s
  upgradeManifests: 5m0s
"""

INIT_DEFAULTS = (
    """\
apiVersion: kubeadm.k8s.io/v1beta4
bootstrapTokens:
- groups:
  - system:bootstrappers:kubeadm:default-node-token
  token: abcdef.0123456789abcdef
  ttl: 24h0m0s
  usages:
  - signing
  - authentication
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 1.2.3.4
  bindPort: 6443
nodeRegistration:
  criSocket: unix:///var/run/containerd/containerd.sock
  imagePullPolicy: IfNotPresent
  imagePullSerial: true
  name: node
  taints: null
"""
    + TIMEOUTS
    + """\
---
apiServer: {}
apiVersion: kubeadm.k8s.io/v1beta4
caCertificateValidityPeriod: 87600h0m0s
certificateValidityPeriod: 8760h0m0s
certificatesDir: /etc/kubernetes/pki
clusterName: kubernetes
controllerManager: {}
dns: {}
encryptionAlgorithm: RSA-2048
etcd:
  local:
    dataDir: /var/lib/etcd
imageRepository: registry.k8s.io
kind: ClusterConfiguration
kubernetesVersion: VERSION
networking:
  dnsDomain: cluster.local
  serviceSubnet: 10.96.0.0/12
proxy: {}
scheduler: {}
""".replace("VERSION", DEFAULT_KUBERNETES_VERSION.removeprefix("v"))
)

JOIN_DEFAULTS = (
    """\
apiVersion: kubeadm.k8s.io/v1beta4
caCertPath: /etc/kubernetes/pki/ca.crt
discovery:
  bootstrapToken:
    apiServerEndpoint: kube-apiserver:6443
    token: abcdef.0123456789abcdef
    unsafeSkipCAVerification: true
  tlsBootstrapToken: abcdef.0123456789abcdef
kind: JoinConfiguration
nodeRegistration:
  criSocket: unix:///var/run/containerd/containerd.sock
  imagePullPolicy: IfNotPresent
  imagePullSerial: true
  name: HOSTNAME
  taints: null
"""
    + TIMEOUTS
).replace("HOSTNAME", socket.gethostname().lower())  # upstream's defaulting: the host name, no placeholder

RESET_DEFAULTS = (
    """\
apiVersion: kubeadm.k8s.io/v1beta4
certificatesDir: /etc/kubernetes/pki
criSocket: unix:///var/run/containerd/containerd.sock
kind: ResetConfiguration
"""
    + TIMEOUTS
)

UPGRADE_DEFAULTS = (
    """\
apiVersion: kubeadm.k8s.io/v1beta4
apply:
  certificateRenewal: true
  etcdUpgrade: true
  imagePullPolicy: IfNotPresent
  imagePullSerial: true
diff: {}
kind: UpgradeConfiguration
node:
  certificateRenewal: true
  etcdUpgrade: true
  imagePullPolicy: IfNotPresent
  imagePullSerial: true
plan:
  etcdUpgrade: true
"""
    + TIMEOUTS
)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("init", INIT_DEFAULTS),
        ("join", JOIN_DEFAULTS),
        ("reset", RESET_DEFAULTS),
        ("upgrade", UPGRADE_DEFAULTS),
    ],
)
def test_print_defaults_matches_upstream_layout(kind: str, expected: str) -> None:
    assert print_defaults(kind) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["init", "join", "reset", "upgrade"])
def test_printed_defaults_validate_and_load(kind: str, probe) -> None:  # type: ignore[no-untyped-def]
    text = print_defaults(kind, ["KubeletConfiguration,KubeProxyConfiguration"])  # type: ignore[arg-type]
    assert validate(text=text) == []
    cfg = build_config(kind, text, probe=probe)  # type: ignore[arg-type]
    own = getattr(cfg, kind)
    assert own["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    # Loading the printed defaults and printing them again is stable.
    if kind == "init":
        assert cfg.init is not None and cfg.init["bootstrapTokens"][0]["token"] == "abcdef.0123456789abcdef"
        assert cfg.init["nodeRegistration"]["name"] == "node"
        assert cfg.advertise_address == "1.2.3.4"
        assert cfg.kubelet is not None and cfg.kubelet["clusterDNS"] == ["10.96.0.10"]
        assert cfg.kubeproxy is not None and cfg.kubeproxy["bindAddress"] == "0.0.0.0"


def test_print_does_not_probe_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubeadm_py.config import hostinfo

    def boom(*_a: object) -> str:
        raise AssertionError("print_defaults must not probe the host")

    monkeypatch.setattr(hostinfo.HostProbe, "hostname", boom)
    monkeypatch.setattr(hostinfo.HostProbe, "advertise_address", boom)
    monkeypatch.setattr(hostinfo.HostProbe, "cri_socket", boom)
    assert "name: node" in print_defaults("init")


def test_join_defaults_print_the_host_name() -> None:
    """kubeadm v1.20.2 (test bed) prints `name: <hostname>` for `config print join-defaults`:
    getDefaultNodeConfigBytes (cmd/config.go) sets no placeholder name."""
    assert "  name: cp-7\n" in print_defaults("join", hostname="cp-7")
    assert yaml.safe_load(print_defaults("join"))["nodeRegistration"]["name"] == socket.gethostname().lower()


def test_print_component_configs_order_and_errors() -> None:
    text = print_defaults("init", ["kubeproxyconfiguration", "KubeletConfiguration"])
    kinds = [d["kind"] for d in yaml.safe_load_all(text)]
    assert kinds == [
        "InitConfiguration",
        "ClusterConfiguration",
        "KubeProxyConfiguration",
        "KubeletConfiguration",
    ]
    with pytest.raises(ConfigError, match="unknown component config 'KubeSchedulerConfiguration'"):
        print_defaults("init", ["KubeSchedulerConfiguration"])


def test_static_defaults_without_file(probe) -> None:  # type: ignore[no-untyped-def]
    cfg = build_config("init", dynamic_defaults=False, probe=probe)
    assert probe.calls == 0
    c = cfg.cluster
    assert c["imageRepository"] == "registry.k8s.io"
    assert c["networking"] == {"serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"}
    assert c["certificatesDir"] == "/etc/kubernetes/pki" == cfg.cert_dir
    assert c["clusterName"] == "kubernetes"
    assert c["etcd"] == {"local": {"dataDir": "/var/lib/etcd"}} and cfg.local_etcd
    assert c["encryptionAlgorithm"] == "RSA-2048"
    assert c["certificateValidityPeriod"] == "8760h0m0s"
    assert c["caCertificateValidityPeriod"] == "87600h0m0s"
    for key in ("apiServer", "controllerManager", "scheduler", "dns", "proxy"):
        assert c[key] == {}
    assert cfg.init is not None
    assert cfg.bind_port == 6443
    token = cfg.init["bootstrapTokens"][0]
    assert token == {
        "ttl": "24h0m0s",
        "usages": ["signing", "authentication"],
        "groups": ["system:bootstrappers:kubeadm:default-node-token"],
    }
    nr = cfg.node_registration
    assert nr["imagePullPolicy"] == "IfNotPresent" and nr["imagePullSerial"] is True
    assert nr["criSocket"] == "unix:///var/run/containerd/containerd.sock"
    assert nr["taints"] is None
    assert cfg.init["timeouts"]["controlPlaneComponentHealthCheck"] == "4m0s"
    assert cfg.join is None and cfg.kubelet is None and cfg.kubeproxy is None


def test_dynamic_defaults_init(probe) -> None:  # type: ignore[no-untyped-def]
    cfg = build_config("init", probe=probe)
    assert cfg.node_name == "node-a.example"  # lowercased hostname
    assert cfg.advertise_address == "10.0.0.5"
    assert cfg.node_registration["criSocket"] == "unix:///run/containerd/containerd.sock"
    assert cfg.node_registration["taints"] == [
        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
    ]
    assert cfg.kubernetes_version == DEFAULT_KUBERNETES_VERSION
    token = cfg.init["bootstrapTokens"][0]["token"]  # type: ignore[index]
    assert re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", token)
    other = build_config("init", probe=probe).init["bootstrapTokens"][0]["token"]  # type: ignore[index]
    assert other != token


def test_dynamic_defaults_keep_user_values(write, probe) -> None:  # type: ignore[no-untyped-def]
    path = write(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
        "bootstrapTokens:\n- token: abcdef.0123456789abcdef\n  ttl: 1h\n"
        "nodeRegistration:\n  name: cp-1\n  criSocket: unix:///var/run/crio/crio.sock\n  taints: []\n"
        "localAPIEndpoint:\n  advertiseAddress: 192.168.1.10\n"
    )
    cfg = build_config("init", path, probe=probe)
    assert cfg.node_name == "cp-1"
    assert cfg.advertise_address == "192.168.1.10"
    assert cfg.node_registration["criSocket"] == "unix:///var/run/crio/crio.sock"
    assert cfg.node_registration["taints"] == []  # an explicit empty list means "no taints"
    assert cfg.init["bootstrapTokens"] == [  # type: ignore[index]
        {
            "token": "abcdef.0123456789abcdef",
            "ttl": "1h0m0s",
            "usages": ["signing", "authentication"],
            "groups": ["system:bootstrappers:kubeadm:default-node-token"],
        }
    ]


@pytest.mark.parametrize(
    ("given", "expected"),
    [("1.20.2", "v1.20.2"), ("v1.31.0-rc.1", "v1.31.0-rc.1")]
    + [(r.minor, r.default_patch) for r in RELEASES]
    + [("v" + r.minor, r.default_patch) for r in RELEASES],
)
def test_kubernetes_version_resolution(write, probe, given: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    path = write(
        f"apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: '{given}'\n"
    )
    assert build_config("init", path, probe=probe).kubernetes_version == expected


def test_unknown_minor_is_an_error(write, probe) -> None:  # type: ignore[no-untyped-def]
    path = write("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.9\n")
    with pytest.raises(ConfigError) as info:
        build_config("init", path, probe=probe)
    assert info.value.message.startswith(f"{path}: document 1 (ClusterConfiguration): kubernetesVersion:")
    assert "give a full version" in (info.value.hint or "")


def test_join_defaults(write, probe) -> None:  # type: ignore[no-untyped-def]
    path = write(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n"
        "discovery:\n  bootstrapToken:\n    apiServerEndpoint: 10.0.0.1:6443\n"
        "    token: abcdef.0123456789abcdef\n    unsafeSkipCAVerification: true\n"
    )
    cfg = build_config("join", path, probe=probe)
    assert cfg.init is None and cfg.join is not None
    assert cfg.join["caCertPath"] == "/etc/kubernetes/pki/ca.crt"
    assert cfg.join["discovery"]["tlsBootstrapToken"] == "abcdef.0123456789abcdef"
    assert cfg.node_name == "node-a.example"
    assert cfg.node_registration["taints"] is None  # workers: no control-plane taint
    assert "controlPlane" not in cfg.join
    assert cfg.cluster["kind"] == "ClusterConfiguration"  # defaults; the real one comes from the cluster


def test_join_control_plane_defaults(write, probe) -> None:  # type: ignore[no-untyped-def]
    path = write(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ncontrolPlane: {}\n"
        "discovery:\n  file:\n    kubeConfigPath: file:///etc/kubernetes/discovery.conf\n"
    )
    cfg = build_config("join", path, probe=probe)
    assert cfg.join is not None
    assert cfg.join["controlPlane"]["localAPIEndpoint"] == {"bindPort": 6443, "advertiseAddress": "10.0.0.5"}
    assert cfg.bind_port == 6443 and cfg.advertise_address == "10.0.0.5"
    assert cfg.join["discovery"]["file"]["kubeConfigPath"] == "/etc/kubernetes/discovery.conf"
    # nil until the cluster's kubernetesVersion is known (ensure_cluster_config; join/test_taints.py)
    assert cfg.node_registration["taints"] is None


def test_reset_and_upgrade_defaults(probe) -> None:  # type: ignore[no-untyped-def]
    reset = build_config("reset", probe=probe)
    assert reset.reset is not None and reset.init is None
    assert reset.reset["certificatesDir"] == "/etc/kubernetes/pki"
    assert reset.reset["criSocket"] == "unix:///run/containerd/containerd.sock"
    upgrade = build_config("upgrade", probe=probe)
    assert upgrade.upgrade is not None
    assert upgrade.upgrade["apply"]["certificateRenewal"] is True
    assert upgrade.upgrade["node"]["etcdUpgrade"] is True
    assert upgrade.upgrade["plan"] == {"etcdUpgrade": True}


def test_unused_documents_are_ignored_with_a_warning(probe) -> None:  # type: ignore[no-untyped-def]
    text = print_defaults("init") + "---\n" + print_defaults("join")
    cfg = build_config("init", text, probe=probe)
    assert cfg.join is None
    assert any("document 3 (JoinConfiguration) is not used by 'init'" in w for w in cfg.warnings)
    cfg = build_config("join", text, probe=probe)
    assert cfg.init is None
    assert cfg.cluster.get("clusterName") == "kubernetes"


def test_durations_are_normalized(write, probe) -> None:  # type: ignore[no-untyped-def]
    path = write(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\ntimeouts:\n  kubeletHealthCheck: 90s\n"
        "  discovery: 1.5h\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
        "certificateValidityPeriod: 2160h\n"
    )
    cfg = build_config("init", path, probe=probe)
    assert cfg.init["timeouts"]["kubeletHealthCheck"] == "1m30s"  # type: ignore[index]
    assert cfg.init["timeouts"]["discovery"] == "1h30m0s"  # type: ignore[index]
    assert cfg.cluster["certificateValidityPeriod"] == "2160h0m0s"


def test_public_keys_ecdsa_gate_sets_encryption_algorithm(write, probe) -> None:  # type: ignore[no-untyped-def]
    path = write(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nencryptionAlgorithm: RSA-4096\n"
        "featureGates:\n  PublicKeysECDSA: true\n"
    )
    assert build_config("init", path, probe=probe).cluster["encryptionAlgorithm"] == "ECDSA-P256"


def test_cri_socket_without_scheme_gets_unix(write, probe) -> None:  # type: ignore[no-untyped-def]
    path = write(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
        "nodeRegistration:\n  criSocket: /run/containerd/containerd.sock\n"
    )
    cfg = build_config("init", path, probe=probe)
    assert cfg.node_registration["criSocket"] == "unix:///run/containerd/containerd.sock"
    assert any("has no URL scheme" in w for w in cfg.warnings)


def test_unknown_feature_gate_is_refused(write, probe) -> None:  # type: ignore[no-untyped-def]
    """Upstream ValidateFeatureGates refuses it (it was stored in the uploaded ClusterConfiguration)."""
    path = write(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nfeatureGates:\n  Foo: true\n"
    )
    with pytest.raises(ConfigError, match='featureGates.Foo: "Foo" is not a valid feature gate'):
        build_config("init", path, probe=probe)


def test_to_yaml_round_trips(probe) -> None:  # type: ignore[no-untyped-def]
    cfg = build_config("init", probe=probe)
    again = build_config("init", to_yaml(cfg), probe=probe)
    assert again.init == cfg.init and again.cluster == cfg.cluster


def test_go_style_quoting() -> None:
    from kubeadm_py.config.resolve import dump_document

    text = dump_document({"value": "4", "flag": "true", "plain": "a,b", "empty": ""})
    assert text == 'empty: ""\nflag: "true"\nplain: a,b\nvalue: "4"\n'


def test_timeout_keys_are_the_defaulted_ones() -> None:
    from typing import get_args

    from kubeadm_py.config.defaults import DEFAULT_TIMEOUTS
    from kubeadm_py.config.types import TimeoutKey

    assert set(DEFAULT_TIMEOUTS) == set(get_args(TimeoutKey))


@pytest.mark.parametrize("kind", ["init", "join", "reset", "upgrade"])
def test_cfg_timeout_reads_the_defaulted_document(kind: str, probe) -> None:  # type: ignore[no-untyped-def]
    """cfg.timeout(key) is the run's own document's defaulted value, in seconds; a value the user
    gives replaces it."""
    text = print_defaults(kind)  # type: ignore[arg-type]
    cfg = build_config(kind, text, probe=probe)  # type: ignore[arg-type]
    assert cfg.timeout("controlPlaneComponentHealthCheck") == 240.0
    assert cfg.timeout("kubernetesAPICall") == 60.0
    assert cfg.timeout("etcdAPICall") == 120.0
    assert cfg.timeout("upgradeManifests") == 300.0
    own = {
        "init": "InitConfiguration",
        "join": "JoinConfiguration",
        "reset": "ResetConfiguration",
        "upgrade": "UpgradeConfiguration",
    }[kind]
    text = text.replace("  etcdAPICall: 2m0s", "  etcdAPICall: 90s") if own in text else text
    cfg = build_config(kind, text, probe=probe)  # type: ignore[arg-type]
    assert cfg.timeout("etcdAPICall") == 90.0


def test_cfg_timeout_without_defaulting_is_an_internal_error() -> None:
    from kubeadm_py.config.types import KubeadmConfig
    from kubeadm_py.errors import KubeadmError

    with pytest.raises(KubeadmError, match="internal: timeouts.kubeletHealthCheck is not set"):
        KubeadmConfig(cluster={}, init={}).timeout("kubeletHealthCheck")
