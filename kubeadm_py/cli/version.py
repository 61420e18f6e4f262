"""`kubeadm-py version`: no third-party imports, so it can run before typer is loaded."""

from __future__ import annotations

import platform
import sys

from kubeadm_py.constants import VERSION as __version__
from kubeadm_py.errors import KubeadmError


def version_info() -> dict[str, dict[str, str]]:
    major, minor = __version__.split(".")[:2]
    return {
        "clientVersion": {
            "gitVersion": f"v{__version__}",
            "major": major,
            "minor": minor,
            "pythonVersion": platform.python_version(),
            "platform": f"{sys.platform}/{platform.machine()}",
        }
    }


def print_version(output: str = "") -> None:
    info = version_info()
    if output == "":
        print(f"kubeadm-py version: {info['clientVersion']}")
    elif output == "short":
        print(f"v{__version__}")
    elif output == "json":
        import json

        print(json.dumps(info, indent=2))
    elif output == "yaml":
        import yaml

        sys.stdout.write(yaml.safe_dump(info, sort_keys=False))
    else:
        raise KubeadmError(f"--output: unknown format {output!r}", hint="use short, json or yaml")


def fast_version_output(args: list[str]) -> str | None:
    """The -o value when ``args`` is a plain version call (``version``, ``version -o json``,
    ``version --output=yaml``), else None: anything else goes through typer."""
    if not args or args[0] != "version":
        return None
    rest = args[1:]
    if not rest:
        return ""
    if len(rest) == 2 and rest[0] in ("-o", "--output"):
        return rest[1]
    if len(rest) == 1 and rest[0].startswith("--output="):
        return rest[0].split("=", 1)[1]
    if len(rest) == 1 and rest[0].startswith("-o") and len(rest[0]) > 2:
        return rest[0][2:]
    return None
