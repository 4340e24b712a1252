/**
 * A Flatcar stack (issue 11) through the real engine: the flatcar profile, static etcd
 * bootstrap and an XCP-ng 8.3 host (the xe double seeded without "CoreOS"), nodes reached
 * through the host as in production. Preview, up, re-up (no change), destroy.
 */
import * as path from "path";
import * as yaml from "js-yaml";
import { Stack } from "@pulumi/pulumi/automation";
import { xenCoreosProgram } from "../../components/program";
import { cliMissing, describeIf, newStack, programsMissing } from "../support/engine";
import { userDataOfDrive } from "../support/drive";
import { sshdMissing } from "../support/sshd";
import { DiscoveryService, FLATCAR_ISO, HostSandbox, XCP_NG_SEED, XeDouble, configJson, parsed, plannedResources, sandboxSettings, startHostSandbox } from "./sandbox";

const missing = cliMissing ?? sshdMissing({ namespace: true }) ?? programsMissing(["openssl", "isoinfo"], "config drives, reading them back");

describeIf(missing)("a Flatcar stack on an XCP-ng 8.3 host, through the real engine", () => {
  let box: HostSandbox | undefined;
  let xe: XeDouble;
  let discovery: DiscoveryService;
  let stack: Stack;
  let raw: any;

  beforeAll(async () => {
    box = await startHostSandbox({ prefix: "xen-coreos-flatcar-", nodeCount: 3, iso: FLATCAR_ISO, seed: XCP_NG_SEED });
    ({ xe, discovery } = box);
    raw = sandboxSettings(box.target, { services: false });
    raw.xenserver = { ...raw.xenserver, version: "xcp-ng-8.3" };
    delete raw.xenserver.template;
    delete raw.xenserver.isoRepository.coreosIso;
    raw.os = { profile: "flatcar", fleet: { sha256: "a".repeat(64) } };
    raw.discovery = { ...raw.discovery, mode: "static" };
    raw.coreos = { ...raw.coreos, channel: "stable" };
    for (const n of raw.clusters[0].nodes) n.memoryMiB = 2048;
    stack = await newStack({ baseDir: path.join(box.tmp, "stacks"), stackName: "flatcar", projectName: "xen-coreos", program: async () => xenCoreosProgram(), env: { NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" } });
    await stack.setAllConfigJson(configJson(raw, box.sshd.clientKey));
  }, 120_000);

  afterAll(async () => {
    await box?.stop();
  }, 60_000);

  it("preview plans every resource and runs nothing", async () => {
    const preview = await stack.preview();
    expect(preview.changeSummary).toEqual({ create: plannedResources(parsed(raw)).total });
    expect(xe.calls()).toEqual([]);
  }, 300_000);

  it("up: each node's VM from 'Generic Linux BIOS', running, booting a Flatcar config with a static etcd member list; no discovery request", async () => {
    const up = await stack.up();
    expect(up.summary.result).toBe("succeeded");
    const installs = xe.calls().filter((c) => c.argv[0] === "vm-install");
    expect(installs.map((c) => c.argv.find((a) => a.startsWith("template=")))).toEqual(["template=Generic Linux BIOS", "template=Generic Linux BIOS", "template=Generic Linux BIOS"]);
    const vms = xe.read().vms.filter((v) => !v["is-a-template"] && !v["is-control-domain"]);
    expect(vms.map((v) => [v["name-label"], v["power-state"], Number(v["memory-static-max"])]).sort()).toEqual([
      ["coreos1", "running", 2048 * 1024 ** 2],
      ["coreos2", "running", 2048 * 1024 ** 2],
      ["coreos3", "running", 2048 * 1024 ** 2],
    ]);
    expect(discovery.calls).toEqual([]);
    // What the node reads from its config drive: no etcd2/fleet sections; etcd-member and fleet units; flatcar-install.
    const state = (await stack.exportStack()).deployment as { resources: Array<{ urn: string; inputs?: Record<string, any> }> };
    const drive = state.resources.find((r) => r.urn.endsWith("::lab-coreos2-config-drive-vdi"))!;
    const stdin = drive.inputs!.stdin;
    const text = userDataOfDrive(typeof stdin === "object" && stdin?.plaintext ? JSON.parse(stdin.plaintext) : stdin);
    const doc = yaml.load(text.replace(/^#cloud-config\n/, "")) as { coreos: Record<string, any> };
    expect(doc.coreos.etcd2).toBeUndefined();
    expect(doc.coreos.fleet).toBeUndefined();
    const units = (doc.coreos.units as Array<{ name: string; "drop-ins"?: Array<{ content: string }>; content?: string }>);
    const etcd = units.find((u) => u.name === "etcd-member.service");
    expect(etcd?.["drop-ins"]?.map((d) => d.content).join("\n")).toContain("ETCD_INITIAL_CLUSTER=coreos1=https://10.50.0.101:2380,coreos2=https://10.50.0.102:2380,coreos3=https://10.50.0.103:2380");
    expect(units.map((u) => u.name)).toEqual(expect.arrayContaining(["fleet.service"]));
    expect(text).toContain("flatcar-install");
    expect(text).not.toContain("-o xen");
  }, 600_000);

  it("a second up changes nothing", async () => {
    const before = xe.calls().length;
    const up = await stack.up();
    expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["same"]);
    expect(xe.calls().slice(before).filter((c) => !/-(list|param-get)$/.test(c.argv[0]))).toEqual([]);
  }, 300_000);

  it("destroy leaves no VM and no config drive on the host", async () => {
    await stack.destroy();
    const s = xe.read();
    expect(s.vms.filter((v) => !v["is-a-template"] && !v["is-control-domain"])).toEqual([]);
    expect(s.vdis.filter((d) => d["other-config"]["xen-coreos-config-drive"])).toEqual([]);
  }, 300_000);
});
