/**
 * The platform's rules, as Pulumi policies over what this program declares.
 *
 * A policy sees resources, not the program's settings: component resources
 * (`xencoreos:*`) register no inputs, so every rule reads the artifacts the components
 * render into their `command:*:Command` children, found by the parent chain in the URN:
 *
 * | rule | resource (URN type chain ends with) | reads |
 * |---|---|---|
 * | etcd-cluster-size | `xencoreos:etcd:DiscoveryToken$command:local:Command` | `size=` in `create` |
 * | vm-minimum-size | `xencoreos:xen:XenVm$command:remote:Command` | `vcpus=`, `memory_bytes=`, `disk_bytes=` in `create` |
 * | galera-members-on-distinct-nodes | `xencoreos:fleet:FleetUnit$command:remote:Command` | `unit=`, `instances=` in `create`, `[X-Fleet] Conflicts=` in `stdin` |
 * | published-ports-valid | the FleetUnit command | `docker run -p` in `stdin` |
 * | published-ports-unique (stack) | the FleetUnit commands, per cluster (`connection.host`) | `docker run -p` in `stdin` |
 * | no-plaintext-secrets | every `command:local:Command` / `command:remote:Command` | `stdin` (units, files, config drives) unless it is a Pulumi secret |
 *
 * A value still unknown during a preview (e.g. a VM's converge script waits for its config
 * drive's VDI uuid) makes `@pulumi/policy` report that the rule could not run, as an
 * advisory; it is checked when the value is known (an update of an existing stack, `up`).
 *
 * Pure apart from `./secrets` (which tells secret inputs): no PolicyPack is built here, so
 * tests import the rules without starting the analyzer's gRPC server (`./index.ts` does).
 */
