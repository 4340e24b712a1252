/**
 * Growing a running cluster (README "Growing a running cluster", issue 6) under the REAL
 * Pulumi engine, with REAL etcd over TLS (README "etcd over TLS", issue 12): 3 → 4 → 5 nodes,
 * then back to 4.
 *
 * The sandbox is the engine lifecycle's (test/engine/sandbox.ts): one real sshd on 127.0.0.1
 * stands in for the XenServer host and every node, with the xe double on its PATH; services
 * are left out. In front of the real /usr/bin/etcdctl the sshd's PATH has a thin wrapper that
 * appends every call (argv, start, end, exit) to a log, so the order of `member add` and
 * `member remove` is read from what the EtcdMember commands really ran.
 *
 * The nodes get loopback addresses (network 127.0.3.0/24, nodes 127.0.3.1-5), so the peer URLs
 * the program hands to `etcdctl member add` (https://<ip>:2380) are real addresses here. Every
 * etcd runs with the environment of its node's RENDERED cloud-config (`coreos.etcd2`, each key
 * as ETCD_<KEY>, as coreos-cloudinit writes it) and the TLS files of that cloud-config's
 * `write_files` (the node's CA, certificate and key, issued by the program's own PKI), both read
 * from the stdin of the node's config-drive command in the stack state (`exportStack`, which
 * decrypts secrets):
 * - the certificates exist only once the first `up` has run, so the bootstrap nodes' etcd
 *   (coreos1-3) starts after it, v2 API enabled (as CoreOS's etcd2);
 * - a joining node "boots" when the watcher in this test sees an `[unstarted]` member with its
 *   peer URL;
 * - each etcd runs in a private mount namespace (unshare --mount --propagation private) where
 *   its node's files are bind-mounted at /etc/xen-coreos/tls, so every member reads its own
 *   certificate at the paths the cloud-config gives, as on a VM of its own.
 * Local adaptations, each what the same file means on a VM of its own:
 *   - the rendered client listener https://127.0.0.1:2379 is kept for coreos1 only (the
 *     endpoint EtcdMember uses on the first node, its "local member"): the machine's loopback
 *     is shared, each VM has its own;
 *   - the bootstrap nodes' `discovery` URL is replaced by the static list of the three
 *     rendered names and peer URLs (the sandbox's discovery service only hands out tokens);
 *   - the data directory is a temporary one (etcd2.service's /var/lib/etcd2).
 * The EtcdMember scripts run over SSH in the test sshd, which every node shares: the sshd has a
 * private tmpfs on /etc/xen-coreos, and coreos1's TLS files are put there once they exist
 * (membership changes go through coreos1, with its certificate). The test's own etcdctl uses
 * the same files of coreos1, from the test's folder.
 *
 * Skipped with a one-line reason without the CLI, sshd (as root: the settings log in as root,
 * and the mount namespaces need it), unshare, nsenter, mount, openssl, curl, etcd or etcdctl;
 * under CI=true that is a failure instead.
 */
