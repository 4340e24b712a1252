# Converges one node's VM to its settings; create and update of XenVm run it. Prints the
# VM's uuid as its last line. Parameters (generated header): legacy_marker, name_label,
# template, template_fix (the fix a missing template calls for), sr_name, network_name,
# iso_name, vcpus, memory_bytes, disk_bytes, halt_timeout, hard_power_off. Standard
# input, one per line: the config drive's VDI uuid and the VM's marker (both known only
# once random ids and the drive exist; keeping them out of the script keeps the script,
# its preview diff and the policy pack's size check known beforehand).
#
# The VM is found by its marker only: a marker names one VM of one deployment (a random
# deployment id and a random instance id that changes when the VM must be replaced), so a
# re-run after a failure finds the VM it installed and never adopts another's.
# xe syntax: xapi-project/xen-api ocaml/xapi-cli-server/cli_frontend.ml.

one() {
  case "$1" in
    "") fail "$2 not found" ;;
    *,*) fail "$2 matches several objects: $1" ;;
  esac
  printf '%s\n' "$1"
}

IFS= read -r config_vdi || true
IFS= read -r marker || true
[ -n "$config_vdi" ] || fail "no config drive VDI uuid on standard input"
[ -n "$marker" ] || fail "no VM marker on standard input"

vm=$(xe vm-list other-config:xen-coreos-node="$marker" is-a-template=false --minimal)
case "$vm" in *,*) fail "several VMs carry the marker $marker: $vm (remove the extra ones by hand)" ;; esac
if [ -z "$vm" ] && [ -n "$legacy_marker" ]; then
  # Update of a VM made by a version whose marker was <stack>/<cluster>/<node>: take it over
  # once, under the new marker. Create never does this (see XenVm).
  vm=$(xe vm-list other-config:xen-coreos-node="$legacy_marker" is-a-template=false --minimal)
  case "$vm" in *,*) fail "several VMs carry the old marker $legacy_marker: $vm (remove the extra ones by hand)" ;; esac
  if [ -n "$vm" ]; then
    echo "xen-coreos: node $name_label: VM $vm carried the old marker $legacy_marker; marking it $marker" >&2
    xe vm-param-set uuid="$vm" other-config:xen-coreos-node="$marker"
  fi
fi
if [ -z "$vm" ]; then
  sr=$(one "$(xe sr-list name-label="$sr_name" --minimal)" "storage repository '$sr_name' (xen-coreos:xenserver.storageRepository)")
  net=$(one "$(xe network-list name-label="$network_name" --minimal)" "network '$network_name' (xen-coreos:xenserver.network)")
  tpl=$(xe template-list name-label="$template" --minimal)
  [ -n "$tpl" ] || fail "template '$template' not found on this host (xen-coreos:xenserver.template). Fix: $template_fix"
  one "$tpl" "template '$template' (xen-coreos:xenserver.template)" >/dev/null
  vm=$(xe vm-install template="$template" new-name-label="$name_label" sr-uuid="$sr")
  # Mark it first: a re-run after any later failure finds this VM instead of installing another.
  xe vm-param-set uuid="$vm" other-config:xen-coreos-node="$marker"
  xe vif-create vm-uuid="$vm" network-uuid="$net" device=0 >/dev/null
  xe vm-cd-add uuid="$vm" cd-name="$iso_name" device="$cd_device"
  # Boot the disk first: blank on the first boot, so the install CD runs; installed afterwards.
  xe vm-param-set uuid="$vm" HVM-boot-params:order=dc
fi

