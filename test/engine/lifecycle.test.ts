/**
 * The whole program (`xenCoreosProgram`) through its lifecycle under the REAL Pulumi engine:
 * the CLI built by .ci/pulumi-toolchain.sh, the Automation API with a local file backend, the
 * provider stand-ins (scripts/providers) as plugins.
 *
 * The sandbox: one real sshd on 127.0.0.1 (OpenSSH's default limits) stands in for the
 * XenServer host; every node is its own socket-activated `sshd -i` with systemd's
 * MaxConnections=64, reached through the host as the program's default
 * `ssh.viaXenServer: true` does (see ./sandbox.ts, NodeSshds). Their sessions get the doubles first on PATH (test/sandbox/bin: `xe` and `fleetctl`, which
 * accept only the real grammar and keep state in files of this test) and run in a private
 * mount namespace with a tmpfs on /mnt/nfs and /etc/xen-coreos, so what the program writes on
 * "nodes" stays in memory that disappears with the sshd. The discovery service is a small
 * HTTP server in this process. Node `ip`s (10.50.0.x) are only data: nothing connects to them.
 *
 * The tests run in order on one stack (preview, up, re-up, changes, destroy), plus a stack
 * that meets an injected xe failure and two VM-only stacks for the parallelism timing. They
 * print what they measured (one block at the end).
 *
 * Skipped with a one-line reason without the CLI, sshd, root (for the namespace), openssl
 * or curl; under CI=true that is a failure instead.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { xenCoreosProgram } from "../../components/program";
import { renderFleetApplyScript } from "../../components/fleet/fleetctl-scripts";
import { renderGaleraBundle, renderWebBundle } from "../../components/services/bundles";
import { StackSettings } from "../../components/config/settings";
import { nodeFirewall } from "../../components/firewall/firewall-plan";
import { renderFirewall } from "../../components/firewall/firewall-render";
import { labRaw } from "../fixtures/settings";
import { changedSteps, cliMissing, deploymentIdOf, describeIf, eventsMentioning, isSdkResponseEcho, newStack, programsMissing, storedCheckpoints, toleratingMonitorShutdown, urnName, withEvents } from "../support/engine";
import { Sshd, sshdMissing, startSshd } from "../support/sshd";
import {
  COREOS_ISO,
  DiscoveryService,
  FleetDouble,
  GiB,
  MiB,
  SANDBOX_BIN,
  NodeSshds,
  XeDouble,
  configJson,
  fleetMachines,
  parsed,
  plannedResources,
  plannedUnits,
  sandboxSettings,
  NODE_TMPFS,
} from "./sandbox";

const missing = cliMissing ?? sshdMissing({ namespace: true }) ?? programsMissing(["openssl", "curl"], "config drives, discovery requests");
const NODE_DIR = path.dirname(process.execPath);
const PROJECT = "xen-coreos";

/** What the tests measured, printed once at the end (also when one fails). */
const report: string[] = [];
const note = (line: string) => report.push(line);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

async function timed<T>(label: string, op: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await op();
  } finally {
    note(`${label}: ${secs(Date.now() - t0)}`);
  }
}

/** The error of a promise that must fail. */
async function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error("expected the operation to fail, it succeeded");
    },
    (e: Error) => e,
  );
}

