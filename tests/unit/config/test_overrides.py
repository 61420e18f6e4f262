"""Flag overrides: flag > config file > default, per-command path mapping, flag-named errors."""

from __future__ import annotations

import pytest

from kubeadm_py.config.resolve import build_config
from kubeadm_py.errors import ConfigError
from kubeadm_py.options import FLAGS

FILE = (
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n  name: from-file\n"
    "localAPIEndpoint:\n  advertiseAddress: 10.0.0.1\n---\n"
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
    "networking:\n  serviceSubnet: 10.100.0.0/16\n"
    "  podSubnet: 10.244.0.0/16\nfeatureGates:\n  EtcdLearnerMode: true\n"
)


@pytest.mark.parametrize(
    ("path", "value", "file_value", "default"),
    [
        ("cluster.networking.serviceSubnet", "10.200.0.0/16", "10.100.0.0/16", "10.96.0.0/12"),
        ("cluster.networking.podSubnet", "192.168.0.0/16", "10.244.0.0/16", None),
        ("init.nodeRegistration.name", "from-flag", "from-file", "node-a.example"),
        ("init.localAPIEndpoint.advertiseAddress", "10.0.0.9", "10.0.0.1", "10.0.0.5"),
    ],
)
def test_precedence(write, probe, path: str, value: str, file_value: str, default: str | None) -> None:  # type: ignore[no-untyped-def]
    def get(cfg):  # type: ignore[no-untyped-def]
        attr, *parts = path.split(".")
        node = getattr(cfg, attr)
        for p in parts:
            node = node.get(p) if node is not None else None
        return node

    cfg_file = write(FILE)
    assert get(build_config("init", cfg_file, {path: value}, probe=probe)) == value  # flag > config
    assert get(build_config("init", cfg_file, {path: None}, probe=probe)) == file_value  # unset flag: config
    assert get(build_config("init", None, {}, probe=probe)) == default  # no config: default


def test_every_flag_config_path_applies(probe) -> None:  # type: ignore[no-untyped-def]
    """Each FlagSpec.config_path in options.FLAGS lands in the configuration."""
    samples = {
        str: {
            "cluster.certificatesDir": "/srv/pki",
            "init.localAPIEndpoint.advertiseAddress": "10.1.2.3",
            "cluster.controlPlaneEndpoint": "lb.example.com:6443",
            "cluster.networking.podSubnet": "10.244.0.0/16",
            "cluster.networking.serviceSubnet": "10.97.0.0/16",
            "cluster.networking.dnsDomain": "corp.local",
            "cluster.kubernetesVersion": "v1.20.2",
            "cluster.imageRepository": "registry.example.com",
            "cluster.featureGates": "EtcdLearnerMode=true",
            "init.nodeRegistration.name": "cp-9",
            "init.nodeRegistration.criSocket": "unix:///var/run/crio/crio.sock",
            "init.patches.directory": "/p",
            "init.certificateKey": "a" * 64,
        },
        int: {"init.localAPIEndpoint.bindPort": 7443},
        list: {"cluster.apiServer.certSANs": ["a.example.com", "10.0.0.7"]},
    }
    overrides = {}
    for spec in FLAGS.values():
        if spec.config_path:
            overrides[spec.config_path] = samples[spec.type][spec.config_path]
    cfg = build_config("init", None, overrides, probe=probe)
    assert cfg.cert_dir == "/srv/pki"
    assert cfg.bind_port == 7443
    assert cfg.cluster["apiServer"]["certSANs"] == ["a.example.com", "10.0.0.7"]
    assert cfg.cluster["featureGates"] == {"EtcdLearnerMode": True}
    assert cfg.init["patches"] == {"directory": "/p"}  # type: ignore[index]
    assert cfg.node_registration["criSocket"] == "unix:///var/run/crio/crio.sock"


@pytest.mark.parametrize(
    ("path", "raw", "expected"),
    [
        ("cluster.apiServer.certSANs", "a.example.com,10.0.0.7", ["a.example.com", "10.0.0.7"]),
        ("init.localAPIEndpoint.bindPort", "7443", 7443),
        (
            "cluster.featureGates",
            "RootlessControlPlane=true,EtcdLearnerMode=false",
            {"RootlessControlPlane": True, "EtcdLearnerMode": False},
        ),
        ("init.dryRun", "true", True),
    ],
)
def test_string_values_are_coerced(probe, path: str, raw: str, expected: object) -> None:  # type: ignore[no-untyped-def]
    cfg = build_config("init", None, {path: raw}, probe=probe)
    attr, *parts = path.split(".")
    node = getattr(cfg, attr)
    for p in parts:
        node = node[p]
    assert node == expected


def test_feature_gates_flag_replaces_config_map(write, probe) -> None:  # type: ignore[no-untyped-def]
    cfg = build_config(
        "init", write(FILE), {"cluster.featureGates": {"NodeLocalCRISocket": True}}, probe=probe
    )
    assert cfg.cluster["featureGates"] == {"NodeLocalCRISocket": True}


