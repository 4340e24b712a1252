/**
 * The grammar of the `xe` commands xen-coreos uses, taken from the xapi CLI source
 * (github.com/xapi-project/xen-api):
 *
 *  - static commands: `ocaml/xapi-cli-server/cli_frontend.ml`, table `cmdtable_data`
 *    (each entry has `reqd`, `optn`, `flags`);
 *  - generated commands (`<class>-list`, `-param-get`, `-param-set`): `ocaml/xapi-cli-server/
 *    cli_operations.ml`, `make_param_funs`/`gen_cmds`, over the field lists of `records.ml`;
 *  - parsing and error texts: `cli_frontend.ml` (`parse_params_2`, `switch_map`),
 *    `xapi_cli.ml` (`exception_handler`, `param_error`), `cli_util.ml` (`server_error`),
 *    `cli_printer.ml` (record layout, `--minimal`), `record_util.ml` (`bytes_of_string`),
 *    `ocaml/idl/datamodel_errors.ml` (error documentation strings).
 *
 * The runtime copy used by `bin/xe` is `bin/xe-grammar.json`; `doubles.test.ts` fails when the
 * two drift (regenerate with `UPDATE_XE_GRAMMAR=1 npx jest test/sandbox`).
 * Read at commits 01a4cb27 (cli_frontend.ml, cli_operations.ml) and 8392236 (records.ml) of
 * the index; wording may differ in the XenServer 6.5 build of xapi (see FACTS below).
 */

/** Flags of a `cmd_spec` (cli_cmdtable.ml). */
export type XeFlag = "Standard" | "Vm_selectors" | "Host_selectors" | "Sr_selectors" | "Hidden";

/** How a record field is shown by `*-param-list`: ( RO)/( RW), map (MRO)/(MRW), set (SRO)/(SRW). */
export type XeFieldKind = "RO" | "RW" | "MRO" | "MRW" | "SRO" | "SRW";

export interface XeField {
  name: string;
  kind: XeFieldKind;
  /** `~expensive:true`: `*-list` prints `<expensive field>`, param-get computes it. */
  expensive?: boolean;
  /** `~deprecated:true`: printed with a ` [DEPRECATED]` suffix. */
  deprecated?: boolean;
}

export interface XeClass {
  /** Fields in records.ml order (a subset: the ones the double models). */
  fields: XeField[];
  /** Default columns of `<class>-list` (gen_cmds); printed in record order. */
  listDefaults: string[];
  /** Filters `<class>-list` always adds (gen_cmds `def_filters`). */
  listFilters: Record<string, string>;
}

export interface XeCommand {
  name: string;
  /** Required parameters, checked in order; the first missing one is reported. */
  reqd: string[];
  /** Optional parameters; a trailing `:` is a map prefix (`device-config:KEY=VALUE`). */
  optn: string[];
  /** Parameters the implementation in cli_operations.ml reads although `optn` omits them. */
  implicit?: string[];
  flags: XeFlag[];
  /** Where the entry comes from and what it says. */
  source: string;
  /** For generated commands: the record class and the operation. */
  generated?: { cls: keyof typeof XE_CLASSES; op: "list" | "param-get" | "param-set" };
}

const RO = "RO" as const;
const RW = "RW" as const;
const MRO = "MRO" as const;
const MRW = "MRW" as const;
const SRO = "SRO" as const;
const SRW = "SRW" as const;

