"""YAML as Go's ``sigs.k8s.io/yaml`` (go-yaml v2) writes it, for everything kubeadm serialises with
it: static Pod manifests, the kubelet's config.yaml, component configs in ConfigMaps, the
cluster-info kubeconfig. Map keys sorted, block style, strings plain when go-yaml would leave them
plain and double-quoted otherwise (``name: ""``, ``cluster-service: "true"``), multi-line strings
as literal blocks."""

from __future__ import annotations

from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    pass


def _str_repr(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    """Plain when possible, else double-quoted, as go-yaml v2 (sigs.k8s.io/yaml) emits strings."""
    style = None
    tag = dumper.resolve(yaml.ScalarNode, data, (True, False))  # type: ignore[no-untyped-call]
    if "\n" in data:
        style = "|"
    elif data == "" or tag != "tag:yaml.org,2002:str" or not dumper.analyze_scalar(data).allow_block_plain:
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_repr)


def dump(obj: Any) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=True, default_flow_style=False, width=1 << 30)
