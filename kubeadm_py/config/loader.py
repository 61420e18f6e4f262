"""Reading multi-document YAML config input into :class:`Document` records.

Input is a file path, ``-`` for standard input, or YAML text (anything containing a newline).
Every problem is a one-line :class:`~kubeadm_py.errors.ConfigError` naming the source, the
document (1-based) and, when known, the kind."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from typing import Any

import yaml

from kubeadm_py.config import limits
from kubeadm_py.errors import ConfigError


@dataclass
class Document:
    index: int  # 1-based position in the stream, counting only non-empty documents
    api_version: str
    kind: str
    body: dict[str, Any]
    source: str

    @property
    def where(self) -> str:
        return f"document {self.index} ({self.kind})" if self.kind else f"document {self.index}"

    def error(self, message: str, field: str | None = None, hint: str | None = None) -> ConfigError:
        return ConfigError(message, source=self.source, document=self.where, field=field, hint=hint)


_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


class JSONLoader(_Base):  # type: ignore[valid-type,misc]
    """SafeLoader that yields only what JSON holds, as Go's YAML-to-JSON decoder does: timestamps
    stay strings, binary, set and ordered-map values are refused (config and patch files)."""


# YAML types with no JSON form: kubeadm's decoder (YAML to JSON) refuses them too.
UNSUPPORTED_TAGS = ("binary", "set", "omap", "pairs")


def _unsupported(loader: JSONLoader, node: yaml.Node) -> Any:
    raise yaml.constructor.ConstructorError(
        problem=f"the YAML type {node.tag.replace('tag:yaml.org,2002:', '!!')} is not supported "
        "(use a string, number, boolean, list or mapping)",
        problem_mark=node.start_mark,
    )


for _tag in UNSUPPORTED_TAGS:
    JSONLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _unsupported)


class _StrictLoader(JSONLoader):
    """JSONLoader that rejects duplicate keys (kubeadm decodes configuration strictly)."""


JSONLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class DuplicateKeyError(yaml.MarkedYAMLError):
    pass


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:
            duplicate = False
        if duplicate:
            raise DuplicateKeyError(problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark)
        with contextlib.suppress(TypeError):
            seen.add(key)
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=deep)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def is_text(config: str) -> bool:
    return "\n" in config


def read_source(config: str) -> tuple[str, str]:
    """Return ``(source name, text)`` for a path, ``-`` or inline YAML text."""
    if config == "-":
        return "<stdin>", _read_stdin()
    if is_text(config):
        return "<text>", config
    if not config:
        raise ConfigError("no configuration file given")
    if os.path.isdir(config):
        raise ConfigError("is a directory, expected a kubeadm configuration file", source=config)
    try:
        with open(config, "rb") as fh:
            raw = limits.read_bounded(fh, config)
    except FileNotFoundError:
        raise ConfigError("no such file", source=config) from None
    except PermissionError:
        raise ConfigError("permission denied", source=config) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", source=config) from None
    return config, _decode(raw, config)


def _read_stdin() -> str:
    """Standard input as bytes (binary data is refused, not mangled); a text stream put in its
    place by an embedding program is read as text, with the same limit."""
    binary = getattr(sys.stdin, "buffer", None)
    if binary is not None:
        return _decode(limits.read_bounded(binary, "<stdin>"), "<stdin>")
    text = str(sys.stdin.read(limits.LIMITS["file_bytes"] + 1))
    limits.check_text(text, "<stdin>")
    return text


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not a text file (expected UTF-8 YAML)", source=source) from None


def yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}not valid YAML: {problem}"


def parse_documents(text: str, source: str) -> list[Document]:
    """Split and parse the YAML stream; skip empty documents; require apiVersion and kind."""
    limits.check_text(text, source)
    if not text.strip():
        raise ConfigError("empty configuration: no YAML documents found", source=source)
    raw_docs: list[Any] = []
    try:
        for data in yaml.load_all(text, Loader=_StrictLoader):
            limits.check_values(data, source, f"document {len(raw_docs) + 1}")
            raw_docs.append(data)
    except yaml.YAMLError as exc:
        where = f"document {len(raw_docs) + 1}"
        raise ConfigError(yaml_problem(exc), source=source, document=where) from None
    docs: list[Document] = []
    for data in raw_docs:
        if data is None:
            continue
        index = len(docs) + 1
        if not isinstance(data, dict):
            got = type(data).__name__.replace("str", "a string").replace("list", "a list")
            raise ConfigError(
                f"expected a mapping with apiVersion and kind, got {got}",
                source=source,
                document=f"document {index}",
                hint="a kubeadm configuration file is YAML documents separated by '---'",
            )
        kind = data.get("kind")
        api = data.get("apiVersion")
        doc_name = f"document {index} ({kind})" if isinstance(kind, str) and kind else f"document {index}"
        for key, value in (("apiVersion", api), ("kind", kind)):
            if not isinstance(value, str) or not value:
                raise ConfigError(
                    f"missing {key}" if value is None else f"{key} must be a non-empty string",
                    source=source,
                    document=doc_name,
                    field=key,
                    hint="every document needs apiVersion (e.g. kubeadm.k8s.io/v1beta4) and kind",
                )
        docs.append(Document(index, str(api), str(kind), data, source))
    if not docs:
        raise ConfigError("empty configuration: no YAML documents found", source=source)
    return docs


def load(config: str) -> list[Document]:
    source, text = read_source(config)
    return parse_documents(text, source)
