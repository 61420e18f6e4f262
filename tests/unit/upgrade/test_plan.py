"""``upgrade plan`` (JSON and text) and ``upgrade diff``, library and CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kubeadm_py.cli.main import main
from kubeadm_py.errors import KubeadmError
from kubeadm_py.upgrade import plan as planlib
from tests.unit.upgrade.conftest import BASE_VERSION, Node


def change_config(node: Node, tmp_path: Path) -> Path:
    doc = yaml.safe_load(node.stored_cluster())
    doc["apiServer"] = {
        "extraArgs": [{"name": "audit-log-maxage", "value": "7"}],
        "certSANs": ["api.example.test"],
    }
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(doc))
    return p


def test_plan_offers_the_next_minor_from_the_version_table(node: Node) -> None:
    result = planlib.plan(*node.open())
    assert result["clusterVersion"] == BASE_VERSION
    [p] = result["plans"]
    assert p["targetVersion"] == "v1.31.14"
    comps = {c["name"]: c for c in p["components"]}
    assert comps["kube-apiserver"]["current"] == "v1.30.14"
    assert comps["kube-apiserver"]["target"] == "v1.31.14"
    assert comps["kube-scheduler"]["manifestChanged"] is True
    # kubeadm v1.30.14 lists etcd 3.5.15-0, v1.31.14 lists 3.5.24-0 (kubeadm_py/image_tags.py)
    assert (p["etcd"]["current"], p["etcd"]["target"]) == ("3.5.15-0", "3.5.24-0")
    assert p["etcd"]["upgrade"] is True
    # the tags of the exact target patch (kubeadm v1.31.14 lists these)
    tags = {k: p["imageTags"][k] for k in ("etcd", "coredns", "pause", "verified")}
    assert tags == {"etcd": "3.5.24-0", "coredns": "v1.11.3", "pause": "3.10", "verified": True}
    assert {a["name"]: a["target"] for a in p["addons"]}["coredns"] == "v1.11.3"
    assert p["kubelets"] == [{"node": "cp-1", "current": BASE_VERSION, "target": "v1.31.14"}]
    assert {a["name"]: a["skipped"] for a in p["addons"]}["coredns"].startswith(
        "ConfigMap kube-system/coredns"
    )
    actions = {c["name"]: c["action"] for c in p["certificates"]}
    assert actions["apiserver"] == "renew" and actions["admin.conf"] == "renew"
    assert [r["name"] for r in result["rules"]][0] == "TargetInVersionTable"


def test_plan_json_for_a_config_change(node: Node, tmp_path: Path) -> None:
    cfg = change_config(node, tmp_path)
    result = planlib.plan(*node.open(config=str(cfg), version=BASE_VERSION))
    [p] = result["plans"]
    assert result["configSource"] == "--config ClusterConfiguration"
    comps = {c["name"]: c for c in p["components"]}
    assert comps["kube-apiserver"]["manifestChanged"] is True
    assert comps["kube-apiserver"]["flags"]["added"] == [{"flag": "audit-log-maxage", "value": "7"}]
    assert comps["kube-controller-manager"]["manifestChanged"] is False
    [api_cert] = [c for c in p["certificates"] if c["name"] == "apiserver"]
    assert api_cert["action"] == "reissue" and api_cert["addsSANs"] == ["api.example.test"]
    json.dumps(result)  # serialisable as is


@pytest.mark.parametrize(
    ("version", "etcd", "coredns", "pause", "verified"),
    [
        # kubeadm v1.31.0 lists etcd 3.5.15-0 and CoreDNS v1.11.1; v1.31.1 CoreDNS v1.11.3
        # (kubeadm_py/image_tags.py, from the kubeadm binaries' `config images list`)
        ("v1.31.0", "3.5.15-0", "v1.11.1", "3.10", True),
        ("v1.31.1", "3.5.15-0", "v1.11.3", "3.10", True),
        # beyond the data: the newest known patch's tags, marked unverified
        ("v1.31.20", "3.5.24-0", "v1.11.3", "3.10", False),
    ],
)
def test_plan_shows_the_tags_of_the_target_patch(
    node: Node, version: str, etcd: str, coredns: str, pause: str, verified: bool
) -> None:
    [p] = planlib.plan(*node.open(version=version))["plans"]
    assert p["etcd"]["target"] == etcd
    assert {a["name"]: a["target"] for a in p["addons"]}["coredns"] == coredns
    t = p["imageTags"]
    assert (t["etcd"], t["coredns"], t["pause"], t["verified"]) == (etcd, coredns, pause, verified)
    text = planlib.render_text({"clusterVersion": BASE_VERSION, "configSource": "x", "plans": [p]})
    line = f"Image tags of {version}: etcd {etcd}, CoreDNS {coredns}, pause {pause}"
    assert line in text and ("unverified" in text) is not verified


@pytest.mark.parametrize(
    ("cluster", "offered"),
    [
        ("v1.32.10", ["v1.32.13", "v1.33.13"]),
        ("v1.33.2", ["v1.33.13", "v1.34.10"]),
        ("v1.34.10", ["v1.35.7"]),
        ("v1.35.7", ["v1.36.3"]),
    ],
)
def test_candidates_walk_through_1_33_and_1_34(cluster: str, offered: list[str]) -> None:
    assert planlib.candidates(cluster) == offered


@pytest.mark.parametrize(
    "version,message",
    [
        ("v1.32.10", "too high; kubeadm can upgrade only 1 minor version at a time"),
        ("v1.20.2", "too low; kubeadm can downgrade only 1 minor version at a time"),
        ("v1.30.1", "this is a downgrade"),
        ("v1.29.0", "is not a minor kubeadm-py can deploy"),
    ],
)
def test_plan_refuses(node: Node, version: str, message: str) -> None:
    with pytest.raises(KubeadmError, match=message):
        planlib.plan(*node.open(version=version))


def test_cli_plan_refuses_two_minor_jump_and_downgrade(
    node: Node, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    node.route_cli(monkeypatch)
    assert main(["upgrade", "plan", "v1.32.10", "--rootfs", str(node.root)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the version skew policy refuses the upgrade to v1.32.10")
    assert "Traceback" not in err
    assert main(["upgrade", "plan", "v1.20.2", "--rootfs", str(node.root)]) == 1
    assert "too low" in capsys.readouterr().err


def test_cli_plan_output_formats(
    node: Node, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    node.route_cli(monkeypatch)
    assert main(["upgrade", "plan", "--rootfs", str(node.root), "-o", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["plans"][0]["targetVersion"] == "v1.31.14"
    assert main(["upgrade", "plan", "--rootfs", str(node.root), "-o", "yaml"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["clusterVersion"] == BASE_VERSION
    assert main(["upgrade", "plan", "--rootfs", str(node.root)]) == 0
    text = capsys.readouterr().out
    assert "kube-apiserver" in text and "v1.31.14" in text
    assert "kubeadm-py upgrade apply v1.31.14" in text
    assert "Image tags of v1.31.14: etcd 3.5.24-0, CoreDNS v1.11.3, pause 3.10\n" in text


def test_cli_plan_text_for_a_config_change(
    node: Node, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    node.route_cli(monkeypatch)
    cfg = change_config(node, tmp_path)
    assert main(["upgrade", "plan", "--rootfs", str(node.root), "--config", str(cfg)]) == 0
    text = capsys.readouterr().out
    # the current version is offered (a configuration change), then the next minor
    assert text.index("Upgrade to v1.30.14:") < text.index("Upgrade to v1.31.14:")
    assert f"kubeadm-py upgrade apply v1.30.14 --config {cfg}" in text
    assert "+ --audit-log-maxage=7" in text
    assert "reissue  apiserver (adds SANs api.example.test)" in text
    assert "must be upgraded manually" in text.split("Upgrade to v1.31.14:")[1]
    assert "must be upgraded manually" not in text.split("Upgrade to v1.31.14:")[0]


def test_diff_shows_unified_manifest_diffs(node: Node, tmp_path: Path) -> None:
    cfg = change_config(node, tmp_path)
    text = planlib.diff(*node.open(config=str(cfg)))
    assert text.startswith("--- /etc/kubernetes/manifests/kube-apiserver.yaml\n+++ new manifest\n")
    assert "+    - --audit-log-maxage=7\n" in text
    assert "kube-controller-manager" not in text  # no change there
    hunk = [
        line
        for line in text.splitlines()
        if line.startswith(("+", "-", " ")) and not line.startswith(("+++", "---"))
    ]
    assert len(hunk) == 7  # one added line with 3 lines of context on each side
    zero = planlib.diff(*node.open(config=str(cfg), context_lines=0))
    assert [line for line in zero.splitlines() if line.startswith(" ")] == []


def test_diff_for_a_version(
    node: Node, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    node.route_cli(monkeypatch)
    assert main(["upgrade", "diff", "v1.31.14", "--rootfs", str(node.root), "-c", "1"]) == 0
    out = capsys.readouterr().out
    for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        assert f"-    image: registry.k8s.io/{comp}:v1.30.14" in out
        assert f"+    image: registry.k8s.io/{comp}:v1.31.14" in out


def test_cli_apply_binds_version_and_phase_subcommands(
    node: Node, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    node.route_cli(monkeypatch)
    monkeypatch.setattr("sys.argv", ["kubeadm-py", "upgrade", "apply", "phase", "--help"])
    import importlib

    import kubeadm_py.cli.commands.upgrade as mod

    importlib.reload(mod)
    assert main(["upgrade", "apply", "phase", "--help"]) == 0
    assert "control-plane" in capsys.readouterr().out
    monkeypatch.setattr("sys.argv", ["kubeadm-py", "upgrade", "apply"])
    importlib.reload(mod)
    assert main(["upgrade", "apply", "v1.32.10", "--rootfs", str(node.root), "-y"]) == 1
    assert "too high" in capsys.readouterr().err


def test_cli_plan_jsonpath(
    node: Node, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.unit.cli.jsonpath_check import check

    node.route_cli(monkeypatch)

    def run(argv: list[str]) -> str:
        assert main(["upgrade", "plan", "--rootfs", str(node.root), *argv]) == 0
        return capsys.readouterr().out

    paths = [".plans[*].targetVersion", ".clusterVersion", ".plans[0]", ".plans[0].components[*].name"]
    check(run, [], paths)
