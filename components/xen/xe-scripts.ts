/**
 * Shell scripts that drive `xe` on the XenServer host. Pure: plain values in, POSIX sh
 * text out. Every value enters a script once, as a quoted assignment at its top, so a
 * `pulumi preview` diff of a script shows exactly the settings that changed, and a hostile
 * value stays one literal word. xe syntax follows the xapi CLI
 * (xapi-project/xen-api, ocaml/xapi-cli-server/cli_frontend.ml).
 *
 * The VM script is one idempotent "converge" used for both create and update: it finds
 * the VM by its other-config marker (so a re-run after a failure never installs a second
 * copy), creates what is missing, applies what differs, and starts the VM.
 */
import { shellAssign, strictPrelude } from "../shell";

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** other-config key that marks a VM as belonging to a node of a stack. */
export const VM_MARKER_KEY = "xen-coreos-node";
/** other-config key that marks a config drive VDI. */
export const CONFIG_DRIVE_MARKER_KEY = "xen-coreos-config-drive";
/** Userdevice positions: system disk, config drive, install CD. */
export const SYSTEM_DISK_DEVICE = 0;
export const CONFIG_DRIVE_DEVICE = 1;
export const CD_DEVICE = 3;

export interface VmSpec {
  /** Marker value, unique per stack/cluster/node: `lab/web/coreos1`. */
  marker: string;
  /** VM name-label (the node name). */
  nameLabel: string;
  template: string;
  storageRepository: string;
  network: string;
  /** name-label of the install ISO (its file name in the ISO repository). */
  isoName: string;
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
}

/** Helpers shared by every script: a failure names the node, `one` insists on a single match. */
function prelude(what: string): string[] {
  return [
    ...strictPrelude(what),
    "one() {",
    '  case "$1" in',
    '    "") fail "$2 not found" ;;',
    '    *,*) fail "$2 matches several objects: $1" ;;',
    "  esac",
    "  printf '%s\\n' \"$1\"",
    "}",
  ];
}

/**
 * The create/update script of a node's VM. Prints the VM uuid as its last line. The config
 * drive's VDI uuid arrives on standard input: it is known only once the drive exists, and
 * keeping it out of the script keeps the script (and its preview diff) known beforehand.
 */
