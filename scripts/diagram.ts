/**
 * A picture of a stack's platform: `npm run diagram -- <stack> [out.svg|out.png|out.dot]`.
 *
 * Reads Pulumi.<stack>.yaml through the program's own settings parser (so the picture
 * shows exactly what `pulumi up` would build, defaults included, and refuses what the
 * program refuses) and the services' rendered fleet units, and draws with Graphviz
 * (`dot`): the XenServer host, each cluster with its nodes (name, IP, vCPUs, memory, disk,
 * fleet metadata), the units grouped by where fleet may place them (the nodes matching
 * their MachineMetadata, MachineOf target or Global), and the NAS share with its mount
 * point. Nothing is contacted; the secret settings are only assumed present.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { CONFIG_NAMESPACE, ClusterSettings, ETCD_FAULT_TOLERANCE, NodeSettings, RawSettings, StackSettings, parseSettings } from "../components/config/settings";
import { renderFtpBundle, renderGaleraBundle, renderWebBundle } from "../components/services/bundles";
import { matchingMachines } from "../components/fleet/placement";
import { RenderedUnit, XFleet } from "../components/fleet/unit-file";
import { pathToUnitName } from "../components/systemd/ini";
import { publishedPorts } from "../policy/rules";

const ROOT = path.resolve(__dirname, "..");

// ---------------------------------------------------------------- DOT text

/**
 * A DOT double-quoted string (an ID or a label) holding `text` literally: `\` and `"` are
 * escaped, line breaks become DOT's `\n` (centred) or `\l` (left-justified), other control
 * characters are dropped. Escaping the backslash also keeps user text such as `\N` or `\G`
 * from becoming one of Graphviz's label escapes (node name, graph name), and `&` becomes
 * `&amp;` because Graphviz decodes HTML entities (`&lt;`, `&#45;`) in every label.
 */
