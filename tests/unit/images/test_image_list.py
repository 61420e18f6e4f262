"""``kubeadm_py.images``: the control-plane image list per version row, and ``config images list``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from kubeadm_py.cli.commands.config import app
from kubeadm_py.cluster import kubeproxy
from kubeadm_py.images import OUTPUT_API, control_plane_images, images_document, load_config
from kubeadm_py.versions import RELEASES

ROWS = [RELEASES[0], RELEASES[-1]]  # 1.20 and the newest row


def _expected(repo: str, version: str, rel: object, coredns_path: str) -> list[str]:
    by_name = {
        "kube-apiserver": f"{repo}/kube-apiserver:{version}",
        "kube-controller-manager": f"{repo}/kube-controller-manager:{version}",
        "kube-scheduler": f"{repo}/kube-scheduler:{version}",
        "kube-proxy": f"{repo}/kube-proxy:{version}",
        "coredns": f"{coredns_path}:{rel.coredns}",  # type: ignore[attr-defined]
        "pause": f"{repo}/pause:{rel.pause}",  # type: ignore[attr-defined]
        "etcd": f"{repo}/etcd:{rel.etcd}",  # type: ignore[attr-defined]
    }
    # v1.20 lists pause, etcd, CoreDNS after kube-proxy; v1.30+ CoreDNS, pause, etcd (image_order).
    return [by_name[n] for n in rel.image_order]  # type: ignore[attr-defined]


@pytest.mark.parametrize("rel", ROWS, ids=lambda r: r.minor)
def test_default_repository_per_row(rel: object) -> None:
    version = rel.default_patch  # type: ignore[attr-defined]
    cfg = load_config(kubernetes_version=version)
    minor = int(version.split(".")[1])
    # registry.k8s.io/coredns/coredns from 1.21 on (images.go GetDNSImage), <repo>/coredns before.
    coredns = "registry.k8s.io/coredns/coredns" if minor >= 21 else "registry.k8s.io/coredns"
    assert control_plane_images(cfg) == _expected("registry.k8s.io", version, rel, coredns)
    # the list names the image the kube-proxy DaemonSet uses
    assert control_plane_images(cfg)[3] == kubeproxy.image(cfg)


@pytest.mark.parametrize("rel", ROWS, ids=lambda r: r.minor)
def test_custom_repository_per_row(rel: object) -> None:
    version = rel.default_patch  # type: ignore[attr-defined]
    cfg = load_config(kubernetes_version=version, image_repository="registry.example:5000/k8s")
    repo = "registry.example:5000/k8s"
    assert control_plane_images(cfg) == _expected(repo, version, rel, f"{repo}/coredns")


def _write(tmp_path: Path, cluster_extra: str) -> str:
    p = tmp_path / "kubeadm.yaml"
    p.write_text(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
        f"kubernetesVersion: {RELEASES[-1].default_patch}\n{cluster_extra}"
    )
    return str(p)


def test_external_etcd_has_no_etcd_image(tmp_path: Path) -> None:
    cfg = load_config(
        _write(
            tmp_path,
            "etcd:\n  external:\n    endpoints: [https://10.0.0.1:2379]\n"
            "    caFile: /ca.crt\n    certFile: /c.crt\n    keyFile: /c.key\n",
        )
    )
    images = control_plane_images(cfg)
    assert not [i for i in images if "/etcd:" in i]
    assert len(images) == 6 and images[-1].split(":")[0].endswith("/pause")


def test_disabled_addons_and_overrides(tmp_path: Path) -> None:
    cfg = load_config(
        _write(
            tmp_path,
            "proxy:\n  disabled: true\ndns:\n  disabled: true\n"
            "etcd:\n  local:\n    imageRepository: my.reg/etcd-mirror\n    imageTag: 9.9.9-0\n",
        )
    )
    v = RELEASES[-1].default_patch
    assert control_plane_images(cfg) == [
        f"registry.k8s.io/kube-apiserver:{v}",
        f"registry.k8s.io/kube-controller-manager:{v}",
        f"registry.k8s.io/kube-scheduler:{v}",
        f"registry.k8s.io/pause:{RELEASES[-1].pause}",
        "my.reg/etcd-mirror/etcd:9.9.9-0",
    ]


def test_output_document_shape() -> None:
    assert images_document(["a/b:1"]) == {"kind": "Images", "apiVersion": OUTPUT_API, "images": ["a/b:1"]}
    assert OUTPUT_API == "output.kubeadm.k8s.io/v1alpha3"


def test_cli_list_text_json_yaml() -> None:
    runner = CliRunner()
    v = RELEASES[0].default_patch
    args = ["images", "list", "--kubernetes-version", v, "--image-repository", "k8s.gcr.io"]
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    images = control_plane_images(load_config(kubernetes_version=v, image_repository="k8s.gcr.io"))
    assert text.output.splitlines() == images
    as_json = runner.invoke(app, [*args, "-o", "json"])
    assert json.loads(as_json.output) == {"kind": "Images", "apiVersion": OUTPUT_API, "images": images}
    as_yaml = runner.invoke(app, [*args, "-o", "yaml"])
    assert yaml.safe_load(as_yaml.output) == json.loads(as_json.output)
    assert as_yaml.output.startswith("kind: Images\napiVersion: output.kubeadm.k8s.io/v1alpha3\n")


def test_cli_list_bad_input() -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["images", "list", "-o", "xml"])
    assert bad.exit_code != 0
    bad_version = runner.invoke(app, ["images", "list", "--kubernetes-version", "v0.1.0"])
    assert bad_version.exit_code != 0


def test_cli_list_jsonpath() -> None:
    from tests.unit.cli.jsonpath_check import check

    runner = CliRunner()

    def run(argv: list[str]) -> str:
        r = runner.invoke(app, ["images", "list", "--kubernetes-version", RELEASES[0].default_patch, *argv])
        assert r.exit_code == 0, r.output
        return r.output

    check(run, [], [".images[*]", ".images[-1]", ".images[0:2]", ".kind"])
    assert run(["-o", 'jsonpath={range .images[*]}{@}{"\\n"}{end}']) == run([])
