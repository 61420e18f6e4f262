"""Run options: flag values from the CLI or an embedding program become a typed RunOptions."""

from __future__ import annotations

import pytest

from kubeadm_py import api
from kubeadm_py.errors import KubeadmError
from kubeadm_py.options import config_overrides, run_options


def test_names_by_flag_or_parameter_and_coercion() -> None:
    o = run_options(
        {
            "cert-dir": "/x",
            "upload_certs": "true",
            "skip-phases": "certs, kubeconfig/admin",
            "apiserver-bind-port": "6444",
            "discovery-token-ca-cert-hash": ["sha256:a", "sha256:b"],
            "force": False,
        }
    )
    assert o.cert_dir == "/x" and o.upload_certs is True and o.force is False
    assert o.skip_phases == ["certs", "kubeconfig/admin"]
    assert o.apiserver_bind_port == 6444
    assert o.discovery_token_ca_cert_hash == ["sha256:a", "sha256:b"]
    assert o.dry_run is None  # not given


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"apiserver-advertise-adress": "10.0.0.1"}, "unknown option 'apiserver-advertise-adress' (did you mean 'apiserver-advertise-address'?)"),  # noqa: E501
        ({"upload-certs": "maybe"}, "option upload-certs: 'maybe' is not a boolean (true or false)"),
        ({"apiserver-bind-port": "64k"}, "option apiserver-bind-port: '64k' is not a whole number"),
    ],
)
def test_bad_options_are_one_line_errors(values: dict[str, object], message: str) -> None:
    with pytest.raises(KubeadmError) as exc:
        run_options(values)
    assert str(exc.value) == message


def test_library_refuses_an_unknown_option_before_doing_anything(tmp_path) -> None:
    with pytest.raises(KubeadmError, match="did you mean 'apiserver-advertise-address'"):
        api.run("init", rootfs=str(tmp_path), options={"apiserver-advertise-adress": "10.0.0.1"})
    assert list(tmp_path.iterdir()) == []


def test_config_overrides_from_typed_options() -> None:
    o = run_options({"service-cidr": "10.1.0.0/16", "feature-gates": "A=true,B=false", "dry-run": True})
    assert config_overrides(o) == {
        "cluster.networking.serviceSubnet": "10.1.0.0/16",
        "cluster.featureGates": {"A": True, "B": False},
    }
