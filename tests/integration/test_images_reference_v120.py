"""`config images list` against the reference kubeadm v1.20.2 binary of the test bed: same images, same
order (v1.20 lists pause and etcd before CoreDNS), for the releases of the v1.20 line kubeadm v1.20.2
itself would deploy. Skipped with a reason when the binary is absent."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kubeadm_py.cli.commands.config import app

pytestmark = pytest.mark.integration

KUBEADM = Path(os.environ.get("KUBEADM_REFERENCE", "/var/cache/kubeadm-py-testbed/bin/kubeadm"))


@pytest.mark.parametrize("version", ["v1.20.0", "v1.20.2", "v1.20.15"])
@pytest.mark.parametrize("repository", ["k8s.gcr.io", "registry.example:5000/mirror"])
def test_images_list_matches_kubeadm_v1_20_2(version: str, repository: str) -> None:
    if not KUBEADM.exists():
        pytest.skip(f"reference kubeadm not found at {KUBEADM} (built by testbed/build.sh)")
    args = ["config", "images", "list", "--kubernetes-version", version, "--image-repository", repository]
    ref = subprocess.run([str(KUBEADM), *args], capture_output=True, text=True, timeout=60, check=True)
    ours = CliRunner().invoke(app, args[1:])
    assert ours.exit_code == 0, ours.output
    assert ours.output.splitlines() == ref.stdout.splitlines()
