"""Semantic versions as kubeadm compares them (apimachinery ``util/version``), and the version
numbers kubeadm-py takes as its own."""

from __future__ import annotations

import re
from dataclasses import dataclass

_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


@dataclass(frozen=True, order=False)
class Version:
    major: int
    minor: int
    patch: int = 0
    pre: str = ""

    @classmethod
    def parse(cls, text: str) -> Version:
        m = _RE.match(text.strip())
        if not m:
            raise ValueError(f"could not parse {text!r} as a version")
        return cls(int(m[1]), int(m[2]), int(m[3] or 0), m[4] or "")

    def _key(self) -> tuple[object, ...]:
        # A pre-release sorts before its release; numeric identifiers before alphanumeric ones.
        pre: tuple[tuple[int, int | str], ...] = (
            tuple((0, int(p)) if p.isdigit() else (1, p) for p in self.pre.split(".")) if self.pre else ()
        )
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()  # type: ignore[operator]

    def __le__(self, other: Version) -> bool:
        return self == other or self < other

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}" + (f"-{self.pre}" if self.pre else "")


def kubeadm_version() -> Version:
    """kubeadm-py acts as the kubeadm of the newest Kubernetes minor in its version table."""
    from kubeadm_py.versions import RELEASES

    newest = max(Version.parse(r.default_patch) for r in RELEASES)
    return newest


def oldest_supported_version() -> Version:
    from kubeadm_py.versions import RELEASES

    return min(Version.parse(r.default_patch) for r in RELEASES)


def minimum_kubelet_version(kubernetes_version: str = "") -> Version:
    """kubeadm's ``MinimumKubeletVersion`` (three minors below kubeadm's own, the kubelet skew
    policy). kubeadm-py deploys several minors, so it counts from the target version, or from
    the oldest minor of its version table when the target is unknown (join before discovery)."""
    try:
        base = Version.parse(kubernetes_version) if kubernetes_version else oldest_supported_version()
    except ValueError:
        base = oldest_supported_version()
    return Version(base.major, max(base.minor - 3, 0), 0)
