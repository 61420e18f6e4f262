"""Builds the JSON Schemas (Draft 2020-12) shipped in ``kubeadm_py/config/schemas/``.

The schemas mirror the upstream Go types of ``kubeadm.k8s.io/v1beta4``, ``v1beta3`` and
``v1beta2`` (cmd/kubeadm/app/apis/kubeadm/<version>/types.go) with ``additionalProperties:
false`` everywhere, so unknown fields are errors. Version differences are expressed as small
switches on a :class:`Flavor` row. Regenerate after editing::

    python -m kubeadm_py.config.schemagen

(``tests/unit/config/test_schemas.py`` fails when the shipped files are stale.)"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from kubeadm_py.config.types import TimeoutKey

S = dict[str, Any]
DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = Path(__file__).with_name("schemas")


@dataclass(frozen=True)
class Flavor:
    version: str
    kinds: tuple[str, ...]
    args_as_list: bool  # v1beta4: extraArgs is a list of {name, value}; before: map[string]string
    extra_envs: bool
    timeouts: bool  # Timeouts blocks, dryRun in Init/Join, no timeoutForControlPlane/discovery.timeout
    cluster_v1beta4: bool  # encryptionAlgorithm, validity periods, dns.disabled, proxy
    image_pull_serial: bool
    image_pull_policy: bool  # v1beta3+
    skip_phases_patches: bool  # v1beta3+
    dns_type_hyperkube: bool  # v1beta2 only


FLAVORS: dict[str, Flavor] = {
    "v1beta4": Flavor(
        "v1beta4",
        (
            "InitConfiguration",
            "ClusterConfiguration",
            "JoinConfiguration",
            "ResetConfiguration",
            "UpgradeConfiguration",
        ),
        True,
        True,
        True,
        True,
        True,
        True,
        True,
        False,
    ),
    "v1beta3": Flavor(
        "v1beta3",
        ("InitConfiguration", "ClusterConfiguration", "JoinConfiguration"),
        False,
        False,
        False,
        False,
        False,
        True,
        True,
        False,
    ),
    "v1beta2": Flavor(
        "v1beta2",
        ("InitConfiguration", "ClusterConfiguration", "JoinConfiguration", "ClusterStatus"),
        False,
        False,
        False,
        False,
        False,
        False,
        False,
        True,
    ),
}

ENCRYPTION_ALGORITHMS = ["RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256", "ECDSA-P384"]
PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
HOST_PATH_TYPES = [
    "",
    "DirectoryOrCreate",
    "Directory",
    "FileOrCreate",
    "File",
    "Socket",
    "CharDevice",
    "BlockDevice",
]
UNMOUNT_FLAGS = ["MNT_FORCE", "MNT_DETACH", "MNT_EXPIRE", "UMOUNT_NOFOLLOW"]
TOKEN_USAGES = ["signing", "authentication"]


def obj(props: S, required: list[str] | None = None) -> S:
    out: S = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


def string(fmt: str | None = None, **kw: Any) -> S:
    out: S = {"type": "string", **kw}
    if fmt:
        out["format"] = fmt
    return out


def strings(**item: Any) -> S:
    return {"type": "array", "items": {"type": "string", **item}}


BOOL: S = {"type": "boolean"}
DURATION = string("go-duration")
REF = "#/$defs/"


def ref(name: str) -> S:
    return {"$ref": REF + name}


def type_meta(api_version: str, kind: str) -> S:
    return {"apiVersion": {"const": api_version}, "kind": {"const": kind}}


def defs(f: Flavor) -> S:
    d: S = {}
    if f.args_as_list:
        d["Arg"] = obj({"name": string(minLength=1), "value": string()}, ["name"])
        d["Args"] = {"type": "array", "items": ref("Arg")}
    else:
        d["Args"] = {"type": "object", "additionalProperties": {"type": "string"}}
    d["HostPathMount"] = obj(
        {
            "name": string(minLength=1),
            "hostPath": string(minLength=1),
            "mountPath": string(minLength=1),
            "readOnly": BOOL,
            "pathType": {"type": "string", "enum": HOST_PATH_TYPES},
        },
        ["name", "hostPath", "mountPath"],
    )
    if f.extra_envs:
        key_ref = {
            "type": "object",
            "properties": {"name": string(), "key": string(), "optional": BOOL},
            "required": ["key"],
            "additionalProperties": False,
        }
        d["EnvVar"] = obj(
            {
                "name": string(minLength=1),
                "value": string(),
                "valueFrom": obj(
                    {
                        "fieldRef": obj(
                            {"apiVersion": string(), "fieldPath": string(minLength=1)}, ["fieldPath"]
                        ),
                        "resourceFieldRef": obj(
                            {
                                "containerName": string(),
                                "resource": string(minLength=1),
                                "divisor": {"type": ["string", "number"]},
                            },
                            ["resource"],
                        ),
                        "configMapKeyRef": key_ref,
                        "secretKeyRef": key_ref,
                        "fileKeyRef": obj(
                            {"volumeName": string(), "path": string(), "key": string(), "optional": BOOL},
                            ["key"],
                        ),
                    }
                ),
            },
            ["name"],
        )
    d["Taint"] = obj(
        {
            "key": string(minLength=1),
            "value": string(),
            "effect": {"type": "string", "enum": TAINT_EFFECTS},
            "timeAdded": {"type": ["string", "null"]},
        },
        ["key", "effect"],
    )
    nodereg: S = {
        "name": string(),
        "criSocket": string("cri-socket"),
        "taints": {"type": ["array", "null"], "items": ref("Taint")},
        "kubeletExtraArgs": ref("Args"),
        "ignorePreflightErrors": strings(),
    }
    if f.image_pull_policy:
        nodereg["imagePullPolicy"] = {"type": "string", "enum": PULL_POLICIES}
    if f.image_pull_serial:
        nodereg["imagePullSerial"] = BOOL
    d["NodeRegistrationOptions"] = obj(nodereg)
    d["APIEndpoint"] = obj(
        {"advertiseAddress": string("ip"), "bindPort": {"type": "integer", "minimum": 1, "maximum": 65535}}
    )
    d["BootstrapToken"] = obj(
        {
            "token": string("bootstrap-token"),
            "description": string(),
            "ttl": DURATION,
            "expires": string("date-time"),
            "usages": {"type": "array", "items": {"type": "string", "enum": TOKEN_USAGES}},
            "groups": strings(pattern=r"^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$"),
        }
    )
    if f.timeouts:
        d["Timeouts"] = obj({k: DURATION for k in get_args(TimeoutKey)})
    d["Patches"] = obj({"directory": string()})
    component: S = {
        "extraArgs": ref("Args"),
        "extraVolumes": {"type": "array", "items": ref("HostPathMount")},
    }
    if f.extra_envs:
        component["extraEnvs"] = {"type": "array", "items": ref("EnvVar")}
    d["ControlPlaneComponent"] = obj(dict(component))
    apiserver = dict(component, certSANs=strings(minLength=1))
    if not f.timeouts:
        apiserver["timeoutForControlPlane"] = DURATION
    d["APIServer"] = obj(apiserver)
    local: S = {
        "imageRepository": string(),
        "imageTag": string(),
        "dataDir": string(),
        "extraArgs": ref("Args"),
        "serverCertSANs": strings(minLength=1),
        "peerCertSANs": strings(minLength=1),
    }
    if f.extra_envs:
        local["extraEnvs"] = {"type": "array", "items": ref("EnvVar")}
    d["Etcd"] = obj(
        {
            "local": obj(local),
            "external": obj(
                {
                    "endpoints": strings(minLength=1),
                    "caFile": string(),
                    "certFile": string(),
                    "keyFile": string(),
                },
                ["endpoints"],
            ),
        }
    )
    return d


def cluster(f: Flavor) -> S:
    api = f"kubeadm.k8s.io/{f.version}"
    dns: S = {"imageRepository": string(), "imageTag": string()}
    if f.cluster_v1beta4:
        dns["disabled"] = BOOL
    if f.dns_type_hyperkube:
        dns["type"] = {"type": "string", "enum": ["CoreDNS", "kube-dns", ""]}
    props: S = {
        **type_meta(api, "ClusterConfiguration"),
        "etcd": ref("Etcd"),
        "networking": obj(
            {
                "serviceSubnet": string("cidr-list"),
                "podSubnet": string("cidr-list"),
                "dnsDomain": string("dns-subdomain"),
            }
        ),
        "kubernetesVersion": string("kubernetes-version"),
        "controlPlaneEndpoint": string("endpoint"),
        "apiServer": ref("APIServer"),
        "controllerManager": ref("ControlPlaneComponent"),
        "scheduler": ref("ControlPlaneComponent"),
        "dns": obj(dns),
        "certificatesDir": string(minLength=1),
        "imageRepository": string(),
        "featureGates": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "clusterName": string(minLength=1),
    }
    if f.cluster_v1beta4:
        props["proxy"] = obj({"disabled": BOOL})
        props["encryptionAlgorithm"] = {"type": "string", "enum": ENCRYPTION_ALGORITHMS}
        props["certificateValidityPeriod"] = DURATION
        props["caCertificateValidityPeriod"] = DURATION
    if f.dns_type_hyperkube:
        props["useHyperKubeImage"] = BOOL
    return obj(props, ["apiVersion", "kind"])


def _run_fields(f: Flavor) -> S:
    """The fields InitConfiguration and JoinConfiguration gained together: skipPhases and patches
    (v1beta3), dryRun and timeouts (v1beta4)."""
    props: S = {}
    if f.skip_phases_patches:
        props["skipPhases"] = strings(minLength=1)
        props["patches"] = ref("Patches")
    if f.timeouts:
        props["dryRun"] = BOOL
        props["timeouts"] = ref("Timeouts")
    return props


def init(f: Flavor) -> S:
    props: S = {
        **type_meta(f"kubeadm.k8s.io/{f.version}", "InitConfiguration"),
        "bootstrapTokens": {"type": "array", "items": ref("BootstrapToken")},
        "nodeRegistration": ref("NodeRegistrationOptions"),
        "localAPIEndpoint": ref("APIEndpoint"),
        "certificateKey": string("certificate-key"),
    }
    return obj({**props, **_run_fields(f)}, ["apiVersion", "kind"])


def join(f: Flavor) -> S:
    discovery: S = {
        "bootstrapToken": obj(
            {
                "token": string("bootstrap-token"),
                "apiServerEndpoint": string("join-endpoint"),
                "caCertHashes": {"type": "array", "items": string("ca-cert-hash")},
                "unsafeSkipCAVerification": BOOL,
            }
        ),
        "file": obj({"kubeConfigPath": string(minLength=1)}, ["kubeConfigPath"]),
        "tlsBootstrapToken": string(),
    }
    if not f.timeouts:
        discovery["timeout"] = DURATION
    props: S = {
        **type_meta(f"kubeadm.k8s.io/{f.version}", "JoinConfiguration"),
        "nodeRegistration": ref("NodeRegistrationOptions"),
        "caCertPath": string(minLength=1),
        "discovery": obj(discovery),
        # null (a worker join) or the control-plane settings; one schema (no anyOf), so a bad
        # field below is reported at its own path.
        "controlPlane": {
            **obj({"localAPIEndpoint": ref("APIEndpoint"), "certificateKey": string("certificate-key")}),
            "type": ["object", "null"],
        },
    }
    return obj({**props, **_run_fields(f)}, ["apiVersion", "kind"])


def reset(f: Flavor) -> S:
    return obj(
        {
            **type_meta(f"kubeadm.k8s.io/{f.version}", "ResetConfiguration"),
            "certificatesDir": string(minLength=1),
            "cleanupTmpDir": BOOL,
            "criSocket": string("cri-socket"),
            "dryRun": BOOL,
            "force": BOOL,
            "ignorePreflightErrors": strings(),
            "skipPhases": strings(minLength=1),
            "unmountFlags": {"type": "array", "items": {"type": "string", "enum": UNMOUNT_FLAGS}},
            "timeouts": ref("Timeouts"),
        },
        ["apiVersion", "kind"],
    )


def upgrade(f: Flavor) -> S:
    pull = {"imagePullPolicy": {"type": "string", "enum": PULL_POLICIES}, "imagePullSerial": BOOL}
    common = {"dryRun": BOOL, "ignorePreflightErrors": strings()}
    return obj(
        {
            **type_meta(f"kubeadm.k8s.io/{f.version}", "UpgradeConfiguration"),
            "apply": obj(
                {
                    "kubernetesVersion": string("kubernetes-version"),
                    "allowExperimentalUpgrades": BOOL,
                    "allowRCUpgrades": BOOL,
                    "certificateRenewal": BOOL,
                    "etcdUpgrade": BOOL,
                    "forceUpgrade": BOOL,
                    "patches": ref("Patches"),
                    "printConfig": BOOL,
                    "skipPhases": strings(minLength=1),
                    **common,
                    **pull,
                }
            ),
            "diff": obj(
                {
                    "kubernetesVersion": string("kubernetes-version"),
                    "contextLines": {"type": "integer", "minimum": 0},
                }
            ),
            "node": obj(
                {
                    "certificateRenewal": BOOL,
                    "etcdUpgrade": BOOL,
                    "skipPhases": strings(minLength=1),
                    "patches": ref("Patches"),
                    **common,
                    **pull,
                }
            ),
            "plan": obj(
                {
                    "kubernetesVersion": string("kubernetes-version"),
                    "allowExperimentalUpgrades": BOOL,
                    "allowRCUpgrades": BOOL,
                    "etcdUpgrade": BOOL,
                    "printConfig": BOOL,
                    **common,
                }
            ),
            "timeouts": ref("Timeouts"),
        },
        ["apiVersion", "kind"],
    )


def cluster_status(f: Flavor) -> S:
    return obj(
        {
            **type_meta(f"kubeadm.k8s.io/{f.version}", "ClusterStatus"),
            "apiEndpoints": {"type": "object", "additionalProperties": ref("APIEndpoint")},
        },
        ["apiVersion", "kind"],
    )


def kubelet() -> S:
    """KubeletConfiguration is passed through; only the fields kubeadm itself reads or defaults are
    typed here, everything else is left to the kubelet's own strict decoder."""
    return {
        "type": "object",
        "properties": {
            "apiVersion": {"const": "kubelet.config.k8s.io/v1beta1"},
            "kind": {"const": "KubeletConfiguration"},
            "staticPodPath": string(),
            "clusterDNS": {"type": "array", "items": string("ip")},
            "clusterDomain": string(),
            "cgroupDriver": {"type": "string", "enum": ["systemd", "cgroupfs"]},
            "healthzBindAddress": string("ip"),
            "healthzPort": {"type": "integer", "minimum": 0, "maximum": 65535},
            "readOnlyPort": {"type": "integer", "minimum": 0, "maximum": 65535},
            "rotateCertificates": BOOL,
            "resolvConf": string(),
            "featureGates": {"type": "object", "additionalProperties": {"type": "boolean"}},
            "authentication": {"type": "object"},
            "authorization": {"type": "object"},
        },
        "required": ["apiVersion", "kind"],
        "additionalProperties": True,
    }


