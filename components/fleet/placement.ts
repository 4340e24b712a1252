/**
 * Placement checks for a set of fleet units against the machines of a cluster, done at
 * preview time instead of discovering an unschedulable unit after `fleetctl start`.
 *
 * Rules, from fleet itself:
 * - `[X-Fleet]` keys are MachineID, MachineOf, MachineMetadata, Conflicts, Global, Replaces
 *   (`job/job.go` validRequirements, without the deprecated X- spellings).
 * - fleet's API rejects (`api/units.go` ValidateOptions): MachineID with MachineOf, MachineID
 *   with Conflicts, MachineID with Global, Global with MachineOf, Global with Conflicts, and a
 *   MachineOf target that matches the unit's own Conflicts pattern.
 * - "A unit is considered invalid if options other than MachineMetadata are provided
 *   alongside Global=true" (unit-files-and-scheduling.md), so Global with Replaces too.
 * - MachineOf names another unit exactly; a missing target leaves the follower
 *   unschedulable; MachineOf cannot be bidirectional; global units are not scheduled by
 *   the engine, so they cannot be a MachineOf target.
 * - MachineMetadata: pairs with the same key are OR'ed, different keys AND'ed.
 * - Conflicts are Go `path.Match` globs; `%n %N %p %i` are expanded in X-Fleet values.
 * fleet accepts MachineID together with MachineMetadata (both must hold); machines here
 * carry no machine id, so that pairing is not checked.
 *
 * Pure: returns human-readable errors (each names the unit and the fix), never throws
 * for bad input.
 */
import { parseUnitName, templateOf, RenderedUnit, XFleet, UnitNameParts } from "./unit-file";

export interface PlacementUnit {
  name: string;
  xFleet?: XFleet;
}

export interface PlacementMachine {
  /** A human name for messages (e.g. the hostname). */
  name: string;
  /** fleet metadata of the machine (`coreos.fleet.metadata`). */
  metadata: Record<string, string>;
}

const FLEET_KEYS: Record<string, string> = {
  machineId: "MachineID",
  machineOf: "MachineOf",
  machineMetadata: "MachineMetadata",
  conflicts: "Conflicts",
  global: "Global",
  replaces: "Replaces",
};

/**
 * Compiles a Go `path.Match` pattern to a RegExp, or returns why it is malformed.
 * Syntax: `*` (any run of non-/), `?` (one non-/), `[` [`^`] ranges `]`, `\c` (literal c).
 */
export function compileGlob(pattern: string): RegExp | string {
  if (pattern === "") return "pattern is empty";
  let re = "^";
  let i = 0;
  const esc = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
  const endpoint = (): string | undefined => {
    const c = pattern[i];
    if (c === undefined || c === "-" || c === "]") return undefined;
    if (c === "\\") {
      const n = pattern[i + 1];
      if (n === undefined) return undefined;
      i += 2;
      return n;
    }
    i += 1;
    return c;
  };
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "*") {
      re += "[^/]*";
      i += 1;
    } else if (c === "?") {
      re += "[^/]";
      i += 1;
    } else if (c === "\\") {
      if (i + 1 >= pattern.length) return "pattern ends with a lone backslash";
      re += esc(pattern[i + 1]);
      i += 2;
    } else if (c === "[") {
      i += 1;
      let cls = "[";
      if (pattern[i] === "^") {
        cls += "^";
        i += 1;
      }
      let ranges = 0;
      for (;;) {
        if (i >= pattern.length) return "character class is not closed with ]";
        if (pattern[i] === "]" && ranges > 0) {
          i += 1;
          break;
        }
        const lo = endpoint();
        if (lo === undefined) return `character class has a bad range at position ${i + 1}`;
        let hi = lo;
        if (pattern[i] === "-") {
          i += 1;
          const h = endpoint();
          if (h === undefined) return `character class has a bad range end at position ${i + 1}`;
          hi = h;
        }
        cls += hi === lo ? esc(lo) : `${esc(lo)}-${esc(hi)}`;
        ranges += 1;
      }
      re += cls + "]";
    } else if (c === "]") {
      return "unexpected ] outside a character class";
    } else {
      re += esc(c);
      i += 1;
    }
  }
  try {
    return new RegExp(re + "$");
  } catch {
    return "character class has a range in the wrong order";
  }
}

