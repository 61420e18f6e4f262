"""The one version type (kubeadm_py.semver): parsing as apimachinery's util/version
(ParseGeneric / ParseSemantic), semver ordering, and one-line errors."""

from __future__ import annotations

import pytest

from kubeadm_py.errors import KubeadmError
from kubeadm_py.semver import Version, VersionError, major_minor


@pytest.mark.parametrize(
    ("text", "fields", "string"),
    [
        ("v1.20.2", (1, 20, 2, "", "", True), "1.20.2"),
        ("1.20.2", (1, 20, 2, "", "", True), "1.20.2"),
        ("  v1.31.14\n", (1, 31, 14, "", "", True), "1.31.14"),
        ("v1.20", (1, 20, 0, "", "", False), "1.20"),
        ("1.32", (1, 32, 0, "", "", False), "1.32"),
        ("v1.32.0-rc.1", (1, 32, 0, "rc.1", "", True), "1.32.0-rc.1"),
        ("v1.37.0-alpha.1", (1, 37, 0, "alpha.1", "", True), "1.37.0-alpha.1"),
        ("3.5.24-0", (3, 5, 24, "0", "", True), "3.5.24-0"),  # etcd image tags
        ("v1.20.2+abc.1", (1, 20, 2, "", "abc.1", True), "1.20.2+abc.1"),
        ("v1.20.2-beta.0+k3s1", (1, 20, 2, "beta.0", "k3s1", True), "1.20.2-beta.0+k3s1"),
        ("ci/v1.32.1", (1, 32, 1, "", "", True), "1.32.1"),
    ],
)
def test_parse(text: str, fields: tuple[object, ...], string: str) -> None:
    v = Version.parse(text)
    assert (v.major, v.minor, v.patch, v.pre, v.build, v.has_patch) == fields
    assert str(v) == string
    assert v.major_minor == fields[:2]
    assert v.minor_text == f"{fields[0]}.{fields[1]}"


def test_tag_and_stable() -> None:
    assert Version.parse("1.31.2").tag == "v1.31.2"
    assert Version.parse("v1.32.0-rc.1").tag == "v1.32.0-rc.1"
    assert Version.parse("v1.32.0").stable
    assert not Version.parse("v1.32.0-rc.1").stable


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "v",
        "1",
        "v1",
        "one.two",
        "stable",
        "latest-1.20",
        "1.20.x",
        "v1.20.2.3",
        "1.20-rc.1",
        "1.20.2-",
        "1.20.2-rc..1",
        "1.20.2+",
        "v 1.20.2",
        "1,20,2",
        "ci/stable",
    ],
)
def test_invalid_is_a_one_line_kubeadm_error(bad: str) -> None:
    with pytest.raises(VersionError) as e:
        Version.parse(bad)
    assert isinstance(e.value, KubeadmError)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(f"invalid Kubernetes version {bad!r}")
    assert "v1.32.10" in msg  # the hint shows the syntax


def test_error_names_what_was_parsed() -> None:
    with pytest.raises(VersionError, match="^invalid etcd version 'x'"):
        Version.parse("x", "etcd version")


def test_parse_semantic_requires_the_patch() -> None:
    assert Version.parse_semantic("v1.31.2") == Version(1, 31, 2)
    with pytest.raises(VersionError, match="invalid Kubernetes version '1.31'"):
        Version.parse_semantic("1.31")


# Each version is lower than the next (semver precedence, https://semver.org/#spec-item-11).
ORDERED = [
    "v1.20",  # == v1.20.0
    "v1.20.1",
    "v1.20.2-alpha",
    "v1.20.2-alpha.1",
    "v1.20.2-alpha.beta",
    "v1.20.2-beta",
    "v1.20.2-beta.2",
    "v1.20.2-beta.11",  # numeric identifiers compare as numbers
    "v1.20.2-rc.1",
    "v1.20.2",
    "v1.20.10",
    "v1.21.0-rc.0",
    "v1.21.0",
    "v2.0.0",
]


def test_ordering() -> None:
    versions = [Version.parse(t) for t in ORDERED]
    for lower, higher in zip(versions, versions[1:], strict=False):
        assert lower < higher
        assert higher > lower
        assert lower <= higher and higher >= lower
        assert lower != higher
    assert sorted(reversed(versions)) == versions
    assert max(versions) == Version(2, 0, 0)


def test_equality_ignores_build_and_spelling() -> None:
    assert Version.parse("v1.20.2+abc") == Version.parse("1.20.2")
    assert Version.parse("v1.20") == Version.parse("v1.20.0")
    assert len({Version.parse("v1.20.2"), Version.parse("1.20.2+x")}) == 1
    assert Version.parse("1.20.2+a") <= Version.parse("1.20.2+b")


def test_search_finds_a_version_in_text() -> None:
    assert Version.search("Kubernetes v1.20.2\n") == Version(1, 20, 2)
    assert Version.search("Kubernetes v1.32.0-rc.1") == Version(1, 32, 0, "rc.1")
    assert Version.search("no version here") is None


def test_major_minor_helper() -> None:
    assert major_minor("v1.20.2") == (1, 20)
    assert major_minor("1.32") == (1, 32)
    assert major_minor("garbage", None) is None
    assert major_minor("", (1, 37)) == (1, 37)
    with pytest.raises(VersionError):
        major_minor("garbage")
