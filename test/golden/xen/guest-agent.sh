# xen-coreos: read the Linux guest agent from the tools ISO
tools_glob='/opt/xensource/packages/iso/xs-tools-*.iso'
agent_files='xe-daemon xe-linux-distribution xe-linux-distribution.service xe-update-guest-attrs xen-vcpu-hotplug.rules install.sh versions.deb versions.rpm'
set -eu
fail() { echo "xen-coreos: guest agent: $*" >&2; exit 1; }
# Reads the XenServer Linux guest agent from the host's tools ISO, the way xscontainer puts
# it on its config drives (src/xscontainer/coreos.py create_config_drive_iso: the newest
# /opt/xensource/packages/iso/xs-tools-*.iso, loop-mounted, files from its Linux/ folder).
# Prints one line per file found: "<name> <octal mode> <base64 of the content>"; the program
# puts them in agent/ on each config drive, where the node's xe-linux-distribution.service
# runs them. No tools ISO is not an error: the program never depends on the agent (nodes
# halt themselves for in-place changes); the nodes then simply run without it.
# Parameters (generated header): tools_glob, agent_files.

# The newest tools ISO; with several, the last in name order (dom0's sort has no -V).
iso=""
for candidate in $tools_glob; do
  if [ -f "$candidate" ]; then iso=$candidate; fi
done
if [ -z "$iso" ]; then
  echo "xen-coreos: guest agent: no tools ISO matches $tools_glob; nodes run without the guest agent" >&2
  exit 0
fi
mnt=$(mktemp -d)
trap 'umount "$mnt" 2>/dev/null || true; rmdir "$mnt"' EXIT
mount -o loop,ro "$iso" "$mnt" || fail "could not mount $iso"
found=0
for name in $agent_files; do
  file="$mnt/Linux/$name"
  [ -f "$file" ] || continue
  mode=$(stat -c %a "$file")
  if command -v base64 >/dev/null 2>&1; then data=$(base64 <"$file" | tr -d '\n'); else data=$(openssl base64 <"$file" | tr -d '\n'); fi
  printf '%s %s %s\n' "$name" "$mode" "$data"
  found=$((found + 1))
done
[ "$found" -gt 0 ] || echo "xen-coreos: guest agent: $iso has none of the agent files in Linux/" >&2
