/**
 * The services part of the stack settings (`xen-coreos:services`): the web tier, the
 * Galera database and FTP, and on which cluster and machines each runs. Pure, like the
 * rest of the settings: problems are collected with the setting's path and the fix.
 */
import * as ipaddr from "ipaddr.js";
import { matchingMachines } from "../fleet/placement";
import { ETCD_PORTS, FTP_USER_RE, GALERA_PORTS, GALERA_RESERVED_USERS, GALERA_SYSTEM_SCHEMAS, NODE_SSHD_PORT } from "./limits";
import { Obj, Problems, checkKeys, isObj, readBool, readEnum, readInt, readObj, readString, readStringList } from "./readers";
import type { ClusterSettings } from "./settings";

export interface WebServiceSettings {
  /** Cluster whose fleet runs the web tier. */
  cluster: string;
  /** Apache instances (apache-1 … apache-N). */
  instances: number;
  /** Instance i listens on host port basePort + i. */
  basePort: number;
  apacheImage: string;
  nginxImage: string;
  /** Announce refresh interval and key TTL (TTL at most 3× the interval). */
  announceIntervalSeconds: number;
  announceTtlSeconds: number;
  /** fleet MachineMetadata of the proxy (key=value). */
  placement: string[];
  /** nginx worker_processes: "auto" (one per CPU) or a count. */
  workerProcesses: "auto" | number;
  /** Networks (CIDRs) the host firewall lets reach port 80 of the proxy's nodes. Defaults to ["0.0.0.0/0"] (anywhere). */
  allowFrom: string[];
}

export interface GaleraServiceSettings {
  cluster: string;
  /** Members (galera@1 … galera@N), each on its own node. */
  members: number;
  image: string;
  /** fleet MachineMetadata of the members and the proxy. */
  placement: string[];
  /** Port the HAProxy gives clients, on every matching node. */
  proxyPort: number;
  /** Application database and user created on first start. */
  database: string;
  user: string;
  sstMethod: "mariabackup" | "rsync";
  /** Networks (CIDRs) the host firewall lets reach proxyPort on the db nodes. Defaults to ["0.0.0.0/0"] (anywhere). */
  allowFrom: string[];
}

export interface FtpServiceSettings {
  cluster: string;
  /** An image with vsftpd and libpam-pwdfile (there is no official one). */
  image: string;
  /** Virtual users; each one's home is www/<user> on the share. */
  users: string[];
  listenPort: number;
  passivePorts: { min: number; max: number };
  placement: string[];
  /**
   * Numeric `uid:gid` that owns each www/<user> home: the image's guest account (vsftpd writes
   * as it with virtual_use_local_privs), e.g. the `ftp` user of the image.
   */
  homeOwner: string;
  /** Networks (CIDRs) the host firewall lets reach listenPort and the passive ports. Defaults to ["0.0.0.0/0"] (anywhere). */
  allowFrom: string[];
  /**
   * FTPS (explicit TLS) required for logins and data, with a certificate from the deployment
   * PKI. Defaults to true; false sends passwords and files in plain text (a closed lab only).
   */
  tls: boolean;
}

export interface ServiceSettings {
  web?: WebServiceSettings;
  galera?: GaleraServiceSettings;
  ftp?: FtpServiceSettings;
}

function readCluster(p: Problems, path: string, value: unknown, clusters: ClusterSettings[]): ClusterSettings | undefined {
  const names = clusters.map((c) => c.name);
  const fallback = clusters.length === 1 ? clusters[0].name : undefined;
  const name = readString(p, path, value, fallback);
  if (!name) return undefined;
  const cluster = clusters.find((c) => c.name === name);
  if (!cluster) p.add(path, `there is no cluster ${JSON.stringify(name)}. Fix: use one of ${names.join(", ")}.`);
  return cluster;
}

