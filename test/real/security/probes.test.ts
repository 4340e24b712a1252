/**
 * Issue 12's headline proof: an outsider on the lab network against three nodes running the
 * real services with the program's TLS material and the rendered host firewall, and the
 * insiders still working through TLS. One table at the end: probe | from | expected | seen.
 *
 * Topology (test/support/netns-lab.ts; nothing of the lab network exists in the root namespace):
 *   the lab stack's network (Pulumi.lab.yaml: 10.50.0.0/24, gateway in the hub, no route out);
 *   namespaces coreos1..3 with the lab's node addresses, each with its RENDERED firewall
 *   (nodeFirewall + renderFirewall, loaded with iptables-restore as the node's restore units do)
 *   and, on each:
 *     - etcd (Debian's, v2 API on as in the etcd2 era) with the environment coreos-cloudinit
 *       derives from the node's rendered `coreos.etcd2` section (coreos profile, static
 *       bootstrap), its certificate from x509.ts at the section's paths (relocated to a temp dir);
 *     - a Galera member (test/real/galera/galera-members.ts: rendered galera.cnf, prestart,
 *       container stand-in, discovery sidecar), its scripts talking to the node's own etcd over
 *       TLS with the node's certificate (the scripts' default endpoint https://127.0.0.1:2379);
 *   coreos1 also runs vsftpd from the rendered FTPS service (test/real/ftp/ftp-harness.ts);
 *   namespace `outsider`: another machine of the lab network (no node of the deployment).
 * The host-key rows dial a real sshd on loopback (root namespace) that runs the rendered
 * sshd_config with a host key from createSshHostKey, with the program's own SSH client
 * (scripts/providers/lib/ssh.ts `dial`, the stand-in of pulumi-command's).
 *
 * Two phases for the outsider: first with the firewall loaded (what a node boots with), then
 * with every node's firewall flushed (a node whose firewall is off or wrong): the second phase
 * shows that etcd, MariaDB and Galera refuse the outsider by themselves (TLS client
 * certificates, root local only), not only because the firewall drops its packets.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { parseSettings } from "../../../components/config/settings";
import { renderSshdConfig, NODE_HOST_KEY_PATH } from "../../../components/coreos/sshd-config";
import { ETCD_TLS_DIR, EtcdTlsPaths } from "../../../components/etcd/etcd-tls";
import { nodeFirewall } from "../../../components/firewall/firewall-plan";
import { renderFirewall } from "../../../components/firewall/firewall-render";
import { coreosProfile } from "../../../components/os/coreos";
import { createCa, createSshHostKey, issueCertificate, KeyPairPem } from "../../../components/pki/x509";
import { ftpNodes, renderFtpBundle, renderGaleraBundle } from "../../../components/services/bundles";
import { FTP_DEFAULTS } from "../../../components/services/ftp-render";
import { GALERA_DEFAULTS } from "../../../components/services/galera-render";
import { closeHeldConnections, dial } from "../../../scripts/providers/lib/ssh";
import { labRaw, WITH_KEY } from "../../fixtures/settings";
import { memberTls, relocate, writeTls } from "../../support/etcd-tls";
import { FirewallLab, createFirewallLab } from "../../support/netns-lab";
import { describeWith } from "../../support/prereq";
import { Netns, RunResult, cleanupAll, freePort, runOk, sleep, startDaemon, tempDir, waitFor, waitForPort } from "../../support/real";
import { account, generatedPassword, prerequisites, redact } from "../../support/real-db";
import { etcd2Environment } from "../cluster/etcd2-env";
import { programHomesScript, startVsftpd, writeFtpNodeFiles } from "../ftp/ftp-harness";
import { GaleraHarness, Member, galeraHarness } from "../galera/galera-members";

jest.setTimeout(900_000);

const NEEDS = prerequisites(
  [
    "etcd", "etcdctl", "curl", "mariadbd", "mariadb", "mariadb-install-db", "mariabackup", "wsrep_sst_mariabackup", "socat", "openssl",
    "vsftpd", "lftp", "sshd", "iptables-restore", "ip6tables-restore", "iptables", "ip6tables", "ip", "unshare", "setpriv", "nsenter", "mount", "sh", "bash", "timeout",
  ],
  {
    files: {
      "libgalera_smm.so (galera-4)": GALERA_DEFAULTS.provider,
      "pam_pwdfile.so (libpam-pwdfile)": "/lib/x86_64-linux-gnu/security/pam_pwdfile.so:/usr/lib/x86_64-linux-gnu/security/pam_pwdfile.so:/lib/security/pam_pwdfile.so:/usr/lib/security/pam_pwdfile.so",
    },
    root: true,
  },
);

interface Row {
  probe: string;
  from: string;
  expected: string;
  seen: string;
  ok: boolean;
}

/** A TCP connect from a namespace: connected, reset (nothing listens) or no answer (dropped). */
type TcpSeen = "connected" | "reset" | "no answer";

