"""Shell completion: the generated table is current, the candidates for commands, phase paths,
options and fixed value sets, and the bash, zsh and fish scripts driven by their shells."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kubeadm_py.cli import complete, completion_gen
from kubeadm_py.cli.main import main
from kubeadm_py.versions import RELEASES

REPO = Path(__file__).resolve().parents[3]


def test_table_is_generated_from_the_command_tree() -> None:
    table = REPO / "kubeadm_py/cli/completion_table.py"
    assert table.read_text() == completion_gen.render(), (
        "regenerate: python -m kubeadm_py.cli.completion_gen > kubeadm_py/cli/completion_table.py"
    )


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["in"], ["init"]),
        (["init", "phase", "certs", "apiserver-e"], ["apiserver-etcd-client"]),
        (["init", "phase", "kubeconfig", ""], ["all", "admin", "super-admin", "kubelet",
                                               "controller-manager", "scheduler"]),
        (["upgrade", "apply", "phase", "p"], ["preflight", "post-upgrade"]),
        (["init", "-o", "y"], ["yaml"]),
        (["init", "--output=jsonpath-"], ["--output=jsonpath-as-json=", "--output=jsonpath-file="]),
        (["init", "--output", "=", "ya"], ["yaml"]),  # bash's split of --output=ya
        (["init", "--output", "="], ["=text", "=json", "=yaml", "=jsonpath=", "=jsonpath-as-json=",
                                     "=jsonpath-file="]),
        (["version", "-o", ""], ["short", "json", "yaml"]),
        (["token", "list", "-o", "jsonpath-a"], ["jsonpath-as-json="]),
        (["init", "--ignore-preflight-errors", "Swap,NumC"], ["Swap,NumCPU"]),
        (["join", "--ignore-preflight-errors=Sw"], ["--ignore-preflight-errors=Swap"]),
        (["init", "--dry-run", "--skip-ph"], ["--skip-phases"]),
        (["init", "--config", "x.yaml", "ph"], ["phase"]),  # an option's value is not a command
        (["reset", "--cri-socket", ""], []),  # free values: the shell completes file names
        (["completion", ""], ["bash", "zsh", "fish"]),
    ],
)
def test_candidates(words: list[str], expected: list[str]) -> None:
    assert complete.candidates(words) == expected


def test_kubernetes_versions_come_from_the_version_table() -> None:
    got = complete.candidates(["config", "images", "list", "--kubernetes-version", "v"])
    assert sorted(got) == sorted(r.default_patch for r in RELEASES)


def test_check_names_include_the_kubeadm_labels() -> None:
    names = complete.candidates(["init", "--ignore-preflight-errors", ""])
    for n in ("all", "Swap", "NumCPU", "Port-6443", "FileAvailable--etc-kubernetes-manifests-etcd.yaml",
              "DirAvailable--var-lib-etcd", "ImagePull", "SystemVerification"):
        assert n in names


def test_unknown_shell_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "tcsh"]) == 1
    assert capsys.readouterr().err == "error: unsupported shell 'tcsh' (use one of bash, zsh, fish)\n"


@pytest.fixture
def on_path(tmp_path: Path) -> dict[str, str]:
    """PATH with a ``kubeadm-py`` that runs this source tree, the environment for the shells."""
    exe = tmp_path / "bin" / "kubeadm-py"
    exe.parent.mkdir()
    exe.write_text(f'#!/bin/sh\nexec {sys.executable} -m kubeadm_py "$@"\n')
    exe.chmod(0o755)
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    for shell in complete.SHELLS:
        (scripts / shell).write_text(complete.script(shell))
    env = {**os.environ, "PATH": f"{exe.parent}:{os.environ['PATH']}", "PYTHONPATH": str(REPO),
           "HOME": str(tmp_path), "SCRIPTS": str(scripts)}
    return env


def _shell(shell: str) -> str:
    path = shutil.which(shell)
    if path is None:
        pytest.skip(f"{shell} is not installed (install.sh --dev installs it)")
    return path


BASH_DRIVER = """
source "$SCRIPTS/bash"
complete -p kubeadm-py
COMP_WORDS=(kubeadm-py "$@"); COMP_CWORD=$#
_kubeadm_py_complete
printf '%s\\n' "${COMPREPLY[@]}"
"""


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["init", "phase", "certs", "api"],
         ["apiserver", "apiserver-kubelet-client", "apiserver-etcd-client"]),
        (["init", "phase", "kubelet-st"], ["kubelet-start"]),
        (["certs", "check-expiration", "-o", "ya"], ["yaml"]),
        (["init", "--output", "=", "j"], ["json", "jsonpath=", "jsonpath-as-json=", "jsonpath-file="]),
    ],
)
def test_bash_completion_through_comp_words(on_path: dict[str, str], words: list[str],
                                            expected: list[str]) -> None:
    r = subprocess.run([_shell("bash"), "--norc", "-c", BASH_DRIVER, "bash", *words], env=on_path,
                       capture_output=True, text=True, timeout=60, check=True)
    lines = r.stdout.splitlines()
    assert lines[0] == "complete -o default -F _kubeadm_py_complete kubeadm-py"
    assert lines[1:] == expected


ZSH_DRIVER = """
autoload -U compinit && compinit -u -d "$HOME/.zcompdump"
source "$SCRIPTS/zsh"
print -r -- "registered: $_comps[kubeadm-py]"
compadd() { while [[ $1 != -- ]]; do shift; done; shift; print -rl -- "$@"; }
_files() { print -r -- "<files>"; }
words=(kubeadm-py "$@"); CURRENT=$(( $# + 1 ))
_kubeadm_py
"""


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["init", "phase", "certs", "front"], ["front-proxy-ca", "front-proxy-client"]),
        (["init", "-o", "jsonpath"], ["jsonpath=", "jsonpath-as-json=", "jsonpath-file="]),
        (["init", "--config", ""], ["<files>"]),
    ],
)
def test_zsh_script_loads_and_completes(on_path: dict[str, str], words: list[str],
                                        expected: list[str]) -> None:
    r = subprocess.run([_shell("zsh"), "-f", "-c", ZSH_DRIVER, "zsh", *words], env=on_path,
                       capture_output=True, text=True, timeout=60, check=True)
    lines = r.stdout.splitlines()
    assert lines[0] == "registered: _kubeadm_py"
    assert lines[1:] == expected


def test_fish_script_completes(on_path: dict[str, str]) -> None:
    fish = _shell("fish")
    cmd = 'source $SCRIPTS/fish; complete -C "kubeadm-py init phase certs etcd-"'
    r = subprocess.run([fish, "--no-config", "-c", cmd], env=on_path, capture_output=True, text=True,
                       timeout=60, check=True)
    assert sorted(line.split("\t")[0] for line in r.stdout.splitlines()) == [  # fish sorts them
        "etcd-ca", "etcd-healthcheck-client", "etcd-peer", "etcd-server"
    ]


def test_completion_help_goes_to_typer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "--help"]) == 0
    assert "Usage: kubeadm-py completion" in capsys.readouterr().out
    assert main(["completion", "bash"]) == 0
    assert capsys.readouterr().out == complete.script("bash")
