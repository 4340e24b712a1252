/**
 * A lab network of namespaces for probing host firewalls with the real iptables: cluster
 * nodes and outsiders on one bridge (test/support/real.ts `bridgedNetwork`), each with its
 * own `eth0` and address, so the rendered rules are loaded exactly as a node loads them
 * (`iptables-restore` of the file) and probed from inside and outside.
 *
 * Everything lives in namespaces this module creates: no address exists in the root
 * namespace and the hub has no route out, so no probe leaves the lab. `cleanupAll()` of
 * real.ts (call it in `afterAll`) stops the listeners and deletes the namespaces.
 *
 * API:
 *   createFirewallLab({label, cidr?, gateway?, hosts: [{name, ip}]}) → FirewallLab
 *   lab.ns(name)                      the host's Netns (exec/execOk inside it)
 *   lab.ip(name)                      its address
 *   lab.loadRules(name, v4, v6?)      iptables-restore (and ip6tables-restore) of the texts, as the
 *                                     node's restore units do; throws with iptables' message
 *   lab.listen(name, port, opts?)     a socat listener answering "answer <name> <port>" to each connection
 *                                     (in the host, or in a container namespace of it)
 *   lab.container(name)               a docker-like container behind the host: namespace with eth0
 *                                     172.17.0.2/16 on a veth `docker0` (172.17.0.1/16) of the host,
 *                                     forwarding on; returns {ns, ip}
 *   lab.publish(name, hostPort, containerPort)  docker's rule for `-p hostPort:containerPort`:
 *                                     nat PREROUTING DNAT to the container (and nat OUTPUT for the host)
 *   lab.probe(from, to, port, {timeoutMs?})  → true when a TCP connection from `from` to `to`:port
 *                                     is answered by a lab listener (its greeting read back)
 *   lab.probeAsync(…same)             async, the same probe (probes in parallel)
 *   lab.table(rows)                   async → {text, mismatches}: probes each row {port, from, to, expected,
 *                                     what?} and prints "port from → to expected seen" lines
 */
import { execFile } from "child_process";
import { Daemon, Netns, bridgedNetwork, createNetns, startDaemon } from "./real";

export interface LabHost {
  name: string;
  ip: string;
}

export interface FirewallLabSpec {
  /** Short label for the namespace names. */
  label: string;
  /** The lab network. Defaults to 198.51.100.0/24 (TEST-NET-2: documentation addresses). */
  prefixLength?: number;
  /** The bridge's address in the hub. Defaults to 198.51.100.1. */
  gateway?: string;
  hosts: LabHost[];
}

export interface ProbeRow {
  port: number;
  from: string;
  to: string;
  /** true = must answer, false = must not. */
  expected: boolean;
  /** What the port is, for the table. */
  what?: string;
}

export interface FirewallLab {
  ns(name: string): Netns;
  ip(name: string): string;
  loadRules(name: string, v4: string, v6?: string): void;
  listen(name: string, port: number, opts?: { inContainer?: boolean }): Promise<Daemon>;
  container(name: string): { ns: Netns; ip: string };
  publish(name: string, hostPort: number, containerPort: number): void;
  probe(from: string, to: string, port: number, opts?: { timeoutMs?: number }): boolean;
  probeAsync(from: string, to: string, port: number, opts?: { timeoutMs?: number }): Promise<boolean>;
  table(rows: ProbeRow[]): Promise<{ text: string; mismatches: ProbeRow[] }>;
}

/** A lab listener's greeting ("answer <host> <port>"; a published port answers with its container port). */
const GREETING = /^answer \S+ \d+$/;

/** socat reading a listener's greeting; a refused or dropped connection fails within `timeoutMs`. */
function probeArgs(ip: string, port: number, timeoutMs = 1000): string[] {
  return ["-u", `TCP:${ip}:${port},connect-timeout=${(timeoutMs / 1000).toFixed(1)}`, "-"];
}

const CONTAINER_IP = "172.17.0.2";
const DOCKER0_IP = "172.17.0.1";