export function renderVmConvergeScript(vm: VmSpec): string {
  return [
    `# xen-coreos: converge the VM of node ${vm.nameLabel}`,
    shellAssign("marker", vm.marker),
    shellAssign("name_label", vm.nameLabel),
    shellAssign("template", vm.template),
    shellAssign("sr_name", vm.storageRepository),
    shellAssign("network_name", vm.network),
    shellAssign("iso_name", vm.isoName),
    shellAssign("vcpus", vm.vcpus),
    shellAssign("memory_bytes", vm.memoryMiB * MIB),
    shellAssign("disk_bytes", vm.diskGiB * GIB),
    ...prelude('node $name_label'),
    "IFS= read -r config_vdi || true",
    '[ -n "$config_vdi" ] || fail "no config drive VDI uuid on standard input"',
    "",
    `vm=$(xe vm-list other-config:${VM_MARKER_KEY}="$marker" is-a-template=false --minimal)`,
    'case "$vm" in *,*) fail "several VMs carry the marker $marker: $vm (remove the extra ones)" ;; esac',
    'if [ -z "$vm" ]; then',
    '  sr=$(one "$(xe sr-list name-label="$sr_name" --minimal)" "storage repository \'$sr_name\' (xen-coreos:xenserver.storageRepository)")',
    '  net=$(one "$(xe network-list name-label="$network_name" --minimal)" "network \'$network_name\' (xen-coreos:xenserver.network)")',
    '  one "$(xe template-list name-label="$template" --minimal)" "template \'$template\' (xen-coreos:xenserver.template)" >/dev/null',
    '  vm=$(xe vm-install template="$template" new-name-label="$name_label" sr-uuid="$sr")',
    "  # Mark it first: a re-run after any later failure finds this VM instead of installing another.",
    `  xe vm-param-set uuid="$vm" other-config:${VM_MARKER_KEY}="$marker"`,
    `  xe vif-create vm-uuid="$vm" network-uuid="$net" device=0 >/dev/null`,
    `  xe vm-cd-add uuid="$vm" cd-name="$iso_name" device=${CD_DEVICE}`,
    "  # Boot the disk first: blank on the first boot, so the install CD runs; installed afterwards.",
    '  xe vm-param-set uuid="$vm" HVM-boot-params:order=dc',
    "fi",
    "",
    "# What differs from the settings? Each of these changes needs the VM halted.",
    'power=$(xe vm-param-get uuid="$vm" param-name=power-state)',
    'cur_vcpus=$(xe vm-param-get uuid="$vm" param-name=VCPUs-max)',
    'cur_memory=$(xe vm-param-get uuid="$vm" param-name=memory-static-max)',
    `sys_vdi=$(xe vbd-list vm-uuid="$vm" userdevice=${SYSTEM_DISK_DEVICE} type=Disk params=vdi-uuid --minimal)`,
    'case "$sys_vdi" in *,*) fail "several system disks: $sys_vdi" ;; esac',
    'cur_disk=0',
    'if [ -n "$sys_vdi" ]; then cur_disk=$(xe vdi-param-get uuid="$sys_vdi" param-name=virtual-size); fi',
    'if [ "$cur_disk" -gt "$disk_bytes" ]; then',
    '  fail "the system disk is $cur_disk bytes, larger than diskGiB asks ($disk_bytes): a disk cannot shrink. Fix: raise diskGiB back, or replace the node."',
    "fi",
    `cfg_vbd=$(xe vbd-list vm-uuid="$vm" userdevice=${CONFIG_DRIVE_DEVICE} --minimal)`,
    'cur_cfg=""',
    'if [ -n "$cfg_vbd" ]; then cur_cfg=$(xe vbd-param-get uuid="$cfg_vbd" param-name=vdi-uuid); fi',
    'changes=""',
    '[ "$cur_vcpus" = "$vcpus" ] || changes="$changes vcpus($cur_vcpus->$vcpus)"',
    '[ "$cur_memory" = "$memory_bytes" ] || changes="$changes memory($cur_memory->$memory_bytes)"',
    '[ "$cur_disk" = "$disk_bytes" ] || changes="$changes disk($cur_disk->$disk_bytes)"',
    '[ "$cur_cfg" = "$config_vdi" ] || changes="$changes config-drive"',
    "",
    'if [ -n "$changes" ]; then',
    '  echo "xen-coreos: node $name_label: applying$changes" >&2',
    '  if [ "$power" != halted ]; then xe vm-shutdown uuid="$vm"; fi',
    '  if [ "$cur_vcpus" != "$vcpus" ]; then',
    "    # VCPUs-at-startup may never exceed VCPUs-max: raise max first, lower it last.",
    '    if [ "$vcpus" -gt "$cur_vcpus" ]; then',
    '      xe vm-param-set uuid="$vm" VCPUs-max="$vcpus"',
    '      xe vm-param-set uuid="$vm" VCPUs-at-startup="$vcpus"',
    "    else",
    '      xe vm-param-set uuid="$vm" VCPUs-at-startup="$vcpus"',
    '      xe vm-param-set uuid="$vm" VCPUs-max="$vcpus"',
    "    fi",
    "  fi",
    '  if [ "$cur_memory" != "$memory_bytes" ]; then',
    '    xe vm-memory-limits-set uuid="$vm" static-min="$memory_bytes" dynamic-min="$memory_bytes" dynamic-max="$memory_bytes" static-max="$memory_bytes"',
    "  fi",
    '  if [ -z "$sys_vdi" ]; then',
    '    sr=$(one "$(xe sr-list name-label="$sr_name" --minimal)" "storage repository \'$sr_name\' (xen-coreos:xenserver.storageRepository)")',
    '    sys_vdi=$(xe vdi-create sr-uuid="$sr" name-label="$name_label system disk" type=user virtual-size="$disk_bytes")',
    `    sys_vbd=$(xe vbd-create vm-uuid="$vm" vdi-uuid="$sys_vdi" device=${SYSTEM_DISK_DEVICE} bootable=true mode=RW type=Disk)`,
    "    # vm-uninstall destroys only disks whose VBD carries the owner key (as vm-install's do).",
    '    xe vbd-param-set uuid="$sys_vbd" other-config:owner=true',
    '  elif [ "$cur_disk" != "$disk_bytes" ]; then',
    '    xe vdi-resize uuid="$sys_vdi" disk-size="$disk_bytes"',
    "  fi",
    '  if [ "$cur_cfg" != "$config_vdi" ]; then',
    '    if [ -n "$cfg_vbd" ]; then xe vbd-destroy uuid="$cfg_vbd"; fi',
    `    xe vbd-create vm-uuid="$vm" vdi-uuid="$config_vdi" device=${CONFIG_DRIVE_DEVICE} mode=RO type=Disk >/dev/null`,
    "  fi",
    "  power=halted",
    "fi",
    'if [ "$power" != running ]; then xe vm-start uuid="$vm"; fi',
    'printf \'%s\\n\' "$vm"',
    "",
  ].join("\n");
}

