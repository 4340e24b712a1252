# xen-coreos: converge the VM of node coreos1
marker=lab/lab/coreos1
name_label=coreos1
template=CoreOS
sr_name='Local storage'
network_name='Pool-wide network associated with eth0'
iso_name=coreos_production_iso_image.iso
vcpus=1
memory_bytes=1073741824
disk_bytes=8589934592
set -eu
fail() { echo "xen-coreos: node $name_label: $*" >&2; exit 1; }
one() {
  case "$1" in
    "") fail "$2 not found" ;;
    *,*) fail "$2 matches several objects: $1" ;;
  esac
  printf '%s\n' "$1"
}
IFS= read -r config_vdi || true
[ -n "$config_vdi" ] || fail "no config drive VDI uuid on standard input"

vm=$(xe vm-list other-config:xen-coreos-node="$marker" is-a-template=false --minimal)
case "$vm" in *,*) fail "several VMs carry the marker $marker: $vm (remove the extra ones)" ;; esac
if [ -z "$vm" ]; then
  sr=$(one "$(xe sr-list name-label="$sr_name" --minimal)" "storage repository '$sr_name' (xen-coreos:xenserver.storageRepository)")
  net=$(one "$(xe network-list name-label="$network_name" --minimal)" "network '$network_name' (xen-coreos:xenserver.network)")
  one "$(xe template-list name-label="$template" --minimal)" "template '$template' (xen-coreos:xenserver.template)" >/dev/null
  vm=$(xe vm-install template="$template" new-name-label="$name_label" sr-uuid="$sr")
  # Mark it first: a re-run after any later failure finds this VM instead of installing another.
  xe vm-param-set uuid="$vm" other-config:xen-coreos-node="$marker"
  xe vif-create vm-uuid="$vm" network-uuid="$net" device=0 >/dev/null
  xe vm-cd-add uuid="$vm" cd-name="$iso_name" device=3
  # Boot the disk first: blank on the first boot, so the install CD runs; installed afterwards.
  xe vm-param-set uuid="$vm" HVM-boot-params:order=dc
fi

# What differs from the settings? Each of these changes needs the VM halted.
power=$(xe vm-param-get uuid="$vm" param-name=power-state)
cur_vcpus=$(xe vm-param-get uuid="$vm" param-name=VCPUs-max)
cur_memory=$(xe vm-param-get uuid="$vm" param-name=memory-static-max)
sys_vdi=$(xe vbd-list vm-uuid="$vm" userdevice=0 type=Disk params=vdi-uuid --minimal)
case "$sys_vdi" in *,*) fail "several system disks: $sys_vdi" ;; esac
cur_disk=0
if [ -n "$sys_vdi" ]; then cur_disk=$(xe vdi-param-get uuid="$sys_vdi" param-name=virtual-size); fi
if [ "$cur_disk" -gt "$disk_bytes" ]; then
  fail "the system disk is $cur_disk bytes, larger than diskGiB asks ($disk_bytes): a disk cannot shrink. Fix: raise diskGiB back, or replace the node."
fi
cfg_vbd=$(xe vbd-list vm-uuid="$vm" userdevice=1 --minimal)
cur_cfg=""
if [ -n "$cfg_vbd" ]; then cur_cfg=$(xe vbd-param-get uuid="$cfg_vbd" param-name=vdi-uuid); fi
changes=""
[ "$cur_vcpus" = "$vcpus" ] || changes="$changes vcpus($cur_vcpus->$vcpus)"
[ "$cur_memory" = "$memory_bytes" ] || changes="$changes memory($cur_memory->$memory_bytes)"
[ "$cur_disk" = "$disk_bytes" ] || changes="$changes disk($cur_disk->$disk_bytes)"
[ "$cur_cfg" = "$config_vdi" ] || changes="$changes config-drive"

if [ -n "$changes" ]; then
  echo "xen-coreos: node $name_label: applying$changes" >&2
  if [ "$power" != halted ]; then xe vm-shutdown uuid="$vm"; fi
  if [ "$cur_vcpus" != "$vcpus" ]; then
    # VCPUs-at-startup may never exceed VCPUs-max: raise max first, lower it last.
    if [ "$vcpus" -gt "$cur_vcpus" ]; then
      xe vm-param-set uuid="$vm" VCPUs-max="$vcpus"
      xe vm-param-set uuid="$vm" VCPUs-at-startup="$vcpus"
    else
      xe vm-param-set uuid="$vm" VCPUs-at-startup="$vcpus"
      xe vm-param-set uuid="$vm" VCPUs-max="$vcpus"
    fi
  fi
  if [ "$cur_memory" != "$memory_bytes" ]; then
    xe vm-memory-limits-set uuid="$vm" static-min="$memory_bytes" dynamic-min="$memory_bytes" dynamic-max="$memory_bytes" static-max="$memory_bytes"
  fi
  if [ -z "$sys_vdi" ]; then
    sr=$(one "$(xe sr-list name-label="$sr_name" --minimal)" "storage repository '$sr_name' (xen-coreos:xenserver.storageRepository)")
    sys_vdi=$(xe vdi-create sr-uuid="$sr" name-label="$name_label system disk" type=user virtual-size="$disk_bytes")
    sys_vbd=$(xe vbd-create vm-uuid="$vm" vdi-uuid="$sys_vdi" device=0 bootable=true mode=RW type=Disk)
    # vm-uninstall destroys only disks whose VBD carries the owner key (as vm-install's do).
    xe vbd-param-set uuid="$sys_vbd" other-config:owner=true
  elif [ "$cur_disk" != "$disk_bytes" ]; then
    xe vdi-resize uuid="$sys_vdi" disk-size="$disk_bytes"
  fi
  if [ "$cur_cfg" != "$config_vdi" ]; then
    if [ -n "$cfg_vbd" ]; then xe vbd-destroy uuid="$cfg_vbd"; fi
    xe vbd-create vm-uuid="$vm" vdi-uuid="$config_vdi" device=1 mode=RO type=Disk >/dev/null
  fi
  power=halted
fi
if [ "$power" != running ]; then xe vm-start uuid="$vm"; fi
printf '%s\n' "$vm"