def kubeproxy() -> S:
    return {
        "type": "object",
        "properties": {
            "apiVersion": {"const": "kubeproxy.config.k8s.io/v1alpha1"},
            "kind": {"const": "KubeProxyConfiguration"},
            "bindAddress": string("ip"),
            "clusterCIDR": string("cidr-list"),
            "mode": {
                "type": "string",
                "enum": ["", "iptables", "ipvs", "nftables", "kernelspace", "userspace"],
            },
            "clientConnection": {"type": "object"},
            "featureGates": {"type": "object", "additionalProperties": {"type": "boolean"}},
        },
        "required": ["apiVersion", "kind"],
        "additionalProperties": True,
    }


BUILDERS = {
    "InitConfiguration": init,
    "ClusterConfiguration": cluster,
    "JoinConfiguration": join,
    "ResetConfiguration": reset,
    "UpgradeConfiguration": upgrade,
    "ClusterStatus": cluster_status,
}


def schema_file_name(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    return f"{group}_{version}_{kind}.json"


def all_schemas() -> dict[str, S]:
    """File name -> schema for every (apiVersion, kind) kubeadm-py reads."""
    out: dict[str, S] = {}
    for f in FLAVORS.values():
        d = defs(f)
        for kind in f.kinds:
            body = BUILDERS[kind](f)
            api = f"kubeadm.k8s.io/{f.version}"
            out[schema_file_name(api, kind)] = {
                "$schema": DRAFT,
                "$id": f"https://kubeadm-py.invalid/schemas/{schema_file_name(api, kind)}",
                "title": f"{kind} ({api})",
                **body,
                "$defs": d,
            }
    for api, kind, body in (
        ("kubelet.config.k8s.io/v1beta1", "KubeletConfiguration", kubelet()),
        ("kubeproxy.config.k8s.io/v1alpha1", "KubeProxyConfiguration", kubeproxy()),
    ):
        out[schema_file_name(api, kind)] = {
            "$schema": DRAFT,
            "$id": f"https://kubeadm-py.invalid/schemas/{schema_file_name(api, kind)}",
            "title": f"{kind} ({api})",
            **body,
        }
    return out


def render(schema: S) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, schema in all_schemas().items():
        (SCHEMA_DIR / name).write_text(render(schema), encoding="utf-8")
        print(f"wrote {SCHEMA_DIR / name}")


if __name__ == "__main__":
    main()
