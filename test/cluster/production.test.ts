/** The production example under mocks: two clusters, a managed NAS, separate keys. */
import * as pulumi from "@pulumi/pulumi";
import { stackRawSettings } from "../fixtures/settings";
import { ResourceRecorder, driveText, hexFor, setStackConfig, valueOf } from "../support/mocks";

const recorder = new ResourceRecorder();
let outputs: any;

beforeAll(async () => {
  pulumi.runtime.setMocks(recorder, "xen-coreos", "production", false);
  setStackConfig(stackRawSettings("production"), { sshPrivateKey: "NODE-KEY", xenserverPrivateKey: "XEN-KEY", nasPrivateKey: "NAS-KEY" });
  const { xenCoreosProgram } = await import("../../components/program");
  outputs = xenCoreosProgram(recorder.root());
  const clusters = await valueOf<any>(outputs.clusters);
  for (const c of Object.values<any>(clusters)) for (const n of c.nodes) await valueOf(n.vmUuid);
});

describe("the production program", () => {
  it("declares a 7-node web cluster and a 3-node db cluster, bootstrapped from their static member lists (no token)", () => {
    expect(recorder.byType("xencoreos:xen:XenVm")).toHaveLength(10);
    expect(recorder.byType("xencoreos:etcd:DiscoveryToken")).toHaveLength(0);
    expect(recorder.byType("command:local:Command")).toHaveLength(0);
    const web3 = driveText(recorder.named("web-web3-config-drive-vdi").inputs.stdin);
    const initial = /ETCD_INITIAL_CLUSTER=([^"]*)"/.exec(web3)![1].split(",");
    expect(initial).toHaveLength(7);
    expect(initial).toContain("web1=https://10.60.0.11:2380");
    expect(initial).toContain("web7=https://10.60.0.17:2380");
    const db1 = driveText(recorder.named("db-db1-config-drive-vdi").inputs.stdin);
    expect(/ETCD_INITIAL_CLUSTER=([^"]*)"/.exec(db1)![1].split(",")).toEqual(["db1=https://10.60.0.21:2380", "db2=https://10.60.0.22:2380", "db3=https://10.60.0.23:2380"]);
    // Each cluster its own etcd token: the two never join each other.
    expect(/ETCD_INITIAL_CLUSTER_TOKEN=([^"]*)"/.exec(web3)![1]).not.toBe(/ETCD_INITIAL_CLUSTER_TOKEN=([^"]*)"/.exec(db1)![1]);
  });

  it("installs Flatcar on XCP-ng 8.3: the Generic Linux BIOS template, flatcar-install without -o xen, the Flatcar ISO", () => {
    const script: string = recorder.named("web-web1-vm").inputs.create;
    expect(script).toContain("template='Generic Linux BIOS'\n");
    expect(script).toContain("iso_name=flatcar_production_iso_image.iso\n");
    const web1 = driveText(recorder.named("web-web1-config-drive-vdi").inputs.stdin);
    expect(web1).toMatch(/ExecStart=\/usr\/bin\/flatcar-install -d \/dev\/xvda -C stable\n/);
    expect(web1).not.toContain("-o xen");
    expect(web1).not.toMatch(/^ {2}etcd2:|^ {2}fleet:/m);
  });

  it("gives db nodes their memory and role", () => {
    const script: string = recorder.named("db-db2-vm").inputs.create;
    expect(script).toContain("vcpus=2\nmemory_bytes=8589934592\ndisk_bytes=42949672960\n");
    expect(driveText(recorder.named("db-db2-config-drive-vdi").inputs.stdin)).toContain('Environment="FLEET_METADATA=cluster=db,role=db"\n');
    expect(driveText(recorder.named("web-web7-config-drive-vdi").inputs.stdin)).toContain('Environment="FLEET_METADATA=cluster=web,role=web"\n');
  });

  it("uses the XenServer key for xe and the NAS key for the managed export", () => {
    expect(recorder.named("web-web1-vm").inputs.connection.privateKey).toBe("XEN-KEY");
    const exportCmd = recorder.named("share-export");
    expect(exportCmd.inputs.connection).toMatchObject({ host: "10.60.0.200", user: "root", privateKey: "NAS-KEY" });
    // Exported to the ten nodes alone (web and db clusters), root squashed; never to the whole network.
    const line = /export_line='(.*)'/.exec(exportCmd.inputs.create)![1];
    const clusters = stackRawSettings("production").clusters as Array<{ nodes: Array<{ ip: string }> }>;
    const nodes = clusters.flatMap((c) => c.nodes.map((n) => n.ip));
    expect(line).toBe(`/srv/nfs/hosting ${nodes.map((ip) => `${ip}(rw,sync,no_subtree_check,root_squash)`).join(" ")} # xen-coreos:${hexFor("deployment")}`);
    expect(exportCmd.inputs.create).toContain("legacy_marker=xen-coreos:production\n");
    expect(exportCmd.inputs.delete).not.toMatch(/\brm\b/);
  });
});

describe("production protection", () => {
  it("declares the database cluster and the managed NAS export protected, the web cluster not", () => {
    expect(recorder.protectedNames.has("db")).toBe(true);
    expect(recorder.protectedNames.has("share")).toBe(true);
    expect(recorder.protectedNames.has("web")).toBe(false);
    expect(recorder.types.get("db")).toBe("xencoreos:cluster:CoreosCluster");
  });
});
