"""Upstream's validation vectors, run through kubeadm-py's own checks.

Source: kubernetes/kubernetes cmd/kubeadm/app/apis/kubeadm/validation/validation_test.go (the
v1beta4-era version: ``[]kubeadmapi.Arg`` extra args, ``ValidateImagePullPolicy``,
``ValidateUnmountFlags``; search-index id 201227868) for the rules of validation.go at commit
00d24de699fe4409b5829a5e51b73c1fc7bcba12. Each table is one upstream ``Test*`` function:
``(input, valid)`` rows copied as upstream has them. Each input is put where it lives in a
v1beta4 document, the document is statically defaulted (as ``init`` and ``config validate``
do) and checked by the schema and the semantic rules.

Rows left out, and why (upstream's dynamic defaulting fills these values before it validates,
and so does kubeadm-py): an empty node name, advertise address, CRI socket or encryption
algorithm; a CRI socket without a URL scheme (``unix://`` is prepended with a warning first, as
upstream's SetNodeRegistrationDynamicDefaults does); port 0 (defaulted to 6443); an Etcd with
neither local nor external (defaulted to local); a discovery file path that does not exist
(kubeadm-py reads it at discovery time, under ``--rootfs``)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from kubeadm_py.config import defaults as d
from kubeadm_py.config.loader import Document
from kubeadm_py.config.types import V1BETA4
from kubeadm_py.config.validation import schema_issues, semantic_issues

Body = dict[str, Any]
TOKEN = "abcdef.1234567890123456"
HASH = "sha256:7173b809ca12ec5dee4506cd86be934c4596dd234ee82c0662eac04a8c2c71dc"


def problems(kind: str, body: Body) -> list[str]:
    """Every problem ``init``/``config validate`` finds in the document (schema, then rules)."""
    doc = copy.deepcopy({"apiVersion": V1BETA4, "kind": kind, **body})
    d.STATIC_DEFAULTERS[kind](doc)
    if kind in ("InitConfiguration", "JoinConfiguration"):
        d.fix_cri_socket(doc["nodeRegistration"], "criSocket", [], "vector")
    checked = Document(1, V1BETA4, kind, doc, "vector.yaml")
    return [i.message for i in schema_issues(checked)] + [m for _, m, _ in semantic_issues(kind, doc)]


def cluster(**body: Any) -> tuple[str, Body]:
    return "ClusterConfiguration", body


def init(**body: Any) -> tuple[str, Body]:
    return "InitConfiguration", {"nodeRegistration": {"name": "valid-nodename"}, **body}


def join(discovery: Body | None = None, **body: Any) -> tuple[str, Body]:
    disc = (
        discovery
        if discovery is not None
        else {"bootstrapToken": {"token": TOKEN, "apiServerEndpoint": "1.2.3.4:6443", "caCertHashes": [HASH]}}
    )
    return "JoinConfiguration", {"nodeRegistration": {"name": "aaa"}, "discovery": disc, **body}


def args(*pairs: tuple[str, str]) -> list[Body]:
    return [{"name": n, "value": v} for n, v in pairs]


def tls_etcd(*endpoints: str) -> Body:
    return {
        "endpoints": list(endpoints),
        "caFile": "/ca.crt",
        "certFile": "/etcd.crt",
        "keyFile": "/etcd.key",
    }


Build = Callable[[Any], tuple[str, Body]]
# upstream test function -> (where the input goes, [(input, valid)])
VECTORS: dict[str, tuple[Build, list[tuple[Any, bool]]]] = {
    "TestValidateToken": (
        lambda t: init(bootstrapTokens=[{"token": t}]),
        [
            ("772ef5.6b6baab1d4a0a171", True),
            (".6b6baab1d4a0a171", False),
            ("772ef5.", False),
            ("abcdef.1234567890123456@foobar", False),
        ],
    ),
    "TestValidateValidateTokenUsages": (
        lambda u: init(bootstrapTokens=[{"usages": u}]),
        [([], True), (["signing", "authentication"], True), (["something else"], False)],
    ),
    "TestValidateTokenGroups": (
        lambda ug: init(bootstrapTokens=[{"usages": ug[0], "groups": ug[1]}]),
        [
            ((["some usage"], ["some group"]), False),
            ((["authentication"], ["some group"]), False),
            ((["authentication"], ["system:bootstrappers:anygroup"]), True),
        ],
    ),
    "TestValidateNodeRegistrationOptions": (
        lambda n: init(nodeRegistration={"name": n}),
        [
            ("INVALID-NODENAME", False),
            ("invalid-nodename-", False),
            ("invalid-node?name", False),
            ("valid-nodename", True),
        ],
    ),
    "TestValidateCertSANs": (
        lambda sans: cluster(
            etcd={"local": {"serverCertSANs": sans, "peerCertSANs": sans}}, apiServer={"certSANs": sans}
        ),
        [
            ([], True),
            (["1,2,,3"], False),
            (["my-hostname", "???&?.garbage"], False),
            (["my-hostname", "my.subdomain", "1.2.3.4"], True),
            (["my-hostname2", "my.other.subdomain", "10.0.0.10"], True),
            (["my-hostname", "my.subdomain", "2001:db8::4"], True),
            (["my-hostname2", "my.other.subdomain", "2001:db8::10"], True),
            (["*.my-hostname2", "*.my.other.subdomain"], True),
            (["**.my-hostname2", "my.other.subdomain"], False),
            (["*.*.my-hostname2", "my.other.subdomain"], False),
            (["a.*.my-hostname2", "my.other.subdomain"], False),
            (["*", "my.other.subdomain", "2001:db8::10"], False),
        ],
    ),
    "TestValidateIPFromString": (
        lambda ip: init(localAPIEndpoint={"advertiseAddress": ip}),
        [
            ("1234", False),
            ("1.2", False),
            ("1.2.3.4/16", False),
            ("1.2.3.4", True),
            ("2001:db8::1", True),
            ("2001:db8::1/64", False),
            ("2001:xb8::", False),
            ("2001::db8::", False),
        ],
    ),
    "TestValidatePort": (
        lambda p: init(localAPIEndpoint={"bindPort": p}),
        [(-1234, False), (1, True), (300, True), (65535, True), (65538, False)],
    ),
    # ValidateIPNetFromString with minimum 10: the pod subnet holds it here with the node-mask
    # check off (allocate-node-cidrs=false), and the minimum of 10 is the service subnet's.
    "TestValidateIPNetFromString": (
        lambda s: cluster(
            networking={"podSubnet": s},
            controllerManager={"extraArgs": args(("allocate-node-cidrs", "false"))},
        ),
        [
            ("10.0.0.16/12", True),
            ("2001:db8::/98", True),
            ("1.2.3.4,2001:db8::/98", False),
            ("2001:db8::1,10.0.0.16/12", False),
            ("10.0.0.16/12,192.168.0.0/16", False),
            ("2001:db8::/98,2005:db8::/98", False),
            ("10.0.0.16/12,2001:db8::/98", True),
            ("10.0.0.16/12,2001:db8::/98,192.168.0.0/16", False),
            ("10.0.0.16/12,2001:db8::/98,192.168.0.0/16,a.b.c.d/24", False),
        ],
    ),
    "TestValidateIPNetFromString (minimum addresses, service subnet)": (
        lambda s: cluster(networking={"serviceSubnet": s}),
        [("10.0.0.16/29,2001:db8::/112", False), ("10.0.0.16/16,2001:db8::/125", False)],
    ),
    "TestValidatePodSubnetNodeMask": (
        lambda sa: cluster(networking={"podSubnet": sa[0]}, controllerManager={"extraArgs": args(*sa[1])}),
        [
            (("10.0.0.16/29", []), False),
            (("10.0.0.16/24", [("node-cidr-mask-size-ipv4", "23")]), False),
            (("2001:db8::1/112", []), False),
            (("2001:db8::1/64", [("node-cidr-mask-size-ipv6", "24")]), False),
            (("2001:db8::1/12", []), False),
            (("2001:db8::1/64", [("node-cidr-mask-size-ipv6", "120")]), False),
            (("10.0.0.16/12", []), True),
            (("2001:db8::/48", []), True),
            (("10.0.0.16/29,2001:db8::/48", []), False),
            (("10.0.0.16/24,2001:db8::/48", [("node-cidr-mask-size-ipv4", "23")]), False),
            (("2001:db8::1/112,10.0.0.16/16", []), False),
            (("10.0.0.16/16,2001:db8::1/64", [("node-cidr-mask-size-ipv6", "24")]), False),
            (("2001:db8::1/12,10.0.0.16/16", []), False),
            (("10.0.0.16/16,2001:db8::1/64", [("node-cidr-mask-size-ipv6", "120")]), False),
            (("2001:db8::/48,10.0.0.16/12", []), True),
        ],
    ),
    "TestGetClusterNodeMask (errors)": (
        lambda a: cluster(
            networking={"podSubnet": "10.0.0.0/16,2001:db8::/48"}, controllerManager={"extraArgs": args(*a)}
        ),
        [
            ([("node-cidr-mask-size", "21"), ("node-cidr-mask-size-ipv4", "23")], True),
            ([("node-cidr-mask-size-ipv4", "aa")], False),
            ([("node-cidr-mask-size", "23"), ("node-cidr-mask-size-ipv6", "a83")], False),
        ],
    ),
    "TestValidateServiceSubnetSize": (
        lambda s: cluster(networking={"serviceSubnet": s}),
        [
            ("10.0.0.16/2", False),
            ("2001:db8::1/64", False),
            ("10.0.0.16/12", True),
            ("2001:db8::/112", True),
            ("2001:db8::1/112,10.0.0.16/6", False),
            ("2001:db8::1/12,10.0.0.16/16", False),
            ("10.0.0.16/12,2001:db8::/112", True),
            ("2001:db8::/112,10.0.0.16/12", True),
        ],
    ),
    "TestValidateHostPort": (
        lambda e: cluster(controlPlaneEndpoint=e),
        [
            ("cp.k8s.io:8081", True),
            ("cp.k8s.io", True),
            ("1.2.3.4:8081", True),
            ("1.2.3.4", True),
            ("[2001:db7::1]:8081", True),
            ("2001:db7::1", True),
            ("1.2.34", True),
            ("a.B.c.d.e", False),
            ("2001:db7:1", False),
            ("1.2.3.4:0", False),
        ],
    ),
    "TestValidateAPIEndpoint": (
        lambda ap: init(localAPIEndpoint={"advertiseAddress": ap[0], "bindPort": ap[1]}),
        [
            (("4.5.6.7", 6443), True),
            (("2001:db7::2", 6443), True),
            (("1.2.34", 6443), False),
            (("2001:db7:1", 6443), False),
        ],
    ),
    "TestValidateCertificateKey": (
        lambda k: init(certificateKey=k),
        [
            ("e6a2eb8581237ab72a4f494f30285ec12a9694d750b9785706a83bfcbbbd2204", True),
            ("z6a2eb8581237ab72a4f494f30285ec12a9694d750b9785706a83bfcbbbd2204", False),
            ("e6a2", False),
        ],
    ),
    "TestValidateJoinConfiguration": (
        lambda cp: join(controlPlane=cp),
        [
            (None, True),
            ({"localAPIEndpoint": {"advertiseAddress": "1.2.3.4", "bindPort": 1234}}, True),
            ({"localAPIEndpoint": {"advertiseAddress": "aaa", "bindPort": 1234}}, False),
            ({"localAPIEndpoint": {"advertiseAddress": "1.2.3.4", "bindPort": -1}}, False),
        ],
    ),
    "TestValidateFeatureGates": (
        lambda g: cluster(featureGates=g),
        [({"Unknown": True}, False), ({"Unknown": False}, False)],
    ),
    "TestValidateIgnorePreflightErrors (config file)": (
        lambda items: init(nodeRegistration={"name": "n", "ignorePreflightErrors": items}),
        [([], True), (["a"], True), (["c", "d"], True), (["all"], True), (["a", "b", "all"], False)],
    ),
    "TestValidateDiscovery": (
        lambda disc: join(discovery=disc),
        [
            (
                {"bootstrapToken": {"token": TOKEN}, "file": {"kubeConfigPath": "https://url/file.conf"}},
                False,
            ),
            ({}, False),
        ],
    ),
    "TestValidateDiscoveryBootstrapToken": (
        lambda bt: join(discovery={"bootstrapToken": bt}),
        [
            ({"token": TOKEN}, False),
            ({"token": TOKEN, "apiServerEndpoint": "192.168.122.100:6443"}, False),
            ({"token": TOKEN, "apiServerEndpoint": "192.168.122.100:6443", "caCertHashes": [HASH]}, True),
            (
                {
                    "token": TOKEN,
                    "apiServerEndpoint": "192.168.122.100:6443",
                    "caCertHashes": [HASH],
                    "unsafeSkipCAVerification": True,
                },
                True,
            ),
        ],
    ),
    "TestValidateDiscoveryTokenAPIServer": (
        lambda e: join(
            discovery={"bootstrapToken": {"token": TOKEN, "apiServerEndpoint": e, "caCertHashes": [HASH]}}
        ),
        [("192.168.122.100", False), ("192.168.122.100:6443", True)],
    ),
    "TestValidateDiscoveryKubeConfigPath (URLs)": (
        lambda p: join(discovery={"file": {"kubeConfigPath": p}}),
        [
            ("http://[::1]a", False),
            ("http://url/file.conf", False),
            ("https://u r l/file.conf", False),
            ("https://url/file.conf", True),
        ],
    ),
    "TestValidateSocketPath": (
        lambda s: init(nodeRegistration={"name": "n", "criSocket": s}),
        [("unix:///some/path", True), ("bla:///some/path", False)],
    ),
    "TestValidateURLs": (
        lambda ext: cluster(etcd={"external": ext}),
        [
            ({"endpoints": ["http://example.com", "https://example.org"]}, True),
            (tls_etcd("https://example.com", "https://example.org"), True),
            (tls_etcd("http://example.com", "https://example.org"), False),
            ({"endpoints": ["::://example.com"]}, False),
            ({"endpoints": ["example.com"]}, False),
        ],
    ),
    "TestValidateEtcd": (
        lambda etcd: cluster(etcd=etcd),
        [
            (
                {
                    "local": {"dataDir": "/some/path"},
                    "external": {"endpoints": ["10.100.0.1:2379", "10.100.0.2:2379"]},
                },
                False,
            ),
            (
                {"external": {"endpoints": ["https://external.etcd1:2379"], "certFile": "/some/file.crt"}},
                False,
            ),
            (
                {
                    "external": {
                        "endpoints": ["https://external.etcd1:2379"],
                        "certFile": "/some/file.crt",
                        "keyFile": "/some/file.key",
                    }
                },
                False,
            ),
            ({"external": tls_etcd("https://external.etcd1:2379", "https://external.etcd2:2379")}, True),
            ({"external": {"endpoints": ["http://10.100.0.1:2379", "http://10.100.0.2:2379"]}}, True),
        ],
    ),
    "TestValidateEncryptionAlgorithm": (
        lambda a: cluster(encryptionAlgorithm=a),
        [("RSA-2048", True), ("RSA-3072", True), ("RSA-4096", True), ("ECDSA-P256", True), ("foo", False)],
    ),
    "TestValidateImageRepository": (
        lambda r: cluster(imageRepository=r),
        [
            ("a", True),
            ("a.b.c", True),
            ("a.b.c/repo", True),
            ("a:5000", True),
            ("a.b.c:5000", True),
            ("a.b.c:5000/repo", True),
            ("a/b/c", True),
            ("127.0.0.1:5000/repo", True),
            ("a.b/c\n\t\t\ts", False),
            (" a.b.c", False),
            ("a.b c", False),
            ("a.b.c:5000/", False),
            ("https://a.b.c:5000", False),
            ("a//b/c", False),
            ("a.b.c:5000/test:1.0", False),
        ],
    ),
    "TestValidateAbsolutePath": (
        lambda p: cluster(certificatesDir=p),
        [("/etc/cert/dir", True), ("./tmp", False), ("foo..", False)],
    ),
    "TestValidateExtraArgs": (
        lambda a: cluster(apiServer={"extraArgs": a}),
        [(args(("foo", "bar")), True), (args(("", "bar")), False), (args(("", "foo"), ("", "bar")), False)],
    ),
    "TestValidateUnmountFlags": (
        lambda f: ("ResetConfiguration", {"unmountFlags": f}),
        [
            ([], True),
            (["MNT_FORCE", "MNT_DETACH", "MNT_EXPIRE", "UMOUNT_NOFOLLOW"], True),
            (["foo", "bar"], False),
        ],
    ),
    # ValidateUpgradeConfiguration (validation.go; no vectors upstream): absolute patch directories.
    "ValidateUpgradeConfiguration": (
        lambda p: ("UpgradeConfiguration", {"apply": {"patches": p}, "node": {"patches": p}}),
        [
            ({"directory": "/etc/kubernetes/patches"}, True),
            ({"directory": "patches"}, False),
            ({}, False),
        ],
    ),
    "TestPullPolicy": (
        lambda p: init(nodeRegistration={"name": "n", "imagePullPolicy": p}),
        [("", True), ("foo", False), ("IfNotPresent", True)],
    ),
}

CASES = [
    pytest.param(build, value, valid, id=f"{name}[{i}]")
    for name, (build, rows) in VECTORS.items()
    for i, (value, valid) in enumerate(rows)
]


@pytest.mark.parametrize(("build", "value", "valid"), CASES)
def test_upstream_vector(build: Build, value: Any, valid: bool) -> None:
    kind, body = build(value)
    found = problems(kind, body)
    assert (not found) == valid, found
