"""``kill -9`` of ``kubeadm-py init`` on a real node, then a rerun: killed once inside kubelet-start
(its configuration written, the kubelet not yet started by the phase) and once inside upload-certs
(the kubeadm-certs Secret uploaded, the run not finished). The rerun brings the control plane up,
every file under /etc/kubernetes is whole, and the journal keeps the killed runs as in progress.
One node for the whole module (its fixture is named ``cluster`` so that test_init_testbed's checks
of a healthy control plane and of the uploaded certificates run on it too); the kill points are
events of tests/unit/crash/driver.py."""

from __future__ import annotations

import base64
import json
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.integration.test_init_testbed import (  # noqa: F401 - the two tests run on this module's node too
    REPO,
    TOKEN,
    init_config,
    kget,
    kubeadm_py,
    test_control_plane_healthy,
    test_kubeadm_certs_decrypt_with_printed_key,
    wait_for,
)
from tests.unit.crash import tree

pytestmark = [pytest.mark.testbed, pytest.mark.integration]

KILL_POINTS = ("renamed:/var/lib/kubelet/config.yaml", "phase-end:upload-certs")


@pytest.fixture(scope="module")
def cluster(request):
    """A node on which init was killed at each of KILL_POINTS in turn, then rerun to the end."""
    from tests.testbed.fixtures import control_plane_node

    with control_plane_node(request, "cp-crash", "kpt-crash", init_config) as (node, cfg):
        args = ["init", "--config", cfg, "--upload-certs", "--ignore-preflight-errors=all"]
        t0 = time.monotonic()
        killed = []
        for point in KILL_POINTS:
            argv = [sys.executable, "-m", "tests.unit.crash.driver", "once", point, *args]
            r = node.run(argv, env={"PYTHONPATH": REPO}, timeout=600, check=False)
            killed.append((point, r.returncode, r.stdout + r.stderr))
        r = kubeadm_py(node, *args, "-o", "json")
        print(f"\n[crash] two killed init runs and the rerun took {time.monotonic() - t0:.1f}s")
        yield {"node": node, "killed": killed, "result": json.loads(r.stdout)}


def test_each_run_was_killed_where_planned(cluster) -> None:
    for point, code, out in cluster["killed"]:
        assert code == -signal.SIGKILL, (point, code, out[-2000:])
    # the second kill came after upload-certs: the first run's kubelet-start is not redone
    assert "[phase] upload-certs: changed" in cluster["killed"][1][2]


def test_rerun_completes_and_control_plane_is_up(cluster) -> None:
    node, result = cluster["node"], cluster["result"]
    assert result["ok"] and result["error"] is None, result["error"]
    assert node.kubectl("get", "--raw", "/readyz").stdout.strip() == "ok"

    def registered() -> dict | None:
        if node.kubectl("get", "node", node.name, check=False).returncode != 0:
            return None
        return kget(node, "node", node.name)

    obj = wait_for("node registered", registered)
    assert "node-role.kubernetes.io/control-plane" in obj["metadata"]["labels"]
    secret = kget(node, "secret", "-n", "kube-system", "bootstrap-token-abcdef")
    assert base64.b64decode(secret["data"]["token-secret"]).decode() == TOKEN.split(".")[1]


def test_files_whole_and_chained(cluster) -> None:
    root = Path(cluster["node"].workdir) / "root"
    assert tree.check_files(root, "etc/kubernetes") > 20
    temps = [p for p in (root / "etc/kubernetes").rglob("*") if tree.is_temp(p)]
    assert not temps, temps
    pki = root / tree.PKI
    for name, issuer in tree.ISSUER.items():
        cert = tree._cert((pki / f"{name}.crt").read_bytes())
        cert.verify_directly_issued_by(tree._cert((pki / f"{issuer}.crt").read_bytes()))


def test_journal_keeps_the_killed_runs(cluster) -> None:
    with open(cluster["node"].path("/etc/kubernetes/tmp/kubeadm-py-init.json")) as f:
        runs = json.load(f)
    assert [bool(r.get("inProgress")) for r in runs] == [True, True, False], runs
    assert runs[-1]["ok"] is True
