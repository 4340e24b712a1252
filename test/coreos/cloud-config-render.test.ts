import * as yaml from "js-yaml";
import { CloudConfigInput, renderCloudConfig, rootPartition, fleetMetadataString } from "../../components/coreos/cloud-config-render";
import { expectGolden } from "../golden";
import { fixedTestTls } from "../fixtures/tls";
import { ETCD_TLS } from "../../components/etcd/etcd-tls";

/** GIVEN the lab's coreos1 (thesis Annex 2 values, static IP). */
function labNode(overrides: Partial<CloudConfigInput> = {}): CloudConfigInput {
  return {
    hostname: "coreos1",
    ip: "10.50.0.101",
    prefixLength: 24,
    gateway: "10.50.0.1",
    dns: ["8.8.8.8"],
    interface: "eth0",
    sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIZnvnjAn2Qt4HLggTGOafdqHCSHSWLp0MDIQJe75iqV operator@lab-example-replace-me"],
    discoveryUrl: "https://discovery.etcd.io/3e86b59982e49066c5d813af1c2e2579",
    tls: fixedTestTls("coreos1"),
    fleetMetadata: { role: "web", cluster: "lab" },
    nfs: { server: "10.50.0.200", export: "/nfs/NFS", mountPoint: "/mnt/nfs", options: ["rw", "acl"] },
    install: { device: "/dev/xvda", channel: "alpha" },
    rebootStrategy: "etcd-lock",
    ...overrides,
  };
}

type Unit = { name: string; command?: string; enable?: boolean; content?: string; "drop-ins"?: Array<{ name: string; content: string }> };

function parse(text: string): any {
  return yaml.load(text);
}

