#!/usr/bin/python
# Copyright: kubeadm-py contributors
# Apache License 2.0 (see the LICENSE of kubeadm-py)
from __future__ import annotations

DOCUMENTATION = r"""
module: token
short_description: Manage bootstrap tokens with kubeadm-py
description:
  - Creates (O(state=present)) or deletes (O(state=absent)) a bootstrap token through the admin kubeconfig of a control plane, or lists them (O(state=list)).
  - O(state=present) with a token whose id exists changes nothing; without O(token) a new token is generated each time.
version_added: 0.1.0
options:
  state:
    description: What to do.
    type: str
    choices: [present, absent, list]
    default: present
  token:
    description: The token (C([a-z0-9]{6}.[a-z0-9]{16})); for O(state=absent) its id is enough.
    type: str
  ttl:
    description: How long the token lives (a Go duration; C(0) never expires).
    type: str
    default: 24h0m0s
  description:
    description: A human-friendly description.
    type: str
    default: ""
  usages:
    description: What the token may be used for.
    type: list
    elements: str
    default: [signing, authentication]
  groups:
    description: Extra groups the token authenticates as.
    type: list
    elements: str
    default: ["system:bootstrappers:kubeadm:default-node-token"]
  kubeconfig:
    description: The kubeconfig to use (default C(/etc/kubernetes/admin.conf)).
    type: path
attributes:
  check_mode:
    support: full
    description: A dry run (the write is recorded, not sent).
  diff_mode:
    support: none
author:
  - kubeadm-py contributors
"""

EXAMPLES = r"""
- name: A token for joining nodes, with the join data
  kubeadm_py.cluster.token:
    token: "{{ kubeadm_py_token }}"
    ttl: 2h
  register: tok
  no_log: true
"""

RETURN = r"""
token:
  description: The token (generated when not given).
  returned: state is present
  type: str
endpoint:
  description: host:port of the API server from the kubeconfig.
  returned: state is present
  type: str
ca_cert_hashes:
  description: The CA public key pins joining nodes check.
  returned: state is present
  type: list
  elements: str
tokens:
  description: The tokens (C(token) shown as its id only, C(description), C(expires), C(usages), C(groups)).
  returned: state is list
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeadm_py.cluster.plugins.module_utils import report as r


def token_id(token):
    return (token or "").split(".")[0]


def main():
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["present", "absent", "list"], "default": "present"},
            "token": {"type": "str", "no_log": True},
            "ttl": {"type": "str", "default": "24h0m0s"},
            "description": {"type": "str", "default": ""},
            "usages": {"type": "list", "elements": "str", "default": ["signing", "authentication"]},
            "groups": {
                "type": "list",
                "elements": "str",
                "default": ["system:bootstrappers:kubeadm:default-node-token"],
            },
            "kubeconfig": {"type": "path"},
        },
        supports_check_mode=True,
        required_if=[("state", "absent", ["token"])],
    )
    p = module.params
    api = r.import_api(module)
    from kubeadm_py.errors import KubeadmError

    try:
        existing = [token_id(t["token"]) for t in api.token("list", kubeconfig=p["kubeconfig"])["tokens"]]
        if p["state"] == "list":
            module.exit_json(
                changed=False,
                tokens=[
                    dict(t, token=token_id(t["token"]))
                    for t in api.token("list", kubeconfig=p["kubeconfig"])["tokens"]
                ],
            )
        if p["state"] == "absent":
            gone = token_id(p["token"]) not in existing
            if not gone and not module.check_mode:
                api.token("delete", token=p["token"], kubeconfig=p["kubeconfig"])
            module.exit_json(changed=not gone)
        join = api.join_endpoint(p["kubeconfig"])
        if p["token"] and token_id(p["token"]) in existing:
            module.exit_json(changed=False, token=p["token"], **join)
        out = api.token(
            "create",
            token=p["token"],
            ttl=p["ttl"],
            usages=p["usages"],
            groups=p["groups"],
            description=p["description"],
            kubeconfig=p["kubeconfig"],
            dry_run=module.check_mode,
        )
    except KubeadmError as e:
        r.fail_from_error(module, e, "kubeadm-py token")
    module.exit_json(changed=True, token=out["token"], **join)


if __name__ == "__main__":
    main()
