/**
 * Typed model of a fleet unit file and the ONE writer that turns it into text.
 *
 * A unit is a list of ordered directives per section; the writer emits the sections
 * in a fixed order ([Unit], [Service], [X-Fleet], [Install]), validates every key and
 * rejects values that would change the file's structure (newlines, a trailing
 * backslash that systemd reads as a line continuation). Nothing here quotes shell
 * words: callers build Exec lines with `components/shell.ts`.
 *
 * Unit names follow fleet's documented rules (`Documentation/unit-files-and-scheduling.md`,
 * derived from systemd's `unit_name_is_valid`): `prefix[@instance].type`, prefix
 * `[a-zA-Z0-9:_.-]+`, instance `[a-zA-Z0-9:_.@-]*`, at most 256 characters, and a type
 * fleet can schedule.
 *
 * Pure: plain values in, strings out.
 */

import { Directive, IniSection, renderIni } from "../systemd/ini";

/** One `Key=value` line. Order is kept and keys may repeat (e.g. several `ExecStartPre=`). */
export type { Directive };

/** The fleet-specific `[X-Fleet]` section. Field order here is the order written. */
export interface XFleet {
  /** `MachineID=`: pin the unit to one machine (full 32-hex machine id). */
  machineId?: string;
  /** `MachineOf=`: schedule next to this unit (exact name; `%i`/`%p`/`%n`/`%N` allowed). */
  machineOf?: string;
  /** `MachineMetadata=`: `key=value` pairs; same key twice = OR, different keys = AND. */
  machineMetadata?: string[];
  /** `Conflicts=`: glob patterns (Go `path.Match`) of units this one must not share a machine with. */
  conflicts?: string[];
  /** `Global=true`: run on every (metadata-matching) machine. */
  global?: boolean;
  /** `Replaces=`: schedule this unit away from the named unit, which fleet then moves. */
  replaces?: string;
}

/** A unit file as data. Absent or empty sections are not written. */
export interface UnitFile {
  unit?: Directive[];
  service?: Directive[];
  xFleet?: XFleet;
  install?: Directive[];
}

/** A rendered unit: its fleet name, its text, and its `[X-Fleet]` for placement checks. */
export interface RenderedUnit {
  name: string;
  text: string;
  xFleet?: XFleet;
  /** For a template (`galera@.service`): the instances to start (`galera@1.service`, …). */
  instances?: string[];
}

/**
 * A file a service needs besides its unit (script, config), at the absolute path a node
 * sees it (`/mnt/nfs/...` for files on the share). `mode` is the octal permission.
 */
export interface RenderedFile {
  path: string;
  content: string;
  mode: number;
}

/** What a service renderer hands to the fleet/NAS components. */
export interface ServiceBundle {
  units: RenderedUnit[];
  files: RenderedFile[];
}

/** Unit types fleet schedules (fleet's documented subset of systemd's). */
export const FLEET_UNIT_TYPES = ["service", "socket", "device", "mount", "automount", "timer", "path"] as const;
export type FleetUnitType = (typeof FLEET_UNIT_TYPES)[number];

const KEY_RE = /^[A-Za-z][A-Za-z0-9]*$/;
const PREFIX_RE = /^[A-Za-z0-9:_.-]+$/;
const INSTANCE_RE = /^[A-Za-z0-9:_.@-]*$/;
const UNIT_NAME_MAX = 256;
const METADATA_PART_RE = /^[A-Za-z0-9_.:/-]+$/;
const MACHINE_ID_RE = /^[0-9a-f]{32}$/;

/** The parts of a unit name. `instance` is undefined for a plain unit, "" for a template. */
export interface UnitNameParts {
  prefix: string;
  instance?: string;
  type: FleetUnitType;
}

/** Parses a unit name, or returns a human-readable reason why it is not valid. */
export function parseUnitName(name: string): UnitNameParts | string {
  if (typeof name !== "string" || name.length === 0) return "unit name is empty";
  if (name.length > UNIT_NAME_MAX) return `unit name is longer than ${UNIT_NAME_MAX} characters`;
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return `unit name "${name}" has no ".type" suffix (e.g. "${name}.service")`;
  const type = name.slice(dot + 1);
  if (!(FLEET_UNIT_TYPES as readonly string[]).includes(type)) {
    return `unit name "${name}" has type "${type}", fleet schedules only ${FLEET_UNIT_TYPES.join(", ")}`;
  }
  const stem = name.slice(0, dot);
  const at = stem.indexOf("@");
  const prefix = at === -1 ? stem : stem.slice(0, at);
  if (prefix === "") return `unit name "${name}" must not start with "@"`;
  if (!PREFIX_RE.test(prefix)) {
    return `unit name "${name}" has a prefix outside [A-Za-z0-9:_.-]`;
  }
  if (at === -1) return { prefix, type: type as FleetUnitType };
  const instance = stem.slice(at + 1);
  if (!INSTANCE_RE.test(instance)) {
    return `unit name "${name}" has an instance outside [A-Za-z0-9:_.@-]`;
  }
  return { prefix, instance, type: type as FleetUnitType };
}

