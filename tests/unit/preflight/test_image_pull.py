"""The ImagePull check and its place in the preflight phase. The container runtime is the fake
probe's (``probe.image_service``), given to the check as the CRI effector the preflight phase passes
(``Hooks(cri=probe.image_service)`` for a whole run); its dry-run twin records pulls."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kubeadm_py import api
from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.effectors.bundle import Hooks
from kubeadm_py.effectors.cri import ContainerRuntime, DryRunCri
from kubeadm_py.errors import PreflightError
from kubeadm_py.host.fake import FakeProbe
from kubeadm_py.images import control_plane_images, ensure_images
from kubeadm_py.phases.context import AnyContext
from kubeadm_py.phases.shared.preflight import preflight_phase
from kubeadm_py.preflight.images import ImagePull
from kubeadm_py.preflight.roles import checks_for_role, facts_from_config
from kubeadm_py.workflow.report import NullReporter

IMAGES = ("r/kube-apiserver:v1", "r/pause:3", "r/etcd:3")


def _run(check: ImagePull, probe: FakeProbe) -> tuple[list[str], list[str]]:
    """The check as the preflight phase of a real run gives it: with the run's CRI effector."""
    return replace(check, runtime=probe.image_service).run(probe)


def _dry_run(check: ImagePull, probe: FakeProbe, logs: list[str]) -> tuple[list[str], list[str]]:
    """The check with the CRI effector of a dry run: the twin reads the runtime, records pulls."""

    def twin(endpoint: str) -> ContainerRuntime:
        return DryRunCri(probe.image_service(endpoint), logs.append)

    return replace(check, runtime=twin).run(probe)


def test_present_images_pass_without_pull() -> None:
    probe = FakeProbe(images=set(IMAGES))
    assert _run(ImagePull(IMAGES, "unix:///run/c.sock"), probe) == ([], [])
    assert [c for c in probe.calls if c.startswith("pull")] == []
    assert [c for c in probe.calls if c.startswith("status")] == [f"status {i}" for i in IMAGES]


def test_missing_images_are_pulled() -> None:
    probe = FakeProbe(images={"r/pause:3"})
    assert _run(ImagePull(IMAGES, "unix:///run/c.sock"), probe) == ([], [])
    assert [c for c in probe.calls if c.startswith("pull")] == ["pull r/kube-apiserver:v1", "pull r/etcd:3"]


def test_pull_failure_names_image_and_message_after_retries() -> None:
    probe = FakeProbe(images=set(), pull_errors={"r/etcd:3": "rpc error: code = Unknown desc = refused"})
    warnings, errors = _run(ImagePull(IMAGES, "unix:///run/c.sock"), probe)
    assert errors == ["failed to pull image r/etcd:3: rpc error: code = Unknown desc = refused"]
    assert probe.calls.count("pull r/etcd:3") == 5  # PullImageRetry


def test_policy_never_and_always() -> None:
    probe = FakeProbe(images={"r/pause:3"})
    _, errors = _run(ImagePull(IMAGES, "unix:///run/c.sock", policy="Never"), probe)
    assert errors == [
        "image r/kube-apiserver:v1 not present and imagePullPolicy is Never",
        "image r/etcd:3 not present and imagePullPolicy is Never",
    ]
    assert not [c for c in probe.calls if c.startswith("pull")]
    probe = FakeProbe(images=set(IMAGES))
    assert _run(ImagePull(IMAGES, "unix:///run/c.sock", policy="Always"), probe) == ([], [])
    assert [c for c in probe.calls if c.startswith("pull")] == [f"pull {i}" for i in IMAGES]
    assert _run(ImagePull(IMAGES, policy="Sometimes"), probe) == ([], ['unsupported pull policy "Sometimes"'])


def test_parallel_pull_keeps_order() -> None:
    probe = FakeProbe(images=set())
    results = ensure_images(probe.image_service("x"), list(IMAGES), serial=False)
    assert [r.image for r in results] == list(IMAGES) and all(r.action == "pulled" for r in results)


def test_dry_run_pulls_nothing_and_says_what_it_would_pull() -> None:
    probe = FakeProbe(images={"r/pause:3"})
    logs: list[str] = []
    warnings, errors = _dry_run(ImagePull(IMAGES, "unix:///run/c.sock"), probe, logs)
    assert errors == []
    assert warnings == [
        "image r/kube-apiserver:v1 would be pulled; this run pulls nothing",
        "image r/etcd:3 would be pulled; this run pulls nothing",
    ]
    assert not [c for c in probe.calls if c.startswith("pull")]
    assert [c for c in probe.calls if c.startswith("status")] == [f"status {i}" for i in IMAGES]
    assert logs == [f"[dryrun] Would pull the image {i}" for i in ("r/kube-apiserver:v1", "r/etcd:3")]
    probe = FakeProbe(images=set(IMAGES))  # Always: every image would be pulled again
    warnings, _ = _dry_run(ImagePull(IMAGES, "unix:///run/c.sock", policy="Always"), probe, [])
    why = "(imagePullPolicy Always); this run pulls nothing"
    assert warnings == [f"image {i} would be pulled {why}" for i in IMAGES]
    assert not [c for c in probe.calls if c.startswith("pull")]


