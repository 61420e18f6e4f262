"""The user lists the static Pods take (``extraEnvs``, ``extraVolumes``): checked entry by entry,
each error naming its field."""

from __future__ import annotations

from typing import Any

import pytest

from kubeadm_py.errors import ConfigError
from kubeadm_py.manifests.pod import env_from_config
from kubeadm_py.manifests.volumes import extra_volumes

F = "ClusterConfiguration.apiServer.extraVolumes"
VOL = {"name": "v", "hostPath": "/h", "mountPath": "/m"}


def _error(fn: Any, items: Any, field: str) -> tuple[str, str | None]:
    """(the message without its field prefix, the field)."""
    with pytest.raises(ConfigError) as e:
        fn(items, field)
    where = e.value.field or ""
    assert e.value.message.startswith(f"{where}: ")
    return e.value.message.removeprefix(f"{where}: "), where


def test_unset_lists_are_empty_and_entries_are_kept() -> None:
    assert env_from_config(None, "f") == [] and extra_volumes([], F) == []
    env = [{"name": "A", "value": "1"}]
    got = env_from_config(env, "f")
    assert got == env and got[0] is not env[0]  # copies
    assert extra_volumes([VOL], F) == [VOL]


@pytest.mark.parametrize(
    ("items", "want"),
    [
        ({"A": "1"}, ("must be a list of {name, value} environment variables", "f")),
        ([{"name": "A"}, {"value": "1"}], ("each entry needs a non-empty 'name'", "f[1]")),
        (["A=1"], ("each entry needs a non-empty 'name'", "f[0]")),
    ],
)
def test_env_errors(items: Any, want: tuple[str, str]) -> None:
    assert _error(env_from_config, items, "f") == want


@pytest.mark.parametrize(
    ("items", "want"),
    [
        ("v", ("must be a list of {name, hostPath, mountPath, readOnly, pathType}", F)),
        ([VOL, {"hostPath": "/h"}], ("each extra volume needs a non-empty 'name'", f"{F}[1]")),
        # the first entry's own problems come before the next entry's missing name
        (
            [{**VOL, "hostPath": "h"}, {}],
            ("hostPath 'h' of extra volume 'v' must be an absolute path", f"{F}[0].hostPath"),
        ),
        ([{**VOL, "pathType": "Fifo"}], ("unknown pathType 'Fifo'", f"{F}[0].pathType")),
    ],
)
def test_volume_errors(items: Any, want: tuple[str, str]) -> None:
    assert _error(extra_volumes, items, F) == want
