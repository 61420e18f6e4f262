"""The ``join`` command lines kubeadm prints (upstream ``util/join.go`` template), with this
tool's binary name, and the values behind them."""

from __future__ import annotations

from dataclasses import dataclass, field

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS

BINARY = "kubeadm-py"
WITHHELD = "<value withheld>"


@dataclass
class JoinCommand:
    endpoint: str  # host:port, no scheme
    token: str
    ca_cert_hashes: list[str] = field(default_factory=list)
    certificate_key: str = ""

    def render(self, *, control_plane: bool = False, hide_token: bool = False, hide_key: bool = False) -> str:
        token = WITHHELD if hide_token else self.token
        pins = "".join(f"--discovery-token-ca-cert-hash {h} " for h in self.ca_cert_hashes)
        out = f"{BINARY} join {self.endpoint} --token {token} \\\n\t{pins}"
        if control_plane:
            out += "\\\n\t--control-plane "
            if self.certificate_key:
                out += f"--certificate-key {WITHHELD if hide_key else self.certificate_key}"
        return out.rstrip()


def ca_hashes_from_pem(pem: bytes) -> list[str]:
    from cryptography import x509

    from kubeadm_py.tokens.pubkeypin import hash_certificate

    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError as e:
        raise KubeadmError(f"cannot parse the cluster CA certificate: {e}") from None
    return [hash_certificate(c) for c in certs]


def from_kubeconfig(admin_conf: bytes, source: str) -> tuple[str, list[str]]:
    """(endpoint host:port, CA pins) from the admin kubeconfig's current cluster."""
    import base64

    from kubeadm_py.cluster.kubeconfigs import current_cluster, load

    cluster = current_cluster(load(admin_conf, source), source)
    server = str(cluster.get("server", ""))
    ca_data = cluster.get("certificate-authority-data")
    hashes = ca_hashes_from_pem(base64.b64decode(ca_data)) if ca_data else []
    return server.replace("https://", ""), hashes


def success_message(
    cmd: JoinCommand,
    *,
    has_control_plane_endpoint: bool,
    upload_certs: bool,
    hide_token: bool,
    hide_key: bool,
    admin_conf: str = "/etc/kubernetes/admin.conf",
) -> str:
    """The text ``kubeadm init`` ends with (cmd/phases/init/showjoincommand.go)."""
    worker = cmd.render(hide_token=hide_token)
    lines = [
        "Your Kubernetes control-plane has initialized successfully!",
        "",
        "To start using your cluster, you need to run the following as a regular user:",
        "",
        "  mkdir -p $HOME/.kube",
        f"  sudo cp -i {admin_conf} $HOME/.kube/config",
        "  sudo chown $(id -u):$(id -g) $HOME/.kube/config",
        "",
        "Alternatively, if you are the root user, you can run:",
        "",
        f"  export KUBECONFIG={admin_conf}",
        "",
        "You should now deploy a pod network to the cluster.",
        'Run "kubectl apply -f [podnetwork].yaml" with one of the options listed at:',
        "  https://kubernetes.io/docs/concepts/cluster-administration/addons/",
        "",
    ]
    if has_control_plane_endpoint:
        cp = cmd.render(control_plane=True, hide_token=hide_token, hide_key=hide_key)
        if upload_certs:
            lines += [
                "You can now join any number of control-plane nodes running the following command on each "
                "as root:",
                "",
                "  " + cp,
                "",
                "Please note that the certificate-key gives access to cluster sensitive data, "
                "keep it secret!",
                "As a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use",
                f'"{BINARY} init phase upload-certs --upload-certs" to reload certs afterward.',
                "",
            ]
        else:
            lines += [
                "You can now join any number of control-plane nodes by copying certificate authorities",
                "and service account keys on each node and then running the following as root:",
                "",
                "  " + cp,
                "",
            ]
    lines += [
        "Then you can join any number of worker nodes by running the following on each as root:",
        "",
        worker,
    ]
    return "\n".join(lines)


def join_values(
    fs: HostFS,
    cfg: KubeadmConfig,
    *,
    admin_kubeconfig: str,
    cert_dir: str,
    token: str | None = None,
    certificate_key: str | None = None,
) -> JoinCommand:
    """Endpoint and CA pins (from the admin kubeconfig, else the configuration and
    ``<cert_dir>/ca.crt``), the bootstrap token (``token``, else the first of the configuration)
    and ``certificate_key`` (else the configuration's)."""
    from kubeadm_py.cluster.netinfo import control_plane_endpoint, endpoint_hostport

    data = fs.read_bytes(admin_kubeconfig)
    if data is not None:
        endpoint, hashes = from_kubeconfig(data, admin_kubeconfig)
    else:
        endpoint, hashes = endpoint_hostport(control_plane_endpoint(cfg)), []
    if not hashes:
        ca = fs.read_bytes(f"{cert_dir}/ca.crt")
        if ca is None:
            raise KubeadmError(f"cannot compute the CA hash: {cert_dir}/ca.crt not found")
        hashes = ca_hashes_from_pem(ca)
    token = token or _first_token(cfg)
    if not token:
        raise KubeadmError(
            "no bootstrap token to build the join command with", hint="run the bootstrap-token phase"
        )
    key = certificate_key or (cfg.init or {}).get("certificateKey") or ""
    return JoinCommand(endpoint, str(token), hashes, str(key))


def _first_token(cfg: KubeadmConfig) -> str:
    tokens = (cfg.init or {}).get("bootstrapTokens") or []
    return str(tokens[0].get("token") or "") if tokens else ""
