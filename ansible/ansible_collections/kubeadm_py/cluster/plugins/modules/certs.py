#!/usr/bin/python
# Copyright: kubeadm-py contributors
# Apache License 2.0 (see the LICENSE of kubeadm-py)
from __future__ import annotations

DOCUMENTATION = r"""
module: certs
short_description: Renew kubeadm certificates or check their expiration with kubeadm-py
description:
  - O(action=check-expiration) reads the certificates and kubeconfig client certificates (never changes anything).
  - O(action=renew) renews a leaf certificate, a kubeconfig's client certificate or C(all) of them, signed by the local CA (never a CA).
version_added: 0.1.0
options:
  action:
    description: What to do.
    type: str
    choices: [renew, check-expiration]
    default: check-expiration
  name:
    description: What to renew (C(apiserver), C(admin.conf), C(etcd-server), ... or C(all)).
    type: str
    default: all
  config:
    description: Path on the target of a kubeadm configuration file.
    type: path
  cert_dir:
    description: The certificate directory (default the configuration's certificatesDir, C(/etc/kubernetes/pki)).
    type: path
  kubeconfig_dir:
    description: Where the kubeconfig files are (default C(/etc/kubernetes)).
    type: path
  reuse_key:
    description: Keep the existing private keys.
    type: bool
    default: false
  rootfs:
    description: Host paths resolve inside this directory, as in a chroot.
    type: path
  expiring_within_days:
    description: With O(action=check-expiration), fail when a certificate expires within this many days (0 never fails).
    type: int
    default: 0
attributes:
  check_mode:
    support: full
    description: A renewal in check mode is kubeadm-py's dry run.
  diff_mode:
    support: none
author:
  - kubeadm-py contributors
"""

EXAMPLES = r"""
- name: Check expiration
  kubeadm_py.cluster.certs:
    action: check-expiration
    expiring_within_days: 30

- name: Renew every certificate
  kubeadm_py.cluster.certs:
    action: renew
    name: all
"""

RETURN = r"""
expiration:
  description: The C(CertificateExpirationInfo) document (C(certificates), C(certificateAuthorities)).
  returned: action is check-expiration
  type: dict
changes:
  description: What the renewal changed (kind, action, target, detail).
  returned: action is renew
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeadm_py.cluster.plugins.module_utils import report as r


def expiring(doc, days):
    """Names of the certificates (and CAs) with less than ``days`` left."""
    rows = doc.get("certificates", []) + doc.get("certificateAuthorities", [])
    limit = days * 86400
    return [c["name"] for c in rows if not c.get("missing") and c.get("residualTimeSeconds", limit) < limit]


def main():
    module = AnsibleModule(
        argument_spec={
            "action": {
                "type": "str",
                "choices": ["renew", "check-expiration"],
                "default": "check-expiration",
            },
            "name": {"type": "str", "default": "all"},
            "config": {"type": "path"},
            "cert_dir": {"type": "path"},
            "kubeconfig_dir": {"type": "path"},
            "reuse_key": {"type": "bool", "default": False},
            "rootfs": {"type": "path"},
            "expiring_within_days": {"type": "int", "default": 0},
        },
        supports_check_mode=True,
    )
    p = module.params
    api = r.import_api(module)
    from kubeadm_py.errors import KubeadmError

    kw = {k: p[k] for k in ("config", "cert_dir", "kubeconfig_dir", "rootfs")}
    try:
        if p["action"] == "check-expiration":
            doc = api.certs("check-expiration", **kw)
            soon = expiring(doc, p["expiring_within_days"]) if p["expiring_within_days"] else []
            if soon:
                module.fail_json(
                    msg=f"expiring within {p['expiring_within_days']} days: {', '.join(soon)}", expiration=doc
                )
            module.exit_json(changed=False, expiration=doc)
        out = api.certs("renew", name=p["name"], reuse_key=p["reuse_key"], dry_run=module.check_mode, **kw)
    except KubeadmError as e:
        r.fail_from_error(module, e, "kubeadm-py certs " + p["action"])
    module.exit_json(changed=out["changed"], changes=out["changes"])


if __name__ == "__main__":
    main()