import {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { compileGlob } from "../components/fleet/placement";
import { isSecretInput } from "./secrets";

// ---------------------------------------------------------------- limits (settings.ts has the same)

export const MIN_MEMORY_MIB = 1024;
export const MIN_DISK_GIB = 8;
export const MAX_ETCD_SIZE = 9;
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

// ---------------------------------------------------------------- resource identification

export const LOCAL_COMMAND = "command:local:Command";
export const REMOTE_COMMAND = "command:remote:Command";
export const DISCOVERY_TOKEN = "xencoreos:etcd:DiscoveryToken";
export const XEN_VM = "xencoreos:xen:XenVm";
export const FLEET_UNIT = "xencoreos:fleet:FleetUnit";
export const FLEET_READY = "xencoreos:fleet:FleetReady";
export const NODE_FILE = "xencoreos:node:NodeFile";
export const CONFIG_DRIVE = "xencoreos:xen:ConfigDrive";

export interface UrnParts {
  stack: string;
  project: string;
  /** The parent chain of types, outermost first; the last one is the resource's own type. */
  types: string[];
  name: string;
}

/** Splits `urn:pulumi:<stack>::<project>::<parent$…$type>::<name>`. */
export function parseUrn(urn: string): UrnParts | undefined {
  const m = /^urn:pulumi:(.*?)::(.*?)::(.*?)::(.*)$/s.exec(urn);
  if (!m) return undefined;
  return { stack: m[1], project: m[2], types: m[3].split("$"), name: m[4] };
}

/** True when the resource of `urn` has type `type` and its direct parent has type `parentType`. */
export function isChildOf(urn: string, parentType: string, type: string): boolean {
  const parts = parseUrn(urn);
  if (!parts || parts.types.length < 2) return false;
  return parts.types[parts.types.length - 1] === type && parts.types[parts.types.length - 2] === parentType;
}

/** The type of the resource's direct parent, if it has one. */
export function parentTypeOf(urn: string): string | undefined {
  const parts = parseUrn(urn);
  return parts && parts.types.length >= 2 ? parts.types[parts.types.length - 2] : undefined;
}

// ---------------------------------------------------------------- reading the rendered scripts

/** Reverses POSIX single quoting as `components/shell.ts` writes it (`'it'\''s'` → `it's`). */
export function unquoteShellWord(word: string): string | undefined {
  let out = "";
  let i = 0;
  while (i < word.length) {
    const c = word[i];
    if (c === "'") {
      const end = word.indexOf("'", i + 1);
      if (end === -1) return undefined;
      out += word.slice(i + 1, end);
      i = end + 1;
    } else if (c === "\\" && i + 1 < word.length) {
      out += word[i + 1];
      i += 2;
    } else if (/[\s"`$;&|<>()]/.test(c)) {
      return undefined; // not one literal word
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/** The value of the first top-level `name=<word>` line of a script, unquoted; undefined when absent. */
export function readAssignment(script: string, name: string): string | undefined {
  const m = new RegExp(`^${name}=(.*)$`, "m").exec(script);
  return m ? unquoteShellWord(m[1]) : undefined;
}

/** A whole decimal number (no sign, no exponent), or undefined. */
function wholeNumber(text: string | undefined): number | undefined {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

// ---------------------------------------------------------------- unit files

/** The values of `key=` lines in `[section]` of a unit text, in order. */
export function unitDirectives(text: string, section: string, key: string): string[] {
  const out: string[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1];
      continue;
    }
    if (current !== section || line.startsWith("#") || line.startsWith(";")) continue;
    const eq = line.indexOf("=");
    if (eq > 0 && line.slice(0, eq).trim() === key) out.push(line.slice(eq + 1).trim());
  }
  return out;
}

export interface PublishedPort {
  /** The `-p` argument as written. */
  spec: string;
  /** Host port range (inclusive); undefined when docker picks the host port (`-p 80`). */
  host?: { from: number; to: number };
  container: { from: number; to: number };
  protocol: string;
  /** The unit line it came from (1-based). */
  line: number;
}

export interface PortProblem {
  spec: string;
  line: number;
  problem: string;
}

function parseRange(text: string): { from: number; to: number } | string {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) return `${JSON.stringify(text)} is not a port or a port range`;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  for (const p of [from, to]) if (p < 1 || p > 65535) return `port ${p} is outside 1-65535`;
  if (to < from) return `range ${text} runs backwards`;
  return { from, to };
}

/**
 * Parses one `docker run -p` argument: `[ip:][hostPort[-end]:]containerPort[-end][/proto]`
 * (an IPv6 address in brackets). Returns the port or why it is malformed.
 */
export function parsePublishSpec(spec: string, line = 0): PublishedPort | PortProblem {
  const bad = (problem: string): PortProblem => ({ spec, line, problem });
  // The host address may be the node's own, from /etc/environment (`${COREOS_PUBLIC_IPV4}:3306:3306`):
  // an address only, checked as one; the ports must still be literal.
  const nodeAddress = /^\$\{[A-Z_][A-Z0-9_]*\}:([^:]*:[^:]*)$/.exec(spec);
  const literal = nodeAddress ? nodeAddress[1] : spec;
  if (/[$%{}]/.test(literal)) return bad("is not a literal port (a variable or specifier), so it cannot be checked; write the port itself");
  let rest = literal;
  let protocol = "tcp";
  const slash = rest.lastIndexOf("/");
  if (slash !== -1) {
    protocol = rest.slice(slash + 1);
    rest = rest.slice(0, slash);
    if (!["tcp", "udp", "sctp"].includes(protocol)) return bad(`has protocol ${JSON.stringify(protocol)}; use tcp, udp or sctp`);
  }
  let ip: string | undefined;
  const v6 = /^\[([0-9A-Fa-f:.]+)\]:(.*)$/.exec(rest);
  if (v6) {
    ip = v6[1];
    rest = v6[2];
  }
  const parts = rest.split(":");
  let hostText: string | undefined;
  let containerText: string;
  if (parts.length === 1) {
    containerText = parts[0];
  } else if (parts.length === 2) {
    [hostText, containerText] = parts;
  } else if (parts.length === 3 && ip === undefined) {
    [ip, hostText, containerText] = parts;
  } else {
    return bad("is not [ip:][hostPort:]containerPort[/protocol]");
  }
  if (ip !== undefined && ip !== "" && !/^(\d{1,3}\.){3}\d{1,3}$/.test(ip) && !v6) return bad(`has host address ${JSON.stringify(ip)}, which is not an IP address`);
  const container = parseRange(containerText);
  if (typeof container === "string") return bad(`container side: ${container}`);
  let host: { from: number; to: number } | undefined;
  if (hostText !== undefined && hostText !== "") {
    const h = parseRange(hostText);
    if (typeof h === "string") return bad(`host side: ${h}`);
    host = h;
    if (h.to - h.from !== container.to - container.from && h.from !== h.to) {
      return bad(`host range ${hostText} and container range ${containerText} differ in length`);
    }
  }
  return { spec, host, container, protocol, line };
}

/** Splits a command line into words (single and double quotes honoured, no expansion). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/**
 * Every port a unit publishes: the `-p`/`--publish` options of its `docker run` command
 * lines (`Exec*=`), and what is wrong with any of them.
 */
export function publishedPorts(unitText: string): { ports: PublishedPort[]; problems: PortProblem[] } {
  const ports: PublishedPort[] = [];
  const problems: PortProblem[] = [];
  unitText.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    const exec = /^Exec[A-Za-z]*=(.*)$/.exec(line);
    if (!exec) return;
    const w = words(exec[1].replace(/^[-@:+!]+/, ""));
    const run = w.findIndex((word, i) => i > 0 && word === "run" && /(^|\/)docker$/.test(w[i - 1]));
    if (run === -1) return;
    for (let i = run + 1; i < w.length; i++) {
      let spec: string | undefined;
      if (w[i] === "-p" || w[i] === "--publish") spec = w[++i];
      else if (w[i].startsWith("--publish=")) spec = w[i].slice("--publish=".length);
      else if (/^-p./.test(w[i])) spec = w[i].slice(2);
      if (spec === undefined) continue;
      const parsed = parsePublishSpec(spec, index + 1);
      if ("problem" in parsed) problems.push(parsed);
      else ports.push(parsed);
    }
  });
  // One unit publishing one host port twice: docker refuses to start it.
  const seen = new Map<string, PublishedPort>();
  for (const p of ports) {
    if (!p.host) continue;
    for (let port = p.host.from; port <= p.host.to; port++) {
      const key = `${port}/${p.protocol}`;
      const first = seen.get(key);
      if (first && first !== p) {
        problems.push({ spec: p.spec, line: p.line, problem: `publishes host port ${key} again (also ${first.spec}, line ${first.line})` });
        break;
      }
      seen.set(key, p);
    }
  }
  return { ports, problems };
}

// ---------------------------------------------------------------- plain-text secrets

export interface SecretFinding {
  line: number;
  /** What was found, without the secret itself. */
  what: string;
}

const SECRET_KEY = String.raw`[A-Za-z0-9_.-]*?(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|sst[_-]?auth)`;
/** `KEY=value`, `KEY = value`, `key: value` (YAML) and `--key=value`, key ending in a secret word. */
const ASSIGNMENT_RE = new RegExp(String.raw`(?<![A-Za-z0-9_.])(${SECRET_KEY})(?:\s*=\s*|:[ \t]+)("[^"]*"|'[^']*'|[^\s"';,#]+)`, "gi");
const PRIVATE_KEY_RE = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;
const URL_CREDENTIALS_RE = /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/'"]+:([^\s@/'"]+)@/i;
const MYSQL_PASSWORD_ARG_RE = /\bmysql(?:admin|dump)?\b[^\n]*\s-p(?![\s$])\S/;

/** True for a value that names no secret itself: empty, or a variable/specifier reference. */
function isReference(value: string): boolean {
  const v = value.replace(/^["']|["']$/g, "");
  return v === "" || v.startsWith("$") || v.startsWith("%") || /^<[^>]*>$/.test(v);
}

/**
 * Plain-text secrets in a unit, file or config text: a password-like setting with a literal
 * value (`MARIADB_ROOT_PASSWORD=zurmo`, `password: x`, `--password=x`, `wsrep_sst_auth=u:p`),
 * a private key, credentials in a URL, or `mysql -p<password>`. References such as
 * `$GALERA_SST_PASSWORD`, `-e MARIADB_PASSWORD` (value from the environment) or
 * `user_sub_token=$USER` are not secrets. The findings never contain the value.
 */
export function findPlaintextSecrets(text: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  text.split("\n").forEach((line, index) => {
    const n = index + 1;
    ASSIGNMENT_RE.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = ASSIGNMENT_RE.exec(line))) {
      if (!isReference(m[2])) findings.push({ line: n, what: `${m[1]} has a literal value` });
    }
    if (PRIVATE_KEY_RE.test(line)) findings.push({ line: n, what: "a private key" });
    const url = URL_CREDENTIALS_RE.exec(line);
    if (url && !isReference(url[1])) findings.push({ line: n, what: "a password in a URL" });
    if (MYSQL_PASSWORD_ARG_RE.test(line)) findings.push({ line: n, what: "a mysql password on the command line (-p<password>)" });
  });
  return findings;
}

// ---------------------------------------------------------------- the policies

/** Where a command's text goes, for messages: the unit name, the file path, or the resource name. */
export function describeCommand(urn: string, props: Record<string, any>): string {
  const parent = parentTypeOf(urn);
  const name = parseUrn(urn)?.name ?? urn;
  const create = typeof props.create === "string" ? props.create : "";
  if (parent === FLEET_UNIT) return `fleet unit ${readAssignment(create, "unit") ?? name}`;
  if (parent === NODE_FILE) return `file ${readAssignment(create, "path") ?? name}`;
  if (parent === CONFIG_DRIVE) return `config drive ${name}`;
  return `command ${name}`;
}

export const etcdClusterSize: ResourceValidationPolicy = {
  name: "etcd-cluster-size",
  description:
    "An etcd cluster bootstraps with an odd number of members, at most 9: an even size tolerates no more failures than one member fewer (1:0, 3:1, 4:1, 5:2, 6:2, 7:3, 8:3, 9:4), and more members slow every write.",
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type !== LOCAL_COMMAND || !isChildOf(args.urn, DISCOVERY_TOKEN, LOCAL_COMMAND)) return;
    const create: string = args.props.create ?? "";
    const size = wholeNumber(readAssignment(create, "size"));
    if (size === undefined) {
      report(`the discovery request ${args.name} has no literal size= assignment, so its cluster size cannot be checked`);
    } else if (size > MAX_ETCD_SIZE) {
      report(`the discovery token ${args.name} is for ${size} members: more than ${MAX_ETCD_SIZE} slows every etcd write. Use at most ${MAX_ETCD_SIZE} bootstrap nodes`);
    } else if (size % 2 === 0 || size < 1) {
      report(`the discovery token ${args.name} is for ${size} members, an even size: it tolerates no more failures than ${size - 1}. Use ${size - 1} or ${size + 1} bootstrap nodes`);
    }
  },
};