describe("renderCloudConfig", () => {
  it("matches the golden lab node (reviewers read changes as a diff)", () => {
    expectGolden("coreos/lab-coreos1.cloud-config.yaml", renderCloudConfig(labNode()));
  });

  it("starts with the #cloud-config header and is deterministic", () => {
    const a = renderCloudConfig(labNode());
    expect(a.startsWith("#cloud-config\n")).toBe(true);
    expect(renderCloudConfig(labNode({ fleetMetadata: { cluster: "lab", role: "web" } }))).toBe(a);
  });

  it("gives etcd2 https only, on the node's own address (and 127.0.0.1 for its clients), no legacy 4001/7001", () => {
    const etcd2 = parse(renderCloudConfig(labNode({ ip: "10.50.0.102", hostname: "coreos2" }))).coreos.etcd2;
    expect(etcd2).toMatchObject({
      name: "coreos2",
      discovery: "https://discovery.etcd.io/3e86b59982e49066c5d813af1c2e2579",
      "advertise-client-urls": "https://10.50.0.102:2379",
      "initial-advertise-peer-urls": "https://10.50.0.102:2380",
      "listen-client-urls": "https://10.50.0.102:2379,https://127.0.0.1:2379",
      "listen-peer-urls": "https://10.50.0.102:2380",
    });
    const urls = Object.entries(etcd2).filter(([k]) => k.endsWith("-urls")).flatMap(([, v]) => String(v).split(","));
    for (const u of urls) expect(u).toMatch(/^https:\/\/(10\.50\.0\.102|127\.0\.0\.1):(2379|2380)$/);
  });

  it("asks every client and peer of etcd for a certificate of the deployment's CA (the node's files)", () => {
    const etcd2 = parse(renderCloudConfig(labNode())).coreos.etcd2;
    expect(etcd2["client-cert-auth"]).toBe(true);
    expect(etcd2["peer-client-cert-auth"]).toBe(true);
    expect(etcd2["trusted-ca-file"]).toBe(ETCD_TLS.caFile);
    expect(etcd2["peer-trusted-ca-file"]).toBe(ETCD_TLS.caFile);
    expect([etcd2["cert-file"], etcd2["peer-cert-file"]]).toEqual([ETCD_TLS.certFile, ETCD_TLS.certFile]);
    expect([etcd2["key-file"], etcd2["peer-key-file"]]).toEqual([ETCD_TLS.keyFile, ETCD_TLS.keyFile]);
  });

  it("writes the CA and the node's own certificate and key under /etc/xen-coreos/tls, the key 0600 for etcd only", () => {
    const tls = fixedTestTls("coreos1");
    const files: Array<{ path: string; content: string; permissions: string; owner: string }> = parse(renderCloudConfig(labNode({ tls }))).write_files;
    const byPath = Object.fromEntries(files.map((f) => [f.path, f]));
    expect(byPath[ETCD_TLS.caFile]).toEqual({ path: ETCD_TLS.caFile, content: tls.caPem, permissions: "0644", owner: "root" });
    expect(byPath[ETCD_TLS.certFile]).toEqual({ path: ETCD_TLS.certFile, content: tls.certPem, permissions: "0644", owner: "root" });
    expect(byPath[ETCD_TLS.keyFile]).toEqual({ path: ETCD_TLS.keyFile, content: tls.keyPem, permissions: "0600", owner: "etcd:etcd" });
    for (const f of [ETCD_TLS.caFile, ETCD_TLS.certFile, ETCD_TLS.keyFile]) expect(f.startsWith("/etc/xen-coreos/tls/")).toBe(true);
    // Only this node's key: one private key in the whole file.
    expect(renderCloudConfig(labNode({ tls })).match(/BEGIN PRIVATE KEY/g)).toHaveLength(1);
    // The files come before every unit that reads them (coreos-cloudinit writes write_files first).
    expect(() => renderCloudConfig(labNode({ tls: { ...tls, keyPem: "" } }))).toThrow(/coreos1: the etcd TLS private key is empty/);
  });

  it("points fleet and etcdctl at https with the node's certificate", () => {
    const doc = parse(renderCloudConfig(labNode()));
    expect(doc.coreos.fleet).toMatchObject({
      "etcd-servers": "https://10.50.0.101:2379",
      "etcd-cafile": ETCD_TLS.caFile,
      "etcd-certfile": ETCD_TLS.certFile,
      "etcd-keyfile": ETCD_TLS.keyFile,
    });
    const env = doc.write_files.find((f: any) => f.path === "/etc/environment").content.split("\n");
    expect(env).toEqual(expect.arrayContaining([
      "ETCDCTL_ENDPOINT=https://10.50.0.101:2379",
      `ETCDCTL_CA_FILE=${ETCD_TLS.caFile}`, `ETCDCTL_CERT_FILE=${ETCD_TLS.certFile}`, `ETCDCTL_KEY_FILE=${ETCD_TLS.keyFile}`,
      `ETCDCTL_CACERT=${ETCD_TLS.caFile}`, `ETCDCTL_CERT=${ETCD_TLS.certFile}`, `ETCDCTL_KEY=${ETCD_TLS.keyFile}`,
    ]));
    expect(renderCloudConfig(labNode())).not.toMatch(/http:\/\/[^\s]*:(2379|2380|4001|7001)/);
  });

  it("never relies on $public_ipv4 (XenServer does not fill it in)", () => {
    expect(renderCloudConfig(labNode())).not.toMatch(/\$public_ipv4|\$private_ipv4/);
  });

  it("gives fleet the public IP and sorted metadata", () => {
    const fleet = parse(renderCloudConfig(labNode())).coreos.fleet;
    expect(fleet["public-ip"]).toBe("10.50.0.101");
    expect(fleet.metadata).toBe("cluster=lab,role=web");
    expect(fleetMetadataString({ z: "1", a: "2" })).toBe("a=2,z=1");
  });

  it("runs the installer first and keeps etcd2 and fleet down on the install boot", () => {
    const units: Unit[] = parse(renderCloudConfig(labNode())).coreos.units;
    expect(units[0].name).toBe("xen-coreos-install.service");
    expect(units[0].command).toBe("start");
    expect(units[0].content).toContain("ConditionPathExists=!/dev/xvda9");
    expect(units[0].content).toContain("ExecStart=/usr/bin/coreos-install -d /dev/xvda -C alpha -o xen");
    for (const name of ["etcd2.service", "fleet.service"]) {
      const unit = units.find((u) => u.name === name)!;
      expect(unit.command).toBe("start");
      expect(unit["drop-ins"]![0].content).toContain("ConditionPathExists=!/run/xen-coreos-installing");
    }
    expect(rootPartition("/dev/nvme0n1")).toBe("/dev/nvme0n1p9");
  });

  it("mounts the share with a unit named after its path, ordered after the network", () => {
    const units: Unit[] = parse(renderCloudConfig(labNode({ nfs: { server: "10.50.0.200", export: "/nfs/NFS", mountPoint: "/srv/web-data", options: ["rw", "acl"] } }))).coreos.units;
    const mount = units.find((u) => u.name.endsWith(".mount"))!;
    expect(mount.name).toBe("srv-web\\x2ddata.mount");
    expect(mount.enable).toBe(true);
    expect(mount.content).toMatch(/^Wants=network-online.target rpc-statd.service$/m);
    expect(mount.content).toMatch(/^After=network-online.target rpc-statd.service$/m);
    expect(mount.content).not.toMatch(/local-fs.target/);
    expect(mount.content).toMatch(/^What=10.50.0.200:\/nfs\/NFS$/m);
    expect(mount.content).toMatch(/^Where=\/srv\/web-data$/m);
    expect(mount.content).toMatch(/^Options=rw,acl$/m);
  });

  it("configures static networking on the node's interface", () => {
    const units: Unit[] = parse(renderCloudConfig(labNode({ dns: ["8.8.8.8", "1.1.1.1"] }))).coreos.units;
    const net = units.find((u) => u.name === "10-static.network")!;
    expect(net.content).toBe("[Match]\nName=eth0\n\n[Network]\nAddress=10.50.0.101/24\nGateway=10.50.0.1\nDNS=8.8.8.8\nDNS=1.1.1.1\n");
  });

  it("starts the XenServer guest agent from the config drive", () => {
    const units: Unit[] = parse(renderCloudConfig(labNode())).coreos.units;
    const agent = units.find((u) => u.name === "xe-linux-distribution.service")!;
    expect(agent.content).toContain("ExecStart=/media/configdrive/agent/xe-daemon");
  });

  it("writes arp_notify and the node's addresses to /etc/environment", () => {
    const files: Array<{ path: string; content: string; permissions: string }> = parse(renderCloudConfig(labNode())).write_files;
    expect(files.find((f) => f.path === "/etc/sysctl.d/10-enable-arp-notify.conf")!.content).toBe("net.ipv4.conf.all.arp_notify = 1\n");
    const env = files.find((f) => f.path === "/etc/environment")!;
    expect(env.content).toContain("COREOS_PUBLIC_IPV4=10.50.0.101\n");
    expect(env.content).toContain("COREOS_PRIVATE_IPV4=10.50.0.101\n");
    expect(env.permissions).toBe("0644");
  });

  it("reboots one node at a time", () => {
    expect(parse(renderCloudConfig(labNode())).coreos.update["reboot-strategy"]).toBe("etcd-lock");
  });

  it("passes a mirror to coreos-install when one is set", () => {
    const units: Unit[] = parse(renderCloudConfig(labNode({ install: { device: "/dev/xvda", channel: "stable", baseUrl: "http://mirror.lab/coreos" } }))).coreos.units;
    expect(units[0].content).toContain("coreos-install -d /dev/xvda -C stable -o xen -b http://mirror.lab/coreos");
  });
});
