"""``kubeadm-py token`` through the real CLI entry point (main), with the API served by the
in-memory API server; plus the closed-port failure through a real kubeconfig."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from kubeadm_py.cli.main import main
from kubeadm_py.cluster import tokenops as tc
from kubeadm_py.tokens.model import BootstrapToken, TokenString
from tests.unit.cluster.conftest import Env
from tests.unit.cluster.fakeapi import FakeAPIServer


@pytest.fixture
def api(monkeypatch) -> FakeAPIServer:
    server = FakeAPIServer()
    monkeypatch.setattr(tc, "client_for", lambda path, api: server.client())
    return server


def test_generate(capsys) -> None:
    assert main(["token", "generate"]) == 0
    assert re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}\n", capsys.readouterr().out)


def test_create_list_delete(api, capsys) -> None:
    assert (
        main(
            [
                "token",
                "create",
                "abcdef.0123456789abcdef",
                "--ttl",
                "2h",
                "--description",
                "ci",
                "--kubeconfig",
                "/x",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out == "abcdef.0123456789abcdef\n"
    assert (
        api.obj("Secret", "bootstrap-token-abcdef", "kube-system")["type"] == "bootstrap.kubernetes.io/token"
    )
    # the same id again is refused, like upstream's CreateNewTokens
    assert main(["token", "create", "abcdef.0123456789abcdef", "--kubeconfig", "/x"]) == 1
    assert 'a token with id "abcdef" already exists' in capsys.readouterr().err
    assert (
        main(
            [
                "token",
                "create",
                "zyxwvu.0123456789abcdef",
                "--ttl",
                "0",
                "--usages",
                "signing",
                "--groups",
                "",
                "--kubeconfig",
                "/x",
            ]
        )
        == 0
    )
    capsys.readouterr()
    api.put(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": "other", "namespace": "kube-system"},
        }
    )

    assert main(["token", "list", "--kubeconfig", "/x"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == [
        "TOKEN",
        "TTL",
        "EXPIRES",
        "USAGES",
        "DESCRIPTION",
        "EXTRA GROUPS",
    ]
    rows = {line.split()[0]: re.split(r"\s{2,}", line) for line in lines[1:]}
    assert set(rows) == {"abcdef.0123456789abcdef", "zyxwvu.0123456789abcdef"}
    a = rows["abcdef.0123456789abcdef"]
    assert a[1] in ("1h", "2h") and a[3] == "authentication,signing" and a[4] == "ci"
    assert a[5] == "system:bootstrappers:kubeadm:default-node-token"
    assert rows["zyxwvu.0123456789abcdef"][1:] == ["<forever>", "<never>", "signing", "<none>", "<none>"]
    columns = [lines[0].index(h) for h in ("TTL", "EXPIRES", "USAGES")]
    assert all(line[c - 3 : c] == "   " for line in lines for c in columns), "tabwriter padding of 3"

    assert main(["token", "list", "-o", "yaml", "--kubeconfig", "/x"]) == 0
    docs = [d for d in yaml.safe_load_all(capsys.readouterr().out) if d]
    assert {d["token"] for d in docs} == set(rows)
    assert all(
        d["apiVersion"] == "output.kubeadm.k8s.io/v1alpha3" and d["kind"] == "BootstrapToken" for d in docs
    )

    assert main(["token", "delete", "abcdef", "zyxwvu.0123456789abcdef", "--kubeconfig", "/x"]) == 0
    assert capsys.readouterr().out == 'bootstrap token "abcdef" deleted\nbootstrap token "zyxwvu" deleted\n'
    assert api.obj("Secret", "bootstrap-token-abcdef", "kube-system") is None
    assert main(["token", "delete", "abcdef", "--kubeconfig", "/x"]) == 1
    assert 'failed to delete bootstrap token "abcdef"' in capsys.readouterr().err


def test_list_json_one_object_per_token(api, capsys) -> None:
    t = BootstrapToken(TokenString.parse("abcdef.0123456789abcdef"), description="d")
    api.put(t.to_secret())
    assert main(["token", "list", "-o", "json", "--kubeconfig", "/x"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["token"] == "abcdef.0123456789abcdef" and doc["usages"] == ["authentication", "signing"]
    exp = datetime.fromisoformat(doc["expires"].replace("Z", "+00:00"))
    assert timedelta(hours=23) < exp - datetime.now(UTC) <= timedelta(hours=24)


@pytest.mark.parametrize(
    "args,err",
    [
        (["create", "nope"], "the bootstrap token was not of the form"),
        (["create", "--usages", "signing,bogus"], "invalid bootstrap token usage string: bogus"),
        (["create", "--groups", "system:nodes"], 'bootstrap group "system:nodes" is invalid'),
        (
            ["create", "--usages", "signing"],
            'token groups cannot be specified unless --usages includes "authentication"',
        ),
        (["create", "--ttl", "forever"], 'invalid duration "forever"'),
        (["create", "--print-join-command", "--certificate-key", "xyz"], "certificate key"),
        (["delete", "ab"], "given token didn't match pattern"),
        (["list", "-o", "wide"], "--output: unknown format"),
    ],
)
def test_bad_input_is_one_line(api, capsys, args: list[str], err: str) -> None:
    assert main(["token", *args, "--kubeconfig", "/x"]) == 1
    e = capsys.readouterr().err
    assert err in e and e.count("\n") == 1 and "Traceback" not in e
    assert api.mutations() == []


def test_print_join_command(tmp_path, monkeypatch, capsys) -> None:
    from kubeadm_py.tokens.pubkeypin import hash_pem

    env = Env(tmp_path / "root")
    env.root.mkdir(exist_ok=True)
    monkeypatch.setattr(tc, "client_for", lambda path, api: env.api.client())
    conf = str(env.root / "etc/kubernetes/admin.conf")
    assert (
        main(["token", "create", "abcdef.0123456789abcdef", "--print-join-command", "--kubeconfig", conf])
        == 0
    )
    pin = hash_pem(env.files["/etc/kubernetes/pki/ca.crt"])
    endpoint = env.server.removeprefix("https://")
    assert capsys.readouterr().out == (
        f"kubeadm-py join {endpoint} --token abcdef.0123456789abcdef \\\n"
        f"\t--discovery-token-ca-cert-hash {pin}\n"
    )
    assert (
        main(
            ["token", "create", "--print-join-command", "--certificate-key", "ab" * 32, "--kubeconfig", conf]
        )
        == 0
    )
    assert f"--control-plane --certificate-key {'ab' * 32}" in capsys.readouterr().out


def test_unreachable_cluster_is_a_clear_error(tmp_path, monkeypatch, capsys) -> None:
    from kubeadm_py.kube.client import KubeClient, RetryPolicy

    env = Env(tmp_path / "root")  # its admin.conf points at a closed loopback port
    conf = str(env.root / "etc/kubernetes/admin.conf")
    # the real kubeconfig loader and transport, with a shorter backoff than the CLI's default
    monkeypatch.setattr(
        tc,
        "client_for",
        lambda path, api: KubeClient.from_kubeconfig(path, retry=RetryPolicy(2, 0.01, 0.02)),
    )
    assert main(["token", "list", "--kubeconfig", conf]) == 1
    err = capsys.readouterr().err
    assert f"cannot reach the API server at {env.server}: connection refused (after 2 attempts" in err
    assert err.count("\n") == 1


def test_dry_run_create_writes_nothing(tmp_path, capsys) -> None:
    env = Env(tmp_path / "root")
    conf = str(env.root / "etc/kubernetes/admin.conf")
    assert main(["token", "create", "abcdef.0123456789abcdef", "--dry-run", "--kubeconfig", conf]) == 0
    captured = capsys.readouterr()
    assert captured.out == "abcdef.0123456789abcdef\n"
    assert "Secret kube-system/bootstrap-token-abcdef" in captured.err and "<redacted>" in captured.err
    assert "0123456789abcdef" not in captured.err


def test_list_jsonpath_equals_the_expression_on_the_json_output(api, capsys) -> None:
    from tests.unit.cli.jsonpath_check import check

    for raw in ("abcdef.0123456789abcdef", "zyxwvu.0123456789abcdef"):
        api.put(BootstrapToken(TokenString.parse(raw), description=f"for {raw[:6]}").to_secret())

    def run(argv: list[str]) -> str:
        assert main(["token", "list", "--kubeconfig", "/x", *argv]) == 0
        return capsys.readouterr().out

    check(run, [], [".token", ".usages", ".usages[0]", ".description", ".groups[*]"])
    # kubectl's text around the expressions, applied to each token as upstream's printer does
    assert run(["-o", 'jsonpath={.token}{"\\t"}{.description}{"\\n"}']) == (
        "abcdef.0123456789abcdef\tfor abcdef\nzyxwvu.0123456789abcdef\tfor zyxwvu\n"
    )
