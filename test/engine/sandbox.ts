/**
 * The sandbox the engine tests deploy into: the xe and fleetctl doubles' state files, a
 * discovery service on 127.0.0.1, and the stack settings that point the program at a test
 * sshd standing in for the XenServer host, and at socket-activated node sshds behind it.
 *
 * The program takes its default path, `ssh.viaXenServer: true`: every node command goes
 * through the XenServer host as a proxy (a direct-tcpip channel from the host's sshd to the
 * node's `sshHost`). In the sandbox each node's `sshHost` is a loopback address of its own
 * (127.0.2.N, all on one port) where a `NodeSshds` front listens: one front per node, each
 * counting that node's connections against its own MaxConnections as that node's
 * `sshd.socket` would (test/support/socket-front.ts), each connection served by its own
 * `sshd -i`. One front per node, not one shared: the limit is per node, and the busiest node
 * (a cluster's first, which runs every fleetctl) must be measured alone; a shared counter
 * would add up every node's connections and refuse what no real node would.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { CONFIG_NAMESPACE, StackSettings, parseSettings, prefixLength } from "../../components/config/settings";
import { renderCloudConfig } from "../../components/coreos/cloud-config-render";
import { ftpNodes, galeraNodes, renderFtpBundle, renderGaleraBundle, renderWebBundle } from "../../components/services/bundles";
import { labRaw, stackRawSettings } from "../fixtures/settings";
import { ROOT } from "../support/engine";
import { Sshd, startSshd } from "../support/sshd";
import { SocketFront } from "../support/socket-front";
import { fixedTestTls } from "../fixtures/tls";

export const SANDBOX_BIN = path.join(ROOT, "test/sandbox/bin");
export const XE = path.join(SANDBOX_BIN, "xe");
export const FLEETCTL = path.join(SANDBOX_BIN, "fleetctl");
export const MiB = 1024 ** 2;
/**
 * What the program writes on a node, as tmpfs in the test sshd's private mount namespace (the
 * sandbox's nodes share it): the share, its node-local files, the firewall's rules-save files.
 */
export const NODE_TMPFS = ["/mnt/nfs", "/etc/xen-coreos", "/var/lib/iptables", "/var/lib/ip6tables"];
export const GiB = 1024 ** 3;

// ---------------------------------------------------------------- the discovery service

/** `GET /new?size=N` → `http://127.0.0.1:<port>/<32 hex>`, as discovery.etcd.io answers; calls are counted. */
export class DiscoveryService {
  readonly calls: Array<{ size: number; url: string }> = [];
  private server?: http.Server;
  endpoint = "";

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const size = Number(url.searchParams.get("size"));
      if (req.method !== "GET" || url.pathname !== "/new" || !Number.isInteger(size) || size < 1) {
        res.writeHead(400).end("bad request\n");
        return;
      }
      const token = `${this.endpoint}/${crypto.randomBytes(16).toString("hex")}`;
      this.calls.push({ size, url: token });
      res.writeHead(200, { "content-type": "text/plain" }).end(token);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", () => resolve()));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

// ---------------------------------------------------------------- the xe double's state

export interface XeVm {
  uuid: string;
  "name-label": string;
  "is-a-template": boolean;
  "is-control-domain": boolean;
  "power-state": string;
  "VCPUs-max": number | string;
  "memory-static-max": number | string;
  "other-config": Record<string, string>;
}
export interface XeVbd { uuid: string; vm: string; vdi: string | null; userdevice: string; type: string; mode: string }
export interface XeVdi { uuid: string; sr: string; "name-label": string; "virtual-size": number; "other-config": Record<string, string> }
export interface XeSr { uuid: string; "name-label": string; type: string }
export interface XeState { vms: XeVm[]; vbds: XeVbd[]; vdis: XeVdi[]; srs: XeSr[]; failOn?: string[]; failCounters?: Record<string, number> }
export interface CallLine { argv: string[]; exit: number; start: number; end: number }

export class XeDouble {
  constructor(readonly stateFile: string) {
    fs.mkdirSync(path.dirname(stateFile), { recursive: true });
  }

  /** The guest stand-in's folder: each VM's files from its config drive (see bootGuest in the double). */
  get guestsDir(): string {
    return path.join(path.dirname(this.stateFile), "guests");
  }

  read(): XeState {
    return JSON.parse(fs.readFileSync(this.stateFile, "utf8")) as XeState;
  }

