"""``certs rotate-ca begin|switch|finish --etcd``: the files the stages write, served by a real etcd
(Debian's etcd-server 3.4) and checked with Debian's etcdctl and openssl, without a kubelet.

The stages run on the unit tests' control-plane node (real init phases, in-memory API server,
tests/unit/upgrade/test_rotate_ca.py); the kubelet's part, restarting etcd when its manifest changes,
is done here by stopping and starting the member where the manifest says so. What it shows:

* begin: an etcd trusting ``etcd/ca-bundle.crt`` accepts a client certificate from the old etcd CA
  and one from the new etcd CA (issued here with openssl);
* switch (no restart): etcd serves the re-issued ``etcd/server.crt`` at the next handshake, so a
  client trusting the new CA alone connects, with the re-issued ``apiserver-etcd-client``;
* finish: etcd keeps the trust it read at start (an old-CA client is still accepted) until it is
  restarted, which the changed manifest annotation asks of the kubelet; restarted, it refuses the
  old-CA client and accepts the new one;
* three members, each converged by its own node's ``sync`` one at a time (begin/switch/finish on the
  first): the member restarts at begin and finish only, the other two keep quorum (serve writes)
  during each restart, and at the end no member accepts an old-CA client. The three nodes' kubelet.conf
  name one Node object here, so the refusals of switch/finish while a node lags are unit-tested only.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeadm_py.certs.rotateca_files import MANIFEST_ANNOTATION
from tests.integration.etcd_helpers import EtcdMember, etcdctl, needs_etcd, wait_serving
from tests.unit.upgrade.conftest import FakeWaiter, Node, node, node_template, waiter  # noqa: F401 (fixtures)
from tests.unit.upgrade.test_rotate_ca import cp, rotate, stored  # noqa: F401 (cp: a fixture)

pytestmark = [pytest.mark.integration, needs_etcd]
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
BUNDLE = "etcd/ca-bundle.crt"


def openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPENSSL, *args], capture_output=True, text=True, timeout=30)


def openssl_client(pki: Path, ca_base: str, name: str) -> str:
    """A client certificate (P-256, clientAuth) that openssl issues with CA ``ca_base``; returns its base
    under ``pki`` as :func:`etcdctl` takes it."""
    key, csr, crt, ext = (pki / f"{name}.{e}" for e in ("key", "csr", "crt", "ext"))
    ext.write_text("extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n")
    for args in (
        ("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key)),
        ("req", "-new", "-key", str(key), "-subj", f"/CN={name}", "-out", str(csr)),
        (
            "x509", "-req", "-in", str(csr), "-CA", str(pki / f"{ca_base}.crt"),
            "-CAkey", str(pki / f"{ca_base}.key"), "-set_serial", str(time.time_ns()),
            "-days", "1", "-extfile", str(ext), "-out", str(crt),
        ),
    ):  # fmt: skip
        r = openssl(*args)
        assert r.returncode == 0, r.stderr
    return name


def keep(pki: Path, base: str, as_name: str) -> str:
    """A copy of ``base``.crt/.key (a certificate a later stage re-issues)."""
    for ext in ("crt", "key"):
        shutil.copy(pki / f"{base}.{ext}", pki / f"{as_name}.{ext}")
    return as_name


def put(member: EtcdMember, client: str, cacert: str = BUNDLE, *flags: str) -> Any:
    return etcdctl(
        member.pki, [member.client_url], "put", f"/{client}", "ok", *flags, cacert=cacert, client=client
    )


def accepted(member: EtcdMember, client: str, cacert: str = BUNDLE) -> None:
    r = put(member, client, cacert)
    assert r.returncode == 0 and "OK" in r.stdout, f"{client}: {r.stderr}\n{member.log_tail(1500)}"


def refused(member: EtcdMember, client: str) -> None:
    """The put fails and etcd logs why: the client's CA is not one it trusts."""
    why = "certificate signed by unknown authority"
    before = member.log_path.read_text(errors="replace").count(why)
    r = put(member, client, BUNDLE, "--command-timeout=2s")  # a refused handshake ends at the timeout
    assert r.returncode != 0, f"{client} was accepted"
    assert member.log_path.read_text(errors="replace").count(why) > before, (r.stderr, member.log_tail(1500))
    print(f"{client} refused: {r.stderr.strip()[-200:]}")


def stamp(host: Node) -> str:
    return str(yaml.safe_load(host.manifest("etcd"))["metadata"].get("annotations", {})[MANIFEST_ANNOTATION])


def restart(member: EtcdMember) -> float:
    """What the kubelet does when etcd's manifest changes; seconds until etcd serves again."""
    start = time.monotonic()
    member.stop()
    member.start()
    wait_serving(member)
    return time.monotonic() - start


