#!/usr/bin/python
# Copyright: kubeadm-py contributors
# Apache License 2.0 (see the LICENSE of kubeadm-py)
from __future__ import annotations

DOCUMENTATION = r"""
module: join
short_description: Join a node to a cluster with kubeadm-py
description:
  - Runs the kubeadm-py C(join) workflow on the target (C(kubeadm_py.api.run("join"))), as a worker or, with O(control_plane), as another control plane that downloads the shared certificates from the kubeadm-certs Secret.
  - A node that already joined (kubelet.conf present) is left unchanged unless O(force) is set.
version_added: 0.1.0
options:
  api_server_endpoint:
    description: host:port of the API server to join (the first control plane's C(outputs.endpoint)).
    type: str
  token:
    description: The bootstrap token used for discovery and the TLS bootstrap.
    type: str
  ca_cert_hashes:
    description: Public key pins of the cluster CA (C(sha256:...)), from the first control plane's C(outputs.ca_cert_hashes).
    type: list
    elements: str
    default: []
  control_plane:
    description: Join as a control plane (a second etcd member, API server, controller manager, scheduler).
    type: bool
    default: false
  certificate_key:
    description: The key that decrypts the certificates in the kubeadm-certs Secret (control planes).
    type: str
extends_documentation_fragment:
  - kubeadm_py.cluster.workflow
  - kubeadm_py.cluster.workflow.force
  - kubeadm_py.cluster.workflow.node
author:
  - kubeadm-py contributors
"""

EXAMPLES = r"""
- name: Join a worker
  kubeadm_py.cluster.join:
    api_server_endpoint: "{{ hostvars[groups.kube_control_plane[0]].kubeadm_py_init.outputs.endpoint }}"
    token: "{{ kubeadm_py_token }}"
    ca_cert_hashes: "{{ hostvars[groups.kube_control_plane[0]].kubeadm_py_init.outputs.ca_cert_hashes }}"

- name: Join another control plane
  kubeadm_py.cluster.join:
    api_server_endpoint: 10.0.0.10:6443
    token: "{{ kubeadm_py_token }}"
    ca_cert_hashes: [sha256:0123...]
    control_plane: true
    certificate_key: "{{ kubeadm_py_certificate_key }}"
"""

RETURN = r"""
outputs:
  description: C(api_server) (the endpoint joined) and the closing messages.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeadm_py.cluster.plugins.module_utils import report as r


def main():
    spec = dict(r.COMMON_ARGS)
    spec.update(
        api_server_endpoint={"type": "str"},
        token={"type": "str", "no_log": True},
        ca_cert_hashes={"type": "list", "elements": "str", "default": []},
        control_plane={"type": "bool", "default": False},
        certificate_key={"type": "str", "no_log": True},
        apiserver_advertise_address={"type": "str"},
        node_name={"type": "str"},
        force={"type": "bool", "default": False},
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    if not p["force"] and r.already_done("join", p["rootfs"]):
        module.exit_json(**r.unchanged_result("join", "already joined (kubelet.conf present)"))
    module.exit_json(
        **r.run_workflow(
            module,
            "join",
            {
                "api-server-endpoint": [p["api_server_endpoint"]] if p["api_server_endpoint"] else None,
                "token": p["token"],
                "discovery-token-ca-cert-hash": p["ca_cert_hashes"] or None,
                "control-plane": p["control_plane"] or None,
                "certificate-key": p["certificate_key"],
                "apiserver-advertise-address": p["apiserver_advertise_address"],
                "node-name": p["node_name"],
            },
        )
    )


if __name__ == "__main__":
    main()
