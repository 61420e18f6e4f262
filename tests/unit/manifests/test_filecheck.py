"""Offline refusal of file-path flags (issue 17): a component's file flag must name a file inside
one of its container's volumes (extraVolumes and patches count) that exists on the node, unless
kubeadm writes it itself; init and upgrade apply refuse before their first phase."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeadm_py.errors import KubeadmError
from tests.unit import runctx
from tests.unit.manifests.helpers import make_cfg


def _cfg(value: str, volumes: list[dict[str, object]] | None = None, **more: object):  # type: ignore[no-untyped-def]
    api: dict[str, object] = {"extraArgs": [{"name": "audit-policy-file", "value": value}]}
    if volumes:
        api["extraVolumes"] = volumes
    return make_cfg(cluster={"apiServer": api, **more})


AUDIT = {"name": "audit", "hostPath": "/srv/audit", "mountPath": "/etc/audit", "readOnly": True}


def test_a_flag_file_outside_every_volume_is_refused(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    with pytest.raises(KubeadmError) as e:
        runctx.build(_cfg("/nonexistent"), tmp_path / "root")
    assert str(e.value) == (
        "kube-apiserver: --audit-policy-file=/nonexistent: no volume of the kube-apiserver container holds "
        "/nonexistent (add an extraVolumes entry for it, hostPath and mountPath) (the component would not "
        "start; nothing was changed on this node)"
    )
    assert list((tmp_path / "root").iterdir()) == []  # nothing written


def test_an_extra_volume_maps_the_file_to_the_node(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    missing = r"--audit-policy-file=/etc/audit/p\.yaml: /srv/audit/p\.yaml does not exist"
    with pytest.raises(KubeadmError, match=missing):
        runctx.build(_cfg("/etc/audit/p.yaml", [AUDIT]), root)
    (root / "srv/audit").mkdir(parents=True)
    (root / "srv/audit/p.yaml").write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\n")
    ctx, _ = runctx.build(_cfg("/etc/audit/p.yaml", [AUDIT]), root)
    ctx.close()


def test_files_kubeadm_writes_are_not_required_yet(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    ctx, _ = runctx.build(_cfg("/etc/kubernetes/pki/audit.yaml"), tmp_path / "root")  # the pki volume
    ctx.close()


@pytest.mark.parametrize(
    ("path_type", "make", "error"),
    [
        ("File", None, "/srv/audit is not a file (it does not exist; type File)"),
        ("File", "dir", "/srv/audit is not a file (it is a directory; type File)"),
        ("Directory", "file", "/srv/audit is not a directory (it is a file; type Directory)"),
        ("Socket", "file", "/srv/audit is not a socket file (it is a file; type Socket)"),
        ("DirectoryOrCreate", "file", "/srv/audit is not a directory (it is a file; type DirectoryOrCreate)"),
        ("DirectoryOrCreate", None, None),  # the kubelet creates it
        ("Directory", "dir", None),
        ("File", "file", None),
        ("", None, None),  # no type: no check
    ],
)
def test_a_typed_host_path_must_find_its_kind_on_the_node(
    tmp_path: Path, path_type: str, make: str | None, error: str | None
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    if make == "dir":
        (root / "srv/audit").mkdir(parents=True)
    elif make == "file":
        (root / "srv").mkdir()
        (root / "srv/audit").write_text("x")
    volume = {"name": "audit", "hostPath": "/srv/audit", "mountPath": "/etc/audit", "pathType": path_type}
    cfg = make_cfg(cluster={"controllerManager": {"extraVolumes": [volume]}})
    if error is None:
        ctx, _ = runctx.build(cfg, root)
        ctx.close()
        return
    with pytest.raises(KubeadmError) as e:
        runctx.build(cfg, root)
    assert str(e.value).startswith(
        "kube-controller-manager: volume 'audit': hostPath type check failed: " + error
    ), str(e.value)
    assert [p.name for p in root.iterdir()] == (["srv"] if make else [])  # nothing written


def test_a_socket_is_a_socket(tmp_path: Path) -> None:
    import socket

    from kubeadm_py.manifests.filecheck import host_path_type_errors

    root = tmp_path / "r"
    root.mkdir()
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(root / "sock"))
        ctx, _ = runctx.build(make_cfg(), root)
        pod = {"spec": {"volumes": [{"name": "s", "hostPath": {"path": "/sock", "type": "Socket"}}]}}
        assert host_path_type_errors("kube-apiserver", pod, ctx.fs.kind, lambda p: False) == []
        pod["spec"]["volumes"][0]["hostPath"]["type"] = "CharDevice"
        [err] = host_path_type_errors("kube-apiserver", pod, ctx.fs.kind, lambda p: False)
        ctx.close()
    assert err.endswith("/sock is not a character device (it is a socket file; type CharDevice)")
