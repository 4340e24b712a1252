/**
 * A node's host firewall as `iptables-restore` / `ip6tables-restore` input. Pure: plain
 * values in (the openings the node needs, see firewall-plan.ts), text out; the same input
 * always gives the same bytes.
 *
 * Where the rules live, and why there: **the `mangle` table's PREROUTING chain.**
 * - Docker publishes a container's port (`docker run -p 80:80`) with a DNAT rule in
 *   `nat PREROUTING`; the packet is then *forwarded* to the container (filter FORWARD), it
 *   never passes filter INPUT. A filter INPUT firewall leaves every published port open.
 * - Docker owns filter FORWARD and the nat table: it rewrites them whenever it starts, and
 *   the docker of CoreOS (1.12) has no DOCKER-USER chain for rules of one's own.
 * - `mangle PREROUTING` runs for every packet that enters the node, locally delivered or
 *   forwarded, after connection tracking (so `--ctstate` works, unlike the `raw` table) and
 *   before `nat PREROUTING` (mangle's hook priority is -150, nat's -100): the packet still
 *   carries its ORIGINAL destination port, the one the operator published. Docker never
 *   touches the mangle table. So one chain there covers the node's own daemons (sshd, etcd)
 *   and every published container port, and survives docker restarts.
 * - `DROP` is a valid verdict in mangle (REJECT is not: it exists only in filter), so a
 *   refused connection times out instead of being reset.
 * - `iptables-restore` without `--noflush` replaces only the tables its input names: the
 *   file holds `*mangle` only, so loading it again never disturbs docker's nat/filter rules.
 *
 * What passes: packets from loopback and from docker's bridges (`docker0`, `br-*`: the
 * node's own containers reaching the node, e.g. the nginx container to an apache on the same
 * node); packets of connections already established (and related ICMP errors); ICMP echo;
 * and new connections that match an opening (protocol, destination port, source network).
 * Everything else that enters the node is dropped, on whatever interface.
 *
 * IPv6: the cluster speaks IPv4 only, but a router advertisement would give each node a
 * global IPv6 address where sshd and any dual-stack listener answer. The IPv6 rules pass
 * established traffic and ICMPv6 (neighbour discovery needs it) and drop every other new
 * connection.
 */
import { renderIni } from "../systemd/ini";
import { CloudConfigFile, CloudConfigUnit, DropIn } from "../os/profile";

/** The chain the rules live in (mangle table). */
export const FIREWALL_CHAIN = "XEN-COREOS-FW";

/** Interfaces whose traffic is the node's own: loopback and docker's bridges. */
export const LOCAL_INTERFACES = ["lo", "docker0", "br-+"] as const;

/** Anywhere (IPv4). */
export const ANYWHERE = "0.0.0.0/0";

export type PortSpec = number | { min: number; max: number };

/** New connections the node accepts: protocol, destination ports, source networks. */
export interface FirewallOpening {
  /** What it is for, e.g. "etcd from the cluster's nodes" (a rule comment). */
  purpose: string;
  /** Defaults to tcp. */
  protocol?: "tcp" | "udp";
  /** Destination ports or inclusive ranges, as the packet arrives (before any DNAT). */
  ports: PortSpec[];
  /** Source networks (a.b.c.d/n; one address is a.b.c.d/32); `0.0.0.0/0` = anywhere. */
  from: string[];
}

export interface FirewallInput {
  /** For the header comment, e.g. "coreos1". */
  node: string;
  /**
   * Load the firewall. Defaults to true. false renders rule files that empty the mangle
   * table: a node whose earlier boots loaded the firewall (the file and the enabled unit
   * persist on its disk) drops it at the next boot.
   */
  enabled?: boolean;
  /** Accept ICMP echo requests (ping). Defaults to true. */
  allowPing?: boolean;
  openings: FirewallOpening[];
}

