import * as yaml from "js-yaml";
import { CloudConfigInput, renderCloudConfig, rootPartition, fleetMetadataString } from "../../components/coreos/cloud-config-render";
import { expectGolden } from "../golden";

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

  it("gives etcd2 the node's own addresses on 2379/2380 and the legacy 4001/7001", () => {
    const etcd2 = parse(renderCloudConfig(labNode({ ip: "10.50.0.102", hostname: "coreos2" }))).coreos.etcd2;
    expect(etcd2).toEqual({
      name: "coreos2",
      discovery: "https://discovery.etcd.io/3e86b59982e49066c5d813af1c2e2579",
      "advertise-client-urls": "http://10.50.0.102:2379,http://10.50.0.102:4001",
      "initial-advertise-peer-urls": "http://10.50.0.102:2380",
      "listen-client-urls": "http://0.0.0.0:2379,http://0.0.0.0:4001",
      "listen-peer-urls": "http://10.50.0.102:2380,http://10.50.0.102:7001",
    });
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
