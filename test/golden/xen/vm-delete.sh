# xen-coreos: remove the VM of node coreos1
marker=0123456789abcdef/lab/coreos1/89abcdef
name_label=coreos1
config_device=1
set -eu
fail() { echo "xen-coreos: node $name_label: $*" >&2; exit 1; }
# Removes the one VM this resource made: shut down (hard: it is being destroyed), detach the
# config drive (its own resource removes it), eject the install CD, uninstall with the
# system disk. A VM already gone is success. Parameters (generated header): marker,
# name_label. Several VMs with the marker (copies made by hand) are an error: nothing is
# removed, since only one of them can be this deployment's.

vm=$(xe vm-list other-config:xen-coreos-node="$marker" is-a-template=false --minimal)
if [ -z "$vm" ]; then echo "xen-coreos: node $name_label: VM already gone" >&2; exit 0; fi
case "$vm" in
  *,*) fail "several VMs carry the marker $marker: $vm. Nothing was removed: keep the one whose uuid the stack output names, remove the others by hand, then run destroy again." ;;
esac
if [ "$(xe vm-param-get uuid="$vm" param-name=power-state)" != halted ]; then
  xe vm-shutdown uuid="$vm" force=true
fi
cfg_vbd=$(xe vbd-list vm-uuid="$vm" userdevice="$config_device" --minimal)
if [ -n "$cfg_vbd" ]; then xe vbd-destroy uuid="$cfg_vbd"; fi
cd_vbd=$(xe vbd-list vm-uuid="$vm" type=CD --minimal)
if [ -n "$cd_vbd" ]; then xe vbd-destroy uuid="$cd_vbd"; fi
xe vm-uninstall uuid="$vm" force=true
