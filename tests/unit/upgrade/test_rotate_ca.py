"""``certs rotate-ca`` on a control-plane node made by the real init phases, against the in-memory
API server (which signs kubelet CSRs with the node's current ca.crt/ca.key, as the
controller-manager does), with the fake waiter standing for the kubelet. The stage table and its
refusals are checked as functions; the real round trip with a worker is
tests/integration/test_carotate_testbed.py."""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from kubeadm_py.certs import rotateca as rc
from kubeadm_py.certs import rotateca_files as rf
from kubeadm_py.errors import KubeadmError, PhaseError
from kubeadm_py.pki.verify import signed_by
from tests.unit.runctx import FakeServices
from tests.unit.upgrade.conftest import NODE, FakeWaiter, Killed, Node
from tests.unit.upgrade.trustfake import PollingWaiter, TrustController

PKI = "/etc/kubernetes/pki"
CONFS = ("admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf", "kubelet.conf")


# --- the stage table -----------------------------------------------------------------------------
def rotation(stage: str, generation: int = 1) -> rc.Rotation:
    return rc.Rotation(generation, stage, b"OLD\n", b"NEW\n")


@pytest.mark.parametrize(
    ("command", "stage", "to"),
    [
        ("begin", None, "begin"),
        ("begin", "begin", "begin"),
        ("begin", "finished", "begin"),
        ("switch", "begin", "switch"),
        ("switch", "switch", "switch"),
        ("finish", "switch", "finished"),
        ("finish", "finished", "finished"),
    ],
)
def test_allowed_transitions(command: str, stage: str | None, to: str) -> None:
    assert rc.next_stage(command, rotation(stage) if stage else None) == to


@pytest.mark.parametrize(
    ("command", "stage"),
    [("begin", "switch"), ("switch", None), ("switch", "finished"), ("finish", None), ("finish", "begin")],
)
def test_refused_transitions(command: str, stage: str | None) -> None:
    with pytest.raises(KubeadmError, match=f"cannot run at stage {stage or 'none'}"):
        rc.next_stage(command, rotation(stage) if stage else None)


def test_trust_per_stage() -> None:
    assert rotation("begin").trust == b"OLD\nNEW\n" and rotation("begin").signer == b"OLD\n"
    assert rotation("switch").trust == b"OLD\nNEW\n" and rotation("switch").signer == b"NEW\n"
    assert rotation("finished").trust == b"NEW\n"


def node_obj(name: str, **annotations: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "annotations": annotations}}


def test_lagging_nodes_are_named() -> None:
    ca = ca_pem()
    rot = rc.Rotation(3, "switch", ca_pem(), ca)
    new = rc.fingerprint(ca)
    nodes = [
        node_obj("done", **{rc.NODE_STAGE: "3/switch", rc.NODE_ISSUER: new}),
        node_obj("old-cert", **{rc.NODE_STAGE: "3/switch", rc.NODE_ISSUER: "other"}),
        node_obj("at-begin", **{rc.NODE_STAGE: "3/begin", rc.NODE_ISSUER: new}),
        node_obj("last-rotation", **{rc.NODE_STAGE: "2/finished", rc.NODE_ISSUER: new}),
        node_obj("never"),
    ]
    assert rc.lagging_nodes(nodes, rot, "switch") == ["at-begin", "last-rotation", "never", "old-cert"]
    assert rc.lagging_nodes(nodes, rot, "begin") == ["last-rotation", "never"]
    with pytest.raises(KubeadmError, match="4 node.*stage switch of rotation 3: at-begin, last-rotation"):
        rc.refuse_lagging(nodes, rot, "finish")


def ca_pem() -> bytes:
    from kubeadm_py.pki import issue, keys

    key = keys.generate_key("ECDSA-P256")
    now = datetime.datetime.now(datetime.UTC)
    return issue.encode_cert(issue.self_signed_ca("kubernetes", key, now, now + datetime.timedelta(days=1)))


def test_manifest_flags_and_stamp_come_back_to_init() -> None:
    text = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "kube-controller-manager"},
            "spec": {
                "containers": [
                    {
                        "name": "kube-controller-manager",
                        "command": [
                            "kube-controller-manager",
                            f"--client-ca-file={PKI}/ca.crt",
                            f"--cluster-signing-cert-file={PKI}/ca.crt",
                            f"--root-ca-file={PKI}/ca.crt",
                        ],
                    }
                ]
            },
        }
    )
    flags = rf.TRUST_FLAGS["kube-controller-manager"]
    bundled = rf.manifest(
        text, "kcm", "kube-controller-manager", dict.fromkeys(flags, f"{PKI}/ca-bundle.crt"), "s"
    )
    pod = yaml.safe_load(bundled)
    assert pod["spec"]["containers"][0]["command"][1:] == [
        f"--client-ca-file={PKI}/ca-bundle.crt",
        f"--cluster-signing-cert-file={PKI}/ca.crt",  # signs with ca.crt, never a bundle
        f"--root-ca-file={PKI}/ca-bundle.crt",
    ]
    assert pod["metadata"]["annotations"] == {rf.MANIFEST_ANNOTATION: "s"}
    back = rf.manifest(bundled, "kcm", "kube-controller-manager", dict.fromkeys(flags, f"{PKI}/ca.crt"), None)
    assert yaml.safe_load(back) == yaml.safe_load(text)


