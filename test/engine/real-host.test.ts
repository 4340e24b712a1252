/**
 * What a first real `pulumi up` did wrong on a real host, through the real engine against the
 * xe double (XenServer 6.5's rules) behind a real sshd, nodes reached through the host:
 *
 *  1. a VM "replacement" (new network) adopted the old VM by its marker, then the old
 *     resource's delete uninstalled it: the node was gone while the output named a deleted VM;
 *  2. markers were `<stack>/<cluster>/<node>`, so a second project or backend with a stack of the
 *     same name on the same host got identical delete scripts: destroying one removed the other's
 *     VMs.
 * Each test asserts the outcome the issue asks for (exactly one VM, running, with the new
 * network, named by the output; the other deployment's VMs and drives untouched).
 */
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { xenCoreosProgram } from "../../components/program";
import { changedSteps, cliMissing, deploymentIdOf, describeIf, newStack, programsMissing, withEvents } from "../support/engine";
import { sshdMissing } from "../support/sshd";
import { COREOS_ISO, HostSandbox, XeDouble, configJson, sandboxSettings, startHostSandbox } from "./sandbox";

const missing = cliMissing ?? sshdMissing({ namespace: true }) ?? programsMissing(["openssl", "curl"], "config drives, discovery requests");

describeIf(missing)("real-host bugs, through the real engine", () => {
  let box: HostSandbox | undefined;
  let xe: XeDouble;

  const oneNode = (extra: (raw: any) => void = () => undefined, where: { ip: string; sshd: number } = { ip: "10.50.0.101", sshd: 0 }) => {
    const raw = sandboxSettings(box!.target, { services: false, nodes: [{ name: "coreos1", ip: where.ip }], firstSshd: where.sshd });
    raw.clusters[0].nodes[0].vcpus = 1;
    extra(raw);
    return raw;
  };
  /** A stack in its own backend folder: `backend` stands for another project's or operator's state. */
  async function stackIn(backend: string, name: string, raw: any): Promise<Stack> {
    const st = await newStack({ baseDir: path.join(box!.tmp, backend), stackName: name, projectName: "xen-coreos", program: async () => xenCoreosProgram(), env: { NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" } });
    await st.setAllConfigJson(configJson(raw, box!.sshd.clientKey));
    return st;
  }
  const vmsNamed = (name: string) => xe.read().vms.filter((v) => !v["is-a-template"] && !v["is-control-domain"] && v["name-label"] === name);
  const networkOf = (vmUuid: string) => {
    const s = xe.read() as unknown as { vifs: Array<{ vm: string; network: string }>; networks: Array<{ uuid: string; "name-label": string }> };
    return s.vifs.filter((v) => v.vm === vmUuid).map((v) => s.networks.find((n) => n.uuid === v.network)?.["name-label"]);
  };

  beforeAll(async () => {
    box = await startHostSandbox({ prefix: "xen-coreos-realhost-", nodeCount: 2, iso: COREOS_ISO });
    xe = box.xe;
  }, 120_000);

  afterAll(async () => {
    await box?.stop();
  }, 60_000);

  it("1. a new network replaces the VM: exactly one VM afterwards, running, on the new network, and the output names it", async () => {
    const raw = oneNode();
    const st = await stackIn("backend-a", "replace", raw);
    const first = await st.up();
    expect(first.summary.result).toBe("succeeded");
    const [old] = vmsNamed("coreos1");
    expect(networkOf(old.uuid)).toEqual(["Pool-wide network associated with eth0"]);

    await st.setConfig("xen-coreos:xenserver.network", { value: "cluster" }, true);
    const { result: preview, events } = await withEvents((e) => st.preview({ onEvent: e }));
    // The VM, its instance id, and its halt request (replaced with it: a new VM needs no halt).
    expect(changedSteps(events)).toEqual(expect.arrayContaining(["replace lab-coreos1-vm", "replace lab-coreos1-instance", "replace lab-coreos1-halt"]));
    expect(preview.changeSummary?.replace).toBe(3);

    const up = await st.up();
    expect(up.summary.result).toBe("succeeded");
    const after = vmsNamed("coreos1");
    expect(after).toHaveLength(1);
    const [vm] = after;
    expect(vm.uuid).not.toBe(old.uuid);
    expect(vm["power-state"]).toBe("running");
    expect(networkOf(vm.uuid)).toEqual(["cluster"]);
    expect(up.outputs.clusters.value.lab.nodes[0].vmUuid).toBe(vm.uuid);
    // Its marker names this deployment and a new instance; the config drive moved over to it.
    const deployment = await deploymentIdOf(st);
    expect(xe.vmsOfNode(deployment, "lab", "coreos1").map((v) => v.uuid)).toEqual([vm.uuid]);
    expect(vm["other-config"]["xen-coreos-node"]).not.toBe(old["other-config"]["xen-coreos-node"]);
    const state = xe.read();
    expect(state.vbds.filter((b) => b.vm === vm.uuid && b.userdevice === "1")).toHaveLength(1);
    // A second up changes nothing.
    const again = await st.up();
    expect(again.summary.resourceChanges).not.toHaveProperty("update");
    expect(again.summary.resourceChanges).not.toHaveProperty("replace");
    await st.destroy();
    expect(vmsNamed("coreos1")).toEqual([]);
  }, 900_000);

  it("2. two deployments with a stack of the same name on one host: each deletes only its own VM and drive", async () => {
    const a = await stackIn("backend-a", "lab", oneNode());
    // Same stack name, same node name; its own address (and so its own sshd in the sandbox), as two deployments on one network need.
    const b = await stackIn("backend-b", "lab", oneNode(undefined, { ip: "10.50.0.102", sshd: 1 }));
    expect((await a.up()).summary.result).toBe("succeeded");
    expect((await b.up()).summary.result).toBe("succeeded");
    const [ida, idb] = [await deploymentIdOf(a), await deploymentIdOf(b)];
    expect(ida).not.toBe(idb);
    const vmA = xe.vmsOfNode(ida, "lab", "coreos1");
    const vmB = xe.vmsOfNode(idb, "lab", "coreos1");
    expect([vmA.length, vmB.length]).toEqual([1, 1]);
    const driveOf = (uuid: string) => xe.read().vbds.find((x) => x.vm === uuid && x.userdevice === "1")?.vdi;
    const driveB = driveOf(vmB[0].uuid);

    await a.destroy();
    expect(xe.vmsOfNode(ida, "lab", "coreos1")).toEqual([]);
    const left = xe.vmsOfNode(idb, "lab", "coreos1");
    expect(left.map((v) => [v.uuid, v["power-state"]])).toEqual([[vmB[0].uuid, "running"]]);
    expect(xe.read().vdis.some((d) => d.uuid === driveB)).toBe(true);
    // And B's own teardown still works.
    await b.destroy();
    expect(xe.vmsOfNode(idb, "lab", "coreos1")).toEqual([]);
    const drives = xe.read().vdis.map((d) => d["other-config"]["xen-coreos-config-drive"] ?? "");
    expect(drives.filter((m) => m.startsWith(`${ida}/`) || m.startsWith(`${idb}/`))).toEqual([]);
  }, 900_000);
});
