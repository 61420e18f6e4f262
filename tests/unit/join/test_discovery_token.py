"""Token discovery: JWS, CA pins, verified re-fetch, retries, failures."""

from __future__ import annotations

import pytest

from kubeadm_py.discovery.token import DiscoveryError, retrieve_validated
from kubeadm_py.effectors.discovery import FetchError
from kubeadm_py.errors import KubeadmError

from .conftest import (
    ENDPOINT,
    SERVER,
    TOKEN,
    FakeClock,
    FakeFetcher,
    cluster_info,
    cluster_info_kubeconfig,
    make_ca,
    pin,
)


@pytest.fixture(scope="module")
def ca() -> bytes:
    return make_ca()[0]


@pytest.fixture(scope="module")
def other_ca() -> bytes:
    return make_ca("evil")[0]


def run(
    fetcher: FakeFetcher,
    pins: list[str],
    unsafe: bool = False,
    token: str = TOKEN,
    timeout: float = 30.0,
    logs: list[str] | None = None,
    clock: FakeClock | None = None,
):  # noqa: ANN201
    return retrieve_validated(
        fetcher,
        ENDPOINT,
        token,
        pins,
        unsafe,
        timeout=timeout,
        interval=5.0,
        log=(logs.append if logs is not None else lambda m: None),
        clock=clock or FakeClock(),
    )


def test_valid_discovery_trusts_ca_and_refetches_verified(ca: bytes) -> None:
    f = FakeFetcher(ca, [cluster_info(cluster_info_kubeconfig(ca))])
    entry = run(f, [pin(ca)])
    assert entry.server == SERVER and entry.ca_pem == ca and not entry.insecure
    # first read without TLS verification, the second verified against the pinned CA
    assert [c[1] for c in f.calls] == [None, ca]
    assert all(c[0] == SERVER for c in f.calls)


def test_wrong_pin_is_refused_before_trusting(ca: bytes, other_ca: bytes) -> None:
    f = FakeFetcher(ca, [cluster_info(cluster_info_kubeconfig(ca))])
    with pytest.raises(
        DiscoveryError, match="cluster CA found in cluster-info ConfigMap is invalid: none of"
    ):
        run(f, [pin(other_ca)])
    assert len(f.calls) == 1  # never connected with the unverified CA as trusted


def test_any_of_several_pins_matches(ca: bytes, other_ca: bytes) -> None:
    f = FakeFetcher(ca, [cluster_info(cluster_info_kubeconfig(ca))])
    assert run(f, [pin(other_ca), pin(ca).upper().replace("SHA256", "sha256")]).ca_pem == ca


def test_invalid_pin_format(ca: bytes) -> None:
    f = FakeFetcher(ca, [cluster_info(cluster_info_kubeconfig(ca))])
    with pytest.raises(DiscoveryError, match="invalid discovery token CA certificate hash"):
        run(f, ["sha256:abcd"])
    with pytest.raises(DiscoveryError, match="Known format"):
        run(f, ["md5:" + "0" * 32])
    assert f.calls == []


def test_tampered_cluster_info_fails_signature(ca: bytes, other_ca: bytes) -> None:
    good = cluster_info(cluster_info_kubeconfig(ca))
    # a man in the middle swaps in his own CA but cannot re-sign without the token secret
    tampered = dict(good, data=dict(good["data"], kubeconfig=cluster_info_kubeconfig(other_ca)))
    f = FakeFetcher(other_ca, [tampered])
    with pytest.raises(DiscoveryError, match="failed to verify JWS signature"):
        run(f, [pin(ca)])
    # appending to the signature must fail too
    suffixed = dict(
        good,
        data=dict(good["data"], **{"jws-kubeconfig-abcdef": good["data"]["jws-kubeconfig-abcdef"] + "x"}),
    )
    with pytest.raises(DiscoveryError, match="failed to verify JWS signature"):
        run(FakeFetcher(ca, [suffixed]), [pin(ca)])


