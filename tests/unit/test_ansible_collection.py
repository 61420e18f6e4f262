"""The kubeadm_py.cluster Ansible collection (ansible/): documentation every module must have for
``ansible-doc``, the report -> result mapping on a real run report, and the modules run by
``ansible-playbook`` on this machine (connection local) against a ``rootfs``: check mode writes
nothing and shows the files in its diff, a real run changes, a second run does not."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "ansible"
COLLECTION = COLLECTIONS / "ansible_collections" / "kubeadm_py" / "cluster"
MODULES = ("init", "join", "reset", "upgrade", "certs", "token", "verify")
BIN = Path(sys.executable).parent
NODE = {"apiserver-advertise-address": "127.0.0.1", "node-name": "cp-1"}

needs_ansible = pytest.mark.skipif(
    not (BIN / "ansible-playbook").exists(), reason="ansible-core is not installed (./install.sh --dev)"
)


def ansible_env(tmp_path: Path, collections: Path = COLLECTIONS) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
        ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_HOST_KEY_CHECKING="False",
    )
    return env


def report_module_utils() -> Any:
    sys.path.insert(0, str(COLLECTIONS))
    try:
        from ansible_collections.kubeadm_py.cluster.plugins.module_utils import report
    finally:
        sys.path.remove(str(COLLECTIONS))
    return report


@needs_ansible
def test_ansible_doc_shows_every_module(tmp_path: Path) -> None:
    names = [f"kubeadm_py.cluster.{m}" for m in MODULES]
    r = subprocess.run(
        [str(BIN / "ansible-doc"), "-t", "module", "--json", *names],
        env=ansible_env(tmp_path), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    docs = json.loads(r.stdout)
    assert sorted(docs) == sorted(names)
    for name, doc in docs.items():
        assert doc["doc"]["short_description"] and doc["doc"]["options"], name
        assert doc["examples"].strip() and doc["return"], name
        assert "check_mode" in doc["doc"]["attributes"], name


@needs_ansible
def test_collection_builds_and_installs(tmp_path: Path) -> None:
    env = ansible_env(tmp_path, tmp_path / "installed")
    build = [
        str(BIN / "ansible-galaxy"),
        "collection",
        "build",
        "--output-path",
        str(tmp_path),
        str(COLLECTION),
    ]
    subprocess.run(build, env=env, check=True, capture_output=True, timeout=120)
    (tarball,) = tmp_path.glob("kubeadm_py-cluster-*.tar.gz")
    install = [
        str(BIN / "ansible-galaxy"),
        "collection",
        "install",
        "-p",
        str(tmp_path / "installed"),
        str(tarball),
    ]
    subprocess.run(install, env=env, check=True, capture_output=True, timeout=120)
    r = subprocess.run(
        [str(BIN / "ansible-doc"), "-t", "module", "-l", "kubeadm_py.cluster"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert sorted(line.split()[0] for line in r.stdout.splitlines()) == [
        f"kubeadm_py.cluster.{m}" for m in sorted(MODULES)
    ]


def test_report_maps_to_module_result(tmp_path: Path) -> None:
    """A real dry run's report: changed means "would change", a diff entry per planned file with
    its content, never a private key's."""
    from kubeadm_py import api

    report = report_module_utils()
    plan = api.run("init", phases=["certs", "kubeconfig"], dry_run=True, rootfs=str(tmp_path), options=NODE)
    result = report.result_from_report(plan.to_dict(with_content=True), str(tmp_path), want_diff=True)
    assert result["changed"] and result["dry_run"] and result["ok"]
    assert result["statuses"]["certs/ca"] == "would change"
    diff = {d["before_header"]: d for d in result["diff"]}
    assert "-----BEGIN CERTIFICATE-----" in diff["/etc/kubernetes/pki/ca.crt"]["after"]
    assert "PRIVATE KEY" not in json.dumps(result)
    assert all("content" not in c for p in result["phases"] for c in p["changes"])
    assert os.listdir(tmp_path) == []  # the dry run wrote nothing

    done = api.run("init", phases=["certs/ca"], rootfs=str(tmp_path), options=NODE)
    again = report.result_from_report(
        api.run("init", phases=["certs/ca"], rootfs=str(tmp_path), options=NODE).to_dict()
    )
    assert report.result_from_report(done.to_dict())["changed"] and not again["changed"]
    assert again["statuses"] == {"certs/ca": "unchanged"}


