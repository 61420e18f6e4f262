"""The kubeadm_py.cluster collection over SSH on the Kubernetes v1.20.2 test bed: two control planes
and two workers (real kubelets and containerd in their own namespaces, each running Debian's sshd;
tests/integration/ansible_bed.py), one set of nodes, the issue's checks in this order:

1. ``cluster.yml --check --diff`` on the fresh nodes: nothing is written on any host, the diff shows
   the files init would write (the joins are skipped: no cluster to discover yet);
2. ``cluster.yml``: both etcd members healthy, four Nodes registered, verify passed;
3. ``cluster.yml`` again: no host reports a change;
4. ``upgrade.yml`` with a configuration-only change (a new kube-apiserver flag at v1.20.2): the
   first control plane applies it, the second follows with ``upgrade node``, the workers in a batch;
   both API servers run with the flag, and verify passed after every batch;
5. ``reset.yml``: /etc/kubernetes empty on every node (but reset's own run journal) and no etcd
   member data left.

Not in CI (about 7 minutes; CI time is spent): run it alone under the realtests lock."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator

import pytest
import yaml

from tests.integration import ansible_bed

pytestmark = [pytest.mark.testbed, pytest.mark.integration, pytest.mark.extended]
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def bed(request: pytest.FixtureRequest) -> Iterator[ansible_bed.Bed]:
    reason = ansible_bed.skip_reason()
    if reason:
        pytest.skip(reason)
    from tests.testbed.fixtures import cleanup_stale_cgroups

    cleanup_stale_cgroups()
    # `timeout` sends SIGTERM: unwind like ^C so the nodes are stopped (and their logs kept)
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    t0 = time.monotonic()
    b, keep = ansible_bed.Bed(), True
    try:
        b.start()
        TIMINGS["nodes"] = time.monotonic() - t0
        yield b
        keep = request.session.testsfailed > 0
    finally:
        b.stop(keep_logs=keep)
        signal.signal(signal.SIGTERM, previous)
        print(f"\n[ansible-testbed] seconds: { {k: round(v, 1) for k, v in TIMINGS.items()} }")


def ran(b: ansible_bed.Bed, name: str, *flags: str, label: str = "") -> ansible_bed.Run:
    r = b.playbook(name, *flags)
    TIMINGS[label or name] = r.seconds
    assert r.rc == 0, r.stdout[-6000:] + r.stderr[-2000:]
    return r


def test_check_mode_writes_nothing_and_shows_the_plan(bed: ansible_bed.Bed) -> None:
    r = ran(bed, "cluster", "--check", "--diff", label="cluster --check --diff")
    assert (
        "+++ after: /etc/kubernetes/manifests/kube-apiserver.yaml (create, phase control-plane/apiserver)"
        in r.stdout
    )
    assert "+++ after: /etc/kubernetes/pki/ca.crt (create, phase certs/ca)" in r.stdout
    assert "PRIVATE KEY-----\n" not in r.stdout
    assert r.changed()[bed.node(0).name] == 1  # the init it would run
    assert all(bed.written(n) == [] for n in bed.nodes.values())
    assert all(os.listdir(n.path("/var/lib/etcd")) == [] for n in bed.nodes.values())


def test_cluster_builds(bed: ansible_bed.Bed) -> None:
    r = ran(bed, "cluster")
    cp1, cp2 = bed.node(0), bed.node(1)
    assert all(r.changed()[n] >= 1 for n in bed.nodes), r.recap
    assert r.stdout.count("PLAY [Workers, in parallel batches]") == 1  # kubeadm_py_worker_batch: 2
    nodes = json.loads(cp1.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    assert sorted(n["metadata"]["name"] for n in nodes) == sorted(bed.nodes)
    endpoints = f"https://{cp1.address}:2379,https://{cp2.address}:2379"
    members = json.loads(bed.etcdctl(cp1, endpoints.split(",")[0], "member", "list", "-w", "json"))["members"]
    assert sorted(m["name"] for m in members) == sorted([cp1.name, cp2.name])
    health = bed.etcdctl(cp1, endpoints, "endpoint", "health")
    assert health.count("is healthy") == 2, health


def test_second_run_changes_nothing(bed: ansible_bed.Bed) -> None:
    r = ran(bed, "cluster", label="cluster again")
    assert r.changed() == {n: 0 for n in bed.nodes}, r.recap


def test_config_only_upgrade_rolls_through_every_node(bed: ansible_bed.Bed) -> None:
    cp1, cp2 = bed.node(0), bed.node(1)
    stored = cp1.kubectl(
        "-n", "kube-system", "get", "cm", "kubeadm-config", "-o", "jsonpath={.data.ClusterConfiguration}"
    ).stdout
    doc = yaml.safe_load(stored)
    doc.setdefault("apiServer", {}).setdefault("extraArgs", []).append(
        {"name": "event-ttl", "value": "2h0m0s"}
    )
    change = os.path.join(cp1.workdir, "upgrade.yaml")
    with open(change, "w") as f:
        yaml.safe_dump(doc, f)
    r = ran(
        bed, "upgrade", "-e", f"kubeadm_py_upgrade_version={doc['kubernetesVersion']}",
        "-e", f"kubeadm_py_upgrade_config={change}", "-e", "kubeadm_py_upgrade_timeout=240s",
    )  # fmt: skip
    assert set(r.recap) == set(bed.nodes) and all(c["failed"] == 0 for c in r.recap.values()), r.recap
    for n in (cp1, cp2):
        with open(n.path("/etc/kubernetes/manifests/kube-apiserver.yaml")) as f:
            assert "--event-ttl=2h0m0s" in f.read(), n.name
    assert r.changed()[cp1.name] >= 1 and r.changed()[cp2.name] >= 1, r.recap
    for worker in (bed.node(2), bed.node(3)):
        assert f"ok: [{worker.name}]" in r.stdout or f"changed: [{worker.name}]" in r.stdout
    # verify after the first control plane, the second, and the one batch of two workers
    verified = re.findall(r"^TASK \[Verify[^\]]*\] \**\n(\w+): \[", r.stdout, re.M)
    assert verified == ["ok"] * 3, r.stdout[-6000:]


def test_reset_empties_every_node(bed: ansible_bed.Bed) -> None:
    ran(bed, "reset")
    for n in bed.nodes.values():
        journal = n.path("/etc/kubernetes/tmp/kubeadm-py-reset.json")  # reset's own run journal
        assert [f for f in bed.written(n) if f != journal] == [], n.name
        assert not os.path.exists(n.path("/var/lib/etcd/member")), n.name