const VM_FIELDS: XeField[] = [
  { name: "uuid", kind: RO },
  { name: "name-label", kind: RW },
  { name: "name-description", kind: RW },
  { name: "user-version", kind: RW },
  { name: "is-a-template", kind: RW },
  { name: "is-default-template", kind: RW },
  { name: "is-a-snapshot", kind: RO },
  { name: "snapshot-of", kind: RO },
  { name: "snapshots", kind: RO },
  { name: "parent", kind: RO },
  { name: "children", kind: RO },
  { name: "is-control-domain", kind: RO },
  { name: "power-state", kind: RO },
  { name: "memory-actual", kind: RO },
  { name: "memory-overhead", kind: RO },
  { name: "memory-static-max", kind: RW },
  { name: "memory-dynamic-max", kind: RW },
  { name: "memory-dynamic-min", kind: RW },
  { name: "memory-static-min", kind: RW },
  { name: "suspend-VDI-uuid", kind: RW },
  { name: "suspend-SR-uuid", kind: RW },
  { name: "VCPUs-params", kind: MRW },
  { name: "VCPUs-max", kind: RW },
  { name: "VCPUs-at-startup", kind: RW },
  { name: "actions-after-shutdown", kind: RW },
  { name: "actions-after-reboot", kind: RW },
  { name: "actions-after-crash", kind: RW },
  { name: "console-uuids", kind: SRO },
  { name: "hvm", kind: RO },
  { name: "platform", kind: MRW },
  { name: "allowed-operations", kind: SRO },
  { name: "current-operations", kind: SRO },
  { name: "blocked-operations", kind: MRW },
  { name: "allowed-VBD-devices", kind: SRO, expensive: true },
  { name: "allowed-VIF-devices", kind: SRO, expensive: true },
  { name: "possible-hosts", kind: RO, expensive: true },
  { name: "domain-type", kind: RW },
  { name: "HVM-boot-policy", kind: RW },
  { name: "HVM-boot-params", kind: MRW },
  { name: "HVM-shadow-multiplier", kind: RW },
  { name: "PV-kernel", kind: RW },
  { name: "PV-ramdisk", kind: RW },
  { name: "PV-args", kind: RW },
  { name: "PV-legacy-args", kind: RW },
  { name: "PV-bootloader", kind: RW },
  { name: "PV-bootloader-args", kind: RW },
  { name: "last-boot-CPU-flags", kind: RO },
  { name: "resident-on", kind: RO },
  { name: "affinity", kind: RW },
  { name: "other-config", kind: MRW },
  { name: "dom-id", kind: RO },
  { name: "recommendations", kind: RO },
  { name: "xenstore-data", kind: MRW },
  { name: "ha-always-run", kind: RW, deprecated: true },
  { name: "ha-restart-priority", kind: RW },
  { name: "blobs", kind: RO },
  { name: "start-time", kind: RO },
  { name: "install-time", kind: RO },
  { name: "VCPUs-number", kind: RO },
  { name: "VBDs", kind: SRO },
  { name: "tags", kind: SRW },
  { name: "start-delay", kind: RW },
  { name: "shutdown-delay", kind: RW },
  { name: "order", kind: RW },
  { name: "version", kind: RO },
  { name: "has-vendor-device", kind: RW },
];

/**
 * Record classes (records.ml `vm_record`, `vdi_record`, `vbd_record`, `vif_record`,
 * `net_record`, `sr_record`, `host_record`) with the `<class>-list` defaults of gen_cmds.
 */
