#!/usr/bin/python
# Copyright: kubeadm-py contributors
# Apache License 2.0 (see the LICENSE of kubeadm-py)
from __future__ import annotations

DOCUMENTATION = r"""
module: init
short_description: Create the first control-plane node with kubeadm-py
description:
  - Runs the kubeadm-py C(init) workflow on the target (C(kubeadm_py.api.run("init"))).
  - O(token) and O(certificate_key) are no_log parameters, so Ansible removes their values from everything the module returns (outputs, join commands, diff); a token or key the module generates (parameter omitted) is returned as is.
  - On a node that is already initialized (admin.conf and the kube-apiserver manifest present) it changes nothing and returns the endpoint and CA hash joining nodes need, unless O(force) is set.
version_added: 0.1.0
options:
  upload_certs:
    description: Upload the control-plane certificates to the kubeadm-certs Secret, encrypted with O(certificate_key), for control planes that join later.
    type: bool
    default: false
  certificate_key:
    description: The key (64 hex characters) that encrypts the uploaded certificates; generated when omitted.
    type: str
  token:
    description: The bootstrap token joining nodes use (C([a-z0-9]{6}.[a-z0-9]{16})); generated when omitted.
    type: str
  control_plane_endpoint:
    description: A stable host:port for the control planes (needed for more than one control plane).
    type: str
extends_documentation_fragment:
  - kubeadm_py.cluster.workflow
  - kubeadm_py.cluster.workflow.force
  - kubeadm_py.cluster.workflow.node
author:
  - kubeadm-py contributors
"""

EXAMPLES = r"""
- name: Create the first control plane
  kubeadm_py.cluster.init:
    config: /etc/kubeadm-py/cluster.yaml
    upload_certs: true
    certificate_key: "{{ kubeadm_py_certificate_key }}"
  register: first

- name: Plan it only
  kubeadm_py.cluster.init:
    config: /etc/kubeadm-py/cluster.yaml
  check_mode: true
  diff: true
"""

RETURN = r"""
outputs:
  description: Join data (C(endpoint), C(token), C(ca_cert_hash), C(ca_cert_hashes), C(certificate_key), C(join_command), C(join_control_plane_command)) and messages; on an initialized node only C(endpoint) and C(ca_cert_hashes).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeadm_py.cluster.plugins.module_utils import report as r


def main():
    spec = dict(r.COMMON_ARGS)
    spec.update(
        upload_certs={"type": "bool", "default": False},
        certificate_key={"type": "str", "no_log": True},
        token={"type": "str", "no_log": True},
        control_plane_endpoint={"type": "str"},
        apiserver_advertise_address={"type": "str"},
        node_name={"type": "str"},
        force={"type": "bool", "default": False},
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    if not p["force"] and r.already_done("init", p["rootfs"]):
        api = r.import_api(module)
        kubeconfig = r.host_path(p["rootfs"], "/etc/kubernetes/admin.conf")
        module.exit_json(**r.unchanged_result("init", "already initialized", api.join_endpoint(kubeconfig)))
    module.exit_json(
        **r.run_workflow(
            module,
            "init",
            {
                "upload-certs": p["upload_certs"] or None,
                "certificate-key": p["certificate_key"],
                "token": p["token"],
                "control-plane-endpoint": p["control_plane_endpoint"],
                "apiserver-advertise-address": p["apiserver_advertise_address"],
                "node-name": p["node_name"],
            },
        )
    )


if __name__ == "__main__":
    main()
