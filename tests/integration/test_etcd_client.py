"""EtcdClient against real etcd 3.4 (Debian's /usr/bin/etcd) on loopback with kubeadm-py's PKI:
member list, learner add + promote of a second process started with
``--initial-cluster-state existing``, health of both members (checked by etcdctl too), removal,
TLS rejections and bounded failures."""

from __future__ import annotations

import time

import pytest

from kubeadm_py.errors import KubeadmError
from kubeadm_py.etcd.client import EtcdClient, EtcdError
from kubeadm_py.hostfs import HostFS
from tests.integration.etcd_helpers import EtcdMember, etcdctl, free_port, make_pki, needs_etcd, wait_serving

pytestmark = [pytest.mark.integration, needs_etcd]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    root = tmp_path_factory.mktemp("etcd-node1")
    pki = make_pki(root)
    first = EtcdMember("node1", pki, root / "run")
    try:
        first.start()
        wait_serving(first)
        yield root, first
    finally:
        first.stop()


def node_client(root, endpoints, timeout=10.0) -> EtcdClient:
    return EtcdClient.for_node(HostFS(rootfs=root), "/etc/kubernetes/pki", endpoints)


def test_for_node_uses_the_healthcheck_client_pair(cluster):
    root, first = cluster
    c = node_client(root, [first.client_url])
    assert c.cert_file.endswith("etc/kubernetes/pki/etcd/healthcheck-client.crt")
    assert c.ca_file.endswith("etc/kubernetes/pki/etcd/ca.crt")


def test_member_list(cluster):
    root, first = cluster
    members = node_client(root, [first.client_url]).members()
    assert len(members) == 1
    m = members[0]
    assert (m.name, m.peer_urls, m.client_urls, m.is_learner) == (
        "node1",
        [first.peer_url],
        [first.client_url],
        False,
    )
    assert m.id > 2**32  # a real uint64 parsed from its JSON string


def test_learner_add_promote_health_remove(cluster):
    root, first = cluster
    c = node_client(root, [first.client_url])
    second = EtcdMember("node2", first.pki, root / "run")
    try:
        after = c.add_member("node2", second.peer_url, learner=True)
        assert len(after) == 2
        new = next(m for m in after if m.peer_urls == [second.peer_url])
        assert new.is_learner and new.name == "node2"
        # re-adding the same peer URL is a no-op that lists the members (kubeadm join retries)
        again = c.add_member("node2", second.peer_url, learner=True)
        assert sorted(m.id for m in again) == sorted(m.id for m in after)
        assert c.member_by_peer_url(second.peer_url).is_learner  # type: ignore[union-attr]

        second.start(f"node1={first.peer_url},node2={second.peer_url}", state="existing")
        t0 = time.monotonic()
        c.promote(new.id)  # retried while "can only promote a learner member which is in sync"
        promoted_in = time.monotonic() - t0
        assert promoted_in < 60
        members = c.members()
        assert len(members) == 2 and not any(m.is_learner for m in members)
        c.promote(new.id)  # already a voting member: no-op

        both = node_client(root, [first.client_url, second.client_url])
        both.wait_healthy(30)
        assert both.healthy()
        assert set(both.endpoint_health()) == {first.client_url, second.client_url}
        r = etcdctl(first.pki, [first.client_url], "endpoint", "health", "--cluster")
        assert r.returncode == 0, r.stderr
        out = r.stdout + r.stderr
        assert f"{first.client_url} is healthy" in out and f"{second.client_url} is healthy" in out

        c.remove_member(new.id)
        assert [m.name for m in c.members()] == ["node1"]
        assert c.member_by_peer_url(second.peer_url) is None
        c.remove_member(new.id)  # already gone: not an error
        r = etcdctl(first.pki, [first.client_url], "member", "list")
        assert r.returncode == 0 and "node2" not in r.stdout and r.stdout.count("\n") == 1
    finally:
        second.stop()
    assert c.healthy()


def test_client_certificate_from_another_ca_is_rejected(cluster, tmp_path):
    root, first = cluster
    other = make_pki(tmp_path / "other")
    ours = root / "etc/kubernetes/pki"
    bad_client = EtcdClient(
        [first.client_url],
        str(ours / "etcd/ca.crt"),
        str(other / "etcd/healthcheck-client.crt"),
        str(other / "etcd/healthcheck-client.key"),
    )
    t0 = time.monotonic()
    with pytest.raises(EtcdError) as e:
        bad_client.members()
    assert time.monotonic() - t0 < 5  # not retried: retrying cannot fix it
    assert f"etcd endpoint {first.client_url} rejected the client certificate" in str(e.value)
    assert "/etc/kubernetes/pki/etcd/healthcheck-client.crt" in str(e.value)  # the host path
    assert not bad_client.healthy()

    # and a server whose certificate our (other) CA did not sign is refused
    untrusting = EtcdClient.for_node(
        HostFS(rootfs=tmp_path / "other"), "/etc/kubernetes/pki", [first.client_url]
    )
    with pytest.raises(EtcdError, match="server certificate not accepted"):
        untrusting.members()


def test_unreachable_endpoint_is_a_bounded_clear_error(cluster):
    root, _ = cluster
    dead = f"https://127.0.0.1:{free_port()}"
    c = node_client(root, [dead])
    c.timeout = 2.0
    t0 = time.monotonic()
    with pytest.raises(EtcdError) as e:
        c.members()
    took = time.monotonic() - t0
    assert 1.5 <= took < 6
    assert dead in str(e.value) and "Connection refused" in str(e.value)
    assert "did not succeed within 2s" in str(e.value)
    with pytest.raises(KubeadmError, match=f"etcd is not healthy after 1s: {dead}"):
        c.wait_healthy(1)


def test_a_dead_endpoint_is_skipped_for_a_live_one(cluster):
    root, first = cluster
    c = node_client(root, [f"https://127.0.0.1:{free_port()}", first.client_url])
    assert [m.name for m in c.members()] == ["node1"]
    assert c.endpoint_health()[first.client_url] is None
    assert not c.healthy()  # healthy() means every endpoint answers