export const XE_CLASSES = {
  vm: {
    fields: VM_FIELDS,
    listDefaults: ["name-label", "uuid", "power-state"],
    listFilters: { "is-a-template": "false" },
  },
  template: {
    fields: VM_FIELDS,
    listDefaults: ["name-label", "name-description", "uuid"],
    listFilters: { "is-a-template": "true", "is-a-snapshot": "false" },
  },
  vdi: {
    fields: [
      { name: "uuid", kind: RO },
      { name: "name-label", kind: RW },
      { name: "name-description", kind: RW },
      { name: "is-a-snapshot", kind: RO },
      { name: "snapshot-of", kind: RO },
      { name: "snapshots", kind: RO },
      { name: "allowed-operations", kind: SRO },
      { name: "current-operations", kind: SRO },
      { name: "sr-uuid", kind: RO },
      { name: "sr-name-label", kind: RO },
      { name: "vbd-uuids", kind: SRO },
      { name: "crashdump-uuids", kind: SRO },
      { name: "virtual-size", kind: RO },
      { name: "physical-utilisation", kind: RO },
      { name: "location", kind: RO },
      { name: "type", kind: RO },
      { name: "sharable", kind: RO },
      { name: "read-only", kind: RO },
      { name: "storage-lock", kind: RO },
      { name: "managed", kind: RO },
      { name: "parent", kind: RO, deprecated: true },
      { name: "missing", kind: RO },
      { name: "is-tools-iso", kind: RO },
      { name: "other-config", kind: MRW },
      { name: "xenstore-data", kind: MRO },
      { name: "sm-config", kind: MRO },
      { name: "on-boot", kind: RW },
      { name: "allow-caching", kind: RW },
      { name: "metadata-latest", kind: RO },
      { name: "tags", kind: SRW },
      { name: "cbt-enabled", kind: RO },
    ],
    listDefaults: ["uuid", "name-label", "name-description", "virtual-size", "read-only", "sharable", "sr-uuid"],
    listFilters: {},
  },
  vbd: {
    fields: [
      { name: "uuid", kind: RO },
      { name: "vm-uuid", kind: RO },
      { name: "vm-name-label", kind: RO },
      { name: "vdi-uuid", kind: RO },
      { name: "vdi-name-label", kind: RO },
      { name: "allowed-operations", kind: SRO },
      { name: "current-operations", kind: SRO },
      { name: "empty", kind: RO },
      { name: "device", kind: RO },
      { name: "userdevice", kind: RW },
      { name: "bootable", kind: RW },
      { name: "mode", kind: RW },
      { name: "type", kind: RW },
      { name: "unpluggable", kind: RW },
      { name: "currently-attached", kind: RO },
      { name: "attachable", kind: RO, expensive: true },
      { name: "storage-lock", kind: RO },
      { name: "status-code", kind: RO },
      { name: "status-detail", kind: RO },
      { name: "qos_algorithm_type", kind: RW },
      { name: "qos_algorithm_params", kind: MRW },
      { name: "qos_supported_algorithms", kind: SRO },
      { name: "other-config", kind: MRW },
    ],
    listDefaults: ["uuid", "vm-uuid", "vm-name-label", "vdi-uuid", "device", "empty"],
    listFilters: {},
  },
  vif: {
    fields: [
      { name: "uuid", kind: RO },
      { name: "vm-uuid", kind: RO },
      { name: "vm-name-label", kind: RO },
      { name: "allowed-operations", kind: SRO },
      { name: "current-operations", kind: SRO },
      { name: "device", kind: RO },
      { name: "MAC", kind: RO },
      { name: "MAC-autogenerated", kind: RO },
      { name: "MTU", kind: RO },
      { name: "currently-attached", kind: RO },
      { name: "qos_algorithm_type", kind: RW },
      { name: "qos_algorithm_params", kind: MRW },
      { name: "other-config", kind: MRW },
      { name: "network-uuid", kind: RO },
      { name: "network-name-label", kind: RO },
      { name: "locking-mode", kind: RW },
    ],
    listDefaults: ["uuid", "device", "vm-uuid", "network-uuid"],
    listFilters: {},
  },
  network: {
    fields: [
      { name: "uuid", kind: RO },
      { name: "name-label", kind: RW },
      { name: "name-description", kind: RW },
      { name: "VIF-uuids", kind: SRO },
      { name: "PIF-uuids", kind: SRO },
      { name: "MTU", kind: RW },
      { name: "bridge", kind: RO },
      { name: "managed", kind: RO },
      { name: "other-config", kind: MRW },
      { name: "blobs", kind: RO },
      { name: "tags", kind: SRW },
      { name: "default-locking-mode", kind: RW },
    ],
    listDefaults: ["uuid", "name-label", "name-description", "bridge"],
    listFilters: {},
  },
  sr: {
    fields: [
      { name: "uuid", kind: RO },
      { name: "name-label", kind: RW },
      { name: "name-description", kind: RW },
      { name: "host", kind: RO },
      { name: "allowed-operations", kind: SRO },
      { name: "current-operations", kind: SRO },
      { name: "VDIs", kind: SRO },
      { name: "PBDs", kind: SRO },
      { name: "virtual-allocation", kind: RO },
      { name: "physical-utilisation", kind: RO },
      { name: "physical-size", kind: RO },
      { name: "type", kind: RO },
      { name: "content-type", kind: RO },
      { name: "shared", kind: RW },
      { name: "introduced-by", kind: RO },
      { name: "is-tools-sr", kind: RO },
      { name: "other-config", kind: MRW },
      { name: "sm-config", kind: MRO },
      { name: "blobs", kind: RO },
      { name: "local-cache-enabled", kind: RO },
      { name: "tags", kind: SRW },
    ],
    listDefaults: ["uuid", "name-label", "name-description", "host", "type", "content-type"],
    listFilters: {},
  },
  host: {
    fields: [
      { name: "uuid", kind: RO },
      { name: "name-label", kind: RW },
      { name: "name-description", kind: RW },
      { name: "allowed-operations", kind: SRO },
      { name: "current-operations", kind: SRO },
      { name: "enabled", kind: RO },
      { name: "API-version-major", kind: RO },
      { name: "API-version-minor", kind: RO },
      { name: "software-version", kind: MRO },
      { name: "other-config", kind: MRW },
      { name: "hostname", kind: RO },
      { name: "address", kind: RO },
      { name: "memory-total", kind: RO },
      { name: "memory-free", kind: RO },
      { name: "tags", kind: SRW },
    ],
    listDefaults: ["uuid", "name-label", "name-description"],
    listFilters: {},
  },
} satisfies Record<string, XeClass>;

