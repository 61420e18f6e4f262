"""kubeadm command lines work unchanged (issue 13): Go-style booleans, ``--v=N``, no flag taking the
next flag as its value, ``--config`` refused next to other flags exactly where kubeadm refuses, and
usage errors as one line with exit code 1. Both parsers (the typer app and the fast path) are
checked; tests/unit/cli/test_fastpath.py checks that they agree on every flag of every command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeadm_py.cli import fastpath
from kubeadm_py.cli.argv import TRACEBACK_LEVEL
from kubeadm_py.cli.main import main
from kubeadm_py.errors import KubeadmError, one_line
from kubeadm_py.options import CONFIG_COMPANIONS, FLAGS, GO_BOOLS, refuse_mixed_config
from tests.unit.cli.test_fastpath import CASES, typer_parse
from tests.unit.fuzzing import one_line_refusal, traced

BOOL_FLAGS = sorted(n for n, s in FLAGS.items() if s.type is bool)
VALUE_FLAGS = sorted(n for n, s in FLAGS.items() if s.type is not bool)


def one_line_error(capsys: pytest.CaptureFixture[str], args: list[str], *needles: str) -> str:
    rc = main(args)
    err = capsys.readouterr().err
    assert rc == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def command_with(flag: str) -> list[str]:
    """The words of a command (workflow or phase) the fast path serves that takes ``flag``."""
    return next(words for words, flags in CASES if flag in flags)


def both_parsers(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> dict[str, Any]:
    fast = fastpath.parse(args)
    _, _, kwargs = typer_parse(monkeypatch, args)
    if fast is not None:
        assert fast.kwargs == kwargs, args
    return kwargs


# --- Go-style booleans -------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", [f for f in BOOL_FLAGS if any(f in fl for _, fl in CASES)])
@pytest.mark.parametrize("value", sorted(GO_BOOLS))
def test_every_bool_flag_takes_go_values(monkeypatch: pytest.MonkeyPatch, flag: str, value: str) -> None:
    kwargs = both_parsers(monkeypatch, [*command_with(flag), f"--{flag}={value}"])
    assert kwargs[FLAGS[flag].param] is GO_BOOLS[value]


@pytest.mark.parametrize("flag", ["dry-run", "force", "upload-certs", "skip-token-print"])
def test_bare_bool_flag_is_true_and_absent_is_none(monkeypatch: pytest.MonkeyPatch, flag: str) -> None:
    words = command_with(flag)
    assert both_parsers(monkeypatch, [*words, f"--{flag}"])[FLAGS[flag].param] is True
    assert both_parsers(monkeypatch, words)[FLAGS[flag].param] is None


def test_last_bool_value_wins_as_in_pflag(monkeypatch: pytest.MonkeyPatch) -> None:
    words = ["init", "phase", "certs", "all"]
    assert both_parsers(monkeypatch, [*words, "--dry-run", "--dry-run=false"])["dry_run"] is False
    assert both_parsers(monkeypatch, [*words, "--dry-run=false", "--dry-run"])["dry_run"] is True


def test_short_bool_flag_takes_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    assert both_parsers(monkeypatch, ["reset", "-f=F"])["force"] is False
    assert both_parsers(monkeypatch, ["reset", "-f=1"])["force"] is True


def upgrade_kwargs(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> dict[str, Any]:
    """``kubeadm-py upgrade <args>`` parsed by a fresh upgrade app (the module's own is bound once)."""
    from typer.main import get_command

    from kubeadm_py.cli.argv import install
    from kubeadm_py.cli.commands.upgrade import build_app

    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        "kubeadm_py.cli.run.workflow_invoker", lambda name: lambda kwargs, only: seen.update(kwargs)
    )
    install(get_command(build_app(["upgrade", *args]))).main(args=args, standalone_mode=False)
    return seen


def test_upgrade_apply_bools(monkeypatch: pytest.MonkeyPatch) -> None:
    """kubeadm upgrade apply declares --certificate-renewal and --etcd-upgrade as booleans
    (default true): bare, =false, and never swallowing the next flag."""
    kw = upgrade_kwargs(
        monkeypatch, ["apply", "v1.37.1", "--certificate-renewal", "--dry-run", "--etcd-upgrade=0"]
    )
    assert (kw["certificate_renewal"], kw["dry_run"], kw["etcd_upgrade"]) == (True, True, False)
    kw = upgrade_kwargs(monkeypatch, ["apply", "v1.37.1", "--certificate-renewal=false", "-y=t"])
    assert (kw["certificate_renewal"], kw["yes"], kw["dry_run"]) == (False, True, None)