@pytest.mark.parametrize(
    ("path", "value", "flag", "expected"),
    [
        (
            "cluster.networking.serviceSubnet",
            "10.96.0.0/33",
            "--service-cidr",
            '"10.96.0.0/33" is not a valid CIDR',
        ),
        (
            "cluster.networking.podSubnet",
            "10.244.0.0/16,10.245.0.0/16",
            "--pod-network-cidr",
            "is not dual-stack",
        ),
        (
            "init.localAPIEndpoint.advertiseAddress",
            "not-an-ip",
            "--apiserver-advertise-address",
            '"not-an-ip" is not a valid IP address',
        ),
        (
            "init.localAPIEndpoint.bindPort",
            70000,
            "--apiserver-bind-port",
            "70000 is not a valid port (1-65535)",
        ),
        ("cluster.kubernetesVersion", "latest", "--kubernetes-version", "release label"),
        ("init.certificateKey", "abc", "--certificate-key", "is not a valid certificate key"),
        ("init.nodeRegistration.name", "Bad_Name", "--node-name", "is not a valid DNS-1123 subdomain"),
    ],
)
def test_bad_flag_values_name_the_flag(probe, path: str, value: object, flag: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as info:
        build_config("init", None, {path: value}, probe=probe)
    msg = str(info.value)
    assert msg.startswith(f"flag {flag}: ")
    assert expected in msg and "\n" not in msg


def test_bad_integer_string_names_flag(probe) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=r"^flag --apiserver-bind-port: 'x' is not an integer"):
        build_config("init", None, {"init.localAPIEndpoint.bindPort": "x"}, probe=probe)


def test_unknown_override_path(probe) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="unknown configuration path 'cluser.x'"):
        build_config("init", None, {"cluser.x": 1}, probe=probe)


JOIN = (
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  name: from-file\n"
    "discovery:\n  bootstrapToken:\n    apiServerEndpoint: 10.0.0.1:6443\n"
    "    token: abcdef.0123456789abcdef\n"
    "    unsafeSkipCAVerification: true\n"
)


def test_join_maps_init_node_registration_paths(write, probe) -> None:  # type: ignore[no-untyped-def]
    cfg = build_config(
        "join",
        write(JOIN),
        {
            "init.nodeRegistration.name": "worker-9",
            "init.nodeRegistration.criSocket": "unix:///var/run/crio/crio.sock",
            "init.localAPIEndpoint.advertiseAddress": "10.0.0.99",
            "init.patches.directory": "/patches",
        },
        probe=probe,
    )
    assert cfg.join is not None and cfg.init is None
    assert cfg.node_name == "worker-9"
    assert cfg.node_registration["criSocket"] == "unix:///var/run/crio/crio.sock"
    assert cfg.join["patches"] == {"directory": "/patches"}
    assert "controlPlane" not in cfg.join  # the advertise address of a worker join is ignored


def test_join_control_plane_override(write, probe) -> None:  # type: ignore[no-untyped-def]
    cfg = build_config(
        "join",
        write(JOIN),
        {
            "join.controlPlane": True,
            "init.localAPIEndpoint.advertiseAddress": "10.0.0.99",
            "init.localAPIEndpoint.bindPort": 7443,
            "init.certificateKey": "b" * 64,
        },
        probe=probe,
    )
    assert cfg.join is not None
    assert cfg.join["controlPlane"] == {
        "localAPIEndpoint": {"advertiseAddress": "10.0.0.99", "bindPort": 7443},
        "certificateKey": "b" * 64,
    }
    assert cfg.advertise_address == "10.0.0.99" and cfg.bind_port == 7443


def test_join_discovery_from_overrides(probe) -> None:  # type: ignore[no-untyped-def]
    cfg = build_config(
        "join",
        None,
        {
            "join.discovery.bootstrapToken.token": "abcdef.0123456789abcdef",
            "join.discovery.bootstrapToken.apiServerEndpoint": "10.0.0.1:6443",
            "join.discovery.bootstrapToken.caCertHashes": ["sha256:" + "a" * 64],
        },
        probe=probe,
    )
    assert cfg.join["discovery"]["tlsBootstrapToken"] == "abcdef.0123456789abcdef"  # type: ignore[index]


def test_join_without_discovery_fails(probe) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as info:
        build_config("join", None, {}, probe=probe)
    assert "discovery: one of bootstrapToken or file must be set" in str(info.value)


def test_reset_maps_cert_dir_and_cri_socket(probe) -> None:  # type: ignore[no-untyped-def]
    cfg = build_config(
        "reset",
        None,
        {
            "cluster.certificatesDir": "/srv/pki",
            "init.nodeRegistration.criSocket": "unix:///var/run/crio/crio.sock",
        },
        probe=probe,
    )
    assert cfg.reset == {
        **cfg.reset,  # type: ignore[dict-item]
        "certificatesDir": "/srv/pki",
        "criSocket": "unix:///var/run/crio/crio.sock",
    }


@pytest.mark.parametrize(
    ("service", "pod"),
    [
        ("10.96.0.0/16,fd00:10:96::/112", "10.244.0.0/16,fd00:10:244::/56"),
        ("fd00:10:96::/112,10.96.0.0/16", "fd00:10:244::/56,10.244.0.0/16"),
        ("fd00:10:96::/108", "fd00:10:244::/56"),
        ("10.96.0.0/16", "10.244.0.0/16,fd00:10:244::/56"),  # dual-stack Pods, single-stack Services
    ],
)
def test_dual_stack_and_ipv6(probe, service: str, pod: str) -> None:  # type: ignore[no-untyped-def]
    cfg = build_config(
        "init",
        None,
        {"cluster.networking.serviceSubnet": service, "cluster.networking.podSubnet": pod},
        probe=probe,
    )
    assert cfg.cluster["networking"]["serviceSubnet"] == service
    assert cfg.cluster["networking"]["podSubnet"] == pod
