"""``-o jsonpath=...``: kubectl's template syntax over jsonpath-ng (cli/jsonpath.py), and ``init -o``
giving what the same expression gives on ``init -o json`` (the other commands: their own test
modules, through tests/unit/cli/jsonpath_check.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeadm_py.cli.jsonpath import parse, render
from kubeadm_py.cli.main import main
from kubeadm_py.cli.render import check_output_format, dump
from kubeadm_py.errors import KubeadmError
from kubeadm_py.host import probe as probe_module
from kubeadm_py.host.fake import FakeProbe
from tests.unit.cli.jsonpath_check import check

DOC = {
    "kind": "List",
    "items": [
        {"metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "x"}}, "port": 6443, "ready": True},
        {"metadata": {"name": "b", "labels": {}}, "port": 10250, "ready": False},
    ],
    "none": None,
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{.kind}", "List"),
        ("{.items[*].metadata.name}", "a b"),
        ("{.items[0].port}", "6443"),
        ("{.items[-1].ready}", "false"),
        ("{.items[0].metadata.labels}", '{"app.kubernetes.io/name":"x"}'),
        ("{.items[0].metadata.labels['app.kubernetes.io/name']}", "x"),
        ('{.items[?(@.port==10250)].metadata.name}', "b"),
        ("{..name}", "a b"),
        ("{.none}", "null"),
        ("{.missing}", ""),  # kubectl's --allow-missing-template-keys default
        ("kind={.kind}", "kind=List"),  # text outside braces as is
        ('{range .items[*]}{.metadata.name}{"\\t"}{.port}{"\\n"}{end}', "a\t6443\nb\t10250\n"),
        ("{range .items[*]}[{@.metadata.name}|{$.kind}]{end}", "[a|List][b|List]"),
        ("{range .items[*]}{range .metadata.labels.*}<{@}>{end}{end}", "<x>"),
        ("{.items[?(@.metadata.name==\"a}\")].port}", ""),  # a brace inside quotes does not end {...}
    ],
)
def test_kubectl_template_syntax(template: str, expected: str) -> None:
    assert render("jsonpath", template, DOC) == expected


def test_jsonpath_as_json_lists_every_match() -> None:
    out = render("jsonpath-as-json", "{.items[*].port}{.kind}", DOC)
    assert json.loads(out) == [6443, 10250, "List"]


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ("jsonpath={.items[", "--output: bad jsonpath template '{.items[': unclosed {"),
        ("jsonpath={range .items[*]}{.x}", "--output: bad jsonpath template '{range .items[*]}{.x}': "
                                           "{range} without {end}"),
        ("jsonpath={end}", "--output: bad jsonpath template '{end}': {end} without {range}"),
        ("go-template={{.kind}}",
         "--output: unknown format 'go-template={{.kind}}' (Go templates are not supported; "
         "use -o jsonpath=TEMPLATE (kubectl's JSONPath, with range/end))"),
        ("xml", "--output: unknown format 'xml' (use text, json, yaml, jsonpath=TEMPLATE, "
                "jsonpath-as-json=TEMPLATE or jsonpath-file=FILE)"),
    ],
)
def test_bad_formats_are_one_line_errors(fmt: str, message: str) -> None:
    with pytest.raises(KubeadmError) as e:
        check_output_format(fmt)
    assert str(e.value) == message


def test_bad_path_is_refused_before_work() -> None:
    with pytest.raises(KubeadmError, match=r"^--output: bad jsonpath template '\{\.a\[\?\(\}'"):
        parse("{.a[?(}")


def test_template_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "t").write_text("{.items[0].metadata.name}\n")
    fmt = check_output_format(f"jsonpath-file={tmp_path / 't'}")
    dump(DOC, fmt)
    assert capsys.readouterr().out == "a\n"
    with pytest.raises(KubeadmError, match="cannot read the template file"):
        check_output_format(f"jsonpath-file={tmp_path / 'missing'}")


def test_init_output_jsonpath(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(probe_module, "RealProbe", lambda fs: FakeProbe())
    node = ["--apiserver-advertise-address=127.0.0.1", "--node-name=cp-1", "--kubernetes-version=v1.20.2",
            "--ignore-preflight-errors=ImagePull"]

    def run(argv: list[str]) -> str:
        assert main(["init", "--dry-run", "--rootfs", str(tmp_path), *node, *argv]) == 0
        return capsys.readouterr().out

    check(run, [], [".phases[*].phase", ".phases[?(@.phase==\"certs/ca\")].status", ".ok",
                    ".phases[0].changes[*].target"])