def test_bools_of_other_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """Commands outside the workflow tables (typer options of their own) take Go values too."""
    assert main(["certs", "certificate-key"]) == 0
    capsys.readouterr()
    one_line_error(capsys, ["token", "create", "--print-join-command=maybe"], '"--print-join-command"')
    one_line_error(capsys, ["upgrade", "plan", "--etcd-upgrade=yes"], '"--etcd-upgrade"', "not a boolean")


@pytest.mark.parametrize("value", ["yes", "no", "tRuE", "", "2"])
def test_bad_bool_value_is_one_line(capsys: pytest.CaptureFixture[str], value: str) -> None:
    one_line_error(
        capsys,
        ["init", "phase", "certs", "ca", f"--dry-run={value}"],
        f'invalid argument "{value}"',
        "--dry-run",
    )


def test_dry_run_false_really_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    assert main(["init", "phase", "certs", "ca", "--rootfs", str(root), "--dry-run=true"]) == 0
    assert not (root / "etc/kubernetes/pki/ca.crt").exists()
    assert main(["init", "phase", "certs", "ca", "--rootfs", str(root), "--dry-run=false"]) == 0
    assert (root / "etc/kubernetes/pki/ca.crt").exists()


# --- --v=N -------------------------------------------------------------------------------------------

MISSING = ["init", "phase", "preflight", "--config", "/nonexistent/kubeadm.yaml"]


@pytest.mark.parametrize(
    ("extra", "traceback"),
    [
        (["--v=5"], True),
        (["--v", "7"], True),
        (["-v", "5"], True),
        (["-v5"], True),
        (["-v=6"], True),
        (["-v"], True),
        (["--verbose"], True),
        (["--v=2"], False),
        (["--v", "0"], False),
        ([], False),
    ],
)
def test_klog_verbosity(capsys: pytest.CaptureFixture[str], extra: list[str], traceback: bool) -> None:
    for args in ([*MISSING, *extra], [*extra, *MISSING]):  # a global flag: anywhere on the line
        assert main(args) == 1
        err = capsys.readouterr().err
        assert ("Traceback" in err) is traceback, (args, err)
        assert "/nonexistent/kubeadm.yaml" in err.strip().splitlines()[-1]


def test_verbosity_on_commands_without_v(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "print", "init-defaults", "--v=3"]) == 0
    assert "InitConfiguration" in capsys.readouterr().out


@pytest.mark.parametrize("args", [["--v=x"], ["--v"], ["--v=-1"]])
def test_bad_verbosity_is_one_line(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    one_line_error(capsys, ["init", *args], "--v")


# --- no flag swallows the next flag ------------------------------------------------------------------


@pytest.mark.parametrize("flag", [f for f in VALUE_FLAGS if any(f in fl for _, fl in CASES)])
def test_value_flag_never_takes_a_flag(capsys: pytest.CaptureFixture[str], flag: str) -> None:
    args = [*command_with(flag), f"--{flag}", "--dry-run"]
    assert fastpath.parse(args) is None  # the fast path leaves it to typer, which refuses it
    one_line_error(capsys, args, f"--{flag}", "'--dry-run'")


def test_a_flag_like_value_can_be_given_with_equals(monkeypatch: pytest.MonkeyPatch) -> None:
    kwargs = both_parsers(monkeypatch, ["init", "phase", "certs", "ca", "--cert-dir=--odd", "--dry-run"])
    assert (kwargs["cert_dir"], kwargs["dry_run"]) == ("--odd", True)


def test_values_starting_with_one_dash_stay_values(monkeypatch: pytest.MonkeyPatch) -> None:
    assert both_parsers(monkeypatch, ["init", "--token-ttl", "-1h"])["token_ttl"] == "-1h"
    assert both_parsers(monkeypatch, ["init", "phase", "certs", "ca", "--config", "-"])["config"] == "-"


def test_other_commands_never_swallow(capsys: pytest.CaptureFixture[str]) -> None:
    one_line_error(capsys, ["certs", "renew", "all", "--cert-dir", "--dry-run"], "--cert-dir")
    one_line_error(capsys, ["token", "create", "--ttl", "--print-join-command"], "--ttl")


# --- --config mixed with other flags -----------------------------------------------------------------


def test_companions_table_is_kubeadms() -> None:
    # cmd/kubeadm/app/apis/kubeadm/validation/validation.go isAllowedFlag (plus every "skip-*")
    assert {"config", "ignore-preflight-errors", "dry-run", "kubeconfig", "node-name"} <= CONFIG_COMPANIONS
    assert {"kubeconfig-dir", "upload-certs", "print-join-command", "rootfs", "v"} <= CONFIG_COMPANIONS
    refuse_mixed_config({"config": "c.yaml", "skip_phases": ["preflight"], "skip_token_print": True})
    refuse_mixed_config({"cert_dir": "/x"})  # without --config anything goes
    with pytest.raises(KubeadmError, match=r"\[cert-dir force\]"):
        refuse_mixed_config({"config": "c.yaml", "force": False, "cert_dir": "/x", "dry_run": True})


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["init", "--pod-network-cidr", "10.0.0.0/16", "--token-ttl=1h"], "[pod-network-cidr token-ttl]"),
        (["init", "phase", "certs", "all", "--cert-dir", "/x"], "[cert-dir]"),
        (["init", "--patches", "/p"], "[patches]"),
        (["reset", "--force=false"], "[force]"),
        (["reset", "--cleanup-tmp-dir"], "[cleanup-tmp-dir]"),
        (["join", "--token", "abcdef.0123456789abcdef"], "[token]"),
        (["join", "phase", "preflight", "--control-plane"], "[control-plane]"),
        # upgrade/apply.go newCmdApply and upgrade/node.go newCmdNode: RunE validates the mix
        (["upgrade", "apply", "v1.37.1", "--etcd-upgrade=false", "--force"], "[etcd-upgrade force]"),
        (["upgrade", "apply", "v1.37.1", "--patches", "/p", "--yes"], "[patches]"),
        (["upgrade", "node", "--certificate-renewal=false"], "[certificate-renewal]"),
    ],
)
def test_config_mixed_with_flags_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], named: str
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n")
    one_line_error(
        capsys,
        [*args, "--config", str(cfg), "--rootfs", str(tmp_path)],
        f"can not mix '--config' with arguments {named}",
    )
    assert list(tmp_path.iterdir()) == [cfg]