# --- a control-plane node ------------------------------------------------------------------------
class SigningAPI:
    """Wraps the node's fake API server: a kubelet CSR is approved and signed on creation with the
    node's ca.crt/ca.key of that moment (the controller-manager's signer)."""

    def __init__(self, node: Node) -> None:
        self.node, self.inner = node, node.api
        self.endpoint = node.api.endpoint
        self.trust = TrustController(node)  # the API server's cluster-authentication-trust controller
        self.die_after: tuple[str, str] | None = None  # (method, path suffix): kill -9 once it is sent

    def send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        self.trust.before(method, path)
        answer = self.inner.send(method, path, body, headers)
        self.trust.after(method, path)
        if self.die_after and method == self.die_after[0] and path.endswith(self.die_after[1]):
            self.die_after = None
            raise Killed
        if method == "POST" and path.endswith("/certificatesigningrequests") and body:
            obj = json.loads(body)
            obj["status"] = {"certificate": base64.b64encode(self.sign(obj)).decode()}
            self.inner.put(obj)
        return answer

    def sign(self, obj: dict[str, Any]) -> bytes:
        csr = x509.load_pem_x509_csr(base64.b64decode(obj["spec"]["request"]))
        ca = x509.load_pem_x509_certificate(self.node.path(f"{PKI}/ca.crt").read_bytes())
        key = serialization.load_pem_private_key(self.node.path(f"{PKI}/ca.key").read_bytes(), None)
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(ca.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256())  # type: ignore[arg-type]
        )
        return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def waiter(node: Node) -> FakeWaiter:
    node.waiter = PollingWaiter()
    return node.waiter


@pytest.fixture
def cp(node: Node, waiter: FakeWaiter) -> Node:
    from kubeadm_py.kube.client import KubeClient, RetryPolicy

    signing = SigningAPI(node)
    node.signing = signing  # type: ignore[attr-defined]
    node.services = FakeServices("systemd", active={"kubelet"})  # the kubelet restarts are recorded
    node.connect = lambda *a: KubeClient(  # type: ignore[method-assign]
        signing, user="kubernetes-admin", retry=RetryPolicy(attempts=2, first_delay=0.0), sleep=lambda s: None
    )
    return node


