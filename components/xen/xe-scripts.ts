/**
 * Shell scripts that drive `xe` on the XenServer host. The logic lives in `scripts/*.sh`
 * beside this file; the renderers here add a generated header (one quoted assignment per
 * value, so a `pulumi preview` diff of a script shows exactly the settings that changed and
 * a hostile value stays one literal word). Pure: plain values in, POSIX sh text out. xe
 * syntax follows the xapi CLI (xapi-project/xen-api, ocaml/xapi-cli-server/cli_frontend.ml).
 *
 * Every object the program creates carries a marker in its other-config that names one
 * deployment (a random id kept in the stack's state) and, for a VM, one instance: scripts
 * find and delete objects by marker only, so two stacks (or two projects, or two backends)
 * on one host never touch each other's VMs or drives.
 */
import * as fs from "fs";
import * as path from "path";
import { scriptWithHeader } from "../shell";

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** other-config key that marks a VM as belonging to a node of a deployment. */
export const VM_MARKER_KEY = "xen-coreos-node";
/** other-config key that marks a config drive VDI. */
export const CONFIG_DRIVE_MARKER_KEY = "xen-coreos-config-drive";
/** Userdevice positions: system disk, config drive, install CD. */
export const SYSTEM_DISK_DEVICE = 0;
export const CONFIG_DRIVE_DEVICE = 1;
export const CD_DEVICE = 3;
/** Seconds the converge script waits for a node to halt before an in-place change. Defaults for XenVm. */
export const DEFAULT_HALT_TIMEOUT_SECONDS = 300;

const body = (file: string) => fs.readFileSync(path.join(__dirname, "scripts", file), "utf8");

/** The marker of a node's VM: deployment, cluster, node and the VM instance. */
export function vmMarker(m: { deployment: string; cluster: string; node: string; instance: string }): string {
  return `${m.deployment}/${m.cluster}/${m.node}/${m.instance}`;
}

export interface VmSpec {
  /**
   * The marker of the same node written by versions before deployment ids
   * (`<stack>/<cluster>/<node>`). Only an update passes it, to take that VM over once; a
   * create never adopts a VM it did not make.
   */
  legacyMarker?: string;
  /** VM name-label (the node name). */
  nameLabel: string;
  template: string;
  storageRepository: string;
  network: string;
  /** name-label of the install ISO (its file name in the ISO repository). */
  isoName: string;
  /** What the error of a missing template tells the operator to do (see `missingTemplateFix`). Defaults to the 6.5 text. */
  templateFix?: string;
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
  /** Seconds to wait for the node to halt before an in-place change. Defaults to 300. */
  haltTimeoutSeconds?: number;
  /** After that wait, power the VM off hard instead of failing. Defaults to false. */
  hardPowerOff?: boolean;
}

/** The host versions the program knows (xen-coreos:xenserver.version). */
export type HostVersion = "6.5" | "8" | "xcp-ng-8.3";

/** The fix a missing install template calls for, by host version: "CoreOS" exists only up to XenServer 7. */
export function missingTemplateFix(version: HostVersion): string {
  if (version === "6.5")
    return 'the "CoreOS" template ships with XenServer 6.5 SP1 and 7.x. On XenServer 8 or XCP-ng 8.3 set xen-coreos:xenserver.version to 8 or xcp-ng-8.3 (the template becomes "Generic Linux BIOS") and xen-coreos:os.profile to flatcar; otherwise set xen-coreos:xenserver.template to a template xe template-list params=name-label shows';
  const host = version === "8" ? "XenServer 8" : "XCP-ng 8.3";
  return `${host} installs from "Generic Linux BIOS" (it has no "CoreOS" template): remove xen-coreos:xenserver.template to use it, or set it to a template xe template-list params=name-label shows`;
}