# What differs from the settings? Each of these changes needs the VM halted.
power=$(xe vm-param-get uuid="$vm" param-name=power-state)
cur_vcpus=$(xe vm-param-get uuid="$vm" param-name=VCPUs-max)
cur_memory=$(xe vm-param-get uuid="$vm" param-name=memory-static-max)
sys_vdi=$(xe vbd-list vm-uuid="$vm" userdevice="$system_device" type=Disk params=vdi-uuid --minimal)
case "$sys_vdi" in *,*) fail "several system disks: $sys_vdi" ;; esac
cur_disk=0
if [ -n "$sys_vdi" ]; then cur_disk=$(xe vdi-param-get uuid="$sys_vdi" param-name=virtual-size); fi
if [ "$cur_disk" -gt "$disk_bytes" ]; then
  # The halt request may have stopped the node for this change: leave it running, as found.
  if [ "$power" = halted ]; then xe vm-start uuid="$vm"; fi
  fail "the system disk is $cur_disk bytes, larger than diskGiB asks ($disk_bytes): a disk cannot shrink. Fix: raise diskGiB back, or replace the node."
fi
cfg_vbd=$(xe vbd-list vm-uuid="$vm" userdevice="$config_device" --minimal)
cur_cfg=""
if [ -n "$cfg_vbd" ]; then cur_cfg=$(xe vbd-param-get uuid="$cfg_vbd" param-name=vdi-uuid); fi
changes=""
[ "$cur_vcpus" = "$vcpus" ] || changes="$changes vcpus($cur_vcpus->$vcpus)"
[ "$cur_memory" = "$memory_bytes" ] || changes="$changes memory($cur_memory->$memory_bytes)"
[ "$cur_disk" = "$disk_bytes" ] || changes="$changes disk($cur_disk->$disk_bytes)"
[ "$cur_cfg" = "$config_vdi" ] || changes="$changes config-drive"

if [ -n "$changes" ]; then
  echo "xen-coreos: node $name_label: applying$changes" >&2
  if [ "$power" != halted ]; then
    # A clean `xe vm-shutdown` needs the guest agent (6.5-era xapi refuses it otherwise with
    # VM_LACKS_FEATURE_SHUTDOWN). The node was asked to power itself off (XenVm's halt
    # request); wait until xapi sees it halted.
    echo "xen-coreos: node $name_label: waiting up to ${halt_timeout}s for the node to halt" >&2
    waited=0
    while [ "$power" != halted ] && [ "$waited" -lt "$halt_timeout" ]; do
      sleep 2
      waited=$((waited + 2))
      power=$(xe vm-param-get uuid="$vm" param-name=power-state)
    done
    if [ "$power" != halted ]; then
      if [ "$hard_power_off" = true ]; then
        echo "xen-coreos: node $name_label: not halted after ${halt_timeout}s; powering it off (xen-coreos:xenserver.hardPowerOff)" >&2
        xe vm-shutdown uuid="$vm" force=true
      else
        fail "the VM is still $power ${halt_timeout}s after the node was asked to power off, so$changes cannot be applied. Check the node (xe console uuid=$vm); then run up again, or set xen-coreos:xenserver.hardPowerOff to true to power it off (a hard power-off, like pulling the plug)."
      fi
    fi
  fi
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
    sys_vbd=$(xe vbd-create vm-uuid="$vm" vdi-uuid="$sys_vdi" device="$system_device" bootable=true mode=RW type=Disk)
    # vm-uninstall destroys only disks whose VBD carries the owner key (as vm-install's do).
    xe vbd-param-set uuid="$sys_vbd" other-config:owner=true
  elif [ "$cur_disk" != "$disk_bytes" ]; then
    xe vdi-resize uuid="$sys_vdi" disk-size="$disk_bytes"
  fi
  if [ "$cur_cfg" != "$config_vdi" ]; then
    if [ -n "$cfg_vbd" ]; then xe vbd-destroy uuid="$cfg_vbd"; fi
    xe vbd-create vm-uuid="$vm" vdi-uuid="$config_vdi" device="$config_device" mode=RO type=Disk >/dev/null
  fi
  power=halted
fi
if [ "$power" != running ]; then xe vm-start uuid="$vm"; fi
printf '%s\n' "$vm"
