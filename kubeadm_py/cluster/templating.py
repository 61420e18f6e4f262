"""Rendering upstream's YAML templates: ``{{ .Name }}`` placeholders, then parse to dicts."""

from __future__ import annotations

import re
from typing import Any

import yaml

from kubeadm_py.errors import KubeadmError

_PLACEHOLDER = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")


def render(template: str, values: dict[str, Any]) -> str:
    def sub(m: re.Match[str]) -> str:
        try:
            return str(values[m.group(1)])
        except KeyError:
            raise KubeadmError(f"internal: template value {m.group(1)!r} missing") from None

    return _PLACEHOLDER.sub(sub, template)


def load(template: str, values: dict[str, Any]) -> dict[str, Any]:
    doc = yaml.safe_load(render(template, values))
    if not isinstance(doc, dict):
        raise KubeadmError("internal: template did not render to an object")
    return doc


def indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())
