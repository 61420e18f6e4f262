"""Fast accept path for JSON Schema validation.

Every kubeadm-py command that reads a config validates it, and importing ``jsonschema`` (with
``referencing``, ``attrs`` and its format checkers) costs 60-100 ms per process, a third of a whole
``init phase certs all``. Most configs are valid, so validation runs in two steps:

1. a validator generated from the same schema by ``fastjsonschema`` (a well-kept code generator for
   JSON Schema) answers "valid" or "not valid";
2. only when it says "not valid", or cannot be used, does :mod:`kubeadm_py.config.validation` run
   ``jsonschema`` as before, which finds every problem and words the errors.

So the errors users see are unchanged, and a document this path accepts is one ``jsonschema``
accepts: our schemas use only keywords whose meaning is the same in draft-07 (what fastjsonschema
implements) and 2020-12 (what the schemas declare); a schema with any other keyword gets no fast path
(:func:`unsupported_keywords`), and a unit test compares both validators on valid documents and on
mutations of them.

Generating a validator costs about as much as importing ``jsonschema``, so the generated code is
compiled once per schema and cached as a marshalled code object, like ``.pyc`` files, under
:func:`cache_dir` (``$KUBEADM_PY_CACHE_DIR``, else ``/var/cache/kubeadm-py`` for root, else
``$XDG_CACHE_HOME/kubeadm-py`` or ``~/.cache/kubeadm-py``). A cache file is keyed by the schema's
digest and the interpreter's cache tag, written atomically, and only loaded when it and its
directory belong to the current user and are not writable by others (it is code). When the cache
cannot be written the validator is compiled in memory. The generated code runs with its
``fastjsonschema`` import replaced by local exception classes (and ``decimal.Decimal``, only used
in ``isinstance`` checks, by a class without instances), so a warm start imports neither.
"""

from __future__ import annotations

import functools
import hashlib
import json
import marshal
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubeadm_py.config.formats import FORMATS

CACHE_FORMAT = "3"
# Keywords with the same meaning in draft-07 and 2020-12 (and implemented by fastjsonschema).
SUPPORTED_KEYWORDS = frozenset(
    {
        "$defs", "$id", "$ref", "$schema", "additionalProperties", "anyOf", "const", "enum",
        "format", "items", "maximum", "minLength", "minimum", "pattern", "properties", "required",
        "title", "description", "type",
    }
)  # fmt: skip
_IMPORT_LINE = "from fastjsonschema import JsonSchemaValueException, JsonSchemaValuesException"
# Only used in isinstance() checks of minimum/maximum (multipleOf is not a supported keyword) and
# parsed YAML holds no Decimal, so a class without instances stands in (importing decimal: ~5 ms).
_DECIMAL_LINE = "from decimal import Decimal"
_DRAFT_07 = "http://json-schema.org/draft-07/schema#"

Validate = Callable[[Any], bool]


class _Invalid(Exception):
    """Raised by the generated code for an invalid document (replaces fastjsonschema's exceptions)."""

    def __init__(self, message: str = "", **_: Any) -> None:
        super().__init__(message)


class _NoDecimal:
    """Stands in for decimal.Decimal in generated code: parsed YAML and JSON never hold one."""


def _format_check(check: Callable[[str], str | None]) -> Callable[[Any], bool]:
    return lambda value: not isinstance(value, str) or check(value) is None


CUSTOM_FORMATS = {name: _format_check(check) for name, check in FORMATS.items()}


