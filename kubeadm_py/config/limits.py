"""Limits on what kubeadm-py reads from configuration and patch files (docs/config-reference.md,
"Input limits"), so hostile or broken input is refused in one line, in bounded time and memory,
before anything works on it.

Why these values: the whole configuration is uploaded as the ``kubeadm-config`` ConfigMap, and
the API server refuses an object over 1 MiB, so a larger configuration could never work; a
patch file patches one static Pod manifest, which is far smaller. The longest real values (a
PEM bundle, a long ``--tls-cipher-suites`` or admission-plugin list) are a few KiB, hence 64 KiB
per scalar; ``certSANs`` of a large fleet are a few hundred names, hence 10,000 items per list.
The node limit bounds the work of YAML aliases (``*a`` repeated is shared once in memory but
walked, defaulted and serialized once per use, a "billion laughs")."""

from __future__ import annotations

from typing import IO, Any

from kubeadm_py.errors import ConfigError

LIMITS = {
    "file_bytes": 1024 * 1024,  # one configuration or patch file (or --config - / inline text)
    "scalar_chars": 64 * 1024,  # one string value or key
    "list_items": 10_000,  # one list (certSANs, extraArgs, ...)
    "nodes": 200_000,  # values in one file, aliases counted at each use
}


def _size(n: int) -> str:
    return f"{n // 1024 // 1024} MiB" if n >= 1024 * 1024 else f"{n // 1024} KiB"


def read_bounded(fh: IO[bytes], source: str) -> bytes:
    """At most ``file_bytes`` of ``fh``; a longer input is refused without reading the rest."""
    limit = LIMITS["file_bytes"]
    raw = fh.read(limit + 1)
    if len(raw) > limit:
        raise ConfigError(f"larger than the {_size(limit)} limit for a file", source=source)
    return raw


def check_text(text: str, source: str) -> None:
    """The file limit for input already in memory (inline YAML text)."""
    if len(text) > LIMITS["file_bytes"]:
        raise ConfigError(f"larger than the {_size(LIMITS['file_bytes'])} limit for a file", source=source)


def check_values(data: Any, source: str, document: str | None = None) -> None:
    """Refuses a scalar, list or value count over its limit (names the field path)."""
    budget = [LIMITS["nodes"]]

    def fail(message: str, path: str) -> ConfigError:
        return ConfigError(message, source=source, document=document, field=path or None)

    def walk(node: Any, path: str) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise fail(f"more than {LIMITS['nodes']:,} values (YAML aliases count at each use)", "")
        if isinstance(node, str | bytes) and len(node) > LIMITS["scalar_chars"]:
            limit = _size(LIMITS["scalar_chars"])
            raise fail(f"a value of {len(node):,} characters: the limit is {limit}", path)
        if isinstance(node, list):
            if len(node) > LIMITS["list_items"]:
                raise fail(f"a list of {len(node):,} items: the limit is {LIMITS['list_items']:,}", path)
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(key, path)
                walk(value, f"{path}.{key}" if path else str(key))

    walk(data, "")
