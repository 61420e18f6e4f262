#!/usr/bin/env python3
"""Build local OCI image archives for the kubeadm-py test bed (stdlib only).

Each archive is an OCI image layout packed in a tar:

    oci-layout
    index.json            one manifest descriptor per image name, annotated with
                          org.opencontainers.image.ref.name and io.containerd.image.name
    blobs/sha256/<layer>  one uncompressed layer tar (the root filesystem)
    blobs/sha256/<cfg>    image config
    blobs/sha256/<mfst>   image manifest

and imports with ``ctr -n k8s.io images import FILE`` under every name listed.

Usage:
    images.py build --cache DIR [--repos k8s.gcr.io registry.k8s.io]
    images.py list  --cache DIR                # names in the cached archives
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterable

DEFAULT_REPOS = ["k8s.gcr.io", "registry.k8s.io"]
K8S_TAG = "v1.20.2"
ETCD_TAG = "3.4.13-0"
PAUSE_TAG = "3.2"
MTIME = 1610000000  # fixed, so archives are reproducible
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# name -> tag for every image we build
IMAGE_TAGS: dict[str, str] = {
    "kube-apiserver": K8S_TAG,
    "kube-controller-manager": K8S_TAG,
    "kube-scheduler": K8S_TAG,
    "kube-proxy": K8S_TAG,
    "etcd": ETCD_TAG,
    "pause": PAUSE_TAG,
}


class Layer:
    """Collects root filesystem entries and writes them as a tar layer."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[tarfile.TarInfo, str | None]] = {}

    def _info(self, name: str, type_: bytes, mode: int) -> tarfile.TarInfo:
        ti = tarfile.TarInfo(name)
        ti.type = type_
        ti.mode = mode
        ti.mtime = MTIME
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = "root"
        return ti

    def _parents(self, name: str) -> None:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in self.entries:
                self.entries[d] = (self._info(d, tarfile.DIRTYPE, 0o755), None)

    def dir(self, path: str, mode: int = 0o755) -> None:
        name = path.strip("/")
        self._parents(name)
        self.entries[name] = (self._info(name, tarfile.DIRTYPE, mode), None)

    def symlink(self, path: str, target: str) -> None:
        name = path.strip("/")
        self._parents(name)
        ti = self._info(name, tarfile.SYMTYPE, 0o777)
        ti.linkname = target
        self.entries[name] = (ti, None)

    def file_from_host(self, path: str, host_path: str, mode: int | None = None) -> None:
        name = path.strip("/")
        self._parents(name)
        st = os.stat(host_path)
        ti = self._info(name, tarfile.REGTYPE, mode if mode is not None else (st.st_mode & 0o7777))
        ti.size = st.st_size
        self.entries[name] = (ti, host_path)

    def file_bytes(self, path: str, data: bytes, mode: int = 0o644) -> None:
        name = path.strip("/")
        self._parents(name)
        ti = self._info(name, tarfile.REGTYPE, mode)
        ti.size = len(data)
        self.entries[name] = (ti, data)  # type: ignore[assignment]

    def host_path(self, path: str) -> None:
        """Copy a host path into the layer, replicating every symlink on the way
        (e.g. /lib64 -> usr/lib64, /usr/sbin/iptables -> /etc/alternatives/...)."""
        seen = 0
        todo = os.path.normpath(path)
        while True:
            seen += 1
            if seen > 40:
                raise RuntimeError(f"symlink loop at {path}")
            parts = todo.strip("/").split("/")
            cur = ""
            redirected = False
            for i, comp in enumerate(parts):
                cur = cur + "/" + comp
                if os.path.islink(cur):
                    target = os.readlink(cur)
                    name = cur.strip("/")
                    if name not in self.entries or self.entries[name][0].type != tarfile.DIRTYPE:
                        self.symlink(cur, target)
                    rest = "/".join(parts[i + 1:])
                    base = target if target.startswith("/") else os.path.join(os.path.dirname(cur), target)
                    todo = os.path.normpath(os.path.join(base, rest)) if rest else os.path.normpath(base)
                    redirected = True
                    break
            if redirected:
                continue
            if os.path.isdir(todo):
                self.dir(todo)
            else:
                self.file_from_host(todo, todo)
            return

    def host_binary(self, path: str) -> None:
        """A host binary plus the shared libraries ``ldd`` lists for it."""
        self.host_path(path)
        for lib in ldd(path):
            self.host_path(lib)

    def write(self, out) -> None:
        with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
            for name in sorted(self.entries):
                ti, src = self.entries[name]
                if ti.type == tarfile.REGTYPE:
                    if isinstance(src, (bytes, bytearray)):
                        tf.addfile(ti, io.BytesIO(src))
                    else:
                        with open(src, "rb") as f:  # type: ignore[arg-type]
                            tf.addfile(ti, f)
                else:
                    tf.addfile(ti)


