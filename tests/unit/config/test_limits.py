"""Input limits (docs/config-reference.md, "Input limits"): an oversized file is refused after
reading at most one byte past the limit; scalars, lists and alias expansion are bounded; patch
files obey the same limits and YAML types."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kubeadm_py.config import limits, loader
from kubeadm_py.errors import ConfigError, KubeadmError
from kubeadm_py.patches import load_patches

HEAD = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"


class EndlessStream(io.RawIOBase):
    """An input that never ends (``--config /dev/zero``, a pipe that keeps writing); counts reads."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        n = len(buf)
        buf[:n] = b"a" * n
        self.served += n
        return n


def test_an_endless_input_is_read_only_to_the_limit() -> None:
    stream = EndlessStream()
    with pytest.raises(ConfigError, match=r"^<stdin>: larger than the 1 MiB limit for a file$"):
        limits.read_bounded(io.BufferedReader(stream), "<stdin>")
    assert stream.served <= limits.LIMITS["file_bytes"] + io.DEFAULT_BUFFER_SIZE


def test_inline_text_over_the_limit() -> None:
    with pytest.raises(ConfigError, match="<text>: larger than the 1 MiB limit"):
        loader.load(HEAD + "clusterName: " + "a" * limits.LIMITS["file_bytes"] + "\n")


def test_values_at_the_limits_are_accepted() -> None:
    sans = ",".join(["a"] * limits.LIMITS["list_items"])
    name = "a" * limits.LIMITS["scalar_chars"]
    text = HEAD + f"clusterName: {name}\napiServer:\n  certSANs: [{sans}]\n"
    (doc,) = loader.parse_documents(text, "c.yaml")
    assert len(doc.body["apiServer"]["certSANs"]) == limits.LIMITS["list_items"]


def test_a_long_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="64 KiB"):
        loader.parse_documents(HEAD + "? " + "k" * (limits.LIMITS["scalar_chars"] + 1) + "\n: 1\n", "c.yaml")


def test_alias_expansion_is_bounded() -> None:
    """Nine levels of ten aliases each: 10**9 values once expanded, refused after the budget."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    with pytest.raises(ConfigError, match=r"c\.yaml: document 1: more than 200,000 values"):
        loader.parse_documents(HEAD + "\n".join(lines) + "\n", "c.yaml")


def test_unsupported_yaml_types_name_the_line() -> None:
    for tag, value in (("omap", "[{a: 1}]"), ("pairs", "[{a: 1}]")):
        with pytest.raises(ConfigError, match=rf"line 3, column 14: not valid YAML: the YAML type !!{tag}"):
            loader.parse_documents(HEAD + f"clusterName: !!{tag} {value}\n", "c.yaml")


def _patch_dir(tmp_path: Path, content: bytes) -> Path:
    d = tmp_path / "patches"
    d.mkdir()
    (d / "kube-apiserver+merge.yaml").write_bytes(content)
    return d


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"spec:\n  x: " + b"a" * (2 << 20) + b"\n", "larger than the 1 MiB limit for a file"),
        (b"spec:\n  x: " + b"a" * (limits.LIMITS["scalar_chars"] + 1) + b"\n", "spec.x: a value of 65,537"),
        (b"spec:\n  x: !!binary aGVsbG8=\n", "line 2, column 6: not valid YAML: the YAML type !!binary"),
        (b"\xff\xfe\x00\n", "not a text file"),
    ],
    ids=["file-size", "scalar", "binary-tag", "binary-data"],
)
def test_patch_files_are_bounded(tmp_path: Path, content: bytes, message: str) -> None:
    d = _patch_dir(tmp_path, content)
    with pytest.raises(KubeadmError) as exc:
        load_patches(d)
    text = str(exc.value)
    assert text.startswith(f"patch file {d}/kube-apiserver+merge.yaml: ") and "\n" not in text
    assert message in text