def test_etcd_serves_and_trusts_what_each_stage_writes(cp: Node, tmp_path: Path) -> None:  # noqa: F811
    host = cp
    pki = host.path("/etc/kubernetes/pki")
    rotate(host, "begin", etcd=True)
    assert f"--trusted-ca-file=/etc/kubernetes/pki/{BUNDLE}" in host.manifest("etcd")
    member = EtcdMember("cp-1", pki, tmp_path / "etcd", trust=BUNDLE)
    try:
        member.start()
        wait_serving(member)
        old_client = keep(pki, "apiserver-etcd-client", "old-client")  # the old etcd CA issued it
        accepted(member, old_client)
        accepted(member, openssl_client(pki, "etcd/ca-new", "new-client"))
        begin_stamp = stamp(host)

        rotate(host, "switch")  # no etcd restart: it reloads its serving certificate per handshake
        assert stamp(host) == begin_stamp
        for leaf in ("etcd/server", "etcd/peer", "etcd/healthcheck-client", "apiserver-etcd-client"):
            r = openssl("verify", "-CAfile", str(pki / "etcd/ca.crt"), str(pki / f"{leaf}.crt"))
            assert r.returncode == 0, f"{leaf}: {r.stdout}{r.stderr}"
        served = subprocess.run(
            [OPENSSL, "s_client", "-connect", f"127.0.0.1:{member.client_port}", "-CAfile",
             str(pki / "etcd/ca.crt"), "-cert", str(pki / "new-client.crt"),
             "-key", str(pki / "new-client.key")],
            input="", capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert "Verify return code: 0 (ok)" in served.stdout, served.stdout[-1500:]
        accepted(member, "apiserver-etcd-client", cacert="etcd/ca.crt")  # the new CA alone
        accepted(member, old_client)  # the bundle still trusts the old CA

        rotate(host, "finish")
        assert (pki / BUNDLE).read_bytes() == stored(host).pem("new", "etcd")
        accepted(member, old_client)  # trust is read at start only: the restart is needed ...
        assert stamp(host) != begin_stamp  # ... and asked of the kubelet by the manifest
        took = restart(member)
        print(f"etcd restarted with the new CA alone in {took:.1f}s")
        refused(member, old_client)
        accepted(member, "apiserver-etcd-client")
        accepted(member, "new-client")
    finally:
        member.stop()


# --- three members, each converged by its own node's sync -------------------------------------------
def trust_of(host: Node) -> str:
    """The trust file etcd's manifest names (both trust flags), under pki."""
    command = yaml.safe_load(host.manifest("etcd"))["spec"]["containers"][0]["command"]
    flags = {w.split("=", 1)[0]: w.split("=", 1)[1] for w in command if "=" in w}
    assert flags["--trusted-ca-file"] == flags["--peer-trusted-ca-file"]
    return str(flags["--trusted-ca-file"]).removeprefix("/etc/kubernetes/pki/")


class Kubelet:
    """Stands for each node's kubelet: restarts the node's member when its etcd manifest changed, with
    the trust the manifest names, and checks the other two members keep quorum meanwhile."""

    def __init__(self, members: dict[str, EtcdMember], hosts: dict[str, Node]) -> None:
        self.members, self.hosts = members, hosts
        self.seen = {name: h.manifest("etcd") for name, h in hosts.items()}
        self.restarts: list[tuple[str, float]] = []

    def run(self, name: str, stage: str, **options: object) -> Any:
        report = rotate(self.hosts[name], stage, **options)
        if self.hosts[name].manifest("etcd") == self.seen[name]:
            return report
        self.seen[name] = self.hosts[name].manifest("etcd")
        member, start = self.members[name], time.monotonic()
        member.stop()
        member.trust = trust_of(self.hosts[name])
        for other in (m for n, m in self.members.items() if n != name):  # quorum: 2 of 3
            accepted(other, "apiserver-etcd-client", cacert=other.trust)
        member.start()
        wait_serving(member)
        self.restarts.append((f"{name} {stage}", time.monotonic() - start))
        return report


def test_three_members_keep_quorum_through_the_rotation(cp: Node, tmp_path: Path) -> None:  # noqa: F811
    """begin, switch and finish on cp-1, each followed by sync on cp-2 and cp-3, one at a time: etcd
    restarts at begin and finish only, the other two members serve writes during every restart, and
    after finish no member accepts a client certificate of the old etcd CA."""
    hosts = {"cp-1": cp}
    for name in ("cp-2", "cp-3"):  # the same PKI; each node re-issues its own at switch
        hosts[name] = Node(tmp_path / name, cp.api, waiter=FakeWaiter(), services=cp.services)
        shutil.copytree(cp.root, hosts[name].root, symlinks=True)
        hosts[name].connect = cp.connect  # type: ignore[method-assign]
    members = {
        n: EtcdMember(n, h.path("/etc/kubernetes/pki"), tmp_path / "etcd", trust=trust_of(h))
        for n, h in hosts.items()
    }
    cluster = ",".join(f"{n}={m.peer_url}" for n, m in members.items())
    kubelet = Kubelet(members, hosts)
    try:
        for m in members.values():
            m.start(cluster)
        for m in members.values():
            wait_serving(m)
        old_client = [keep(m.pki, "apiserver-etcd-client", "old-client") for m in members.values()][0]
        key = kubelet.run("cp-1", "begin", etcd=True).outputs["certificate_key"]
        for name in ("cp-2", "cp-3"):
            kubelet.run(name, "sync", certificate_key=key)
        kubelet.run("cp-1", "switch")
        for name in ("cp-2", "cp-3"):
            kubelet.run(name, "sync")
        assert len(kubelet.restarts) == 3, kubelet.restarts  # none at switch
        for m in members.values():  # every member serves a certificate of the new CA alone
            accepted(m, "apiserver-etcd-client", cacert="etcd/ca.crt")
            accepted(m, old_client)
        kubelet.run("cp-1", "finish")
        for name in ("cp-2", "cp-3"):
            kubelet.run(name, "sync")
        assert [r for r, _ in kubelet.restarts][3:] == ["cp-1 finish", "cp-2 sync", "cp-3 sync"]
        print("etcd restarts (s): " + ", ".join(f"{r} {t:.1f}" for r, t in kubelet.restarts))
        for m in members.values():
            assert m.trust == BUNDLE
            refused(m, old_client)
            accepted(m, "apiserver-etcd-client")
        r = etcdctl(members["cp-1"].pki, [members["cp-1"].client_url], "member", "list")
        assert r.returncode == 0 and r.stdout.count("started") == 3, r.stdout + r.stderr
    finally:
        for m in members.values():
            m.stop()