def ldd(path: str) -> list[str]:
    try:
        out = subprocess.run(["ldd", path], capture_output=True, text=True, check=False).stdout
    except FileNotFoundError:
        return []
    libs = []
    for line in out.splitlines():
        m = re.search(r"=>\s*(/\S+)", line) or re.match(r"\s*(/\S+)", line)
        if m:
            libs.append(m.group(1))
    return libs


def base_rootfs(layer: Layer) -> None:
    for d in ("etc", "tmp", "var", "var/run", "run", "proc", "sys", "dev", "root",
              "usr/local/bin", "usr/bin", "usr/sbin"):
        layer.dir(d, 0o1777 if d == "tmp" else 0o755)
    layer.file_bytes("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
                     b"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    layer.file_bytes("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    layer.file_bytes("etc/nsswitch.conf", b"hosts: files dns\nnetworks: files\npasswd: files\ngroup: files\n")
    layer.file_bytes("etc/hosts", b"127.0.0.1 localhost\n")


def build_layer(name: str, cache: str) -> tuple[Layer, dict]:
    """Return the root filesystem layer and the image config's ``config`` part."""
    layer = Layer()
    base_rootfs(layer)
    bindir = os.path.join(cache, "bin")
    cfg: dict = {"Env": [PATH_ENV], "WorkingDir": "/"}
    if name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        layer.file_from_host("usr/local/bin/" + name, os.path.join(bindir, name), 0o755)
        cfg["Entrypoint"] = ["/usr/local/bin/" + name]
    elif name == "kube-proxy":
        layer.file_from_host("usr/local/bin/kube-proxy", os.path.join(bindir, "kube-proxy"), 0o755)
        # kube-proxy drives iptables/ip6tables; carry the host's tools + libs + modules
        for tool in ("iptables", "iptables-save", "iptables-restore", "ip6tables",
                     "ip6tables-save", "ip6tables-restore", "iptables-legacy",
                     "iptables-legacy-save", "iptables-legacy-restore", "iptables-nft",
                     "iptables-nft-save", "iptables-nft-restore", "ip6tables-legacy",
                     "ip6tables-legacy-save", "ip6tables-legacy-restore", "ip6tables-nft",
                     "ip6tables-nft-save", "ip6tables-nft-restore", "conntrack", "ipset"):
            for d in ("/usr/sbin", "/sbin"):
                p = os.path.join(d, tool)
                if os.path.exists(p):
                    layer.host_binary(p)
                    break
        xt = "/usr/lib/x86_64-linux-gnu/xtables"
        if os.path.isdir(xt):
            for f in sorted(os.listdir(xt)):
                p = os.path.join(xt, f)
                layer.host_path(p)
                for lib in ldd(p):
                    layer.host_path(lib)
        cfg["Entrypoint"] = ["/usr/local/bin/kube-proxy"]
    elif name == "etcd":
        for tool in ("etcd", "etcdctl"):
            host = "/usr/bin/" + tool
            if not os.path.exists(host):
                raise SystemExit(f"{host} missing: apt-get install etcd-server etcd-client")
            layer.file_from_host("usr/local/bin/" + tool, host, 0o755)
            for lib in ldd(host):
                layer.host_path(lib)
        layer.dir("var/lib/etcd", 0o700)
        cfg["Entrypoint"] = ["/usr/local/bin/etcd"]
    elif name == "pause":
        layer.file_from_host("pause", os.path.join(bindir, "pause"), 0o755)
        cfg["Entrypoint"] = ["/pause"]
    else:
        raise SystemExit("unknown image " + name)
    return layer, cfg


def _blob(tf: tarfile.TarFile, data: bytes) -> tuple[str, int]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    ti = tarfile.TarInfo("blobs/sha256/" + digest.split(":", 1)[1])
    ti.size = len(data)
    ti.mtime = MTIME
    ti.mode = 0o644
    tf.addfile(ti, io.BytesIO(data))
    return digest, len(data)


def image_refs(name: str, tag: str, repos: Iterable[str]) -> list[str]:
    return ["{}/{}:{}".format(r.rstrip("/"), name, tag) for r in repos]


def write_archive(out_path: str, layer: Layer, cfg: dict, refs: list[str]) -> str:
    """Write the OCI archive; returns the manifest digest."""
    tmp_layer = out_path + ".layer.tmp"
    h = hashlib.sha256()
    with open(tmp_layer, "wb") as f:
        layer.write(f)
    with open(tmp_layer, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    layer_digest = "sha256:" + h.hexdigest()
    layer_size = os.path.getsize(tmp_layer)

    config = {
        "created": "2021-01-07T06:13:20Z",
        "architecture": "amd64",
        "os": "linux",
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created": "2021-01-07T06:13:20Z", "created_by": "kubeadm-py testbed/images.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    tmp_out = out_path + ".tmp"
    with tarfile.open(tmp_out, "w", format=tarfile.PAX_FORMAT) as tf:
        ti = tarfile.TarInfo("blobs/sha256/" + layer_digest.split(":", 1)[1])
        ti.size = layer_size
        ti.mtime = MTIME
        ti.mode = 0o644
        for d in ("blobs", "blobs/sha256"):
            di = tarfile.TarInfo(d)
            di.type = tarfile.DIRTYPE
            di.mode = 0o755
            di.mtime = MTIME
            tf.addfile(di)
        with open(tmp_layer, "rb") as f:
            tf.addfile(ti, f)
        cfg_digest, cfg_size = _blob(tf, config_bytes)
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": cfg_digest, "size": cfg_size},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": layer_digest, "size": layer_size}],
        }
        m_digest, m_size = _blob(tf, json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode())
        index = {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": m_digest,
                    "size": m_size,
                    "platform": {"architecture": "amd64", "os": "linux"},
                    "annotations": {
                        "org.opencontainers.image.ref.name": ref,
                        "io.containerd.image.name": ref,
                    },
                }
                for ref in refs
            ],
        }
        for name, data in (("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode()),
                           ("index.json", json.dumps(index, indent=1).encode())):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = MTIME
            ti.mode = 0o644
            tf.addfile(ti, io.BytesIO(data))
    os.unlink(tmp_layer)
    os.replace(tmp_out, out_path)
    return m_digest


def build(cache: str, repos: list[str], only: list[str] | None = None) -> dict[str, list[str]]:
    imgdir = os.path.join(cache, "images")
    os.makedirs(imgdir, exist_ok=True)
    result: dict[str, list[str]] = {}
    for name, tag in IMAGE_TAGS.items():
        if only and name not in only:
            continue
        layer, cfg = build_layer(name, cache)
        refs = image_refs(name, tag, repos)
        out = os.path.join(imgdir, name + ".tar")
        digest = write_archive(out, layer, cfg, refs)
        result[name] = refs
        size_mib = os.path.getsize(out) >> 20
        print(f"image {name:<24} {digest[:19]}  {' '.join(refs)} ({size_mib} MiB)", file=sys.stderr)
    with open(os.path.join(imgdir, "images.json"), "w") as f:
        json.dump({"repos": repos, "images": {n: {"tag": IMAGE_TAGS[n], "file": n + ".tar", "refs": r}
                                             for n, r in result.items()}}, f, indent=1, sort_keys=True)
    return result


def archive_refs(path: str) -> list[str]:
    with tarfile.open(path) as tf:
        f = tf.extractfile("index.json")
        assert f is not None
        idx = json.load(f)
    return [m["annotations"]["org.opencontainers.image.ref.name"] for m in idx["manifests"]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["build", "list"])
    ap.add_argument("--cache",
                    default=os.environ.get("KUBEADM_PY_TESTBED_CACHE", "/var/cache/kubeadm-py-testbed"))
    ap.add_argument("--repos", nargs="+", default=DEFAULT_REPOS)
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args(argv)
    if a.command == "build":
        build(a.cache, a.repos, a.only)
    else:
        imgdir = os.path.join(a.cache, "images")
        for f in sorted(os.listdir(imgdir)):
            if f.endswith(".tar"):
                print(f, " ".join(archive_refs(os.path.join(imgdir, f))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
