"""Bad configuration input through the real command: one line on stderr naming the file,
document and field; exit code 1; no traceback; nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

V4 = "apiVersion: kubeadm.k8s.io/v1beta4\n"
CASES = {
    "empty": ("", ["empty configuration"]),
    "not-yaml": ("a: [\n", ["document 1", "not valid YAML"]),
    "unknown-field": (
        V4 + "kind: ClusterConfiguration\nfoo: 1\n",
        ["document 1 (ClusterConfiguration)", "foo"],
    ),
    "misplaced-field": (
        V4 + "kind: InitConfiguration\ncontrolPlaneEndpoint: 10.0.0.1:6443\n",
        ["document 1 (InitConfiguration)", "controlPlaneEndpoint", "belongs in ClusterConfiguration"],
    ),
    "wrong-type": (
        V4 + "kind: InitConfiguration\nlocalAPIEndpoint:\n  bindPort: x\n",
        ["(InitConfiguration)", "localAPIEndpoint.bindPort"],
    ),
    "bad-cidr": (
        V4 + "kind: ClusterConfiguration\nnetworking:\n  serviceSubnet: 10.96.0.0/33\n",
        ["networking.serviceSubnet", "CIDR"],
    ),
    "bad-ip": (
        V4 + "kind: InitConfiguration\nlocalAPIEndpoint:\n  advertiseAddress: 10.0.0.300\n",
        ["localAPIEndpoint.advertiseAddress"],
    ),
    "bad-duration": (
        V4 + "kind: ClusterConfiguration\ncertificateValidityPeriod: 1 year\n",
        ["certificateValidityPeriod"],
    ),
    "bad-version": (V4 + "kind: ClusterConfiguration\nkubernetesVersion: one.two\n", ["kubernetesVersion"]),
    "duplicate-kind": (
        V4 + "kind: ClusterConfiguration\n---\n" + V4 + "kind: ClusterConfiguration\n",
        ["document 2", "duplicate ClusterConfiguration"],
    ),
    "v1beta3-field-in-v1beta4": (
        V4 + "kind: ClusterConfiguration\napiServer:\n  extraArgs:\n    v: '2'\n",
        ["apiServer.extraArgs", "config migrate"],
    ),
    "v1beta4-field-in-v1beta3": (
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nencryptionAlgorithm: RSA-2048\n",
        ["encryptionAlgorithm"],
    ),
    "unknown-kind": (V4 + "kind: NodeConfiguration\n", ["NodeConfiguration"]),
    "binary-value": (
        V4 + "kind: ClusterConfiguration\nclusterName: !!binary aGVsbG8=\n",
        ["line 3, column 14", "!!binary is not supported"],
    ),
    "set-value": (
        V4 + "kind: ClusterConfiguration\napiServer:\n  certSANs: !!set {a, b}\n",
        ["line 4, column 13", "!!set is not supported"],
    ),
    "long-scalar": (
        V4 + "kind: ClusterConfiguration\nclusterName: " + "a" * 70_000 + "\n",
        ["clusterName", "70,000 characters", "64 KiB"],
    ),
    "long-list": (
        V4 + "kind: ClusterConfiguration\napiServer:\n  certSANs: [" + ",".join(["a"] * 10_001) + "]\n",
        ["apiServer.certSANs", "10,001 items", "10,000"],
    ),
    "large-file": (
        V4 + "kind: ClusterConfiguration\nclusterName: " + "a" * (2 << 20) + "\n",
        ["larger than the 1 MiB limit"],
    ),
}


def kubeadm_py(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubeadm_py", *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def assert_one_line_error(r: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert r.returncode == 1, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_validate_rejects(case: str, tmp_path: Path) -> None:
    text, needles = CASES[case]
    (tmp_path / f"{case}.yaml").write_text(text)
    assert_one_line_error(
        kubeadm_py("config", "validate", "--config", f"{case}.yaml", cwd=tmp_path), f"{case}.yaml", *needles
    )


@pytest.mark.parametrize("case", ["bad-cidr", "wrong-type"])
def test_init_phase_rejects_before_writing(case: str, tmp_path: Path) -> None:
    text, needles = CASES[case]
    (tmp_path / "c.yaml").write_text(text)
    r = kubeadm_py("init", "phase", "certs", "all", "--config", "c.yaml", "--rootfs", "root", cwd=tmp_path)
    assert_one_line_error(r, "c.yaml", *needles)
    assert not (tmp_path / "root").exists()


@pytest.mark.parametrize("case", ["unknown-field", "misplaced-field"])
def test_init_warns_about_unknown_fields_and_goes_on(case: str, tmp_path: Path) -> None:
    """Upstream decodes leniently in init/join: a warning naming the field (and where a misplaced
    field belongs), then the run goes on without it; `config validate` refuses it (above)."""
    text, needles = CASES[case]
    (tmp_path / "c.yaml").write_text(text)
    r = kubeadm_py("init", "phase", "certs", "ca", "--config", "c.yaml", "--rootfs", "root", cwd=tmp_path)
    assert r.returncode == 0, (r.stdout, r.stderr)
    warning = next(line for line in r.stdout.splitlines() if "WARNING" in line)
    for n in ("c.yaml", *needles, "ignored"):
        assert n in warning, (n, warning)
    assert (tmp_path / "root/etc/kubernetes/pki/ca.crt").is_file()


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert_one_line_error(
        kubeadm_py("config", "validate", "--config", "nope.yaml", cwd=tmp_path), "nope.yaml"
    )
    (tmp_path / "d").mkdir()
    assert_one_line_error(kubeadm_py("config", "validate", "--config", "d", cwd=tmp_path), "d", "directory")


def test_bad_flag_value_names_the_flag(tmp_path: Path) -> None:
    r = kubeadm_py(
        "init", "phase", "certs", "apiserver", "--service-cidr", "10.0.0.0/99", "--rootfs", "r", cwd=tmp_path
    )
    assert_one_line_error(r, "--service-cidr")


def test_binary_data_on_stdin(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "kubeadm_py", "config", "validate", "--config", "-"],
        input=b"\xff\xfe\x00kind: \x80\n",
        capture_output=True,
        timeout=120,
        cwd=tmp_path,
    )
    out = subprocess.CompletedProcess(r.args, r.returncode, r.stdout.decode(), r.stderr.decode())
    assert_one_line_error(out, "<stdin>", "not a text file")


def test_token_ttl_not_a_duration(tmp_path: Path) -> None:
    r = kubeadm_py("init", "--token-ttl", "3days", "--dry-run", "--rootfs", "r", cwd=tmp_path)
    assert_one_line_error(r, '--token-ttl "3days"', "Go duration")


def test_user_kubeconfig_negative_validity(tmp_path: Path) -> None:
    assert kubeadm_py("init", "phase", "certs", "ca", "--rootfs", "r", cwd=tmp_path).returncode == 0
    r = kubeadm_py(
        "kubeconfig", "user", "--client-name", "x", "--validity-period", "-1h", "--rootfs", "r", cwd=tmp_path
    )
    assert_one_line_error(r, '--validity-period "-1h" must be positive')


def test_token_create_print_join_command_without_admin_conf(tmp_path: Path) -> None:
    r = kubeadm_py(
        "token", "create", "--print-join-command", "--dry-run", "--kubeconfig", "absent.conf", cwd=tmp_path
    )
    assert_one_line_error(r, "cannot read the kubeconfig absent.conf", "--kubeconfig")
    assert r.stdout == ""  # nothing created, not even in the dry-run listing