/**
 * The create/update script of a node's VM (`scripts/vm-converge.sh`). Prints the VM uuid as
 * its last line. The config drive's VDI uuid and the VM's marker arrive on standard input
 * (see `vmConvergeInput`): they are known only once the drive and the random ids exist, and
 * keeping them out of the script keeps the script (and its preview diff) known beforehand.
 */
export function renderVmConvergeScript(vm: VmSpec): string {
  return scriptWithHeader(body("vm-converge.sh"), {
    title: `converge the VM of node ${vm.nameLabel}`,
    what: "node $name_label",
    params: [
      ["legacy_marker", vm.legacyMarker ?? ""],
      ["name_label", vm.nameLabel],
      ["template", vm.template],
      ["template_fix", vm.templateFix ?? missingTemplateFix("6.5")],
      ["sr_name", vm.storageRepository],
      ["network_name", vm.network],
      ["iso_name", vm.isoName],
      ["vcpus", vm.vcpus],
      ["memory_bytes", bytes(vm.memoryMiB, MIB, "memoryMiB")],
      ["disk_bytes", bytes(vm.diskGiB, GIB, "diskGiB")],
      ["halt_timeout", vm.haltTimeoutSeconds ?? DEFAULT_HALT_TIMEOUT_SECONDS],
      ["hard_power_off", vm.hardPowerOff ? "true" : "false"],
      ["system_device", SYSTEM_DISK_DEVICE],
      ["config_device", CONFIG_DRIVE_DEVICE],
      ["cd_device", CD_DEVICE],
    ],
  });
}

/** The converge script's standard input: the config drive's VDI uuid, then the VM's marker. */
export function vmConvergeInput(configDriveVdi: string, marker: string): string {
  return `${configDriveVdi}\n${marker}\n`;
}

