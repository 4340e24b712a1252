/** Growing the lab cluster 3 → 5 under mocks: the bootstrap nodes and the token stay as they were. */
import * as pulumi from "@pulumi/pulumi";
import { labRaw } from "../fixtures/settings";
import { ResourceRecorder, driveText, setStackConfig, valueOf } from "../support/mocks";

async function run(mutate: (raw: any) => void) {
  const recorder = new ResourceRecorder();
  pulumi.runtime.setMocks(recorder, "xen-coreos", "lab", false);
  const raw = labRaw();
  delete raw.services;
  mutate(raw);
  setStackConfig(raw, { sshPrivateKey: "KEY" });
  const { xenCoreosProgram } = await import("../../components/program");
  const outputs = xenCoreosProgram(recorder.root());
  for (const n of (await valueOf<any>(outputs.clusters)).lab.nodes) await valueOf(n.vmUuid);
  await new Promise((r) => setTimeout(r, 100));
  return recorder;
}

const grow = (raw: any) => {
  raw.clusters[0].allowUnsafeSize = true;
  raw.clusters[0].nodes.push({ name: "coreos4", ip: "10.50.0.104", join: true }, { name: "coreos5", ip: "10.50.0.105", join: true });
};

describe("growing a running cluster", () => {
  let three: ResourceRecorder;
  let five: ResourceRecorder;
  beforeAll(async () => {
    three = await run(() => undefined);
    five = await run(grow);
  });

  it("keeps the discovery token sized for the bootstrap nodes", () => {
    expect(five.named("lab-discovery-request").inputs.create).toContain("\nsize=3\n");
    expect(five.named("lab-discovery-bootstrap").inputs.keepers).toEqual(three.named("lab-discovery-bootstrap").inputs.keepers);
  });

  it("leaves the bootstrap nodes' VMs and config drives exactly as they were", () => {
    for (const node of ["coreos1", "coreos2", "coreos3"]) {
      expect(five.named(`lab-${node}-config-drive-vdi`).inputs).toEqual(three.named(`lab-${node}-config-drive-vdi`).inputs);
      expect(five.named(`lab-${node}-vm`).inputs.triggers).toEqual(three.named(`lab-${node}-vm`).inputs.triggers);
    }
  });

  it("boots a joining node with initial-cluster-state=existing and the members before it, without discovery", () => {
    const four: string = driveText(five.named("lab-coreos4-config-drive-vdi").inputs.stdin);
    expect(four).toContain("initial-cluster: coreos1=https://10.50.0.101:2380,coreos2=https://10.50.0.102:2380,coreos3=https://10.50.0.103:2380,coreos4=https://10.50.0.104:2380\n");
    expect(four).toContain("initial-cluster-state: existing\n");
    expect(four).not.toMatch(/^\s+discovery:/m);
    expect(driveText(five.named("lab-coreos5-config-drive-vdi").inputs.stdin)).toContain(",coreos5=https://10.50.0.105:2380\n");
  });

  it("adds each joining node with etcdctl member add through a bootstrap node", () => {
    const members = five.byType("command:remote:Command").filter((r) => r.name.endsWith("-etcd-member-member"));
    expect(members.map((m) => m.name)).toEqual(["lab-coreos4-etcd-member-member", "lab-coreos5-etcd-member-member"]);
    expect(members[0].inputs.create).toContain("name=coreos4\npeer_url=https://10.50.0.104:2380\n");
    expect(members[0].inputs.delete).toContain('etcd member remove "$id"');
    expect(members[0].inputs.connection.host).toBe("10.50.0.101");
    expect(three.byType("command:remote:Command").filter((r) => r.name.endsWith("-etcd-member-member"))).toEqual([]);
  });
});
