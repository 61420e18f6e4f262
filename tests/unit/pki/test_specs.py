from kubeadm_py.options import FLAGS
from kubeadm_py.phases.shared.certs import certs_phase, join_certs_phase
from kubeadm_py.phases.shared.kubeconfig import join_kubeconfig_phase, kubeconfig_phase
from kubeadm_py.pki import specs

UPSTREAM_ORDER = [
    "ca",
    "apiserver",
    "apiserver-kubelet-client",
    "front-proxy-ca",
    "front-proxy-client",
    "etcd-ca",
    "etcd-server",
    "etcd-peer",
    "etcd-healthcheck-client",
    "apiserver-etcd-client",
]


def test_table_order_and_files():
    assert [c.name for c in specs.CERTS] == UPSTREAM_ORDER
    files = {c.name: (c.cert_file, c.key_file) for c in specs.CERTS}
    assert files["etcd-server"] == ("etcd/server.crt", "etcd/server.key")
    assert files["etcd-ca"] == ("etcd/ca.crt", "etcd/ca.key")
    assert files["apiserver-etcd-client"] == ("apiserver-etcd-client.crt", "apiserver-etcd-client.key")


def test_external_etcd_drops_etcd_entries():
    assert [c.name for c in specs.cert_list(local_etcd=False)] == UPSTREAM_ORDER[:5]


def test_node_specific_names():
    assert specs.node_specific_names() == (
        "apiserver",
        "apiserver-kubelet-client",
        "front-proxy-client",
        "etcd-server",
        "etcd-peer",
        "etcd-healthcheck-client",
        "apiserver-etcd-client",
    )
    assert specs.node_specific_names(local_etcd=False) == (
        "apiserver",
        "apiserver-kubelet-client",
        "front-proxy-client",
    )


def test_certs_phase_children_from_table():
    p = certs_phase()
    assert [c.name for c in p.children] == [*UPSTREAM_ORDER, "sa"]
    by = {c.name: c for c in p.children}
    assert by["apiserver"].flags == (
        "apiserver-advertise-address",
        "apiserver-cert-extra-sans",
        "cert-dir",
        "config",
        "control-plane-endpoint",
        "dry-run",
        "kubernetes-version",
        "service-cidr",
        "service-dns-domain",
    )
    assert [r.name for r in by["apiserver"].requires] == ["ca"]
    assert [r.name for r in by["etcd-peer"].requires] == ["etcd-ca"]
    assert [r.name for r in by["front-proxy-client"].requires] == ["front-proxy-ca"]
    assert by["ca"].requires == () and by["ca"].provides == ("ca",)
    assert by["sa"].provides == ("sa",)
    assert by["etcd-server"].run_if is not None and by["apiserver"].run_if is None
    assert p.provides == ("pki",)
    for child in p.children:
        for f in child.flags:
            assert f in FLAGS, f


def test_join_variants():
    assert [c.name for c in join_certs_phase().children] == list(specs.node_specific_names())
    assert [c.name for c in join_kubeconfig_phase().children] == ["admin", "controller-manager", "scheduler"]
    k = kubeconfig_phase()
    assert [c.name for c in k.children] == [
        "admin",
        "super-admin",
        "kubelet",
        "controller-manager",
        "scheduler",
    ]
    assert all(c.requires[0].name == "ca" for c in k.children)
    assert "node-name" in {c.name: c for c in k.children}["kubelet"].flags
    for child in k.children:
        for f in child.flags:
            assert f in FLAGS, f
