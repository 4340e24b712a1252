/**
 * The host firewall: what each node of the lab and production stacks lets in (golden rule
 * files, reviewed as diffs), the plan's choices, the renderer's refusals, and the rule files
 * inside the cloud-config. The rules themselves are proven with the real iptables in
 * firewall-lab.test.ts.
 */
import * as yaml from "js-yaml";
import { parseSettings } from "../../components/config/settings";
import { nodeFirewall } from "../../components/firewall/firewall-plan";
import { FIREWALL_BOOT_PATHS, FIREWALL_RULES_PATHS, FIREWALL_UNITS, renderFirewall } from "../../components/firewall/firewall-render";
import { renderCloudConfig } from "../../components/coreos/cloud-config-render";
import { expectGolden } from "../golden";
import { WITH_KEY, labRaw, stackRawSettings } from "../fixtures/settings";
import { fixedTestTls } from "../fixtures/tls";

const lab = () => parseSettings(labRaw(), WITH_KEY);
const openingFor = (fw: ReturnType<typeof nodeFirewall>, purpose: RegExp) => fw.openings.find((o) => purpose.test(o.purpose));

describe("firewall plan (settings → openings)", () => {
  it("golden rules of every lab node and of the production stack's web and db nodes", () => {
    const s = lab();
    for (const node of s.clusters[0].nodes) expectGolden(`firewall/lab-${node.name}.rules`, renderFirewall(nodeFirewall(s, "lab", node.name)).v4);
    expectGolden("firewall/ipv6.rules", renderFirewall(nodeFirewall(s, "lab", "coreos1")).v6);
    const prod = parseSettings(stackRawSettings("production"), new Set(["sshPrivateKey", "nasPrivateKey"]));
    for (const cluster of prod.clusters) expectGolden(`firewall/production-${cluster.name}-${cluster.nodes[0].name}.rules`, renderFirewall(nodeFirewall(prod, cluster.name, cluster.nodes[0].name)).v4);
  });

  it("cluster ports only from the cluster's own nodes", () => {
    const s = lab();
    const fw = nodeFirewall(s, "lab", "coreos2");
    const nodes = s.clusters[0].nodes.map((n) => `${n.ip}/32`);
    expect(openingFor(fw, /^etcd/)!.from).toEqual(nodes);
    expect(openingFor(fw, /^etcd/)!.ports).toEqual([2379, 2380, 4001, 7001]);
    expect(openingFor(fw, /^galera members/)!.from).toEqual(nodes);
    expect(openingFor(fw, /^galera members/)!.ports).toEqual([3306, 4444, 4567, 4568]);
  });

  it("apache backends only from the proxy's nodes; port 80, the galera proxy and ftp from anywhere by default", () => {
    const raw = labRaw();
    raw.clusters[0].nodes[2].metadata = { role: "batch" };
    const s = parseSettings(raw, WITH_KEY);
    const fw = nodeFirewall(s, "lab", "coreos3");
    expect(openingFor(fw, /^apache/)!.from).toEqual(["10.50.0.101/32", "10.50.0.102/32"]);
    expect(openingFor(fw, /^apache/)!.ports).toEqual([{ min: 8081, max: 8083 }]);
    // coreos3 no longer matches role=web: neither the proxy nor ftp may run there.
    expect(openingFor(fw, /^web proxy/)).toBeUndefined();
    expect(openingFor(fw, /^ftp/)).toBeUndefined();
    const proxyNode = nodeFirewall(s, "lab", "coreos1");
    expect(openingFor(proxyNode, /^web proxy/)).toEqual({ purpose: expect.any(String), ports: [80], from: ["0.0.0.0/0"] });
    expect(openingFor(proxyNode, /^galera proxy/)!.ports).toEqual([3307]);
    expect(openingFor(proxyNode, /^ftp/)!.ports).toEqual([21, { min: 30000, max: 30009 }]);
  });

  it("allowFrom narrows a service; sshAllowedFrom and the XenServer host (the program's jump) reach SSH", () => {
    const raw = labRaw();
    raw.services.galera.allowFrom = ["10.50.0.0/24"];
    raw.services.ftp.allowFrom = ["198.51.100.0/24", "203.0.113.7/32"];
    raw.security.sshAllowedFrom = ["10.50.0.0/28"];
    const fw = nodeFirewall(parseSettings(raw, WITH_KEY), "lab", "coreos1");
    expect(openingFor(fw, /^galera proxy/)!.from).toEqual(["10.50.0.0/24"]);
    expect(openingFor(fw, /^ftp/)!.from).toEqual(["198.51.100.0/24", "203.0.113.7/32"]);
    expect(openingFor(fw, /^ssh/)).toEqual({ purpose: expect.any(String), ports: [22], from: ["10.50.0.0/28", "192.168.2.105/32"] });
    raw.ssh.viaXenServer = false;
    raw.ssh.port = 2222;
    expect(openingFor(nodeFirewall(parseSettings(raw, WITH_KEY), "lab", "coreos1"), /^ssh/)).toEqual({ purpose: expect.any(String), ports: [22, 2222], from: ["10.50.0.0/28"] });
  });

  it("bad allowFrom values name the setting and the fix", () => {
    const raw = labRaw();
    raw.services.web.allowFrom = ["10.50.0.300/24", "example.org"];
    raw.services.galera.allowFrom = [];
    expect(() => parseSettings(raw, WITH_KEY)).toThrow(/services\.web\.allowFrom\[0\].*not an IPv4 network[\s\S]*services\.web\.allowFrom\[1\][\s\S]*services\.galera\.allowFrom.*is empty/);
  });

  it("security.firewall false renders files that empty the mangle table (a node drops the rules an earlier boot loaded)", () => {
    const raw = labRaw();
    raw.security.firewall = false;
    const rules = renderFirewall(nodeFirewall(parseSettings(raw, WITH_KEY), "lab", "coreos1"));
    for (const text of [rules.v4, rules.v6]) {
      expect(text).toContain("*mangle\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n");
      expect(text).not.toMatch(/-j DROP/);
    }
  });
});