def cert(node: Node, path: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(node.path(path).read_bytes())


def conf(node: Node, name: str) -> tuple[bytes, x509.Certificate]:
    doc = yaml.safe_load(node.path(f"/etc/kubernetes/{name}").read_text())
    ca = base64.b64decode(doc["clusters"][0]["cluster"]["certificate-authority-data"])
    client = base64.b64decode(doc["users"][0]["user"]["client-certificate-data"])
    return ca, x509.load_pem_x509_certificate(client)


def command(node: Node, component: str) -> list[str]:
    return [str(w) for w in yaml.safe_load(node.manifest(component))["spec"]["containers"][0]["command"]]


def rotate(node: Node, stage: str, **options: Any) -> Any:
    return node.run("certs-rotate-ca", options={"stage": stage, **options})


def stored(node: Node) -> rc.Rotation:
    rot = rc.from_configmap(node.api.obj("ConfigMap", rc.NAME, "kube-system"))
    assert rot is not None
    return rot


def test_full_rotation_on_a_control_plane(cp: Node, waiter: FakeWaiter) -> None:
    node = cp
    old = node.path(f"{PKI}/ca.crt").read_bytes()
    manifests = {c: node.manifest(c) for c in rf.TRUST_FLAGS}

    begin = rotate(node, "begin")
    rot = stored(node)
    assert (rot.stage, rot.generation, rot.old) == ("begin", 1, old)
    assert node.path(f"{PKI}/ca-new.crt").read_bytes() == rot.new
    assert node.path(f"{PKI}/ca-bundle.crt").read_bytes() == old + rot.new
    assert node.path(f"{PKI}/ca.crt").read_bytes() == old  # never a bundle in ca.crt
    assert f"--client-ca-file={PKI}/ca-bundle.crt" in command(node, "kube-apiserver")
    assert f"--root-ca-file={PKI}/ca-bundle.crt" in command(node, "kube-controller-manager")
    assert all(conf(node, n)[0] == old + rot.new for n in CONFS)
    key = begin.outputs["certificate_key"]
    secret = node.api.obj("Secret", rc.NAME, "kube-system")
    assert rc.read_key_secret(secret, key)[0] == rot.new
    assert ("new-pod", "kube-apiserver") in waiter.calls
    annotations = node.api.obj("Node", NODE)["metadata"]["annotations"]  # type: ignore[index]
    assert annotations[rc.NODE_STAGE] == "1/begin"

    waiter.calls.clear()
    again = rotate(node, "begin")
    assert not again.changed and waiter.calls == [] and stored(node) == rot

    rotate(node, "switch")
    new = cert(node, f"{PKI}/ca.crt")
    assert node.path(f"{PKI}/ca.crt").read_bytes() == rot.new
    assert node.path(f"{PKI}/ca-old.crt").read_bytes() == old
    for leaf in ("apiserver", "apiserver-kubelet-client"):
        assert signed_by(cert(node, f"{PKI}/{leaf}.crt"), new), leaf
    for name in CONFS:
        assert signed_by(conf(node, name)[1], new), name  # kubelet.conf: through the CSR
    annotations = node.api.obj("Node", NODE)["metadata"]["annotations"]  # type: ignore[index]
    assert (annotations[rc.NODE_STAGE], annotations[rc.NODE_ISSUER]) == ("1/switch", rc.fingerprint(rot.new))

    waiter.calls.clear()
    rotate(node, "finish")
    assert stored(node).stage == "finished"
    assert ("new-pod", "kube-apiserver") not in waiter.calls  # it reloads the bundle
    assert ("new-pod", "kube-controller-manager") in waiter.calls  # it reads --root-ca-file at start
    assert node.manifest("kube-apiserver") != manifests["kube-apiserver"]
    assert f"--client-ca-file={PKI}/ca-bundle.crt" in command(node, "kube-apiserver")
    assert (
        node.path(f"{PKI}/ca-bundle.crt").read_bytes() == rot.new == node.path(f"{PKI}/ca.crt").read_bytes()
    )
    assert all(conf(node, n)[0] == rot.new for n in CONFS)
    for name in ("ca-old.crt", "ca-old.key", "ca-new.crt", "ca-new.key"):
        assert not node.path(f"{PKI}/{name}").exists(), name
    assert node.api.obj("Secret", rc.NAME, "kube-system") is None
    assert not rotate(node, "sync").changed

    status = rotate(node, "status").outputs["ca_rotation"]
    assert status["stage"] == "finished" and status["nodes"] == [
        {"node": NODE, "synced": "1/finished", "issuer": "new"}
    ]


def test_a_kubelet_that_was_not_restarted_keeps_the_node_unsynced(cp: Node) -> None:
    """PID 1 not systemd (the test bed's keeper, a container's init): kubeadm-py cannot restart the
    kubelet, whose running process keeps its old client certificate. Recording the node as synced
    at switch let finish drop the old CA under it (the test bed's worker: Unauthorized), so the
    command stops before the node phase; rerun after a manual restart, it records the node."""
    node = cp
    rotate(node, "begin")
    assert node.services.calls == ["restart kubelet"]
    node.services = FakeServices("tini")
    with pytest.raises(PhaseError, match="could not restart it: the service manager is 'tini', not systemd"):
        rotate(node, "switch")
    rot = stored(node)
    assert rot.stage == "switch"
    kubelet_pem = node.path("/etc/kubernetes/kubelet.conf").read_bytes()
    assert signed_by(conf(node, "kubelet.conf")[1], cert(node, f"{PKI}/ca.crt")), "the CSR was signed"
    annotations = node.api.obj("Node", NODE)["metadata"]["annotations"]  # type: ignore[index]
    assert annotations[rc.NODE_STAGE] == "1/begin"  # not synced: finish stays refused
    with pytest.raises(PhaseError, match="have not synced stage switch of rotation 1"):
        rotate(node, "finish")

    rotate(node, "switch")  # the operator restarted the kubelet: the rerun records the node
    assert node.path("/etc/kubernetes/kubelet.conf").read_bytes() == kubelet_pem
    annotations = node.api.obj("Node", NODE)["metadata"]["annotations"]  # type: ignore[index]
    assert (annotations[rc.NODE_STAGE], annotations[rc.NODE_ISSUER]) == ("1/switch", rc.fingerprint(rot.new))


def test_switch_and_finish_are_refused_while_a_node_lags(cp: Node) -> None:
    node = cp
    node.api.put({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1"}})
    rotate(node, "begin")
    before = node.path(f"{PKI}/ca.crt").read_bytes()
    with pytest.raises(PhaseError, match="have not synced stage begin of rotation 1: worker-1"):
        rotate(node, "switch")
    assert node.path(f"{PKI}/ca.crt").read_bytes() == before and stored(node).stage == "begin"
    with pytest.raises(PhaseError, match="cannot run at stage begin"):
        rotate(node, "finish")


def test_sync_without_a_rotation_and_a_bad_stage_are_one_line_errors(cp: Node) -> None:
    with pytest.raises(PhaseError, match="no CA rotation in progress"):
        rotate(cp, "sync")
    with pytest.raises(
        KubeadmError, match="needs one of begin, sync, switch, finish, status, not 'rollback'"
    ):
        rotate(cp, "rollback")


def test_switch_rerun_after_a_kill_between_the_new_key_and_certificate(cp: Node) -> None:
    """ca.key already new, ca.crt still old: ca-old.* (written first) are kept, the pair completed."""
    node = cp
    rotate(node, "begin")
    rot = stored(node)
    node.path(f"{PKI}/ca-old.crt").write_bytes(rot.old)
    node.path(f"{PKI}/ca-old.key").write_bytes(node.path(f"{PKI}/ca.key").read_bytes())
    node.path(f"{PKI}/ca.key").write_bytes(node.path(f"{PKI}/ca-new.key").read_bytes())
    rotate(node, "switch")
    assert node.path(f"{PKI}/ca.crt").read_bytes() == rot.new
    old_key = serialization.load_pem_private_key(node.path(f"{PKI}/ca-old.key").read_bytes(), None)
    old_pub = x509.load_pem_x509_certificate(rot.old).public_key()
    assert old_key.public_key().public_numbers() == old_pub.public_numbers()  # type: ignore[union-attr]


def test_another_control_plane_needs_the_certificate_key(cp: Node, tmp_path: Path) -> None:
    node = cp
    rotate(node, "begin")
    for name in ("ca-new.crt", "ca-new.key"):
        node.path(f"{PKI}/{name}").unlink()  # as on a second control-plane node
    with pytest.raises(PhaseError, match="lacks the new cluster CA"):
        rotate(node, "sync")
    with pytest.raises(PhaseError, match="message authentication failed"):
        rotate(node, "sync", certificate_key="00" * 32)


# --- killed mid-stage, then rerun ------------------------------------------------------------------
def expect_stage(node: Node, stage: str, old: bytes, manifests: dict[str, str]) -> None:
    rot = stored(node)
    assert rot.stage == stage
    for ca in rot.cas[1:]:
        expect_optional(node, rot, ca)
    ca = cert(node, f"{PKI}/ca.crt")
    if stage == "begin":
        assert node.path(f"{PKI}/ca.crt").read_bytes() == old
        assert node.path(f"{PKI}/ca-bundle.crt").read_bytes() == old + rot.new
        assert all(conf(node, n)[0] == old + rot.new for n in CONFS)
        assert f"--client-ca-file={PKI}/ca-bundle.crt" in command(node, "kube-apiserver")
    if stage == "switch":
        assert node.path(f"{PKI}/ca.crt").read_bytes() == rot.new
        assert node.path(f"{PKI}/ca-old.crt").read_bytes() == old
        old_key = serialization.load_pem_private_key(node.path(f"{PKI}/ca-old.key").read_bytes(), None)
        assert (
            old_key.public_key().public_numbers()
            == cert(node, f"{PKI}/ca-old.crt").public_key().public_numbers()
        )  # type: ignore[union-attr]
    if stage in ("switch", "finished"):
        for leaf in ("apiserver", "apiserver-kubelet-client"):
            assert signed_by(cert(node, f"{PKI}/{leaf}.crt"), ca), leaf
        assert all(signed_by(conf(node, n)[1], ca) for n in CONFS)
    if stage == "finished":
        assert node.path(f"{PKI}/ca-bundle.crt").read_bytes() == rot.new
        assert all(conf(node, n)[0] == rot.new for n in CONFS)
        assert not node.path(f"{PKI}/ca-old.key").exists()


def expect_optional(node: Node, rot: rc.Rotation, ca: rc.CASpec) -> None:
    """An optional CA's files at ``rot``'s stage: its bundle, its signer, every trust flag naming the
    bundle, every certificate it issues signed by the signer, the old pair kept from switch to finish."""
    from kubeadm_py.pki import specs

    old, _ = rot.pair(ca.name)
    assert fp(node, ca.bundle) == rot.trust_of(ca.name) and fp(node, f"{ca.base}.crt") == rot.signer_of(
        ca.name
    )
    for component, flags in ca.trust_flags.items():
        assert all(f"{f}={PKI}/{ca.bundle}" in command(node, component) for f in flags), component
    signer = x509.load_pem_x509_certificate(rot.signer_of(ca.name))
    for leaf in specs.leaves_of(ca.spec_name):
        assert signed_by(cert(node, f"{PKI}/{leaf.cert_file}"), signer), leaf.cert_file
    if rot.stage == "switch":
        assert fp(node, f"{ca.old_base}.crt") == old
        old_key = serialization.load_pem_private_key(fp(node, f"{ca.old_base}.key"), None)
        assert old_key.public_key().public_numbers() == (  # type: ignore[union-attr]
            x509.load_pem_x509_certificate(old).public_key().public_numbers()  # type: ignore[union-attr]
        )
    if rot.stage == "finished":
        assert not node.path(f"{PKI}/{ca.old_base}.key").exists()


@pytest.mark.parametrize("optional", ["", "front-proxy", "etcd"], ids=["cluster", "front-proxy", "etcd"])
@pytest.mark.parametrize("command_", ["begin", "switch", "finish"])
@pytest.mark.parametrize("kill_at", [1, 3, 5, 8, 12, 17, 23])
def test_killed_mid_stage_a_rerun_converges(
    cp: Node, monkeypatch: pytest.MonkeyPatch, command_: str, kill_at: int, optional: str
) -> None:
    from kubeadm_py.hostfs import HostFS

    node = cp
    old = node.path(f"{PKI}/ca.crt").read_bytes()
    manifests = {c: node.manifest(c) for c in rf.TRUST_FLAGS}
    options = {optional: True} if optional and command_ == "begin" else {}  # recorded at begin
    for earlier in ("begin", "switch", "finish")[: ("begin", "switch", "finish").index(command_)]:
        rotate(node, earlier, **({optional: True} if optional and earlier == "begin" else {}))
    real_write, writes = HostFS.write, [0]

    def dying_write(self: HostFS, *args: Any, **kw: Any) -> Any:
        writes[0] += 1
        if writes[0] == kill_at:
            raise Killed
        return real_write(self, *args, **kw)

    monkeypatch.setattr(HostFS, "write", dying_write)
    try:
        rotate(node, command_, **options)
    except BaseException as e:  # the runner reports the kill as an internal error (a real kill -9 is silent)
        assert writes[0] == kill_at and "Killed" in f"{e!r} {e}", e
    monkeypatch.setattr(HostFS, "write", real_write)
    rotate(node, command_, **options)
    stage = "finished" if command_ == "finish" else command_
    expect_stage(node, stage, old, manifests)
    assert [c.name for c in stored(node).cas] == ["cluster", *([optional] if optional else [])]
    assert not rotate(node, command_, **options).changed


def test_an_external_ca_is_refused_before_any_write(cp: Node) -> None:
    cp.path(f"{PKI}/ca.key").unlink()
    with pytest.raises(PhaseError, match="needs the cluster CA and its key"):
        rotate(cp, "begin")
    assert not cp.path(f"{PKI}/ca-new.key").exists()
    assert cp.api.obj("ConfigMap", rc.NAME, "kube-system") is None


# --- the front-proxy CA (begin --front-proxy) -------------------------------------------------------
def fp(node: Node, name: str) -> bytes:
    return node.path(f"{PKI}/{name}").read_bytes()


def published(node: Node) -> dict[str, frozenset[str]]:
    """The CAs (fingerprints) kube-system/extension-apiserver-authentication lists, per key."""
    cm = node.api.obj("ConfigMap", "extension-apiserver-authentication", "kube-system")
    assert cm is not None
    return {k: rc.fingerprints(v) for k, v in cm["data"].items() if k.endswith("ca-file")}


def fps(*pems: bytes) -> frozenset[str]:
    return rc.fingerprints(b"".join(pems))


def test_front_proxy_ca_rotates_with_the_cluster_ca(cp: Node, waiter: FakeWaiter) -> None:
    node = cp
    old, old_fp = fp(node, "ca.crt"), fp(node, "front-proxy-ca.crt")

    begin = rotate(node, "begin", **{"front-proxy": True})
    rot = stored(node)
    assert [c.name for c in rot.cas] == ["cluster", "front-proxy"]
    new_fp = rot.pem("new", "front-proxy")
    assert rot.pair("front-proxy")[0] == old_fp and new_fp != old_fp
    assert fp(node, "front-proxy-ca-new.crt") == new_fp
    assert fp(node, "front-proxy-ca-bundle.crt") == old_fp + new_fp
    assert fp(node, "front-proxy-ca.crt") == old_fp  # the signer until switch
    for component in ("kube-apiserver", "kube-controller-manager"):
        assert f"--requestheader-client-ca-file={PKI}/front-proxy-ca-bundle.crt" in command(node, component)
    assert f"--client-ca-file={PKI}/ca-bundle.crt" in command(node, "kube-apiserver")
    assert f"--proxy-client-cert-file={PKI}/front-proxy-client.crt" in command(node, "kube-apiserver")
    # both CAs' flags in one manifest change: the API server restarted once
    assert waiter.calls.count(("new-pod", "kube-apiserver")) == 1
    secret = node.api.obj("Secret", rc.NAME, "kube-system")
    assert rc.read_key_secret(secret, begin.outputs["certificate_key"], "front-proxy-ca")[0] == new_fp
    assert rc.read_key_secret(secret, begin.outputs["certificate_key"])[0] == rot.new
    # the API server's trust controller publishes the union of what it read: both CAs of each
    both = {"client-ca-file": fps(old, rot.new), "requestheader-client-ca-file": fps(old_fp, new_fp)}
    assert published(node) == both
    assert not rotate(node, "sync").changed  # sync follows the recorded set without the flag

    waiter.calls.clear()
    rotate(node, "switch")
    assert fp(node, "front-proxy-ca.crt") == new_fp and fp(node, "front-proxy-ca-old.crt") == old_fp
    assert signed_by(cert(node, f"{PKI}/front-proxy-client.crt"), cert(node, f"{PKI}/front-proxy-ca.crt"))
    assert ("new-pod", "kube-apiserver") not in waiter.calls  # it reloads front-proxy-client.crt
    annotations = node.api.obj("Node", NODE)["metadata"]["annotations"]  # type: ignore[index]
    assert annotations["kubeadm-py.io/front-proxy-issuer"] == rc.fingerprint(new_fp)
    status = rotate(node, "status").outputs["ca_rotation"]
    assert set(status["cas"]) == {"cluster", "front-proxy"}
    assert status["nodes"] == [{"node": NODE, "synced": "1/switch", "issuer": "new", "front-proxy": "new"}]

    rotate(node, "finish")
    assert fp(node, "front-proxy-ca-bundle.crt") == new_fp
    for name in ("front-proxy-ca-old.crt", "front-proxy-ca-old.key", "front-proxy-ca-new.crt"):
        assert not node.path(f"{PKI}/{name}").exists(), name
    assert f"--requestheader-client-ca-file={PKI}/front-proxy-ca-bundle.crt" in command(
        node, "kube-apiserver"
    )
    assert published(node) == {"client-ca-file": fps(rot.new), "requestheader-client-ca-file": fps(new_fp)}
    assert not rotate(node, "sync").changed


# --- the published trust after finish (extension-apiserver-authentication) --------------------------
AUTH_PATH = "/configmaps/extension-apiserver-authentication"


def trust(node: Node) -> TrustController:
    return node.signing.trust  # type: ignore[attr-defined,no-any-return]


def test_finish_deletes_the_published_trust_until_the_api_server_reloaded_its_files(
    cp: Node, waiter: FakeWaiter
) -> None:
    """kube-apiserver v1.20 reads its CA files once a minute; until then its trust controller writes
    the old CAs back (the union of the ConfigMap and its files) every time the ConfigMap changes, even
    when deleted. finish deletes it again until it comes back with the new CAs alone."""
    rotate(cp, "begin", **{"front-proxy": True})
    rotate(cp, "switch")
    trust(cp).set_lag(3)
    rotate(cp, "finish")
    rot = stored(cp)
    new_fp = rot.pem("new", "front-proxy")
    assert published(cp) == {"client-ca-file": fps(rot.new), "requestheader-client-ca-file": fps(new_fp)}
    assert trust(cp).deletes >= 2  # written back with the old CAs at least once, deleted again
    assert any(what == "polled" for what, _ in waiter.calls)
    assert not rotate(cp, "sync").changed and trust(cp).deletes >= 2


def test_only_the_last_control_plane_to_sync_finish_clears_the_published_trust(cp: Node) -> None:
    """Another control-plane node that has not synced finish still has the old CA in its bundle: its
    API server would merge it back, so the ConfigMap is left alone until that node's sync."""
    rotate(cp, "begin")
    rot = stored(cp)
    other = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": "cp-2",
            "labels": {"node-role.kubernetes.io/master": ""},
            "annotations": {rc.NODE_STAGE: "1/begin"},
        },
    }
    cp.api.put(other)
    rotate(cp, "switch")
    other["metadata"]["annotations"] = {rc.NODE_STAGE: "1/switch", rc.NODE_ISSUER: rc.fingerprint(rot.new)}
    cp.api.put(other)
    rotate(cp, "finish")
    assert trust(cp).deletes == 0 and published(cp)["client-ca-file"] == fps(rot.old, rot.new)
    other["metadata"]["annotations"][rc.NODE_STAGE] = "1/finished"
    cp.api.put(other)
    assert rotate(cp, "sync").changed  # the last one: this node's sync stands for cp-2's here
    assert trust(cp).deletes == 1 and published(cp)["client-ca-file"] == fps(rot.new)


def test_an_api_server_that_does_not_reload_stops_finish_before_the_node_is_recorded(cp: Node) -> None:
    rotate(cp, "begin")
    rotate(cp, "switch")
    trust(cp).set_lag(10**6)
    with pytest.raises(PhaseError, match=r"did not come back with only the new CAs \(written back with"):
        rotate(cp, "finish")
    annotations = cp.api.obj("Node", NODE)["metadata"]["annotations"]  # type: ignore[index]
    assert annotations[rc.NODE_STAGE] == "1/switch"  # not recorded: rerun finish
    trust(cp).set_lag(0)
    rotate(cp, "finish")
    rot = stored(cp)
    assert published(cp)["client-ca-file"] == fps(rot.new)
    annotations = cp.api.obj("Node", NODE)["metadata"]["annotations"]  # type: ignore[index]
    assert annotations[rc.NODE_STAGE] == "1/finished"


@pytest.mark.parametrize("lag", [0, 2])
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_finish_killed_around_the_delete_converges_on_rerun(cp: Node, lag: int, method: str) -> None:
    """kill -9 right after reading the ConfigMap, or after a delete (before the API server wrote it
    back): the rerun deletes or waits again."""
    rotate(cp, "begin", **{"front-proxy": True})
    rotate(cp, "switch")
    trust(cp).set_lag(lag)
    cp.signing.die_after = (method, AUTH_PATH)  # type: ignore[attr-defined]
    rotate_killed = False
    try:
        rotate(cp, "finish")
    except BaseException as e:  # the runner reports the kill as an internal error
        rotate_killed = "Killed" in f"{e!r} {e}"
    assert rotate_killed and cp.signing.die_after is None  # type: ignore[attr-defined]
    rotate(cp, "finish")
    rot = stored(cp)
    new_fp = rot.pem("new", "front-proxy")
    assert published(cp) == {"client-ca-file": fps(rot.new), "requestheader-client-ca-file": fps(new_fp)}
    assert not rotate(cp, "finish").changed


def test_a_worker_syncs_without_front_proxy_files(cp: Node, tmp_path: Path) -> None:
    """A worker holds no front-proxy file: its sync writes the cluster CA's bundle and ca.crt only."""
    import shutil

    rotate(cp, "begin", **{"front-proxy": True})
    services = FakeServices("systemd", active={"kubelet"})
    worker = Node(tmp_path / "worker", cp.api, waiter=cp.waiter, services=services)
    shutil.copytree(cp.root, worker.root, symlinks=True)
    shutil.rmtree(worker.path("/etc/kubernetes/manifests"))
    for f in worker.path(PKI).iterdir():
        if f.name != "ca.crt":
            f.unlink() if f.is_file() else shutil.rmtree(f)
    worker.path(f"{PKI}/ca.crt").write_bytes(stored(cp).old)
    worker.connect = cp.connect  # type: ignore[method-assign]
    rotate(worker, "sync")
    assert sorted(f.name for f in worker.path(PKI).iterdir()) == ["ca-bundle.crt", "ca.crt"]
    rotate(cp, "switch")
    rotate(worker, "sync")
    assert sorted(f.name for f in worker.path(PKI).iterdir()) == ["ca-bundle.crt", "ca.crt"]
    assert worker.path(f"{PKI}/ca.crt").read_bytes() == stored(cp).new


def test_begin_again_with_front_proxy_is_refused_while_a_rotation_without_it_runs(cp: Node) -> None:
    with pytest.raises(
        KubeadmError, match="--front-proxy is an option of 'certs rotate-ca begin', not of sync"
    ):
        rotate(cp, "sync", **{"front-proxy": True})
    rotate(cp, "begin")
    with pytest.raises(PhaseError, match="rotation 1 has begun without the front-proxy CA"):
        rotate(cp, "begin", **{"front-proxy": True})
    assert [c.name for c in stored(cp).cas] == ["cluster"]


def test_an_external_front_proxy_ca_is_refused_before_any_write(cp: Node) -> None:
    cp.path(f"{PKI}/front-proxy-ca.key").unlink()
    with pytest.raises(PhaseError, match="needs the front-proxy CA and its key"):
        rotate(cp, "begin", **{"front-proxy": True})
    assert not cp.path(f"{PKI}/ca-new.key").exists()
    assert cp.api.obj("ConfigMap", rc.NAME, "kube-system") is None


def test_the_configmap_round_trips_the_set_of_cas() -> None:
    rot = rc.Rotation(2, "switch", b"OLD\n", b"NEW\n", (("front-proxy", b"FOLD\n", b"FNEW\n"),))
    back = rc.from_configmap(rot.configmap())
    assert (
        back == rot
        and back.trust_of("front-proxy") == b"FOLD\nFNEW\n"
        and back.signer_of("front-proxy") == b"FNEW\n"
    )
    legacy = rot.configmap()
    del legacy["data"]["cas"]  # written before the table: the cluster CA alone
    assert rc.from_configmap(legacy) == rc.Rotation(2, "switch", b"OLD\n", b"NEW\n")
    legacy["data"]["cas"] = "cluster,kubelet-serving"
    with pytest.raises(KubeadmError, match="unknown CA 'kubelet-serving'"):
        rc.from_configmap(legacy)


# --- the etcd CA (begin --etcd) ---------------------------------------------------------------------
ETCD_LEAVES = ("etcd/server", "etcd/peer", "etcd/healthcheck-client", "apiserver-etcd-client")


def restarts(waiter: FakeWaiter) -> list[str]:
    return [c for what, c in waiter.calls if what == "new-pod"]


def test_etcd_ca_rotates_with_the_cluster_ca(cp: Node, waiter: FakeWaiter) -> None:
    """etcd reads its trusted CA files at start only and reloads its serving and peer certificates at
    every handshake: it restarts at begin (flags to the bundle) and at finish (the bundle's content),
    not at switch; the API server's --etcd-cafile change rides on its one restart at begin."""
    node = cp
    old_etcd = fp(node, "etcd/ca.crt")
    begin = rotate(node, "begin", etcd=True)
    rot = stored(node)
    assert [c.name for c in rot.cas] == ["cluster", "etcd"]
    new_etcd = rot.pem("new", "etcd")
    assert rot.pair("etcd")[0] == old_etcd and new_etcd != old_etcd
    assert fp(node, "etcd/ca-new.crt") == new_etcd and fp(node, "etcd/ca-bundle.crt") == old_etcd + new_etcd
    assert fp(node, "etcd/ca.crt") == old_etcd  # the signer until switch
    etcd = command(node, "etcd")
    assert f"--trusted-ca-file={PKI}/etcd/ca-bundle.crt" in etcd
    assert f"--peer-trusted-ca-file={PKI}/etcd/ca-bundle.crt" in etcd
    assert f"--cert-file={PKI}/etcd/server.crt" in etcd  # served certificates keep their paths
    apiserver = command(node, "kube-apiserver")
    assert f"--etcd-cafile={PKI}/etcd/ca-bundle.crt" in apiserver
    assert f"--client-ca-file={PKI}/ca-bundle.crt" in apiserver
    # etcd first, as an upgrade swaps it; the API server restarted once for both CAs
    assert (
        restarts(waiter)[:2] == ["etcd", "kube-apiserver"] and restarts(waiter).count("kube-apiserver") == 1
    )
    secret = node.api.obj("Secret", rc.NAME, "kube-system")
    assert "etcd-ca.crt" in secret["data"]  # type: ignore[index]  # a Secret key has no "/"
    assert rc.read_key_secret(secret, begin.outputs["certificate_key"], "etcd/ca")[0] == new_etcd
    waiter.calls.clear()
    assert not rotate(node, "sync").changed and not restarts(waiter)  # sync follows without --etcd

    rotate(node, "switch")
    assert fp(node, "etcd/ca.crt") == new_etcd and fp(node, "etcd/ca-old.crt") == old_etcd
    new_ca = cert(node, f"{PKI}/etcd/ca.crt")
    for leaf in ETCD_LEAVES:
        assert signed_by(cert(node, f"{PKI}/{leaf}.crt"), new_ca), leaf
    assert "etcd" not in restarts(waiter) and "kube-apiserver" not in restarts(waiter)
    annotations = node.api.obj("Node", NODE)["metadata"]["annotations"]  # type: ignore[index]
    assert annotations["kubeadm-py.io/etcd-issuer"] == rc.fingerprint(new_etcd)
    doc = rotate(node, "status").outputs["ca_rotation"]
    assert doc["nodes"] == [{"node": NODE, "synced": "1/switch", "issuer": "new", "etcd": "new"}]
    lines = rc.status_lines(doc)
    assert lines[-2].endswith("ETCD/SERVER.CRT FROM") and lines[-1].split()[-1] == "new"

    waiter.calls.clear()
    rotate(node, "finish")
    assert fp(node, "etcd/ca-bundle.crt") == new_etcd
    assert restarts(waiter).count("etcd") == 1  # its trusted CA files are read at start only
    assert "kube-apiserver" not in restarts(waiter)
    for name in ("etcd/ca-old.crt", "etcd/ca-old.key", "etcd/ca-new.crt", "etcd/ca-new.key"):
        assert not node.path(f"{PKI}/{name}").exists(), name
    assert f"--trusted-ca-file={PKI}/etcd/ca-bundle.crt" in command(node, "etcd")
    waiter.calls.clear()
    assert not rotate(node, "sync").changed and not restarts(waiter)


def test_etcd_ca_with_an_external_etcd_is_refused_before_any_write(cp: Node) -> None:
    cp.path("/etc/kubernetes/manifests/etcd.yaml").unlink()
    with pytest.raises(PhaseError, match="begin --etcd: this cluster's etcd is external"):
        rotate(cp, "begin", etcd=True)
    assert not cp.path(f"{PKI}/ca-new.key").exists() and not cp.path(f"{PKI}/etcd/ca-new.key").exists()
    assert cp.api.obj("ConfigMap", rc.NAME, "kube-system") is None
    with pytest.raises(KubeadmError, match="--etcd is an option of 'certs rotate-ca begin', not of switch"):
        rotate(cp, "switch", etcd=True)


def test_another_control_plane_downloads_the_new_etcd_ca(cp: Node, tmp_path: Path) -> None:
    """A second control-plane node (its own etcd member) gets the new etcd CA from the Secret in sync and
    converges its own member: bundle and flags at begin, its etcd certificates at switch."""
    import shutil

    begin = rotate(cp, "begin", etcd=True)
    other = Node(tmp_path / "cp2", cp.api, waiter=FakeWaiter(), services=cp.services)
    shutil.copytree(cp.root, other.root, symlinks=True)
    for name in ("etcd/ca-new.crt", "etcd/ca-new.key", "etcd/ca-bundle.crt", "ca-new.crt", "ca-new.key"):
        other.path(f"{PKI}/{name}").unlink()
    other.path("/etc/kubernetes/manifests/etcd.yaml").write_text(
        cp.manifest("etcd").replace(f"{PKI}/etcd/ca-bundle.crt", f"{PKI}/etcd/ca.crt")
    )
    other.connect = cp.connect  # type: ignore[method-assign]
    with pytest.raises(PhaseError, match="lacks the new cluster CA"):
        rotate(other, "sync")
    rotate(other, "sync", certificate_key=begin.outputs["certificate_key"])
    rot = stored(cp)
    assert fp(other, "etcd/ca-new.crt") == rot.pem("new", "etcd")
    assert f"--trusted-ca-file={PKI}/etcd/ca-bundle.crt" in command(other, "etcd")
    rotate(cp, "switch")
    rotate(other, "sync")
    expect_optional(other, stored(cp), rc.CAS["etcd"])


# --- certs renew during a rotation -----------------------------------------------------------------
@pytest.mark.parametrize("stage", ["begin", "switch", "finish"])
def test_certs_renew_signs_with_the_signer_of_the_stage_and_keeps_the_bundle(cp: Node, stage: str) -> None:
    """``certs renew all`` signs with ca.crt: the old CA at begin, the new one from switch on (what the
    rotation's own re-issue does); kubeconfigs keep trusting the bundle."""
    from kubeadm_py import api
    from kubeadm_py.certs import renew
    from kubeadm_py.hostfs import HostFS

    node = cp
    for command_ in ("begin", "switch", "finish")[: ("begin", "switch", "finish").index(stage) + 1]:
        rotate(node, command_)
    rot = stored(node)
    before = {n: conf(node, n)[0] for n in CONFS}
    result = api.certs("renew", name="all", rootfs=str(node.root))
    assert result["changed"]
    lines: list[str] = []
    renew.renew(
        HostFS(rootfs=str(node.root), dry_run=True),
        api.load_config(kind="init"),
        "all",
        "/etc/kubernetes",
        log=lines.append,
        planned=True,
    )
    assert any("A CA rotation is in progress on this node" in line for line in lines) == (stage != "finish")
    signer = cert(node, f"{PKI}/ca.crt")
    assert node.path(f"{PKI}/ca.crt").read_bytes() == rot.signer
    for leaf in ("apiserver", "apiserver-kubelet-client"):
        assert signed_by(cert(node, f"{PKI}/{leaf}.crt"), signer), leaf
    for name in CONFS:
        ca_data, client = conf(node, name)
        assert ca_data == before[name], name  # the trust is the rotation's, untouched
        assert signed_by(client, signer), name
