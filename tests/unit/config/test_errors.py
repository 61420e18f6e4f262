"""Every class of bad input gives one line naming the file, the document and the field path."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeadm_py.config.resolve import build_config, load_documents, validate
from kubeadm_py.errors import ConfigError, KubeadmError

V4 = "apiVersion: kubeadm.k8s.io/v1beta4\n"
V3 = "apiVersion: kubeadm.k8s.io/v1beta3\n"
INIT4 = V4 + "kind: InitConfiguration\n"
CLUSTER4 = V4 + "kind: ClusterConfiguration\n"
JOIN4 = V4 + "kind: JoinConfiguration\n"
DISCOVERY = (
    "discovery:\n  bootstrapToken:\n    apiServerEndpoint: 10.0.0.1:6443\n"
    "    token: abcdef.0123456789abcdef\n    unsafeSkipCAVerification: true\n"
)

# (case id, file text, expected "document: field: message" part, expected hint fragment or None)
CASES = [
    (
        "service-subnet-too-small",
        CLUSTER4 + "networking:\n  serviceSubnet: 10.96.0.0/29\n",
        'networking.serviceSubnet: "10.96.0.0/29" is too small: the minimum is 10 addresses',
        None,
    ),
    (
        "pod-subnet-node-mask",
        CLUSTER4
        + "networking:\n  podSubnet: 10.244.0.0/24\n"
        + "controllerManager:\n  extraArgs: [{name: node-cidr-mask-size-ipv4, value: '23'}]\n",
        'networking.podSubnet: "10.244.0.0/24" is smaller than a node subnet (/23',
        "node-cidr-mask-size-ipv4",
    ),
    (
        "pod-subnet-minimum",
        CLUSTER4 + "networking:\n  podSubnet: 10.244.0.0/25\n",
        'networking.podSubnet: "10.244.0.0/25" is too small: the minimum is 254 addresses',
        None,
    ),
    (
        "relative-cert-dir",
        CLUSTER4 + "certificatesDir: pki\n",
        'certificatesDir: "pki" is not an absolute path',
        None,
    ),
    (
        "relative-ca-cert-path",
        JOIN4 + DISCOVERY + "caCertPath: ca.crt\n",
        'caCertPath: "ca.crt" must be an absolute path to a .crt file',
        "/etc/kubernetes/pki/ca.crt",
    ),
    (
        "cert-san",
        CLUSTER4 + "apiServer:\n  certSANs: [ok.example.com, 'bad name']\n",
        'apiServer.certSANs[1]: "bad name" is not a valid IP address or DNS name',
        None,
    ),
    (
        "ignore-all-and-more",
        INIT4 + "nodeRegistration:\n  ignorePreflightErrors: [all, Swap]\n",
        "nodeRegistration.ignorePreflightErrors: don't specify individual checks if 'all' is used",
        None,
    ),
    (
        "cidr",
        INIT4 + "---\n" + CLUSTER4 + "networking:\n  serviceSubnet: 10.96.0.0/33\n",
        'document 2 (ClusterConfiguration): networking.serviceSubnet: "10.96.0.0/33" is not a valid CIDR',
        None,
    ),
    (
        "cidr-no-prefix",
        CLUSTER4 + "networking:\n  podSubnet: 10.244.0.0\n",
        'document 1 (ClusterConfiguration): networking.podSubnet: "10.244.0.0" is not a valid CIDR',
        None,
    ),
    (
        "dual-stack-same-family",
        CLUSTER4 + "networking:\n  podSubnet: 10.244.0.0/16,10.245.0.0/16\n",
        'networking.podSubnet: "10.244.0.0/16,10.245.0.0/16" is not dual-stack',
        None,
    ),
    (
        "dual-stack-three",
        CLUSTER4 + "networking:\n  serviceSubnet: 10.96.0.0/16,fd00::/112,10.97.0.0/16\n",
        'networking.serviceSubnet: "10.96.0.0/16,fd00::/112,10.97.0.0/16" has more than two CIDRs',
        None,
    ),
    (
        "service-subnet-too-large",
        CLUSTER4 + "networking:\n  serviceSubnet: 10.0.0.0/8\n",
        'networking.serviceSubnet: "10.0.0.0/8" is too large',
        None,
    ),
    (
        "ip",
        INIT4 + "localAPIEndpoint:\n  advertiseAddress: 10.0.0.300\n",
        "document 1 (InitConfiguration): "
        'localAPIEndpoint.advertiseAddress: "10.0.0.300" is not a valid IP address',
        None,
    ),
    (
        "duration",
        INIT4 + "timeouts:\n  kubeletHealthCheck: 4 minutes\n",
        'timeouts.kubeletHealthCheck: "4 minutes" is not a valid duration',
        None,
    ),
    (
        "token-ttl",
        INIT4 + "bootstrapTokens:\n- ttl: 1d\n",
        'bootstrapTokens[0].ttl: "1d" is not a valid duration',
        None,
    ),
    (
        "version-bad",
        CLUSTER4 + "kubernetesVersion: v1.x.3\n",
        'kubernetesVersion: "v1.x.3" is not a valid Kubernetes version',
        None,
    ),
    (
        "version-label",
        CLUSTER4 + "kubernetesVersion: stable-1\n",
        'kubernetesVersion: "stable-1" is a release label that needs network access',
        None,
    ),
    (
        "token",
        INIT4 + "bootstrapTokens:\n- token: abcdef.012345\n",
        'bootstrapTokens[0].token: the value (withheld: a secret) is not a valid bootstrap token',
        None,
    ),
    (
        "certificate-key",
        INIT4 + "certificateKey: deadbeef\n",
        'certificateKey: the value (withheld: a secret) is not a valid certificate key (64 hex',
        None,
    ),
    (
        "encryption-algorithm",
        CLUSTER4 + "encryptionAlgorithm: ED25519\n",
        'encryptionAlgorithm: "ED25519" is not one of RSA-2048, RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384',
        None,
    ),
    (
        "bind-port",
        INIT4 + "localAPIEndpoint:\n  bindPort: 70000\n",
        "localAPIEndpoint.bindPort: 70000 is not a valid port (1-65535)",
        None,
    ),
    (
        "bind-port-type",
        INIT4 + "localAPIEndpoint:\n  bindPort: http\n",
        'localAPIEndpoint.bindPort: expected an integer, got "http"',
        None,
    ),
    (
        "duplicate-kind",
        CLUSTER4 + "---\n" + CLUSTER4,
        "document 2 (ClusterConfiguration): kind: duplicate ClusterConfiguration",
        "at most once",
    ),
    (
        "unknown-kind",
        V4 + "kind: MasterConfiguration\n",
        "document 1 (MasterConfiguration): kind: "
        "unknown kind 'MasterConfiguration' for kubeadm.k8s.io/v1beta4",
        None,
    ),
    (
        "unknown-group",
        "apiVersion: example.com/v1\nkind: Widget\n",
        "document 1 (Widget): kind: unknown kind 'Widget'",
        "accepted kinds",
    ),
    (
        "unknown-version",
        "apiVersion: kubeadm.k8s.io/v1beta9\nkind: InitConfiguration\n",
        "apiVersion: unknown apiVersion 'kubeadm.k8s.io/v1beta9'",
        "supported",
    ),
    (
        "removed-version",
        "apiVersion: kubeadm.k8s.io/v1beta1\nkind: InitConfiguration\n",
        "apiVersion: kubeadm.k8s.io/v1beta1 is no longer supported",
        "config migrate",
    ),
    (
        "v1beta4-extraargs-map",
        CLUSTER4 + "apiServer:\n  extraArgs:\n    authorization-mode: Node,RBAC\n",
        "apiServer.extraArgs: expected a list, got a map",
        "v1beta4 uses a list of {name, value}: extraArgs: [{name: ..., value: ...}]",
    ),
    (
        "v1beta4-kubelet-extraargs-map",
        INIT4 + "nodeRegistration:\n  kubeletExtraArgs:\n    v: '4'\n",
        "nodeRegistration.kubeletExtraArgs: expected a list, got a map",
        "v1beta4 uses a list of {name, value}",
    ),
    (
        "v1beta4-timeout-for-control-plane",
        CLUSTER4 + "apiServer:\n  timeoutForControlPlane: 4m0s\n",
        'apiServer.timeoutForControlPlane: unknown field "timeoutForControlPlane"',
        "timeouts.controlPlaneComponentHealthCheck",
    ),
    (
        "v1beta4-discovery-timeout",
        JOIN4 + DISCOVERY + "  timeout: 5m\n",
        'discovery.timeout: unknown field "timeout"',
        "timeouts.discovery",
    ),
    (
        "v1beta4-dns-type",
        CLUSTER4 + "dns:\n  type: CoreDNS\n",
        'dns.type: unknown field "type"',
        "removed in v1beta3",
    ),
    (
        "v1beta3-extraenvs",
        V3 + "kind: ClusterConfiguration\napiServer:\n  extraEnvs:\n  - name: A\n    value: b\n",
        'apiServer.extraEnvs: unknown field "extraEnvs"',
        "new in kubeadm.k8s.io/v1beta4",
    ),
    (
        "v1beta3-timeouts",
        V3 + "kind: InitConfiguration\ntimeouts:\n  discovery: 1m\n",
        'timeouts: unknown field "timeouts"',
        "kubeadm-py config migrate",
    ),
    (
        "v1beta3-dns-disabled",
        V3 + "kind: ClusterConfiguration\ndns:\n  disabled: true\n",
        'dns.disabled: unknown field "disabled"',
        "new in kubeadm.k8s.io/v1beta4",
    ),
    (
        "v1beta3-reset",
        V3 + "kind: ResetConfiguration\n",
        "unknown kind 'ResetConfiguration' for kubeadm.k8s.io/v1beta3",
        "set apiVersion: kubeadm.k8s.io/v1beta4",
    ),
    (
        "v1beta3-extraargs-list",
        V3 + "kind: ClusterConfiguration\napiServer:\n  extraArgs:\n  - name: a\n    value: b\n",
        "apiServer.extraArgs: expected a map, got a list",
        "before v1beta4 extra arguments are a map",
    ),
    (
        "v1beta3-unquoted-number",
        V3 + "kind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    v: 4\n",
        "nodeRegistration.kubeletExtraArgs.v: expected a string, got 4",
        "quote the value",
    ),
    (
        "v1beta2-skipphases",
        "apiVersion: kubeadm.k8s.io/v1beta2\nkind: InitConfiguration\nskipPhases: [preflight]\n",
        'skipPhases: unknown field "skipPhases"',
        "added in v1beta3",
    ),
    (
        "typo",
        CLUSTER4 + "netwroking:\n  podSubnet: 10.244.0.0/16\n",
        'netwroking: unknown field "netwroking"',
        None,
    ),
    (
        "nested-typo",
        INIT4 + "nodeRegistration:\n  nmae: a\n",
        'nodeRegistration.nmae: unknown field "nmae"',
        None,
    ),
    (
        "kubelet-api",
        "apiVersion: kubelet.config.k8s.io/v1\nkind: KubeletConfiguration\n",
        "document 1 (KubeletConfiguration): apiVersion: unsupported apiVersion",
        "kubelet.config.k8s.io/v1beta1",
    ),
    (
        "kubelet-field",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: docker\n",
        'cgroupDriver: "docker" is not one of systemd, cgroupfs',
        None,
    ),
    (
        "kubeproxy-field",
        "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"
        "clusterCIDR: 10.244.0.0\n",
        'clusterCIDR: "10.244.0.0" is not a valid CIDR',
        None,
    ),
    (
        "etcd-both",
        CLUSTER4 + "etcd:\n  local: {}\n  external:\n    endpoints: [https://10.0.0.1:2379]\n",
        "etcd: local and external are mutually exclusive",
        None,
    ),
    (
        "etcd-external-endpoints",
        CLUSTER4 + "etcd:\n  external:\n    caFile: /a\n",
        'etcd.external.endpoints: missing required field "endpoints"',
        None,
    ),
    (
        "taint-effect",
        INIT4 + "nodeRegistration:\n  taints:\n  - key: a\n    effect: Sometimes\n",
        "nodeRegistration.taints[0].effect: "
        '"Sometimes" is not one of NoSchedule, PreferNoSchedule, NoExecute',
        None,
    ),
    (
        "pull-policy",
        INIT4 + "nodeRegistration:\n  imagePullPolicy: Sometimes\n",
        'nodeRegistration.imagePullPolicy: "Sometimes" is not one of Always, IfNotPresent, Never',
        None,
    ),
    (
        "node-name",
        INIT4 + "nodeRegistration:\n  name: Node_1\n",
        'nodeRegistration.name: "Node_1" is not a valid DNS-1123 subdomain',
        None,
    ),
    (
        "cri-scheme",
        INIT4 + "nodeRegistration:\n  criSocket: tcp://localhost:1234\n",
        'nodeRegistration.criSocket: "tcp://localhost:1234" is not a valid CRI socket',
        None,
    ),
    (
        "control-plane-endpoint",
        CLUSTER4 + "controlPlaneEndpoint: https://lb:6443\n",
        'controlPlaneEndpoint: "https://lb:6443" is not a valid endpoint',
        None,
    ),
    (
        "ca-cert-hash",
        JOIN4 + DISCOVERY + "    caCertHashes: [md5:abc]\n",
        'discovery.bootstrapToken.caCertHashes[0]: "md5:abc" is not a valid CA public key pin',
        None,
    ),
    (
        "join-no-discovery",
        JOIN4 + "nodeRegistration:\n  name: w1\n",
        "document 1 (JoinConfiguration): discovery: one of bootstrapToken or file must be set",
        "--discovery-file",
    ),
    (
        "join-unsafe",
        JOIN4 + "discovery:\n  bootstrapToken:\n    apiServerEndpoint: 10.0.0.1:6443\n"
        "    token: abcdef.0123456789abcdef\n",
        "discovery.bootstrapToken.caCertHashes: token-based discovery without caCertHashes is unsafe",
        "unsafeSkipCAVerification",
    ),
    (
        "unmount-flags",
        V4 + "kind: ResetConfiguration\nunmountFlags: [MNT_LAZY]\n",
        'unmountFlags[0]: "MNT_LAZY" is not one of MNT_FORCE, MNT_DETACH, MNT_EXPIRE, UMOUNT_NOFOLLOW',
        None,
    ),
    (
        "token-groups",
        INIT4 + "bootstrapTokens:\n- groups: [admins]\n",
        'bootstrapTokens[0].groups[0]: "admins" does not match',
        "system:bootstrappers:",
    ),
    ("missing-kind", "apiVersion: kubeadm.k8s.io/v1beta4\n", "document 1: kind: missing kind", None),
    (
        "not-a-mapping",
        "- a\n- b\n",
        "document 1: expected a mapping with apiVersion and kind, got a list",
        None,
    ),
    (
        "upgrade-field",
        V4 + "kind: UpgradeConfiguration\napply:\n  etcdUpgrade: yes please\n",
        'apply.etcdUpgrade: expected true or false, got "yes please"',
        None,
    ),
]


@pytest.mark.parametrize(("text", "expected", "hint"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_documents(write, text: str, expected: str, hint: str | None) -> None:  # type: ignore[no-untyped-def]
    path = write(text)
    with pytest.raises(ConfigError) as info:
        validate(path)
    err = info.value
    msg = str(err)
    assert "\n" not in msg
    assert err.message.startswith(f"{path}: ")
    assert expected in err.message, msg
    if hint is not None:
        assert err.hint is not None and hint in err.hint, msg
    assert isinstance(err, KubeadmError) and err.exit_code == 1


@pytest.mark.parametrize(
    ("text", "expected", "hint"),
    [c[1:] for c in CASES if "Join" not in c[1]],
    ids=[c[0] for c in CASES if "Join" not in c[1]],
)
def test_build_config_reports_the_same(write, probe, text: str, expected: str, hint: str | None) -> None:  # type: ignore[no-untyped-def]
    """``init`` rejects the same inputs (documents it does not use are still checked), except
    unknown fields: as upstream's lenient decoding, a warning each, and the run goes on."""
    if "ClusterConfiguration" not in text and "InitConfiguration" not in text:
        text = text + "\n---\n" + CLUSTER4  # init needs one of them (checked first, as upstream)
    path = write(text)
    if "unknown field" in expected:
        cfg = build_config("init", path, probe=probe)
        assert any(expected in w and "ignored" in w for w in cfg.warnings), cfg.warnings
        return
    with pytest.raises(ConfigError) as info:
        build_config("init", path, probe=probe)
    assert expected in info.value.message


