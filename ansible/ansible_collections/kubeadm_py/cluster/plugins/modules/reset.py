#!/usr/bin/python
# Copyright: kubeadm-py contributors
# Apache License 2.0 (see the LICENSE of kubeadm-py)
from __future__ import annotations

DOCUMENTATION = r"""
module: reset
short_description: Undo init or join on a node with kubeadm-py
description:
  - Runs the kubeadm-py C(reset) workflow on the target (C(kubeadm_py.api.run("reset"))) without asking; a control plane removes its etcd member first.
  - A node with nothing kubeadm-py wrote (no kubeconfigs, manifests, PKI, etcd data or kubelet configuration) is left unchanged unless O(force) is set.
version_added: 0.1.0
extends_documentation_fragment:
  - kubeadm_py.cluster.workflow
  - kubeadm_py.cluster.workflow.force
author:
  - kubeadm-py contributors
"""

EXAMPLES = r"""
- name: Reset the node
  kubeadm_py.cluster.reset:
  register: reset

- name: Show the manual clean-up steps kubeadm-py leaves to the operator
  ansible.builtin.debug:
    var: reset.outputs.manual_cleanup
"""

RETURN = r"""
outputs:
  description: Messages and C(manual_cleanup) (what reset leaves to the operator, with commands).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeadm_py.cluster.plugins.module_utils import report as r


def main():
    spec = dict(r.COMMON_ARGS)
    spec.update(force={"type": "bool", "default": False})
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not module.params["force"] and r.nothing_to_reset(module.params["rootfs"]):
        module.exit_json(**r.unchanged_result("reset", "nothing to reset"))
    module.exit_json(**r.run_workflow(module, "reset", {"force": True}))


if __name__ == "__main__":
    main()