import { ChildProcess, execFile, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import * as yaml from "js-yaml";
import { Stack } from "@pulumi/pulumi/automation";
import { xenCoreosProgram } from "../../components/program";
import { changedSteps, cliMissing, deploymentIdOf, describeIf, newStack, programsMissing, urnName, withEvents } from "../support/engine";
import { userDataOfDrive } from "../support/drive";
import { Sshd, sshdMissing, startSshd } from "../support/sshd";
import { ETCD_TLS, ETCD_TLS_DIR, EtcdTlsPaths, etcdTlsPaths } from "../../components/etcd/etcd-tls";
import { COREOS_ISO, DiscoveryService, NodeSshds, SANDBOX_BIN, XeDouble, configJson, parsed, plannedResources, sandboxSettings } from "./sandbox";

const run = promisify(execFile);

const missing =
  cliMissing ??
  sshdMissing({ namespace: true }) ??
  (process.getuid?.() !== 0 ? "the sandbox settings log in to the test sshd as root: run as root" : undefined) ??
  programsMissing(["openssl", "curl", "isoinfo", "etcd", "etcdctl", "unshare", "mount"], "config drives, discovery requests, real etcd in mount namespaces");

const NODE_DIR = path.dirname(process.execPath);
const PROJECT = "xen-coreos";
const STACK = "scaleout";
/** The stack's deployment id (from its state after the first up): every VM marker carries it. */
let deployment = "";
const BOOTSTRAP = 3;
const ip = (n: number) => `127.0.3.${n}`;
const nodeName = (n: number) => `coreos${n}`;
const peerUrl = (n: number) => `https://${ip(n)}:2380`;
const clientUrl = (n: number) => `https://${ip(n)}:2379`;
/** Where EtcdMember's etcdctl talks to (EtcdMemberArgs.endpoint's default): coreos1's local member. */
const LOCAL_ENDPOINT = "https://127.0.0.1:2379";

/** What a joining node adds to the stack: its etcd certificate and SSH host key (the PKI's), its VM's resources, its firewall rules, its EtcdMember. */
const joinerResources = (n: number) =>
  [
    `pki-cert-etcd-${nodeName(n)}`,
    `pki-hostkey-${nodeName(n)}`,
    ...["cloud-config", "config-drive", "config-drive-vdi", "", "instance", "halt", "vm", "firewall", "firewall-files", "etcd-member", "etcd-member-member"].map((r) => `lab-${nodeName(n)}${r ? `-${r}` : ""}`),
  ].sort();
const PER_JOINER = joinerResources(4).length;
/**
 * What a node added or removed changes on the nodes already there: their exact firewall rules
 * (written over SSH and reloaded), which name every node's address. Never a cloud-config, a
 * config drive or a VM.
 */
const firewallUpdates = (nodes: number[]) => nodes.map((n) => `update lab-${nodeName(n)}-firewall-files`);

const report: string[] = [];
const note = (line: string) => report.push(line);

/** Raw settings: `count` nodes on 127.0.3.x, those after the bootstrap three with join: true. */
function growRaw(t: Parameters<typeof sandboxSettings>[0], count: number): any {
  const nodes = Array.from({ length: count }, (_, i) => ({ name: nodeName(i + 1), ip: ip(i + 1), ...(i >= BOOTSTRAP ? { join: true } : {}) }));
  const raw = sandboxSettings(t, { services: false, nodes });
  raw.network = { ...raw.network, cidr: "127.0.3.0/24", gateway: "127.0.3.254", dns: ["127.0.3.254"] };
  raw.nas = { ...raw.nas, server: "127.0.3.200" };
  // 4 nodes is an even size: allowed while growing one node at a time.
  if (count % 2 === 0) raw.clusters[0].allowUnsafeSize = true;
  return raw;
}

/** `ETCDCTL_API=2 etcdctl member list` through coreos1 with `tls`, lines sorted by member name/peer URL. */
async function memberList(tls: EtcdTlsPaths, endpoint = clientUrl(1)): Promise<string[]> {
  const { stdout } = await run("etcdctl", ["--endpoint", endpoint, "--ca-file", tls.caFile, "--cert-file", tls.certFile, "--key-file", tls.keyFile, "member", "list"], {
    env: { ...process.env, ETCDCTL_API: "2" },
    timeout: 10_000,
  });
  const key = (l: string) => (l.match(/peerURLs=(\S+)/)?.[1] ?? l);
  return stdout.split("\n").filter(Boolean).sort((a, b) => key(a).localeCompare(key(b)));
}

/** The members as `name@peer` (`?@peer` while unstarted), for assertions. */
const summary = (lines: string[]) =>
  lines.map((l) => `${l.includes("[unstarted]") ? "?" : l.match(/ name=(\S+)/)?.[1]}@${l.match(/peerURLs=(\S+)/)?.[1]}`);

/** coreos-cloudinit's etcd2 drop-in: every key of `coreos.etcd2` as ETCD_<KEY> (dashes to underscores). */
function etcd2Environment(cloudConfig: string): Record<string, string> {
  const doc = yaml.load(cloudConfig.replace(/^#cloud-config\n/, "")) as { coreos?: { etcd2?: Record<string, unknown> } };
  const etcd2 = doc.coreos?.etcd2;
  if (!etcd2) throw new Error("the cloud-config has no coreos.etcd2 section");
  return Object.fromEntries(Object.entries(etcd2).map(([k, v]) => [`ETCD_${k.toUpperCase().replace(/-/g, "_")}`, String(v)]));
}

interface WrittenFile { path: string; content: string; permissions: string; owner?: string }

/** The cloud-config's `write_files` under the node's TLS directory (CA, certificate, key), as coreos-cloudinit writes them. */
function tlsWriteFiles(cloudConfig: string): WrittenFile[] {
  const doc = yaml.load(cloudConfig.replace(/^#cloud-config\n/, "")) as { write_files?: WrittenFile[] };
  return (doc.write_files ?? []).filter((f) => f.path.startsWith(`${ETCD_TLS_DIR}/`));
}

async function waitFor(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface EtcdctlCall { start: number; end: number; exit: number; api: string; argv: string[] }

describeIf(missing)("growing a running cluster 3 -> 4 -> 5 -> 4 under the real engine, with real etcd", () => {
  let tmp: string;
  let sshd: Sshd | undefined;
  let nodeSshds: NodeSshds | undefined;
  const discovery = new DiscoveryService();
  let xe: XeDouble;
  let stack: Stack;
  let etcdctlLog: string;
  const target = () => ({ port: sshd!.port, hostKey: sshd!.hostKey, nodes: nodeSshds!, authorizedKey: sshd!.clientPublicKey, isoDir: path.join(tmp, "isos"), discoveryEndpoint: discovery.endpoint });

  /** The etcd processes standing in for the nodes' etcd2, by node number: the environment and TLS folder each was given. */
  const etcds = new Map<number, { child: ChildProcess; exited: Promise<void>; stderr: () => string; env: Record<string, string>; tlsDir: string }>();
  /** coreos1's TLS files in the test's folder: what the test's own etcdctl presents (as etcdctl on coreos1 does). */
  let clientTls: EtcdTlsPaths | undefined;
  /** When the watcher first saw each member unstarted / started (ms), by node number. */
  const seenUnstarted = new Map<number, number>();
  const seenStarted = new Map<number, number>();
  const watcherErrors: string[] = [];
  let watching = false;
  let watcher: Promise<void> | undefined;
  /** VM uuids by node name, as recorded after the up that created them. */
  const vmUuids: Record<string, string> = {};
  /** Resources of the 3-node stack (step 1). */
  let bootstrapTotal = 0;

  /**
   * Starts node `n`'s etcd with `env` in a private mount namespace where `tlsDir` (the node's
   * own files) is bind-mounted, read-only, at /etc/xen-coreos/tls: over a tmpfs on
   * /etc/xen-coreos, so nothing is created on this machine but that (empty) mount point.
   */
  function startEtcd(n: number, env: Record<string, string>, tlsDir: string): void {
    // Only the node's variables: none of the test runner's ETCD_/ETCDCTL_ settings leak in.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("ETCD")));
    const full = { ...inherited, ...env, ETCD_DATA_DIR: path.join(tmp, "etcd", nodeName(n)), ETCD_ENABLE_V2: "true" };
    const script = 'mount -t tmpfs -o mode=0755 tmpfs "$1" && mkdir "$2" && mount --bind "$3" "$2" && mount -o remount,bind,ro "$2" && exec etcd';
    // unshare execs sh, which execs etcd: one pid (and process group) to stop.
    const child = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, "sh", path.dirname(ETCD_TLS_DIR), ETCD_TLS_DIR, tlsDir], {
      env: full,
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
    });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    etcds.set(n, { child, exited, stderr: () => stderr, env, tlsDir });
  }

  /** Writes node `n`'s TLS files as its cloud-config's write_files give them (names, modes) into the test's folder for that node. */
  function writeNodeTls(n: number, cloudConfig: string): string {
    const files = tlsWriteFiles(cloudConfig);
    const names = files.map((f) => path.basename(f.path)).sort();
    const expected = [ETCD_TLS.caFile, ETCD_TLS.certFile, ETCD_TLS.keyFile].map((f) => path.basename(f)).sort();
    if (JSON.stringify(names) !== JSON.stringify(expected)) throw new Error(`the cloud-config of ${nodeName(n)} writes ${JSON.stringify(names)} under ${ETCD_TLS_DIR}, not ${JSON.stringify(expected)}`);
    const dir = path.join(tmp, "nodes", nodeName(n), "tls");
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    for (const f of files) {
      const file = path.join(dir, path.basename(f.path));
      fs.writeFileSync(file, f.content, { mode: parseInt(f.permissions, 8) });
      fs.chmodSync(file, parseInt(f.permissions, 8));
    }
    return dir;
  }

  /**
   * The rendered etcd2 environment of node `n` with the header's local adaptations: the
   * loopback client listener kept for coreos1 only, and for a bootstrap node the static list of
   * the bootstrap members (`bootstrap`, rendered names and peer URLs) instead of its discovery URL.
   */
  function localEnv(n: number, rendered: Record<string, string>, bootstrap?: string): Record<string, string> {
    const env = { ...rendered };
    env.ETCD_LISTEN_CLIENT_URLS = env.ETCD_LISTEN_CLIENT_URLS.split(",")
      .filter((u) => n === 1 || !u.startsWith("https://127.0.0.1:"))
      .join(",");
    if (bootstrap !== undefined) {
      delete env.ETCD_DISCOVERY;
      env.ETCD_INITIAL_CLUSTER = bootstrap;
      env.ETCD_INITIAL_CLUSTER_STATE = "new";
    }
    return env;
  }

  async function stopEtcd(n: number): Promise<void> {
    const e = etcds.get(n);
    if (!e || e.child.exitCode !== null || e.child.signalCode !== null) return;
    try {
      process.kill(-e.child.pid!, "SIGTERM");
    } catch {
      /* already gone */
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-e.child.pid!, "SIGKILL");
      } catch {
        /* already gone */
      }
    }, 5000);
    await e.exited;
    clearTimeout(timer);
  }

  /** The cloud-config node `n` boots with: the stdin of its config-drive command, from the stack state (secrets decrypted). */
  async function renderedCloudConfig(n: number): Promise<string> {
    const deployment = (await stack.exportStack()).deployment as { resources: Array<{ urn: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }> };
    const res = deployment.resources.find((r) => urnName(r.urn) === `lab-${nodeName(n)}-config-drive-vdi`);
    if (!res) throw new Error(`no config drive command of ${nodeName(n)} in the stack state`);
    const stdin = (res.outputs?.stdin ?? res.inputs?.stdin) as unknown;
    const plain = typeof stdin === "object" && stdin !== null && "plaintext" in stdin ? JSON.parse((stdin as { plaintext: string }).plaintext) : stdin;
    if (typeof plain !== "string") throw new Error(`the config drive stdin of ${nodeName(n)} is no text: ${JSON.stringify(stdin).slice(0, 200)}`);
    // The stdin is the config-2 image in base64: read its user_data with a real ISO 9660 reader.
    const userData = userDataOfDrive(plain);
    if (!userData.startsWith("#cloud-config")) throw new Error(`the config drive of ${nodeName(n)} holds no cloud-config: ${JSON.stringify(userData.slice(0, 200))}`);
    return userData;
  }

  /** A joining node boots: its etcd2 starts with the environment and the TLS files of its rendered cloud-config. */
  async function bootJoiner(n: number): Promise<void> {
    const cloudConfig = await renderedCloudConfig(n);
    const env = localEnv(n, etcd2Environment(cloudConfig));
    const tlsDir = writeNodeTls(n, cloudConfig);
    // Paths and URLs only: the key stays in its file.
    note(`  boot ${nodeName(n)}: ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ")}`);
    startEtcd(n, env, tlsDir);
  }

  /** Polls the member list; an unstarted member on 127.0.3.N whose etcd is not running makes node N boot. */
  async function watch(): Promise<void> {
    while (watching) {
      try {
        for (const line of await memberList(clientTls!)) {
          const n = Number(line.match(/peerURLs=https:\/\/127\.0\.3\.(\d+):2380/)?.[1]);
          if (!n) continue;
          if (line.includes("[unstarted]")) {
            if (!seenUnstarted.has(n)) seenUnstarted.set(n, Date.now());
            const e = etcds.get(n);
            if (!e || e.child.exitCode !== null || e.child.signalCode !== null) {
              if (e) watcherErrors.push(`etcd of ${nodeName(n)} exited before it joined: ${e.stderr().slice(-800)}`);
              await bootJoiner(n).catch((err: Error) => watcherErrors.push(`boot ${nodeName(n)}: ${err.message}`));
            }
          } else if (line.includes(` name=${nodeName(n)} `) && !seenStarted.has(n)) {
            seenStarted.set(n, Date.now());
          }
        }
      } catch {
        /* etcd busy (e.g. electing): poll again */
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  function etcdctlCalls(since = 0): EtcdctlCall[] {
    if (!fs.existsSync(etcdctlLog)) return [];
    return fs
      .readFileSync(etcdctlLog, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [start, end, exit, api, ...argv] = l.split("\t");
        return { start: Number(start), end: Number(end), exit: Number(exit), api, argv };
      })
      .filter((c) => c.start >= since);
  }
  /** `member add <name>` / `member remove <id>` calls, as "verb arg exit". */
  const membershipCalls = (since: number) =>
    etcdctlCalls(since)
      .filter((c) => c.argv.includes("member") && /^(add|remove)$/.test(c.argv[c.argv.indexOf("member") + 1] ?? ""))
      .map((c) => ({ ...c, verb: c.argv[c.argv.indexOf("member") + 1], arg: c.argv[c.argv.indexOf("member") + 2] }));

  /** Each call names coreos1's local member (https) and the TLS files of coreos1 at the node's paths. */
  function expectTlsCalls(calls: EtcdctlCall[]): void {
    expect(calls.length).toBeGreaterThan(0);
    const flag = (c: EtcdctlCall, name: string) => c.argv[c.argv.indexOf(name) + 1];
    for (const c of calls) {
      expect([flag(c, "--endpoint"), flag(c, "--ca-file"), flag(c, "--cert-file"), flag(c, "--key-file")]).toEqual([LOCAL_ENDPOINT, ETCD_TLS.caFile, ETCD_TLS.certFile, ETCD_TLS.keyFile]);
    }
  }

  async function setNodes(count: number): Promise<void> {
    await stack.setAllConfigJson(configJson(growRaw(target(), count), sshd!.clientKey));
  }

  async function printMembers(label: string): Promise<string[]> {
    const lines = await memberList(clientTls!);
    note(`${label}:`);
    for (const l of lines) note(`    ${l}`);
    return lines;
  }

  /** xe calls since `mark` that name one of these VMs (any call: the VMs must not be touched). */
  const xeCallsOn = (mark: number, uuids: string[]) => xe.calls().filter((c) => c.start >= mark && c.argv.some((a) => uuids.some((u) => a.includes(u))));

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "xen-coreos-scale-out-"));
    fs.mkdirSync(path.join(tmp, "isos"));
    fs.writeFileSync(path.join(tmp, "isos", COREOS_ISO), Buffer.alloc(64 * 1024, 0x43));
    xe = new XeDouble(path.join(tmp, "xe", "state.json"));
    // etcdctl as the EtcdMember commands run it, logged: a wrapper first on the sshd's PATH.
    const wrapDir = path.join(tmp, "etcdctl-wrap");
    fs.mkdirSync(wrapDir);
    etcdctlLog = path.join(tmp, "etcdctl.log");
    const real = spawnSync("sh", ["-c", "command -v etcdctl"], { encoding: "utf8" }).stdout.trim();
    fs.writeFileSync(
      path.join(wrapDir, "etcdctl"),
      [
        "#!/bin/sh",
        "start=$(date +%s%3N)",
        `'${real}' "$@"`,
        "rc=$?",
        `{ printf '%s\\t%s\\t%s\\t%s' "$start" "$(date +%s%3N)" "$rc" "\${ETCDCTL_API:-}"; printf '\\t%s' "$@"; printf '\\n'; } >>'${etcdctlLog}'`,
        "exit $rc",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    await discovery.start();
    sshd = await startSshd({
      dir: path.join(tmp, "sshd"),
      permitRootLogin: "yes",
      setEnv: { PATH: [wrapDir, SANDBOX_BIN, NODE_DIR, "/usr/bin", "/bin"].join(":"), XE_STATE: xe.stateFile },
      // Every node's commands run in this sshd's mount namespace: what they read or write under
      // /etc/xen-coreos (coreos1's TLS files, see step 1) is this tmpfs, never this machine's /etc.
      tmpfs: ["/etc/xen-coreos", "/var/lib/iptables", "/var/lib/ip6tables"],
    });
    // Each node's sshd, socket-activated, reached through the host (the default ssh.viaXenServer).
    nodeSshds = new NodeSshds(sshd, 5, undefined, xe.guestsDir);
    await nodeSshds.start();

    stack = await newStack({
      baseDir: path.join(tmp, "stacks"),
      stackName: STACK,
      projectName: PROJECT,
      program: async () => xenCoreosProgram(),
      env: { NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" },
    });
    // The settings validation accepts the loopback network (nodes, gateway and NAS inside 127.0.3.0/24).
    for (const count of [3, 4, 5]) expect(() => parsed(growRaw(target(), count))).not.toThrow();
    await setNodes(3);
  }, 120_000);

  afterAll(async () => {
    watching = false;
    await watcher;
    if (watcherErrors.length) note(`watcher errors: ${watcherErrors.join(" | ")}`);
    // eslint-disable-next-line no-console
    console.log(["growing a running cluster, measured:", ...report.map((l) => `  ${l}`)].join("\n"));
    for (const n of [...etcds.keys()]) await stopEtcd(n);
    await nodeSshds?.stop();
    await sshd?.stop();
    await discovery.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  it("1. up with the 3 bootstrap nodes: VMs and the PKI, no etcdctl; then their etcd starts over TLS from their rendered cloud-configs", async () => {
    const t0 = Date.now();
    const up = await stack.up();
    note(`1 up (3 nodes): ${((Date.now() - t0) / 1000).toFixed(1)}s, ${JSON.stringify(up.summary.resourceChanges)}`);
    expect(up.summary.result).toBe("succeeded");
    // Every resource the program declares for 3 nodes, the PKI's among them (its CA, each node's etcd certificate and host key).
    const planned = plannedResources(parsed(growRaw(target(), 3)));
    note(`1 planned: ${JSON.stringify(planned.parts)}`);
    expect(up.summary.resourceChanges).toEqual({ create: planned.total });
    bootstrapTotal = planned.total;
    deployment = await deploymentIdOf(stack);
    for (const n of [1, 2, 3]) {
      const vms = xe.vmsOfNode(deployment, "lab", nodeName(n));
      expect(vms.map((v) => v["power-state"])).toEqual(["running"]);
      vmUuids[nodeName(n)] = vms[0].uuid;
    }
    // The bootstrap nodes form through discovery: the up ran no etcdctl at all (no etcd ran during it).
    expect(membershipCalls(0)).toEqual([]);
    expect(etcdctlCalls(0)).toEqual([]);

    // What the bootstrap nodes' rendered etcd2 sections say: name, https URLs, discovery, the node's TLS files, certificates required.
    const envs = new Map<number, Record<string, string>>();
    const tlsDirs = new Map<number, string>();
    for (const n of [1, 2, 3]) {
      const cloudConfig = await renderedCloudConfig(n);
      const env = etcd2Environment(cloudConfig);
      expect([env.ETCD_NAME, env.ETCD_INITIAL_ADVERTISE_PEER_URLS, env.ETCD_DISCOVERY?.startsWith(discovery.endpoint)]).toEqual([nodeName(n), peerUrl(n), true]);
      expect(env.ETCD_INITIAL_CLUSTER_STATE).toBeUndefined();
      expect(env).toMatchObject({
        ETCD_ADVERTISE_CLIENT_URLS: clientUrl(n),
        ETCD_LISTEN_CLIENT_URLS: `${clientUrl(n)},${LOCAL_ENDPOINT}`,
        ETCD_LISTEN_PEER_URLS: peerUrl(n),
        ETCD_CERT_FILE: ETCD_TLS.certFile,
        ETCD_KEY_FILE: ETCD_TLS.keyFile,
        ETCD_TRUSTED_CA_FILE: ETCD_TLS.caFile,
        ETCD_CLIENT_CERT_AUTH: "true",
        ETCD_PEER_CERT_FILE: ETCD_TLS.certFile,
        ETCD_PEER_KEY_FILE: ETCD_TLS.keyFile,
        ETCD_PEER_TRUSTED_CA_FILE: ETCD_TLS.caFile,
        ETCD_PEER_CLIENT_CERT_AUTH: "true",
      });
      envs.set(n, env);
      const dir = writeNodeTls(n, cloudConfig);
      tlsDirs.set(n, dir);
      // The same files the node's VM booted with (the xe double's guest stand-in applied its write_files); the key 0600.
      for (const file of [ETCD_TLS.caFile, ETCD_TLS.certFile, ETCD_TLS.keyFile]) {
        const booted = path.join(xe.guestsDir, nodeName(n), file);
        expect(fs.readFileSync(path.join(dir, path.basename(file)), "utf8")).toBe(fs.readFileSync(booted, "utf8"));
      }
      expect(fs.statSync(path.join(dir, path.basename(ETCD_TLS.keyFile))).mode & 0o777).toBe(0o600);
    }
    // The three members' own certificates: one CA, three different keys.
    const certs = [1, 2, 3].map((n) => fs.readFileSync(path.join(tlsDirs.get(n)!, path.basename(ETCD_TLS.certFile)), "utf8"));
    expect(new Set(certs).size).toBe(3);
    expect(new Set([1, 2, 3].map((n) => fs.readFileSync(path.join(tlsDirs.get(n)!, path.basename(ETCD_TLS.caFile)), "utf8"))).size).toBe(1);

    // The bootstrap etcd: each member with its own environment and files (static list of the rendered peers, see the header).
    const bootstrap = [1, 2, 3].map((n) => `${envs.get(n)!.ETCD_NAME}=${envs.get(n)!.ETCD_INITIAL_ADVERTISE_PEER_URLS}`).join(",");
    clientTls = etcdTlsPaths(tlsDirs.get(1)!);
    const t1 = Date.now();
    for (const n of [1, 2, 3]) startEtcd(n, localEnv(n, envs.get(n)!, bootstrap), tlsDirs.get(n)!);
    await waitFor(
      "the bootstrap etcd over TLS (3 started members, https://127.0.0.1:2379 answering coreos1's certificate)",
      async () => {
        for (const [n, e] of etcds) if (e.child.exitCode !== null) throw new Error(`etcd of ${nodeName(n)} exited: ${e.stderr().slice(-800)}`);
        const list = await memberList(clientTls!, LOCAL_ENDPOINT);
        return list.length === 3 && list.every((l) => / name=coreos[123] /.test(l));
      },
      30_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${[...etcds.values()].map((x) => x.stderr().slice(-600)).join("\n")}`);
    });
    note(`1 bootstrap etcd formed over TLS in ${Date.now() - t1} ms (3 started → 3 members listed through https://127.0.0.1:2379)`);
    // Client certificates are required: the same list without one is refused.
    const noCert = await run("etcdctl", ["--endpoint", clientUrl(1), "--ca-file", clientTls.caFile, "member", "list"], { env: { ...process.env, ETCDCTL_API: "2" }, timeout: 10_000 }).then(
      () => "answered",
      (e: { stderr?: string; message: string }) => e.stderr || e.message,
    );
    note(`1 member list without a client certificate: ${noCert.trim().split("\n").pop()}`);
    expect(noCert).toMatch(/certificate required|bad certificate/);

    // Membership changes go through coreos1: its files where its etcdctl reads them, in the sshd's namespace every node shares.
    sshd!.inNamespace(["sh", "-c", 'mkdir -p "$2" && cp -p "$1"/* "$2"/', "sh", tlsDirs.get(1)!, ETCD_TLS_DIR]);
    const modes = sshd!.inNamespace(["stat", "-c", "%a %n", ETCD_TLS.caFile, ETCD_TLS.certFile, ETCD_TLS.keyFile]);
    expect(modes.trim().split("\n")).toEqual([`644 ${ETCD_TLS.caFile}`, `644 ${ETCD_TLS.certFile}`, `600 ${ETCD_TLS.keyFile}`]);

    expect(summary(await printMembers("1 bootstrap etcd (after up)"))).toEqual([1, 2, 3].map((n) => `${nodeName(n)}@${peerUrl(n)}`));
    watching = true;
    watcher = watch();
    note(`1 VM uuids: ${Object.entries(vmUuids).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  }, 300_000);

  it("2. node 4 with join: preview creates only node 4's resources; up adds the member, which starts", async () => {
    await setNodes(4);
    const { result: preview, events } = await withEvents((e) => stack.preview({ onEvent: e }));
    const steps = changedSteps(events);
    note(`2 preview: ${steps.join(", ")}`);
    // Node 4's resources, and the others' firewall rules: no bootstrap node's cloud-config, drive or VM changes.
    expect(steps).toEqual([...joinerResources(4).map((r) => `create ${r}`), ...firewallUpdates([1, 2, 3])].sort());
    expect(PER_JOINER).toBe(plannedResources(parsed(growRaw(target(), 4))).total - bootstrapTotal);
    expect(preview.changeSummary).toEqual({ create: PER_JOINER, update: 3, same: bootstrapTotal - 3 });

    const before = await printMembers("2 before up (node 4 added to the settings)");
    expect(before).toHaveLength(3);
    const mark = Date.now();
    const up = await stack.up();
    note(`2 up (+coreos4): ${((Date.now() - mark) / 1000).toFixed(1)}s, ${JSON.stringify(up.summary.resourceChanges)}`);
    expect(up.summary.resourceChanges).toEqual({ create: PER_JOINER, update: 3, same: bootstrapTotal - 3 });
    const after = await printMembers("2 after up");
    expect(summary(after)).toEqual([1, 2, 3, 4].map((n) => `${nodeName(n)}@${peerUrl(n)}`));
    expect(watcherErrors).toEqual([]);
    // The joiner booted with initial-cluster-state=existing and the members before it plus itself.
    expect(etcds.get(4)!.env).toMatchObject({
      ETCD_NAME: "coreos4",
      ETCD_INITIAL_CLUSTER_STATE: "existing",
      ETCD_INITIAL_CLUSTER: [1, 2, 3, 4].map((n) => `${nodeName(n)}=${peerUrl(n)}`).join(","),
    });
    expect(etcds.get(4)!.env.ETCD_DISCOVERY).toBeUndefined();
    const adds = membershipCalls(mark);
    expect(adds.filter((c) => c.exit === 0).map((c) => `${c.api} ${c.verb} ${c.arg} ${c.argv.slice(-1)[0]}`)).toEqual([`2 add coreos4 ${peerUrl(4)}`]);
    // Every etcdctl the EtcdMember ran went to coreos1's local member over https, with coreos1's certificate.
    expectTlsCalls(etcdctlCalls(mark));
    vmUuids.coreos4 = xe.vmsOfNode(deployment, "lab", "coreos4")[0].uuid;
    expect(xeCallsOn(mark, [1, 2, 3].map((n) => vmUuids[nodeName(n)]))).toEqual([]);
  }, 420_000);

  it("3. node 5 with join: added after node 4 has started; no existing VM changes", async () => {
    await setNodes(5);
    await printMembers("3 before up (node 5 added to the settings)");
    const mark = Date.now();
    const up = await stack.up();
    note(`3 up (+coreos5): ${((Date.now() - mark) / 1000).toFixed(1)}s, ${JSON.stringify(up.summary.resourceChanges)}`);
    expect(up.summary.resourceChanges).toEqual({ create: PER_JOINER, update: 4, same: bootstrapTotal + PER_JOINER - 4 });
    const after = await printMembers("3 after up");
    expect(summary(after)).toEqual([1, 2, 3, 4, 5].map((n) => `${nodeName(n)}@${peerUrl(n)}`));
    expect(watcherErrors).toEqual([]);
    expect(etcds.get(5)!.env).toMatchObject({
      ETCD_INITIAL_CLUSTER_STATE: "existing",
      ETCD_INITIAL_CLUSTER: [1, 2, 3, 4, 5].map((n) => `${nodeName(n)}=${peerUrl(n)}`).join(","),
    });
    // Order: every `member add` (also refused retries), across both ups: coreos4's, then coreos5's.
    const adds = membershipCalls(0).filter((c) => c.verb === "add");
    note(`3 member add calls: ${adds.map((c) => `${c.arg} exit ${c.exit} at +${c.start - adds[0].start} ms`).join(", ")}`);
    const lastAdd4 = Math.max(...adds.filter((c) => c.arg === "coreos4").map((c) => c.end));
    const firstAdd5 = Math.min(...adds.filter((c) => c.arg === "coreos5").map((c) => c.start));
    expect(lastAdd4).toBeLessThan(firstAdd5);
    expect(adds.filter((c) => c.exit === 0).map((c) => c.arg)).toEqual(["coreos4", "coreos5"]);
    expectTlsCalls(etcdctlCalls(mark));
    // coreos4 had started (seen with its name by the watcher) before coreos5 was added.
    expect(seenStarted.get(4)).toBeLessThan(firstAdd5);
    note(`3 coreos4 seen started ${firstAdd5 - seenStarted.get(4)!} ms before coreos5's first member add`);
    vmUuids.coreos5 = xe.vmsOfNode(deployment, "lab", "coreos5")[0].uuid;
    expect(xeCallsOn(mark, [1, 2, 3, 4].map((n) => vmUuids[nodeName(n)]))).toEqual([]);
    for (const n of [1, 2, 3, 4]) expect(xe.vmsOfNode(deployment, "lab", nodeName(n)).map((v) => v.uuid)).toEqual([vmUuids[nodeName(n)]]);
  }, 420_000);

  it("4. node 5 removed from the settings: its member leaves etcd before its VM is uninstalled; back to 4", async () => {
    await setNodes(4);
    await printMembers("4 before up (node 5 removed from the settings)");
    const mark = Date.now();
    const up = await stack.up();
    note(`4 up (-coreos5): ${((Date.now() - mark) / 1000).toFixed(1)}s, ${JSON.stringify(up.summary.resourceChanges)}`);
    expect(up.summary.resourceChanges).toEqual({ delete: PER_JOINER, update: 4, same: bootstrapTotal + PER_JOINER - 4 });
    const removes = membershipCalls(mark).filter((c) => c.verb === "remove");
    const uninstalls = xe.calls().filter((c) => c.start >= mark && c.argv[0] === "vm-uninstall");
    expect(uninstalls.map((c) => c.argv.find((a) => a.startsWith("uuid=")))).toEqual([`uuid=${vmUuids.coreos5}`]);
    // etcd may refuse a removal while the cluster settles; the script retries until one succeeds.
    expect(removes.length).toBeGreaterThanOrEqual(1);
    expect(removes.map((c) => c.exit).slice(-1)).toEqual([0]);
    expect(removes.slice(0, -1).every((c) => c.exit !== 0)).toBe(true);
    expectTlsCalls(etcdctlCalls(mark));
    note(`4 member remove ended ${uninstalls[0].start - removes[removes.length - 1].end} ms before vm-uninstall of coreos5 started`);
    expect(removes[removes.length - 1].end).toBeLessThan(uninstalls[0].start);
    const after = await printMembers("4 after up");
    expect(summary(after)).toEqual([1, 2, 3, 4].map((n) => `${nodeName(n)}@${peerUrl(n)}`));
    // Its etcd learnt it was removed; its VM is gone, so its etcd goes too.
    note(`4 coreos5's etcd: ${/permanently removed/.test(etcds.get(5)!.stderr()) ? "logged that it was permanently removed" : "did not log its removal"}; stopped with its VM`);
    await stopEtcd(5);
    expect(xe.vmsOfNode(deployment, "lab", "coreos5")).toEqual([]);
    expect(xeCallsOn(mark, [1, 2, 3, 4].map((n) => vmUuids[nodeName(n)]))).toEqual([]);
    for (const n of [1, 2, 3, 4]) expect(xe.vmsOfNode(deployment, "lab", nodeName(n)).map((v) => v.uuid)).toEqual([vmUuids[nodeName(n)]]);
    expect(watcherErrors).toEqual([]);
  }, 420_000);

  it("5. destroy: the joined member leaves etcd through coreos1 before any VM, coreos1's first, is uninstalled", async () => {
    // What the destroy order is computed from: the member's recorded dependencies name its own
    // VM and the VM of coreos1, the node its etcdctl runs on.
    const state = await stack.exportStack();
    const member = state.deployment.resources.find((r: { type: string; urn: string }) => r.type === "xencoreos:etcd:EtcdMember" && r.urn.endsWith("coreos4-etcd-member"));
    const vmDeps = (member.dependencies as string[]).filter((u) => u.includes("xencoreos:xen:XenVm")).map((u) => u.split("::").pop()).sort();
    note(`5 coreos4's member depends on the VMs: ${vmDeps.join(", ")}`);
    expect(vmDeps).toEqual(expect.arrayContaining([expect.stringMatching(/-coreos1-vm$/), expect.stringMatching(/-coreos4-vm$/)]));
    const mark = Date.now();
    const down = await stack.destroy();
    note(`5 destroy: ${((Date.now() - mark) / 1000).toFixed(1)}s, ${JSON.stringify(down.summary.resourceChanges)}`);
    expect(down.summary.result).toBe("succeeded");
    const removes = membershipCalls(mark).filter((c) => c.verb === "remove");
    expect(removes.map((c) => c.exit).slice(-1)).toEqual([0]);
    const lastRemove = removes[removes.length - 1];
    expectTlsCalls(etcdctlCalls(mark));
    const uninstalls = xe.calls().filter((c) => c.start >= mark && c.argv[0] === "vm-uninstall");
    expect(uninstalls.map((c) => c.argv.find((a) => a.startsWith("uuid="))).sort()).toEqual([1, 2, 3, 4].map((n) => `uuid=${vmUuids[nodeName(n)]}`).sort());
    const coreos1 = uninstalls.find((c) => c.argv.includes(`uuid=${vmUuids.coreos1}`))!;
    note(`5 member remove of coreos4 ended ${coreos1.start - lastRemove.end} ms before vm-uninstall of coreos1 started`);
    for (const u of uninstalls) expect(lastRemove.end).toBeLessThan(u.start);
    const after = await printMembers("5 after destroy (the bootstrap etcd, which the sandbox keeps running)");
    expect(summary(after)).toEqual([1, 2, 3].map((n) => `${nodeName(n)}@${peerUrl(n)}`));
  }, 420_000);
});