def test_more_problems_are_counted(write) -> None:  # type: ignore[no-untyped-def]
    path = write(CLUSTER4 + "netwroking: {}\nclusterNmae: x\n")
    with pytest.raises(ConfigError) as info:
        validate(path)
    assert info.value.hint is not None and "1 more problem after this one" in info.value.hint


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("empty", "empty configuration: no YAML documents found"),
        ("blank", "empty configuration: no YAML documents found"),
        ("separators", "empty configuration: no YAML documents found"),
        ("comments", "empty configuration: no YAML documents found"),
        ("not-yaml", "document 1: line 3, column 1: not valid YAML"),
        ("tabs", "not valid YAML"),
        ("duplicate-key", "not valid YAML: duplicate key 'kind'"),
        ("binary", "not a text file"),
        ("directory", "is a directory, expected a kubeadm configuration file"),
        ("missing", "no such file"),
    ],
)
def test_unreadable_input(tmp_path: Path, setup: str, expected: str) -> None:
    path = tmp_path / "cfg.yaml"
    content = {
        "empty": b"",
        "blank": b"  \n\n",
        "separators": b"---\n---\n",
        "comments": b"# nothing here\n",
        "not-yaml": b"apiVersion: kubeadm.k8s.io/v1beta4\nkind: [InitConfiguration\n",
        "tabs": b"apiVersion: x\nkind: y\n\tfoo: 1\n",
        "duplicate-key": b"apiVersion: kubeadm.k8s.io/v1beta4\nkind: A\nkind: B\n",
        "binary": b"\xff\xfe\x00\x01apiVersion",
    }
    if setup == "directory":
        path.mkdir()
    elif setup != "missing":
        path.write_bytes(content[setup])
    for call in (
        lambda: validate(str(path)),
        lambda: build_config("init", str(path)),
        lambda: load_documents(str(path)),
    ):
        with pytest.raises(ConfigError) as info:
            call()
        msg = str(info.value)
        assert "\n" not in msg
        assert msg.startswith(f"{path}: ")
        assert expected in msg


def test_text_input_names_text_source() -> None:
    with pytest.raises(ConfigError) as info:
        validate(text=CLUSTER4 + "clusterName: ''\n", source="<stdin>")
    assert info.value.message == "<stdin>: document 1 (ClusterConfiguration): clusterName: must not be empty"


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(CLUSTER4 + "networking:\n  dnsDomain: Bad_Domain\n"))
    with pytest.raises(ConfigError) as info:
        validate("-")
    assert info.value.message.startswith("<stdin>: document 1 (ClusterConfiguration): networking.dnsDomain:")
