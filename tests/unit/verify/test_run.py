"""How verify runs: --wait retries until healthy or the deadline, --strict, the workload Pods, the
public API and the command line (exit codes, one line per problem), a dry run."""

from __future__ import annotations

import functools
import json

import pytest

from kubeadm_py import api
from kubeadm_py.verify.checks import CHECKS, run_once, verify
from kubeadm_py.verify.model import Check, Problem
from tests.unit.verify.conftest import NODE, WORKER, World


def _flaky(fails: int) -> Check:
    calls = {"n": 0}

    def fn(env: object) -> tuple[str, list[Problem]]:
        calls["n"] += 1
        if calls["n"] <= fails:
            return "not yet", [Problem("the thing is not ready", "wait")]
        return "ready", []

    return Check("flaky", "node", fn, "test")


def test_wait_retries_until_healthy(world: World) -> None:
    env = world.env()
    report = verify(env, ("node",), wait=60, interval=5, checks=(_flaky(2),))
    assert report.healthy and report.attempts == 3 and world.clock.slept == [5, 5]


def test_wait_gives_up_at_the_deadline_with_the_last_results(world: World) -> None:
    report = verify(world.env(), ("node",), wait=12, interval=5, checks=(_flaky(99),))
    assert not report.healthy and report.attempts == 3 and world.clock.slept == [5, 5]
    assert report.to_dict()["problems"] == [
        {"check": "flaky", "message": "the thing is not ready", "fix": "wait", "severity": "error"}
    ]


def test_strict_fails_on_warnings(world: World) -> None:
    def warn(env: object) -> tuple[str, list[Problem]]:
        return "no network", [Problem("no pod network", "install one", warning=True)]

    check = (Check("w", "node", warn, "test"),)
    assert verify(world.env(), ("node",), checks=check).healthy
    assert not verify(world.env(), ("node",), strict=True, checks=check).healthy


def test_workload_pods_prove_scheduling_logs_exec_and_are_deleted(world: World) -> None:
    got = {r.name: r for r in run_once(world.env(), ("workload",))}
    assert got["workload"].status == "pass", got["workload"].problems
    assert got["workload"].detail.startswith("2/2 Node(s) ran a Pod (image registry.k8s.io/pause:")
    created = [p for m, p in world.server.requests if m == "POST"]
    assert created == ["/api/v1/namespaces/default/pods"] * 2
    assert not [k for k in world.server.objects if k[0] == "Pod" and k[1] == "default"]  # deleted
    assert (
        all("command=%2Fpause&command=-v" in s for s in world.server.streams)
        and len(world.server.streams) == 2
    )


def test_workload_exec_and_logs_failing(world: World) -> None:
    world.server.logs = (502, b"error dialing backend: dial tcp 10.0.0.2:10250: connect: connection refused")
    world.server.exec_channels = {3: b'{"status":"Failure","message":"error dialing backend"}'}
    problems = [p.message for p in run_once(world.env(), ("workload",))[0].problems]
    assert problems[0].startswith(
        f"workload Pod on {NODE}: logs through the API server failed: HTTP 502 error dialing backend"
    )
    assert problems[1].startswith(f"workload Pod on {NODE}: exec did not answer as expected")
    assert len(problems) == 4


def test_workload_pod_that_never_runs(world: World) -> None:
    world.server.run_pods = False
    r = run_once(world.env(), ("workload",))[0]
    assert [p.message for p in r.problems] == [
        f"workload Pod on {n}: did not run within 60s (not scheduled: 0/2 nodes are available: 2 node(s) had "
        "taint {node.kubernetes.io/unschedulable: })"
        for n in (NODE, WORKER)
    ]
    assert r.problems[0].fix.startswith("check kube-scheduler")


def test_api_verify_and_its_scopes(world: World) -> None:
    report = api.verify(rootfs=str(world.root), hooks=world.hooks(), scope="cluster")
    assert {r.scope for r in report.results} == {"cluster"}
    (world.root / "etc/kubernetes/admin.conf").unlink()
    report = api.verify(rootfs=str(world.root), hooks=world.hooks())
    assert {r.scope for r in report.results} == {"node"}
    assert report.notes == [
        "cluster checks not run: no admin kubeconfig at /etc/kubernetes/admin.conf "
        "(pass --kubeconfig or --node)"
    ]
    with pytest.raises(Exception, match="unknown verify scope"):
        api.verify("everything")


def test_dry_run_reads_like_a_real_run(world: World) -> None:
    got = {r.name: r for r in run_once(world.env(dry_run=True), ("cluster",))}
    assert got["control-plane-pods"].status == "pass", got["control-plane-pods"].problems
    assert got["bootstrap-rbac"].status == "pass"
    assert not world.server.mutations()


def test_cli_exit_codes_and_problem_lines(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kubeadm_py.cli.main import main

    monkeypatch.setattr(api, "verify", functools.partial(api.verify, hooks=world.hooks()))
    monkeypatch.setattr("kubeadm_py.host.health.http_check", lambda url, timeout: world.http_check(url))
    monkeypatch.setattr(
        "kubeadm_py.host.health.peer_certificate", lambda h, p, timeout: world.peer_cert(h, p)
    )
    root = ["--rootfs", str(world.root)]
    assert main(["verify", "--cluster", *root]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["CHECK", "SCOPE", "STATUS", "DETAIL"]
    assert out.rstrip().endswith("verify: healthy")
    del world.server.objects[("Pod", "kube-system", f"kube-scheduler-{NODE}")]
    assert main(["verify", "--cluster", *root, "-o", "json"]) == 1
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["healthy"] is False and [p["check"] for p in doc["problems"]] == ["control-plane-pods"]
    assert (
        captured.err.strip().splitlines()[-1]
        == "error: verify: 1 check(s) failed (see the problem lines above)"
    )
    assert main(["verify", "--cluster", *root]) == 1
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("[problem]")]
    assert lines == [
        f"[problem] control-plane-pods: kube-scheduler is not running on {NODE}: no mirror Pod "
        "(the kubelet does "
        "not run /etc/kubernetes/manifests/kube-scheduler.yaml) -- fix: on cp-1: restore "
        "/etc/kubernetes/manifests/kube-scheduler.yaml (kubeadm-py upgrade diff shows what it should be) and "
        "check the kubelet (systemctl status kubelet)"
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["verify", "--node", "--cluster"], "error: --node and --cluster exclude each other"),
        (["verify", "--wait", "soon"], 'error: invalid --wait "soon"'),
        (["verify", "-o", "xml"], "error: --output: unknown format 'xml'"),
    ],
)
def test_cli_bad_input_is_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    from kubeadm_py.cli.main import main

    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message)


def test_every_check_is_documented() -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[3] / "docs" / "verify.md").read_text()
    for c in CHECKS:
        assert f"`{c.name}`" in doc, c.name