def unsupported_keywords(schema: dict[str, Any]) -> set[str]:
    """Keywords of ``schema`` (at any depth) outside :data:`SUPPORTED_KEYWORDS`."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        found.update(k for k in node if k not in SUPPORTED_KEYWORDS)
        for key in ("properties", "$defs"):
            for sub in (node.get(key) or {}).values():
                walk(sub)
        for key in ("items", "additionalProperties"):
            walk(node.get(key))
        for sub in node.get("anyOf") or ():
            walk(sub)

    walk(schema)
    return found


def cache_dir() -> Path:
    env = os.environ.get("KUBEADM_PY_CACHE_DIR")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/cache/kubeadm-py")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kubeadm-py"


def _trusted(path: Path) -> bool:
    """Owned by us and not writable by group or others (the file is executed)."""
    try:
        st = path.stat()
    except OSError:
        return False
    return st.st_uid == os.geteuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _generate(schema: dict[str, Any]) -> str | None:
    """Python source of a validator for ``schema``, or None when fastjsonschema cannot make one."""
    try:
        import fastjsonschema
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    draft07 = dict(schema, **{"$schema": _DRAFT_07})
    try:
        code: str = fastjsonschema.compile_to_code(draft07, formats=CUSTOM_FORMATS)
    except fastjsonschema.JsonSchemaDefinitionException:
        return None
    # The root schema's function is the first one generated; expose it as ``validate``.
    root = re.search(r"^def (validate\w*)\(data, custom_formats=", code, re.M)
    if _IMPORT_LINE not in code or _DECIMAL_LINE not in code or root is None:
        return None  # generator output we have not checked: no fast path
    code = code.replace(_IMPORT_LINE, "").replace(_DECIMAL_LINE, "")
    return code + f"\n\nvalidate = {root.group(1)}\n"


def _store(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        if not _trusted(path.parent):
            return
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass  # read-only or foreign cache: the validator still works, compiled in memory


def _code_for(name: str, schema_bytes: bytes, schema: dict[str, Any]) -> Any:
    digest = hashlib.sha256(schema_bytes).hexdigest()[:20]
    tag = sys.implementation.cache_tag or "python"
    path = cache_dir() / f"{name.removesuffix('.json')}-{digest}-{tag}-v{CACHE_FORMAT}.marshal"
    if _trusted(path) and _trusted(path.parent):
        try:
            return marshal.loads(path.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            pass  # unreadable or from another interpreter build: regenerate
    source = _generate(schema)
    if source is None:
        return None
    code = compile(source, f"<fastjsonschema validator for {name}>", "exec")
    _store(path, marshal.dumps(code))
    return code


@functools.cache
def validator(api_version: str, kind: str) -> Validate | None:
    """A function telling whether a document is valid against the schema of (apiVersion, kind);
    None when there is no schema or no fast validator for it."""
    from kubeadm_py.config.schemagen import SCHEMA_DIR, schema_file_name

    name = schema_file_name(api_version, kind)
    try:
        raw = (SCHEMA_DIR / name).read_bytes()
    except OSError:
        return None
    schema = json.loads(raw)
    if unsupported_keywords(schema):
        return None
    code = _code_for(name, raw, schema)
    if code is None:
        return None
    namespace: dict[str, Any] = {
        "__name__": f"kubeadm_py.config.fastcheck.<{name}>",
        "JsonSchemaValueException": _Invalid,
        "JsonSchemaValuesException": _Invalid,
        "Decimal": _NoDecimal,
    }
    exec(code, namespace)  # noqa: S102 - code generated from our own schema (see _trusted)
    validate = namespace["validate"]

    def is_valid(body: Any) -> bool:
        try:
            validate(body, custom_formats=CUSTOM_FORMATS)
        except _Invalid:
            return False
        return True

    return is_valid


def known_valid(api_version: str, kind: str, body: Any) -> bool:
    """True when the fast validator accepts ``body``; False means "run jsonschema" (not "invalid")."""
    if os.environ.get("KUBEADM_PY_SLOW_VALIDATION"):
        return False
    check = validator(api_version, kind)
    if check is None:
        return False
    try:
        return check(body)
    except Exception:  # noqa: BLE001 - any surprise in generated code: let jsonschema decide
        return False


def warm_all() -> int:
    """Generate and cache the validator of every shipped schema (``install.sh`` runs this, like
    compiling bytecode at install time); returns how many have a fast validator."""
    from kubeadm_py.config.schemagen import SCHEMA_DIR

    count = 0
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        group_version, kind = path.stem.rsplit("_", 1)
        count += validator("/".join(group_version.rsplit("_", 1)), kind) is not None
    return count


if __name__ == "__main__":  # python -m kubeadm_py.config.fastcheck
    print(f"config validators cached in {cache_dir()}: {warm_all()}")
