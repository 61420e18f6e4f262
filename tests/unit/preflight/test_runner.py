"""run_checks: ignore semantics, crash isolation, report structure and kubeadm-style lines."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kubeadm_py.errors import KubeadmError, PreflightError
from kubeadm_py.host.fake import FakeProbe
from kubeadm_py.host.probe import SystemProbe
from kubeadm_py.preflight.checks import Findings, ignore_set, run_checks
from kubeadm_py.preflight.system import NumCPU, Port, Swap


@dataclass(frozen=True)
class Exploding:
    name: str = "Exploding"
    severity: str = "error"
    what: str = "never passes"
    fix: str = "fix the check"

    def run(self, probe: SystemProbe) -> Findings:
        raise RuntimeError("boom\nsecond line")


def _probe() -> FakeProbe:
    return FakeProbe(
        cpus=1, ports_in_use={6443: ""}, kernel_files={"/proc/swaps": b"Filename\n/swapfile file 1 0 -2\n"}
    )


CHECKS = [NumCPU(2), Port(6443), Swap(), Port(10250)]


def test_results_and_counts() -> None:
    report = run_checks(CHECKS, _probe())
    assert [r.result for r in report.results] == ["error", "error", "warning", "pass"]
    d = report.to_dict()
    assert d["errors"] == 2 and d["warnings"] == 1
    assert set(d["checks"][0]) == {"name", "result", "detail", "fix"}
    assert d["checks"][3] == {
        "name": "Port-10250",
        "result": "pass",
        "detail": "port 10250 is free",
        "fix": "",
    }
    assert d["checks"][1]["fix"]  # failing checks say how to fix


@pytest.mark.parametrize(
    "ignore", [["numcpu", "PORT-6443"], ["NumCPU,Port-6443"], ["all"], "numcpu,port-6443"]
)
def test_ignore_is_case_insensitive_and_all(ignore: list[str] | str) -> None:
    report = run_checks(CHECKS, _probe(), ignore_set(ignore))
    assert [r.result for r in report.results] == ["ignored", "ignored", "warning", "pass"]
    assert report.ok
    lines = report.lines()
    assert "\t[WARNING NumCPU]: the number of available CPUs 1 is less than the required 2" in lines
    assert "\t[WARNING Port-6443]: Port 6443 is in use" in lines
    assert not any("ERROR" in ln for ln in lines)
    report.raise_for_errors()  # does not raise


def test_ignore_union_with_config_list() -> None:
    report = run_checks(CHECKS, _probe(), ignore_set(["NumCPU"], ["port-6443"]))
    assert report.ok


def test_all_with_names_is_rejected() -> None:
    with pytest.raises(KubeadmError, match="don't specify individual checks if 'all' is used"):
        ignore_set(["all", "Swap"])


def test_partial_ignore_keeps_other_errors() -> None:
    report = run_checks(CHECKS, _probe(), ignore_set(["NumCPU"]))
    assert [r.name for r in report.errors] == ["Port-6443"]
    with pytest.raises(PreflightError) as exc:
        report.raise_for_errors()
    msg = str(exc.value)
    assert msg.startswith("preflight checks failed: [ERROR Port-6443]: Port 6443 is in use")
    assert msg.endswith("use --ignore-preflight-errors=... to ignore")
    assert "NumCPU" not in msg


def test_error_lines_like_kubeadm() -> None:
    lines = run_checks(CHECKS, _probe()).lines()
    assert lines[0] == (
        "\t[WARNING Swap]: swap is supported for cgroup v2 only. The kubelet must be properly "
        "configured to use swap. Please refer to "
        "https://kubernetes.io/docs/concepts/architecture/nodes/#swap-memory, or disable swap on "
        "the node"
    )
    assert lines[1] == "[preflight] Some fatal errors occurred:"
    assert lines[2:4] == [
        "\t[ERROR NumCPU]: the number of available CPUs 1 is less than the required 2",
        "\t[ERROR Port-6443]: Port 6443 is in use",
    ]
    assert lines[-1].startswith("[preflight] If you know what you are doing")


def test_crashing_check_is_its_own_error_and_others_run() -> None:
    report = run_checks([Exploding(), Port(10250)], FakeProbe())
    crashed, port = report.results
    assert crashed.result == "error"
    assert crashed.errors == ("check crashed: RuntimeError: boom second line",)
    assert port.result == "pass"


def test_crashing_check_can_be_ignored() -> None:
    report = run_checks([Exploding()], FakeProbe(), ignore_set(["exploding"]))
    assert report.results[0].result == "ignored"
    assert report.ok


def test_on_result_callback_sees_each_check() -> None:
    seen: list[str] = []
    run_checks(CHECKS, _probe(), on_result=lambda r: seen.append(r.name))
    assert seen == ["NumCPU", "Port-6443", "Swap", "Port-10250"]