export const vmMinimumSize: ResourceValidationPolicy = {
  name: "vm-minimum-size",
  description: `Every node VM has at least 1 vCPU, ${MIN_MEMORY_MIB} MiB of memory (etcd, fleet and containers) and an ${MIN_DISK_GIB} GiB system disk (the CoreOS image, thesis Annex 2).`,
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type !== REMOTE_COMMAND || !isChildOf(args.urn, XEN_VM, REMOTE_COMMAND)) return;
    // XenVm's other command is the node's halt request (no converge script).
    if (!args.name.endsWith("-vm")) return;
    const create: string = args.props.create ?? "";
    const node = readAssignment(create, "name_label") ?? args.name;
    const vcpus = wholeNumber(readAssignment(create, "vcpus"));
    const memory = wholeNumber(readAssignment(create, "memory_bytes"));
    const disk = wholeNumber(readAssignment(create, "disk_bytes"));
    if (vcpus === undefined || memory === undefined || disk === undefined) {
      const missing = [["vcpus", vcpus], ["memory_bytes", memory], ["disk_bytes", disk]].filter(([, v]) => v === undefined).map(([k]) => `${k}=`);
      report(`VM ${node}: its converge script has no literal ${missing.join(", ")} assignment, so its size cannot be checked`);
      return;
    }
    if (vcpus < 1) report(`VM ${node} has ${vcpus} vCPUs; it needs at least 1`);
    if (memory < MIN_MEMORY_MIB * MIB) report(`VM ${node} has ${memory / MIB} MiB of memory, below the ${MIN_MEMORY_MIB} MiB minimum. Set memoryMiB to ${MIN_MEMORY_MIB} or more`);
    if (disk < MIN_DISK_GIB * GIB) report(`VM ${node} has a ${disk / GIB} GiB system disk, below the ${MIN_DISK_GIB} GiB minimum. Set diskGiB to ${MIN_DISK_GIB} or more`);
  },
};

