#!/bin/sh
# Installs fleetd and fleetctl v1.0.0 on a Flatcar node, once: fetches the fleet project's
# release tarball, refuses it unless its sha256 is the pinned one, and only then unpacks
# the two binaries. fleet.service runs this before fleetd; a node that already holds the
# verified binaries (its stamp names the same checksum) fetches nothing.
# Usage: fleet-fetch.sh <url> <sha256> <dir>   (url: http, https or file; dir e.g. /opt/bin)
set -eu
fail() { echo "xen-coreos: fleet download: $*" >&2; exit 1; }
[ "$#" -eq 3 ] || fail "usage: fleet-fetch.sh <url> <sha256> <dir>"
url=$1
sha256=$2
dir=$3
stamp="$dir/.fleet-v1.0.0.sha256"
case "$sha256" in
  *[!0-9a-f]*|"") fail "pinned checksum '$sha256' is not a lower-case sha256 (xen-coreos:os.fleet.sha256)" ;;
esac
[ "${#sha256}" -eq 64 ] || fail "pinned checksum '$sha256' is not 64 hex digits (xen-coreos:os.fleet.sha256)"

if [ -x "$dir/fleetd" ] && [ -x "$dir/fleetctl" ] && [ "$(cat "$stamp" 2>/dev/null || true)" = "$sha256" ]; then
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl -fsSL --retry 5 --retry-delay 5 --connect-timeout 20 --max-time 600 -o "$work/fleet.tar.gz" "$url" \
  || fail "cannot fetch $url. Fix: check xen-coreos:os.fleet.url (an offline lab serves the tarball from its own mirror)"
got=$(sha256sum "$work/fleet.tar.gz" | cut -d ' ' -f 1)
if [ "$got" != "$sha256" ]; then
  fail "$url has sha256 $got, not the pinned $sha256: refused, nothing installed. Fix: serve the fleet v1.0.0 release tarball itself, or correct xen-coreos:os.fleet.sha256"
fi
mkdir "$work/x"
tar -xzf "$work/fleet.tar.gz" -C "$work/x" || fail "$url is not a gzip tarball"
mkdir -p "$dir"
for bin in fleetd fleetctl; do
  src=$(find "$work/x" -type f -name "$bin" | head -n 1)
  [ -n "$src" ] || fail "$url holds no $bin"
  # Install under a temporary name, then rename: a crash never leaves half a binary.
  cp "$src" "$dir/.$bin.new"
  chmod 0755 "$dir/.$bin.new"
  mv -f "$dir/.$bin.new" "$dir/$bin"
done
printf '%s\n' "$sha256" > "$stamp"
echo "xen-coreos: fleet download: fleetd and fleetctl v1.0.0 installed in $dir (sha256 $sha256)" >&2