function readPlacement(p: Problems, path: string, value: unknown, fallback: string[], cluster: ClusterSettings | undefined): string[] {
  let placement = fallback;
  if (isObj(value)) {
    placement = Object.entries(value).map(([k, v]) => `${k}=${v}`);
  } else if (value !== undefined) {
    placement = readStringList(p, path, value, fallback);
  }
  for (const pair of placement) {
    if (!/^[A-Za-z0-9_.-]+=[A-Za-z0-9_.-]+$/.test(pair)) p.add(path, `${JSON.stringify(pair)} is not fleet metadata key=value.`);
  }
  if (cluster && placement.length > 0 && matchingMachines(placement, cluster.nodes.map((n) => ({ name: n.name, metadata: n.metadata }))).length === 0) {
    const have = [...new Set(cluster.nodes.flatMap((n) => Object.entries(n.metadata).map(([k, v]) => `${k}=${v}`)))].sort();
    p.add(path, `no node of cluster ${cluster.name} has metadata ${placement.join(",")}, so fleet could place nothing. Fix: use metadata the nodes carry (${have.join(", ")}) or add it to the nodes.`);
  }
  return placement;
}

function nodesMatching(cluster: ClusterSettings | undefined, placement: string[]): number {
  if (!cluster) return 0;
  return matchingMachines(placement, cluster.nodes.map((n) => ({ name: n.name, metadata: n.metadata }))).length;
}

function readPort(p: Problems, path: string, value: unknown, fallback: number, min = 1): number {
  const port = readInt(p, path, value, fallback);
  if (port < min || port > 65535) p.add(path, `${port} is not a TCP port (${min}-65535).`);
  return port;
}

/** Anywhere, for a service's `allowFrom`. */
export const ALLOW_ANYWHERE = "0.0.0.0/0";

/** A service's `allowFrom`: IPv4 networks the host firewall lets reach its public ports; default anywhere. */
function readAllowFrom(p: Problems, path: string, value: unknown): string[] {
  const list = readStringList(p, path, value, [ALLOW_ANYWHERE]);
  if (value !== undefined && list.length === 0)
    p.add(path, `is empty: nobody could reach the service. Fix: list the networks its clients are in (a.b.c.d/n), or remove the setting for anywhere (${ALLOW_ANYWHERE}).`);
  list.forEach((cidr, i) => {
    if (!isIPv4Cidr(cidr)) p.add(`${path}[${i}]`, `${JSON.stringify(cidr)} is not an IPv4 network (a.b.c.d/n; one address is a.b.c.d/32; anywhere is ${ALLOW_ANYWHERE}).`);
  });
  return list;
}

function isIPv4Cidr(cidr: string): boolean {
  try {
    ipaddr.IPv4.parseCIDR(cidr);
    return ipaddr.IPv4.isValidFourPartDecimal(cidr.split("/")[0]);
  } catch {
    return false;
  }
}

function parseWeb(p: Problems, o: Obj, clusters: ClusterSettings[]): WebServiceSettings {
  const base = "services.web";
  checkKeys(p, base, o, ["cluster", "instances", "basePort", "apacheImage", "nginxImage", "announceIntervalSeconds", "announceTtlSeconds", "placement", "workerProcesses", "allowFrom"]);
  const cluster = readCluster(p, `${base}.cluster`, o.cluster, clusters);
  const instances = readInt(p, `${base}.instances`, o.instances, 3);
  if (instances < 1 || instances > 200) p.add(`${base}.instances`, `${instances} is out of range (1-200).`);
  const basePort = readInt(p, `${base}.basePort`, o.basePort, 8080);
  if (basePort < 1024) p.add(`${base}.basePort`, `${basePort} is a privileged port; apache instances use basePort+1 … basePort+instances. Fix: use 1024 or more (e.g. 8080).`);
  else if (basePort + instances > 65535)
    p.add(`${base}.basePort`, `instance ${instances} would listen on port ${basePort + instances}, past 65535. Fix: lower basePort to at most ${65535 - instances} or run fewer instances.`);
  const interval = readInt(p, `${base}.announceIntervalSeconds`, o.announceIntervalSeconds, 5);
  const ttl = readInt(p, `${base}.announceTtlSeconds`, o.announceTtlSeconds, 3 * interval);
  if (interval < 1) p.add(`${base}.announceIntervalSeconds`, `must be at least 1, got ${interval}.`);
  if (ttl <= interval || ttl > 3 * interval)
    p.add(`${base}.announceTtlSeconds`, `${ttl}s must be longer than the refresh interval (${interval}s) and at most 3× it (${3 * interval}s): a stopped backend must leave the proxy within 3 missed refreshes.`);
  const workers = o.workerProcesses === undefined || o.workerProcesses === "auto" ? "auto" : readInt(p, `${base}.workerProcesses`, o.workerProcesses, 1);
  return {
    cluster: cluster?.name ?? "",
    instances,
    basePort,
    apacheImage: readString(p, `${base}.apacheImage`, o.apacheImage, "httpd:2.4"),
    nginxImage: readString(p, `${base}.nginxImage`, o.nginxImage, "nginx:1.26"),
    announceIntervalSeconds: interval,
    announceTtlSeconds: ttl,
    placement: readPlacement(p, `${base}.placement`, o.placement, ["role=web"], cluster),
    workerProcesses: workers,
    allowFrom: readAllowFrom(p, `${base}.allowFrom`, o.allowFrom),
  };
}