def test_unreachable_runtime_and_sandbox_warning(tmp_path: Path) -> None:
    probe = FakeProbe(cri_unreachable="connection refused")
    msg = (
        "images not checked or pulled: the container runtime on unix:///run/c.sock did not answer: "
        "connection refused"
    )
    assert _run(ImagePull(IMAGES, "unix:///run/c.sock"), probe) == ([], [msg])
    # a dry run would stop here too: the runtime a real run needs is not there
    assert _dry_run(ImagePull(IMAGES, "unix:///run/c.sock"), probe, []) == ([], [msg])
    # without a CRI effector (the standalone preflight command) the check only reads: a warning
    sock = f"{tmp_path}/none.sock"
    warnings, errors = ImagePull(IMAGES, f"unix://{sock}").run(probe)
    assert errors == [] and warnings == [
        f"images not checked or pulled: the container runtime on unix://{sock} did not answer: "
        f"container runtime is not running: {sock} does not exist"
    ]
    probe = FakeProbe(runtime_sandbox_image="registry.k8s.io/pause:3.6")
    warnings, errors = _run(ImagePull(IMAGES, "unix:///run/c.sock", sandbox_image="r/pause:3"), probe)
    assert errors == [] and warnings == [
        'detected that the sandbox image "registry.k8s.io/pause:3.6" of the container runtime is '
        'inconsistent with that used by kubeadm. It is recommended to use "r/pause:3" as the CRI '
        "sandbox image."
    ]


def _cfg(**nodereg: Any) -> KubeadmConfig:
    return KubeadmConfig(
        cluster={
            "kubernetesVersion": "v1.20.2",
            "networking": {"serviceSubnet": "10.96.0.0/12"},
            "imageRepository": "k8s.gcr.io",
            "etcd": {"local": {}},
        },
        init={
            "localAPIEndpoint": {"advertiseAddress": "10.0.0.10", "bindPort": 6443},
            "nodeRegistration": {"name": "node-1", "criSocket": "unix:///run/c.sock", **nodereg},
        },
        join={"controlPlane": {}, "nodeRegistration": {"name": "node-1", **nodereg}},
    )


def test_role_tables() -> None:
    cfg = _cfg(imagePullPolicy="Never", imagePullSerial=False)
    for role in ("init", "join-control-plane"):
        facts = facts_from_config(cfg, role)
        last = checks_for_role(role, facts)[-1]
        assert isinstance(last, ImagePull)
        assert last.images == tuple(control_plane_images(cfg))
        assert (last.policy, last.serial, last.sandbox_image) == ("Never", False, "k8s.gcr.io/pause:3.2")
    assert not [c for c in checks_for_role("join", facts_from_config(cfg, "join")) if c.name == "ImagePull"]
    assert not [c for c in checks_for_role("reset", facts_from_config(cfg, "reset")) if c.name == "ImagePull"]


class Logs(NullReporter):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def message(self, text: str) -> None:
        self.lines.append(text)


def _ctx(probe: FakeProbe, logs: Logs, dry_run: bool = False, **opts: Any) -> AnyContext:
    hooks = Hooks(probe=probe, cri=probe.image_service)
    ctx: AnyContext = api.build_context("init", {"dry_run": dry_run, **opts}, logs, hooks=hooks, cfg=_cfg())
    return ctx


def test_phase_pulls_after_checks() -> None:
    probe, logs = FakeProbe(images=set()), Logs()
    ctx = _ctx(probe, logs)
    preflight_phase("init").run(ctx)  # type: ignore[misc]
    assert "[preflight] Pulling images required for setting up a Kubernetes cluster" in logs.lines
    assert [c for c in probe.calls if c.startswith("pull")] == [
        f"pull {i}" for i in control_plane_images(_cfg())
    ]
    assert ctx.state.preflight_report is not None
    assert ctx.state.preflight_report.results[-1].name == "ImagePull"


def test_phase_pull_error_is_ignorable() -> None:
    img = control_plane_images(_cfg())[0]
    probe = FakeProbe(images=set(), pull_errors={img: "no registry"})
    with pytest.raises(PreflightError, match=f"ImagePull.*failed to pull image {img}: no registry"):
        preflight_phase("init").run(_ctx(probe, Logs()))  # type: ignore[misc]
    probe = FakeProbe(images=set(), pull_errors={img: "no registry"})
    ctx = _ctx(probe, Logs(), ignore_preflight_errors="ImagePull")
    preflight_phase("init").run(ctx)  # type: ignore[misc]
    assert ctx.state.preflight_report is not None
    assert ctx.state.preflight_report.results[-1].result == "ignored"


def test_phase_dry_run_and_failed_checks_pull_nothing() -> None:
    probe, logs = FakeProbe(images=set()), Logs()
    ctx = _ctx(probe, logs, dry_run=True)
    try:
        preflight_phase("init").run(ctx)  # type: ignore[misc]
    finally:
        ctx.fs.close()
    # the CRI effector's twin says what it would pull, image by image
    would = [line for line in logs.lines if line.startswith("[dryrun] Would pull the image ")]
    assert would == [f"[dryrun] Would pull the image {i}" for i in control_plane_images(_cfg())]
    assert not [c for c in probe.calls if c.startswith("pull")]
    assert ctx.state.preflight_report is not None
    assert ctx.state.preflight_report.results[-1].result == "warning"
    probe, logs = FakeProbe(images=set(), cpus=1), Logs()  # NumCPU fails: upstream never gets to the pull
    ctx = _ctx(probe, logs)
    with pytest.raises(PreflightError, match="NumCPU"):
        preflight_phase("init").run(ctx)  # type: ignore[misc]
    assert not [c for c in probe.calls if c.startswith(("pull", "status"))]
    assert "[preflight] Not pulling images: the checks above failed" in logs.lines
