"""Test-bed nodes reached over SSH by ansible-playbook, for the kubeadm_py.cluster collection (the
test-bed test and bench/ansible_vs_manual.py).

Each node (tests/testbed/node.py: own PID, mount, UTS and network namespaces, real kubelet and
containerd) runs Debian's sshd inside its namespaces, listening on the node's address with a host
key and a client key generated here. ansible-playbook runs in the network hub's namespace (the
bridge's ``.1``), so it reaches every node over the bridge as it would reach real machines; a
session's PATH and KPT_NODE_CONTROL come from sshd's ``SetEnv`` so kubeadm-py finds the test bed's
binaries and the ``systemctl`` shim, as with :meth:`Node.run`."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from tests.testbed import _proc
from tests.testbed.configs import KUBE_PROXY_CONFIG, init_config_v1beta4

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(REPO, "ansible")
PLAYBOOKS = os.path.join(COLLECTIONS, "ansible_collections", "kubeadm_py", "cluster", "playbooks")
BIN = os.path.dirname(sys.executable)
SSHD = "/usr/sbin/sshd"
TOKEN = "abcdef.0123456789abcdef"
CRI = "unix:///run/containerd/containerd.sock"
# inventory layout: name -> group
LAYOUT = (("ans-cp1", "kube_control_plane"), ("ans-cp2", "kube_control_plane"),
          ("ans-w1", "kube_node"), ("ans-w2", "kube_node"))  # fmt: skip

SSHD_CONFIG = """Port 22
ListenAddress {address}
HostKey {host_key}
AuthorizedKeysFile {authorized}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile {workdir}/sshd.pid
SetEnv PATH={path} KPT_NODE_CONTROL={control} HOME=/root
Subsystem sftp internal-sftp
"""


def skip_reason() -> str | None:
    from tests.testbed import skip_reason as testbed_skip

    if not os.path.exists(SSHD):
        return "Debian's openssh-server is not installed (./install.sh --dev)"
    if not os.path.exists(os.path.join(BIN, "ansible-playbook")):
        return "ansible-core is not installed (./install.sh --dev)"
    return testbed_skip()


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str
    seconds: float
    recap: dict[str, dict[str, int]] = field(default_factory=dict)

    def changed(self) -> dict[str, int]:
        return {h: r["changed"] for h, r in self.recap.items()}


def recap(stdout: str) -> dict[str, dict[str, int]]:
    """Host -> counters (ok, changed, failed, ...) from the PLAY RECAP of the default output."""
    out = {}
    for m in re.finditer(r"^(\S+)\s+:\s+(ok=.*)$", stdout, re.M):
        out[m[1]] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m[2])}
    return out


class Bed:
    """Four started nodes with sshd, an SSH key pair and an inventory (two control planes, two
    workers). ``playbook(name)`` runs one of the collection's playbooks against them."""

    def __init__(self, subnet: str = "192.168.95.0/24") -> None:
        from tests.testbed import Network, Node

        self.tmp = tempfile.mkdtemp(prefix="kpt-ansible-")
        self.net = Network(name="kpt-ansible", subnet=subnet)
        self.nodes: dict[str, Any] = {}
        self._Node = Node
        self._sshd: list[subprocess.Popen[bytes]] = []
        self.certificate_key = secrets.token_hex(32)
        self.inventory = os.path.join(self.tmp, "inventory.yml")

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> Bed:
        self.net.start()
        self.nodes = {name: self._Node(name, network=self.net) for name, _ in LAYOUT}
        key = os.path.join(self.tmp, "id_ed25519")
        host_key = os.path.join(self.tmp, "ssh_host_ed25519_key")
        for path in (key, host_key):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True, timeout=30
            )
        shutil.copy(key + ".pub", os.path.join(self.tmp, "authorized_keys"))
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        for node in self.nodes.values():
            node.start()
            node.supervise_kubelet()
            self._start_sshd(node, host_key)
        self._write_inventory(key)
        return self

    def _start_sshd(self, node: Any, host_key: str) -> None:
        cfg = os.path.join(node.workdir, "sshd_config")
        with open(cfg, "w") as f:
            f.write(SSHD_CONFIG.format(
                address=node.address, host_key=host_key, authorized=os.path.join(self.tmp, "authorized_keys"),
                workdir=node.workdir, path=node.env()["PATH"], control=node.control_dir,
            ))  # fmt: skip
        log = os.path.join(node.logdir, "sshd.log")
        self._sshd.append(_proc.spawn(node.nsenter_argv() + [SSHD, "-D", "-e", "-f", cfg], log_path=log))

        def listening() -> bool:
            r = node.run(["ss", "-Hltn", f"src {node.address}:22"], check=False, timeout=10)
            return bool(r.stdout.strip())

        _proc.wait_for(listening, 20, what=f"sshd on {node.name}")

    def _write_inventory(self, key: str) -> None:
        cp1 = self.nodes[LAYOUT[0][0]]
        hosts: dict[str, dict[str, Any]] = {"kube_control_plane": {}, "kube_node": {}}
        for name, group in LAYOUT:
            node = self.nodes[name]
            hosts[group][name] = {"ansible_host": node.address, "kubeadm_py_advertise_address": node.address}
        init_cfg = os.path.join(cp1.workdir, "init.yaml")  # outside the node's bind mounts: visible in it
        with open(init_cfg, "w") as f:
            text = init_config_v1beta4(
                cp1.address, cp1.name, token=TOKEN, control_plane_endpoint=f"{cp1.address}:6443"
            )
            f.write(text + "---\n" + KUBE_PROXY_CONFIG)
        hosts["kube_control_plane"][cp1.name]["kubeadm_py_config"] = init_cfg
        doc = {
            "all": {
                "vars": {
                    "ansible_user": "root",
                    "ansible_ssh_private_key_file": key,
                    "ansible_python_interpreter": sys.executable,  # kubeadm-py is installed there
                    "kubeadm_py_install": False,
                    "kubeadm_py_token": TOKEN,
                    "kubeadm_py_certificate_key": self.certificate_key,
                    "kubeadm_py_ignore_preflight_errors": ["all"],
                    "kubeadm_py_join_options": {"cri-socket": CRI},
                    "kubeadm_py_verify_wait": 240,
                    "kubeadm_py_worker_batch": 2,
                },
                "children": {g: {"hosts": h} for g, h in hosts.items()},
            }
        }
        with open(self.inventory, "w") as f:
            yaml.safe_dump(doc, f)

    def stop(self, keep_logs: bool = False) -> None:
        for p in self._sshd:
            _proc.terminate(p, grace=2)
        for node in reversed(list(self.nodes.values())):
            with contextlib.suppress(Exception):
                kept = node.stop(keep_logs=keep_logs)
                if kept:
                    print(f"\n[testbed] kept logs: {kept}")
        self.net.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ----------------------------------------------------------------- running
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
        env.update(
            ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
            ANSIBLE_HOST_KEY_CHECKING="False",
            ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=120s -o UserKnownHostsFile=/dev/null",
            ANSIBLE_SSH_CONTROL_PATH_DIR=os.path.join(self.tmp, "cp"),
            ANSIBLE_PIPELINING="True",
            ANSIBLE_LOCAL_TEMP=os.path.join(self.tmp, "local"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORKS="4",
            ANSIBLE_RETRY_FILES_ENABLED="False",
        )
        return env

    def playbook(self, name: str, *flags: str, timeout: float = 900) -> Run:
        """ansible-playbook PLAYBOOKS/<name>.yml from the hub's network namespace."""
        book = os.path.join(PLAYBOOKS, f"{name}.yml")
        hub = ["nsenter", "-t", str(self.net.pid), "-n"]
        argv = [*hub, os.path.join(BIN, "ansible-playbook"), "-i", self.inventory, book, *flags]
        t0 = time.monotonic()
        r = subprocess.run(argv, env=self.env(), capture_output=True, text=True, timeout=timeout)
        return Run(r.returncode, r.stdout, r.stderr, time.monotonic() - t0, recap(r.stdout))

    # ---------------------------------------------------------------- checking
    def node(self, i: int) -> Any:
        return self.nodes[LAYOUT[i][0]]

    def written(self, node: Any) -> list[str]:
        root = node.path("/etc/kubernetes")
        return (
            sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
            if os.path.isdir(root)
            else []
        )

    def etcdctl(self, node: Any, endpoints: str, *args: str) -> str:
        pki = "/etc/kubernetes/pki/etcd"
        r = node.run(
            ["etcdctl", "--endpoints", endpoints, "--cacert", f"{pki}/ca.crt",
             "--cert", f"{pki}/healthcheck-client.crt", "--key", f"{pki}/healthcheck-client.key", *args],
            env={"ETCDCTL_API": "3"}, timeout=60, check=False,
        )  # fmt: skip
        return str(r.stdout) + str(r.stderr)


@contextlib.contextmanager
def bed() -> Iterator[Bed]:
    b = Bed()
    failed = False
    try:
        yield b.start()
    except BaseException:
        failed = True
        raise
    finally:
        b.stop(keep_logs=failed)