function parseGalera(p: Problems, o: Obj, clusters: ClusterSettings[]): GaleraServiceSettings {
  const base = "services.galera";
  checkKeys(p, base, o, ["cluster", "members", "image", "placement", "proxyPort", "database", "user", "sstMethod", "allowFrom"]);
  const cluster = readCluster(p, `${base}.cluster`, o.cluster, clusters);
  const placement = readPlacement(p, `${base}.placement`, o.placement, ["role=db"], cluster);
  const eligible = nodesMatching(cluster, placement);
  const members = readInt(p, `${base}.members`, o.members, 3);
  if (members < 1) p.add(`${base}.members`, `must be at least 1, got ${members}.`);
  else if (members % 2 === 0) p.add(`${base}.members`, `${members} members: an even Galera cluster loses quorum on a split into halves. Fix: use ${members + 1} (or ${members - 1}).`);
  if (cluster && eligible > 0 && members > eligible)
    p.add(`${base}.members`, `${members} members need ${members} nodes (members conflict with each other), but only ${eligible} node(s) of cluster ${cluster.name} match ${placement.join(",")}. Fix: lower members or add db nodes.`);
  const proxyPort = readPort(p, `${base}.proxyPort`, o.proxyPort, 3307);
  if ((GALERA_PORTS as readonly number[]).includes(proxyPort)) p.add(`${base}.proxyPort`, `${proxyPort} is used by the members themselves (${GALERA_PORTS.join(", ")}). Fix: use another port, e.g. 3307.`);
  const database = readString(p, `${base}.database`, o.database, "app");
  const user = readString(p, `${base}.user`, o.user, "app");
  for (const [key, value] of [["database", database], ["user", user]] as const) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,31}$/.test(value)) p.add(`${base}.${key}`, `${JSON.stringify(value)} must be letters, digits and '_' (at most 32).`);
  }
  if ((GALERA_RESERVED_USERS as readonly string[]).includes(user))
    p.add(`${base}.user`, `${JSON.stringify(user)} is an account MariaDB or the platform already has (${GALERA_RESERVED_USERS.join(", ")}: the administrator, the HAProxy health check, the SST, the server's own): the application must not share or replace it. Fix: name the application's own user (default app).`);
  if ((GALERA_SYSTEM_SCHEMAS as readonly string[]).includes(database.toLowerCase()))
    p.add(`${base}.database`, `${JSON.stringify(database)} is a MariaDB system schema (${GALERA_SYSTEM_SCHEMAS.join(", ")}). Fix: name the application's own database (default app).`);
  return {
    cluster: cluster?.name ?? "",
    members,
    image: readString(p, `${base}.image`, o.image, "mariadb:11.4"),
    placement,
    proxyPort,
    database,
    user,
    sstMethod: readEnum(p, `${base}.sstMethod`, o.sstMethod, ["mariabackup", "rsync"] as const, "mariabackup"),
    allowFrom: readAllowFrom(p, `${base}.allowFrom`, o.allowFrom),
  };
}

