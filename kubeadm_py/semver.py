"""The one version type: Kubernetes, kubelet and etcd versions as apimachinery's ``util/version``
reads and compares them.

:meth:`Version.parse` takes ``v1.20.2``, ``1.20.2``, ``v1.32.0-rc.1``, ``1.20.2+build`` and a bare
minor ``v1.20`` (upstream ``ParseGeneric``; the patch is then 0 and ``has_patch`` False);
:meth:`Version.parse_semantic` requires the patch (upstream ``ParseSemantic``). A ``ci/`` prefix
(kubeadm's CI label for an explicit version) is dropped. Ordering follows semver: a pre-release
sorts before its release, numeric identifiers numerically and before alphanumeric ones; build
metadata is ignored. ``str()`` is upstream's ``String()`` (no leading ``v``); :attr:`Version.tag`
is the release tag (``v1.20.2``). Base layer: imports only the standard library and
:mod:`kubeadm_py.errors`."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TypeVar, overload

from kubeadm_py.errors import KubeadmError

_PRE = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
_BODY = rf"v?(\d+)\.(\d+)(?:\.(\d+)(?:-({_PRE}))?(?:\+({_PRE}))?)?"
_EXACT = re.compile(rf"^{_BODY}$")
_SEARCH = re.compile(rf"(?<![\w.]){_BODY}(?![\w.+-])")
_HINT = "use a semantic version such as v1.32.10"

_T = TypeVar("_T")


class VersionError(KubeadmError):
    """Text that is not a version."""


@functools.total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int = 0
    pre: str = ""  # pre-release ("alpha.1", "rc.0", "0" in etcd's "3.5.24-0"); "" for a release
    build: str = field(default="", compare=False)
    has_patch: bool = field(default=True, compare=False)  # False for a bare minor ("1.20")

    @classmethod
    def parse(cls, text: str, what: str = "Kubernetes version") -> Version:
        """``v1.20.2``, ``1.32.0-rc.1``, ``v1.20`` ...; anything else is a one-line
        :class:`VersionError` naming ``what``."""
        t = str(text).strip()
        m = _EXACT.match(t[3:] if t.startswith("ci/") else t)
        if m is None:
            raise VersionError(f"invalid {what} {text!r}", hint=_HINT)
        return cls._from(m)

    @classmethod
    def parse_semantic(cls, text: str, what: str = "Kubernetes version") -> Version:
        """As :meth:`parse`, but major.minor.patch are all required."""
        v = cls.parse(text, what)
        if not v.has_patch:
            raise VersionError(f"invalid {what} {text!r}", hint=_HINT)
        return v

    @classmethod
    def search(cls, text: str) -> Version | None:
        """The first version inside ``text`` (``Kubernetes v1.20.2`` from ``kubelet --version``)."""
        m = _SEARCH.search(text)
        return cls._from(m) if m else None

    @classmethod
    def _from(cls, m: re.Match[str]) -> Version:
        major, minor, patch, pre, build = m.groups()
        return cls(int(major), int(minor), int(patch or 0), pre or "", build or "", patch is not None)

    @property
    def major_minor(self) -> tuple[int, int]:
        return (self.major, self.minor)

    @property
    def minor_text(self) -> str:
        """``"1.20"``: the key of the version table."""
        return f"{self.major}.{self.minor}"

    @property
    def stable(self) -> bool:
        return not self.pre

    @property
    def tag(self) -> str:
        """The release tag: ``v1.20.2``, ``v1.32.0-rc.1``."""
        return f"v{self}"

    def _key(self) -> tuple[object, ...]:
        ids = (
            tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre.split("."))
            if self.pre
            else ()
        )
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, ids)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __str__(self) -> str:
        if not self.has_patch:
            return self.minor_text
        return (
            f"{self.major}.{self.minor}.{self.patch}"
            + (f"-{self.pre}" if self.pre else "")
            + (f"+{self.build}" if self.build else "")
        )


@overload
def major_minor(text: str) -> tuple[int, int]: ...
@overload
def major_minor(text: str, default: _T) -> tuple[int, int] | _T: ...
def major_minor(text: str, default: object = VersionError) -> object:
    """``(major, minor)`` of a version; ``default`` when given and ``text`` is not a version."""
    try:
        return Version.parse(text).major_minor
    except VersionError:
        if default is VersionError:
            raise
        return default