/** The last non-empty line of a command's output, for the table. */
const lastLine = (r: RunResult) => (`${r.stdout}\n${r.stderr}`.trim().split("\n").filter((l) => l.trim()).pop() ?? "").trim().slice(0, 110);

describeWith(NEEDS, "real etcd, MariaDB + galera-4, vsftpd, sshd and iptables in a namespace lab")("security probes: an outsider and the insiders against the rendered, secured lab", () => {
  const raw = labRaw();
  // The sites belong to the guest account vsftpd writes as: here, this machine's ftp user.
  const guest = account(FTP_DEFAULTS.guestUsername);
  if (guest) raw.services.ftp.homeOwner = `${guest.uid}:${guest.gid}`;
  const settings = parseSettings(raw, WITH_KEY);
  const galera = settings.services.galera!;
  const ftp = settings.services.ftp!;
  const cluster = settings.clusters.find((c) => c.name === galera.cluster)!;
  const nodes = cluster.nodes.map((n) => ({ name: n.name, ip: n.ip }));
  const ips = Object.fromEntries(nodes.map((n) => [n.name, n.ip]));
  const [cidrBase, prefix] = settings.network.cidr.split("/");
  // Another machine of the lab network: no node, not the gateway, not the NAS.
  const outsiderIp = cidrBase.replace(/\.\d+$/, ".66");
  const taken = new Set([...nodes.map((n) => n.ip), settings.network.gateway, settings.nas.server]);

  // The deployment's PKI (x509.ts, as DeploymentPki uses it) and someone else's.
  const ca = createCa({ commonName: "xen-coreos lab CA (probes)", validityDays: 2 });
  const foreignCa = createCa({ commonName: "someone else's CA", validityDays: 2 });
  const issue = (authority: KeyPairPem, cn: string, addresses: string[], usages: Array<"server" | "client">) =>
    issueCertificate(authority, { commonName: cn, ipAddresses: addresses, usages, validityDays: 2 });

  const passwords = { root: generatedPassword(32), sst: generatedPassword(32), app: generatedPassword(32) };
  const ftpPasswords: Record<string, string> = Object.fromEntries(ftp.users.map((u) => [u, generatedPassword(24)]));
  const saltKey = generatedPassword(32);
  const ftpCert = issue(ca, "ftp", ftpNodes(ftp, cluster).map((n) => n.address), ["server"]);
  const secrets = () => [...Object.values(passwords), ...Object.values(ftpPasswords), saltKey];

  const galeraBundle = renderGaleraBundle(galera, cluster);
  const rows: Row[] = [];
  const row = (probe: string, from: string, expected: string, seen: string, ok: boolean) => rows.push({ probe, from, expected, seen: redact(seen, secrets()), ok });

  let root = "";
  let lab: FirewallLab;
  const etcdTls: Record<string, EtcdTlsPaths> = {};
  let foreignEtcdTls: EtcdTlsPaths;
  let harness: GaleraHarness;
  const members: Member[] = [];
  let intruder: Member;
  let ftpCaFile = "";
  let ftpWww = "";

  const ns = (name: string): Netns => lab.ns(name);
  const etcdUrl = (node: string) => `https://${ips[node]}:2379`;

  /** etcdctl (v2 API, as the platform's scripts speak it) from a namespace, with the given TLS files (none: no certificate). */
  const etcdctl2 = (from: string, endpoint: string, args: string[], tls: Partial<EtcdTlsPaths>) =>
    ns(from).exec(
      "etcdctl",
      ["--endpoints", endpoint, "--timeout", "5s", "--total-timeout", "8s", ...(tls.caFile ? ["--ca-file", tls.caFile] : []), ...(tls.certFile ? ["--cert-file", tls.certFile, "--key-file", tls.keyFile!] : []), ...args],
      { env: { ETCDCTL_API: "2" }, timeoutMs: 20000 },
    );
  const etcdctl3 = (from: string, endpoints: string[], args: string[], tls: EtcdTlsPaths) =>
    ns(from).exec("etcdctl", ["--endpoints", endpoints.join(","), "--cacert", tls.caFile, "--cert", tls.certFile, "--key", tls.keyFile, "--dial-timeout", "5s", "--command-timeout", "10s", ...args], {
      env: { ETCDCTL_API: "3" },
      timeoutMs: 20000,
    });

  const tcp = (from: string, ip: string, port: number): TcpSeen => {
    const r = ns(from).exec("timeout", ["3", "bash", "-c", 'exec 3<>"/dev/tcp/$1/$2"', "bash", ip, String(port)], { timeoutMs: 10000 });
    if (r.status === 0) return "connected";
    return r.status === 124 ? "no answer" : /refused/.test(r.stderr) ? "reset" : "no answer";
  };

  /** A MariaDB client over TCP (TLS on, as the 10.11 client defaults) from a namespace. */
  const mariadb = (from: string, host: string, user: string, password: string, query: string, extra: string[] = []) =>
    ns(from).exec("mariadb", ["--no-defaults", "--ssl", ...extra, "--connect-timeout=5", "-h", host, "-P", "3306", "-u", user, "-N", "-B", "-e", query], { env: { MYSQL_PWD: password }, timeoutMs: 30000 });

  /** One lftp session from a namespace to coreos1's vsftpd: TLS verified against the deployment CA, or plain. */
  const lftp = (from: string, user: string, password: string, commands: string[], tls: boolean) => {
    const script = path.join(root, `session-${from}-${Date.now()}.lftp`);
    fs.writeFileSync(
      script,
      [
        "set net:max-retries 1",
        "set net:timeout 20",
        "set ftp:passive-mode on",
        "set ftp:prefer-epsv no",
        ...(tls ? ["set ftp:ssl-allow yes", "set ftp:ssl-force true", "set ftp:ssl-protect-data true", "set ssl:verify-certificate yes", "set ssl:check-hostname yes", `set ssl:ca-file ${ftpCaFile}`] : ["set ftp:ssl-allow no"]),
        "set cmd:fail-exit yes",
        `open -u ${user},${password} ftp://${ips.coreos1}:${ftp.listenPort}`,
        ...commands,
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    const r = ns(from).exec("lftp", ["-d", "-f", script], { timeoutMs: 120000 });
    fs.rmSync(script);
    return { status: r.status, stdout: redact(r.stdout, secrets()), debug: redact(r.stderr, secrets()) };
  };

  /** Galera members published in etcd (read over TLS from coreos1 with its certificate). */
  const publishedMembers = (): string[] => {
    const r = etcdctl2("coreos1", etcdUrl("coreos1"), ["ls", "--recursive", `${GALERA_DEFAULTS.etcdPrefix}/members`], etcdTls.coreos1);
    return r.status === 0 ? r.stdout.split("\n").filter((k) => k.endsWith("/ip")).map((k) => k.split("/").slice(-2)[0]) : [];
  };
  const waitPublished = (m: Member) => waitFor(() => publishedMembers().includes(String(m.id)), { what: `galera-discovery@${m.id} to publish member ${m.id}`, timeoutMs: 60000, intervalMs: 250 });

  /** Starts the outsider's own mariadbd with coreos3's rendered files and a certificate of another CA, as a joiner; reports whether it got in. */
  const intrude = async (windowMs: number) => {
    const m = intruder;
    await harness.stopServer(m);
    fs.rmSync(m.dataDir, { recursive: true, force: true });
    fs.rmSync(m.runDir, { recursive: true, force: true });
    harness.writeNodeFiles(m, galeraBundle, foreignCa.certPem, "coreos3");
    const offsets = members.map((x) => fs.statSync(x.log).size);
    const own = fs.existsSync(m.log) ? fs.statSync(m.log).size : 0;
    const p = harness.prestart(m);
    if (p.flag !== "") throw new Error(`the intruder's prestart decided to bootstrap (${p.flag}): ${p.log}`);
    harness.startServer(m, "");
    const deadline = Date.now() + windowMs;
    while (Date.now() < deadline && m.server!.alive() && !harness.synced(m)) await sleep(1000);
    const joined = m.server!.alive() && harness.synced(m);
    await harness.stopServer(m);
    const memberLogs = members.map((x, i) => fs.readFileSync(x.log, "utf8").slice(offsets[i])).join("\n");
    const ownLog = fs.readFileSync(m.log, "utf8").slice(own);
    return { joined, memberLogs, ownLog, sizes: members.map((x) => harness.clusterSize(x)) };
  };

  beforeAll(async () => {
    expect(guest).toBeDefined();
    expect(taken.has(outsiderIp)).toBe(false);
    root = tempDir("probes");
    fs.chmodSync(root, 0o755); // mysql traverses it to its member's files

    // ---- the lab network, each node's rendered firewall loaded as at boot
    lab = createFirewallLab({ label: "sp", gateway: settings.network.gateway, prefixLength: Number(prefix), hosts: [...nodes, { name: "outsider", ip: outsiderIp }] });
    for (const n of nodes) {
      const rules = renderFirewall(nodeFirewall(settings, cluster.name, n.name));
      lab.loadRules(n.name, rules.v4, rules.v6);
    }

    // ---- etcd on every node, from its rendered etcd2 section, over TLS with its own certificate
    for (const n of nodes) {
      etcdTls[n.name] = writeTls(path.join(root, n.name, "etcd-tls"), memberTls(ca, n.name, n.ip));
      const sections = coreosProfile.sections({
        hostname: n.name,
        ip: n.ip,
        fleetMetadata: {},
        install: { device: "/dev/xvda", channel: settings.coreos.channel },
        os: { profile: "coreos" },
        etcd: { mode: "static", initialCluster: nodes, state: "new", token: `probes-${cluster.name}` },
      });
      const env = etcd2Environment(yaml.dump({ coreos: sections }));
      expect(env.ETCD_CLIENT_CERT_AUTH).toBe("true");
      expect(env.ETCD_PEER_CLIENT_CERT_AUTH).toBe("true");
      const dataDir = path.join(root, n.name, "etcd-data");
      startDaemon({
        name: `etcd-${n.name}`,
        command: "etcd",
        netns: ns(n.name).name,
        env: { ...relocate(env, ETCD_TLS_DIR, path.dirname(etcdTls[n.name].caFile)), ETCD_DATA_DIR: dataDir, ETCD_ENABLE_V2: "true" },
        logFile: path.join(root, n.name, "etcd.log"),
      });
    }
    foreignEtcdTls = writeTls(path.join(root, "outsider", "foreign-tls"), memberTls(foreignCa, "coreos1", ips.coreos1));
    await waitFor(() => etcdctl3("coreos1", nodes.map((n) => etcdUrl(n.name)), ["endpoint", "health"], etcdTls.coreos1).status === 0, {
      what: "etcd: 3 members healthy over TLS",
      timeoutMs: 90000,
      intervalMs: 250,
    });
    expect(etcdctl2("coreos1", etcdUrl("coreos1"), ["set", "/xen-coreos/probe/secret", "insiders only"], etcdTls.coreos1).status).toBe(0);

    // ---- Galera: the members' scripts use the node's own etcd (default endpoint) with the node's certificate
    harness = galeraHarness({
      bundle: galeraBundle,
      passwords,
      caPem: ca.certPem,
      etcdEnv: (m): Record<string, string> =>
        m.node === "outsider"
          ? // the intruder's own etcd on its own machine (plain http; its own CA's files, which etcdctl loads and ignores)
            { ETCD_ENDPOINT: "http://127.0.0.1:2379", ETCDCTL_API: "2", ETCD_CA_FILE: foreignEtcdTls.caFile, ETCD_CERT_FILE: foreignEtcdTls.certFile, ETCD_KEY_FILE: foreignEtcdTls.keyFile }
          : { ETCDCTL_API: "2", ETCD_CA_FILE: etcdTls[m.node].caFile, ETCD_CERT_FILE: etcdTls[m.node].certFile, ETCD_KEY_FILE: etcdTls[m.node].keyFile },
    });
    nodes.forEach((n, k) => {
      if (!galeraBundle.nodeFiles[n.name]) throw new Error(`the lab's Galera placement leaves out ${n.name}: the probes expect a member on every node`);
      const m = harness.newMember({ id: k + 1, node: n.name, ip: n.ip, ns: ns(n.name), tls: issue(ca, n.name, [n.ip], ["server", "client"]), root });
      harness.writeNodeFiles(m, galeraBundle);
      members.push(m);
    });
    intruder = harness.newMember({ id: 9, node: "outsider", ip: outsiderIp, ns: ns("outsider"), tls: issue(foreignCa, "coreos3", [outsiderIp], ["server", "client"]), root });
    // The intruder's own etcd (plain, on its loopback) says a member is alive, so its prestart joins.
    startDaemon({
      name: "outsider-etcd",
      command: "etcd",
      netns: ns("outsider").name,
      args: [
        "--name", "outsider", "--data-dir", path.join(root, "outsider", "etcd"), "--enable-v2",
        "--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
        "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380", "--initial-cluster", "outsider=http://127.0.0.1:2380",
      ],
      logFile: path.join(root, "outsider", "etcd.log"),
    });
    await waitFor(() => ns("outsider").exec("etcdctl", ["--endpoints", "http://127.0.0.1:2379", "set", `${GALERA_DEFAULTS.etcdPrefix}/members/1/ip`, ips.coreos1], { env: { ETCDCTL_API: "2" } }).status === 0, {
      what: "the outsider's own etcd",
      timeoutMs: 30000,
      intervalMs: 250,
    });

    const [m1, m2, m3] = members;
    const p1 = harness.prestart(m1);
    expect(p1.flag).toBe("--wsrep-new-cluster");
    harness.startServer(m1, p1.flag);
    await harness.waitSynced(m1, "member 1 to bootstrap (Synced)");
    harness.startSidecar(m1);
    await waitPublished(m1);
    const joins = [m2, m3].map((m) => harness.prestart(m));
    for (const p of joins) expect(p.flag).toBe("");
    harness.startServer(m2, "");
    harness.startServer(m3, "");
    await Promise.all([harness.waitSynced(m2, "member 2 to join (Synced)"), harness.waitSynced(m3, "member 3 to join (Synced)")]);
    await waitFor(() => members.every((m) => harness.clusterSize(m) === 3), { what: "wsrep_cluster_size 3 on every member", timeoutMs: 60000, intervalMs: 500 });
    for (const m of [m2, m3]) harness.startSidecar(m);
    await Promise.all(members.map(waitPublished));

    // ---- vsftpd on coreos1 from the rendered FTPS service
    const conf = path.join(root, "ftp", "etc-xen-coreos-ftp");
    ftpWww = path.join(root, "ftp", "share", "www");
    fs.mkdirSync(ftpWww, { recursive: true });
    ftpCaFile = path.join(root, "ftp", "ca.pem");
    fs.writeFileSync(ftpCaFile, ca.certPem);
    const ftpBundle = renderFtpBundle(ftp, ftp.users.map((name) => ({ name, password: ftpPasswords[name] })), saltKey, ftpCert);
    writeFtpNodeFiles(ftpBundle, conf);
    const homes = await programHomesScript(ftp, { caPem: ca.certPem, ...ftpCert });
    runOk("sh", ["-c", homes.split(`${FTP_DEFAULTS.wwwDir}/`).join(`${ftpWww}/`)]);
    await startVsftpd({ name: "vsftpd", work: path.join(root, "ftp", "work"), bundle: ftpBundle, confDir: conf, www: ftpWww, pasvAddress: ips.coreos1, listenPort: ftp.listenPort, netns: ns("coreos1"), logFile: path.join(root, "ftp", "vsftpd.out") });
  }, 600000);

  afterAll(async () => {
    closeHeldConnections();
    if (harness) {
      for (const m of [intruder, ...[...members].reverse()].filter(Boolean)) {
        try {
          await harness.stopMember(m);
        } catch {
          // cleanupAll kills what is left
        }
      }
    }
    await cleanupAll();
  }, 300000);

  // ------------------------------------------------------------------ insiders

  it("insiders: etcd healthy over TLS, Galera of 3 over TLS, an FTPS upload", () => {
    const health = etcdctl3("coreos2", nodes.map((n) => etcdUrl(n.name)), ["endpoint", "health"], etcdTls.coreos2);
    const healthy = (health.stdout + health.stderr).split("\n").filter((l) => /is healthy/.test(l)).length;
    row("etcdctl endpoint health (3 endpoints, the node's certificate)", "coreos2", "3 healthy", `${healthy} healthy`, health.status === 0 && healthy === 3);
    const read = etcdctl2("coreos3", etcdUrl("coreos1"), ["get", "/xen-coreos/probe/secret"], etcdTls.coreos3);
    row("etcd v2 read over TLS (the node's certificate)", "coreos3", "the value", read.stdout.trim() || lastLine(read), read.stdout.trim() === "insiders only");

    const size = mariadb("coreos2", ips.coreos1, galera.user, passwords.app, "SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_size', 'Ssl_version')", [`--ssl-ca=${etcdTls.coreos2.caFile}`, "--ssl-verify-server-cert"]);
    const status = Object.fromEntries(size.stdout.trim().split("\n").map((l) => l.split("\t")));
    row("wsrep_cluster_size as the app user over verified TLS", "coreos2", "3 (TLSv1.2+)", `${status.wsrep_cluster_size ?? lastLine(size)} (${status.Ssl_version ?? "no TLS"})`, status.wsrep_cluster_size === "3" && /^TLSv1\.[23]$/.test(status.Ssl_version ?? ""));
    const gcommTls = members.slice(1).every((m) => /ssl:\/\//.test(fs.readFileSync(m.log, "utf8")));
    const sstTls = members.slice(1).every((m) => /MODE='VERIFY_CA', encrypt='3'/.test(fs.readFileSync(m.log, "utf8")));
    row("Galera formed: replication and SST over TLS", "coreos1-3", "ssl:// peers, SST VERIFY_CA", `${gcommTls ? "ssl:// peers" : "no ssl:// in the logs"}, ${sstTls ? "SST VERIFY_CA" : "SST without TLS"}`, gcommTls && sstTls);

    const [user] = ftp.users;
    const local = path.join(root, "insider-upload.txt");
    fs.writeFileSync(local, "from an insider\n");
    const up = lftp("coreos2", user, ftpPasswords[user], [`put ${local} -o /${FTP_DEFAULTS.siteFolder}/insider.txt`], true);
    const landed = fs.existsSync(path.join(ftpWww, user, "insider.txt")) && fs.readFileSync(path.join(ftpWww, user, "insider.txt"), "utf8") === "from an insider\n";
    row("lftp FTPS upload (CA verified, PROT P)", "coreos2", "uploaded", landed && up.status === 0 ? "uploaded" : `failed: ${up.debug.split("\n").filter((l) => /<--- [45]\d\d|rror/.test(l)).pop() ?? up.status}`, up.status === 0 && landed && /PROT now Private/.test(up.debug));
    expect(rows.filter((r) => !r.ok)).toEqual([]);
  });

  // ------------------------------------------------------------------ outsider, firewall loaded

  const CLUSTER_PORTS: Array<{ port: number; what: string }> = [
    { port: 2379, what: "etcd client" },
    { port: 2380, what: "etcd peer" },
    { port: 3306, what: "mariadb" },
    { port: 4444, what: "galera SST" },
    { port: 4567, what: "galera replication" },
    { port: 4568, what: "galera IST" },
  ];

  it("outsider, with the rendered firewall: cluster ports dropped, etcd and MariaDB unreachable, no Galera join, FTP only over TLS", async () => {
    const before = rows.length;
    for (const p of CLUSTER_PORTS) {
      const out = tcp("outsider", ips.coreos1, p.port);
      row(`TCP ${p.port} (${p.what}) of coreos1`, "outsider", "no answer (dropped)", out, out === "no answer");
      // The control: the same port from a node of the cluster reaches the node (a listener, or a reset between transfers).
      const inside = tcp("coreos2", ips.coreos1, p.port);
      row(`TCP ${p.port} (${p.what}) of coreos1`, "coreos2", "reaches the node", inside, inside !== "no answer");
    }
    etcdProbes("firewall on");
    const rootLogin = mariadb("outsider", ips.coreos1, "root", passwords.root, "SELECT 1");
    row("MariaDB root login (right password) [firewall on]", "outsider", "refused", rootLogin.status === 0 ? "logged in" : `refused: ${lastLine(rootLogin)}`, rootLogin.status !== 0);
    await galeraJoin("firewall on");
    ftpPlain("firewall on");
    const [user] = ftp.users;
    const local = path.join(root, "customer-upload.txt");
    fs.writeFileSync(local, "a customer's page\n");
    const up = lftp("outsider", user, ftpPasswords[user], [`put ${local} -o /${FTP_DEFAULTS.siteFolder}/customer.txt`], true);
    row("lftp FTPS upload (the customers' way in: 21 and the passive range open)", "outsider", "uploaded", up.status === 0 ? "uploaded" : `failed (${up.status})`, up.status === 0 && fs.existsSync(path.join(ftpWww, user, "customer.txt")));
    expect(rows.slice(before).filter((r) => !r.ok)).toEqual([]);
  });

  // ------------------------------------------------------------------ outsider, firewall flushed

  it("outsider, every node's firewall flushed: etcd, MariaDB and Galera still refuse it by themselves", async () => {
    const before = rows.length;
    for (const n of nodes) {
      ns(n.name).execOk("iptables", ["-w", "-t", "mangle", "-F"]);
      ns(n.name).execOk("iptables", ["-w", "-t", "mangle", "-X"]);
      ns(n.name).execOk("ip6tables", ["-w", "-t", "mangle", "-F"]);
      ns(n.name).execOk("ip6tables", ["-w", "-t", "mangle", "-X"]);
    }
    const control = tcp("outsider", ips.coreos1, 2379);
    row("TCP 2379 of coreos1 [firewall flushed: the control]", "outsider", "connected", control, control === "connected");
    etcdProbes("firewall off");
    const rootLogin = mariadb("outsider", ips.coreos1, "root", passwords.root, "SELECT 1");
    row("MariaDB root login (right password) [firewall off]", "outsider", "refused: root is local only", rootLogin.status === 0 ? "logged in" : `refused: ${lastLine(rootLogin)}`, rootLogin.status !== 0 && /Access denied for user 'root'|is not allowed to connect/.test(rootLogin.stderr));
    const appPlain = mariadb("outsider", ips.coreos1, galera.user, passwords.app, "SELECT 1", ["--skip-ssl"]);
    row("MariaDB app user without TLS (right password) [firewall off]", "outsider", "refused: REQUIRE SSL", appPlain.status === 0 ? "logged in" : `refused: ${lastLine(appPlain)}`, appPlain.status !== 0 && /Access denied/.test(appPlain.stderr));
    await galeraJoin("firewall off");
    ftpPlain("firewall off");
    expect(rows.slice(before).filter((r) => !r.ok)).toEqual([]);
  });

  /** etcd read and write without a certificate, with another CA's, and in plain http. */
  function etcdProbes(phase: string) {
    const key = "/xen-coreos/probe/secret";
    const noCert = etcdctl2("outsider", etcdUrl("coreos1"), ["get", key], { caFile: etcdTls.coreos1.caFile });
    const foreign = etcdctl2("outsider", etcdUrl("coreos1"), ["set", "/xen-coreos/probe/foreign", "x"], { ...foreignEtcdTls, caFile: etcdTls.coreos1.caFile });
    const plain = ns("outsider").exec("curl", ["-sS", "--max-time", "8", `http://${ips.coreos1}:2379/v2/keys${key}`], { timeoutMs: 20000 });
    const plainWrite = ns("outsider").exec("curl", ["-sS", "--max-time", "8", "-X", "PUT", "-d", "value=x", `http://${ips.coreos1}:2379/v2/keys/xen-coreos/probe/plain`], { timeoutMs: 20000 });
    const off = phase === "firewall off";
    row(`etcd read without a client certificate [${phase}]`, "outsider", off ? "refused at the TLS handshake" : "refused (no answer)", noCert.status === 0 ? `read: ${noCert.stdout.trim()}` : `refused: ${lastLine(noCert)}`, noCert.status !== 0 && (!off || /certificate required|bad certificate/.test(noCert.stderr)));
    row(`etcd write with another CA's certificate [${phase}]`, "outsider", off ? "refused at the TLS handshake" : "refused (no answer)", foreign.status === 0 ? "written" : `refused: ${lastLine(foreign)}`, foreign.status !== 0 && (!off || /unknown certificate authority|bad certificate/.test(foreign.stderr)));
    row(`etcd read in plain http [${phase}]`, "outsider", "refused (no http answer)", plain.status === 0 ? `answered: ${plain.stdout.trim().slice(0, 60)}` : `refused: ${lastLine(plain)}`, plain.status !== 0 && plain.stdout === "");
    row(`etcd write in plain http [${phase}]`, "outsider", "refused (no http answer)", plainWrite.status === 0 ? `answered: ${plainWrite.stdout.trim().slice(0, 60)}` : `refused: ${lastLine(plainWrite)}`, plainWrite.status !== 0 && plainWrite.stdout === "");
    // Nothing was written.
    for (const k of ["/xen-coreos/probe/foreign", "/xen-coreos/probe/plain"]) expect(etcdctl2("coreos2", etcdUrl("coreos2"), ["get", k], etcdTls.coreos2).stderr).toMatch(/Key not found/);
  }

  /** A 4th mariadbd from the outsider with another CA's certificate tries to join. */
  async function galeraJoin(phase: string) {
    const off = phase === "firewall off";
    const r = await intrude(45000);
    const refusedByTls = /WSREP: Failed to establish connection: [^\n]*(unknown ca|certificate)/i.exec(r.memberLogs);
    const ownError = /\[ERROR\] WSREP: [^\n]*/.exec(r.ownLog)?.[0].slice(0, 100);
    const seen = r.joined ? "joined" : `not joined; sizes ${r.sizes.join("/")}; ${off ? (refusedByTls ? `members: ${refusedByTls[0].slice(refusedByTls[0].indexOf("Failed")).slice(0, 80)}` : "no TLS refusal in the members' logs") : (ownError ?? "no reply from any member")}`;
    row(`Galera join, 4th mariadbd with another CA's certificate [${phase}]`, "outsider", off ? "refused at the TLS handshake; size stays 3" : "no reply; size stays 3", seen, !r.joined && r.sizes.every((s) => s === 3) && (!off || refusedByTls !== null));
    expect(publishedMembers().sort()).toEqual(["1", "2", "3"]);
  }

  /** A plain-text FTP login with a valid user and password. */
  function ftpPlain(phase: string) {
    const [user] = ftp.users;
    const r = lftp("outsider", user, ftpPasswords[user], ["ls"], false);
    const reply = /<--- (530 [^\n]*)/.exec(r.debug)?.[1].trim();
    row(`FTP login without TLS (valid password) [${phase}]`, "outsider", "530 … must use encryption", reply ?? `exit ${r.status}`, r.status !== 0 && reply === "530 Non-anonymous sessions must use encryption." && !/230 Login successful/.test(r.debug));
  }

  // ------------------------------------------------------------------ pinned host keys

  it("a connection pinned to a node's host key fails against another key with a clear message, and works with the right one", async () => {
    const before = rows.length;
    const dir = tempDir("probe-sshd");
    const hostKey = createSshHostKey("coreos1");
    const otherKey = createSshHostKey("impostor");
    const client = createSshHostKey("operator");
    const keyFile = path.join(dir, "ssh_host_ed25519_key");
    fs.writeFileSync(keyFile, hostKey.privateKey, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, "authorized_keys"), `${client.publicKey}\n`, { mode: 0o600 });
    const port = await freePort();
    // The rendered sshd_config (user root: the one account every test machine has), its host
    // key at the test's path; the test adds only where to listen and where the files are.
    const rendered = renderSshdConfig({ user: "root" });
    expect(rendered).toContain(`HostKey ${NODE_HOST_KEY_PATH}\n`);
    const config = path.join(dir, "sshd_config");
    fs.writeFileSync(config, `${rendered.split(NODE_HOST_KEY_PATH).join(keyFile)}Port ${port}\nListenAddress 127.0.0.1\nPidFile ${path.join(dir, "sshd.pid")}\nAuthorizedKeysFile ${path.join(dir, "authorized_keys")}\nStrictModes no\n`);
    fs.mkdirSync("/run/sshd", { recursive: true }); // privilege separation directory
    const sshd = startDaemon({ name: "sshd", command: "/usr/sbin/sshd", args: ["-D", "-e", "-f", config], logFile: path.join(dir, "sshd.log") });
    await waitForPort("127.0.0.1", port, { timeoutMs: 15000 }).catch((e) => {
      throw new Error(`${(e as Error).message}\n${sshd.log()}`);
    });
    const quiet = { status: () => undefined, warning: () => undefined, error: () => undefined };
    const connection = (pinned: string) => ({ host: "127.0.0.1", port, user: "root", privateKey: client.privateKey, hostKey: pinned, dialErrorLimit: 0, perDialTimeout: 10 });

    const wrong = await dial(connection(otherKey.publicKey), quiet).then(
      () => "connected",
      (e: Error) => e.message,
    );
    row("SSH to coreos1's sshd pinned to another key", "program", "fails: host key mismatch", wrong.replace(/^.*?(host key mismatch)/, "$1").slice(0, 110), /host key mismatch/.test(wrong) && wrong.includes("presented ssh-ed25519"));
    const good = await dial(connection(hostKey.publicKey), quiet);
    const out = await new Promise<string>((resolve, reject) =>
      good.exec("echo pinned-ok", (err, ch) => {
        if (err) return reject(err);
        let text = "";
        ch.on("data", (d: Buffer) => (text += d.toString()));
        ch.on("close", () => resolve(text.trim()));
      }),
    );
    row("SSH to coreos1's sshd pinned to its own key", "program", "connects, runs a command", out === "pinned-ok" ? "connected, ran `echo`" : `ran, printed ${out}`, out === "pinned-ok");
    closeHeldConnections();
    expect(rows.slice(before).filter((r) => !r.ok)).toEqual([]);
  });

  it("prints the table: every outsider probe refused, every insider check passed", () => {
    const header: Row = { probe: "probe", from: "from", expected: "expected", seen: "seen", ok: true };
    const cells = (r: Row) => [r.probe, r.from, r.expected, r.seen];
    const widths = [0, 1, 2, 3].map((i) => Math.max(...[header, ...rows].map((r) => cells(r)[i].length)));
    const fmt = (r: Row) => cells(r).map((c, i) => c.padEnd(widths[i])).join(" | ").trimEnd() + (r.ok ? "" : "   <-- MISMATCH");
    // eslint-disable-next-line no-console
    console.log(`security probes (lab stack, rendered firewall, the program's certificates):\n${[fmt(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.map(fmt)].join("\n")}`);
    expect(rows.length).toBeGreaterThanOrEqual(30);
    expect(rows.filter((r) => !r.ok)).toEqual([]);
  });
});