function parseFtp(p: Problems, o: Obj, clusters: ClusterSettings[]): FtpServiceSettings {
  const base = "services.ftp";
  checkKeys(p, base, o, ["cluster", "image", "users", "listenPort", "passivePorts", "placement", "homeOwner", "allowFrom", "tls"]);
  const cluster = readCluster(p, `${base}.cluster`, o.cluster, clusters);
  const image = readString(p, `${base}.image`, o.image, "");
  if (!image)
    p.add(`${base}.image`, "is required: there is no official vsftpd image. Fix: build one with vsftpd and libpam-pwdfile, push it, and set its name here.");
  const users = readStringList(p, `${base}.users`, o.users, []);
  const seen = new Set<string>();
  users.forEach((user, i) => {
    if (!FTP_USER_RE.test(user))
      p.add(`${base}.users[${i}]`, `${JSON.stringify(user)} is not a valid FTP user name: 1-32 of a-z, 0-9, '_' and '-', starting with a letter (it is also the folder www/<user>).`);
    else if (seen.has(user)) p.add(`${base}.users[${i}]`, `duplicate user ${JSON.stringify(user)}. Fix: list each user once.`);
    seen.add(user);
  });
  const pasv = readObj(p, `${base}.passivePorts`, o.passivePorts, false);
  checkKeys(p, `${base}.passivePorts`, pasv, ["min", "max"]);
  const min = readPort(p, `${base}.passivePorts.min`, pasv.min, 30000, 1024);
  const max = readPort(p, `${base}.passivePorts.max`, pasv.max, 30009, 1024);
  if (min > max) p.add(`${base}.passivePorts`, `min ${min} is above max ${max}.`);
  else if (max - min + 1 > 200) p.add(`${base}.passivePorts`, `${max - min + 1} ports: every one is published by the unit. Fix: use at most 200.`);
  const homeOwner = readString(p, `${base}.homeOwner`, o.homeOwner, "");
  if (!homeOwner)
    p.add(`${base}.homeOwner`, "is required: the numeric uid:gid of the image's FTP guest account (guest_username=ftp), which must own the users' homes to write in them. Fix: docker run --rm <image> id ftp, then set e.g. homeOwner: \"101:101\".");
  else if (!/^\d{1,10}:\d{1,10}$/.test(homeOwner))
    p.add(`${base}.homeOwner`, `${JSON.stringify(homeOwner)} must be numeric uid:gid (names differ between the node and the image).`);
  else if (homeOwner.split(":").some((id) => Number(id) === 0))
    p.add(`${base}.homeOwner`, `${JSON.stringify(homeOwner)} has uid or gid 0: every customer's home would belong to root (or its group), and FTP users would write as it. Fix: the image's unprivileged ftp account: docker run --rm <image> id ftp, then e.g. homeOwner: "101:101".`);
  // FTPS by default; false is a lab's choice and must be said plainly.
  const tlsKnown = o.tls === undefined || typeof o.tls === "boolean" || o.tls === "true" || o.tls === "false";
  if (!tlsKnown)
    p.add(`${base}.tls`, `${JSON.stringify(o.tls)} must be true (FTPS required, the default) or false (plain-text FTP: passwords and files readable on the network; a closed lab only).`);
  const tls = tlsKnown ? readBool(p, `${base}.tls`, o.tls, true) : true;
  const listenPort = readPort(p, `${base}.listenPort`, o.listenPort, 21);
  if (min <= max && listenPort >= min && listenPort <= max)
    p.add(`${base}.listenPort`, `${listenPort} lies inside the passive range ${min}-${max}. Fix: move listenPort (e.g. 21) or the range.`);
  return {
    cluster: cluster?.name ?? "",
    image,
    homeOwner,
    users,
    listenPort,
    passivePorts: { min, max },
    placement: readPlacement(p, `${base}.placement`, o.placement, ["role=web"], cluster),
    allowFrom: readAllowFrom(p, `${base}.allowFrom`, o.allowFrom),
    tls,
  };
}

/** Host ports each service publishes, for the clash check among services on one cluster. */
function publishedPorts(s: ServiceSettings): Array<{ service: string; cluster: string; ports: number[] }> {
  const out: Array<{ service: string; cluster: string; ports: number[] }> = [];
  if (s.web) out.push({ service: "web", cluster: s.web.cluster, ports: [80, ...Array.from({ length: s.web.instances }, (_, i) => s.web!.basePort + i + 1)] });
  if (s.galera) out.push({ service: "galera", cluster: s.galera.cluster, ports: [...GALERA_PORTS, s.galera.proxyPort] });
  if (s.ftp) {
    const { min, max } = s.ftp.passivePorts;
    out.push({ service: "ftp", cluster: s.ftp.cluster, ports: [s.ftp.listenPort, ...(max >= min && max - min < 200 ? Array.from({ length: max - min + 1 }, (_, i) => min + i) : [])] });
  }
  return out;
}