/** fleet's specifier expansion in X-Fleet values (%n %N %p %i), for a concrete unit name. */
export function expandSpecifiers(value: string, parts: UnitNameParts): string {
  const full = parts.instance === undefined ? `${parts.prefix}.${parts.type}` : `${parts.prefix}@${parts.instance}.${parts.type}`;
  const name = full.slice(0, full.lastIndexOf("."));
  return value
    .replace(/%n/g, full)
    .replace(/%N/g, name)
    .replace(/%p/g, parts.prefix)
    .replace(/%i/g, parts.instance ?? "");
}

interface Resolved {
  name: string;
  parts: UnitNameParts;
  template: boolean;
  own?: XFleet;
  x: XFleet;
}

function describeMachines(machines: PlacementMachine[]): string {
  if (machines.length === 0) return "no machines";
  return [...machines]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => {
      const md = Object.keys(m.metadata)
        .sort()
        .map((k) => `${k}=${m.metadata[k]}`)
        .join(",");
      return `${m.name}${md ? ` (${md})` : " (no metadata)"}`;
    })
    .join(", ");
}

/** Machines satisfying MachineMetadata (same key OR'ed, keys AND'ed); none when a pair is malformed. */
export function matchingMachines(pairs: string[], machines: PlacementMachine[]): PlacementMachine[] {
  const result = metadataMatches(pairs, machines);
  return typeof result === "string" ? [] : result;
}

/** Machines satisfying MachineMetadata (same key OR'ed, keys AND'ed), or the reason a pair is malformed. */
function metadataMatches(pairs: string[], machines: PlacementMachine[]): PlacementMachine[] | string {
  const groups = new Map<string, Set<string>>();
  for (const pair of pairs) {
    const parts = pair.split("=");
    if (parts.length !== 2 || parts[0] === "" || parts[1] === "") return `MachineMetadata ${JSON.stringify(pair)} is not one key=value pair`;
    const set = groups.get(parts[0]) ?? new Set<string>();
    set.add(parts[1]);
    groups.set(parts[0], set);
  }
  return machines.filter((m) => [...groups].every(([k, values]) => m.metadata[k] !== undefined && values.has(m.metadata[k])));
}

/**
 * Validates the placement of `units` on `machines`. Returns a list of errors (empty when
 * all is well), each naming the unit and the fix, in a stable order.
 */
