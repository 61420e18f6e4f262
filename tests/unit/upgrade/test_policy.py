"""The version skew policy table: what is refused, how (mandatory / --force), and with which message."""

from __future__ import annotations

import pytest

from kubeadm_py.errors import KubeadmError
from kubeadm_py.semver import Version
from kubeadm_py.upgrade.policy import RULES, VersionInfo, enforce, evaluate, policy_table

MINORS = ("1.20", "1.30", "1.31", "1.32")


def info(cluster: str, target: str, kubelets: dict[str, str] | None = None, **kw: bool) -> VersionInfo:
    return VersionInfo(
        cluster=Version.parse_semantic(cluster),
        target=Version.parse_semantic(target),
        target_text=target,
        supported_minors=MINORS,
        kubelets=kubelets or {},
        **kw,
    )


# (cluster, target, kubelets, flags) -> (rules violated, mandatory?, allowed with --force?)
CASES = [
    ("same-version-config-change", "v1.31.14", "v1.31.14", {}, {}, [], True),
    ("next-patch", "v1.31.2", "v1.31.14", {}, {}, [], True),
    ("next-minor", "v1.30.14", "v1.31.14", {}, {}, [], True),
    ("two-minor-jump", "v1.30.14", "v1.32.10", {}, {}, ["MinorUpgradeSkew"], False),
    ("ten-minor-jump", "v1.20.2", "v1.30.14", {}, {}, ["MinorUpgradeSkew"], False),
    ("two-minor-downgrade", "v1.32.10", "v1.30.14", {}, {}, ["MinorDowngradeSkew"], False),
    ("one-minor-downgrade", "v1.32.10", "v1.31.14", {"n1": "v1.31.0"}, {}, ["Downgrade"], True),
    ("patch-downgrade", "v1.31.14", "v1.31.2", {}, {}, ["Downgrade"], True),
    ("not-in-table", "v1.24.0", "v1.25.0", {}, {}, ["TargetInVersionTable"], False),
    ("major-change", "v1.32.10", "v2.0.0", {}, {}, ["TargetInVersionTable", "MinorUpgradeSkew"], False),
    ("prerelease-needs-flag", "v1.31.14", "v1.32.0-rc.1", {}, {}, ["UnstableVersion"], True),
    ("rc-allowed-by-flag", "v1.31.14", "v1.32.0-rc.1", {}, {"allow_rc": True}, [], True),
    ("alpha-not-allowed-by-rc-flag", "v1.31.14", "v1.32.0-alpha.1", {}, {"allow_rc": True},
     ["UnstableVersion"], True),
    ("prerelease-skip-is-skippable", "v1.30.14", "v1.32.0-beta.0", {}, {"allow_experimental": True},
     ["MinorUpgradeSkew"], True),
    ("kubelet-too-old", "v1.31.14", "v1.32.10", {"w1": "v1.28.0", "w2": "v1.31.1"}, {},
     ["KubeletTooOld"], True),
    ("kubelet-within-skew", "v1.31.14", "v1.32.10", {"w1": "v1.29.3"}, {}, [], True),
    ("kubelet-newer", "v1.31.14", "v1.31.14", {"w1": "v1.32.1"}, {}, ["KubeletNewerThanControlPlane"], True),
    ("unparsable-kubelet-ignored", "v1.31.14", "v1.32.10", {"w1": "garbage"}, {}, [], True),
]  # fmt: skip


@pytest.mark.parametrize(
    "cluster,target,kubelets,flags,violated,forceable", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_policy_table(
    cluster: str,
    target: str,
    kubelets: dict[str, str],
    flags: dict[str, bool],
    violated: list[str],
    forceable: bool,
) -> None:
    i = info(cluster, target, kubelets, **flags)
    res = evaluate(i)
    assert res.violated == violated
    if not violated:
        assert enforce(i).blocking(False) == []
        return
    with pytest.raises(KubeadmError) as exc:
        enforce(i)
    assert target in str(exc.value)
    if forceable:
        enforce(i, force=True)  # --force lets it through
        assert "--force" in str(exc.value)
    else:
        with pytest.raises(KubeadmError):
            enforce(i, force=True)
        assert res.mandatory


def test_messages_say_what_to_do() -> None:
    with pytest.raises(
        KubeadmError,
        match=r"too high; kubeadm can upgrade only 1 minor version at a time.*upgrade to v1\.31 first",
    ):
        enforce(info("v1.30.14", "v1.32.10"))
    with pytest.raises(KubeadmError, match=r"too low; kubeadm can downgrade only 1 minor version"):
        enforce(info("v1.32.10", "v1.30.14"))
    with pytest.raises(KubeadmError, match=r"this is a downgrade"):
        enforce(info("v1.32.10", "v1.31.14"))
    with pytest.raises(KubeadmError, match=r"kubelets .* too old .*v1\.28\.0.*nodes w1"):
        enforce(info("v1.31.14", "v1.32.10", {"w1": "v1.28.0"}))


def test_kubelet_skew_by_target_minor() -> None:
    from kubeadm_py.upgrade.policy import kubelet_skew

    assert kubelet_skew(Version.parse("v1.32.0")) == 3
    assert kubelet_skew(Version.parse("v1.21.0")) == 1
    # 1.21 target (older policy: one minor): a 1.19 kubelet is too old
    assert "KubeletTooOld" in evaluate(info("v1.20.2", "v1.21.0", {"n": "v1.19.0"})).violated


def test_table_is_documented() -> None:
    rows = policy_table()
    assert [r["name"] for r in rows] == [r.name for r in RULES]
    assert all(r["description"] for r in rows)