export interface VmDeleteSpec {
  marker: string;
  nameLabel: string;
}

/**
 * The delete script: shut down, detach the config drive (its own resource removes it),
 * eject the install CD, uninstall with the system disk. A VM already gone is success.
 */
export function renderVmDeleteScript(vm: VmDeleteSpec): string {
  return [
    `# xen-coreos: remove the VM of node ${vm.nameLabel}`,
    shellAssign("marker", vm.marker),
    shellAssign("name_label", vm.nameLabel),
    ...prelude("node $name_label"),
    "",
    `vms=$(xe vm-list other-config:${VM_MARKER_KEY}="$marker" is-a-template=false --minimal)`,
    'if [ -z "$vms" ]; then echo "xen-coreos: node $name_label: VM already gone" >&2; exit 0; fi',
    "old_ifs=$IFS; IFS=,",
    "for vm in $vms; do",
    "  IFS=$old_ifs",
    '  if [ "$(xe vm-param-get uuid="$vm" param-name=power-state)" != halted ]; then',
    '    xe vm-shutdown uuid="$vm" force=true',
    "  fi",
    `  cfg_vbd=$(xe vbd-list vm-uuid="$vm" userdevice=${CONFIG_DRIVE_DEVICE} --minimal)`,
    '  if [ -n "$cfg_vbd" ]; then xe vbd-destroy uuid="$cfg_vbd"; fi',
    `  cd_vbd=$(xe vbd-list vm-uuid="$vm" type=CD --minimal)`,
    '  if [ -n "$cd_vbd" ]; then xe vbd-destroy uuid="$cd_vbd"; fi',
    '  xe vm-uninstall uuid="$vm" force=true',
    "done",
    "",
  ].join("\n");
}

export interface ConfigDriveSpec {
  /** Unique per drive content: `lab/web/coreos1/<hash>`. */
  marker: string;
  nameLabel: string;
  storageRepository: string;
  /** Directory on the host with the XenServer guest agent (xe-daemon …); copied when present. */
  guestAgentDir: string;
}

/**
 * Builds a config-2 ISO from the cloud-config on standard input (never on the command
 * line: it holds the discovery token), imports it into a new VDI, prints the VDI uuid.
 * A failed import destroys the half-made VDI: nothing is left half applied.
 */
