/**
 * The rendered host firewall, loaded with the real iptables-restore into network namespaces
 * standing for three cluster nodes, an operator's admin host and an outsider on the same
 * network (test/support/netns-lab.ts). Listeners stand on every port the node uses; two
 * ports are published by a docker-style DNAT to a container namespace behind `docker0`.
 * Probes from an insider node, the admin host and the outsider show which ports answer.
 *
 * Expectations follow the firewall's intent (issue 12), not its output: cluster ports answer
 * the cluster's nodes only, service ports answer as declared, SSH answers
 * security.sshAllowedFrom only, nothing else answers anyone.
 */
import { parseSettings } from "../../components/config/settings";
import { nodeFirewall } from "../../components/firewall/firewall-plan";
import { renderFirewall } from "../../components/firewall/firewall-render";
import { WITH_KEY, labRaw } from "../fixtures/settings";
import { FirewallLab, ProbeRow, createFirewallLab } from "../support/netns-lab";
import { describeWith } from "../support/prereq";
import { cleanupAll } from "../support/real";

jest.setTimeout(240_000);

// The lab stack moved onto documentation addresses (they exist only inside the test's namespaces).
const NET = "198.51.100";
const hosts = [
  { name: "coreos1", ip: `${NET}.11` },
  { name: "coreos2", ip: `${NET}.12` },
  { name: "coreos3", ip: `${NET}.13` },
  { name: "admin", ip: `${NET}.250` },
  { name: "outsider", ip: `${NET}.66` },
];

function labSettings() {
  const raw = labRaw();
  raw.network = { cidr: `${NET}.0/24`, gateway: `${NET}.1`, dns: [`${NET}.1`] };
  raw.nas.server = `${NET}.200`;
  raw.clusters[0].nodes = hosts.filter((h) => h.name.startsWith("coreos"));
  raw.security.sshAllowedFrom = [`${NET}.250/32`];
  return parseSettings(raw, WITH_KEY);
}

type Audience = "cluster" | "everyone" | "ssh" | "nobody";
/** Every port coreos1 listens on, and who may reach it (issue 12's rules). */
const PORTS: Array<{ port: number; what: string; audience: Audience; published?: boolean }> = [
  { port: 22, what: "ssh", audience: "ssh" },
  { port: 2379, what: "etcd client", audience: "cluster" },
  { port: 2380, what: "etcd peer", audience: "cluster" },
  { port: 4001, what: "etcd legacy client", audience: "cluster" },
  { port: 7001, what: "etcd legacy peer", audience: "cluster" },
  { port: 8081, what: "apache-1", audience: "cluster" },
  { port: 8083, what: "apache-3", audience: "cluster" },
  { port: 3306, what: "galera mysql (published)", audience: "cluster", published: true },
  { port: 4444, what: "galera sst", audience: "cluster" },
  { port: 4567, what: "galera replication", audience: "cluster" },
  { port: 4568, what: "galera ist", audience: "cluster" },
  { port: 80, what: "nginx (published)", audience: "everyone", published: true },
  { port: 3307, what: "galera proxy", audience: "everyone" },
  { port: 21, what: "ftp", audience: "everyone" },
  { port: 30000, what: "ftp passive (first)", audience: "everyone" },
  { port: 30009, what: "ftp passive (last)", audience: "everyone" },
  { port: 9200, what: "unlisted (published)", audience: "nobody", published: true },
  { port: 9999, what: "unlisted", audience: "nobody" },
];

const expected = (audience: Audience, from: string) =>
  audience === "everyone" || (audience === "cluster" && from.startsWith("coreos")) || (audience === "ssh" && from === "admin");

describeWith(["iptables-restore", "ip6tables-restore", "socat", "ip", "ping"], "host firewall with the real iptables")("host firewall in a namespace lab", () => {
  let lab: FirewallLab;
  const settings = labSettings();

  beforeAll(async () => {
    lab = createFirewallLab({ label: "fw", gateway: `${NET}.1`, hosts });
    lab.container("coreos1");
    for (const p of PORTS) {
      if (p.published) {
        await lab.listen("coreos1", p.port, { inContainer: true });
        lab.publish("coreos1", p.port, p.port);
      } else {
        await lab.listen("coreos1", p.port);
      }
    }
  });
  afterAll(cleanupAll);

  it("without the firewall every port answers the outsider, published ones included (the control)", () => {
    for (const port of [2379, 3306, 9999]) expect(lab.probe("outsider", "coreos1", port)).toBe(true);
  });

  it("with the rendered rules loaded: the probe table", async () => {
    for (const h of hosts.filter((x) => x.name.startsWith("coreos"))) {
      const rules = renderFirewall(nodeFirewall(settings, "lab", h.name));
      lab.loadRules(h.name, rules.v4, rules.v6);
    }
    const rows: ProbeRow[] = [];
    for (const from of ["coreos2", "admin", "outsider"])
      for (const p of PORTS) rows.push({ port: p.port, what: p.what, from, to: "coreos1", expected: expected(p.audience, from) });
    const { text, mismatches } = await lab.table(rows);
    // eslint-disable-next-line no-console
    console.log(`host firewall of coreos1, probed from an insider node, the admin host and an outsider:\n${text}`);
    expect(mismatches).toEqual([]);
  });

  it("ping answers everyone", () => {
    expect(lab.ns("outsider").exec("ping", ["-c", "1", "-W", "2", lab.ip("coreos1")]).status).toBe(0);
  });

  it("docker rewriting nat and FORWARD (as it does when it starts) leaves the firewall in place", () => {
    const node = lab.ns("coreos1");
    node.execOk("iptables", ["-w", "-t", "nat", "-F"]);
    node.execOk("iptables", ["-w", "-F", "FORWARD"]);
    node.execOk("iptables", ["-w", "-P", "FORWARD", "ACCEPT"]);
    for (const p of PORTS.filter((x) => x.published)) lab.publish("coreos1", p.port, p.port);
    expect(lab.probe("outsider", "coreos1", 3306)).toBe(false);
    expect(lab.probe("coreos2", "coreos1", 3306)).toBe(true);
    expect(lab.probe("outsider", "coreos1", 80)).toBe(true);
  });

  it("the IPv6 rules are loaded too (only ICMPv6 and established traffic pass)", () => {
    const saved = lab.ns("coreos1").execOk("ip6tables-save", ["-t", "mangle"]);
    expect(saved).toMatch(/-A XEN-COREOS-FW .*-j DROP/);
  });
});