/** The unit's fleet name and its instances, from the FleetUnit's apply script. */
function fleetUnitIdentity(create: string): { unit?: string; instances: string[] } {
  const unit = readAssignment(create, "unit");
  const instances = (readAssignment(create, "instances") ?? "").split(/\s+/).filter(Boolean);
  return { unit, instances };
}

/** True for a Galera member unit: `galera@….service`, or any unit whose container runs with `--wsrep-` options. */
export function isGaleraMember(unit: string, text: string): boolean {
  if (/^galera@[^.]*\.service$/.test(unit)) return true;
  return /^ExecStart=.*\bdocker\b.*\s--wsrep[-_]/m.test(text);
}

export const galeraMembersOnDistinctNodes: ResourceValidationPolicy = {
  name: "galera-members-on-distinct-nodes",
  description:
    "Galera members never share a node: the member unit's [X-Fleet] Conflicts= matches every member (e.g. galera@*.service), so losing one node loses one member only.",
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type !== REMOTE_COMMAND || !isChildOf(args.urn, FLEET_UNIT, REMOTE_COMMAND)) return;
    const { unit, instances } = fleetUnitIdentity(args.props.create ?? "");
    if (!unit) return;
    const text: string = args.props.stdin ?? "";
    if (!isGaleraMember(unit, text)) return;
    const at = unit.indexOf("@");
    const prefix = at === -1 ? unit.replace(/\.service$/, "") : unit.slice(0, at);
    const members = instances.length > 0 ? instances : [unit];
    // A pattern must hold for every member and for one more, so a member added later is covered.
    const probes = [...members.filter((m) => !m.endsWith("@.service")), `${prefix}@xen-coreos-probe.service`];
    const conflicts = unitDirectives(text, "X-Fleet", "Conflicts");
    const covering = conflicts.some((pattern) => {
      const re = compileGlob(pattern);
      return typeof re !== "string" && probes.every((p) => re.test(p));
    });
    if (!covering) {
      const have = conflicts.length ? `its Conflicts= ${conflicts.join(", ")} do not match every member` : "it has no Conflicts=";
      report(`Galera member unit ${unit}: ${have}, so fleet may put two members on one node. Add [X-Fleet] Conflicts=${prefix}@*.service`);
    }
    if (unitDirectives(text, "X-Fleet", "Global").some((v) => v === "true")) {
      report(`Galera member unit ${unit} is Global=true: every matching node would run a member. Drop Global and start ${prefix}@1..N`);
    }
  },
};

