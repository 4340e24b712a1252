/**
 * Real daemons for the test tiers that prove artifacts with real programs (etcd, nginx,
 * apache2, mariadb, vsftpd, …): start them in their own process group, wait for them,
 * stop them; free ports and private loopback addresses; network namespaces.
 *
 * Everything started or created here is registered and undone by `cleanupAll()` (call it
 * in `afterAll`); if the test process exits without it (a crash, a jest timeout), an exit
 * hook SIGKILLs the process groups and deletes the namespaces.
 *
 * API (all synchronous unless marked async):
 *
 *   tempDir(label)                       → fresh dir under $TMPDIR, removed by cleanupAll()
 *   startDaemon(spec)                    → Daemon (detached: own process group; output to a log file)
 *     spec: { name, command, args?, env?, cwd?, netns?, logFile? }
 *       env is added to process.env (a value of undefined removes a variable);
 *       netns runs it as `ip netns exec <netns> command args…` (the pid is the daemon's own)
 *   Daemon: .name .pid .logFile .alive() .log() .exited (Promise<{code, signal}>)
 *           .stop({signal?='SIGTERM', timeoutMs?=10000})  async: TERM to the group, KILL after timeout
 *           .kill()                      async: SIGKILL to the group
 *   stopAllDaemons()                     async: stops every daemon still alive
 *   onCleanup(fn)                        registers fn (sync or async) for cleanupAll(), run last-in first-out
 *   cleanupAll()                         async: daemons, then registered cleanups, netns, temp dirs
 *
 *   freePort(host='127.0.0.1')           async → a port nothing listens on now (ephemeral, from the kernel)
 *   portIsFree(host, port)               async → boolean
 *   loopbackAddress(label)               → a 127.x.y.z stable per label and test process, away from
 *                                          127.0.0.1; works without any setup on Linux
 *   waitFor(check, {what, timeoutMs?=30000, intervalMs?=100})
 *                                        async → elapsed ms once check() (sync or async) is truthy;
 *                                          throws "timed out after N ms waiting for <what>" otherwise
 *   sleep(ms)                            async
 *   waitForPort(host, port, {timeoutMs?, netns?})  async → elapsed ms once a TCP connect succeeds
 *   httpGet(url, {timeoutMs?=5000, headers?})      async → {status, headers, body}; a fresh
 *                                          connection per request (agent: false); rejects on network errors
 *   run(command, args, {env?, input?, netns?, timeoutMs?})  → {status, stdout, stderr}
 *   runOk(…same)                         → stdout; throws with the command's output when status ≠ 0
 *
 *   createNetns(label)                   → Netns { name, exec(cmd, args, opts) (= run inside it),
 *                                          execOk(cmd, args, opts) (= runOk inside it) }, lo up
 *                                          (any 127.x.y.z works inside); deleted by cleanupAll()
 *   deleteNetns(name)                    deletes one now (e.g. between benchmark runs)
 *   bridgedNetwork({label, gateway, prefixLength, members: [{label, ip}]})
 *                                        → { hub: Netns, members: Record<label, Netns> }:
 *     a hub namespace holding a bridge `br0` with the gateway address, and one namespace per
 *     member with `eth0` (a veth into the bridge) carrying its address and a default route
 *     via the gateway. Nothing is added to the root namespace: the addresses exist only
 *     inside these namespaces, and the hub has no route out. Reach them from the hub or a
 *     member (`hub.exec(...)`, `startDaemon({netns: hub.name, ...})`).
 *
 * Names: namespaces are `xr<pid>-<label>` (labels of [A-Za-z0-9_-]; interface names inside
 * them are limited to 15 characters, namespace names are not); `sweepStaleNetns()` deletes
 * `xr<pid>-*` namespaces whose process is gone (left by a killed run); createNetns calls it once.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";

// ---------------------------------------------------------------- cleanup registry

type Cleanup = () => void | Promise<void>;
const cleanups: Cleanup[] = [];
const tempDirs: string[] = [];
const namespaces: string[] = [];
const daemons: Daemon[] = [];

/** Registers `fn` for cleanupAll() (run last-in first-out, after the daemons are stopped). */
export function onCleanup(fn: Cleanup): void {
  cleanups.push(fn);
}

/** Stops every daemon, runs registered cleanups, deletes namespaces and temp dirs. Never throws. */
export async function cleanupAll(): Promise<void> {
  await stopAllDaemons();
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch (e) {
      // eslint-disable-next-line no-console
      console.warn(`cleanup failed: ${(e as Error).message}`);
    }
  }
  while (namespaces.length > 0) deleteNetns(namespaces.pop()!);
  while (tempDirs.length > 0) fs.rmSync(tempDirs.pop()!, { recursive: true, force: true });
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const d of daemons) if (d.alive()) killGroup(d.pid, "SIGKILL");
    for (const ns of namespaces) spawnSync("ip", ["netns", "delete", ns], { stdio: "ignore" });
  });
}

/** A fresh temporary directory, removed by cleanupAll(). */
export function tempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `xr-${label}-`));
  tempDirs.push(dir);
  return dir;
}

