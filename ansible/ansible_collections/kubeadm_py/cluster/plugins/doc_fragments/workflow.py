# Copyright: kubeadm-py contributors
# Apache License 2.0 (see the LICENSE of kubeadm-py)
"""Options and return values every workflow module (init, join, reset, upgrade) shares."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  config:
    description: Path on the target of a kubeadm configuration file (v1beta2, v1beta3 or v1beta4).
    type: path
  rootfs:
    description: Host paths resolve inside this directory, as in a chroot (kubeadm-py C(--rootfs)).
    type: path
  options:
    description:
      - "Any other kubeadm-py flag of the workflow by name, for example C({cri-socket: unix:///run/containerd/containerd.sock})."
      - An unknown name fails the task.
    type: dict
    default: {}
  phases:
    description: Run only these phase paths (for example C([certs, kubeconfig/admin])).
    type: list
    elements: str
  skip_phases:
    description: Phase paths to skip.
    type: list
    elements: str
  ignore_preflight_errors:
    description: Preflight checks whose errors become warnings (C(all) for every check).
    type: list
    elements: str
    default: []
requirements:
  - kubeadm-py importable by the target's Python (role kubeadm_py.cluster.install)
attributes:
  check_mode:
    support: full
    description: Check mode is kubeadm-py's dry run; nothing on the host or in the cluster changes.
  diff_mode:
    support: full
    description: One diff entry per file the run writes or deletes (the planned content in check mode).
notes:
  - The module runs kubeadm-py in-process through C(kubeadm_py.api); no command output is parsed.
"""

    RETURN = r"""
workflow:
  description: The kubeadm-py workflow that ran.
  returned: always
  type: str
dry_run:
  description: Whether this was a dry run (check mode).
  returned: always
  type: bool
ok:
  description: False when a dry run went past an error where a real run stops.
  returned: always
  type: bool
would_stop:
  description: Where a real run would have stopped (check mode only), else null.
  returned: always
  type: str
phases:
  description: One entry per phase, in order, with C(phase), C(status) (changed, unchanged, skipped, failed, would change), C(seconds), C(reason) and C(changes) (kind, action, target, detail).
  returned: always
  type: list
  elements: dict
statuses:
  description: Phase path to status, for quick conditions.
  returned: always
  type: dict
outputs:
  description: Values the run publishes (join command parts, upgrade results, messages, manual clean-up steps).
  returned: always
  type: dict
skipped_reason:
  description: Why the workflow did not run (the host is already in the desired state).
  returned: when the module did not run the workflow
  type: str
"""

    # init, join and reset: the host is checked first (see each module's description)
    FORCE = r"""
options:
  force:
    description: Run the workflow even if the host is already in the state it leads to (see the description).
    type: bool
    default: false
"""

    # init and join: this node's identity
    NODE = r"""
options:
  apiserver_advertise_address:
    description: The address this node's API server advertises (control planes).
    type: str
  node_name:
    description: The Node name; the hostname when omitted.
    type: str
"""