export interface FirewallRules {
  /** `iptables-restore` input (IPv4). */
  v4: string;
  /** `ip6tables-restore` input (IPv6). */
  v6: string;
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Checks a.b.c.d/n; returns it unchanged. */
export function checkCidr(cidr: string, what: string): string {
  const m = IPV4_CIDR.exec(cidr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32)
    throw new Error(`${what}: ${JSON.stringify(cidr)} is not an IPv4 network (a.b.c.d/n; one address is a.b.c.d/32)`);
  return cidr;
}

function checkPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${what}: port ${port} is not a TCP/UDP port (1-65535)`);
  return port;
}

const PURPOSE_RE = /^[A-Za-z0-9 ,.:()+_/=-]{1,200}$/;

/** `--dports` words: a port `80` or a range `30000:30009`; at most 15 per rule (a range counts twice). */
function portWords(ports: PortSpec[], what: string): string[][] {
  const words: Array<{ text: string; weight: number }> = [];
  for (const p of ports) {
    if (typeof p === "number") words.push({ text: String(checkPort(p, what)), weight: 1 });
    else {
      checkPort(p.min, what);
      checkPort(p.max, what);
      if (p.min > p.max) throw new Error(`${what}: range ${p.min}-${p.max} is reversed`);
      words.push(p.min === p.max ? { text: String(p.min), weight: 1 } : { text: `${p.min}:${p.max}`, weight: 2 });
    }
  }
  const chunks: string[][] = [];
  let chunk: string[] = [];
  let weight = 0;
  for (const w of words) {
    if (weight + w.weight > 15) {
      chunks.push(chunk);
      chunk = [];
      weight = 0;
    }
    chunk.push(w.text);
    weight += w.weight;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

function header(input: FirewallInput, family: "IPv4" | "IPv6"): string[] {
  return [
    `# Host firewall of node ${input.node} (${family}), rendered by xen-coreos: do not edit on the node.`,
    "# mangle PREROUTING: before docker's DNAT of published ports, in a table docker never rewrites.",
  ];
}

function prelude(): string[] {
  return [
    "*mangle",
    ":PREROUTING ACCEPT [0:0]",
    `:${FIREWALL_CHAIN} - [0:0]`,
    ...LOCAL_INTERFACES.map((i) => `-A PREROUTING -i ${i} -j RETURN`),
    `-A PREROUTING -j ${FIREWALL_CHAIN}`,
    `-A ${FIREWALL_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
  ];
}

/** Renders the node's IPv4 and IPv6 rule files. */
export function renderFirewall(input: FirewallInput): FirewallRules {
  if (!/^[A-Za-z0-9_.-]{1,63}$/.test(input.node)) throw new Error(`firewall node name ${JSON.stringify(input.node)} must be [A-Za-z0-9_.-]`);
  if (input.enabled === false) {
    const off = (family: "IPv4" | "IPv6") =>
      [
        `# Host firewall of node ${input.node} (${family}): off (xen-coreos:security.firewall is false).`,
        "# Loading this empties the mangle table, dropping rules an earlier boot loaded.",
        "*mangle",
        ":PREROUTING ACCEPT [0:0]",
        "COMMIT",
        "",
      ].join("\n");
    return { v4: off("IPv4"), v6: off("IPv6") };
  }
  const v4 = [...header(input, "IPv4"), ...prelude()];
  if (input.allowPing ?? true) v4.push(`-A ${FIREWALL_CHAIN} -p icmp -m icmp --icmp-type 8 -m comment --comment "ping" -j RETURN`);
  for (const o of input.openings) {
    if (!PURPOSE_RE.test(o.purpose)) throw new Error(`firewall opening purpose ${JSON.stringify(o.purpose)} must be plain words`);
    const protocol = o.protocol ?? "tcp";
    if (protocol !== "tcp" && protocol !== "udp") throw new Error(`${o.purpose}: protocol ${JSON.stringify(protocol)} must be tcp or udp`);
    if (o.ports.length === 0) throw new Error(`${o.purpose}: no port`);
    if (o.from.length === 0) throw new Error(`${o.purpose}: no source network (use ${ANYWHERE} for anywhere)`);
    const chunks = portWords(o.ports, o.purpose);
    for (const from of [...new Set(o.from.map((c) => checkCidr(c, o.purpose)))]) {
      const source = from === ANYWHERE ? "" : ` -s ${from}`;
      for (const chunk of chunks) {
        v4.push(`-A ${FIREWALL_CHAIN}${source} -p ${protocol} -m multiport --dports ${chunk.join(",")} -m comment --comment "${o.purpose}" -j RETURN`);
      }
    }
  }
  v4.push(`-A ${FIREWALL_CHAIN} -m comment --comment "everything else new to the node" -j DROP`, "COMMIT", "");
  const v6 = [
    ...header(input, "IPv6"),
    "# The cluster speaks IPv4: only ICMPv6 (neighbour discovery, ping) and established traffic pass.",
    ...prelude(),
    `-A ${FIREWALL_CHAIN} -p ipv6-icmp -j RETURN`,
    `-A ${FIREWALL_CHAIN} -m comment --comment "everything else new to the node" -j DROP`,
    "COMMIT",
    "",
  ];
  return { v4: v4.join("\n"), v6: v6.join("\n") };
}