// ---------------------------------------------------------------- commands

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
  timeoutMs?: number;
  cwd?: string;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function withNetns(netns: string | undefined, command: string, args: string[]): [string, string[]] {
  return netns ? ["ip", ["netns", "exec", netns, command, ...args]] : [command, args];
}

function mergedEnv(env?: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(env ?? {})) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Runs a command to completion. */
export function run(command: string, args: string[] = [], opts: RunOptions = {}): RunResult {
  const [cmd, argv] = withNetns(opts.netns, command, args);
  const r = spawnSync(cmd, argv, {
    encoding: "utf8",
    env: mergedEnv(opts.env),
    input: opts.input,
    timeout: opts.timeoutMs ?? 60000,
    cwd: opts.cwd,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) return { status: null, stdout: r.stdout ?? "", stderr: `${r.stderr ?? ""}${r.error.message}` };
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command; returns its stdout, or throws with its output when it fails. */
export function runOk(command: string, args: string[] = [], opts: RunOptions = {}): string {
  const r = run(command, args, opts);
  if (r.status !== 0) {
    throw new Error(`${[command, ...args].join(" ")}${opts.netns ? ` (netns ${opts.netns})` : ""} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  }
  return r.stdout;
}

// ---------------------------------------------------------------- daemons

export interface DaemonSpec {
  /** Label for logs and errors. */
  name: string;
  command: string;
  args?: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Run inside this network namespace. */
  netns?: string;
  /** stdout+stderr go here; default: a file in a temp dir. */
  logFile?: string;
}

export class Daemon {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private running = true;

  constructor(readonly name: string, private readonly child: ChildProcess, readonly logFile: string) {
    this.exited = new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        this.running = false;
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  alive(): boolean {
    return this.running;
  }

  /** The daemon's output so far. */
  log(): string {
    try {
      return fs.readFileSync(this.logFile, "utf8");
    } catch {
      return "";
    }
  }

  /** Sends `signal` (default SIGTERM) to the process group, then SIGKILL after timeoutMs. */
  async stop(opts: { signal?: NodeJS.Signals; timeoutMs?: number } = {}): Promise<void> {
    if (!this.running) return;
    killGroup(this.pid, opts.signal ?? "SIGTERM");
    const timeout = opts.timeoutMs ?? 10000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeout))),
    ]);
    if (timer) clearTimeout(timer);
    if (timedOut) await this.kill();
    // Children that left the group's leader behind (e.g. apache workers) get the same signal.
    killGroup(this.pid, "SIGKILL");
  }

  /** SIGKILL to the process group. */
  async kill(): Promise<void> {
    killGroup(this.pid, "SIGKILL");
    if (this.running) await this.exited;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Starts a long-running program in its own process group; see the module comment. */
export function startDaemon(spec: DaemonSpec): Daemon {
  installExitHook();
  const logFile = spec.logFile ?? path.join(tempDir(`log-${spec.name.replace(/[^A-Za-z0-9_.-]/g, "_")}`), "output.log");
  const fd = fs.openSync(logFile, "a");
  const [cmd, argv] = withNetns(spec.netns, spec.command, spec.args ?? []);
  const child = spawn(cmd, argv, {
    detached: true,
    stdio: ["ignore", fd, fd],
    env: mergedEnv(spec.env),
    cwd: spec.cwd,
  });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
  const d = new Daemon(spec.name, child, logFile);
  child.on("error", () => undefined);
  daemons.push(d);
  return d;
}

/** Stops every daemon started by startDaemon that is still running (in parallel). */
export async function stopAllDaemons(): Promise<void> {
  await Promise.all(daemons.filter((d) => d.alive()).map((d) => d.stop({ timeoutMs: 5000 })));
}

// ---------------------------------------------------------------- network

/** A TCP port free on `host` right now, chosen by the kernel. */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** True when nothing listens on host:port (a bind succeeds). */
export function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/**
 * A loopback address 127.x.y.z for `label`, stable within this process and distinct
 * across labels and test processes (x in 100..227, derived from label and pid).
 */
export function loopbackAddress(label: string): string {
  const h = crypto.createHash("sha256").update(`${label}/${process.pid}`).digest();
  return `127.${100 + (h[0] % 128)}.${h[1]}.${1 + (h[2] % 254)}`;
}

/** Polls `check` until it returns a truthy value; resolves with the elapsed milliseconds. */
export async function waitFor(
  check: () => unknown | Promise<unknown>,
  opts: { what: string; timeoutMs?: number; intervalMs?: number },
): Promise<number> {
  const start = Date.now();
  const timeout = opts.timeoutMs ?? 30000;
  let last = "";
  for (;;) {
    try {
      if (await check()) return Date.now() - start;
    } catch (e) {
      last = ` (last error: ${(e as Error).message})`;
    }
    if (Date.now() - start > timeout) throw new Error(`timed out after ${timeout} ms waiting for ${opts.what}${last}`);
    await sleep(opts.intervalMs ?? 100);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until a TCP connection to host:port succeeds (from `netns` when given). */
export function waitForPort(host: string, port: number, opts: { timeoutMs?: number; netns?: string } = {}): Promise<number> {
  const check = opts.netns
    ? () => run("bash", ["-c", `exec 3<>/dev/tcp/${host}/${port}`], { netns: opts.netns, timeoutMs: 3000 }).status === 0
    : () =>
        new Promise<boolean>((resolve) => {
          const s = net.connect({ host, port });
          s.setTimeout(1000);
          s.once("connect", () => {
            s.destroy();
            resolve(true);
          });
          s.once("error", () => resolve(false));
          s.once("timeout", () => {
            s.destroy();
            resolve(false);
          });
        });
  return waitFor(check, { what: `${host}:${port} to accept connections${opts.netns ? ` in ${opts.netns}` : ""}`, timeoutMs: opts.timeoutMs ?? 30000 });
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One GET on a fresh connection. Rejects on network errors and timeouts. */
export function httpGet(url: string, opts: { timeoutMs?: number; headers?: Record<string, string> } = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: opts.headers, timeout: opts.timeoutMs ?? 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
  });
}

// ---------------------------------------------------------------- network namespaces

export interface Netns {
  name: string;
  /** Runs a command inside the namespace (see run). */
  exec(command: string, args?: string[], opts?: Omit<RunOptions, "netns">): RunResult;
  /** Runs a command inside the namespace; stdout, or throws (see runOk). */
  execOk(command: string, args?: string[], opts?: Omit<RunOptions, "netns">): string;
}

const NETNS_PREFIX = "xr";
let swept = false;

/** Deletes `xr<pid>-*` namespaces whose creating process no longer exists. */
export function sweepStaleNetns(): void {
  const list = run("ip", ["netns", "list"]).stdout;
  for (const line of list.split("\n")) {
    const m = new RegExp(`^(${NETNS_PREFIX}(\\d+)-\\S+)`).exec(line.trim());
    if (!m) continue;
    const pid = Number(m[2]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) spawnSync("ip", ["netns", "delete", m[1]], { stdio: "ignore" });
  }
}

function netnsHandle(name: string): Netns {
  return {
    name,
    exec: (command, args = [], opts = {}) => run(command, args, { ...opts, netns: name }),
    execOk: (command, args = [], opts = {}) => runOk(command, args, { ...opts, netns: name }),
  };
}

/** Creates a namespace `xr<pid>-<label>` with lo up; deleted by cleanupAll(). */
export function createNetns(label: string): Netns {
  installExitHook();
  if (!swept) {
    swept = true;
    sweepStaleNetns();
  }
  const name = `${NETNS_PREFIX}${process.pid}-${label}`;
  runOk("ip", ["netns", "add", name]);
  namespaces.push(name);
  runOk("ip", ["-n", name, "link", "set", "lo", "up"]);
  return netnsHandle(name);
}

/** Deletes a namespace (processes still inside keep it alive until they exit). */
export function deleteNetns(name: string): void {
  spawnSync("ip", ["netns", "delete", name], { stdio: "ignore" });
  const i = namespaces.indexOf(name);
  if (i >= 0) namespaces.splice(i, 1);
}

export interface BridgedNetworkSpec {
  /** Short label (namespace names: xr<pid>-<label>-hub, xr<pid>-<label>-<member>). */
  label: string;
  /** Address of the bridge in the hub (the members' default gateway). */
  gateway: string;
  prefixLength: number;
  members: Array<{ label: string; ip: string; ifname?: string }>;
}

/**
 * Namespaces on one bridge: a hub (bridge br0 with the gateway address) and one namespace
 * per member (eth0 on a veth into br0, its address, default route via the gateway).
 */
export function bridgedNetwork(spec: BridgedNetworkSpec): { hub: Netns; members: Record<string, Netns> } {
  const hub = createNetns(`${spec.label}-hub`);
  hub.execOk("ip", ["link", "add", "br0", "type", "bridge"]);
  hub.execOk("ip", ["addr", "add", `${spec.gateway}/${spec.prefixLength}`, "dev", "br0"]);
  hub.execOk("ip", ["link", "set", "br0", "up"]);
  const members: Record<string, Netns> = {};
  spec.members.forEach((m, i) => {
    const ns = createNetns(`${spec.label}-${m.label}`);
    const ifname = m.ifname ?? "eth0";
    const hubSide = `v${i + 1}`;
    // Both ends are created directly in their namespaces: nothing appears in the root namespace.
    hub.execOk("ip", ["link", "add", hubSide, "type", "veth", "peer", "name", ifname, "netns", ns.name]);
    hub.execOk("ip", ["link", "set", hubSide, "master", "br0", "up"]);
    ns.execOk("ip", ["addr", "add", `${m.ip}/${spec.prefixLength}`, "dev", ifname]);
    ns.execOk("ip", ["link", "set", ifname, "up"]);
    ns.execOk("ip", ["route", "add", "default", "via", spec.gateway]);
    members[m.label] = ns;
  });
  return { hub, members };
}