export type XeClassName = keyof typeof XE_CLASSES;

/** make_param_funs: `<class>-list` takes `params`, `database:`, every field and `<set>:contains`. */
function listCommand(cls: XeClassName, standard: boolean): XeCommand {
  const fields: XeField[] = XE_CLASSES[cls].fields;
  return {
    name: `${cls}-list`,
    reqd: [],
    optn: [
      "params",
      "database:",
      ...fields.map((f) => f.name),
      ...fields.filter((f) => f.kind.startsWith("S")).map((f) => `${f.name}:contains`),
    ],
    flags: standard ? ["Standard"] : [],
    source:
      "cli_operations.ml gen_cmds/make_param_funs: (cli_name \"list\", [], (\"params\" :: \"database:\" :: all_optn) @ sm_param_names); " +
      "Standard only for vm, network, sr. Any other key=value is a field filter; map fields filter as map:key=value, sets as set:contains=value.",
    generated: { cls, op: "list" },
  };
}

/** make_param_funs: `<class>-param-get` reqd [uuid; param-name], optn [param-key; database:]. */
function paramGetCommand(cls: XeClassName): XeCommand {
  return {
    name: `${cls}-param-get`,
    reqd: ["uuid", "param-name"],
    optn: ["param-key", "database:"],
    flags: [],
    source:
      "cli_operations.ml make_param_funs p_get: prints the field; with param-key prints one key of a map field " +
      "(\"Key %s not found in map\" otherwise); an unknown param-name raises CLI_failed_to_find_param (\"Missing parameter\").",
    generated: { cls, op: "param-get" },
  };
}

/** make_param_funs: `<class>-param-set` reqd [uuid], optn = settable fields @ `<map>:` prefixes. */
function paramSetCommand(cls: XeClassName): XeCommand {
  const fields: XeField[] = XE_CLASSES[cls].fields;
  return {
    name: `${cls}-param-set`,
    reqd: ["uuid"],
    optn: [
      ...fields.filter((f) => f.kind === "RW").map((f) => f.name),
      ...fields.filter((f) => f.kind === "MRW").map((f) => `${f.name}:`),
    ],
    flags: [],
    source:
      "cli_operations.ml make_param_funs p_set: every key except uuid and stdparams is set in order; map:key=value " +
      "(or legacy map-key=value) adds/replaces a key; read-only -> \"Field 'x' is read-only.\"; unknown -> \"Unknown field 'x'\"; " +
      "set fields -> \"Cannot param-set on set fields\".",
    generated: { cls, op: "param-set" },
  };
}

