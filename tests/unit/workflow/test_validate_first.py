"""Validate before the first change (issue 13): a bad flag, patch directory or file, validity
period or token TTL fails when the run is built, before any phase writes, with nothing on the
node. Before, `init --token-ttl -1h` failed at phase bootstrap-token after the PKI, the manifests
and the kubelet configuration were written."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeadm_py import api
from kubeadm_py.effectors.bundle import Hooks
from kubeadm_py.errors import KubeadmError, PhaseError
from kubeadm_py.host.fake import FakeProbe

NODE = {"apiserver-advertise-address": "127.0.0.1", "node-name": "cp-1", "kubernetes-version": "v1.20.2"}
CLUSTER = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
INIT = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "kubeadm.yaml"
    path.write_text(text)
    return str(path)


def _bad_patch_dir(root: Path) -> str:
    """An absolute patch directory is a host path: under --rootfs."""
    d = root / "srv/patches"
    d.mkdir(parents=True)
    (d / "kube-apiserver.yaml").write_text("spec: [unclosed\n")
    return "/srv/patches"


MISSING_PATH_OP = '[{"op": "replace", "path": "/spec/x/y", "value": 1}]'


def _patch_dir(root: Path, name: str, text: str) -> str:
    d = root / "srv/patches"
    d.mkdir(parents=True)
    (d / name).write_text(text)
    return "/srv/patches"


CASES = {
    # name: (options from the inputs directory and the root, message)
    "token-ttl flag": (lambda t, root: {"token-ttl": "-1h"}, "invalid token TTL -1h0m0s"),
    "token ttl in config": (
        lambda t, root: {"config": _config(t, INIT + "bootstrapTokens:\n- ttl: -5m\n")},
        "invalid token TTL -5m0s",
    ),
    "missing patch directory": (
        lambda t, root: {"patches": "/srv/nowhere"},
        "could not list patch files for path",
    ),
    "patch file that does not parse": (
        lambda t, root: {"patches": _bad_patch_dir(root)},
        "not valid YAML",
    ),
    "json patch op on a missing path": (
        lambda t, root: {"patches": _patch_dir(root, "kube-apiserver+json.json", MISSING_PATH_OP)},
        r"could not apply the json patch /srv/patches/kube-apiserver\+json.json to target 'kube-apiserver': "
        r"member 'x' not found \(fix",
    ),
    "kubelet configuration patch that cannot apply": (
        lambda t, root: {
            "patches": _patch_dir(root, "kubeletconfiguration+json.yaml", "- op: remove\n  path: /nope\n")
        },
        r"/srv/patches/kubeletconfiguration\+json.yaml to target 'kubeletconfiguration'",
    ),
    "negative certificate validity": (
        lambda t, root: {"config": _config(t, CLUSTER + 'certificateValidityPeriod: "-1h"\n')},
        "certificateValidityPeriod: -1h0m0s is not a positive duration",
    ),
    "zero CA validity": (
        lambda t, root: {"config": _config(t, CLUSTER + 'caCertificateValidityPeriod: "0s"\n')},
        "caCertificateValidityPeriod: 0s is not a positive duration",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("dry_run", [False, True], ids=["real", "dry-run"])
def test_bad_input_fails_before_any_phase_writes(tmp_path: Path, case: str, dry_run: bool) -> None:
    inputs, root = tmp_path / "inputs", tmp_path / "root"
    inputs.mkdir()
    root.mkdir()
    build, message = CASES[case]
    options = {**NODE, **build(inputs, root)}
    before = sorted(root.rglob("*"))
    probe = FakeProbe()
    with pytest.raises(KubeadmError, match=message) as err:
        api.run(
            "init",
            rootfs=str(root),
            options=options,
            dry_run=dry_run,
            hooks=Hooks(probe=probe, cri=probe.image_service),
        )
    assert not isinstance(err.value, PhaseError)  # no phase ran
    assert sorted(root.rglob("*")) == before


def test_a_good_patch_set_is_loaded_once_for_the_phases(tmp_path: Path) -> None:
    """The check loads the patch set into the run's cache, which the phases then apply."""
    d = tmp_path / "srv/patches"
    d.mkdir(parents=True)
    (d / "kube-apiserver+merge.yaml").write_text("metadata:\n  labels:\n    patched: 'yes'\n")
    options = {**NODE, "patches": "/srv/patches"}
    ctx = api.build_context("init", {**options, "rootfs": str(tmp_path)})
    try:
        assert list(ctx.state.patchsets) == ["/srv/patches"]
    finally:
        ctx.close()
    api.run("init", phases=["control-plane/apiserver"], rootfs=str(tmp_path), options=options)
    manifest = (tmp_path / "etc/kubernetes/manifests/kube-apiserver.yaml").read_text()
    assert 'patched: "yes"' in manifest


def test_cli_token_ttl_fails_in_one_line_with_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kubeadm_py.cli.main import main

    flags = [f"--{k}={v}" for k, v in NODE.items()]
    rc = main(["init", "--token-ttl", "-1h", "--rootfs", str(tmp_path), *flags])
    err = capsys.readouterr().err
    assert rc == 1 and err.strip().splitlines() == ["error: invalid token TTL -1h0m0s: must not be negative"]
    assert list(tmp_path.rglob("*")) == []
