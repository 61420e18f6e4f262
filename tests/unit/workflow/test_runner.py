"""Runner semantics: selection, skip, requirements, dry-run effectors, error paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeadm_py.changes import Change
from kubeadm_py.errors import InternalError, KubeadmError, PhaseError, RequirementError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.workflow import runner
from kubeadm_py.workflow.phase import Phase, Requirement, collect_flags, flatten
from tests.unit.runctx import BareContext

Ctx = BareContext


def writer(path: str, data: bytes = b"x"):
    def run(ctx: Ctx) -> None:
        ctx.ran.append(path)
        ctx.fs.write(f"/etc/test/{path.replace('/', '_')}", data, 0o644)

    return run


CA = Requirement("ca", "the CA", present=lambda ctx: ctx.fs.exists("/etc/test/certs_ca"))

TREE = (
    Phase("preflight", "Run checks", run=writer("preflight"), flags=("ignore-preflight-errors",)),
    Phase(
        "certs",
        "Certificate generation",
        children=(
            Phase("ca", "The CA", run=writer("certs/ca"), provides=("ca",), flags=("cert-dir",)),
            Phase(
                "apiserver",
                "API server cert",
                run=writer("certs/apiserver"),
                requires=(CA,),
                flags=("cert-dir", "service-cidr"),
            ),
        ),
    ),
    Phase(
        "kubeconfig",
        "Kubeconfigs",
        children=(Phase("admin", "admin.conf", run=writer("kubeconfig/admin"), requires=(CA,)),),
    ),
    Phase(
        "addon",
        "Addons",
        children=(
            Phase("coredns", "CoreDNS", run=writer("addon/coredns")),
            Phase("kube-proxy", "kube-proxy", run=writer("addon/kube-proxy"), run_if=lambda ctx: False),
        ),
    ),
)


def run(tmp_path: Path, only=None, skip=None, sandbox=False) -> tuple[Ctx, runner.RunReport]:
    (tmp_path / "root").mkdir(exist_ok=True)
    fs = HostFS(rootfs=tmp_path / "root", dry_run=sandbox)
    ctx = Ctx(fs)
    return ctx, runner.execute("init", TREE, ctx, only=only, skip=skip)


@pytest.mark.parametrize(
    ("only", "skip", "expected"),
    [
        (None, None, ["preflight", "certs/ca", "certs/apiserver", "kubeconfig/admin", "addon/coredns"]),
        (["certs"], None, ["certs/ca", "certs/apiserver"]),
        (["certs/all"], None, ["certs/ca", "certs/apiserver"]),
        (["all"], None, ["preflight", "certs/ca", "certs/apiserver", "kubeconfig/admin", "addon/coredns"]),
        (["certs/ca"], None, ["certs/ca"]),
        (None, ["certs/apiserver", "addon"], ["preflight", "certs/ca", "kubeconfig/admin"]),
        (None, ["preflight,"], ["certs/ca", "certs/apiserver", "kubeconfig/admin", "addon/coredns"]),
        (["certs"], ["certs/apiserver"], ["certs/ca"]),  # skip beats selection
        (["certs"], ["certs"], []),
        (["addon/kube-proxy"], None, []),  # run_if false: skipped, not run
    ],
)
def test_selection(tmp_path: Path, only, skip, expected) -> None:
    if skip:
        skip = [s for part in skip for s in part.split(",")]
    ctx, report = run(tmp_path, only, skip)
    assert ctx.ran == expected
    for path in expected:
        assert report.outcome(path).status == "changed"


def test_skipped_and_run_if_are_reported(tmp_path: Path) -> None:
    _, report = run(tmp_path, skip=["preflight"])
    assert report.outcome("preflight").status == "skipped"
    assert "skip" in report.outcome("preflight").reason
    assert report.outcome("addon/kube-proxy").status == "skipped"
    assert "not applicable" in report.outcome("addon/kube-proxy").reason


@pytest.mark.parametrize(
    ("only", "skip", "message"),
    [
        (["certz"], None, "did you mean certs"),
        (None, ["certs/apiservr"], "did you mean certs/apiserver"),
        (["nothing-like-it"], None, "phases are: preflight"),
    ],
)
def test_unknown_phase_is_an_error(tmp_path: Path, only, skip, message) -> None:
    with pytest.raises(KubeadmError, match=message):
        run(tmp_path, only, skip)


def test_requirement_missing_fails_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(RequirementError) as exc:
        run(tmp_path, only=["kubeconfig"])
    assert "phase kubeconfig/admin needs the CA" in str(exc.value)
    assert "run phase 'certs/ca' first" in str(exc.value)
    assert list((tmp_path / "root").iterdir()) == []  # nothing touched


def test_requirement_provided_earlier_in_run(tmp_path: Path) -> None:
    ctx, _ = run(tmp_path, only=["certs/ca", "kubeconfig"])
    assert ctx.ran == ["certs/ca", "kubeconfig/admin"]


def test_requirement_present_on_disk(tmp_path: Path) -> None:
    run(tmp_path, only=["certs/ca"])
    ctx, _ = run(tmp_path, only=["kubeconfig/admin"])
    assert ctx.ran == ["kubeconfig/admin"]


def test_requirement_skipped_provider_does_not_count(tmp_path: Path) -> None:
    with pytest.raises(RequirementError, match="certs/apiserver needs the CA"):
        run(tmp_path, skip=["certs/ca"])


def test_rerun_is_unchanged(tmp_path: Path) -> None:
    run(tmp_path)
    _, report = run(tmp_path)
    ran = [p for p in report.phases if p.status != "skipped"]
    assert ran and all(p.status == "unchanged" for p in ran)
    assert not report.changed


def test_dry_run_writes_only_to_memory_and_reads_its_own_writes(tmp_path: Path) -> None:
    ctx, report = run(tmp_path, only=["certs"], sandbox=True)
    assert list((tmp_path / "root").iterdir()) == []
    assert ctx.fs.read_bytes("/etc/test/certs_ca") == b"x"
    # the apiserver requirement was satisfied by the earlier dry-run phase, not the host
    assert [c.target for c in report.all_changes()] == ["/etc/test/certs_ca", "/etc/test/certs_apiserver"]
    assert all(c.content == "x" for c in report.all_changes())


def test_error_carries_phase_path_and_partial_report(tmp_path: Path) -> None:
    def boom(ctx: Ctx) -> None:
        ctx.fs.write("/etc/test/partial", b"1", 0o600)
        raise KubeadmError("disk on fire")

    tree = (Phase("a", "A", run=writer("a")), Phase("b", "B", run=boom), Phase("c", "C", run=writer("c")))
    ctx = Ctx(HostFS(rootfs=tmp_path))
    with pytest.raises(PhaseError) as exc:
        runner.execute("init", tree, ctx)
    assert str(exc.value) == "phase b: disk on fire"
    report = exc.value.report
    assert [p.status for p in report.phases] == ["changed", "failed"]
    assert report.phases[1].changes[0].target == "/etc/test/partial"
    assert ctx.ran == ["a"]


def test_extra_changes_returned_by_phase(tmp_path: Path) -> None:
    tree = (Phase("note", "N", run=lambda ctx: [Change("note", "run", "kubelet", "start the kubelet")]),)
    report = runner.execute("init", tree, Ctx(HostFS(rootfs=tmp_path)))
    assert report.outcome("note").status == "changed"


def test_flatten_and_flags() -> None:
    paths = [(f.path, f.level, f.parent) for f in flatten(TREE)]
    assert paths[:4] == [
        ("preflight", 0, None),
        ("certs", 0, None),
        ("certs/ca", 1, "certs"),
        ("certs/apiserver", 1, "certs"),
    ]
    assert collect_flags(TREE[1]) == ("cert-dir", "service-cidr")


def test_phase_tree_text() -> None:
    text = runner.phase_tree_text(TREE)
    lines = text.splitlines()
    assert lines[0].startswith("preflight") and lines[0].endswith("Run checks")
    assert lines[2].startswith("  /ca") and lines[2].endswith("The CA")


def test_changes_returned_and_recorded_are_counted_once(tmp_path: Path) -> None:
    def run(ctx: Ctx) -> list[Change]:
        return [ctx.fs.write("/etc/test/a", b"1", 0o600), Change("note", "run", "x", "extra")]

    report = runner.execute("init", (Phase("p", "P", run=run),), Ctx(HostFS(rootfs=tmp_path)))
    assert [c.target for c in report.outcome("p").changes] == ["/etc/test/a", "x"]


def test_unexpected_exception_is_an_internal_error_with_its_traceback(tmp_path: Path) -> None:
    def bug(ctx: Ctx) -> None:
        ctx.fs.write("/etc/test/partial", b"1", 0o600)
        {}["missing"]  # noqa: B018 - a bug in a phase

    ctx = Ctx(HostFS(rootfs=tmp_path))
    with pytest.raises(InternalError) as exc:
        runner.execute("init", (Phase("a", "A", run=writer("a")), Phase("b", "B", run=bug)), ctx)
    assert exc.value.exit_code == 70 and exc.value.exit_code != KubeadmError.exit_code
    assert str(exc.value).startswith("phase b: internal error: KeyError: 'missing'")
    assert "in bug" in exc.value.traceback_text and "KeyError" in exc.value.traceback_text
    report = exc.value.report
    assert report.error == "phase b: internal error: KeyError: 'missing'"
    assert [p.status for p in report.phases] == ["changed", "failed"]


def test_user_error_is_not_an_internal_error(tmp_path: Path) -> None:
    def refuse(ctx: Ctx) -> None:
        raise KubeadmError("bad flag")

    with pytest.raises(PhaseError) as exc:
        runner.execute("init", (Phase("a", "A", run=refuse),), Ctx(HostFS(rootfs=tmp_path)))
    assert not isinstance(exc.value, InternalError) and exc.value.exit_code == 1


def test_alias_selects_the_phase(tmp_path: Path) -> None:
    tree = (
        Phase(
            "kubelet-finalize",
            "K",
            children=(Phase("enable-client-cert-rotation", "R", run=writer("r"), aliases=("old-name",)),),
        ),
        Phase("other", "O", run=writer("o")),
    )
    ctx = Ctx(HostFS(rootfs=tmp_path))
    runner.execute("init", tree, ctx, only=["kubelet-finalize/old-name"])
    assert ctx.ran == ["r"]
    with pytest.raises(KubeadmError, match="unknown phase 'kubelet-finalize/new-name'"):
        runner.execute("init", tree, ctx, only=["kubelet-finalize/new-name"])
