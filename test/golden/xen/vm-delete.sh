# xen-coreos: remove the VM of node coreos1
marker=lab/lab/coreos1
name_label=coreos1
set -eu
fail() { echo "xen-coreos: node $name_label: $*" >&2; exit 1; }
one() {
  case "$1" in
    "") fail "$2 not found" ;;
    *,*) fail "$2 matches several objects: $1" ;;
  esac
  printf '%s\n' "$1"
}

vms=$(xe vm-list other-config:xen-coreos-node="$marker" is-a-template=false --minimal)
if [ -z "$vms" ]; then echo "xen-coreos: node $name_label: VM already gone" >&2; exit 0; fi
old_ifs=$IFS; IFS=,
for vm in $vms; do
  IFS=$old_ifs
  if [ "$(xe vm-param-get uuid="$vm" param-name=power-state)" != halted ]; then
    xe vm-shutdown uuid="$vm" force=true
  fi
  cfg_vbd=$(xe vbd-list vm-uuid="$vm" userdevice=1 --minimal)
  if [ -n "$cfg_vbd" ]; then xe vbd-destroy uuid="$cfg_vbd"; fi
  cd_vbd=$(xe vbd-list vm-uuid="$vm" type=CD --minimal)
  if [ -n "$cd_vbd" ]; then xe vbd-destroy uuid="$cd_vbd"; fi
  xe vm-uninstall uuid="$vm" force=true
done
