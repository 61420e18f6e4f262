"""``certs rotate-sa [--finish]`` on a node made by the real init phases, against the in-memory API
server, with the fake waiter standing for the kubelet (the static Pod machine is the upgrade's,
hence this directory). The real round trip with tokens checked by a real API server is
tests/integration/test_lifecycle_testbed.py."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kubeadm_py.certs import rotatesa
from kubeadm_py.errors import KubeadmError, PhaseError
from kubeadm_py.pki.keys import load_public_key
from tests.unit.upgrade.conftest import FakeWaiter, Node

PKI = "/etc/kubernetes/pki"
PREVIOUS_FLAG = f"--service-account-key-file={PKI}/sa-previous.pub"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(key: rsa.RSAPrivateKey, sub: str) -> str:
    head = b64url(json.dumps({"alg": "RS256", "kid": ""}).encode())
    body = b64url(json.dumps({"sub": sub}).encode())
    sig = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{b64url(sig)}"


def sa_key(node: Node) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(node.path(f"{PKI}/sa.key").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def token_secret(name: str, token: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "default"},
        "type": rotatesa.TOKEN_SECRET_TYPE,
        "data": {"token": base64.b64encode(token.encode()).decode()},
    }


def command(node: Node, component: str) -> list[str]:
    pod = yaml.safe_load(node.manifest(component))
    return [str(w) for w in pod["spec"]["containers"][0]["command"]]


def annotations(node: Node, component: str) -> dict[str, str]:
    return yaml.safe_load(node.manifest(component))["metadata"].get("annotations") or {}


def test_begin_then_finish(node: Node, waiter: FakeWaiter) -> None:
    old_key = sa_key(node)
    old_pub = node.path(f"{PKI}/sa.pub").read_bytes()
    node.api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    node.api.put(token_secret("old-token", jwt(old_key, "old")))

    node.run("certs-rotate-sa")
    assert node.path(f"{PKI}/sa-previous.pub").read_bytes() == old_pub
    new_key = sa_key(node)
    assert new_key.public_key().public_numbers() != old_key.public_key().public_numbers()
    new_pub = load_public_key(node.path(f"{PKI}/sa.pub").read_bytes(), "sa.pub")
    assert new_pub.public_numbers() == new_key.public_key().public_numbers()  # type: ignore[union-attr]
    api_cmd = command(node, "kube-apiserver")
    at = api_cmd.index(f"--service-account-key-file={PKI}/sa.pub")
    assert api_cmd[at + 1] == PREVIOUS_FLAG
    assert annotations(node, "kube-controller-manager")[rotatesa.KEY_ANNOTATION] == rotatesa.key_id(new_pub)
    assert ("new-pod", "kube-apiserver") in waiter.calls
    assert ("new-pod", "kube-controller-manager") in waiter.calls

    # a rerun changes nothing
    waiter.calls.clear()
    again = node.run("certs-rotate-sa")
    assert not again.changed and waiter.calls == []

    node.api.put(token_secret("new-token", jwt(new_key, "new")))
    done = node.run("certs-rotate-sa", options={"finish": True})
    assert done.changed
    assert node.api.obj("Secret", "old-token", "default") is None  # the token controller rewrites it
    assert node.api.obj("Secret", "new-token", "default") is not None
    assert PREVIOUS_FLAG not in command(node, "kube-apiserver")
    assert rotatesa.KEY_ANNOTATION not in annotations(node, "kube-controller-manager")
    assert not node.path(f"{PKI}/sa-previous.pub").exists()

    with pytest.raises(PhaseError, match="no service-account key rotation in progress"):
        node.run("certs-rotate-sa", options={"finish": True})


def test_the_manifests_after_finish_are_the_ones_init_wrote(node: Node, waiter: FakeWaiter) -> None:
    before = {c: node.manifest(c) for c in ("kube-apiserver", "kube-controller-manager")}
    node.run("certs-rotate-sa")
    node.run("certs-rotate-sa", options={"finish": True})
    assert {c: node.manifest(c) for c in before} == before


def test_several_control_planes_are_refused_before_any_change(node: Node, waiter: FakeWaiter) -> None:
    for name in ("cp1", "cp2"):
        node.api.put(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": name, "labels": {"node-role.kubernetes.io/control-plane": ""}},
            }
        )
    before = node.path(f"{PKI}/sa.key").read_bytes()
    with pytest.raises(PhaseError, match="2 control-plane nodes .*supports one so far"):
        node.run("certs-rotate-sa")
    assert node.path(f"{PKI}/sa.key").read_bytes() == before
    assert not node.path(f"{PKI}/sa-previous.pub").exists()


def test_dry_run_changes_nothing(node: Node, tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in node.root.rglob("*") if p.is_file()}
    report = node.run("certs-rotate-sa", dry_run=True)
    assert {p: p.read_bytes() for p in node.root.rglob("*") if p.is_file()} == before
    targets = [c.target for o in report.phases for c in o.changes]
    assert f"{PKI}/sa-previous.pub" in targets and f"{PKI}/sa.key" in targets


def test_a_failed_restart_rolls_the_manifest_back(node: Node) -> None:
    node.waiter = FakeWaiter(broken={"kube-apiserver"})
    before = node.manifest("kube-apiserver")
    with pytest.raises(PhaseError, match="kube-apiserver"):
        node.run("certs-rotate-sa")
    assert node.manifest("kube-apiserver") == before
    # the keys are rotated: a rerun with a working kubelet continues from there
    node.waiter = FakeWaiter()
    node.run("certs-rotate-sa")
    assert PREVIOUS_FLAG in command(node, "kube-apiserver")


def test_signed_by_checks_the_signature() -> None:
    a = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    b = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt(a, "x")
    assert rotatesa.signed_by(token, a.public_key())
    assert not rotatesa.signed_by(token, b.public_key())
    assert not rotatesa.signed_by("not.a.jwt", a.public_key())
    assert not rotatesa.signed_by(token[:-4] + "AAAA", a.public_key())


def test_apiserver_manifest_without_the_key_flag_is_an_error() -> None:
    text = "kind: Pod\nspec:\n  containers:\n  - name: kube-apiserver\n    command: [kube-apiserver]\n"
    with pytest.raises(KubeadmError, match="has no --service-account-key-file"):
        rotatesa.apiserver_manifest(text, "kube-apiserver.yaml", "/p/sa-previous.pub", True)


def test_upgrade_waits_for_the_rotation_to_finish(node: Node, waiter: FakeWaiter) -> None:
    from tests.unit.upgrade.conftest import BASE_VERSION

    node.run("certs-rotate-sa")
    with pytest.raises(PhaseError, match="ServiceAccountKeyRotation: a service-account key rotation"):
        node.run("upgrade-apply", options={"version": BASE_VERSION, "yes": True})
    assert PREVIOUS_FLAG in command(node, "kube-apiserver")


def test_a_rotation_interrupted_after_keeping_the_previous_key_continues(
    node: Node, waiter: FakeWaiter
) -> None:
    old_pub = node.path(f"{PKI}/sa.pub").read_bytes()
    node.path(f"{PKI}/sa-previous.pub").write_bytes(old_pub)  # killed right after the first write
    node.run("certs-rotate-sa")
    assert node.path(f"{PKI}/sa.pub").read_bytes() != old_pub
    assert node.path(f"{PKI}/sa-previous.pub").read_bytes() == old_pub
    new_pub = load_public_key(node.path(f"{PKI}/sa.pub").read_bytes(), "sa.pub")
    assert new_pub.public_numbers() == sa_key(node).public_key().public_numbers()  # type: ignore[union-attr]


def test_a_rotation_interrupted_before_sa_pub_rewrites_it(node: Node, waiter: FakeWaiter) -> None:
    old_pub = node.path(f"{PKI}/sa.pub").read_bytes()
    node.path(f"{PKI}/sa-previous.pub").write_bytes(old_pub)
    new = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    node.path(f"{PKI}/sa.key").write_bytes(
        new.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )  # killed before sa.pub was replaced
    node.run("certs-rotate-sa")
    pub = load_public_key(node.path(f"{PKI}/sa.pub").read_bytes(), "sa.pub")
    assert pub.public_numbers() == new.public_key().public_numbers()  # type: ignore[union-attr]
    assert PREVIOUS_FLAG in command(node, "kube-apiserver")


@pytest.mark.parametrize("done", [["keys"], ["keys", "tokens", "kube-apiserver"]])
def test_stopped_after_some_phases_a_rerun_converges(node: Node, waiter: FakeWaiter, done: list[str]) -> None:
    before = {c: node.manifest(c) for c in ("kube-apiserver", "kube-controller-manager")}
    node.run("certs-rotate-sa", phases=done)
    node.run("certs-rotate-sa")
    assert PREVIOUS_FLAG in command(node, "kube-apiserver")
    node.run("certs-rotate-sa", options={"finish": True}, phases=done)
    node.run("certs-rotate-sa", options={"finish": True})
    assert {c: node.manifest(c) for c in before} == before
    assert not node.path(f"{PKI}/sa-previous.pub").exists()


@pytest.mark.parametrize("finish", [False, True])
def test_killed_while_the_api_server_restarts_the_rerun_waits_for_it(
    node: Node, waiter: FakeWaiter, monkeypatch: pytest.MonkeyPatch, finish: bool
) -> None:
    """Killed while waiting for the kubelet to run kube-apiserver's new manifest: the rerun finds that
    manifest in place and swaps nothing again, but still waits for the new Pod and health (the mark in
    /etc/kubernetes/tmp) before the controller-manager's swap and the cleanup."""
    from kubeadm_py.phases.rotatesa.phases import SWAP_MARK
    from kubeadm_py.phases.shared.manifest_swaps import mark_path
    from tests.unit.upgrade.conftest import killed_in_wait

    if finish:
        node.run("certs-rotate-sa")
    killed_in_wait(monkeypatch, waiter, "kube-apiserver/new-pod")
    options = {"finish": True} if finish else {}
    with pytest.raises(BaseException, match="Killed"):
        node.run("certs-rotate-sa", options=options)
    mark = node.path(mark_path(SWAP_MARK, "kube-apiserver"))
    assert mark.exists()
    apiserver = node.manifest("kube-apiserver")
    assert (PREVIOUS_FLAG in command(node, "kube-apiserver")) is not finish  # the new manifest is in place
    monkeypatch.undo()
    waiter.calls.clear()
    node.run("certs-rotate-sa", options=options)
    assert node.manifest("kube-apiserver") == apiserver  # not swapped again
    assert waiter.calls[:2] == [("new-pod", "kube-apiserver"), ("healthy", "kube-apiserver")]
    assert not mark.exists()
    if finish:  # done: sa-previous.pub is gone, a third --finish says no rotation is in progress
        assert not node.path(f"{PKI}/sa-previous.pub").exists()
        return
    waiter.calls.clear()
    assert not node.run("certs-rotate-sa", options=options).changed
    assert ("new-pod", "kube-apiserver") not in waiter.calls
