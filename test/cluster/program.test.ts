/**
 * The whole program under Pulumi mocks with the lab stack's settings: which resources it
 * declares, how they are named and nested, and how data flows between them.
 */
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { labRaw } from "../fixtures/settings";
import { userDataOfDrive } from "../support/drive";
import { ResourceRecorder, hexFor, setStackConfig, uuidFor, valueOf } from "../support/mocks";

const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nTEST-ONLY-KEY-MATERIAL\n-----END OPENSSH PRIVATE KEY-----\n";
const recorder = new ResourceRecorder();
let outputs: any;

beforeAll(async () => {
  pulumi.runtime.setMocks(recorder, "xen-coreos", "lab", false);
  setStackConfig(labRaw(), { sshPrivateKey: PRIVATE_KEY });
  const { xenCoreosProgram } = await import("../../components/program");
  outputs = xenCoreosProgram(recorder.root());
  // Wait for every node's VM uuid: by then the whole graph is registered.
  await valueOf(outputs.clusters);
  for (const node of (await valueOf<any>(outputs.clusters)).lab.nodes) await valueOf(node.vmUuid);
});

const count = (type: string) => recorder.byType(type).length;

describe("the lab program", () => {
  it("declares one cluster of 3 nodes: a token, and per node a cloud-config, a config drive and a VM", () => {
    expect(count("xencoreos:cluster:CoreosCluster")).toBe(1);
    expect(count("xencoreos:etcd:DiscoveryToken")).toBe(1);
    expect(count("xencoreos:coreos:CloudConfig")).toBe(3);
    expect(count("xencoreos:xen:ConfigDrive")).toBe(3);
    expect(count("xencoreos:xen:XenVm")).toBe(3);
    expect(count("xencoreos:xen:IsoRepository")).toBe(1);
    expect(count("xencoreos:nas:NfsShare")).toBe(1);
    // The lab NAS is an appliance: nothing is run on it.
    expect(recorder.resources.filter((r) => r.name.startsWith("share-"))).toEqual([]);
    // Per node: its config drive, its VM's converge command, the node's halt request and its exact firewall rules.
    const clusterLayer = recorder.byType("command:remote:Command").filter((r) => ["iso-library-ensure", "guest-agent-read"].includes(r.name) || r.name.startsWith("lab-coreos"));
    expect(clusterLayer).toHaveLength(2 + 3 * 4);
    const firewall = recorder.named("lab-coreos1-firewall-files");
    expect(firewall.inputs.create).toContain("restart_units='iptables-restore.service ip6tables-restore.service'");
    expect(firewall.inputs.stdin).toMatch(/^==> 0644 [0-9a-f]{64} \/var\/lib\/iptables\/rules-save$/m);
    expect(firewall.inputs.stdin).toContain("-s 10.50.0.102/32");
    expect(count("command:local:Command")).toBe(1);
    // The deployment id, the token's bootstrap id and one instance id per VM.
    expect(count("random:index/randomId:RandomId")).toBe(1 + 1 + 3);
  });

  it("names children after their parents and nests them", () => {
    expect(recorder.ancestry("lab-coreos2-vm")).toEqual(["lab-coreos2", "lab"]);
    expect(recorder.types.get("lab-coreos2")).toBe("xencoreos:xen:XenVm");
    expect(recorder.types.get("lab")).toBe("xencoreos:cluster:CoreosCluster");
    expect(recorder.ancestry("lab-coreos2-config-drive-vdi")).toEqual(["lab-coreos2-config-drive", "lab"]);
    expect(recorder.ancestry("lab-discovery-bootstrap")).toEqual(["lab-discovery", "lab"]);
    expect(recorder.ancestry("lab-discovery-request")).toEqual(["lab-discovery", "lab"]);
    expect(recorder.ancestry("lab-coreos1-cloud-config")).toEqual(["lab"]);
    expect(recorder.ancestry("iso-library-ensure")).toEqual(["iso-library"]);
  });

  it("runs xe on the XenServer host as root with the secret key", () => {
    const vm = recorder.named("lab-coreos1-vm");
    expect(vm.inputs.connection).toMatchObject({ host: "192.168.2.105", port: 22, user: "root" });
    expect(vm.inputs.connection.privateKey).toBe(PRIVATE_KEY);
    expect(vm.secretPaths.some((p) => p === "connection" || p === "connection.privateKey")).toBe(true);
  });

  it("creates each VM with its node's settings and attaches that node's config drive (a VM depends on its media)", () => {
    for (const node of ["coreos1", "coreos2", "coreos3"]) {
      const script: string = recorder.named(`lab-${node}-vm`).inputs.create;
      expect(script).toContain(`name_label=${node}\n`);
      expect(script).toContain("legacy_marker=''\n");
      expect(script).toContain("vcpus=1\nmemory_bytes=1073741824\ndisk_bytes=8589934592\n");
      // The marker: this deployment's id, the cluster, the node, this VM's instance id.
      const marker = `${hexFor("deployment")}/lab/${node}/${hexFor(`lab-${node}-instance`)}`;
      expect(recorder.named(`lab-${node}-vm`).inputs.stdin).toBe(`${uuidFor(`lab-${node}-config-drive-vdi`)}\n${marker}\n`);
      // An update may take over a VM an older version marked <stack>/<cluster>/<node>; a create never does.
      expect(recorder.named(`lab-${node}-vm`).inputs.update).toBe(script.replace("legacy_marker=''\n", `legacy_marker=lab/lab/${node}\n`));
      expect(recorder.named(`lab-${node}-vm`).inputs.delete).toContain(`marker=${marker}\n`);
      expect(recorder.named(`lab-${node}-vm`).inputs.delete).toContain("xe vm-uninstall");
      // The instance id changes exactly with what only a new VM can take.
      expect(Object.keys(recorder.named(`lab-${node}-instance`).inputs.keepers).sort()).toEqual(["network", "storageRepository", "template"]);
    }
  });

  it("builds each config drive from that node's cloud-config, which carries the cluster's token (a cloud-config depends on its token)", async () => {
    const token = await valueOf<string>((await valueOf<any>(outputs.clusters)).lab.discoveryUrl);
    expect(token).toMatch(/^https:\/\/discovery\.etcd\.io\/[0-9a-f]{32}$/);
    for (const [node, ip] of [["coreos1", "10.50.0.101"], ["coreos3", "10.50.0.103"]]) {
      const drive = recorder.named(`lab-${node}-config-drive-vdi`);
      expect(drive.secretPaths).toContain("stdin");
      // The config-2 image, base64-encoded: its user_data holds the node's cloud-config.
      const image = Buffer.from(drive.inputs.stdin, "base64").toString("latin1");
      expect(image).toContain("config-2");
      expect(image).toContain(`hostname: ${node}\n`);
      expect(image).toContain(`discovery: ${token}\n`);
      expect(image).toContain(`public-ip: ${ip}\n`);
      expect(drive.inputs.create).toContain(`marker=${hexFor("deployment")}/lab/${node}/`);
      // The guest agent from the host's tools ISO rides along under agent/.
      expect(image).toContain("# xe-daemon (test)");
      expect(drive.inputs.triggers[2]).toEqual([expect.stringMatching(/^agent\/xe-daemon 755 sha256:[0-9a-f]{12}$/), expect.stringMatching(/^agent\/xe-linux-distribution 755 /)]);
      // What previews show is the redacted copy.
      expect(JSON.stringify(drive.inputs.triggers)).not.toContain(token);
      expect(JSON.stringify(drive.inputs.triggers)).toContain("<discovery URL: secret");
    }
  });

  it("asks the discovery service for a token of the cluster's size", () => {
    const request = recorder.named("lab-discovery-request");
    expect(request.inputs.create).toContain("endpoint=https://discovery.etcd.io\nsize=3\n");
    expect(request.inputs.logging).toBe("none");
    expect(recorder.named("lab-discovery-bootstrap").inputs.keepers).toEqual({ cluster: "lab/lab", size: "3", endpoint: "https://discovery.etcd.io" });
  });

  it("never puts the private key or the token in a command line", async () => {
    const token = await valueOf<string>((await valueOf<any>(outputs.clusters)).lab.discoveryUrl);
    for (const r of recorder.byType("command:remote:Command")) {
      for (const field of ["create", "update", "delete"]) {
        expect(String(r.inputs[field] ?? "")).not.toContain("TEST-ONLY-KEY-MATERIAL");
        expect(String(r.inputs[field] ?? "")).not.toContain(token);
      }
    }
  });

  it("exports node names, IPs, VM uuids, the share and how to reach fleet", async () => {
    const clusters = await valueOf<any>(outputs.clusters);
    const nodes = await Promise.all(clusters.lab.nodes.map(async (n: any) => ({ ...n, vmUuid: await valueOf(n.vmUuid) })));
    expect(nodes.map((n: any) => [n.name, n.ip, n.vmUuid])).toEqual([
      ["coreos1", "10.50.0.101", uuidFor("lab-coreos1-vm")],
      ["coreos2", "10.50.0.102", uuidFor("lab-coreos2-vm")],
      ["coreos3", "10.50.0.103", uuidFor("lab-coreos3-vm")],
    ]);
    expect(clusters.lab.fleet.example).toBe("fleetctl --tunnel 10.50.0.101 list-machines");
    expect(await valueOf(outputs.share)).toEqual({
      server: "10.50.0.200", export: "/nfs/NFS", mountPoint: "/mnt/nfs", options: ["rw", "acl"], mountUnit: "mnt-nfs.mount", managed: false,
    });
  });

  it("marks the discovery URL secret", async () => {
    expect(await pulumi.isSecret(outputs.clusters.lab.discoveryUrl)).toBe(true);
  });

  it("gives each node its own etcd certificate (its address and 127.0.0.1, server and client) from the deployment's PKI", () => {
    const nodes: Array<[string, string]> = [["coreos1", "10.50.0.101"], ["coreos2", "10.50.0.102"], ["coreos3", "10.50.0.103"]];
    const keys = new Set<string>();
    for (const [node, ip] of nodes) {
      const cert = recorder.named(`pki-cert-etcd-${node}`);
      expect(cert.inputs).toMatchObject({ kind: "certificate", commonName: node, ipAddresses: [ip, "127.0.0.1"], usages: ["server", "client"] });
      const yamlText = userDataOfDrive(String(recorder.named(`lab-${node}-config-drive-vdi`).inputs.stdin));
      const files = (yaml.load(yamlText) as any).write_files as Array<{ path: string; content: string; owner: string; permissions: string }>;
      const keyFile = files.find((f) => f.path === "/etc/xen-coreos/tls/etcd-key.pem")!;
      expect([keyFile.owner, keyFile.permissions]).toEqual(["etcd:etcd", "0600"]);
      const key = keyFile.content;
      // (Booleans only: a failure must not print key material.)
      expect(/^-----BEGIN (RSA )?PRIVATE KEY-----\n[^\r]+-----END (RSA )?PRIVATE KEY-----\n$/s.test(key)).toBe(true);
      keys.add(key);
      // Only its own key: one private key per drive.
      expect(yamlText.match(/BEGIN (RSA )?PRIVATE KEY/g)).toHaveLength(1);
    }
    expect(keys.size).toBe(3);
  });

  it("keeps every node's private key secret: the drive's stdin is, and no preview copy, trigger, command line or output holds one", async () => {
    const cloudConfigs = await valueOf<any>(outputs.clusters);
    expect(JSON.stringify(cloudConfigs)).not.toMatch(/PRIVATE KEY/);
    for (const r of recorder.resources) {
      for (const [field, value] of Object.entries(r.inputs)) {
        if (!/PRIVATE KEY-----\n[A-Za-z0-9+/]/.test(JSON.stringify(value))) continue;
        // Key material only where the input is a secret: the PKI's own objects and the drive's stdin.
        expect({ resource: r.name, field, secret: r.secretPaths.some((p) => p === field || p.startsWith(`${field}.`) || p === "") }).toEqual({ resource: r.name, field, secret: true });
      }
    }
    for (const node of ["coreos1", "coreos2", "coreos3"]) {
      const drive = recorder.named(`lab-${node}-config-drive-vdi`);
      expect(JSON.stringify(drive.inputs.triggers)).toContain(`<etcd private key of ${node}: secret>`);
      // A new certificate (rotation) shows as a new secrets version, so the drive is rebuilt.
      expect(drive.inputs.triggers[1]).toMatch(/ tls:[0-9a-f]{16}$/);
    }
  });
});