/** An exact integer byte count as decimal digits (never `9.4e+21`); settings validation keeps sizes in range. */
function bytes(n: number, unit: number, what: string): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} must be a whole number, got ${n}`);
  return (BigInt(n) * BigInt(unit)).toString();
}

export interface VmDeleteSpec {
  marker: string;
  nameLabel: string;
}

/** The delete script (`scripts/vm-delete.sh`): removes the one VM with this marker; already gone is success. */
export function renderVmDeleteScript(vm: VmDeleteSpec): string {
  return scriptWithHeader(body("vm-delete.sh"), {
    title: `remove the VM of node ${vm.nameLabel}`,
    what: "node $name_label",
    params: [
      ["marker", vm.marker],
      ["name_label", vm.nameLabel],
      ["config_device", CONFIG_DRIVE_DEVICE],
    ],
  });
}

export interface ConfigDriveSpec {
  /** Unique per deployment, node and drive content: `<deployment>/<cluster>/<node>/<hash>`. */
  marker: string;
  nameLabel: string;
  storageRepository: string;
  /** Size of the config-2 image in bytes, as built by the program. */
  imageBytes: number;
  /** sha256 (hex) of the image: the host checks what arrived. */
  imageSha256: string;
  /** Size of the VDI: the image size rounded up to a multiple of 2 MiB. */
  vdiBytes: number;
}

/**
 * The create script of a config drive (`scripts/config-drive-create.sh`): the image arrives
 * base64-encoded on standard input; the script checks it, pads it to the VDI's size, imports
 * it into a new marked VDI and prints the VDI's uuid.
 */
export function renderConfigDriveCreateScript(drive: ConfigDriveSpec): string {
  return scriptWithHeader(body("config-drive-create.sh"), {
    title: `config drive ${drive.nameLabel}`,
    what: "config drive $name_label",
    params: [
      ["marker", drive.marker],
      ["name_label", drive.nameLabel],
      ["sr_name", drive.storageRepository],
      ["image_bytes", drive.imageBytes],
      ["image_sha256", drive.imageSha256],
      ["vdi_bytes", drive.vdiBytes],
    ],
  });
}

/** The delete script of a config drive: destroys the VDI with this marker; already gone is success. */
export function renderConfigDriveDeleteScript(drive: Pick<ConfigDriveSpec, "marker" | "nameLabel">): string {
  return scriptWithHeader(body("config-drive-delete.sh"), {
    title: `remove config drive ${drive.nameLabel}`,
    what: "config drive $name_label",
    params: [
      ["marker", drive.marker],
      ["name_label", drive.nameLabel],
    ],
  });
}

export interface IsoRepositorySpec {
  name: string;
  location: string;
  isoName: string;
}

/**
 * Makes sure the ISO library exists (thesis Annex 1's `xe sr-create … type=iso`) and holds
 * the install ISO. It is shared host infrastructure: no delete script.
 */
export function renderIsoRepositoryScript(iso: IsoRepositorySpec): string {
  return scriptWithHeader(body("iso-repository.sh"), {
    title: `ISO library ${iso.name}`,
    what: "ISO library $sr_name",
    params: [
      ["sr_name", iso.name],
      ["location", iso.location],
      ["iso_name", iso.isoName],
    ],
  });
}

export interface NodeHaltSpec {
  nameLabel: string;
  /** What needs the halt; each enters the script, so a change of any of them runs it again. */
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
  configDriveVdi: string;
}

/**
 * Runs on the node (`scripts/node-halt.sh`): asks it to power itself off shortly after the
 * session ends. XenVm runs it on update only, when a setting that needs a halted VM changes.
 */
export function renderNodeHaltScript(spec: NodeHaltSpec): string {
  return scriptWithHeader(body("node-halt.sh"), {
    title: `halt node ${spec.nameLabel} for an in-place change`,
    what: "node $name_label",
    params: [
      ["name_label", spec.nameLabel],
      ["changes", ` vcpus=${spec.vcpus} memoryMiB=${spec.memoryMiB} diskGiB=${spec.diskGiB} configDrive=${spec.configDriveVdi}`],
    ],
  });
}

/** Where XenServer keeps its tools ISOs in dom0 (xscontainer's XS_TOOLS_ISO_PATH). */
export const TOOLS_ISO_GLOB = "/opt/xensource/packages/iso/xs-tools-*.iso";
/** The Linux guest agent's files that xscontainer copies from the tools ISO's Linux/ folder. */
export const GUEST_AGENT_FILES = [
  "xe-daemon",
  "xe-linux-distribution",
  "xe-linux-distribution.service",
  "xe-update-guest-attrs",
  "xen-vcpu-hotplug.rules",
  "install.sh",
  "versions.deb",
  "versions.rpm",
] as const;

/** Reads the guest agent's files from the host's tools ISO (`scripts/guest-agent.sh`). */
export function renderGuestAgentScript(opts: { toolsGlob?: string } = {}): string {
  return scriptWithHeader(body("guest-agent.sh"), {
    title: "read the Linux guest agent from the tools ISO",
    what: "guest agent",
    params: [
      ["tools_glob", opts.toolsGlob ?? TOOLS_ISO_GLOB],
      ["agent_files", GUEST_AGENT_FILES.join(" ")],
    ],
  });
}

/**
 * A file for a config drive as plain text values (base64 content): what can travel through
 * Pulumi outputs, which unwrap nested objects and would take a Buffer apart.
 */
export interface EncodedDriveFile {
  path: string;
  mode: number;
  base64: string;
}

/** The guest agent script's output as config drive files under `agent/`. */
export function parseGuestAgentListing(stdout: string): EncodedDriveFile[] {
  const known = new Set<string>(GUEST_AGENT_FILES);
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const m = /^(\S+) ([0-7]{3,4}) ([A-Za-z0-9+/=]*)$/.exec(line.trim());
      if (!m || !known.has(m[1])) throw new Error(`unexpected line from the guest agent script: ${JSON.stringify(line.slice(0, 80))}`);
      return { path: `agent/${m[1]}`, mode: parseInt(m[2], 8), base64: m[3] };
    });
}