def test_signature_with_another_token_is_rejected(ca: bytes) -> None:
    cm = cluster_info(cluster_info_kubeconfig(ca), tokens=("abcdef.ffffffffffffffff",))
    with pytest.raises(DiscoveryError, match="failed to verify JWS signature"):
        run(FakeFetcher(ca, [cm]), [pin(ca)])


def test_missing_signature_then_appearing_is_retried(ca: bytes) -> None:
    content = cluster_info_kubeconfig(ca)
    unsigned = cluster_info(content, signed=False)
    f = FakeFetcher(ca, [unsigned, unsigned, cluster_info(content)])
    clock, logs = FakeClock(), []
    entry = run(f, [pin(ca)], clock=clock, logs=logs)
    assert entry.ca_pem == ca
    assert clock.sleeps == [5.0, 5.0]  # polled every discovery interval
    assert any("could not find a JWS signature" in m and "retrying" in m for m in logs)


def test_deleted_or_expired_token_times_out_with_clear_error(ca: bytes) -> None:
    f = FakeFetcher(ca, [cluster_info(cluster_info_kubeconfig(ca), signed=False)])
    clock = FakeClock()
    with pytest.raises(DiscoveryError) as e:
        run(f, [pin(ca)], timeout=20.0, clock=clock)
    assert 'token id "abcdef" is invalid for this cluster or it has expired' in str(e.value)
    assert "token create" in str(e.value)
    assert clock.t == pytest.approx(20.0)  # bounded by the discovery timeout


def test_bad_token_format_fails_immediately(ca: bytes) -> None:
    f = FakeFetcher(ca, [cluster_info(cluster_info_kubeconfig(ca))])
    for bad in ("abcdef0123456789abcdef", "ABCDEF.0123456789abcdef", "abcdef.0123"):
        with pytest.raises(DiscoveryError, match="was not of the form"):
            run(f, [pin(ca)], token=bad)
    assert f.calls == []


def test_unsafe_skip_warns_loudly_and_returns_unverified(ca: bytes) -> None:
    f = FakeFetcher(ca, [cluster_info(cluster_info_kubeconfig(ca))])
    logs: list[str] = []
    entry = run(f, [], unsafe=True, logs=logs)
    assert entry.insecure and entry.ca_pem == ca
    assert any("WARNING" in m and "NOT verified" in m for m in logs)
    assert len(f.calls) == 1


def test_no_pin_and_no_unsafe_is_refused(ca: bytes) -> None:
    with pytest.raises(DiscoveryError, match="needs --discovery-token-ca-cert-hash"):
        run(FakeFetcher(ca, [None]), [])


def test_second_read_must_be_identical(ca: bytes) -> None:
    first = cluster_info(cluster_info_kubeconfig(ca))
    second = cluster_info(cluster_info_kubeconfig(ca, server="https://10.9.9.9:6443"))
    with pytest.raises(DiscoveryError, match="was different from the first"):
        run(FakeFetcher(ca, [first, second]), [pin(ca)])


def test_server_with_another_certificate_fails_verified_read(ca: bytes, other_ca: bytes) -> None:
    # cluster-info signed and pinned fine, but the server's TLS certificate is not from that CA
    f = FakeFetcher(other_ca, [cluster_info(cluster_info_kubeconfig(ca))])
    with pytest.raises(DiscoveryError, match="TLS certificate verification failed"):
        run(f, [pin(ca)], timeout=10.0)


def test_unreachable_endpoint_is_bounded(ca: bytes) -> None:
    clock = FakeClock()
    f = FakeFetcher(ca, [FetchError("connection refused")])
    with pytest.raises(KubeadmError) as e:
        run(f, [pin(ca)], timeout=15.0, clock=clock)
    assert "couldn't validate the identity of the API server at https://10.0.0.1:6443" in str(e.value)
    assert "connection refused" in str(e.value)
    assert clock.t == pytest.approx(15.0)


def test_cluster_info_without_kubeconfig_key(ca: bytes) -> None:
    cm = cluster_info(cluster_info_kubeconfig(ca))
    cm["data"]["kubeconfig"] = ""
    with pytest.raises(DiscoveryError, match="no kubeconfig key"):
        run(FakeFetcher(ca, [cm]), [pin(ca)])