// ---------------------------------------------------------------- how the node loads them

/**
 * Where CoreOS and Flatcar's own `iptables-restore.service` / `ip6tables-restore.service`
 * read the rules at boot (`ExecStart=/sbin/iptables-restore -w -- /var/lib/iptables/rules-save`).
 * Both OSes ship these units, disabled: CoreOS from coreos/coreos-overlay
 * `net-firewall/iptables/iptables-1.6.2-r2.ebuild` (`systemd_dounit
 * "${FILESDIR}"/systemd/iptables{,-{re,}store}.service`, ip6tables with USE ipv6), Flatcar
 * from flatcar/scripts `.../portage-stable/net-firewall/iptables/iptables-1.8.8-r5.ebuild`
 * ("Gentoo upstream dropped the iptables & ip6tables services but we continue to ship
 * them"); the unit files are Gentoo's `net-firewall/iptables/files/systemd/`.
 */
export const FIREWALL_RULES_PATHS = { v4: "/var/lib/iptables/rules-save", v6: "/var/lib/ip6tables/rules-save" } as const;
/**
 * The boot rules the cloud-config writes (see nodeFirewall's `boot`). They are copied to the
 * rules-save path only when that file does not exist yet (the node's first boot): after it the
 * program keeps the exact rules there, and coreos-cloudinit, which applies write_files at
 * every boot, never overwrites them.
 */
export const FIREWALL_BOOT_PATHS = { v4: "/etc/xen-coreos/firewall/boot-rules.v4", v6: "/etc/xen-coreos/firewall/boot-rules.v6" } as const;
export const FIREWALL_UNITS = { v4: "iptables-restore.service", v6: "ip6tables-restore.service" } as const;

/** A cloud-config's part of the firewall: its rule files and the units that load them. */
export interface FirewallCloudConfig {
  files: CloudConfigFile[];
  units: CloudConfigUnit[];
}

/**
 * The `write_files` entries and `coreos.units` entries that load the rules: the OS's restore
 * units enabled (so every boot loads them, from `basic.target`) and restarted when
 * coreos-cloudinit runs (which writes the files first, then handles units in order: a
 * changed rule set applies at once), with a drop-in ordering them before docker and
 * `clusterUnits` (etcd, fleet), so no published port or cluster port is ever open unfiltered.
 */
export function firewallCloudConfig(bootRules: FirewallRules, clusterUnits: string[]): FirewallCloudConfig {
  const families = ["v4", "v6"] as const;
  const dropIn = (f: (typeof families)[number]): DropIn => ({
    name: "10-xen-coreos-firewall.conf",
    content: renderIni([
      ["Unit", [["Before", ["docker.service", ...clusterUnits].join(" ")]]],
      ["Service", [
        ["ExecStartPre", `/usr/bin/mkdir -p ${FIREWALL_RULES_PATHS[f].replace(/\/[^/]+$/, "")}`],
        // -n: the program's exact rules, once written, stay (first boot only takes the boot rules).
        ["ExecStartPre", `/usr/bin/cp -n ${FIREWALL_BOOT_PATHS[f]} ${FIREWALL_RULES_PATHS[f]}`],
      ]],
    ]),
  });
  return {
    files: families.map((f) => ({ path: FIREWALL_BOOT_PATHS[f], permissions: "0644", owner: "root", content: bootRules[f] })),
    units: families.map((f) => ({ name: FIREWALL_UNITS[f], command: "restart" as const, enable: true, "drop-ins": [dropIn(f)] })),
  };
}