export const publishedPortsValid: ResourceValidationPolicy = {
  name: "published-ports-valid",
  description: "Every port a fleet unit publishes (docker run -p) is a literal TCP/UDP port or range in 1-65535, published once.",
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type !== REMOTE_COMMAND || !isChildOf(args.urn, FLEET_UNIT, REMOTE_COMMAND)) return;
    const unit = readAssignment(args.props.create ?? "", "unit") ?? args.name;
    const { problems } = publishedPorts(args.props.stdin ?? "");
    for (const p of problems) report(`fleet unit ${unit}, line ${p.line}: -p ${p.spec} ${p.problem}`);
  },
};

/** Units and the host ports they publish, grouped by the cluster whose fleet runs them. */
export function portsByCluster(resources: PolicyResource[]): Map<string, Array<{ unit: string; ports: PublishedPort[] }>> {
  const isFleetReady = (r: PolicyResource) => r.type === REMOTE_COMMAND && isChildOf(r.urn, FLEET_READY, REMOTE_COMMAND);
  const clusterOfReady = (r: PolicyResource) => (parseUrn(r.urn)?.name ?? "").replace(/-fleet-wait$/, "");
  // A connection holds the node's pinned host key, unknown during a first preview (the key is
  // made by the update): reading it then throws, so the host is only a fallback.
  const hostOf = (r: PolicyResource): string | undefined => {
    try {
      const host = r.props.connection?.host;
      return typeof host === "string" ? host : undefined;
    } catch {
      return undefined;
    }
  };
  const clusterOfHost = new Map<string, string>();
  for (const r of resources) {
    if (!isFleetReady(r)) continue;
    const host = hostOf(r);
    if (host && clusterOfReady(r)) clusterOfHost.set(host, clusterOfReady(r));
  }
  const out = new Map<string, Array<{ unit: string; ports: PublishedPort[] }>>();
  for (const r of resources) {
    if (r.type !== REMOTE_COMMAND || !isChildOf(r.urn, FLEET_UNIT, REMOTE_COMMAND)) continue;
    // The cluster whose fleet runs it: the fleet-ready wait it depends on, else the node it goes through.
    const ready = (r.dependencies ?? []).find(isFleetReady);
    const host = hostOf(r) ?? "?";
    const cluster = (ready && clusterOfReady(ready)) || clusterOfHost.get(host) || `reached through ${host}`;
    const unit = readAssignment(r.props.create ?? "", "unit") ?? r.name;
    const list = out.get(cluster) ?? [];
    list.push({ unit, ports: publishedPorts(r.props.stdin ?? "").ports });
    out.set(cluster, list);
  }
  return out;
}

