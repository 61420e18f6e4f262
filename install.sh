#!/usr/bin/env bash
# Install kubeadm-py on this machine.
#
#   ./install.sh          create .venv, install kubeadm-py, put `kubeadm-py` on PATH
#   ./install.sh --dev    also install the test tools (pytest, ruff, mypy), the Debian packages
#                         the tests use (openssl, etcd, containerd, runc, kubectl, iproute2, ...)
#                         and build the Kubernetes v1.20.2 test bed (testbed/build.sh, cached)
#
# Environment: PYTHON (default python3, needs >= 3.11), KUBEADM_PY_BIN_DIR (where the
# `kubeadm-py` link goes; default /usr/local/bin for root, ~/.local/bin otherwise),
# KUBEADM_PY_SKIP_TESTBED=1 (with --dev: skip the test bed build; those tests then skip).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
dev=0
for arg in "$@"; do
  case "$arg" in
    --dev) dev=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument: $arg (use --dev or nothing)" >&2; exit 2 ;;
  esac
done

log() { printf '[install] %s\n' "$*" >&2; }

py="${PYTHON:-python3}"
if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "install.sh: $py is missing or older than Python 3.11" >&2
  exit 1
fi

apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $EUID -ne 0 ]]; then
    log "not root: cannot install Debian packages ${missing[*]}; tests that need them will skip"
    return 0
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  local i
  for i in 1 2 3 4 5; do
    if apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
      return 0
    fi
    log "apt-get failed (attempt $i); retrying in 10s"
    sleep 10
  done
  return 1
}

if [[ ! -x .venv/bin/python ]]; then
  log "creating virtualenv .venv"
  "$py" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v 'is ignored' || true

if [[ $dev -eq 1 ]]; then
  log "installing kubeadm-py (editable) with test dependencies"
  # editable_mode=compat: a plain path entry in a .pth file. The default editable mode installs an
  # import finder that every interpreter start imports (~15 ms on each kubeadm-py command).
  # setuptools calls compat mode transitional: fall back to the default mode when it is gone.
  if ! .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' \
      --config-settings editable_mode=compat >/tmp/kubeadm-py-pip.log 2>&1; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v 'is ignored' || true
  fi
else
  log "installing kubeadm-py"
  .venv/bin/python -m pip install -q --disable-pip-version-check . 2>&1 | grep -v 'is ignored' || true
fi
.venv/bin/python -c 'import kubeadm_py.cli.app' || { echo "install.sh: kubeadm-py did not install" >&2; exit 1; }

bin_dir="${KUBEADM_PY_BIN_DIR:-}"
if [[ -z "$bin_dir" ]]; then
  if [[ $EUID -eq 0 ]]; then bin_dir=/usr/local/bin; else bin_dir="$HOME/.local/bin"; fi
fi
mkdir -p "$bin_dir"
ln -sf "$here/.venv/bin/kubeadm-py" "$bin_dir/kubeadm-py"
log "kubeadm-py -> $bin_dir/kubeadm-py"

if [[ $dev -eq 1 ]]; then
  # The Ansible collection (ansible/): built as Ansible users get it and installed into the venv's
  # collections path (ANSIBLE_COLLECTIONS_PATH=.venv/share/ansible/collections).
  log "building the kubeadm_py.cluster Ansible collection"
  mkdir -p build/ansible
  .venv/bin/ansible-galaxy collection build --force --output-path build/ansible \
    ansible/ansible_collections/kubeadm_py/cluster >/dev/null
  ANSIBLE_COLLECTIONS_PATH=.venv/share/ansible/collections \
    .venv/bin/ansible-galaxy collection install --force -p .venv/share/ansible/collections \
    build/ansible/kubeadm_py-cluster-*.tar.gz >/dev/null
  # etcd 3.4 and kubectl 1.20 come from Debian 12 on every release (Debian 13 has etcd 3.5 and
  # kubectl 1.32): add bookworm, pinned to those packages, before installing them.
  if [[ $EUID -eq 0 ]]; then bash testbed/apt-suites.sh; fi
  # openssh-server: the Ansible collection's test-bed test reaches each node over SSH.
  # zsh and fish: the shell completion tests load kubeadm-py's scripts in them (both packaged in
  # Debian 12 and 13).
  apt_install openssl iproute2 etcd-server etcd-client containerd runc conntrack iptables socat \
    ethtool ebtables kmod util-linux procps ca-certificates zsh fish openssh-server
  if ! command -v kubectl >/dev/null 2>&1; then
    apt_install kubernetes-client
  fi
  if [[ "${KUBEADM_PY_SKIP_TESTBED:-0}" != 1 && $EUID -eq 0 ]]; then
    log "building the Kubernetes v1.20.2 test bed (cached; the first build takes about 10 minutes)"
    bash testbed/build.sh
  fi
fi
log "done"