  /** Changes the state under the double's own lock (a directory), replacing the file atomically. */
  edit(fn: (s: XeState) => void): void {
    const lock = `${this.stateFile}.lock`;
    const until = Date.now() + 30_000;
    for (;;) {
      try {
        fs.mkdirSync(lock);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST" || Date.now() > until) throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      }
    }
    try {
      const state = this.read();
      fn(state);
      fs.writeFileSync(`${this.stateFile}.tmp-test`, JSON.stringify(state));
      fs.renameSync(`${this.stateFile}.tmp-test`, this.stateFile);
    } finally {
      fs.rmdirSync(lock);
    }
  }

  /** Runs the double directly (as an operator at the host's console would run xe). */
  run(args: string[]): string {
    const r = spawnSync(process.execPath, [XE, ...args], { env: { ...process.env, XE_STATE: this.stateFile }, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`xe ${args.join(" ")} -> ${r.status}\n${r.stderr}${r.stdout}`);
    return r.stdout.trim();
  }

  calls(): CallLine[] {
    const log = `${this.stateFile}.log`;
    if (!fs.existsSync(log)) return [];
    return fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as CallLine);
  }

  /** The VMs of one node of one deployment: marker `<deployment>/<cluster>/<node>/<instance>`. */
  vmsOfNode(deploymentId: string, cluster: string, node: string): XeVm[] {
    const prefix = `${deploymentId}/${cluster}/${node}/`;
    return this.read().vms.filter((v) => !v["is-a-template"] && (v["other-config"]["xen-coreos-node"] ?? "").startsWith(prefix));
  }
}

// ---------------------------------------------------------------- the fleet double's state

export class FleetDouble {
  constructor(readonly stateFile: string, readonly seedFile: string) {
    fs.mkdirSync(path.dirname(stateFile), { recursive: true });
  }

  seed(machines: Array<{ ip: string; metadata: Record<string, string> }>): void {
    fs.writeFileSync(this.seedFile, JSON.stringify({ machines }));
  }

  /** `fleetctl list-units` rows as unit → active states (a global unit has one row per machine). */
  units(): Map<string, string[]> {
    const r = spawnSync(process.execPath, [FLEETCTL, "list-units", "--no-legend", "--fields=unit,active"], {
      env: { ...process.env, FLEET_STATE: this.stateFile, FLEET_SEED: this.seedFile },
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`fleetctl list-units -> ${r.status}\n${r.stderr}`);
    const out = new Map<string, string[]>();
    for (const line of r.stdout.split("\n").filter(Boolean)) {
      const [unit, active] = line.split(/\s+/);
      out.set(unit, [...(out.get(unit) ?? []), active]);
    }
    return out;
  }

  /** Unit files fleet holds (submitted), by name, with their options. */
  unitFiles(): Array<{ name: string; options: Array<{ section: string; name: string; value: string }> }> {
    if (!fs.existsSync(this.stateFile)) return [];
    return (JSON.parse(fs.readFileSync(this.stateFile, "utf8")) as { units: Array<{ name: string; options: Array<{ section: string; name: string; value: string }> }> }).units;
  }

  calls(): number {
    return this.log().length;
  }

  log(): CallLine[] {
    const log = `${this.stateFile}.log`;
    if (!fs.existsSync(log)) return [];
    return fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as CallLine);
  }
}

// ---------------------------------------------------------------- the nodes' sshd.socket

/** systemd's default MaxConnections of a socket unit (src/core/socket.c, socket_init). */
export const SYSTEMD_MAX_CONNECTIONS = 64;

/**
 * The nodes' sshds: node i (in the order of `sandboxSettings`) is 127.0.2.(i+1):port, a
 * socket-activated sshd with MaxConnections `maxConnections` (see the header).
 */
export class NodeSshds {
  readonly fronts: SocketFront[] = [];
  port = 0;

  /** Node names and addresses by index (recorded by `host(i, name, ip)`), to find each node's host key. */
  private readonly names: string[] = [];
  private readonly ips: string[] = [];

  /**
   * `guests`: the xe double's guest folder (XeDouble.guestsDir): once a node's VM has booted
   * from its config drive, its sshd offers the host key the cloud-config wrote there (only
   * that one, as the rendered sshd_config says); before, the host's own key.
   */
  constructor(private readonly sshd: Sshd, readonly count: number, private maxConnections = SYSTEMD_MAX_CONNECTIONS, private readonly guests?: string) {}

