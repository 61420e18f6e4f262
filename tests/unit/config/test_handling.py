"""Configuration handling as upstream's util/config does it (issue 14): lenient decoding in
init/join and strict in config validate, null sections, the kinds a command needs, versions
config validate refuses, lower-cased certSANs, the migrated timeoutForControlPlane."""

from __future__ import annotations

import pytest
import yaml

from kubeadm_py.config.resolve import build_config, migrate, validate
from kubeadm_py.errors import ConfigError

V4 = "apiVersion: kubeadm.k8s.io/v1beta4\n"
CLUSTER4 = V4 + "kind: ClusterConfiguration\n"
INIT4 = V4 + "kind: InitConfiguration\n"
JOIN4 = (
    V4 + "kind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    apiServerEndpoint: 10.0.0.1:6443\n"
    "    token: abcdef.0123456789abcdef\n    unsafeSkipCAVerification: true\n"
)

# (id, command, file, the warning init/join print (a part), the error config validate gives)
UNKNOWN = [
    (
        "misplaced-in-init",
        "init",
        INIT4 + "controlPlaneEndpoint: lb:6443\n",
        'controlPlaneEndpoint: unknown field "controlPlaneEndpoint", ignored '
        "(controlPlaneEndpoint belongs in ClusterConfiguration)",
        "document 1 (InitConfiguration): controlPlaneEndpoint: unknown field",
    ),
    (
        "misplaced-in-cluster",
        "init",
        CLUSTER4 + "bootstrapTokens: []\n",
        "(bootstrapTokens belongs in InitConfiguration)",
        "document 1 (ClusterConfiguration): bootstrapTokens: unknown field",
    ),
    (
        "typo",
        "init",
        CLUSTER4 + "clusterNmae: x\n",
        'clusterNmae: unknown field "clusterNmae", ignored (did you mean "clusterName"?',
        'clusterNmae: unknown field "clusterNmae"',
    ),
    (
        "typo-under-control-plane",
        "join",
        JOIN4 + "controlPlane:\n  localAPIEndpoint:\n    bindPrt: 6443\n",
        'controlPlane.localAPIEndpoint.bindPrt: unknown field "bindPrt", ignored',
        "controlPlane.localAPIEndpoint.bindPrt: unknown field",
    ),
]


@pytest.mark.parametrize(
    ("command", "text", "warning", "error"), [c[1:] for c in UNKNOWN], ids=[c[0] for c in UNKNOWN]
)
def test_unknown_fields_warn_in_workflows_and_fail_validate(
    write, probe, command: str, text: str, warning: str, error: str
) -> None:  # type: ignore[no-untyped-def]
    path = write(text)
    cfg = build_config(command, path, probe=probe)  # type: ignore[arg-type]
    assert any(w.startswith(f"{path}: document 1") and warning in w for w in cfg.warnings), cfg.warnings
    with pytest.raises(ConfigError) as info:
        validate(path)
    assert error in info.value.message and info.value.message.startswith(f"{path}: ")


def test_bad_field_under_join_control_plane_has_its_own_path(write) -> None:  # type: ignore[no-untyped-def]
    path = write(JOIN4 + "controlPlane:\n  localAPIEndpoint:\n    bindPort: 99999\n")
    with pytest.raises(
        ConfigError, match=r"controlPlane\.localAPIEndpoint\.bindPort: 99999 is not a valid port"
    ):
        validate(path)


def test_commented_out_sections_are_empty_sections(write, probe) -> None:  # type: ignore[no-untyped-def]
    text = CLUSTER4 + "apiServer:\n  # certSANs: [a]\nnetworking:\netcd:\n  local:\n    # dataDir: /x\n"
    path = write(text + "---\n" + JOIN4 + "controlPlane:\n  # certificateKey: x\n")
    assert validate(path) == []
    cfg = build_config("init", path, probe=probe)
    assert cfg.cluster["etcd"]["local"]["dataDir"] == "/var/lib/etcd"
    assert cfg.cluster["networking"]["serviceSubnet"] == "10.96.0.0/12"
    join = build_config("join", path, probe=probe).join
    assert join is not None and join.get("controlPlane") is None  # a worker join, as Go reads null