/** The commands the project (and its tests) may run. */
export const XE_COMMANDS: XeCommand[] = [
  listCommand("vm", true),
  {
    name: "vm-install",
    reqd: ["new-name-label"],
    optn: ["sr-name-label", "sr-uuid", "template", "copy-bios-strings-from"],
    implicit: ["template-uuid", "template-name", "template-name-label"],
    flags: ["Standard"],
    source:
      "cli_frontend.ml (\"vm-install\", reqd [new-name-label]; optn [sr-name-label; sr-uuid; template; copy-bios-strings-from]; " +
      "\"The template parameter can match either the template name or the uuid.\"). cli_operations.ml vm_install also reads " +
      "template-uuid / template-name / template-name-label; prints the new VM uuid; disks of other-config:disks are provisioned in the SR.",
  },
  paramSetCommand("vm"),
  paramGetCommand("vm"),
  {
    name: "vm-memory-limits-set",
    reqd: ["static-min", "static-max", "dynamic-min", "dynamic-max"],
    optn: [],
    flags: ["Vm_selectors"],
    source:
      "cli_frontend.ml (\"vm-memory-limits-set\", reqd [static-min; static-max; dynamic-min; dynamic-max], flags [Vm_selectors]); " +
      "values parsed by Record_util.bytes_of_string; includes control domain and templates in the selection.",
  },
  {
    name: "vm-start",
    reqd: [],
    optn: ["force", "on", "paused"],
    implicit: ["progress"],
    flags: ["Standard", "Vm_selectors"],
    source:
      "cli_frontend.ml (\"vm-start\", optn [force; on; paused], flags [Standard; Vm_selectors]); a running VM fails with " +
      "VM_BAD_POWER_STATE (expected halted).",
  },
  {
    name: "vm-shutdown",
    reqd: [],
    optn: ["force"],
    implicit: ["progress"],
    flags: ["Standard", "Vm_selectors"],
    source:
      "cli_frontend.ml (\"vm-shutdown\", optn [force]; \"The optional argument --force will forcibly shut down the VM.\"); " +
      "clean_shutdown needs running, hard_shutdown (force) needs paused, suspended or running.",
  },
  {
    name: "vm-uninstall",
    reqd: [],
    optn: ["force"],
    flags: ["Standard", "Vm_selectors"],
    source:
      "cli_frontend.ml (\"vm-uninstall\", optn [force]; \"This operation will destroy those VDIs that are marked RW and connected " +
      "to this VM only.\"). cli_operations.ml vm_uninstall_common: hard-shuts a running VM, destroys it and the VDIs whose VBD " +
      "other-config has the 'owner' key (vm-install disks; not vbd-create or vm-cd-add ones); without force asks \"Type 'yes' to continue\".",
  },
  {
    name: "vm-cd-add",
    reqd: ["cd-name", "device"],
    optn: [],
    implicit: ["cd-location"],
    flags: ["Standard", "Vm_selectors"],
    source:
      "cli_frontend.ml (\"vm-cd-add\", reqd [cd-name; device]; \"The device field should be selected from the parameter " +
      "'allowed-VBD-devices' of the VM.\"); cd-name is the name-label of a VDI in an SR with content-type iso (\"CD %s not found!\").",
  },
  {
    name: "vm-cd-remove",
    reqd: ["cd-name"],
    optn: [],
    flags: ["Standard", "Vm_selectors"],
    source: "cli_frontend.ml (\"vm-cd-remove\", reqd [cd-name]); destroys the CD VBD (\"Disk not found\" when absent).",
  },
  {
    name: "vm-disk-list",
    reqd: [],
    optn: ["vbd-params", "vdi-params"],
    flags: ["Standard", "Vm_selectors"],
    source: "cli_frontend.ml (\"vm-disk-list\", optn [vbd-params; vdi-params]); prints 'Disk N VBD:'/'Disk N VDI:' tables.",
  },
  {
    name: "vm-vif-list",
    reqd: [],
    optn: [],
    implicit: ["params"],
    flags: ["Standard", "Vm_selectors"],
    source: "cli_frontend.ml (\"vm-vif-list\", reqd [], optn []); cli_operations.ml vm_vif_list forces multiple=true and accepts params=.",
  },
  listCommand("template", false),
  listCommand("vbd", false),
  {
    name: "vbd-create",
    reqd: ["vm-uuid", "device"],
    optn: ["vdi-uuid", "bootable", "type", "mode", "unpluggable"],
    flags: [],
    source:
      "cli_frontend.ml (\"vbd-create\", reqd [vm-uuid; device]; optn [vdi-uuid; bootable; type; mode; unpluggable]; \"If no VDI is " +
      "specified, an empty VBD will be created. The type parameter can be 'Disk', 'CD' or 'Floppy', and the mode is 'RO' or 'RW'.\").",
  },
  { name: "vbd-destroy", reqd: ["uuid"], optn: [], flags: [], source: "cli_frontend.ml (\"vbd-destroy\", reqd [uuid])." },
  {
    name: "vbd-unplug",
    reqd: ["uuid"],
    optn: ["timeout", "force"],
    flags: [],
    source: "cli_frontend.ml (\"vbd-unplug\", reqd [uuid]; optn [timeout; force]; \"detach the VBD while the VM is in the running state\").",
  },
  paramSetCommand("vbd"),
  paramGetCommand("vbd"),
  listCommand("vdi", false),
  {
    name: "vdi-create",
    reqd: ["sr-uuid", "name-label", "virtual-size"],
    optn: ["sm-config:", "sharable", "tags:", "type"],
    flags: [],
    source:
      "cli_frontend.ml (\"vdi-create\", reqd [sr-uuid; name-label; virtual-size]; optn [sm-config:; sharable; tags:; type]; " +
      "\"Type is 'system' 'user' 'suspend' or 'crashdump'.\"); virtual-size parsed by Record_util.bytes_of_string.",
  },
  {
    name: "vdi-import",
    reqd: ["uuid", "filename"],
    optn: ["format", "progress"],
    flags: [],
    source: "cli_frontend.ml (\"vdi-import\", reqd [uuid; filename]; optn [format; progress]; \"Import a raw VDI.\").",
  },
  {
    name: "vdi-resize",
    reqd: ["uuid", "disk-size"],
    optn: ["online"],
    flags: [],
    source:
      "cli_frontend.ml (\"vdi-resize\", reqd [uuid; disk-size]; optn [online]); disk-size parsed by bytes_of_string; " +
      "SM drivers refuse to shrink (XenError('VDISize', opterr='shrinking not allowed') = SR_BACKEND_FAILURE_79).",
  },
  { name: "vdi-destroy", reqd: ["uuid"], optn: [], flags: [], source: "cli_frontend.ml (\"vdi-destroy\", reqd [uuid])." },
  paramSetCommand("vdi"),
  paramGetCommand("vdi"),
  {
    name: "vif-create",
    reqd: ["device", "network-uuid", "vm-uuid"],
    optn: ["mac"],
    flags: [],
    source:
      "cli_frontend.ml (\"vif-create\", reqd [device; network-uuid; vm-uuid]; optn [mac]; \"If MAC is not specified the server " +
      "will choose an appropriate MAC automatically.\"); mac=random also generates one.",
  },
  listCommand("vif", false),
  listCommand("network", true),
  listCommand("sr", true),
  {
    name: "sr-create",
    reqd: ["name-label", "type"],
    optn: ["host-uuid", "device-config:", "shared", "physical-size", "content-type", "sm-config:"],
    flags: [],
    source:
      "cli_frontend.ml (\"sr-create\", reqd [name-label; type]; optn [host-uuid; device-config:; shared; physical-size; " +
      "content-type; sm-config:]; \"The device-config parameters can be specified by device-config:foo=baa\"); prints the SR uuid.",
  },
  {
    name: "sr-scan",
    reqd: ["uuid"],
    optn: [],
    flags: [],
    source: "cli_frontend.ml (\"sr-scan\", reqd [uuid]; \"Force an SR scan, syncing database with VDIs present in underlying storage substrate.\").",
  },
  {
    name: "cd-list",
    reqd: [],
    optn: ["params"],
    flags: ["Standard"],
    source: "cli_frontend.ml (\"cd-list\", optn [params]); cli_operations.ml cd_list: VDIs of SRs whose content-type is iso, default params name-label, uuid.",
  },
  listCommand("host", false),
];