export function createFirewallLab(spec: FirewallLabSpec): FirewallLab {
  const gateway = spec.gateway ?? "198.51.100.1";
  const { members } = bridgedNetwork({
    label: spec.label,
    gateway,
    prefixLength: spec.prefixLength ?? 24,
    members: spec.hosts.map((h) => ({ label: h.name, ip: h.ip })),
  });
  const ips = new Map(spec.hosts.map((h) => [h.name, h.ip]));
  const containers = new Map<string, Netns>();
  const get = <T>(map: Map<string, T>, name: string, what: string): T => {
    const v = map.get(name);
    if (v === undefined) throw new Error(`firewall lab: no ${what} ${JSON.stringify(name)}`);
    return v;
  };
  const nsOf = (name: string) => {
    const ns = members[name];
    if (!ns) throw new Error(`firewall lab: no host ${JSON.stringify(name)}`);
    return ns;
  };

  const lab: FirewallLab = {
    ns: nsOf,
    ip: (name) => get(ips, name, "host"),
    loadRules(name, v4, v6) {
      const ns = nsOf(name);
      const r = ns.exec("iptables-restore", ["-w"], { input: v4 });
      if (r.status !== 0) throw new Error(`iptables-restore refused the rules of ${name}: ${r.stderr}`);
      if (v6 !== undefined) {
        const r6 = ns.exec("ip6tables-restore", ["-w"], { input: v6 });
        if (r6.status !== 0) throw new Error(`ip6tables-restore refused the IPv6 rules of ${name}: ${r6.stderr}`);
      }
    },
    async listen(name, port, opts = {}) {
      const ns = opts.inContainer ? get(containers, name, "container of host") : nsOf(name);
      const daemon = startDaemon({
        name: `listen-${name}-${port}${opts.inContainer ? "-ctr" : ""}`,
        command: "socat",
        args: [`TCP-LISTEN:${port},reuseaddr,fork`, `SYSTEM:echo answer ${name} ${port}`],
        netns: ns.name,
      });
      const bind = opts.inContainer ? CONTAINER_IP : "127.0.0.1";
      const deadline = Date.now() + 10000;
      while (ns.exec("socat", ["-u", `TCP:${bind}:${port},connect-timeout=1`, "-"], { timeoutMs: 3000 }).stdout.trim() !== `answer ${name} ${port}`) {
        if (Date.now() > deadline || !daemon.alive()) throw new Error(`listener ${name}:${port} did not start: ${daemon.log()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return daemon;
    },
    container(name) {
      const host = nsOf(name);
      const ns = createNetns(`${spec.label}-${name}-ctr`);
      host.execOk("ip", ["link", "add", "docker0", "type", "veth", "peer", "name", "eth0", "netns", ns.name]);
      host.execOk("ip", ["addr", "add", `${DOCKER0_IP}/16`, "dev", "docker0"]);
      host.execOk("ip", ["link", "set", "docker0", "up"]);
      ns.execOk("ip", ["addr", "add", `${CONTAINER_IP}/16`, "dev", "eth0"]);
      ns.execOk("ip", ["link", "set", "eth0", "up"]);
      ns.execOk("ip", ["route", "add", "default", "via", DOCKER0_IP]);
      host.execOk("sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"]);
      containers.set(name, ns);
      return { ns, ip: CONTAINER_IP };
    },
    publish(name, hostPort, containerPort) {
      get(containers, name, "container of host");
      const host = nsOf(name);
      // What docker 1.12 adds for `-p hostPort:containerPort` (its DOCKER chain, inlined).
      host.execOk("iptables", ["-w", "-t", "nat", "-A", "PREROUTING", "!", "-i", "docker0", "-p", "tcp", "--dport", String(hostPort), "-j", "DNAT", "--to-destination", `${CONTAINER_IP}:${containerPort}`]);
    },
    probe(from, to, port, opts = {}) {
      const r = nsOf(from).exec("socat", probeArgs(lab.ip(to), port, opts.timeoutMs), { timeoutMs: (opts.timeoutMs ?? 1000) + 2000 });
      return r.status === 0 && GREETING.test(r.stdout.trim());
    },
    probeAsync(from, to, port, opts = {}) {
      const ns = nsOf(from);
      return new Promise((resolve) => {
        execFile("ip", ["netns", "exec", ns.name, "socat", ...probeArgs(lab.ip(to), port, opts.timeoutMs)], { timeout: (opts.timeoutMs ?? 1000) + 2000 }, (error, stdout) =>
          resolve(!error && GREETING.test(String(stdout).trim())),
        );
      });
    },
    async table(rows) {
      const header = ["port", "what", "from", "to", "expected", "seen"];
      // Probes run 8 at a time: a refused one waits for its connect timeout.
      const seenAll: boolean[] = [];
      for (let i = 0; i < rows.length; i += 8)
        seenAll.push(...(await Promise.all(rows.slice(i, i + 8).map((row) => lab.probeAsync(row.from, row.to, row.port)))));
      const lines = rows.map((row, i) => {
        const seen = seenAll[i];
        return { row, cells: [String(row.port), row.what ?? "", row.from, row.to, row.expected ? "answers" : "refused", seen ? "answers" : "refused"], ok: seen === row.expected };
      });
      const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l.cells[i].length)));
      const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
      const text = [fmt(header), ...lines.map((l) => fmt(l.cells) + (l.ok ? "" : "   <-- MISMATCH"))].join("\n");
      return { text, mismatches: lines.filter((l) => !l.ok).map((l) => l.row) };
    },
  };
  return lab;
}