export function dotString(text: string, lineBreak: "\\n" | "\\l" = "\\n"): string {
  const body = String(text)
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => line.replace(/[\u0000-\u001f\u007f]/g, "").replace(/&/g, "&amp;").replace(/\\/g, "\\\\").replace(/"/g, '\\"'))
    .join(lineBreak);
  return `"${body}"`;
}

/**
 * Text for a Graphviz HTML-like label (inside `<…>`): `&`, `<`, `>`, `"` and `'` become
 * entities, so settings text can never open a tag or end the label; control characters are
 * dropped (line breaks are the caller's `<BR/>`).
 */
export function htmlText(text: string): string {
  return String(text)
    .replace(/[\u0000-\u001f\u007f]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** A multi-line, left-justified label: each line escaped, each ended with `\l`. */
export function dotLines(lines: string[]): string {
  return `${dotString(lines.join("\n"), "\\l").slice(0, -1)}\\l"`;
}

/** `key=value` attribute list; values go through `dotString` unless given as raw DOT (`{ raw }`). */
function attrs(a: Record<string, string | number | boolean | { raw: string } | undefined>): string {
  const parts = Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "object" ? v.raw : typeof v === "string" ? dotString(v) : String(v)}`);
  return parts.length ? ` [${parts.join(", ")}]` : "";
}

// ---------------------------------------------------------------- reading the stack

/** The stack file's config in this project's namespace, as raw settings (namespace stripped). */
export function readStackRaw(stack: string, dir = ROOT): RawSettings {
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    const stacks = fs.readdirSync(dir).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).map((f) => f.split(".")[1]);
    throw new Error(`no stack file Pulumi.${stack}.yaml; stacks here: ${stacks.join(", ")}`);
  }
  const doc = (yaml.load(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const raw: RawSettings = {};
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    if (key.startsWith(`${CONFIG_NAMESPACE}:`)) raw[key.slice(CONFIG_NAMESPACE.length + 1)] = value;
  }
  return raw;
}

/** Settings as the program validates them; the secrets are assumed set (a picture needs none). */
export function readStackSettings(stack: string, dir = ROOT): StackSettings {
  return parseSettings(readStackRaw(stack, dir), new Set(["sshPrivateKey"]));
}

// ---------------------------------------------------------------- placement

/** One unit as drawn: its name (a template with its instances is one), ports and placement rule. */
export interface UnitPlacement {
  service: string;
  unit: string;
  instances: string[];
  ports: string[];
  /** Runs in the node's network namespace (`docker run --network host`): its ports are the node's. */
  hostNetwork: boolean;
  /** How fleet places it, in words. */
  rule: string;
  /** Names of the nodes fleet may place it on. */
  nodes: string[];
  /** The unit it runs next to (MachineOf; `x@%i` resolved to the template `x@.service`). */
  follows?: string;
}

function describeRule(x: XFleet | undefined): string {
  if (!x) return "any node";
  const parts: string[] = [];
  if (x.global) parts.push("Global: on every matching node");
  if (x.machineOf) parts.push(`MachineOf ${x.machineOf}`);
  if (x.machineMetadata?.length) parts.push(`MachineMetadata ${x.machineMetadata.join(", ")}`);
  if (x.conflicts?.length) parts.push(`Conflicts ${x.conflicts.join(", ")}: one per node`);
  if (x.machineId) parts.push(`MachineID ${x.machineId}`);
  if (x.replaces) parts.push(`Replaces ${x.replaces}`);
  return parts.length ? parts.join("; ") : "any node";
}

/** Where fleet may place each unit of a cluster: MachineMetadata, then a MachineOf target's own nodes. */
export function placeUnits(cluster: ClusterSettings, units: Array<{ service: string; unit: RenderedUnit }>): UnitPlacement[] {
  const machines = cluster.nodes.map((n) => ({ name: n.name, metadata: n.metadata }));
  const byName = new Map(units.map((u) => [u.unit.name, u.unit]));
  const resolve = (u: RenderedUnit, seen: Set<string>): string[] => {
    let eligible = matchingMachines(u.xFleet?.machineMetadata ?? [], machines).map((m) => m.name);
    const of = u.xFleet?.machineOf;
    if (of && !seen.has(u.name)) {
      seen.add(u.name);
      // `galera@%i.service` follows the instance of the same number: the template's nodes.
      const target = byName.get(machineOfTarget(of));
      if (target) {
        const t = new Set(resolve(target, seen));
        eligible = eligible.filter((n) => t.has(n));
      }
    }
    return eligible;
  };
  return units.map(({ service, unit }) => ({
    service,
    unit: unit.name,
    instances: unit.instances ?? [],
    ports: publishedPorts(unit.text).ports.map((p) => (p.host ? `${rangeText(p.host)}→${rangeText(p.container)}${p.protocol === "tcp" ? "" : `/${p.protocol}`}` : `→${rangeText(p.container)}`)),
    hostNetwork: /\s--network[= ]host(\s|$)/.test(unit.text),
    rule: describeRule(unit.xFleet),
    nodes: resolve(unit, new Set()),
    ...(unit.xFleet?.machineOf ? { follows: machineOfTarget(unit.xFleet.machineOf) } : {}),
  }));
}

/** A MachineOf value as a unit of the bundle: `galera@%i.service` follows the template `galera@.service`. */
function machineOfTarget(of: string): string {
  return of.replace(/@%i\./, "@.");
}

function rangeText(r: { from: number; to: number }): string {
  return r.from === r.to ? String(r.from) : `${r.from}-${r.to}`;
}

/** The rendered units of every service, by cluster name. */
export function serviceUnits(settings: StackSettings): Map<string, Array<{ service: string; unit: RenderedUnit }>> {
  const out = new Map<string, Array<{ service: string; unit: RenderedUnit }>>();
  const add = (service: string, cluster: string, units: RenderedUnit[]) => out.set(cluster, [...(out.get(cluster) ?? []), ...units.map((unit) => ({ service, unit }))]);
  const { web, galera, ftp } = settings.services;
  const cluster = (name: string) => settings.clusters.find((c) => c.name === name)!;
  if (web) add("web", web.cluster, renderWebBundle(web).units);
  if (galera) add("galera", galera.cluster, renderGaleraBundle(galera, cluster(galera.cluster)).units);
  // Unit texts do not depend on the passwords (they live in the users file, a secret).
  if (ftp) add("ftp", ftp.cluster, renderFtpBundle(ftp, ftp.users.map((name) => ({ name, password: "placeholder" }))).units);
  return out;
}

// ---------------------------------------------------------------- the graph

function nodeLines(n: NodeSettings): string[] {
  const md = Object.entries(n.metadata).map(([k, v]) => `${k}=${v}`).join(", ");
  return [
    n.name,
    n.ip,
    `${n.vcpus} vCPU${n.vcpus === 1 ? "" : "s"}, ${n.memoryMiB} MiB, ${n.diskGiB} GiB disk`,
    ...(md ? [`fleet: ${md}`] : []),
    ...(n.join ? ["joins after bootstrap"] : []),
  ];
}

const sortedSet = (names: string[]) => [...names].sort().join(",");
/** Unit boxes per column in a placement group before another column starts. */
const MAX_ROWS = 8;

/** The whole picture as DOT text (deterministic: the same settings give the same text). */
export function renderDiagramDot(stack: string, settings: StackSettings): string {
  const { xenserver, network, nas, discovery, coreos } = settings;
  const units = serviceUnits(settings);
  const out: string[] = [];
  const id = (...parts: string[]) => dotString(parts.join(":"));
  out.push(`digraph ${dotString(`xen-coreos ${stack}`)} {`);
  out.push(`  graph${attrs({ label: `xen-coreos stack ${stack}: network ${network.cidr}, gateway ${network.gateway}, DNS ${network.dns.join(", ")}; CoreOS ${coreos.channel}`, labelloc: "t", fontname: "Helvetica", fontsize: 16, rankdir: "LR", compound: true, nodesep: 0.25, ranksep: 0.9, newrank: true })};`);
  out.push(`  node${attrs({ fontname: "Helvetica", fontsize: 11, shape: "box", style: "rounded,filled", fillcolor: "white" })};`);
  out.push(`  edge${attrs({ fontname: "Helvetica", fontsize: 10, color: "#555555" })};`);

  const hostLines = [
    `XenServer ${xenserver.host}`,
    `ssh ${xenserver.user}@${xenserver.host}:${xenserver.port}`,
    `network: ${xenserver.network}`,
    `storage: ${xenserver.storageRepository}`,
    `template: ${xenserver.template}`,
    `ISO library ${xenserver.isoRepository.name}: ${xenserver.isoRepository.location}/${xenserver.isoRepository.coreosIso}`,
    "runs every node as a VM (xe over ssh)",
  ];
  out.push(`  ${id("host")}${attrs({ label: { raw: dotLines(hostLines) }, fillcolor: "#dde8f6", shape: "box3d", style: "filled" })};`);

  const mountUnit = pathToUnitName(nas.mountPoint);
  const nasLines = [
    `NAS ${nas.server}:${nas.export}`,
    `mounted on every node at ${nas.mountPoint} (${mountUnit})`,
    `options ${nas.options.join(",")}`,
    nas.managed ? `export managed over ssh ${nas.sshUser}@${nas.server}:${nas.sshPort}` : "export configured by hand (appliance)",
    "www/  nginx/  services/  (never deleted by a teardown)",
  ];
  out.push(`  ${id("nas")}${attrs({ label: { raw: dotLines(nasLines) }, fillcolor: "#fdf1d6", shape: "folder", style: "filled" })};`);

  for (const cluster of settings.clusters) {
    const size = cluster.nodes.filter((n) => !n.join).length;
    const tolerated = ETCD_FAULT_TOLERANCE[size];
    const title = `cluster ${cluster.name}: etcd ${size} member${size === 1 ? "" : "s"}${tolerated === undefined ? "" : ` (tolerates ${tolerated} failure${tolerated === 1 ? "" : "s"})`}, discovery ${discovery.endpoint}`;
    out.push(`  subgraph ${dotString(`cluster_${cluster.name}`)} {`);
    out.push(`    graph${attrs({ label: title, style: "rounded", color: "#3a6ea5", fontsize: 13 })};`);
    // The nodes as one table, one row (port n<i>) per node, in settings order.
    const rows = cluster.nodes.map((n, i) => {
      const [name, ...rest] = nodeLines(n);
      return `<TR><TD PORT="n${i}" ALIGN="LEFT" BALIGN="LEFT" BGCOLOR="#e8f4e8"><B>${htmlText(name)}</B><BR/>${rest.map(htmlText).join("<BR/>")}</TD></TR>`;
    });
    const table = `<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="6"><TR><TD BGCOLOR="#cfe5cf"><B>${htmlText(`nodes of ${cluster.name} (XenServer VMs)`)}</B></TD></TR>${rows.join("")}</TABLE>`;
    out.push(`    ${id("nodes", cluster.name)}${attrs({ shape: "plain", style: { raw: '""' }, label: { raw: `<${table}>` } })};`);
    const nodePort = (name: string) => `${id("nodes", cluster.name)}:n${cluster.nodes.findIndex((n) => n.name === name)}`;

    // Units with the same eligible nodes share a box: "may run on <nodes>".
    const placed = placeUnits(cluster, units.get(cluster.name) ?? []);
    const groups = new Map<string, UnitPlacement[]>();
    for (const p of placed) groups.set(sortedSet(p.nodes), [...(groups.get(sortedSet(p.nodes)) ?? []), p]);
    const allNodes = sortedSet(cluster.nodes.map((n) => n.name));
    let g = 0;
    for (const [key, members] of groups) {
      g += 1;
      const nodes = key ? key.split(",") : [];
      const where = nodes.length === 0 ? "no node matches: fleet cannot place these" : key === allNodes ? `may run on any of its ${nodes.length} nodes` : `may run on ${nodes.join(", ")}`;
      out.push(`    subgraph ${dotString(`cluster_${cluster.name}_units_${g}`)} {`);
      out.push(`      graph${attrs({ label: `fleet units: ${where}`, style: "rounded,filled", fillcolor: "#f4f4f4", color: "#999999" })};`);
      // A MachineOf follower (announce sidecar, discovery sidecar, upstream renderer) is
      // drawn inside its target's box: it always runs on the same node.
      const inGroup = new Set(members.map((m) => m.unit));
      const followers = new Map<string, UnitPlacement[]>();
      for (const u of members) if (u.follows && inGroup.has(u.follows)) followers.set(u.follows, [...(followers.get(u.follows) ?? []), u]);
      const leaders = members.filter((u) => !(u.follows && inGroup.has(u.follows)));
      // Declared last-first: dot's LR layout stacks a rank's nodes bottom-up in declaration order.
      for (const u of [...leaders].reverse()) {
        const lines = [
          `${u.service}: ${u.unit}`,
          ...(u.instances.length ? [`instances: ${u.instances.join(" ")}`] : []),
          ...(u.ports.length ? [`ports ${u.ports.join(", ")}`] : []),
          ...(u.hostNetwork ? ["host network: binds the node's own ports"] : []),
          u.rule,
          ...(followers.get(u.unit) ?? []).map((f) => `+ ${f.unit}${f.instances.length ? ` (×${f.instances.length})` : ""}: ${f.rule}`),
        ];
        out.push(`      ${id("unit", cluster.name, u.unit)}${attrs({ label: { raw: dotLines(lines) }, fillcolor: "#ffffff" })};`);
      }
      // Many units: several columns (invisible edges push later units one rank right).
      const perColumn = leaders.length > MAX_ROWS ? Math.ceil(leaders.length / Math.ceil(leaders.length / MAX_ROWS)) : leaders.length;
      for (let i = 0; i + perColumn < leaders.length; i++) {
        out.push(`      ${id("unit", cluster.name, leaders[i].unit)} -> ${id("unit", cluster.name, leaders[i + perColumn].unit)}${attrs({ style: "invis" })};`);
      }
      out.push("    }");
      // The first column sits right of the nodes; the others follow it.
      for (const u of leaders.slice(0, perColumn)) out.push(`    ${id("nodes", cluster.name)} -> ${id("unit", cluster.name, u.unit)}${attrs({ style: "invis" })};`);
      // One edge per eligible node, between the node's row and the group box (lhead), arrow at the node.
      const first = id("unit", cluster.name, leaders[0].unit);
      for (const nodeName of nodes) {
        out.push(`    ${nodePort(nodeName)}:e -> ${first}${attrs({ lhead: `cluster_${cluster.name}_units_${g}`, dir: "back", arrowtail: "open", style: "dashed", color: "#3a6ea5" })};`);
      }
    }
    out.push("  }");
    for (const n of cluster.nodes) out.push(`  ${id("host")} -> ${nodePort(n.name)}:w${attrs({ arrowhead: "normal" })};`);
    out.push(`  ${id("nodes", cluster.name)} -> ${id("nas")}${attrs({ label: `NFS ${nas.mountPoint}`, color: "#b07d1a", fontcolor: "#b07d1a" })};`);
  }
  out.push("}");
  return out.join("\n") + "\n";
}

/** Runs Graphviz `dot` on DOT text; returns the output (svg text, png bytes). */
export function runDot(dot: string, format: "svg" | "png"): Buffer {
  const r = spawnSync("dot", [`-T${format}`], { input: dot, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`cannot run Graphviz dot (apt-get install graphviz): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`dot failed (status ${r.status}): ${r.stderr.toString().trim()}`);
  return r.stdout;
}

function main(): void {
  const args = process.argv.slice(2);
  const stack = args[0];
  if (!stack || stack.startsWith("-")) {
    console.error("usage: npm run diagram -- <stack> [out.svg|out.png|out.dot]");
    process.exit(2);
  }
  const outFile = path.resolve(args[1] ?? `xen-coreos-${stack}.svg`);
  const dot = renderDiagramDot(stack, readStackSettings(stack));
  const ext = path.extname(outFile).toLowerCase();
  if (ext === ".dot" || ext === ".gv") fs.writeFileSync(outFile, dot);
  else if (ext === ".png") fs.writeFileSync(outFile, runDot(dot, "png"));
  else fs.writeFileSync(outFile, runDot(dot, "svg"));
  console.log(`wrote ${outFile}`);
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