/** True when `name` is a valid fleet unit name. */
export function isValidUnitName(name: string): boolean {
  return typeof parseUnitName(name) !== "string";
}

/** Throws with a clear message unless `name` is a valid fleet unit name. */
export function validateUnitName(name: string): void {
  const parsed = parseUnitName(name);
  if (typeof parsed === "string") throw new Error(`invalid unit name: ${parsed}`);
}

/** True for a template name such as `apache@.service`. */
export function isTemplateName(name: string): boolean {
  const parsed = parseUnitName(name);
  return typeof parsed !== "string" && parsed.instance === "";
}

/** The template a unit instance comes from (`apache@3.service` → `apache@.service`), else undefined. */
export function templateOf(name: string): string | undefined {
  const parsed = parseUnitName(name);
  if (typeof parsed === "string" || parsed.instance === undefined || parsed.instance === "") return undefined;
  return `${parsed.prefix}@.${parsed.type}`;
}

/** `templateName("apache")` → `apache@.service`. */
export function templateName(prefix: string, type: FleetUnitType = "service"): string {
  const name = `${prefix}@.${type}`;
  validateUnitName(name);
  return name;
}

/** `instanceName("apache", 3)` → `apache@3.service`. */
export function instanceName(prefix: string, instance: string | number, type: FleetUnitType = "service"): string {
  const text = String(instance);
  if (text === "") throw new Error(`invalid unit name: instance of "${prefix}" is empty (that is the template name)`);
  const name = `${prefix}@${text}.${type}`;
  validateUnitName(name);
  return name;
}

/** `unitName("nginx")` → `nginx.service` (a plain, non-template unit). */
export function unitName(prefix: string, type: FleetUnitType = "service"): string {
  if (prefix.includes("@")) throw new Error(`invalid unit name: "${prefix}" contains "@"; use templateName/instanceName`);
  const name = `${prefix}.${type}`;
  validateUnitName(name);
  return name;
}

function checkDirective(section: string, [key, value]: Directive): void {
  if (!KEY_RE.test(key)) {
    throw new Error(`[${section}] key ${JSON.stringify(key)} is not a valid unit key (letters and digits, starting with a letter)`);
  }
  if (typeof value !== "string") throw new Error(`[${section}] ${key}= value must be a string`);
  if (/[\r\n]/.test(value)) {
    throw new Error(`[${section}] ${key}= value contains a newline; a unit value must be one line`);
  }
  if (value.includes("\0")) throw new Error(`[${section}] ${key}= value contains a NUL byte`);
  if (value.endsWith("\\")) {
    throw new Error(`[${section}] ${key}= value ends with a backslash, which systemd reads as a line continuation`);
  }
}

function checkMetadataPair(pair: string): void {
  const parts = pair.split("=");
  if (parts.length !== 2 || !METADATA_PART_RE.test(parts[0]) || !METADATA_PART_RE.test(parts[1])) {
    throw new Error(`[X-Fleet] MachineMetadata ${JSON.stringify(pair)} must be one key=value pair of [A-Za-z0-9_.:/-] characters`);
  }
}

/** The `[X-Fleet]` directives of `x`, in a fixed order. Validates value shapes, not combinations. */
export function xFleetDirectives(x: XFleet): Directive[] {
  const out: Directive[] = [];
  if (x.machineId !== undefined) {
    if (!MACHINE_ID_RE.test(x.machineId)) {
      throw new Error(`[X-Fleet] MachineID ${JSON.stringify(x.machineId)} must be the full 32-hex machine id (fleetctl list-machines -l)`);
    }
    out.push(["MachineID", x.machineId]);
  }
  if (x.machineOf !== undefined) out.push(["MachineOf", x.machineOf]);
  for (const pair of x.machineMetadata ?? []) {
    checkMetadataPair(pair);
    out.push(["MachineMetadata", pair]);
  }
  for (const pattern of x.conflicts ?? []) {
    if (pattern === "" || /\s/.test(pattern)) throw new Error(`[X-Fleet] Conflicts ${JSON.stringify(pattern)} must be a non-empty glob without spaces`);
    out.push(["Conflicts", pattern]);
  }
  if (x.global !== undefined) out.push(["Global", x.global ? "true" : "false"]);
  if (x.replaces !== undefined) out.push(["Replaces", x.replaces]);
  return out;
}

/**
 * Renders a unit file: sections in the order [Unit], [Service], [X-Fleet], [Install],
 * one blank line between sections, a final newline. Empty sections are left out.
 * Throws on an invalid key or a value that is not a single line.
 */
export function renderUnitFile(u: UnitFile): string {
  const sections: IniSection[] = [
    ["Unit", u.unit ?? []],
    ["Service", u.service ?? []],
    ["X-Fleet", u.xFleet ? xFleetDirectives(u.xFleet) : []],
    ["Install", u.install ?? []],
  ];
  for (const [title, directives] of sections) for (const d of directives) checkDirective(title, d);
  if (sections.every(([, directives]) => directives.length === 0)) throw new Error("unit file has no sections");
  // The one INI writer of the project; the checks above keep fleet's own messages.
  return renderIni(sections);
}
