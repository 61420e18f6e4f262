"""testbed/apt-suites.sh: which Debian 12 entries and pins the test bed adds on Debian 12 and 13.

Runs the script against a fake root (KUBEADM_PY_TESTBED_APT_ROOT), so no root, apt or network is
needed. That apt resolves these files as intended (etcd, Go 1.19 and kubectl from bookworm on a
trixie machine, nothing else) was checked in a trixie chroot: see testbed/README.md.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.testbed.cache import REPO_ROOT

SCRIPT = os.path.join(REPO_ROOT, "testbed", "apt-suites.sh")
SRC = "etc/apt/sources.list.d/kubeadm-py-testbed-src.sources"
PREF = "etc/apt/preferences.d/kubeadm-py-testbed"

DEB822 = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: {mirror}
Suites: {suite} {suite}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: {suite}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def _root(tmp_path: Path, codename: str, sources: str = "", sources_list: str = "") -> Path:
    (tmp_path / "etc/apt/sources.list.d").mkdir(parents=True)
    (tmp_path / "etc/os-release").write_text(f'ID=debian\nVERSION_CODENAME={codename}\n')
    if sources:
        (tmp_path / "etc/apt/sources.list.d/debian.sources").write_text(sources)
    if sources_list:
        (tmp_path / "etc/apt/sources.list").write_text(sources_list)
    return tmp_path


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, KUBEADM_PY_TESTBED_APT_ROOT=str(root))
    return subprocess.run(["bash", SCRIPT, *args], env=env, capture_output=True, text=True, timeout=30)


def _fields(stanza: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in stanza.splitlines() if line and not line.startswith("#"))


def _print(root: Path) -> tuple[dict[str, str], list[dict[str, str]]]:
    res = _run(root, "--print")
    assert res.returncode == 0, res.stderr
    sources, prefs = res.stdout.split("----\n")
    return _fields(sources), [_fields(s) for s in prefs.split("\n\n") if _fields(s)]


def _script_array(path: str, name: str) -> list[str]:
    text = Path(REPO_ROOT, path).read_text()
    m = re.search(rf"^{name}=\(([^)]*)\)", text, re.M)
    assert m, f"{name} not found in {path}"
    return [w for line in m.group(1).splitlines() for w in line.split("#")[0].split()]


def test_bookworm_adds_only_deb_src_of_its_own_mirror(tmp_path: Path) -> None:
    root = _root(tmp_path, "bookworm", DEB822.format(mirror="http://mirror.test/debian", suite="bookworm"))
    src, prefs = _print(root)
    assert src == {"Types": "deb-src", "URIs": "http://mirror.test/debian", "Suites": "bookworm",
                   "Components": "main", "Signed-By": "/usr/share/keyrings/debian-archive-keyring.gpg"}
    assert prefs == []


def test_trixie_adds_bookworm_binaries_pinned_to_the_test_bed_packages(tmp_path: Path) -> None:
    root = _root(tmp_path, "trixie", DEB822.format(mirror="http://mirror.test/debian", suite="trixie"))
    src, prefs = _print(root)
    assert src["Types"] == "deb deb-src"
    assert (src["URIs"], src["Suites"]) == ("http://mirror.test/debian", "bookworm")
    allow, rest = prefs
    assert allow["Pin"] == rest["Pin"] == "release n=bookworm"
    assert set(allow["Package"].split()) == {
        "golang-1.19-go", "golang-1.19-src", "etcd-server", "etcd-client", "kubernetes-client"}
    assert allow["Pin-Priority"] == "990"
    assert (rest["Package"], rest["Pin-Priority"]) == ("*", "-1")


def test_one_line_sources_list_mirror_and_key(tmp_path: Path) -> None:
    root = _root(tmp_path, "trixie", sources_list=(
        "# comment\n"
        "deb [arch=amd64 signed-by=/etc/keys/deb.gpg] http://sec.test/debian-security trixie-security main\n"
        "deb [arch=amd64 signed-by=/etc/keys/deb.gpg] http://mirror.test/debian trixie main\n"
        "deb-src http://other.test/debian trixie main\n"))
    src, _ = _print(root)
    assert (src["URIs"], src["Signed-By"], src["Types"]) == ("http://mirror.test/debian", "/etc/keys/deb.gpg",
                                                             "deb deb-src")


def test_machine_that_already_lists_bookworm_keeps_its_own_priorities(tmp_path: Path) -> None:
    sources = DEB822.format(mirror="http://mirror.test/debian", suite="trixie") + (
        "\nTypes: deb\nURIs: http://mirror.test/debian\nSuites: bookworm\nComponents: main\n")
    src, prefs = _print(_root(tmp_path, "trixie", sources))
    assert src["Types"] == "deb-src"
    assert [p["Pin-Priority"] for p in prefs] == ["990"]  # no "never from bookworm" rule over its own entry


def test_no_mirror_found_falls_back_to_debian_default(tmp_path: Path) -> None:
    src, _ = _print(_root(tmp_path, "trixie"))
    assert src["URIs"] == "http://deb.debian.org/debian" and "Signed-By" not in src


def test_writes_once_and_replaces_the_old_list(tmp_path: Path) -> None:
    root = _root(tmp_path, "trixie", DEB822.format(mirror="http://mirror.test/debian", suite="trixie"))
    old = root / "etc/apt/sources.list.d/kubeadm-py-testbed-src.list"
    old.write_text("deb-src http://mirror.test/debian trixie main\n")
    first = _run(root)
    assert first.returncode == 0, first.stderr
    assert "wrote" in first.stderr and "removed" in first.stderr and not old.exists()
    assert (root / SRC).read_text().count("Suites: bookworm") == 1
    assert "Pin-Priority: 990" in (root / PREF).read_text()
    assert not list((root / "etc/apt/sources.list.d").glob("*.tmp"))
    second = _run(root)
    assert second.returncode == 0 and second.stderr == ""
    # the machine moves to bookworm: the pins go, deb-src stays
    (root / "etc/os-release").write_text("VERSION_CODENAME=bookworm\n")
    assert _run(root).returncode == 0
    assert not (root / PREF).exists() and "Types: deb-src\n" in (root / SRC).read_text()


def test_no_codename_is_a_one_line_error(tmp_path: Path) -> None:
    root = _root(tmp_path, "")
    res = _run(root, "--print")
    assert res.returncode == 1 and res.stdout == ""
    assert res.stderr.strip().count("\n") == 0 and "VERSION_CODENAME" in res.stderr


def test_bad_argument(tmp_path: Path) -> None:
    res = _run(_root(tmp_path, "trixie"), "--bogus")
    assert res.returncode == 2 and "unknown argument: --bogus" in res.stderr


def test_pins_cover_what_build_and_install_take_from_bookworm() -> None:
    allowed = set(_script_array("testbed/apt-suites.sh", "BOOKWORM_PACKAGES"))
    build = Path(REPO_ROOT, "testbed/build.sh").read_text()
    go_package = re.search(r'^GO_PACKAGE="([^"]+)"', build, re.M)
    assert go_package and go_package.group(1) in allowed
    assert '"$GO_PACKAGE"' in _script_array("testbed/build.sh", "APT_PACKAGES")
    assert {"etcd-server", "etcd-client"} <= set(_script_array("testbed/build.sh", "APT_PACKAGES"))
    install = Path(REPO_ROOT, "install.sh").read_text()
    assert "apt_install kubernetes-client" in install and "etcd-server etcd-client" in install
    # install.sh sets the suites up before its first apt_install
    assert install.index("testbed/apt-suites.sh") < install.index("apt_install openssl")
