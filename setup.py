"""Build step: generate the CRI ``runtime.v1`` protobuf modules from the kept ``api.proto``
(kubeadm_py/host/criapi/SOURCE.md) with grpcio-tools (a build requirement, pyproject.toml).

``build_py`` runs for ``pip install .``, ``pip install -e .`` (both editable modes) and
``./install.sh``; it writes ``api_pb2.py`` and its typed stub ``api_pb2.pyi`` next to the proto
in the source tree (git-ignored), from where the wheel or the editable path picks them up. Every
other setting is in pyproject.toml."""

from __future__ import annotations

import os

from setuptools import Command, setup
from setuptools.command.build_py import build_py

PROTO = "kubeadm_py/host/criapi/api.proto"
HERE = os.path.dirname(os.path.abspath(__file__))


def generate_cri() -> None:
    out = os.path.join(HERE, os.path.dirname(PROTO), "api_pb2.py")
    src = os.path.join(HERE, PROTO)
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
        return
    from grpc_tools import protoc  # build requirement

    # -I is the project root: the descriptor is registered as "kubeadm_py/host/criapi/api.proto",
    # a name no other package's api.proto collides with in the default descriptor pool.
    rc = protoc.main(["grpc_tools.protoc", f"-I{HERE}", f"--python_out={HERE}", f"--pyi_out={HERE}", src])
    if rc != 0:
        raise SystemExit(f"protoc failed on {PROTO} (exit {rc})")


class BuildPy(build_py):
    def run(self) -> None:
        generate_cri()
        super().run()


class GenCri(Command):
    description = "generate the CRI runtime.v1 protobuf modules"
    user_options: list[tuple[str, str | None, str]] = []

    def initialize_options(self) -> None:
        pass

    def finalize_options(self) -> None:
        pass

    def run(self) -> None:
        generate_cri()


setup(cmdclass={"build_py": BuildPy, "gen_cri": GenCri})