  private argv(index: number): string[] {
    const name = this.names[index];
    const ip = this.ips[index];
    // By address when known (two deployments may name a node alike), else by name.
    const dir = ip ? path.join("by-ip", ip) : name;
    const key = this.guests && dir ? path.join(this.guests, dir, "etc/ssh/ssh_host_ed25519_key") : undefined;
    return key && fs.existsSync(key) ? this.sshd.inetdArgv(this.sshd.configWithHostKey(key)) : this.sshd.inetdArgv();
  }

  async start(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const first = new SocketFront({ host: "127.0.2.1", serve: { kind: "inetd", argv: () => this.argv(0) }, maxConnections: this.maxConnections });
      await first.start();
      const started = [first];
      try {
        for (let i = 2; i <= this.count; i++) {
          const f = new SocketFront({ host: `127.0.2.${i}`, port: first.port, serve: { kind: "inetd", argv: () => this.argv(i - 1) }, maxConnections: this.maxConnections });
          await f.start();
          started.push(f);
        }
      } catch (e) {
        for (const f of started) await f.stop();
        if ((e as NodeJS.ErrnoException).code === "EADDRINUSE" && attempt < 5) continue;
        throw e;
      }
      this.fronts.push(...started);
      this.port = first.port;
      return;
    }
  }

  host(index: number, name?: string, ip?: string): string {
    if (name !== undefined) this.names[index] = name;
    if (ip !== undefined) this.ips[index] = ip;
    if (index >= this.count) throw new Error(`the sandbox has ${this.count} node sshds; node ${index + 1} has none`);
    return this.fronts[index]?.host ?? `127.0.2.${index + 1}`;
  }

  /** Sets each node's MaxConnections (one for all, or node by node), e.g. what its rendered cloud-config sets. */
  setMaxConnections(n: number | number[]): void {
    if (typeof n === "number") this.maxConnections = n;
    this.fronts.forEach((f, i) => f.setMaxConnections(typeof n === "number" ? n : n[i] ?? SYSTEMD_MAX_CONNECTIONS));
  }

  /** Peak connections per node sshd, and every dropped connection's journal line. */
  stats(): Array<{ host: string; peak: number; accepted: number; dropped: number; journal: string[] }> {
    return this.fronts.map((f) => ({ host: f.host, peak: f.peak, accepted: f.accepted, dropped: f.dropped, journal: [...f.journal] }));
  }

  /** Starts counting anew (peak and totals), e.g. before one `up`. */
  resetCounts(): void {
    for (const f of this.fronts) {
      f.peak = f.current;
      f.accepted = 0;
      f.dropped = 0;
      f.journal.length = 0;
    }
  }

