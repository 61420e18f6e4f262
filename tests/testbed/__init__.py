"""Kubernetes v1.20.2 test bed for kubeadm-py integration tests.

Build the cache once (root): ``bash testbed/build.sh``. Then::

    from tests.testbed import Node, Network, skip_reason

    with Network() as net, Node("cp1", network=net) as node:
        node.supervise_kubelet()              # start kubelet when kubeadm writes its config
        node.run(["kubeadm", "init", "--config", cfg, "--ignore-preflight-errors=all"], timeout=400)
        node.wait_for_apiserver()
        node.kubectl("get", "nodes")

See ``tests/testbed/fixtures.py`` for the pytest fixtures.
"""
from .cache import bin_path, cache_dir, image_archives, image_ref, skip_reason
from .network import Network
from .node import Node, NodeCommandError

__all__ = ["Network", "Node", "NodeCommandError", "bin_path", "cache_dir", "image_archives", "image_ref",
           "skip_reason"]