export function renderConfigDriveCreateScript(drive: ConfigDriveSpec): string {
  return [
    `# xen-coreos: config drive ${drive.nameLabel}`,
    shellAssign("marker", drive.marker),
    shellAssign("name_label", drive.nameLabel),
    shellAssign("sr_name", drive.storageRepository),
    shellAssign("agent_dir", drive.guestAgentDir),
    ...prelude("config drive $name_label"),
    "",
    `existing=$(xe vdi-list other-config:${CONFIG_DRIVE_MARKER_KEY}="$marker" --minimal)`,
    'case "$existing" in *,*) fail "several config drives carry $marker: $existing" ;; esac',
    'if [ -n "$existing" ]; then cat >/dev/null; printf \'%s\\n\' "$existing"; exit 0; fi',
    "work=$(mktemp -d)",
    "trap 'rm -rf \"$work\"' EXIT",
    'mkdir -p "$work/root/openstack/latest"',
    'umask 077',
    'cat >"$work/root/openstack/latest/user_data"',
    '[ -s "$work/root/openstack/latest/user_data" ] || fail "empty cloud-config on standard input"',
    'if [ -x "$agent_dir/xe-daemon" ]; then',
    '  mkdir "$work/root/agent"',
    '  cp -p "$agent_dir"/xe-* "$work/root/agent/"',
    "fi",
    "mkiso=$(command -v genisoimage || command -v mkisofs || true)",
    '[ -n "$mkiso" ] || fail "neither genisoimage nor mkisofs is installed on the XenServer host"',
    '"$mkiso" -quiet -R -J -V config-2 -o "$work/config-2.iso" "$work/root"',
    'size=$(wc -c <"$work/config-2.iso")',
    `size=$(( (size + ${MIB - 1}) / ${MIB} * ${MIB} ))`,
    'sr=$(one "$(xe sr-list name-label="$sr_name" --minimal)" "storage repository \'$sr_name\' (xen-coreos:xenserver.storageRepository)")',
    'vdi=$(xe vdi-create sr-uuid="$sr" name-label="$name_label" type=user virtual-size="$size")',
    `if ! xe vdi-param-set uuid="$vdi" other-config:${CONFIG_DRIVE_MARKER_KEY}="$marker" ||`,
    '   ! xe vdi-import uuid="$vdi" filename="$work/config-2.iso"; then',
    '  xe vdi-destroy uuid="$vdi" || true',
    '  fail "could not write the config drive into VDI $vdi"',
    "fi",
    'printf \'%s\\n\' "$vdi"',
    "",
  ].join("\n");
}

/** Destroys the config drive VDI(s) with this marker; already gone is success. */
export function renderConfigDriveDeleteScript(drive: Pick<ConfigDriveSpec, "marker" | "nameLabel">): string {
  return [
    `# xen-coreos: remove config drive ${drive.nameLabel}`,
    shellAssign("marker", drive.marker),
    shellAssign("name_label", drive.nameLabel),
    ...prelude("config drive $name_label"),
    "",
    `vdis=$(xe vdi-list other-config:${CONFIG_DRIVE_MARKER_KEY}="$marker" --minimal)`,
    'if [ -z "$vdis" ]; then echo "xen-coreos: config drive $name_label: already gone" >&2; exit 0; fi',
    "old_ifs=$IFS; IFS=,",
    "for vdi in $vdis; do",
    "  IFS=$old_ifs",
    '  for vbd in $(xe vbd-list vdi-uuid="$vdi" --minimal | tr , " "); do',
    '    xe vbd-destroy uuid="$vbd"',
    "  done",
    '  xe vdi-destroy uuid="$vdi"',
    "done",
    "",
  ].join("\n");
}

export interface IsoRepositorySpec {
  name: string;
  location: string;
  isoName: string;
}

/**
 * Makes sure the ISO library exists (thesis Annex 1's `xe sr-create … type=iso`) and holds
 * the CoreOS install ISO. It is shared host infrastructure: no delete script.
 */
export function renderIsoRepositoryScript(iso: IsoRepositorySpec): string {
  return [
    `# xen-coreos: ISO library ${iso.name}`,
    shellAssign("sr_name", iso.name),
    shellAssign("location", iso.location),
    shellAssign("iso_name", iso.isoName),
    ...prelude("ISO library $sr_name"),
    "",
    'sr=$(xe sr-list name-label="$sr_name" type=iso --minimal)',
    'case "$sr" in *,*) fail "several ISO repositories are called $sr_name: $sr" ;; esac',
    'if [ -z "$sr" ]; then',
    '  mkdir -p "$location"',
    '  sr=$(xe sr-create name-label="$sr_name" type=iso device-config:location="$location" device-config:legacy_mode=true content-type=iso)',
    "fi",
    'xe sr-scan uuid="$sr"',
    'if [ -z "$(xe vdi-list sr-uuid="$sr" name-label="$iso_name" --minimal)" ]; then',
    '  fail "the CoreOS install ISO $iso_name is not in $location. Fix: copy it there (scp $iso_name root@<xenserver>:$location/) or set xen-coreos:xenserver.isoRepository.coreosIso"',
    "fi",
    'printf \'%s\\n\' "$sr"',
    "",
  ].join("\n");
}