def test_config_with_allowed_flags_is_not_refused(capsys: pytest.CaptureFixture[str]) -> None:
    line = one_line_error(
        capsys,
        [
            "init",
            "--config",
            "/nonexistent/c.yaml",
            "--dry-run=false",
            "--skip-phases",
            "addon",
            "--upload-certs",
            "--node-name",
            "n1",
            "--ignore-preflight-errors",
            "all",
            "--skip-token-print",
            "--v=1",
        ],
    )
    assert "can not mix" not in line and "/nonexistent/c.yaml" in line


def test_upgrade_apply_takes_yes_with_config(capsys: pytest.CaptureFixture[str]) -> None:
    """kubernetes/kubernetes#125566 (kubeadm v1.31, backported to v1.30) allows --yes next to
    --config, so an automated upgrade with an UpgradeConfiguration needs no prompt."""
    line = one_line_error(capsys, ["upgrade", "apply", "v1.37.1", "--config", "/nonexistent/u.yaml", "-y"])
    assert "can not mix" not in line and "/nonexistent/u.yaml" in line


# --- usage errors: one line, exit code 1 -------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["init", "--dry-runn"], "No such option: --dry-runn"),
        (["init", "phase", "certs", "all", "--config"], "--config"),
        (["init", "--apiserver-bind-port", "x1"], "--apiserver-bind-port"),
        (["init", "phase", "nope"], "nope"),
        (["frobnicate"], "frobnicate"),
        (["certs", "renew"], "name"),
        (["upgrade", "apply", "v1.37.1", "--yes=please"], "--yes"),
        (["init", "--v=²"], '"--v"'),  # found by the fuzz: a digit to str, not to int()
        (["init", "-v²"], '"-v"'),
        (["init", "--v=\r5"], '"\\r5"'),  # found by the fuzz: the value escaped, one line
    ],
)
def test_usage_error_is_one_line_exit_1(
    capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    line = one_line_error(capsys, args, needle)
    assert "Usage:" not in line and "Traceback" not in line


# --- fuzzed command lines: both parsers agree, every refusal is one line -----------------------------

WORDS = [
    "--",
    "-",
    "-x",
    "--nope",
    "phase",
    "all",
    "=",
    "--=",
    "--v",
    "-v",
    "9",
    "",
    "a b",
    "--dry-run=",
    "\x00",
]


VALUES = [*GO_BOOLS, "x", "--dry-run", "-1h", "7", "", "yes", "²", "-v5"]


@st.composite
def command_lines(draw: st.DrawFn, case: tuple[list[str], list[str]]) -> list[str]:
    """A command the fast path serves, then up to five of its flags (or odd words), each alone,
    with ``=value`` or followed by a value."""
    words, flags = case
    args = list(words)
    names = st.sampled_from([f"--{f}" for f in flags])
    odd = st.sampled_from(WORDS) | st.text(max_size=8)
    for _ in range(draw(st.integers(0, 5))):
        name = draw(st.one_of(names, names, names, names, odd))  # 4 in 5: one of its flags
        value = draw(st.sampled_from(VALUES) | st.text(max_size=8))
        args += draw(st.sampled_from([[name], [f"{name}={value}"], [name, value]]))
    return args


def test_fuzzed_command_lines(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A property-based fuzz (hypothesis, deterministic profile) of the flag parsers over the
    commands the fast path serves: a refused line is one ``error:`` line with exit code 1 and
    bounded memory, an accepted one gets the same keyword arguments from typer and the fast path."""
    from kubeadm_py.cli.app import run_typer
    from kubeadm_py.cli.argv import split_verbosity

    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(
        "kubeadm_py.cli.run.workflow_invoker", lambda name: lambda kwargs, only: seen.append(dict(kwargs))
    )
    outcomes: dict[str, int] = {"refused": 0, "accepted": 0, "fast": 0}

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
    @given(st.sampled_from(CASES).flatmap(lambda case: st.tuples(st.just(case[0]), command_lines(case))))
    def check(words_args: tuple[list[str], list[str]]) -> None:
        words, args = words_args
        seen.clear()
        rc = main(args)
        out, err = capsys.readouterr()
        if rc == 1 and out.startswith("Usage:"):  # a group without its subcommand: help, as kubeadm
            return
        if rc == 1:
            outcomes["refused"] += 1
            if verbosity(args) >= TRACEBACK_LEVEL:  # kubeadm's --v=5: the traceback, then the line
                err = err.strip().splitlines()[-1]
            assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), (args, err)
            assert "internal error" not in err and not err.startswith("error: unexpected"), (args, err)
            # names what it is about: a flag, a word, or the first of a cluster of short options (-1h)
            extra = args[len(words) :]
            named = [one_line(a.partition("=")[0] or a) if a.strip() else f"'{a}'" for a in extra]
            named += [n[:2] for n in named if n.startswith("-") and not n.startswith("--")]
            named += [repr(a)[1:-1] for a in extra]  # click quotes a word as repr() does...
            named += ["".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in a) for a in extra]
            assert any(n in err for n in named), (args, err)
            return
        assert rc == 0, (args, rc, err)
        if not seen:  # --help somewhere on the line
            assert out.startswith("Usage:"), args
            return
        plain, _ = split_verbosity(args)
        fast = fastpath.parse(plain)
        seen.clear()
        assert run_typer(plain) == 0 and seen, args
        assert fast is None or fast.kwargs == seen[0], args
        outcomes["accepted"] += 1
        outcomes["fast"] += fast is not None

    main(["init", "--dry-run"])  # imports and caches are not what a command line costs
    capsys.readouterr()
    check()
    assert min(outcomes.values()) >= 10, outcomes  # the examples reach every outcome


VERBOSITY = st.sampled_from(["--v", "-v", "--verbose"])
def verbosity(args: list[str]) -> int:
    from kubeadm_py.cli.argv import split_verbosity

    try:
        return split_verbosity(args)[1]
    except KubeadmError:
        return 0


ARGV_WORDS = st.one_of(
    st.sampled_from([*WORDS, *VALUES]),
    VERBOSITY,
    st.builds("{}={}".format, VERBOSITY, st.sampled_from(VALUES) | st.text(max_size=4)),
    st.builds("-v{}".format, st.sampled_from(VALUES) | st.text(max_size=4)),
    st.text(max_size=12),
)


@given(st.lists(ARGV_WORDS, max_size=40))
def test_fuzzed_verbosity_flags(args: list[str]) -> None:
    """cli/argv.py alone: the verbosity flags are taken off any command line, or refused in one
    line naming the flag; a Go boolean is parsed or refused naming the flag; bounded memory."""
    from kubeadm_py.cli.argv import go_bool, split_verbosity

    def parse() -> None:
        rest, level = split_verbosity(args)
        assert level >= 0 and len(rest) <= len(args)
        for a in rest:
            go_bool("--dry-run", a)

    with traced():
        refused = one_line_refusal(parse, sum(map(len, args)) + len(args), args)
    if refused:
        with pytest.raises(KubeadmError, match=r'"(--v|-v|--verbose|--dry-run)"'):
            parse()


def test_group_without_subcommand_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    """As kubeadm: the root alone prints its help and exits 0; a group alone (``kubeadm token``)
    prints its help and exits 1 (subCmdRun); never exit code 2."""
    assert main([]) == 0
    assert capsys.readouterr().out.startswith("Usage: kubeadm-py")
    for args in (["token"], ["init", "phase"], ["init", "phase", "certs"]):
        assert main(args) == 1
        out = capsys.readouterr().out
        assert out.startswith(f"Usage: kubeadm-py {' '.join(args)}"), out