describe("firewall renderer", () => {
  const base = { node: "n1", openings: [{ purpose: "x", ports: [80], from: ["0.0.0.0/0"] }] };

  it("refuses what iptables-restore would refuse or misread", () => {
    expect(() => renderFirewall({ ...base, openings: [{ purpose: "x", ports: [0], from: ["0.0.0.0/0"] }] })).toThrow(/port 0 is not/);
    expect(() => renderFirewall({ ...base, openings: [{ purpose: "x", ports: [{ min: 9, max: 8 }], from: ["0.0.0.0/0"] }] })).toThrow(/reversed/);
    expect(() => renderFirewall({ ...base, openings: [{ purpose: "x", ports: [80], from: ["10.0.0.0/33"] }] })).toThrow(/not an IPv4 network/);
    expect(() => renderFirewall({ ...base, openings: [{ purpose: "x", ports: [80], from: [] }] })).toThrow(/no source network/);
    expect(() => renderFirewall({ ...base, openings: [{ purpose: 'x" -j ACCEPT', ports: [80], from: ["0.0.0.0/0"] }] })).toThrow(/plain words/);
  });

  it("splits long port lists at multiport's limit of 15 (a range counts twice)", () => {
    const ports = [...Array.from({ length: 14 }, (_, i) => 1000 + i), { min: 2000, max: 2010 }, 3000];
    const lines = renderFirewall({ node: "n1", openings: [{ purpose: "many", ports, from: ["0.0.0.0/0"] }] }).v4.split("\n").filter((l) => l.includes("--dports"));
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      const words = l.match(/--dports (\S+)/)![1].split(",");
      expect(words.reduce((n, w) => n + (w.includes(":") ? 2 : 1), 0)).toBeLessThanOrEqual(15);
    }
  });
});

