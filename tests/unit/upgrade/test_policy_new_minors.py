"""The version table's newest rows in the upgrade policy: 1.36 -> 1.37 is one minor and allowed;
1.35 -> 1.37 skips a minor and is refused (upgrades go one minor at a time)."""

from __future__ import annotations

from kubeadm_py.semver import Version
from kubeadm_py.upgrade.policy import VersionInfo, evaluate
from kubeadm_py.versions import DEFAULT_KUBERNETES_VERSION, supported_minors


def _violations(cluster: str, target: str) -> list[str]:
    info = VersionInfo(
        cluster=Version.parse_semantic(cluster),
        target=Version.parse_semantic(target),
        target_text=target,
        supported_minors=tuple(supported_minors()),
    )
    return evaluate(info).violated


def test_1_36_to_1_37_is_allowed() -> None:
    assert "1.37" in supported_minors()
    assert _violations("v1.36.0", DEFAULT_KUBERNETES_VERSION) == []
    assert _violations("v1.37.0", "v1.37.1") == []


def test_1_35_to_1_37_skips_a_minor() -> None:
    assert "MinorUpgradeSkew" in _violations("v1.35.0", "v1.37.1")


def test_1_38_is_outside_the_table() -> None:
    assert "TargetInVersionTable" in _violations("v1.37.1", "v1.38.0")
