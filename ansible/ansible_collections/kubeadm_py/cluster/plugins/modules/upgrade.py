#!/usr/bin/python
# Copyright: kubeadm-py contributors
# Apache License 2.0 (see the LICENSE of kubeadm-py)
from __future__ import annotations

DOCUMENTATION = r"""
module: upgrade
short_description: Upgrade a node with kubeadm-py (upgrade apply or upgrade node)
description:
  - O(mode=apply) runs C(kubeadm-py upgrade apply VERSION) on the first control plane (the control plane and the cluster-wide objects; with O(config), a configuration-only change at the current version).
  - O(mode=node) runs C(kubeadm-py upgrade node) on the other nodes (another control plane's static Pods, then the kubelet configuration; on a worker only the kubelet configuration, read with C(/etc/kubernetes/kubelet.conf) unless O(options) names a C(kubeconfig), and the addon phase skipped).
version_added: 0.1.0
options:
  mode:
    description: C(apply) on the first control plane, C(node) on the others.
    type: str
    choices: [apply, node]
    default: node
  version:
    description: The Kubernetes version to upgrade to (O(mode=apply)); the version the cluster runs for a configuration-only change.
    type: str
  upgrade_timeout:
    description: How long to wait for each upgraded static Pod (a Go duration such as C(5m)).
    type: str
extends_documentation_fragment:
  - kubeadm_py.cluster.workflow
author:
  - kubeadm-py contributors
"""

EXAMPLES = r"""
- name: Change the control plane's configuration (same version)
  kubeadm_py.cluster.upgrade:
    mode: apply
    version: v1.31.14
    config: /etc/kubeadm-py/cluster.yaml

- name: Follow on the other nodes
  kubeadm_py.cluster.upgrade:
    mode: node
"""

RETURN = r"""
outputs:
  description: C(version), C(previous_version), C(upgraded) and C(unchanged) components, C(backup_dir), C(etcd_snapshot), messages.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeadm_py.cluster.plugins.module_utils import report as r


def main():
    spec = dict(r.COMMON_ARGS)
    spec.update(
        mode={"type": "str", "choices": ["apply", "node"], "default": "node"},
        version={"type": "str"},
        upgrade_timeout={"type": "str"},
    )
    module = AnsibleModule(
        argument_spec=spec, supports_check_mode=True, required_if=[("mode", "apply", ["version"])]
    )
    p = module.params
    extra = {"upgrade-timeout": p["upgrade_timeout"]}
    if p["mode"] == "apply":
        extra.update(version=p["version"], yes=True)
    module.exit_json(**r.run_workflow(module, "upgrade-" + p["mode"], extra))


if __name__ == "__main__":
    main()