describeIf(missing)("the program under the real engine, against xe/fleetctl doubles behind a real sshd", () => {
  let tmp: string;
  let sshd: Sshd | undefined;
  let timingSshd: Sshd | undefined;
  let nodeSshds: NodeSshds | undefined;
  let timingNodes: NodeSshds | undefined;
  const discovery = new DiscoveryService();
  let xe: XeDouble;
  let fleet: FleetDouble;
  let raw: any;
  let settings: StackSettings;
  let planned: { total: number; parts: Record<string, number> };
  let stack: Stack;
  /** Every event and CLI output text of every operation, for the secret check. */
  const events: EngineEvent[] = [];
  const outputTexts: string[] = [];
  const secrets: Record<string, string> = {};
  const vmUuids: Record<string, string> = {};
  /** SDK gRPC rejections tolerated after a failed update (see toleratingMonitorShutdown). */
  let monitorGone = 0;

  const onEvent = (e: EngineEvent) => events.push(e);
  /** What to search for: a value, or for a key each line of its body (any line of it would be a leak). */
  const needlesOf = (value: string) => (value.includes("PRIVATE KEY") ? value.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----")) : [value]);
  /** Each stack's deployment id (from its state): every marker it leaves carries it. */
  const deployments: Record<string, string> = {};
  const vmsOf = (node: string, stackName = "sandbox", cluster = "lab", x: XeDouble = xe) => x.vmsOfNode(deployments[stackName], cluster, node);
  const isoDir = () => path.join(tmp, "isos");

  const target = (s: Sshd, nodes: NodeSshds) => ({ port: s.port, hostKey: s.hostKey, nodes, authorizedKey: s.clientPublicKey, isoDir: isoDir(), discoveryEndpoint: discovery.endpoint });

  async function stackFor(name: string, rawSettings: any, key: string): Promise<Stack> {
    const st = await newStack({ baseDir: path.join(tmp, "stacks"), stackName: name, projectName: PROJECT, program: async () => xenCoreosProgram(), env: { NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" } });
    await st.setAllConfigJson(configJson(rawSettings, key));
    return st;
  }

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "xen-coreos-engine-"));
    fs.mkdirSync(isoDir());
    fs.writeFileSync(path.join(isoDir(), COREOS_ISO), Buffer.alloc(64 * 1024, 0x43)); // a small stand-in of the install ISO
    xe = new XeDouble(path.join(tmp, "xe", "state.json"));
    fleet = new FleetDouble(path.join(tmp, "fleet", "state.json"), path.join(tmp, "fleet", "seed.json"));
    await discovery.start();
    sshd = await startSshd({
      dir: path.join(tmp, "sshd"),
      permitRootLogin: "yes",
      setEnv: {
        PATH: [SANDBOX_BIN, NODE_DIR, "/usr/bin", "/bin"].join(":"),
        XE_STATE: xe.stateFile,
        FLEET_STATE: fleet.stateFile,
        FLEET_SEED: fleet.seedFile,
      },
      tmpfs: NODE_TMPFS,
    });
    nodeSshds = new NodeSshds(sshd, 8, undefined, xe.guestsDir);
    await nodeSshds.start();
    raw = sandboxSettings(target(sshd, nodeSshds));
    settings = parsed(raw);
    planned = plannedResources(settings);
    // fleet lists every node of the cluster (ips and metadata, cluster=<name> included).
    fleet.seed(fleetMachines(settings));
    stack = await stackFor("sandbox", raw, sshd.clientKey);
    secrets.sshPrivateKey = sshd.clientKey;
  }, 120_000);

  afterAll(async () => {
    note(`SDK gRPC rejections after the engine went away (failed update), tolerated: ${monitorGone}`);
    // eslint-disable-next-line no-console
    console.log(["engine lifecycle, measured:", ...report.map((l) => `  ${l}`)].join("\n"));
    for (const n of [nodeSshds, timingNodes]) if (n) note(`node sshds (${n.port}): ${n.stats().map((x) => `${x.host} peak ${x.peak}, dropped ${x.dropped}`).join("; ")}`);
    await nodeSshds?.stop();
    await timingNodes?.stop();
    await sshd?.stop();
    await timingSshd?.stop();
    await discovery.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  it("1. preview of an empty stack plans every resource the settings declare, and runs nothing", async () => {
    const { result } = await timed("1 preview", () => withEvents((e) => stack.preview({ onEvent: (x) => (onEvent(x), e(x)) })));
    outputTexts.push(result.stdout, result.stderr);
    // For the sandboxed lab settings (3 nodes, web with 3 instances, ftp with 2 users; galera left
    // out) this is 63 = Stack 1 + IsoRepository 2 + NfsShare 1 + cluster (4 + 5 x 3 nodes) 19
    // + FleetReady 2 + web (1 + 2 x (4 files + 8 units)) 25 + ftp (1 + 2 + 1 + 1 + 2 x (3 node file sets + 1) + 1 certificate) 14;
    // plannedResources derives it from the settings and the renderers.
    note(`1 planned creates ${planned.total} = ${Object.entries(planned.parts).map(([k, v]) => `${v} (${k})`).join(" + ")}`);
    expect(result.changeSummary).toEqual({ create: planned.total });
    expect(xe.calls()).toEqual([]);
    expect(discovery.calls).toEqual([]);
  }, 300_000);

  it("2. up: every VM runs with its vCPUs, memory and config drive; every fleet unit is active", async () => {
    const up = await timed("2 up", () => stack.up({ onEvent }));
    outputTexts.push(up.stdout, up.stderr);
    expect(up.summary.result).toBe("succeeded");
    expect(up.summary.resourceChanges).toEqual({ create: planned.total });
    // One token, for the cluster's size.
    expect(discovery.calls.map((c) => c.size)).toEqual([settings.clusters[0].nodes.length]);
    secrets.discoveryUrl = discovery.calls[0].url;

    deployments.sandbox = await deploymentIdOf(stack);
    expect(up.outputs.deploymentId.value).toBe(deployments.sandbox);
    const state = xe.read();
    const outNodes: Array<{ name: string; vmUuid: string }> = up.outputs.clusters.value.lab.nodes;
    for (const node of settings.clusters[0].nodes) {
      const vms = vmsOf(node.name);
      expect(vms).toHaveLength(1);
      const vm = vms[0];
      expect({ name: vm["name-label"], power: vm["power-state"], vcpus: Number(vm["VCPUs-max"]), memory: Number(vm["memory-static-max"]) }).toEqual({
        name: node.name,
        power: "running",
        vcpus: node.vcpus,
        memory: node.memoryMiB * MiB,
      });
      expect(outNodes.find((n) => n.name === node.name)?.vmUuid).toBe(vm.uuid);
      vmUuids[node.name] = vm.uuid;
      const vbds = state.vbds.filter((b) => b.vm === vm.uuid);
      const vdi = (b: { vdi: string | null } | undefined) => state.vdis.find((d) => d.uuid === b?.vdi);
      // The config drive: its own VDI, marked for this node, attached read-only at userdevice 1.
      const cfg = vbds.find((b) => b.userdevice === "1");
      expect(cfg).toMatchObject({ type: "Disk", mode: "RO" });
      expect(vdi(cfg)?.["other-config"]["xen-coreos-config-drive"]).toMatch(new RegExp(`^${deployments.sandbox}/lab/${node.name}/[0-9a-f]{12}$`));
      // Sized as xscontainer does it: a 2 MiB multiple, and the padded image fills it exactly.
      expect((vdi(cfg)?.["virtual-size"] ?? 1) % (2 * MiB)).toBe(0);
      expect((vdi(cfg) as unknown as { "imported-bytes": number })["imported-bytes"]).toBe(vdi(cfg)?.["virtual-size"]);
      // The system disk at the configured size, and the install ISO as CD.
      expect(vdi(vbds.find((b) => b.userdevice === "0" && b.type === "Disk"))?.["virtual-size"]).toBe(node.diskGiB * GiB);
      expect(vdi(vbds.find((b) => b.type === "CD"))?.["name-label"]).toBe(COREOS_ISO);
    }
    note(`2 VMs: ${settings.clusters[0].nodes.map((n) => `${n.name} ${n.vcpus} vCPU ${n.memoryMiB} MiB running`).join(", ")}; xe calls ${xe.calls().length}, fleetctl calls ${fleet.calls()}`);

    const units = fleet.units();
    const wanted = plannedUnits(settings);
    expect([...units.keys()].sort()).toEqual(wanted);
    // A global unit (Galera's proxy) runs, and is listed, once per matching machine.
    for (const u of wanted) {
      const states = units.get(u) ?? [];
      expect([u, states.length > 0 && states.every((state) => state === "active")]).toEqual([u, true]);
    }
    note(`2 fleet units active: ${wanted.length} (${wanted.join(" ")})`);

    // The share (in the sshd's namespace) holds customer data only: the web tier's config and
    // vsftpd's files are node-local (the nodes' /etc/xen-coreos), the users file and the key readable by root only.
    const share = sshd!.inNamespace(["find", "/mnt/nfs", "-type", "f"]).split("\n").filter(Boolean).sort();
    expect(share.filter((f) => f.startsWith("/mnt/nfs/nginx/") || f.startsWith("/mnt/nfs/services/"))).toEqual([]);
    expect(sshd!.inNamespace(["stat", "-c", "%n %a %u", "/etc/xen-coreos/ftp/users.passwd", "/etc/xen-coreos/ftp/tls/key.pem"]).trim().split("\n")).toEqual([
      "/etc/xen-coreos/ftp/users.passwd 600 0",
      "/etc/xen-coreos/ftp/tls/key.pem 600 0",
    ]);
    // A customer's site, written by the customer (over SSH on a node), not by the program.
    sshd!.ssh("root", "test -d /mnt/nfs/www/customer1 && echo 'customer site' > /mnt/nfs/www/customer1/index.html");

    const passwords: Record<string, string> = up.outputs.services.value.ftp.passwords;
    for (const [user, pw] of Object.entries(passwords)) secrets[`ftp password of ${user}`] = pw;
    expect(Object.keys(passwords).sort()).toEqual(settings.services.ftp!.users.slice().sort());
  }, 600_000);

  it("3. a second up changes nothing and runs nothing", async () => {
    const before = { xe: xe.calls().length, fleet: fleet.calls(), discovery: discovery.calls.length };
    const up = await timed("3 re-up", () => stack.up({ onEvent }));
    outputTexts.push(up.stdout, up.stderr);
    expect(up.summary.resourceChanges).toEqual({ same: planned.total });
    expect({ xe: xe.calls().length, fleet: fleet.calls(), discovery: discovery.calls.length }).toEqual(before);

    // Secrets are ciphertext in the stored state and in the stack's config file.
    expect(storedCheckpoints(path.join(tmp, "stacks", "sandbox", "state"), "sandbox")).toHaveLength(1);
    const stored = storedCheckpoints(path.join(tmp, "stacks", "sandbox", "state"), "sandbox").join("\n") + fs.readFileSync(path.join(tmp, "stacks", "sandbox", "work", "Pulumi.sandbox.yaml"), "utf8");
    const plain = Object.entries(secrets).filter(([, v]) => needlesOf(v).some((n) => stored.includes(n)));
    expect(plain.map(([k]) => k)).toEqual([]);
  }, 300_000);

  it("4a. web instances 3 -> 4: only the new apache and its announce sidecar are created", async () => {
    const web3 = renderWebBundle(settings.services.web!);
    await stack.setConfig("xen-coreos:services.web.instances", { value: "4" }, true);
    raw.services.web.instances = 4;
    const settings3 = settings;
    settings = parsed(raw);
    const web4 = renderWebBundle(settings.services.web!);
    // The nodes' exact firewall rules open the new backend port (files over SSH, no cloud-config change).
    const firewallOf = (s: StackSettings, node: string) => renderFirewall(nodeFirewall(s, "lab", node));
    const firewallUpdates = settings.clusters[0].nodes
      .filter((n) => JSON.stringify(firewallOf(settings3, n.name)) !== JSON.stringify(firewallOf(settings, n.name)))
      .map((n) => `update lab-${n.name}-firewall-files`);
    // What must change, from the renderer: new units are created, changed units replaced, changed files updated.
    const expected = [
      ...web4.units.filter((u) => !web3.units.some((o) => o.name === u.name)).flatMap((u) => [`create web-${u.name.replace(/\.service$/, "")}`, `create web-${u.name.replace(/\.service$/, "")}-unit`]),
      ...web4.units.filter((u) => web3.units.some((o) => o.name === u.name && o.text !== u.text)).map((u) => `replace web-${u.name.replace(/\.service$/, "")}-unit`),
      ...(web4.files.some((f) => web3.files.some((o) => o.path === f.path && o.content !== f.content)) ? settings.clusters[0].nodes.map((n) => `update web-files-${n.name}-files`) : []),
      ...firewallUpdates,
    ].sort();
    const unchangedFiles = web4.files.filter((f) => web3.files.some((o) => o.path === f.path && o.content === f.content)).map((f) => f.path);
    note(`4a renderer: files unchanged by the instance count: ${unchangedFiles.join(", ")}`);

    const { result, events: ev } = await withEvents((e) => stack.preview({ onEvent: (x) => (onEvent(x), e(x)) }));
    outputTexts.push(result.stdout, result.stderr);
    const steps = changedSteps(ev);
    note(`4a preview: ${steps.join(", ")}`);
    expect(steps).toEqual(expected);
    expect(expected).toEqual(["create web-apache-4", "create web-apache-4-unit", "create web-apache-announce-4", "create web-apache-announce-4-unit", ...firewallUpdates].sort());
    expect(firewallUpdates).toHaveLength(3);
    expect(result.changeSummary).toEqual({ create: 4, update: 3, same: planned.total - 3 });

    const up = await timed("4a up (apache-4)", () => stack.up({ onEvent }));
    outputTexts.push(up.stdout, up.stderr);
    expect(up.summary.resourceChanges).toEqual({ create: 4, update: 3, same: planned.total - 3 });
    planned = plannedResources(settings);
    const units = fleet.units();
    expect([units.get("apache-4.service"), units.get("apache-announce-4.service")]).toEqual([["active"], ["active"]]);
    expect([...units.keys()].sort()).toEqual(plannedUnits(settings));
  }, 480_000);

  it("4b. one node's memory: only that node's VM is updated in place, same uuid, new memory", async () => {
    const node = settings.clusters[0].nodes[1];
    await stack.setConfig("xen-coreos:clusters[0].nodes[1].memoryMiB", { value: "2048" }, true);
    raw.clusters[0].nodes[1].memoryMiB = 2048;
    settings = parsed(raw);

    const { result, events: ev } = await withEvents((e) => stack.preview({ onEvent: (x) => (onEvent(x), e(x)) }));
    outputTexts.push(result.stdout, result.stderr);
    note(`4b preview: ${changedSteps(ev).join(", ")}`);
    expect(changedSteps(ev)).toEqual([`update lab-${node.name}-halt`, `update lab-${node.name}-vm`]);

    const mark = Date.now();
    const up = await timed("4b up (memory)", () => stack.up({ onEvent }));
    outputTexts.push(up.stdout, up.stderr);
    expect(up.summary.resourceChanges).toEqual({ update: 2, same: planned.total - 2 });
    const [vm] = vmsOf(node.name);
    expect({ uuid: vm.uuid, memory: Number(vm["memory-static-max"]), power: vm["power-state"] }).toEqual({ uuid: vmUuids[node.name], memory: 2048 * MiB, power: "running" });
    // The node powered itself off (its halt request, through its own sshd), xapi saw it halted,
    // then set and start, of that VM only; never an `xe vm-shutdown` (6.5's xapi refuses a clean
    // one without the guest agent) and never a hard one.
    const calls = xe.calls().filter((c) => c.start >= mark && ["vm-shutdown", "vm-memory-limits-set", "vm-start"].includes(c.argv[0]));
    expect(calls.map((c) => `${c.argv[0]} ${c.argv.find((a) => a.startsWith("uuid="))}`)).toEqual([
      `vm-memory-limits-set uuid=${vm.uuid}`,
      `vm-start uuid=${vm.uuid}`,
    ]);
    expect(fs.readFileSync(`${xe.stateFile}.guest.log`, "utf8")).toBe("");
    expect(eventsMentioning(events, `node ${node.name}: powering off to apply: vcpus=`).length).toBeGreaterThan(0);
  }, 480_000);

  it("4c. the apache image: only the units whose text names it are replaced", async () => {
    const before = renderWebBundle(settings.services.web!);
    await stack.setConfig("xen-coreos:services.web.apacheImage", { value: "httpd:2.4.62" }, true);
    raw.services.web.apacheImage = "httpd:2.4.62";
    settings = parsed(raw);
    const after = renderWebBundle(settings.services.web!);
    const changed = after.units.filter((u) => before.units.find((o) => o.name === u.name)?.text !== u.text).map((u) => `web-${u.name.replace(/\.service$/, "")}-unit`).sort();

    const { result, events: ev } = await withEvents((e) => stack.preview({ onEvent: (x) => (onEvent(x), e(x)) }));
    outputTexts.push(result.stdout, result.stderr);
    const steps = changedSteps(ev);
    note(`4c preview: ${steps.join(", ")}`);
    expect([...new Set(steps.map((s) => s.split(" ")[1]))].sort()).toEqual(changed);
    for (const s of steps) expect(["replace", "create-replacement", "delete-replaced"]).toContain(s.split(" ")[0]);
    expect(changed).toEqual(["web-apache-1-unit", "web-apache-2-unit", "web-apache-3-unit", "web-apache-4-unit"]);
    expect(result.changeSummary).toEqual({ replace: changed.length, same: planned.total - changed.length });

    const mark = Date.now();
    const up = await timed("4c up (apache image)", () => stack.up({ onEvent }));
    outputTexts.push(up.stdout, up.stderr);
    expect(up.summary.resourceChanges).toEqual({ replace: changed.length, same: planned.total - changed.length });
    const units = fleet.units();
    for (const i of [1, 2, 3, 4]) expect(units.get(`apache-${i}.service`)).toEqual(["active"]);
    const apache1 = fleet.unitFiles().find((u) => u.name === "apache-1.service")!;
    expect(JSON.stringify(apache1.options)).toContain("httpd:2.4.62");
    // How many apache instances were down at once during the replacement (destroyed, not yet resubmitted)?
    let down = 0;
    let maxDown = 0;
    for (const c of fleet.log().filter((l) => l.start >= mark && l.exit === 0).sort((a, b) => a.start - b.start)) {
      const apache = c.argv.filter((a) => /(^|\/)apache-\d+\.service$/.test(a)).length;
      if (c.argv[0] === "destroy") down += apache;
      if (c.argv[0] === "submit") down -= apache;
      maxDown = Math.max(maxDown, down);
    }
    note(`4c apache instances down at the same time during the replacement: up to ${maxDown} of 4`);
    // Rolling: each instance is resubmitted (and active) before the next one is destroyed.
    expect(maxDown).toBe(1);
    const order = fleet
      .log()
      .filter((l) => l.start >= mark && l.exit === 0 && ["destroy", "submit"].includes(l.argv[0]))
      .sort((a, b) => a.start - b.start)
      .flatMap((l) => l.argv.filter((a) => /(^|\/)apache-\d+\.service$/.test(a)).map((a) => `${l.argv[0]} ${path.basename(a)}`));
    note(`4c order: ${order.join(", ")}`);
    expect(order).toEqual([1, 2, 3, 4].flatMap((i) => [`destroy apache-${i}.service`, `submit apache-${i}.service`]));
  }, 480_000);

  it("5. an xe failure halfway through up: the error names the node, state keeps what was done, the next up makes no duplicate", async () => {
    const nodes = [1, 2, 3].map((i) => ({ name: `f${i}`, ip: `10.50.0.${110 + i}` }));
    // Fronts 4-6: each sandbox node sshd presents the host key of the VM that booted as it.
    const fraw = sandboxSettings(target(sshd!, nodeSshds!), { services: false, nodes, firstSshd: 3 });
    const fplanned = plannedResources(parsed(fraw));
    const fstack = await stackFor("failure", fraw, sshd!.clientKey);
    let destroyed = false;
    try {
      xe.edit((s) => {
        s.failOn = ["vm-start@2"];
      });
      const mark = Date.now();
      const tokensBefore = discovery.calls.length;
      const { result: err, monitorGone: gone } = await timed("5 up with the 2nd vm-start failing", () => toleratingMonitorShutdown(() => failure(fstack.up({ onEvent }))));
      monitorGone += gone;
      outputTexts.push(err.message);
      const failed = xe.calls().filter((c) => c.start >= mark && c.argv[0] === "vm-start" && c.exit !== 0);
      expect(failed).toHaveLength(1);
      const failedUuid = failed[0].argv.find((a) => a.startsWith("uuid="))!.slice(5);
      const failedNode = xe.read().vms.find((v) => v.uuid === failedUuid)!["name-label"];
      // The engine's error names the node: its resource, the converge script's own header, and xe's error.
      const errorLine = err.message.split("\n").find((l) => l.includes("**creating failed**"));
      expect(errorLine).toContain(`command:remote:Command lab-${failedNode}-vm **creating failed** error: Process exited with status 1`);
      expect(errorLine).toContain(`converge the VM of node ${failedNode}`);
      expect(err.message).toContain("xe-double: injected failure (vm-start@2)");
      note(`5 failed node: ${failedNode}; error: ${errorLine?.trim().slice(0, 140)}…`);

      // State: the other VMs and every config drive are recorded; the failed VM's command is not.
      const deployment = (await fstack.exportStack()).deployment as { resources: Array<{ urn: string; type: string }>; pending_operations?: unknown[] };
      const recorded = deployment.resources.filter((r) => r.type === "command:remote:Command").map((r) => urnName(r.urn)).sort();
      note(`5 state after the failure: commands ${recorded.join(", ")}; pending operations ${deployment.pending_operations?.length ?? 0}`);
      expect(deployment.pending_operations ?? []).toEqual([]);
      // (Each node's halt request is recorded too: it has no create, so creating it runs nothing.)
      // A running node's exact firewall rules may have landed before the engine stopped; never the failed node's.
      const firewalls = recorded.filter((r) => r.endsWith("-firewall-files"));
      expect(firewalls.filter((r) => r === `lab-${failedNode}-firewall-files`)).toEqual([]);
      expect(recorded.filter((r) => !r.endsWith("-firewall-files"))).toEqual(
        [
          "iso-library-ensure",
          "guest-agent-read",
          ...nodes.map((n) => `lab-${n.name}-config-drive-vdi`),
          ...nodes.map((n) => `lab-${n.name}-halt`),
          ...nodes.filter((n) => n.name !== failedNode).map((n) => `lab-${n.name}-vm`),
        ].sort(),
      );
      // On the host the failed node's VM exists (installed and marked before the start failed), halted.
      deployments.failure = await deploymentIdOf(fstack);
      expect(vmsOf(failedNode, "failure").map((v) => v["power-state"])).toEqual(["halted"]);

      xe.edit((s) => {
        s.failOn = [];
      });
      const up = await timed("5 up again", () => fstack.up({ onEvent }));
      outputTexts.push(up.stdout, up.stderr);
      // The failed node's VM, and the firewall rule sets (component and command) not in state yet:
      // a NodeFiles waits for its node's VM, so an up stopped halfway may not have reached them.
      const inState = new Set(deployment.resources.map((r) => urnName(r.urn)));
      const missingFirewalls = nodes.flatMap((n) => [`lab-${n.name}-firewall`, `lab-${n.name}-firewall-files`]).filter((r) => !inState.has(r)).length;
      expect(up.summary.resourceChanges).toEqual({ create: 1 + missingFirewalls, same: fplanned.total - 1 - missingFirewalls });
      for (const n of nodes) {
        const vms = vmsOf(n.name, "failure");
        expect([n.name, vms.length, vms[0]?.["power-state"]]).toEqual([n.name, 1, "running"]);
      }
      expect(vmsOf(failedNode, "failure")[0].uuid).toBe(failedUuid);
      // One token for this cluster, kept across the failed and the successful up.
      expect(discovery.calls.length).toBe(tokensBefore + 1);

      const destroy = await timed("5 destroy", () => fstack.destroy({ onEvent }));
      destroyed = true;
      outputTexts.push(destroy.stdout, destroy.stderr);
      for (const n of nodes) expect(vmsOf(n.name, "failure")).toEqual([]);
    } finally {
      xe.edit((s) => {
        s.failOn = [];
      });
      if (!destroyed) await fstack.destroy().catch(() => undefined); // leave the host clean for the next test
    }
  }, 600_000);

  it("6+7. destroy succeeds with a VM already removed behind Pulumi's back, leaves nothing on the host or in fleet, and keeps customer data", async () => {
    const gone = settings.clusters[0].nodes[2].name;
    xe.run(["vm-uninstall", `uuid=${vmUuids[gone]}`, "force=true"]);
    expect(vmsOf(gone)).toEqual([]);

    const { result: destroy, events: ev } = await timed("6+7 destroy", () => withEvents((e) => stack.destroy({ onEvent: (x) => (onEvent(x), e(x)) })));
    outputTexts.push(destroy.stdout, destroy.stderr);
    expect(destroy.summary.result).toBe("succeeded");
    expect(Object.keys(destroy.summary.resourceChanges ?? {})).toEqual(["delete"]);
    expect(eventsMentioning(ev, `node ${gone}: VM already gone`).length).toBeGreaterThan(0);

    const state = xe.read();
    expect(state.vms.filter((v) => !v["is-a-template"] && !v["is-control-domain"])).toEqual([]);
    expect(state.vbds).toEqual([]); // no config-drive VBD, no CD VBD, no system disk VBD
    const isoSrs = state.srs.filter((s) => s.type === "iso").map((s) => s.uuid);
    expect(state.vdis.filter((d) => !isoSrs.includes(d.sr))).toEqual([]); // no config drive, no system disk
    expect(state.vdis.filter((d) => d["other-config"]["xen-coreos-config-drive"])).toEqual([]);
    expect([...fleet.units().keys()]).toEqual([]);
    expect(fleet.unitFiles()).toEqual([]);

    // The share: the program's files are gone, the customers' folders and files are not.
    expect(sshd!.inNamespace(["cat", "/mnt/nfs/www/customer1/index.html"]).trim()).toBe("customer site");
    expect(sshd!.inNamespace(["sh", "-c", "test -d /mnt/nfs/www/customer2 && echo kept"]).trim()).toBe("kept");
    expect(sshd!.inNamespace(["find", "/mnt/nfs", "-type", "f"]).split("\n").filter(Boolean)).toEqual(["/mnt/nfs/www/customer1/index.html"]);
    note(`6+7 after destroy: VMs ${state.vms.length} (dom0 + templates), VBDs 0, VDIs ${state.vdis.length} (ISO library), fleet units 0, customer file kept`);
  }, 480_000);

  it("never puts the SSH key, a generated password or the discovery URL in the engine's events or output", () => {
    expect(Object.keys(secrets)).toEqual(expect.arrayContaining(["sshPrivateKey", "discoveryUrl", "ftp password of customer1"]));
    expect(needlesOf(secrets.sshPrivateKey).length).toBeGreaterThan(1);
    const found: string[] = [];
    const inSdkEcho: string[] = [];
    for (const [what, value] of Object.entries(secrets)) {
      for (const needle of needlesOf(value)) {
        const hits = eventsMentioning(events, needle);
        const echo = hits.filter(isSdkResponseEcho);
        if (hits.length > echo.length || outputTexts.some((t) => t.includes(needle))) found.push(what);
        if (echo.length) inSdkEcho.push(`${what} (${echo.length})`);
      }
    }
    note(`secrets: searched ${events.length} events and ${outputTexts.length} output texts; leaks: ${[...new Set(found)].join(", ") || "none"}; in the SDK's debug echo only: ${[...new Set(inSdkEcho)].join(", ") || "none"}`);
    expect([...new Set(found)]).toEqual([]);
  });

  it("8. timing: VMs are created in parallel (7 nodes vs 3, xe delayed 300 ms per call)", async () => {
    const txe = new XeDouble(path.join(tmp, "xe-timing", "state.json"));
    timingSshd = await startSshd({
      dir: path.join(tmp, "sshd-timing"),
      permitRootLogin: "yes",
      setEnv: { PATH: [SANDBOX_BIN, NODE_DIR, "/usr/bin", "/bin"].join(":"), XE_STATE: txe.stateFile, XE_DELAY_MS: "300" },
    });
    timingNodes = new NodeSshds(timingSshd, 7, undefined, txe.guestsDir);
    await timingNodes.start();
    const measure = async (count: number) => {
      const nodes = Array.from({ length: count }, (_, i) => ({ name: `t${count}n${i + 1}`, ip: `10.50.0.${120 + count * 10 + i}` }));
      const st = await stackFor(`timing${count}`, sandboxSettings(target(timingSshd!, timingNodes!), { services: false, nodes }), timingSshd!.clientKey);
      const t0 = Date.now();
      const up = await st.up();
      const wall = Date.now() - t0;
      expect(up.summary.resourceChanges).toEqual({ create: plannedResources(parsed(sandboxSettings(target(timingSshd!, timingNodes!), { services: false, nodes }))).total });
      deployments[`timing${count}`] = await deploymentIdOf(st);
      for (const n of nodes) expect(vmsOf(n.name, `timing${count}`, "lab", txe).map((v) => v["power-state"])).toEqual(["running"]);
      // The VM part: from the first to the last xe call of this up.
      const calls = txe.calls().filter((c) => c.start >= t0);
      const span = Math.max(...calls.map((c) => c.end)) - Math.min(...calls.map((c) => c.start));
      // Each VM's own window: from the first to the last xe call naming its uuid. How many of them
      // were open at once is what "in parallel" means, whatever the machine's load does to spans.
      const windows = nodes.map((n) => {
        const uuid = vmsOf(n.name, `timing${count}`, "lab", txe)[0].uuid;
        const mine = calls.filter((c) => c.argv.some((a) => a.includes(uuid)));
        return { start: Math.min(...mine.map((c) => c.start)), end: Math.max(...mine.map((c) => c.end)) };
      });
      const concurrency = Math.max(...windows.map((w) => windows.filter((o) => o.start <= w.start && w.start < o.end).length));
      return { wall, span, calls: calls.length, concurrency };
    };
    const three = await measure(3);
    const seven = await measure(7);
    const ratio = seven.span / three.span;
    note(
      `8 timing (XE_DELAY_MS=300): 3 nodes up ${secs(three.wall)}, xe span ${secs(three.span)} (${three.calls} calls); ` +
        `7 nodes up ${secs(seven.wall)}, xe span ${secs(seven.span)} (${seven.calls} calls); ` +
        `ratio ${ratio.toFixed(2)} (wall ${(seven.wall / three.wall).toFixed(2)}): goal <= 1.3 ${ratio <= 1.3 ? "met" : "NOT met"}; ` +
          `VMs converging at once: ${three.concurrency} of 3, ${seven.concurrency} of 7`,
    );
    // Serial creation would have one VM converging at a time.
    expect(three.concurrency).toBeGreaterThanOrEqual(2);
    expect(seven.concurrency).toBeGreaterThanOrEqual(4);
  }, 600_000);
});

/**
 * A global fleet unit (Galera's proxy) is listed by `fleetctl list-units` once per machine:
 * the apply script's wait must see every row active (this once failed: it compared the
 * joined rows with "active").
 */
describe("fleet unit apply script with a global unit (fleetctl double, no engine)", () => {
  it("waits until every machine runs the global unit, then succeeds", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xen-coreos-global-unit-"));
    try {
      const s = parsed(labRaw());
      const galera = s.services.galera!;
      const proxy = renderGaleraBundle(galera, s.clusters[0]).units.find((u) => u.xFleet?.global)!;
      fs.writeFileSync(path.join(dir, "seed.json"), JSON.stringify({ machines: fleetMachines(s) }));
      const script = renderFleetApplyScript({ unit: proxy.name, instances: [], timeoutSeconds: 1 });
      const r = spawnSync("sh", ["-c", script], {
        input: proxy.text,
        encoding: "utf8",
        env: { ...process.env, PATH: `${SANDBOX_BIN}:${process.env.PATH}`, FLEET_STATE: path.join(dir, "state.json"), FLEET_SEED: path.join(dir, "seed.json") },
        timeout: 20_000,
      });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.stringContaining("active") });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