export function validatePlacement(units: PlacementUnit[], machines: PlacementMachine[]): string[] {
  const errors: string[] = [];
  const byName = new Map<string, Resolved>();

  for (const u of units) {
    const parsed = parseUnitName(u.name);
    if (typeof parsed === "string") {
      errors.push(`unit ${JSON.stringify(u.name)}: ${parsed}; rename the unit`);
      continue;
    }
    if (byName.has(u.name)) {
      errors.push(`unit "${u.name}": listed twice; give each unit one definition`);
      continue;
    }
    const template = parsed.instance === "";
    byName.set(u.name, { name: u.name, parts: parsed, template, own: u.xFleet, x: {} });
  }

  // Effective X-Fleet: the unit's own, else its template's; specifiers expanded for instances.
  for (const r of byName.values()) {
    let source = r.own;
    if (source === undefined) {
      const t = templateOf(r.name);
      if (t !== undefined) source = byName.get(t)?.own;
    }
    if (source === undefined) continue;
    for (const key of Object.keys(source)) {
      if (!(key in FLEET_KEYS)) {
        errors.push(
          `unit "${r.name}": [X-Fleet] option ${JSON.stringify(key)} is not a fleet option; use one of ${Object.values(FLEET_KEYS).join(", ")}`,
        );
      }
    }
    const ex = (v: string) => (r.template ? v : expandSpecifiers(v, r.parts));
    r.x = {
      machineId: source.machineId,
      machineOf: source.machineOf === undefined ? undefined : ex(source.machineOf),
      machineMetadata: source.machineMetadata?.map(ex),
      conflicts: source.conflicts?.map(ex),
      global: source.global,
      replaces: source.replaces === undefined ? undefined : ex(source.replaces),
    };
  }

  const isGlobal = (r: Resolved) => r.x.global === true;
  const isTemplateResolved = (name: string) => byName.get(name)?.template === true;
  const exists = (name: string) => {
    const direct = byName.get(name);
    if (direct) return !direct.template;
    const t = templateOf(name);
    return t !== undefined && byName.has(t);
  };
  const lookup = (name: string): Resolved | undefined => {
    const direct = byName.get(name);
    if (direct) return direct;
    const t = templateOf(name);
    return t !== undefined ? byName.get(t) : undefined;
  };

  const compiled = new Map<string, RegExp | string>();
  const glob = (p: string) => {
    let g = compiled.get(p);
    if (g === undefined) {
      g = compileGlob(p);
      compiled.set(p, g);
    }
    return g;
  };

  const eligibleCache = new Map<string, PlacementMachine[] | undefined>();
  const eligible = (r: Resolved, seen: Set<string>): PlacementMachine[] | undefined => {
    if (eligibleCache.has(r.name)) return eligibleCache.get(r.name);
    if (seen.has(r.name)) return undefined;
    seen.add(r.name);
    let out: PlacementMachine[] | undefined = machines;
    const md = metadataMatches(r.x.machineMetadata ?? [], machines);
    if (typeof md !== "string") out = md;
    if (r.x.machineOf !== undefined && !r.template) {
      const target = lookup(r.x.machineOf);
      if (target && !isGlobal(target)) {
        const t = eligible(target, seen);
        if (t !== undefined && out !== undefined) out = out.filter((m) => t.includes(m));
      }
    }
    eligibleCache.set(r.name, out);
    return out;
  };

  const capacityReported = new Set<string>();
  const schedulable = [...byName.values()].filter((r) => !r.template);

  for (const r of byName.values()) {
    const x = r.x;
    const where = `unit "${r.name}"`;
    const has = {
      id: x.machineId !== undefined,
      of: x.machineOf !== undefined,
      conflicts: (x.conflicts ?? []).length > 0,
      global: x.global === true,
      replaces: x.replaces !== undefined,
    };

    // Combination rules (fleet API + documentation).
    if (has.id && has.of) errors.push(`${where}: MachineID cannot be used with MachineOf (fleet rejects the unit); keep only one of them`);
    if (has.id && has.conflicts) errors.push(`${where}: MachineID cannot be used with Conflicts (fleet rejects the unit); drop Conflicts or MachineID`);
    if (has.id && has.global) errors.push(`${where}: MachineID cannot be used with Global (fleet rejects the unit); drop Global or MachineID`);
    if (has.global && has.of) errors.push(`${where}: Global cannot be used with MachineOf (fleet rejects the unit); drop MachineOf or Global`);
    if (has.global && has.conflicts) errors.push(`${where}: Global cannot be used with Conflicts (fleet rejects the unit); drop Conflicts or Global`);
    if (has.global && has.replaces) {
      errors.push(`${where}: Global cannot be used with Replaces (only MachineMetadata may accompany Global=true); drop Replaces or Global`);
    }

    if (has.id && !/^[0-9a-f]{32}$/.test(x.machineId as string)) {
      errors.push(`${where}: MachineID ${JSON.stringify(x.machineId)} is not a full 32-hex machine id; copy it from "fleetctl list-machines -l"`);
    }

    // Conflicts patterns.
    const patterns: RegExp[] = [];
    for (const p of x.conflicts ?? []) {
      const g = glob(p);
      if (typeof g === "string") errors.push(`${where}: Conflicts pattern ${JSON.stringify(p)} is malformed (${g}); write a glob such as "galera@*.service"`);
      else patterns.push(g);
    }

    // MachineOf target.
    if (has.of) {
      const target = x.machineOf as string;
      const probe = r.template ? target.replace(/%i/g, "x").replace(/%[nNp]/g, "x") : target;
      const tparsed = parseUnitName(probe);
      if (typeof tparsed === "string") {
        errors.push(`${where}: MachineOf ${JSON.stringify(target)}: ${tparsed}; name the exact unit to run next to`);
      } else if (!r.template || !/%[nNpi]/.test(target)) {
        if (target === r.name) errors.push(`${where}: MachineOf names the unit itself; name the unit it must run next to`);
        else if (isTemplateResolved(target)) errors.push(`${where}: MachineOf "${target}" is a template, which never runs; name an instance such as "${target.replace("@.", "@1.")}"`);
        else if (!exists(target)) errors.push(`${where}: MachineOf "${target}" is not one of the units being deployed; add that unit or fix the name`);
        else {
          const t = lookup(target) as Resolved;
          if (isGlobal(t)) errors.push(`${where}: MachineOf "${target}" is a Global unit, which fleet does not schedule as a target; make the follower Global instead`);
          const back = t.template ? (t.own?.machineOf === undefined ? undefined : expandSpecifiers(t.own.machineOf, tparsed)) : t.x.machineOf;
          if (!r.template && back === r.name) {
            errors.push(`${where}: MachineOf "${target}" and that unit's MachineOf "${r.name}" point at each other; fleet cannot schedule a bidirectional MachineOf, keep it on the follower only`);
          }
        }
      } else {
        const t = templateOf(probe);
        if (t !== undefined && !byName.has(t) && !byName.has(probe)) {
          errors.push(`${where}: MachineOf ${JSON.stringify(target)} refers to template "${t}", which is not among the units being deployed; add it or fix the name`);
        }
      }
      for (let i = 0; i < patterns.length; i++) {
        if (!r.template && patterns[i].test(target)) {
          errors.push(`${where}: MachineOf "${target}" matches its own Conflicts pattern ${JSON.stringify(x.conflicts?.[i])}; the requirements cannot both hold, drop one`);
        }
      }
    }

    // Replaces.
    if (has.replaces) {
      const rp = x.replaces as string;
      const probe = r.template ? rp.replace(/%[nNpi]/g, "x") : rp;
      const parsed = parseUnitName(probe);
      if (typeof parsed === "string") errors.push(`${where}: Replaces ${JSON.stringify(rp)}: ${parsed}; name the unit to move away from`);
      else if (!r.template && rp === r.name) errors.push(`${where}: Replaces names the unit itself; name the unit it must move away from`);
      else if (has.of && rp === x.machineOf) errors.push(`${where}: Replaces and MachineOf both name "${rp}" (away from and next to it); keep one`);
    }

    // MachineMetadata.
    const md = metadataMatches(x.machineMetadata ?? [], machines);
    if (typeof md === "string") {
      errors.push(`${where}: ${md}; write it as key=value, e.g. "role=db"`);
      continue;
    }
    if ((x.machineMetadata ?? []).length > 0 && md.length === 0) {
      errors.push(
        `${where}: MachineMetadata ${(x.machineMetadata ?? []).join(" ")} matches none of the machines [${describeMachines(machines)}]; fix the metadata or give a machine that metadata`,
      );
      continue;
    }
    if (r.template) continue;

    const el = eligible(r, new Set());
    if (has.of && el !== undefined && el.length === 0 && (x.machineMetadata ?? []).length > 0) {
      const target = lookup(x.machineOf as string);
      if (target && !isGlobal(target)) {
        errors.push(`${where}: no machine satisfies both its MachineMetadata and that of its MachineOf target "${x.machineOf}"; make the metadata agree`);
      }
    }

    // Conflicts capacity: units matching the unit's own pattern must land on distinct machines.
    if (patterns.length > 0 && el !== undefined && patterns.some((p) => p.test(r.name))) {
      const key = (x.conflicts ?? []).join(" ");
      const group = schedulable.filter((v) => patterns.some((p) => p.test(v.name)) && (v.x.conflicts ?? []).join(" ") === key).map((v) => v.name);
      const groupKey = `${key}|${group.join(",")}`;
      if (group.length > el.length && !capacityReported.has(groupKey)) {
        capacityReported.add(groupKey);
        errors.push(
          `${where}: ${group.length} units (${group.join(", ")}) conflict with each other through ${JSON.stringify(key)} and need distinct machines, but only ${el.length} machine(s) are eligible; add eligible machines or run fewer units`,
        );
      }
    }
  }
  return errors;
}

/** Rendered units as placement input: each template followed by its instances (which inherit its X-Fleet). */
export function placementUnits(units: RenderedUnit[]): PlacementUnit[] {
  const out: PlacementUnit[] = [];
  for (const u of units) {
    out.push({ name: u.name, xFleet: u.xFleet });
    for (const i of u.instances ?? []) out.push({ name: i });
  }
  return out;
}
