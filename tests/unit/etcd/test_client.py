"""EtcdClient logic with a scripted transport and a fake clock: retries across endpoints, bounded
failures, idempotent add, promote retry, remove of a gone member, health. Real etcd is exercised
in tests/integration/test_etcd_client.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kubeadm_py.errors import KubeadmError
from kubeadm_py.etcd import client as mod
from kubeadm_py.etcd.client import EtcdClient, EtcdError, Member, parse_member
from kubeadm_py.hostfs import HostFS
from kubeadm_py.pki import manager
from tests.integration.pki_helpers import make_cfg

A, B = "https://10.0.0.1:2379", "https://10.0.0.2:2379"
M1 = {"ID": "8543087242056840113", "name": "node1", "peerURLs": ["https://10.0.0.1:2380"], "clientURLs": [A]}
M2_LEARNER = {"ID": "12345678901234567890", "peerURLs": ["https://10.0.0.2:2380"], "isLearner": True}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    root = tmp_path_factory.mktemp("pki")
    manager.create_pki(
        HostFS(rootfs=root),
        make_cfg("ECDSA-P256"),
        names=["etcd-ca", "etcd-healthcheck-client", "apiserver-etcd-client"],
    )
    return root


Handler = Callable[[str, str, dict[str, Any]], dict[str, Any]]


class Scripted:
    """Plays ``handler(endpoint, path, body)`` for every HTTP exchange; a fake clock advances by
    each attempt's timeout on transient failures and by the sleeps."""

    def __init__(self, client: EtcdClient, handler: Handler) -> None:
        self.now = 0.0
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.sleeps: list[float] = []
        client._clock = lambda: self.now
        client._sleep = self.sleep
        client._post_once = self.post  # type: ignore[method-assign]
        self.handler = handler

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s

    def post(self, endpoint: str, path: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        self.calls.append((endpoint, path, body))
        try:
            return self.handler(endpoint, path, body)
        except mod._Transient:
            self.now += timeout
            raise


def make_client(pki, endpoints=(A, B), timeout=10.0) -> EtcdClient:
    c = EtcdClient.for_node(HostFS(rootfs=pki), "/etc/kubernetes/pki", list(endpoints))
    c.timeout = timeout
    return c


def refused(*_: Any) -> dict[str, Any]:
    raise mod._Transient("Connection refused")


def test_for_node_prefers_healthcheck_client_and_falls_back(pki, tmp_path):
    c = make_client(pki)
    assert c.cert_file.endswith("/etcd/healthcheck-client.crt") and c.key_file.endswith(
        "/etcd/healthcheck-client.key"
    )
    assert c.ca_file.endswith("/etc/kubernetes/pki/etcd/ca.crt")
    (pki / "etc/kubernetes/pki/etcd/healthcheck-client.key").rename(tmp_path / "k")
    try:
        assert make_client(pki).cert_file.endswith("/apiserver-etcd-client.crt")
    finally:
        (tmp_path / "k").rename(pki / "etc/kubernetes/pki/etcd/healthcheck-client.key")


def test_for_node_errors_name_the_missing_files(tmp_path, pki):
    with pytest.raises(KubeadmError, match="etcd CA certificate /etc/kubernetes/pki/etcd/ca.crt not found"):
        EtcdClient.for_node(HostFS(rootfs=tmp_path), "/etc/kubernetes/pki", [A])
    with pytest.raises(KubeadmError, match="invalid etcd endpoint 'ftp://x'"):
        make_client(pki, endpoints=["ftp://x"])
    with pytest.raises(KubeadmError, match="etcd client certificate or key not found"):
        EtcdClient(
            [A],
            str(pki / "etc/kubernetes/pki/etcd/ca.crt"),
            str(tmp_path / "no.crt"),
            str(tmp_path / "no.key"),
        )


def test_parse_member_uint64_strings_and_omitted_fields():
    m = parse_member(M2_LEARNER)
    assert m == Member(12345678901234567890, "", ["https://10.0.0.2:2380"], [], True)
    assert not m.started and m.hex_id == format(12345678901234567890, "x")
    assert parse_member(M1).started and not parse_member(M1).is_learner


def test_connection_failure_moves_to_the_next_endpoint_and_sticks(pki):
    c = make_client(pki)

    def handler(ep, path, body):
        if ep == A:
            raise mod._Transient("Connection refused")
        return {"members": [M1]}

    s = Scripted(c, handler)
    assert [m.name for m in c.members()] == ["node1"]
    c.members()
    assert [ep for ep, _, _ in s.calls] == [A, B, B]  # B, which answered, is asked first afterwards


def test_unreachable_endpoints_give_a_bounded_error_naming_them(pki):
    c = make_client(pki, timeout=10)
    s = Scripted(c, refused)
    with pytest.raises(EtcdError) as e:
        c.members()
    assert s.now <= 10 + mod.ATTEMPT_TIMEOUT
    msg = str(e.value)
    assert "etcd member list did not succeed within 10s" in msg
    assert f"{A}: Connection refused" in msg and f"{B}: Connection refused" in msg
    assert len(s.calls) >= 2 and all(x <= mod.BACKOFF_MAX for x in s.sleeps)


def test_transient_cluster_errors_are_retried_then_succeed(pki):
    c = make_client(pki)
    answers = [mod._ApiFailure(503, 14, "etcdserver: leader changed"), {"members": [M1]}]

    def handler(ep, path, body):
        a = answers.pop(0)
        if isinstance(a, Exception):
            raise a
        return a

    Scripted(c, handler)
    assert len(c.members()) == 1


def test_permanent_errors_are_not_retried(pki):
    c = make_client(pki)
    s = Scripted(c, lambda *a: (_ for _ in ()).throw(mod._ApiFailure(400, 3, "etcdserver: bad request")))
    with pytest.raises(
        EtcdError, match=r"etcd member list failed on https://10.0.0.1:2379: etcdserver: bad request"
    ):
        c.members()
    assert len(s.calls) == 1


def test_add_member_is_idempotent_on_the_peer_url(pki):
    c = make_client(pki)
    s = Scripted(c, lambda ep, path, body: {"members": [M1, {**M2_LEARNER, "name": "old"}]})
    after = c.add_member("node2", "https://10.0.0.2:2380", learner=True)
    assert [p for _, p, _ in s.calls] == ["/v3/cluster/member/list"]
    assert [m.name for m in after] == ["node1", "node2"]


def test_add_member_sends_learner_and_names_members(pki):
    c = make_client(pki)
    nameless = {"ID": "255", "peerURLs": ["https://10.0.0.3:2380"], "clientURLs": ["https://10.0.0.3:2379"]}

    def handler(ep, path, body):
        if path.endswith("/list"):
            return {"members": [M1, nameless]}
        assert body == {"peerURLs": ["https://10.0.0.2:2380"], "isLearner": True}
        return {"member": M2_LEARNER, "members": [M1, nameless, M2_LEARNER]}

    Scripted(c, handler)
    after = c.add_member("node2", "https://10.0.0.2:2380", learner=True)
    assert [(m.name, m.is_learner) for m in after] == [("node1", False), ("ff", False), ("node2", True)]


def test_add_member_after_a_lost_answer_lists_members(pki):
    c = make_client(pki)
    state = {"lists": 0}

    def handler(ep, path, body):
        if path.endswith("/list"):
            state["lists"] += 1
            return {"members": [M1] if state["lists"] == 1 else [M1, M2_LEARNER]}
        raise mod._ApiFailure(412, 9, "etcdserver: Peer URLs already exists")

    Scripted(c, handler)
    assert [m.name for m in c.add_member("node2", "https://10.0.0.2:2380", True)] == ["node1", "node2"]


def test_add_member_rejects_a_bad_peer_url(pki):
    with pytest.raises(KubeadmError, match="invalid etcd peer URL"):
        make_client(pki).add_member("x", "10.0.0.2:2380")


def test_promote_retries_until_the_learner_is_in_sync(pki):
    c = make_client(pki)
    tries = {"n": 0}

    def handler(ep, path, body):
        assert path == "/v3/cluster/member/promote" and body == {"ID": "12345678901234567890"}
        tries["n"] += 1
        if tries["n"] < 4:
            raise mod._ApiFailure(412, 9, mod.IN_SYNC_MESSAGE)
        return {"members": []}

    s = Scripted(c, handler)
    c.promote(12345678901234567890)
    assert tries["n"] == 4 and len(s.sleeps) == 3


def test_promote_gives_up_after_promote_timeout(pki):
    c = make_client(pki)
    c.promote_timeout = 5

    def handler(ep, path, body):
        raise mod._ApiFailure(412, 9, "etcdserver: " + mod.IN_SYNC_MESSAGE)

    s = Scripted(c, handler)
    with pytest.raises(EtcdError, match="promote of member .* did not succeed within 5s"):
        c.promote(1)
    assert s.now <= 5 + mod.BACKOFF_MAX


def test_promote_of_a_voting_member_is_a_no_op(pki):
    c = make_client(pki)

    def handler(ep, path, body):
        if path.endswith("/promote"):
            raise mod._ApiFailure(412, 9, "etcdserver: can only promote a learner member")
        return {"members": [M1]}

    Scripted(c, handler)
    c.promote(int(M1["ID"]))


def test_remove_of_a_gone_member_is_not_an_error(pki):
    c = make_client(pki)
    Scripted(c, lambda *a: (_ for _ in ()).throw(mod._ApiFailure(404, 5, "etcdserver: member not found")))
    c.remove_member(42)


def test_member_by_peer_url(pki):
    c = make_client(pki)
    Scripted(c, lambda *a: {"members": [M1, M2_LEARNER]})
    assert c.member_by_peer_url("https://10.0.0.2:2380/").id == 12345678901234567890  # type: ignore[union-attr]
    assert c.member_by_peer_url("https://10.0.0.9:2380") is None


def test_health_needs_every_endpoint(pki):
    c = make_client(pki)

    def handler(ep, path, body):
        if ep == B:
            raise mod._Transient("Connection refused")
        return {"header": {}}

    s = Scripted(c, handler)
    assert c.endpoint_health() == {A: None, B: "Connection refused"}
    assert not c.healthy()
    assert ("https://10.0.0.1:2379", "/v3/kv/range", {"key": "aGVhbHRo"}) in s.calls
    with pytest.raises(KubeadmError, match=f"etcd is not healthy after 3s: {B}: Connection refused"):
        c.wait_healthy(3)


def test_health_reports_alarms(pki):
    c = make_client(pki, endpoints=[A])
    Scripted(c, lambda ep, path, body: {"errors": ["NOSPACE"]} if path.endswith("/status") else {})
    assert c.endpoint_health() == {A: "alarms: NOSPACE"}