describe("firewall in the cloud-config", () => {
  const input = {
    hostname: "coreos1", ip: "10.50.0.101", prefixLength: 24, gateway: "10.50.0.1", dns: ["8.8.8.8"], interface: "eth0",
    sshAuthorizedKeys: ["ssh-ed25519 AAAA test"], discoveryUrl: "https://discovery.example/abc", fleetMetadata: { role: "web" },
    nfs: { server: "10.50.0.200", export: "/nfs/NFS", mountPoint: "/mnt/nfs", options: ["rw"] },
    install: { device: "/dev/xvda", channel: "alpha" }, rebootStrategy: "etcd-lock", tls: fixedTestTls("coreos1"),
  };

  it.each(["coreos", "flatcar"] as const)("%s: both rule files written, both restore units enabled and started before docker and the cluster units", (profile) => {
    const s = lab();
    const rules = renderFirewall(nodeFirewall(s, "lab", "coreos1"));
    const os = profile === "flatcar" ? { profile, fleet: { url: "file:///fleet.tgz", sha256: "0".repeat(64) } } : { profile };
    const doc = yaml.load(renderCloudConfig({ ...input, os, firewall: rules }).replace(/^#cloud-config\n/, "")) as any;
    const files = Object.fromEntries(doc.write_files.map((f: any) => [f.path, f]));
    // The cloud-config carries the boot rules; the restore units copy them to rules-save only
    // when the node has none yet (cp -n): the program's exact rules, once written, stay.
    expect(files[FIREWALL_BOOT_PATHS.v4].content).toBe(rules.v4);
    expect(files[FIREWALL_BOOT_PATHS.v6].content).toBe(rules.v6);
    expect(files[FIREWALL_RULES_PATHS.v4]).toBeUndefined();
    const names: string[] = doc.coreos.units.map((u: any) => u.name);
    const clusterUnits = profile === "coreos" ? ["etcd2.service", "fleet.service"] : ["etcd-member.service", "fleet.service"];
    for (const unit of [FIREWALL_UNITS.v4, FIREWALL_UNITS.v6]) {
      const entry = doc.coreos.units.find((u: any) => u.name === unit);
      expect(entry).toMatchObject({ enable: true, command: "restart" });
      expect(entry["drop-ins"][0].content).toContain(`Before=docker.service ${clusterUnits.join(" ")}`);
      const family = unit === FIREWALL_UNITS.v4 ? "v4" : "v6";
      expect(entry["drop-ins"][0].content).toContain(`ExecStartPre=/usr/bin/cp -n ${FIREWALL_BOOT_PATHS[family]} ${FIREWALL_RULES_PATHS[family]}`);
      // coreos-cloudinit starts units in list order: the firewall before etcd and fleet.
      for (const c of clusterUnits) expect(names.indexOf(unit)).toBeLessThan(names.indexOf(c));
    }
    // Without a firewall the cloud-config has neither.
    const plain = renderCloudConfig({ ...input, os });
    expect(plain).not.toContain(FIREWALL_RULES_PATHS.v4);
    expect(plain).not.toContain(FIREWALL_UNITS.v4);
  });
});


describe("boot rules and exact rules", () => {
  it("the boot rules open node-to-node ports to the cluster network; the exact ones to the nodes' addresses only", () => {
    const s = lab();
    const exact = nodeFirewall(s, "lab", "coreos1");
    const boot = nodeFirewall(s, "lab", "coreos1", { boot: true });
    const etcd = (f: typeof exact) => f.openings.find((o) => o.purpose.startsWith("etcd"))!.from;
    expect(etcd(exact)).toEqual(["10.50.0.101/32", "10.50.0.102/32", "10.50.0.103/32"]);
    expect(etcd(boot)).toEqual(["10.50.0.0/24"]);
    // The boot rules hold SSH and etcd only: nothing that moves with the cluster's size or services.
    expect(boot.openings.map((o) => o.purpose)).toEqual(["ssh from security.sshAllowedFrom and the program", "etcd from the cluster nodes"]);
    expect(boot.openings[0]).toEqual(exact.openings[0]);
    const grown = lab();
    grown.services.web!.instances += 1;
    grown.clusters[0].nodes.push({ ...grown.clusters[0].nodes[0], name: "coreos4", ip: "10.50.0.104" });
    expect(nodeFirewall(grown, "lab", "coreos1", { boot: true })).toEqual(boot);
    expect(nodeFirewall(grown, "lab", "coreos1")).not.toEqual(exact);
  });
});