/** Parameters every command accepts (cli_operations.ml `stdparams`). */
export const XE_STDPARAMS = [
  "server",
  "password",
  "port",
  "username",
  "minimal",
  "force",
  "multiple",
  "all",
  "message-priority",
  "trace",
];

/**
 * Behaviour facts found in the source, with where they are. The double reproduces these texts.
 */
export const XE_FACTS = {
  parsing: {
    source: "cli_frontend.ml parse_params_2 / switch_map",
    text:
      "'--name' becomes name=true (--minimal, --force, --multiple, --all, --live); 'key=value' splits at the first '='; " +
      "-s/-h/-p/-u/-pw take the next argument; a first argument containing '=' is a syntax error.",
  },
  selectors: {
    source: "cli_frontend.ml vmselectorsinfo; cli_operations.ml select_vms/do_vm_op",
    text:
      "VMs are selected by filtering all VMs on any field (uuid=, name-label=, power-state=halted, other-config:key=v); the pseudo-field " +
      "vm= matches uuid or name-label. Control domains and templates are excluded unless the command includes them (vm-start and " +
      "vm-memory-limits-set include dom0). No selector = all VMs. More than one match needs --multiple. Unknown field -> Failure " +
      "\"Unknown field 'x'\".",
  },
  minimal: {
    source: "cli_printer.ml multi_line_xapi_minimal",
    text: "--minimal prints the first field of each record (uuid for *-list defaults), comma-separated on one line, commas escaped as '\\,'.",
  },
  recordLayout: {
    source: "cli_printer.ml multi_line_record; cli_operations.ml print_field",
    text:
      "First key left-aligned, the others right-aligned to (longest key + 4), each line 'key: value', records separated by a blank " +
      "line; keys carry ' ( RO)', ' ( RW)', ' (MRO)', ' (MRW)', ' (SRO)', ' (SRW)'. Maps print as 'k: v; k2: v2'.",
  },
  sizes: {
    source: "record_util.ml bytes_of_string",
    text:
      "Sizes parse as '%Ld %s': an integer, optional blanks, optional suffix (case-insensitive): b/bytes/(none)=1, k/kb/kib=1024, " +
      "m/mb/mib=1024^2, g/gb/gib=1024^3, t/tb/tib=1024^4 (all binary, KB = KiB). Negative or other suffixes fail with \"Error: Failed " +
      "to parse field '<f>': expecting an integer (possibly with suffix KiB, MiB, GiB, TiB), got '<v>'\". Used by memory-* fields, " +
      "vm-memory-limits-set, vdi-create virtual-size and vdi-resize disk-size. VCPUs-* use safe_i64_of_string: \"Failed to parse parameter " +
      "'<f>': expecting an integer\".",
  },
  errors: {
    unknownCommand: { source: "xapi_cli.ml exception_handler", text: "Unknown command: <name>\\nFor usage run: 'xe help' (stderr, exit 1)" },
    missingParam: {
      source: "xapi_cli.ml check_required_keys + exception_handler",
      text: "Required parameter not found: <name>\\nFor usage run: 'xe help' (stderr, exit 1)",
    },
    unknownParam: {
      source: "xapi_cli.ml do_rpcs (only check_required_keys)",
      text:
        "The real xe does NOT reject unknown parameters of ordinary commands: they are ignored. On selector commands, *-list and " +
        "*-param-set they are field names, and an unknown one fails with Failure \"Unknown field '<name>'\". The double also rejects " +
        "unknown parameters of ordinary commands (exit 2, marked 'xe-double') unless XE_LENIENT=1.",
    },
    serverError: {
      source: "cli_util.ml server_error / datamodel_errors.ml",
      text:
        "A documented API error prints its doc line then 'param: value' lines; an undocumented code (e.g. SR_BACKEND_FAILURE_79) " +
        "prints 'Error code: <code>' and 'Error parameters: <p1>, <p2>'. OCaml Failure s prints INTERNAL_ERROR with 'message: Failure: s'. " +
        "Record_failure/Cli_failure print 'Error: <msg>'. Exit code 1.",
    },
    noMatchingVm: { source: "cli_operations.ml do_vm_op", text: "failwith \"No matching VMs found\" (INTERNAL_ERROR layout)" },
    uuidInvalid: { source: "datamodel_errors.ml uuid_invalid [type; uuid]", text: "The uuid you supplied was invalid." },
    badPowerState: {
      source: "xapi_vm_lifecycle.ml report_power_state_error; datamodel_errors.ml vm_bad_power_state [vm; expected; actual]",
      text: "expected lists allowed states joined by ', ' (start: halted; clean_shutdown: running; hard_shutdown: paused, suspended, running)",
    },
    vcpus: {
      source: "xapi_vm_helpers.ml set_VCPUs_max / set_VCPUs_at_startup",
      text: "INVALID_VALUE [\"VCPU values must satisfy: 0 < VCPUs_at_startup ≤ VCPUs_max\"; value]",
    },
    memory: {
      source: "vm_memory_constraints (xapi): order_constraint",
      text:
        "MEMORY_CONSTRAINT_VIOLATION [\"Memory limits must satisfy: static_min ≤ dynamic_min ≤ dynamic_max ≤ static_max\"]; " +
        "without the DMC feature the equality form \"static_min ≤ dynamic_min = dynamic_max = static_max\".",
    },
    shrink: {
      source: "xapi-project/sm drivers (LVHDSR/FileSR resize) + XE_SR_ERRORCODES.xml VDISize=79",
      text: "Error code: SR_BACKEND_FAILURE_79 / Error parameters: , VDI Invalid size [opterr=shrinking not allowed], ",
    },
  },
} as const;

/** The commands by name. */
export const XE_GRAMMAR: Record<string, XeCommand> = Object.fromEntries(XE_COMMANDS.map((c) => [c.name, c]));

/** The JSON the `bin/xe` script loads (kept in `bin/xe-grammar.json`). */
export function xeGrammarJson(): string {
  return (
    JSON.stringify(
      { commands: XE_COMMANDS, classes: XE_CLASSES, stdparams: XE_STDPARAMS },
      null,
      1,
    ) + "\n"
  );
}