/**
 * Host ports published by more than one unit of a cluster, as messages (stable order). A
 * template's text is one unit (its instances conflict or run one per node by design).
 */
export function portClashes(byCluster: Map<string, Array<{ unit: string; ports: PublishedPort[] }>>): string[] {
  const messages: string[] = [];
  for (const [cluster, units] of [...byCluster].sort(([a], [b]) => a.localeCompare(b))) {
    const owner = new Map<string, string>();
    const reported = new Set<string>();
    // By name: the engine registers resources in no fixed order, the messages must not vary.
    for (const { unit, ports } of [...units].sort((a, b) => a.unit.localeCompare(b.unit))) {
      for (const p of ports) {
        if (!p.host) continue;
        for (let port = p.host.from; port <= p.host.to; port++) {
          const key = `${port}/${p.protocol}`;
          const first = owner.get(key);
          if (first === undefined) owner.set(key, unit);
          else if (first !== unit && !reported.has(`${first}|${unit}`)) {
            reported.add(`${first}|${unit}`);
            messages.push(`cluster ${cluster}: host port ${key} is published by both ${first} and ${unit}; fleet may place them on one node, where the second cannot start. Move one of them to another port`);
          }
        }
      }
    }
  }
  return messages;
}

export const publishedPortsUnique: StackValidationPolicy = {
  name: "published-ports-unique",
  description: "Within one cluster, no two fleet units publish the same host port.",
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    for (const message of portClashes(portsByCluster(args.resources))) report(message);
  },
};

export const noPlaintextSecrets: ResourceValidationPolicy = {
  name: "no-plaintext-secrets",
  description:
    "No unit, file or config sent to a node holds a password, token or private key in plain text: such content must be a Pulumi secret (passwords come from @pulumi/random, keys from secret config).",
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type !== REMOTE_COMMAND && args.type !== LOCAL_COMMAND) return;
    if (!("stdin" in args.props) || isSecretInput(args.props, "stdin")) return;
    const stdin = args.props.stdin;
    if (typeof stdin !== "string") return;
    const where = describeCommand(args.urn, args.props);
    for (const f of findPlaintextSecrets(stdin)) {
      report(`${where}, line ${f.line}: ${f.what} in plain text. Move it to a Pulumi secret (e.g. a root-only environment file whose content is pulumi.secret) and reference it`);
    }
  },
};

/** Every rule of the pack, in the order they are reported. */
export const policies = [etcdClusterSize, vmMinimumSize, galeraMembersOnDistinctNodes, publishedPortsValid, publishedPortsUnique, noPlaintextSecrets];
