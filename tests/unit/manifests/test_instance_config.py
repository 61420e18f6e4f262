"""NodeLocalCRISocket minors (1.35+ rows, ``MinorRelease.node_local_cri_socket``): kubelet-start writes
/var/lib/kubelet/instance-config.yaml with the CRI socket and applies it over config.yaml; the socket is
no longer a flag in kubeadm-flags.env. Upstream (kubernetes/kubernetes cmd/kubeadm/app):
``phases/kubelet/config.go`` ``WriteInstanceConfigToDisk`` (``containerRuntimeEndpoint: %q\\n``, mode
0644, "[kubelet-start] Writing kubelet configuration to file %q") and ``WriteConfigToDisk`` (the file
applied as a strategic merge patch after the --patches ones); ``cmd/phases/init/kubelet.go`` (flags
env, then instance config, then config.yaml); ``phases/upgrade/postupgrade.go`` (an upgraded node
without the file gets it from kubeadm-flags.env's --container-runtime-endpoint, which is removed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubeadm_py.effectors.bundle import Hooks
from kubeadm_py.errors import KubeadmError
from kubeadm_py.kubelet.flags import hostname
from kubeadm_py.phases.context import RunContext
from kubeadm_py.phases.shared.kubelet_start import kubelet_start_phase
from kubeadm_py.phases.upgrade.kubelet import ensure_instance_config, run_kubelet_config
from tests.unit import runctx
from tests.unit.runctx import FakeServices

from .helpers import make_cfg

SOCK = "unix:///run/containerd/containerd.sock"
CRIO = "unix:///var/run/crio/crio.sock"


def _ctx(tmp_path: Path, version: str, dry_run: bool = False, **opts) -> tuple[RunContext, list[str]]:
    (tmp_path / "root").mkdir(parents=True, exist_ok=True)
    cfg = make_cfg(version, init={"nodeRegistration": {"name": hostname()}})  # no --hostname-override
    hooks = Hooks(services=FakeServices("tini"))  # no systemd: the phase prints the command
    return runctx.build(cfg, tmp_path / "root", dry_run=dry_run, hooks=hooks, **opts)


def _kdir(tmp_path: Path) -> Path:
    return tmp_path / "root/var/lib/kubelet"


@pytest.mark.parametrize("version", ["v1.36.0", "v1.37.1"])
def test_kubelet_start_writes_instance_config(tmp_path, version):
    ctx, logs = _ctx(tmp_path, version)
    kubelet_start_phase().run(ctx)  # type: ignore[misc]
    kdir = _kdir(tmp_path)
    inst = kdir / "instance-config.yaml"
    assert inst.read_text() == f'containerRuntimeEndpoint: "{SOCK}"\n'
    assert inst.stat().st_mode & 0o777 == 0o644
    conf = yaml.safe_load((kdir / "config.yaml").read_text())
    assert conf["containerRuntimeEndpoint"] == SOCK and conf["kind"] == "KubeletConfiguration"
    assert (kdir / "kubeadm-flags.env").read_text() == 'KUBELET_KUBEADM_ARGS=""\n'
    writes = [m for m in logs if m.startswith("[kubelet-start] Writing kubelet")]
    assert writes == [
        '[kubelet-start] Writing kubelet environment file with flags to file '
        '"/var/lib/kubelet/kubeadm-flags.env"',
        '[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/instance-config.yaml"',
        '[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"',
    ]


def test_instance_config_wins_over_user_patches(tmp_path):
    pdir = tmp_path / "root/patches"
    pdir.mkdir(parents=True)
    (pdir / "kubeletconfiguration.yaml").write_text(f"containerRuntimeEndpoint: {CRIO}\nmaxPods: 42\n")
    ctx, _ = _ctx(tmp_path, "v1.37.1", patches="/patches")
    kubelet_start_phase().run(ctx)  # type: ignore[misc]
    conf = yaml.safe_load((_kdir(tmp_path) / "config.yaml").read_text())
    assert conf["maxPods"] == 42 and conf["containerRuntimeEndpoint"] == SOCK


@pytest.mark.parametrize(
    ("version", "flags"),
    [
        ("v1.20.2", f"--container-runtime=remote --container-runtime-endpoint={SOCK}"),
        (
            "v1.32.10",
            f"--container-runtime-endpoint={SOCK} --pod-infra-container-image=registry.k8s.io/pause:3.10",
        ),
    ],
)
def test_older_minors_keep_the_flag_and_no_instance_config(tmp_path, version, flags):
    ctx, logs = _ctx(tmp_path, version)
    kubelet_start_phase().run(ctx)  # type: ignore[misc]
    kdir = _kdir(tmp_path)
    assert not (kdir / "instance-config.yaml").exists()
    # the socket stays a flag: config.yaml has no endpoint (1.20) or its zero value, as upstream's
    # v1beta1 types serialise it from v1.27 (containerRuntimeEndpoint: "")
    conf = yaml.safe_load((kdir / "config.yaml").read_text())
    assert conf.get("containerRuntimeEndpoint", "") == ""
    assert (kdir / "kubeadm-flags.env").read_text() == f'KUBELET_KUBEADM_ARGS="{flags}"\n'
    assert not any("instance-config" in m for m in logs)


def test_dry_run_lists_instance_config(tmp_path):
    ctx, _ = _ctx(tmp_path, "v1.37.1", dry_run=True)
    kubelet_start_phase().run(ctx)  # type: ignore[misc]
    assert not (_kdir(tmp_path) / "instance-config.yaml").exists()
    inst = [c for c in ctx.fs.changes if c.target == "/var/lib/kubelet/instance-config.yaml"]
    assert len(inst) == 1 and inst[0].changed and SOCK in (inst[0].content or "")
    conf = [c for c in ctx.fs.changes if c.target == "/var/lib/kubelet/config.yaml"]
    assert f"containerRuntimeEndpoint: {SOCK}" in (conf[0].content or "")


def test_upgrade_moves_the_socket_from_flags_to_instance_config(tmp_path):
    ctx, _ = _ctx(tmp_path, "v1.37.1")
    kdir = _kdir(tmp_path)
    kdir.mkdir(parents=True)
    (kdir / "kubeadm-flags.env").write_text(
        f'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint={CRIO} --hostname-override=n1"\n'
    )
    (kdir / "config.yaml").write_text("kind: KubeletConfiguration\n")
    run_kubelet_config(ctx)  # no API client: falls back to the generated defaults
    assert (kdir / "instance-config.yaml").read_text() == f'containerRuntimeEndpoint: "{CRIO}"\n'
    assert (kdir / "kubeadm-flags.env").read_text() == 'KUBELET_KUBEADM_ARGS="--hostname-override=n1"\n'
    assert yaml.safe_load((kdir / "config.yaml").read_text())["containerRuntimeEndpoint"] == CRIO
    # an existing instance-config.yaml is kept as it is
    (kdir / "instance-config.yaml").write_text(f'containerRuntimeEndpoint: "{SOCK}"\n')
    ensure_instance_config(ctx)
    assert (kdir / "instance-config.yaml").read_text() == f'containerRuntimeEndpoint: "{SOCK}"\n'


def test_upgrade_without_flags_file(tmp_path):
    ctx, logs = _ctx(tmp_path, "v1.37.1")
    with pytest.raises(KubeadmError, match="error reading kubeadm flags file"):
        ensure_instance_config(ctx)
    ctx, logs = _ctx(tmp_path / "dry", "v1.37.1", dry_run=True)
    ensure_instance_config(ctx)
    assert any("Using default socket" in m for m in logs)
    assert any(c.target == "/var/lib/kubelet/instance-config.yaml" for c in ctx.fs.changes)


def test_upgrade_to_an_older_minor_does_not_touch_the_flags(tmp_path):
    ctx, _ = _ctx(tmp_path, "v1.32.10")
    kdir = _kdir(tmp_path)
    kdir.mkdir(parents=True)
    env = f'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint={SOCK}"\n'
    (kdir / "kubeadm-flags.env").write_text(env)
    ensure_instance_config(ctx)
    assert (kdir / "kubeadm-flags.env").read_text() == env
    assert not (kdir / "instance-config.yaml").exists()


def test_reset_clean_dir_removes_instance_config(tmp_path):
    # upstream reset removes the contents of /var/lib/kubelet; instance-config.yaml goes with them
    from kubeadm_py.phases.reset.cleanup import clean_dir

    ctx, _ = _ctx(tmp_path, "v1.37.1")
    kubelet_start_phase().run(ctx)  # type: ignore[misc]
    assert (_kdir(tmp_path) / "instance-config.yaml").exists()
    failures: list[str] = []
    changes = clean_dir(ctx, "/var/lib/kubelet", failures)
    assert failures == [] and not any(_kdir(tmp_path).iterdir())
    assert "/var/lib/kubelet/instance-config.yaml" in {c.target for c in changes if c.action == "delete"}