/** What the nodes themselves listen on, beside the services. */
export interface NodePorts {
  /** `ssh.port`: the port the program reaches the nodes' sshd on. */
  sshPort: number;
}

/** Ports a node's own daemons hold (sshd, etcd), with who holds them. */
function reservedPorts(node: NodePorts): Map<number, string> {
  const taken = new Map<number, string>();
  for (const port of ETCD_PORTS) taken.set(port, `etcd (${ETCD_PORTS.join(", ")})`);
  taken.set(NODE_SSHD_PORT, `sshd (port ${NODE_SSHD_PORT})`);
  if (node.sshPort !== NODE_SSHD_PORT) taken.set(node.sshPort, `sshd (ssh.port ${node.sshPort})`);
  return taken;
}

/** The host ports each service setting makes a node listen on, with a fix naming a free example. */
function configurablePorts(s: ServiceSettings): Array<{ path: string; ports: number[]; describe: (port: number) => string; example: string }> {
  const out: Array<{ path: string; ports: number[]; describe: (port: number) => string; example: string }> = [];
  if (s.web) {
    const { basePort, instances } = s.web;
    out.push({
      path: "services.web.basePort",
      ports: Array.from({ length: instances }, (_, i) => basePort + i + 1),
      describe: (port) => `apache instance ${port - basePort} would listen on ${port}`,
      example: "choose basePort so that basePort+1 … basePort+instances avoids it (e.g. 8080)",
    });
  }
  if (s.galera) out.push({ path: "services.galera.proxyPort", ports: [s.galera.proxyPort], describe: (port) => `${port}`, example: "use another port, e.g. 3307" });
  if (s.ftp) {
    out.push({ path: "services.ftp.listenPort", ports: [s.ftp.listenPort], describe: (port) => `${port}`, example: "use another port, e.g. 21" });
    const { min, max } = s.ftp.passivePorts;
    if (min <= max && max - min < 200)
      out.push({
        path: "services.ftp.passivePorts",
        ports: Array.from({ length: max - min + 1 }, (_, i) => min + i),
        describe: (port) => `port ${port} of the range ${min}-${max}`,
        example: "move the range (e.g. min 30000, max 30009)",
      });
  }
  return out;
}

/** Parses `xen-coreos:services`; problems are added to `p`. */
export function parseServices(p: Problems, o: Obj, clusters: ClusterSettings[], node: NodePorts = { sshPort: NODE_SSHD_PORT }): ServiceSettings {
  checkKeys(p, "services", o, ["web", "galera", "ftp"]);
  const services: ServiceSettings = {};
  if (o.web !== undefined) services.web = parseWeb(p, readObj(p, "services.web", o.web, true), clusters);
  if (o.galera !== undefined) services.galera = parseGalera(p, readObj(p, "services.galera", o.galera, true), clusters);
  if (o.ftp !== undefined) services.ftp = parseFtp(p, readObj(p, "services.ftp", o.ftp, true), clusters);

  const taken = reservedPorts(node);
  for (const { path, ports, describe, example } of configurablePorts(services)) {
    const clash = ports.find((port) => taken.has(port));
    if (clash !== undefined) p.add(path, `${describe(clash)}, which ${taken.get(clash)} holds on every node. Fix: ${example}.`);
  }

  const published = publishedPorts(services);
  for (let i = 0; i < published.length; i++) {
    for (let j = i + 1; j < published.length; j++) {
      const a = published[i];
      const b = published[j];
      if (a.cluster !== b.cluster) continue;
      const clash = a.ports.find((port) => b.ports.includes(port));
      if (clash !== undefined)
        p.add(`services.${b.service}`, `port ${clash} is published by both ${a.service} and ${b.service} on cluster ${a.cluster}. Fix: move one of them (basePort, proxyPort, listenPort or passivePorts).`);
    }
  }
  return services;
}
