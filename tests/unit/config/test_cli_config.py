"""The ``config`` sub-app, driven through typer's test runner."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from kubeadm_py.cli.commands.config import app
from kubeadm_py.errors import KubeadmError

from .conftest import DATA

runner = CliRunner()


def test_print_init_defaults_with_component_configs() -> None:
    res = runner.invoke(app, ["print", "init-defaults", "--component-configs", "KubeletConfiguration"])
    assert res.exit_code == 0, res.output
    kinds = [d["kind"] for d in yaml.safe_load_all(res.stdout)]
    assert kinds == ["InitConfiguration", "ClusterConfiguration", "KubeletConfiguration"]


@pytest.mark.parametrize("which", ["join", "reset", "upgrade"])
def test_print_other_defaults(which: str) -> None:
    res = runner.invoke(app, ["print", f"{which}-defaults"])
    assert res.exit_code == 0
    assert f"kind: {which.capitalize()}Configuration" in res.stdout


def test_validate_ok_and_stdin(tmp_path: Path) -> None:
    res = runner.invoke(app, ["validate", "--config", str(DATA / "v1beta4-full.yaml")])
    assert res.exit_code == 0 and res.stdout == "ok\n"
    res = runner.invoke(app, ["validate", "--config", "-"], input=(DATA / "v1beta3-join.yaml").read_text())
    assert res.exit_code == 0
    assert res.stdout == "ok\n"
    assert "deprecated API version kubeadm.k8s.io/v1beta3" in res.stderr


def test_validate_error_is_a_kubeadm_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n"
        "  serviceSubnet: 10.96.0.0/33\n"
    )
    res = runner.invoke(app, ["validate", "--config", str(bad)])
    assert res.exit_code != 0
    assert isinstance(res.exception, KubeadmError)
    assert str(res.exception) == (
        f"{bad}: document 1 (ClusterConfiguration): "
        'networking.serviceSubnet: "10.96.0.0/33" is not a valid CIDR'
    )
    res = runner.invoke(app, ["validate"])
    assert isinstance(res.exception, KubeadmError) and "--config is required" in str(res.exception)


def test_migrate_to_stdout_and_file(tmp_path: Path) -> None:
    res = runner.invoke(app, ["migrate", "--old-config", str(DATA / "v1beta3-init.yaml")])
    assert res.exit_code == 0
    assert "kubeadm.k8s.io/v1beta3" not in res.stdout
    out = tmp_path / "new.yaml"
    res = runner.invoke(
        app, ["migrate", "--old-config", str(DATA / "v1beta2-init.yaml"), "--new-config", str(out)]
    )
    assert res.exit_code == 0 and res.stdout == ""
    assert "ClusterConfiguration" in out.read_text()
    res = runner.invoke(app, ["validate", "--config", str(out)])
    assert res.exit_code == 0
    res = runner.invoke(app, ["migrate", "--no-defaults", "--old-config", str(DATA / "v1beta3-join.yaml")])
    assert res.exit_code == 0 and "caCertPath" not in res.stdout
    res = runner.invoke(app, ["migrate", "--old-config", str(tmp_path / "missing.yaml")])
    assert isinstance(res.exception, KubeadmError) and "no such file" in str(res.exception)
