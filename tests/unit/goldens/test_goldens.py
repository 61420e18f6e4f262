"""Everything ``init --dry-run`` writes, per supported minor, equals its golden file
(tests/unit/goldens/init-v1.XX.txt, made by tests/unit/goldens/generate.py)."""

from __future__ import annotations

import difflib

import pytest

from kubeadm_py.versions import RELEASES

from .generate import REGENERATE, golden_path, render


@pytest.mark.parametrize("rel", RELEASES, ids=[r.minor for r in RELEASES])
def test_init_dry_run_matches_golden(rel) -> None:  # type: ignore[no-untyped-def]
    path = golden_path(rel)
    assert path.exists(), f"no golden for {rel.minor}: run {REGENERATE} and review the new file"
    want, got = path.read_text(), render(rel)
    if got != want:
        diff = "".join(
            difflib.unified_diff(
                want.splitlines(True), got.splitlines(True), str(path), "init --dry-run", n=2
            )
        )
        pytest.fail(
            f"init --dry-run for {rel.default_patch} differs from {path.name} "
            f"(if intended: {REGENERATE}):\n{diff[:6000]}"
        )


def test_goldens_differ_where_the_tables_say() -> None:
    """Spot checks of per-minor differences in the goldens themselves, each from a cited row."""
    text = {r.minor: golden_path(r).read_text() for r in RELEASES if golden_path(r).exists()}
    if "1.20" in text and "1.32" in text:
        # kubelet.conf on the control-plane endpoint up to 1.32 (versioned.py _V1_20.._V1_32)
        for minor in ("1.20", "1.32"):
            kubelet = text[minor].split("=== file /etc/kubernetes/kubelet.conf")[1].split("===")[0]
            assert "server: https://lb.example.test:6443" in kubelet
        assert "- all\n" in text["1.20"] and "- ALL\n" in text["1.32"]  # CoreDNS drop (#121384)
        assert "name: KubeDNS" in text["1.20"] and "name: CoreDNS" in text["1.32"]
    for minor, body in text.items():
        major_minor = tuple(int(x) for x in minor.split("."))
        assert ("creationTimestamp: null" in body) is (major_minor < (1, 34))  # #130989
        assert ("port: probe-port" in body) is (major_minor >= (1, 34))  # #132776
        assert ("preferences: {}" in body) is (major_minor < (1, 34))  # #131741
        if major_minor >= (1, 33):
            kubelet = body.split("=== file /etc/kubernetes/kubelet.conf")[1].split("===")[0]
            assert "server: https://10.0.0.5:6443" in kubelet  # ControlPlaneKubeletLocalMode
