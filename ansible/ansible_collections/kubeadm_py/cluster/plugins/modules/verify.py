#!/usr/bin/python
# Copyright: kubeadm-py contributors
# Apache License 2.0 (see the LICENSE of kubeadm-py)
from __future__ import annotations

DOCUMENTATION = r"""
module: verify
short_description: Check the health of a node or the cluster with kubeadm-py
description:
  - Runs the checks of C(kubeadm-py verify) (C(kubeadm_py.api.verify)) and fails when the node or cluster is not healthy; only reads (except the short-lived Pods of O(workload)).
version_added: 0.1.0
options:
  scope:
    description: C(node), C(cluster), or C(all) (the cluster checks only where the admin kubeconfig is).
    type: str
    choices: [node, cluster, all]
    default: all
  wait:
    description: Check again every O(interval) seconds until healthy, for at most this many seconds.
    type: float
    default: 0
  interval:
    description: Seconds between attempts.
    type: float
    default: 5
  strict:
    description: Warnings fail too.
    type: bool
    default: false
  workload:
    description: Also start a short-lived Pod per Node (scheduling, logs, exec).
    type: bool
    default: false
  kubeconfig:
    description: The kubeconfig for the cluster checks.
    type: path
  config:
    description: Path on the target of a kubeadm configuration file.
    type: path
  rootfs:
    description: Host paths resolve inside this directory, as in a chroot.
    type: path
attributes:
  check_mode:
    support: full
    description: The checks only read; they run in check mode too.
  diff_mode:
    support: none
author:
  - kubeadm-py contributors
"""

EXAMPLES = r"""
- name: Wait until the cluster is healthy
  kubeadm_py.cluster.verify:
    scope: cluster
    wait: 300
"""

RETURN = r"""
healthy:
  description: No check failed (with O(strict), none warned either).
  returned: always
  type: bool
results:
  description: One entry per check (name, scope, status pass/warn/fail/skip, detail, problems).
  returned: always
  type: list
  elements: dict
problems:
  description: One line per problem, with its fix.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeadm_py.cluster.plugins.module_utils import report as r


def main():
    module = AnsibleModule(
        argument_spec={
            "scope": {"type": "str", "choices": ["node", "cluster", "all"], "default": "all"},
            "wait": {"type": "float", "default": 0},
            "interval": {"type": "float", "default": 5},
            "strict": {"type": "bool", "default": False},
            "workload": {"type": "bool", "default": False},
            "kubeconfig": {"type": "path"},
            "config": {"type": "path"},
            "rootfs": {"type": "path"},
        },
        supports_check_mode=True,
    )
    p = module.params
    api = r.import_api(module)
    from kubeadm_py.errors import KubeadmError

    try:
        rep = api.verify(
            None if p["scope"] == "all" else p["scope"],
            workload=p["workload"],
            wait=p["wait"],
            interval=p["interval"],
            strict=p["strict"],
            kubeconfig=p["kubeconfig"],
            config=p["config"],
            rootfs=p["rootfs"],
        )
    except KubeadmError as e:
        r.fail_from_error(module, e, "kubeadm-py verify")
    doc = rep.to_dict()
    result = dict(
        changed=False,
        healthy=rep.healthy,
        results=doc.get("results", []),
        problems=[pr.line() for pr in rep.problems],
        report=doc,
    )
    if not rep.healthy:
        module.fail_json(msg="not healthy: " + "; ".join(result["problems"][:5]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
