/**
 * The settings are the bottom layer: nothing they import (at run time) may reach a service
 * renderer or component, or import the settings back. "Layers depend downwards only".
 * Also: the facts the settings keep as constants (components/config/limits.ts) agree with
 * the layers that render them.
 */
import * as fs from "fs";
import * as path from "path";
import { FTP_USER_RE, GALERA_PORTS, GALERA_RESERVED_USERS, VM_SLOTS } from "../../components/config/limits";
import { CD_DEVICE, CONFIG_DRIVE_DEVICE, SYSTEM_DISK_DEVICE } from "../../components/xen/xe-scripts";
import { GALERA_DEFAULTS, GALERA_PORTS as RENDERED_GALERA_PORTS } from "../../components/services/galera-render";
import { FTP_USER_RE as RENDERED_FTP_USER_RE } from "../../components/services/ftp-render";

const ROOT = path.join(__dirname, "..", "..");
const CONFIG_DIR = path.join(ROOT, "components", "config");

/** Relative modules a file imports at run time (`import type` is erased by tsc and left out). */
function runtimeImports(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  const specs: string[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?["']([^"']+)["']/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[2]) continue;
    if (m[3].startsWith(".")) specs.push(m[3]);
  }
  return specs;
}

function resolve(from: string, spec: string): string {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [`${base}.ts`, path.join(base, "index.ts")]) if (fs.existsSync(candidate)) return candidate;
  throw new Error(`${path.relative(ROOT, from)} imports ${spec}, which does not resolve`);
}

/** Every file reachable from `start`, with the import chain that first reached it. */
function reachable(start: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[start, [start]]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const spec of runtimeImports(file)) {
      const target = resolve(file, spec);
      if (!seen.has(target)) {
        seen.set(target, [...seen.get(file)!, target]);
        queue.push(target);
      }
    }
  }
  return seen;
}

const rel = (f: string) => path.relative(ROOT, f);
const configFiles = fs.readdirSync(CONFIG_DIR).filter((f) => f.endsWith(".ts")).map((f) => path.join(CONFIG_DIR, f));

describe("the settings layer", () => {
  it("finds the import lines it walks (the walker sees the known edges)", () => {
    expect(runtimeImports(path.join(CONFIG_DIR, "settings.ts"))).toEqual(expect.arrayContaining(["./services-settings", "./readers"]));
    expect(runtimeImports(path.join(ROOT, "components", "program.ts"))).toEqual(expect.arrayContaining(["./services/bundles"]));
  });

  it.each(configFiles.map((f) => [rel(f), f]))("%s reaches no module of components/services", (_name, file) => {
    const chains = [...reachable(file).entries()]
      .filter(([target]) => target.startsWith(path.join(ROOT, "components", "services") + path.sep))
      .map(([, chain]) => chain.map(rel).join(" → "));
    expect(chains).toEqual([]);
  });

  it.each(configFiles.map((f) => [rel(f), f]))("%s is on no import circle", (_name, file) => {
    const circles: string[] = [];
    for (const [target, chain] of reachable(file)) {
      if (target === file) continue;
      if (runtimeImports(target).some((spec) => resolve(target, spec) === file)) circles.push([...chain, file].map(rel).join(" → "));
    }
    expect(circles).toEqual([]);
  });
});

describe("the settings' constants agree with the layers that render them", () => {
  it("VM slots: the config drive is userdevice 1 (/dev/xvdb)", () => {
    expect(VM_SLOTS).toEqual({ systemDisk: SYSTEM_DISK_DEVICE, configDrive: CONFIG_DRIVE_DEVICE, cd: CD_DEVICE });
  });

  it("Galera: the member ports, the health-check and SST users", () => {
    expect([...GALERA_PORTS]).toEqual([...RENDERED_GALERA_PORTS]);
    expect(GALERA_RESERVED_USERS).toEqual(expect.arrayContaining([GALERA_DEFAULTS.checkUser, GALERA_DEFAULTS.sstUser]));
  });

  it("FTP: the renderer checks users with the settings' rule", () => {
    expect(RENDERED_FTP_USER_RE).toBe(FTP_USER_RE);
  });
});
