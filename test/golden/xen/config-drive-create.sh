# xen-coreos: config drive coreos1 config-2 (xen-coreos)
marker=lab/lab/coreos1/0123456789ab
name_label='coreos1 config-2 (xen-coreos)'
sr_name='Local storage'
agent_dir=/opt/xensource/packages/files/xscontainer/agent
set -eu
fail() { echo "xen-coreos: config drive $name_label: $*" >&2; exit 1; }
one() {
  case "$1" in
    "") fail "$2 not found" ;;
    *,*) fail "$2 matches several objects: $1" ;;
  esac
  printf '%s\n' "$1"
}

existing=$(xe vdi-list other-config:xen-coreos-config-drive="$marker" --minimal)
case "$existing" in *,*) fail "several config drives carry $marker: $existing" ;; esac
if [ -n "$existing" ]; then cat >/dev/null; printf '%s\n' "$existing"; exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/openstack/latest"
umask 077
cat >"$work/root/openstack/latest/user_data"
[ -s "$work/root/openstack/latest/user_data" ] || fail "empty cloud-config on standard input"
if [ -x "$agent_dir/xe-daemon" ]; then
  mkdir "$work/root/agent"
  cp -p "$agent_dir"/xe-* "$work/root/agent/"
fi
mkiso=$(command -v genisoimage || command -v mkisofs || true)
[ -n "$mkiso" ] || fail "neither genisoimage nor mkisofs is installed on the XenServer host"
"$mkiso" -quiet -R -J -V config-2 -o "$work/config-2.iso" "$work/root"
size=$(wc -c <"$work/config-2.iso")
size=$(( (size + 1048575) / 1048576 * 1048576 ))
sr=$(one "$(xe sr-list name-label="$sr_name" --minimal)" "storage repository '$sr_name' (xen-coreos:xenserver.storageRepository)")
vdi=$(xe vdi-create sr-uuid="$sr" name-label="$name_label" type=user virtual-size="$size")
if ! xe vdi-param-set uuid="$vdi" other-config:xen-coreos-config-drive="$marker" ||
   ! xe vdi-import uuid="$vdi" filename="$work/config-2.iso"; then
  xe vdi-destroy uuid="$vdi" || true
  fail "could not write the config drive into VDI $vdi"
fi
printf '%s\n' "$vdi"
