"""extraArgs names against the components' flag tables (issue 17): where a minor's table is
complete (v1.20, generated from the test bed's binaries), an unknown name is a one-line error
before anything changes, with the nearest flag; --ignore-preflight-errors=UnknownExtraArgs skips
it; minors without a complete table keep the warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeadm_py.errors import KubeadmError
from kubeadm_py.manifests.known_flags import complete_table, unknown_flag_errors, unknown_flags
from kubeadm_py.manifests.known_flags_v120 import FLAGS
from tests.unit import runctx
from tests.unit.manifests.helpers import make_cfg


def _cfg(version: str, component_key: str, name: str, value: str = "x"):  # type: ignore[no-untyped-def]
    return make_cfg(version, cluster={component_key: {"extraArgs": [{"name": name, "value": value}]}})


def test_the_v120_table_has_the_flags_kubeadm_v120_sets_and_hidden_ones() -> None:
    assert "audit-policy-file" in FLAGS["kube-apiserver"]
    assert "insecure-port" in FLAGS["kube-apiserver"]  # deprecated: --help hides it, kubeadm v1.20 sets it
    assert "port" in FLAGS["kube-scheduler"]
    assert "initial-cluster-state" in FLAGS["etcd"]
    assert "no-such-flag" not in FLAGS["kube-apiserver"]
    assert unknown_flags("kube-apiserver", ["audit-policy-file", "audit-polcy-file"], "1.20") == [
        "audit-polcy-file"
    ]


def test_a_typo_is_one_line_with_the_nearest_flag() -> None:
    assert unknown_flag_errors("kube-apiserver", ["audit-polcy-file"], "1.20") == [
        "kube-apiserver v1.20 has no flag --audit-polcy-file; did you mean --audit-policy-file?"
    ]
    assert unknown_flag_errors("kube-scheduler", ["zzzz"], "1.20") == [
        "kube-scheduler v1.20 has no flag --zzzz"
    ]


def test_minors_without_a_complete_table_only_warn() -> None:
    assert complete_table("1.32") is None
    assert unknown_flag_errors("kube-apiserver", ["audit-polcy-file"], "1.32") == []
    assert unknown_flags("kube-apiserver", ["audit-polcy-file"], "1.32") == [
        "audit-polcy-file"
    ]  # the warning


def test_init_refuses_an_unknown_name_before_anything_changes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(KubeadmError) as e:
        runctx.build(_cfg("v1.20.2", "controllerManager", "node-cidr-mask-sise", "24"), root)
    assert str(e.value) == (
        "kube-controller-manager v1.20 has no flag --node-cidr-mask-sise; "
        "did you mean --node-cidr-mask-size? "
        "(nothing was changed on this node; for a flag of a patched build, "
        "--ignore-preflight-errors=UnknownExtraArgs)"
    )
    assert list(root.iterdir()) == []


def test_etcd_extra_args_are_checked_too(tmp_path: Path) -> None:
    cfg = make_cfg(
        "v1.20.2",
        cluster={
            "etcd": {
                "local": {
                    "dataDir": "/var/lib/etcd",
                    "extraArgs": [{"name": "quota-backend-byte", "value": "1"}],
                }
            }
        },
    )
    with pytest.raises(
        KubeadmError,
        match=r"^etcd v1\.20 has no flag --quota-backend-byte; did you mean "
        r"--quota-backend-bytes\?",
    ):
        runctx.build(cfg, tmp_path / "root")


def test_kubelet_extra_args_are_checked_for_this_node(tmp_path: Path) -> None:
    assert "cgroup-driver" in FLAGS["kubelet"]  # deprecated, still in the kubelet's --help
    nr = {"kubeletExtraArgs": [{"name": "node-labels", "value": "a=b"}, {"name": "max-pod", "value": "9"}]}
    with pytest.raises(
        KubeadmError, match=r"^kubelet v1\.20 has no flag --max-pod; did you mean --max-pods\?"
    ):
        runctx.build(make_cfg("v1.20.2", init={"nodeRegistration": nr}), tmp_path / "root")


@pytest.mark.parametrize("ignore", ["UnknownExtraArgs", "unknownextraargs", "all"])
def test_the_escape_hatch_turns_it_into_the_warning(tmp_path: Path, ignore: str) -> None:
    ctx, _ = runctx.build(
        _cfg("v1.20.2", "apiServer", "patched-build-flag"),
        tmp_path / "root",
        ignore_preflight_errors=[ignore],
    )
    from kubeadm_py.manifests.controlplane import build_control_plane

    warnings = build_control_plane(ctx.cfg, ctx.fs, ("kube-apiserver",)).warnings
    ctx.close()
    assert any("'patched-build-flag' is not a flag" in w for w in warnings)


def test_the_escape_hatch_in_the_configuration(tmp_path: Path) -> None:
    cfg = make_cfg(
        "v1.20.2",
        cluster={"apiServer": {"extraArgs": [{"name": "patched-build-flag", "value": "1"}]}},
        init={"nodeRegistration": {"ignorePreflightErrors": ["UnknownExtraArgs"]}},
    )
    ctx, _ = runctx.build(cfg, tmp_path / "root")
    ctx.close()


def test_a_known_flag_passes(tmp_path: Path) -> None:
    ctx, _ = runctx.build(_cfg("v1.20.2", "scheduler", "profiling", "false"), tmp_path / "root")
    ctx.close()


def test_upgrade_apply_runs_the_check_before_its_phases() -> None:
    """upgrade apply needs a cluster to build its context; its validate list is what runs first."""
    from kubeadm_py.phases.shared import validate
    from kubeadm_py.workflows.init import WORKFLOW as INIT
    from kubeadm_py.workflows.upgrade_apply import WORKFLOW as APPLY

    assert validate.extra_arg_names in APPLY.validate
    assert validate.extra_arg_names in INIT.validate


def test_the_generated_module_is_what_the_tool_writes() -> None:
    """The tool's renderer, fed the module's own table, reproduces the module (no hand edits)."""
    import sys

    root = Path(__file__).resolve().parents[3]
    sys.path.insert(0, str(root / "tools"))
    import gen_known_flags as tool

    text = (root / "kubeadm_py/manifests/known_flags_v120.py").read_text()
    blocks = text.split('": frozenset(')[1:]  # one per component, in the tool's order
    hidden = {
        comp: {ln.split('"')[1] for ln in block.splitlines() if "# hidden in --help" in ln}
        for comp, block in zip(tool.COMPONENTS, blocks, strict=True)
    }
    versions = {
        c: ln.split("(")[1].rstrip("),")
        for c in tool.COMPONENTS
        for ln in text.splitlines()
        if ln.startswith("``") and ln.split("``")[1].endswith("/" + c)
    }
    tables = {c: (set(FLAGS[c]) - hidden[c], hidden[c]) for c in tool.COMPONENTS}
    assert tool.render(tool.TESTBED, tables, versions) == text
