"""The version skew policy of ``upgrade plan|apply|node`` as a table of rules
(upstream ``phases/upgrade/policy.go``, ``EnforceVersionPolicies``).

Each :class:`Rule` looks at a :class:`VersionInfo` (cluster version, target version, kubelet
versions, flags) and returns a message when it is violated. A rule's ``severity`` says what a
violation does: ``mandatory`` always refuses the upgrade, ``skippable`` refuses it unless
``--force`` is given, ``warning`` is only printed. Some rules are mandatory for released versions
and skippable for pre-releases (CI builds), as upstream.

kubeadm-py differs from kubeadm in one place: there is no single "kubeadm version". The versions
kubeadm-py can deploy are the minors of its version table (:mod:`kubeadm_py.versions`), so the
upstream rules "target below the minimum control-plane version" and "target minor above the
kubeadm minor" become one rule, ``TargetInVersionTable``. Upstream accepts a downgrade of one
minor silently; kubeadm-py asks for ``--force`` for any downgrade (``Downgrade``), because a
downgrade of the control plane keeps etcd at the newer version and is rarely what was meant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from kubeadm_py.errors import KubeadmError
from kubeadm_py.semver import Version, VersionError

Severity = Literal["mandatory", "skippable", "warning"]

# How many minors one upgrade may move the control plane (MaximumAllowedMinorVersion{Upgrade,Downgrade}Skew).
MAX_UPGRADE_SKEW = 1
MAX_DOWNGRADE_SKEW = 1
# How many minors the kubelets may lag behind the control plane, by target minor (first match wins):
# the Kubernetes skew policy allows n-3 since v1.28; kubeadm's older constant was 1.
KUBELET_SKEW: tuple[tuple[int, int], ...] = ((28, 3), (0, 1))


@dataclass(frozen=True)
class VersionInfo:
    cluster: Version  # the running control plane (API server version)
    target: Version
    target_text: str
    supported_minors: tuple[str, ...]  # "1.30", ... from the version table
    kubelets: Mapping[str, str] = field(default_factory=dict)  # node -> kubelet version
    allow_experimental: bool = False
    allow_rc: bool = False


def kubelet_skew(target: Version) -> int:
    return next(skew for minor, skew in KUBELET_SKEW if target.minor >= minor)


def _pre_severity(info: VersionInfo) -> Severity:
    return "mandatory" if info.target.stable else "skippable"


def _in_table(i: VersionInfo) -> str | None:
    if f"{i.target.major}.{i.target.minor}" in i.supported_minors:
        return None
    return (
        f"Specified version to upgrade to {i.target_text!r} is not a minor kubeadm-py can deploy "
        f"(supported minors: {', '.join(i.supported_minors)})"
    )


def _too_high(i: VersionInfo) -> str | None:
    if i.target.major != i.cluster.major or i.target.minor > i.cluster.minor + MAX_UPGRADE_SKEW:
        return (
            f"Specified version to upgrade to {i.target_text!r} is too high; kubeadm can upgrade only "
            f"{MAX_UPGRADE_SKEW} minor version at a time (the cluster runs {i.cluster.tag}; upgrade to "
            f"v{i.cluster.major}.{i.cluster.minor + 1} first)"
        )
    return None


def _too_low(i: VersionInfo) -> str | None:
    if i.target.major == i.cluster.major and i.target.minor < i.cluster.minor - MAX_DOWNGRADE_SKEW:
        return (
            f"Specified version to downgrade to {i.target_text!r} is too low; kubeadm can downgrade only "
            f"{MAX_DOWNGRADE_SKEW} minor version at a time (the cluster runs {i.cluster.tag})"
        )
    return None


def _downgrade(i: VersionInfo) -> str | None:
    if i.target < i.cluster and _too_low(i) is None:
        return (
            f"Specified version {i.target_text!r} is lower than the cluster version {i.cluster.tag}: "
            "this is a downgrade (etcd and the addons are not downgraded)"
        )
    return None


def _unstable(i: VersionInfo) -> str | None:
    if i.target.stable or i.allow_experimental or (i.target.pre.startswith("rc") and i.allow_rc):
        return None
    return (
        f"Specified version to upgrade to {i.target_text!r} is an unstable version and such upgrades "
        "weren't allowed via setting the --allow-*-upgrades flags"
    )


def _old_kubelets(i: VersionInfo) -> str | None:
    skew = kubelet_skew(i.target)
    old = sorted({v for v in i.kubelets.values() if i.target.minor > _minor_of(v, i.target.minor) + skew})
    if not old:
        return None
    nodes = sorted(n for n, v in i.kubelets.items() if v in old)
    return (
        f"There are kubelets in this cluster that are too old that have these versions {old} "
        f"(nodes {', '.join(nodes)}; at most {skew} minor{'s' if skew != 1 else ''} behind "
        f"v{i.target.major}.{i.target.minor} is supported): upgrade them first"
    )


def _new_kubelets(i: VersionInfo) -> str | None:
    newer = sorted(n for n, v in i.kubelets.items() if _minor_of(v, i.target.minor) > i.target.minor)
    if not newer:
        return None
    return (
        f"The kubelets on {', '.join(newer)} are newer than the target control plane "
        f"v{i.target.major}.{i.target.minor}: kubelets must not be newer than the API server"
    )


def _minor_of(text: str, unknown: int) -> int:
    """The minor of a kubelet version; ``unknown`` (never a violation) when it cannot be parsed."""
    try:
        return Version.parse_semantic(text).minor
    except VersionError:
        return unknown


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    severity: Callable[[VersionInfo], Severity]
    check: Callable[[VersionInfo], str | None]


def _const(s: Severity) -> Callable[[VersionInfo], Severity]:
    return lambda _i: s


RULES: tuple[Rule, ...] = (
    Rule(
        "TargetInVersionTable",
        "the target minor is a row of the version table (kubeadm: minimum control-plane version, "
        "not above the kubeadm minor)",
        _const("mandatory"),
        _in_table,
    ),
    Rule(
        "MinorUpgradeSkew",
        f"the target minor is at most {MAX_UPGRADE_SKEW} above the cluster minor",
        _pre_severity,
        _too_high,
    ),
    Rule(
        "MinorDowngradeSkew",
        f"the target minor is at most {MAX_DOWNGRADE_SKEW} below the cluster minor",
        _pre_severity,
        _too_low,
    ),
    Rule("Downgrade", "the target is not older than the cluster version", _const("skippable"), _downgrade),
    Rule(
        "UnstableVersion",
        "a pre-release target needs --allow-experimental-upgrades "
        "(or --allow-release-candidate-upgrades for rc)",
        _const("skippable"),
        _unstable,
    ),
    Rule(
        "KubeletTooOld",
        "no kubelet is more minors behind the target than the skew policy allows "
        f"({', '.join(f'>=1.{m}: {s}' for m, s in KUBELET_SKEW)})",
        _const("skippable"),
        _old_kubelets,
    ),
    Rule(
        "KubeletNewerThanControlPlane",
        "no kubelet is a newer minor than the target control plane",
        _const("skippable"),
        _new_kubelets,
    ),
)


@dataclass
class PolicyResult:
    mandatory: list[str] = field(default_factory=list)
    skippable: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    violated: list[str] = field(default_factory=list)  # rule names

    def blocking(self, force: bool) -> list[str]:
        return self.mandatory + ([] if force else self.skippable)

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "mandatory": self.mandatory,
            "skippable": self.skippable,
            "warnings": self.warnings,
            "violated": self.violated,
        }


def evaluate(info: VersionInfo, rules: Sequence[Rule] = RULES) -> PolicyResult:
    res = PolicyResult()
    for rule in rules:
        msg = rule.check(info)
        if msg is None:
            continue
        res.violated.append(rule.name)
        {"mandatory": res.mandatory, "skippable": res.skippable, "warning": res.warnings}[
            rule.severity(info)
        ].append(msg)
    return res


def enforce(info: VersionInfo, *, force: bool = False, rules: Sequence[Rule] = RULES) -> PolicyResult:
    """Evaluate the rules; raise :class:`KubeadmError` when the upgrade is refused."""
    res = evaluate(info, rules)
    blocking = res.blocking(force)
    if blocking:
        raise KubeadmError(
            f"the version skew policy refuses the upgrade to {info.target_text}: {'; '.join(blocking)}",
            hint=None if res.mandatory else "these checks can be overridden with --force (-f)",
        )
    return res


def policy_table() -> list[dict[str, str]]:
    """The rules as rows (docs, ``upgrade plan -o json``)."""
    return [{"name": r.name, "description": r.description} for r in RULES]