def test_done_markers(tmp_path: Path) -> None:
    report = report_module_utils()
    root = str(tmp_path)
    assert not report.already_done("init", root) and report.nothing_to_reset(root)
    (tmp_path / "etc/kubernetes/manifests").mkdir(parents=True)
    (tmp_path / "etc/kubernetes/kubelet.conf").write_text("x")
    assert report.already_done("join", root) and not report.already_done("init", root)
    assert not report.nothing_to_reset(root)


PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - kubeadm_py.cluster.init:
        rootfs: "{root}"
        phases: [certs, kubeconfig]
        options: {options}
      register: out
    - kubeadm_py.cluster.certs:
        action: check-expiration
        rootfs: "{root}"
      register: exp
      when: not ansible_check_mode
    - ansible.builtin.copy:
        content: "{{{{ {{'init': out, 'exp': exp | default({{}})}} | to_json }}}}"
        dest: "{results}"
      check_mode: false
      changed_when: false
      when: out is defined
"""


def recap_changed(stdout: str) -> dict[str, int]:
    """Host -> ``changed=N`` from the PLAY RECAP of ansible-playbook's default output."""
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", stdout, re.M)}


def play(
    tmp_path: Path,
    root: Path,
    *flags: str,
    options: dict[str, Any] | None = None,
    python: str = sys.executable,
) -> dict[str, Any]:
    """Run the play; returns its registered results, ``rc``, ``stdout`` and the recap's changes."""
    book, results = tmp_path / "play.yml", tmp_path / "results.json"
    results.unlink(missing_ok=True)
    book.write_text(PLAY.format(root=root, options=json.dumps(options or NODE), results=results))
    r = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", str(book), *flags],
        env=dict(ansible_env(tmp_path), ANSIBLE_PYTHON_INTERPRETER=python), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    out: dict[str, Any] = json.loads(results.read_text()) if results.exists() else {}
    out.update(rc=r.returncode, stdout=r.stdout, recap=recap_changed(r.stdout))
    return out


@needs_ansible
def test_playbook_check_mode_then_real_then_idempotent(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    planned = play(tmp_path, root, "--check", "--diff")
    init = planned["init"]
    assert planned["rc"] == 0 and init["changed"] and init["dry_run"], planned["stdout"]
    assert "/etc/kubernetes/admin.conf" in {d["before_header"] for d in init["diff"]}
    assert "+++ after: /etc/kubernetes/pki/ca.crt (create, phase certs/ca)" in planned["stdout"]
    assert os.listdir(root) == []  # check mode wrote nothing

    real = play(tmp_path, root)
    assert real["rc"] == 0 and real["init"]["changed"] and not real["init"]["dry_run"], real["stdout"]
    assert (root / "etc/kubernetes/pki/ca.crt").exists()
    names = {c["name"] for c in real["exp"]["expiration"]["certificates"]}
    assert {"apiserver", "admin.conf"} <= names

    again = play(tmp_path, root)
    assert again["rc"] == 0 and not again["init"]["changed"], again["init"]["statuses"]
    assert again["recap"] == {"localhost": 0}


@needs_ansible
def test_bad_option_is_a_one_line_failure(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    out = play(tmp_path, root, options={"no-such-flag": "1"})
    assert out["rc"] == 2 and out["recap"] == {"localhost": 0}
    (line,) = [x for x in out["stdout"].splitlines() if x.startswith("fatal: [localhost]")]
    assert "no-such-flag" in line and "Traceback" not in out["stdout"]
    assert os.listdir(root) == []


@needs_ansible
@pytest.mark.skipif(not os.path.exists("/usr/bin/python3"), reason="no system Python")
def test_a_host_without_kubeadm_py_is_told_how_to_get_it(tmp_path: Path) -> None:
    probe = subprocess.run(["/usr/bin/python3", "-c", "import kubeadm_py"], capture_output=True, cwd=tmp_path)
    if probe.returncode == 0:
        pytest.skip("the system Python has kubeadm-py")
    out = play(tmp_path, tmp_path, python="/usr/bin/python3")
    (line,) = [x for x in out["stdout"].splitlines() if x.startswith("fatal: [localhost]")]
    assert "kubeadm-py is not importable by /usr/bin/python3" in line and "kubeadm_py.cluster.install" in line


def test_no_build_outputs_in_the_collection() -> None:
    assert not list(COLLECTION.rglob("*.tar.gz")) and shutil.which  # nothing built inside the source tree