@pytest.mark.parametrize(
    ("command", "text", "message"),
    [
        (
            "init",
            JOIN4,
            "no InitConfiguration or ClusterConfiguration kind was found in the configuration file",
        ),
        ("join", CLUSTER4, "no JoinConfiguration kind was found in the configuration file"),
    ],
)
def test_a_command_needs_its_own_kind(write, probe, command: str, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    path = write(text)
    with pytest.raises(ConfigError, match=message) as info:
        build_config(command, path, probe=probe)  # type: ignore[arg-type]
    assert info.value.message.startswith(f"{path}: ")


def test_config_validate_refuses_the_versions_init_refuses(write) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(
        ConfigError, match=r"kubernetesVersion: Kubernetes version v1\.18\.2 is not supported"
    ):
        validate(write(CLUSTER4 + "kubernetesVersion: v1.18.2\n"))


def test_cert_sans_are_lower_cased(write, probe) -> None:  # type: ignore[no-untyped-def]
    path = write(CLUSTER4 + "apiServer:\n  certSANs: [API.Example.COM, 10.0.0.1]\n")
    assert validate(path) == []
    cfg = build_config("init", path, probe=probe)
    assert cfg.cluster["apiServer"]["certSANs"] == ["api.example.com", "10.0.0.1"]


def test_migrate_keeps_timeout_for_control_plane_as_init_reads_it(probe) -> None:  # type: ignore[no-untyped-def]
    old = (
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n"
        "apiServer:\n  timeoutForControlPlane: 10m0s\n"
    )
    docs = list(yaml.safe_load_all(migrate(old)))
    assert [d["kind"] for d in docs] == ["InitConfiguration", "ClusterConfiguration"]
    assert docs[0]["timeouts"]["controlPlaneComponentHealthCheck"] == "10m0s"
    init = build_config("init", old, probe=probe).init
    assert init is not None and init["timeouts"]["controlPlaneComponentHealthCheck"] == "10m0s"


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        (
            "networking:\n  serviceSubnet: fec0::/112\n",
            "networking.serviceSubnet: the subnet fec0::/112 contains IPv6 site-local addresses",
        ),
        (
            "certificateValidityPeriod: 9000h\n",
            "certificateValidityPeriod: the value 9000h0m0s is more than the recommended default",
        ),
        (
            "caCertificateValidityPeriod: 100000h\n",
            "caCertificateValidityPeriod: the value 100000h0m0s is more than the recommended default",
        ),
    ],
)
def test_upstream_warnings(write, probe, text: str, warning: str) -> None:  # type: ignore[no-untyped-def]
    path = write(CLUSTER4 + text)
    assert any(warning in w for w in validate(path))
    assert any(warning in w for w in build_config("init", path, probe=probe).warnings)


def test_token_ttl_and_expires(write, probe) -> None:  # type: ignore[no-untyped-def]
    token = "bootstrapTokens:\n- token: abcdef.0123456789abcdef\n  expires: '2030-01-02T15:04:05Z'\n"
    cfg = build_config("init", write(INIT4 + token), probe=probe)
    assert cfg.init is not None and "ttl" not in cfg.init["bootstrapTokens"][0]  # expires alone: no ttl
    with pytest.raises(ConfigError, match=r"bootstrapTokens\[0\]: ttl and expires are mutually exclusive"):
        validate(write(INIT4 + token + "  ttl: 1h\n"))


@pytest.mark.parametrize(
    ("etcd", "message"),
    [
        ("endpoints: [1.2.3.4:2379]", 'etcd.external.endpoints[0]: "1.2.3.4:2379" is not a valid URL'),
        ("endpoints: [etcd.example.com]", 'etcd.external.endpoints[0]: "etcd.example.com" has no URL scheme'),
        (
            "endpoints: [https://e:2379]\n    certFile: /c.crt",
            "etcd.external: certFile and keyFile must be set together",
        ),
        (
            "endpoints: [https://e:2379]\n    certFile: /c.crt\n    keyFile: /c.key",
            "etcd.external: certFile and keyFile require caFile",
        ),
        (
            "endpoints: [http://e:2379]\n    caFile: /ca.crt",
            'etcd.external.endpoints[0]: "http://e:2379" must use https',
        ),
        (
            "endpoints: [https://e:2379]\n    caFile: ca.crt",
            'etcd.external.caFile: "ca.crt" is not an absolute path',
        ),
    ],
)
def test_external_etcd(write, etcd: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as info:
        validate(write(CLUSTER4 + "etcd:\n  external:\n    " + etcd + "\n"))
    assert message in info.value.message


def test_join_endpoint_argument_without_port_is_refused(probe) -> None:  # type: ignore[no-untyped-def]
    """Upstream ValidateDiscoveryTokenAPIServer (net.SplitHostPort); it was dialled on port 443."""
    overrides = {
        "join.discovery.bootstrapToken.apiServerEndpoint": "10.0.0.1",
        "join.discovery.bootstrapToken.token": "abcdef.0123456789abcdef",
        "join.discovery.bootstrapToken.unsafeSkipCAVerification": True,
    }
    with pytest.raises(ConfigError, match=r'^argument api-server-endpoint: .*"10\.0\.0\.1" has no port'):
        build_config("join", None, overrides, probe=probe)
