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
  it("declares a 7-node web cluster and a 3-node db cluster, each with its own token sized to it", () => {
    expect(recorder.byType("xencoreos:xen:XenVm")).toHaveLength(10);
    expect(recorder.named("web-discovery-request").inputs.create).toContain("\nsize=7\n");
    expect(recorder.named("db-discovery-request").inputs.create).toContain("\nsize=3\n");
  });

  it("gives db nodes their memory and role", () => {
    const script: string = recorder.named("db-db2-vm").inputs.create;
    expect(script).toContain("vcpus=2\nmemory_bytes=8589934592\ndisk_bytes=42949672960\n");
    expect(driveText(recorder.named("db-db2-config-drive-vdi").inputs.stdin)).toContain("metadata: cluster=db,role=db\n");
    expect(driveText(recorder.named("web-web7-config-drive-vdi").inputs.stdin)).toContain("metadata: cluster=web,role=web\n");
  });

  it("uses the XenServer key for xe and the NAS key for the managed export", () => {
    expect(recorder.named("web-web1-vm").inputs.connection.privateKey).toBe("XEN-KEY");
    const exportCmd = recorder.named("share-export");
    expect(exportCmd.inputs.connection).toMatchObject({ host: "10.60.0.200", user: "root", privateKey: "NAS-KEY" });
    expect(exportCmd.inputs.create).toContain(`export_line='/srv/nfs/hosting 10.60.0.0/24(rw,sync,no_subtree_check) # xen-coreos:${hexFor("deployment")}'`);
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