  async stop(): Promise<void> {
    for (const f of this.fronts) await f.stop();
  }
}

// ---------------------------------------------------------------- settings

export interface SandboxTarget {
  /** sshd port standing in for the XenServer host (the proxy of every node connection). */
  port: number;
  /** Host key of that sshd (checked on the XenServer connection and its proxy use). */
  hostKey: string;
  /** The nodes' socket-activated sshds (one loopback address each, one port). */
  nodes: NodeSshds;
  /** Public key put in the nodes' authorized keys. */
  authorizedKey: string;
  isoDir: string;
  discoveryEndpoint: string;
}

export const COREOS_ISO = "coreos_production_iso_image.iso";
export const FLATCAR_ISO = "flatcar_production_iso_image.iso";

/**
 * The xe double seeded as an XCP-ng 8.3 host: its templates include "Generic Linux BIOS" (what
 * the flatcar profile installs from there) and no "CoreOS" (removed in 2023, xenserver/
 * guest-templates-json 723ee6b). Write it as `seed.json` beside the double's state file. The
 * size of the disk that template provisions was not checked on a real host: 8 GiB here (a larger
 * one than `diskGiB` makes the converge refuse, naming the setting).
 */
export const XCP_NG_SEED = {
  host: { "name-label": "xcp-ng" },
  templates: [{ "name-label": "Generic Linux BIOS", disks: [{ device: "0", size: 8 * 1024 ** 3, bootable: true, type: "system" }] }],
};

/**
 * The lab stack's settings (Pulumi.lab.yaml) pointed at the sandbox: the XenServer host is the
 * test sshd on 127.0.0.1, each node its own socket-activated sshd reached through it
 * (`ssh.viaXenServer: true`, the default; node `ip`s stay 10.50.0.x: data only), root over
 * SSH, the ISO library in a temporary directory, the local discovery service. Galera is left
 * out of the lab (see the report on global fleet units); `productionSandboxSettings` has it.
 */
export function sandboxSettings(t: SandboxTarget, opts: { services: boolean; nodes?: Array<{ name: string; ip: string }>; firstSshd?: number } = { services: true }): any {
  const raw = labRaw();
  raw.xenserver = { ...raw.xenserver, host: "127.0.0.1", port: t.port, user: "root", hostKey: t.hostKey, isoRepository: { ...raw.xenserver.isoRepository, location: t.isoDir } };
  raw.ssh = { authorizedKeys: [t.authorizedKey], user: "root", port: t.nodes.port, viaXenServer: true };
  raw.discovery = { endpoint: t.discoveryEndpoint };
  const cluster = raw.clusters[0];
  if (opts.nodes) cluster.nodes = opts.nodes.map((n) => ({ ...n }));
  // Each node its own sshd front (and so its own host key): a second stack in the same sandbox
  // takes fronts after the first one's (`firstSshd`), never the same.
  cluster.nodes.forEach((node: any, i: number) => (node.sshHost = t.nodes.host((opts.firstSshd ?? 0) + i, node.name, node.ip)));
  // Nodes that differ from the cluster defaults, so each VM's own settings are checked.
  cluster.nodes[0].vcpus = 2;
  if (!opts.services) delete raw.services;
  return raw;
}

/** The same settings as the program will read them (validated). */
export function parsed(raw: any): StackSettings {
  return parseSettings(raw, new Set(["sshPrivateKey"]));
}

/** `pulumi config set-all --json` input: structured values (as in a Pulumi.<stack>.yaml), the key as a secret. */
export function configJson(raw: Record<string, unknown>, sshPrivateKey: string): string {
  const out: Record<string, { value: string; objectValue?: unknown; secret: boolean }> = {};
  for (const [key, value] of Object.entries(raw)) {
    out[`${CONFIG_NAMESPACE}:${key}`] =
      typeof value === "object" && value !== null ? { value: JSON.stringify(value), objectValue: value, secret: false } : { value: String(value), secret: false };
  }
  out[`${CONFIG_NAMESPACE}:sshPrivateKey`] = { value: sshPrivateKey, secret: true };
  return JSON.stringify(out);
}

/** fleet machines for the nodes of every cluster that runs a service (as fleet would list them). */
export function fleetMachines(s: StackSettings): Array<{ ip: string; metadata: Record<string, string> }> {
  const used = new Set([s.services.web?.cluster, s.services.galera?.cluster, s.services.ftp?.cluster].filter(Boolean));
  return s.clusters.filter((c) => used.has(c.name)).flatMap((c) => c.nodes.map((n) => ({ ip: n.ip, metadata: { ...n.metadata } })));
}

/**
 * How many resources the program declares for these settings, by part: what a preview of an
 * empty stack must create. Component resources count like any other; default providers do not.
 */
export function plannedResources(s: StackSettings): { total: number; parts: Record<string, number> } {
  const parts: Record<string, number> = {
    "pulumi:pulumi:Stack": 1,
    "deployment id (RandomId)": 1,
    "IsoRepository + its ensure command": 2,
    "GuestAgent + its read command": 2,
    [`NfsShare${s.nas.managed ? " + its export command" : " (appliance: nothing run)"}`]: s.nas.managed ? 2 : 1,
  };
  // DeploymentPki and its CA, and per node one etcd certificate and one SSH host key (PkiObjects:
  // program.ts asks pki.certificate(`etcd-<node>`) and pki.hostKey(<node>) for every node).
  const nodes = s.clusters.reduce((n, c) => n + c.nodes.length, 0);
  parts[`DeploymentPki + CA + ${nodes} etcd certificates + ${nodes} host keys`] = 2 + 2 * nodes;
  for (const c of s.clusters) {
    // CoreosCluster, and in token mode its DiscoveryToken, the token's RandomId and curl command
    // (static mode has none); per node a CloudConfig, a ConfigDrive + its command, a XenVm + its
    // instance RandomId, halt request and converge command, and its exact firewall rules (a
    // NodeFiles + its command, with security.firewall on or off: off writes rules that flush);
    // per joining node an EtcdMember + its command.
    const own = s.discovery.mode === "static" ? 1 : 4;
    const joining = c.nodes.filter((n) => n.join).length;
    parts[`cluster ${c.name}: ${own} + 9 x ${c.nodes.length} nodes + 2 x ${joining} joining`] = own + 9 * c.nodes.length + 2 * joining;
  }
  const { web, galera, ftp } = s.services;
  const serviceClusters = new Set([web?.cluster, galera?.cluster, ftp?.cluster].filter(Boolean));
  if (serviceClusters.size) parts[`FleetReady + its wait command x ${serviceClusters.size}`] = 2 * serviceClusters.size;
  // Each NodeFile and FleetUnit is a component with one command.
  if (web) {
    const b = renderWebBundle(web);
    const webNodes = s.clusters.find((c) => c.name === web.cluster)!.nodes.length;
    // One NodeFiles (component + command) per node of the web cluster, and each FleetUnit.
    parts[`web: component + 2 x (${webNodes} node file sets + ${b.units.length} units)`] = 1 + 2 * (webNodes + b.units.length);
  }
  if (galera) {
    const cluster = s.clusters.find((c) => c.name === galera.cluster)!;
    const b = renderGaleraBundle(galera, cluster);
    const dbNodes = galeraNodes(galera, cluster).length;
    // Per db node: two NodeFiles (config, secrets) with a command each, and its certificate (under pki).
    parts[`galera: component + 3 passwords + ${dbNodes} db nodes x (2 x 2 file sets + 1 certificate) + 2 x ${b.units.length} units`] = 1 + 3 + 5 * dbNodes + 2 * b.units.length;
  }
  if (ftp) {
    const b = renderFtpBundle(ftp, ftp.users.map((name) => ({ name, password: "placeholder" })));
    const nodes = ftpNodes(ftp, s.clusters.find((c) => c.name === ftp.cluster)!).length;
    // One NodeFiles (component + command) per node the unit may run on; with TLS the ftp certificate (a PkiObject).
    parts[`ftp: component + ${ftp.users.length} passwords + salt key + homes command + 2 x (${nodes} node file sets + ${b.units.length} units)${ftp.tls ? " + certificate" : ""}`] =
      1 + ftp.users.length + 1 + 1 + 2 * (nodes + b.units.length) + (ftp.tls ? 1 : 0);
  }
  return { total: Object.values(parts).reduce((a, b) => a + b, 0), parts };
}

/** Names of the fleet units the services of these settings run (templates as their instances). */
export function plannedUnits(s: StackSettings): string[] {
  const { web, galera, ftp } = s.services;
  const units = [
    ...(web ? renderWebBundle(web).units : []),
    ...(galera ? renderGaleraBundle(galera, s.clusters.find((c) => c.name === galera.cluster)!).units : []),
    ...(ftp ? renderFtpBundle(ftp, ftp.users.map((name) => ({ name, password: "placeholder" }))).units : []),
  ];
  return units.flatMap((u) => (u.instances?.length ? u.instances : [u.name])).sort();
}

/**
 * The production stack's settings (Pulumi.production.yaml: a 7-node web/ftp cluster and a
 * 3-node database cluster, web, ftp and galera) pointed at the sandbox like `sandboxSettings`:
 * node i over all clusters is node sshd i, reached through the host. The NAS is used as an
 * appliance (its export command would dial the NAS's own address, which is data here), and
 * nothing is protected, so the test can tear it down.
 */
export function productionSandboxSettings(t: SandboxTarget): any {
  const raw = stackRawSettings("production");
  const x = raw.xenserver as any;
  // The xe double's host has the lab's network and SR; its templates come from XCP_NG_SEED
  // (the production example is Flatcar on XCP-ng 8.3: "Generic Linux BIOS", no "CoreOS").
  const lab = labRaw().xenserver;
  raw.xenserver = { ...x, network: lab.network, storageRepository: lab.storageRepository, host: "127.0.0.1", port: t.port, user: "root", hostKey: t.hostKey, isoRepository: { ...x.isoRepository, location: t.isoDir } };
  raw.ssh = { authorizedKeys: [t.authorizedKey], user: "root", port: t.nodes.port, viaXenServer: true };
  raw.discovery = { ...(raw.discovery as object), endpoint: t.discoveryEndpoint };
  raw.nas = { ...(raw.nas as any), managed: false, protect: false };
  let i = 0;
  for (const cluster of raw.clusters as any[]) {
    delete cluster.protect;
    for (const node of cluster.nodes) node.sshHost = t.nodes.host(i++, node.name, node.ip);
  }
  return raw;
}

/**
 * Each node's sshd.socket MaxConnections as its cloud-config renders it (the program's own
 * renderer, every node in `sandboxSettings` order): the `MaxConnections=` of an
 * `sshd.socket` drop-in when there is one, else systemd's default 64.
 */
export function nodeMaxConnections(s: StackSettings): number[] {
  return s.clusters.flatMap((c) =>
    c.nodes.map((n) => {
      const text = renderCloudConfig({
        hostname: n.name,
        ip: n.ip,
        prefixLength: prefixLength(s.network.cidr),
        gateway: s.network.gateway,
        dns: s.network.dns,
        interface: s.network.interface,
        sshAuthorizedKeys: s.ssh.authorizedKeys,
        discoveryUrl: "http://127.0.0.1/unused",
        tls: fixedTestTls(n.name),
        fleetMetadata: n.metadata,
        nfs: { server: s.nas.server, export: s.nas.export, mountPoint: s.nas.mountPoint, options: s.nas.options },
        install: { device: s.coreos.installDevice, channel: s.coreos.channel, baseUrl: s.coreos.installBaseUrl },
        rebootStrategy: s.coreos.rebootStrategy,
      });
      const doc = yaml.load(text.replace(/^#cloud-config\n/, "")) as { coreos?: { units?: Array<{ name: string; "drop-ins"?: Array<{ content?: string }> }> } };
      const socket = doc.coreos?.units?.find((u) => u.name === "sshd.socket");
      const values = (socket?.["drop-ins"] ?? []).flatMap((d) => [...(d.content ?? "").matchAll(/^MaxConnections=(\d+)\s*$/gm)].map((m) => Number(m[1])));
      return values.length ? values[values.length - 1] : SYSTEMD_MAX_CONNECTIONS;
    }),
  );
}

// ---------------------------------------------------------------- a host and its nodes, without fleet

/** A sandboxed XenServer host (the test sshd with the xe double) and `nodeCount` node sshds behind it. */
export interface HostSandbox {
  tmp: string;
  xe: XeDouble;
  sshd: Sshd;
  nodes: NodeSshds;
  discovery: DiscoveryService;
  /** The SandboxTarget for `sandboxSettings`. */
  target: SandboxTarget;
  stop(): Promise<void>;
}

/**
 * Starts a host sandbox in a new temporary folder: the install ISO `iso` in its ISO library, the xe
 * double (seeded with `seed` when given, e.g. XCP_NG_SEED), a loopback discovery service, the host's
 * sshd (private mount namespace, the doubles first on PATH) and the nodes' socket-activated sshds.
 */
export async function startHostSandbox(opts: { prefix: string; nodeCount: number; iso: string; seed?: object }): Promise<HostSandbox> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), opts.prefix));
  fs.mkdirSync(path.join(tmp, "isos"));
  fs.writeFileSync(path.join(tmp, "isos", opts.iso), Buffer.alloc(64 * 1024, 0x49));
  const xe = new XeDouble(path.join(tmp, "xe", "state.json"));
  if (opts.seed) fs.writeFileSync(path.join(tmp, "xe", "seed.json"), JSON.stringify(opts.seed));
  const discovery = new DiscoveryService();
  await discovery.start();
  const sshd = await startSshd({
    dir: path.join(tmp, "sshd"),
    permitRootLogin: "yes",
    setEnv: { PATH: [SANDBOX_BIN, path.dirname(process.execPath), "/usr/bin", "/bin"].join(":"), XE_STATE: xe.stateFile },
    tmpfs: NODE_TMPFS,
  });
  const nodes = new NodeSshds(sshd, opts.nodeCount, undefined, xe.guestsDir);
  await nodes.start();
  const target: SandboxTarget = { port: sshd.port, hostKey: sshd.hostKey, nodes, authorizedKey: sshd.clientPublicKey, isoDir: path.join(tmp, "isos"), discoveryEndpoint: discovery.endpoint };
  return {
    tmp,
    xe,
    sshd,
    nodes,
    discovery,
    target,
    stop: async () => {
      await nodes.stop();
      await sshd.stop();
      await discovery.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}
