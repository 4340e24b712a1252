/**
 * The Galera service's rendered artifacts, read by the real servers outside Docker: three
 * real `mariadbd` (MariaDB 10.11 + Galera 4) started from the rendered galera.cnf, the env
 * file rendered from generated passwords, the rendered prestart (SST credential + bootstrap
 * decision against a real etcd), initdb and discovery scripts, and the rendered haproxy.cfg
 * in front of them. Settings: the lab stack (Pulumi.lab.yaml), rendered by
 * `renderGaleraBundle` exactly as GaleraCluster does.
 *
 * Topology (nothing of 10.50.0.0/24 exists in the root namespace):
 *
 *   xr<pid>-g-hub:      br0 10.50.0.1/24; etcd (v2 API) on 10.50.0.1:2379; the rendered
 *                       haproxy.cfg (bind :3307); the client loop and every etcdctl
 *   xr<pid>-g-coreosN:  eth0 10.50.0.10N/24 (the lab's node addresses); the member's
 *                       "container" (test/real/galera/member-container.sh in a private
 *                       mount + UTS namespace, host name coreosN) listening on the
 *                       standard ports 3306/4444/4567/4568 of its own address, and its
 *                       discovery sidecar. The galera.cnf is used unchanged (bind-address
 *                       0.0.0.0, ist.recv_bind=0.0.0.0 work because each member has its
 *                       own network stack, as each container has).
 *
 * What stands in for CoreOS and Docker (and why):
 *   - member-container.sh = `docker run mariadb:11.4` of galera@.service: the unit's volumes
 *     as read-only bind mounts (galera.cnf → conf.d/60-galera.cnf, the prestart's
 *     sst-auth.cnf → conf.d/99-sst-auth.cnf), the image's entrypoint first-start path
 *     (install-db, root password, database, app user, the rendered initdb.d sourced with the
 *     image's docker_process_sql), then mariadbd as mysql with the unit's arguments
 *     (--wsrep-node-address=$COREOS_PUBLIC_IPV4 --wsrep-node-name=%H $GALERA_NEW_CLUSTER);
 *   - each member's my.cnf replaces the image's /etc/mysql/my.cnf and sets paths only:
 *     datadir, socket, pid-file (temp dirs instead of /var/lib/mysql and /run/mysqld), tmpdir
 *     (each container has its own /tmp; a shared one is not what the image sees) and [sst]
 *     sst-log-archive-dir (mariabackup SST would otherwise archive to the host's /tmp/sst_log_archive);
 *   - the prestart script runs with the env file sourced (systemd's EnvironmentFile=) and its
 *     documented overrides: DATA_DIR and RUN_DIR (temp dirs), MYSQL_UID (Debian's mysql uid,
 *     the image's is 999), ETCD_ENDPOINT (the hub's etcd, a CoreOS node has its own on
 *     127.0.0.1), ETCDCTL_API=2 (etcd 3.4's etcdctl speaks v3 unless told; CoreOS's etcd2-era
 *     etcdctl is v2);
 *   - the discovery sidecar runs with the unit's Environment= lines, COREOS_PUBLIC_IPV4 and
 *     GALERA_STATE_CMD (its documented stand-in for `docker exec galera-N mariadb …`: the
 *     same query as the same check user, over TCP to 127.0.0.1 inside the member's namespace).
 */
import * as fs from "fs";
import * as path from "path";
import { parseSettings } from "../../../components/config/settings";
import { renderGaleraBundle } from "../../../components/services/bundles";
import { GALERA_DEFAULTS, GaleraBundle, INITDB_SCRIPT } from "../../../components/services/galera-render";
import { createCa, issueCertificate, KeyPairPem } from "../../../components/pki/x509";
import { stackRawSettings, WITH_KEY } from "../../fixtures/settings";
import { describeWith } from "../../support/prereq";
import { Daemon, Netns, bridgedNetwork, cleanupAll, sleep, startDaemon, tempDir, waitFor } from "../../support/real";
import { figure, generatedPassword, prerequisites } from "../../support/real-db";
import { Member, galeraHarness } from "./galera-members";
import { etcdTlsPaths } from "../../../components/etcd/etcd-tls";
import { memberTls, writeTls } from "../../support/etcd-tls";

const GATEWAY = "10.50.0.1";
const ETCD = `http://${GATEWAY}:2379`;
const CLIENT_LOOP = path.join(__dirname, "client-loop.sh");

const NEEDS = prerequisites(
  ["mariadbd", "mariadb", "mariadb-install-db", "mariabackup", "wsrep_sst_mariabackup", "socat", "openssl", "etcd", "etcdctl", "haproxy", "ip", "unshare", "setpriv", "bash"],
  { files: { "libgalera_smm.so (galera-4)": GALERA_DEFAULTS.provider }, root: true },
);

interface LoopResult {
  start: number;
  end: number;
  ok: boolean;
  text: string;
}

describeWith(NEEDS, "three real MariaDB Galera members, etcd and HAProxy from the rendered galera artifacts")("the rendered Galera cluster on real servers", () => {
  const settings = parseSettings(stackRawSettings("lab"), WITH_KEY);
  const galera = settings.services.galera!;
  const cluster = settings.clusters.find((c) => c.name === galera.cluster)!;
  // As GaleraCluster: three RandomPassword({ length: 32, special: false }).
  const passwords = { root: generatedPassword(32), sst: generatedPassword(32), app: generatedPassword(32) };
  const secrets = Object.values(passwords);
  const bundle = renderGaleraBundle(galera, cluster);
  // Only to measure what TLS costs (the program always renders TLS).
  const plainBundle = renderGaleraBundle(galera, cluster, { tls: false });
  const memberUnit = bundle.units.find((u) => u.name === "galera@.service")!;
  // As DeploymentPki: one CA, one certificate per db node (server and client, its address in subjectAltName).
  const ca = createCa({ commonName: "xen-coreos test CA", validityDays: 2 });
  const foreignCa = createCa({ commonName: "someone else's CA", validityDays: 2 });
  const issue = (authority: KeyPairPem, node: string, ip: string) => issueCertificate(authority, { commonName: node, ipAddresses: [ip], usages: ["server", "client"], validityDays: 2 });

  let root = "";
  let hub: Netns;
  let proxy: Daemon | undefined;
  const members: Member[] = [];
  let intruder: Member;
  const t0 = Date.now();

  // The members' harness (galera-members.ts): the scripts reach the hub's etcd over plain
  // http (etcd's own TLS is the etcd tiers' subject).
  // The scripts' etcd helper always passes the node's certificate files (etcdDefaults): they
  // get a client certificate of the CA, which etcdctl loads and the plain-http hub ignores.
  const hubClientTls = () => etcdTlsPaths(path.join(root, "etcd-client-tls"));
  const harness = galeraHarness({
    bundle,
    passwords,
    caPem: ca.certPem,
    etcdEnv: () => ({ ETCD_ENDPOINT: ETCD, ETCDCTL_API: "2", ETCD_CA_FILE: hubClientTls().caFile, ETCD_CERT_FILE: hubClientTls().certFile, ETCD_KEY_FILE: hubClientTls().keyFile }),
  });
  const { mysql, fail, writeNodeFiles, confFile, sql, status, synced, clusterSize, prestart, startServer, startSidecar, waitSynced, stopSidecar, stopServer, stopMember } = harness;

  /** SQL over TCP to a member's node address (from the hub, like a client of the network, unless `from`), over TLS unless `plain` (the 10.11 client's --ssl is on by default: plain is --skip-ssl). */
  const tcpSql = (host: string, port: number, user: string, password: string, query: string, database = "", opts: { plain?: boolean; from?: Netns; tlsArgs?: string[] } = {}) =>
    (opts.from ?? hub).exec("mariadb", ["--no-defaults", ...(opts.plain ? ["--skip-ssl"] : ["--ssl", ...(opts.tlsArgs ?? [])]), "--connect-timeout=10", "-h", host, "-P", String(port), "-u", user, "-N", "-B", "-e", query, ...(database ? [database] : [])], {
      env: { MYSQL_PWD: password },
      timeoutMs: 20000,
    });
  const etcdctl = (args: string[]) => hub.exec("etcdctl", ["--endpoint", ETCD, ...args], { env: { ETCDCTL_API: "2" }, timeoutMs: 15000 });
  const publishedMembers = (): string[] => {
    const r = etcdctl(["ls", "--recursive", `${GALERA_DEFAULTS.etcdPrefix}/members`]);
    return r.status === 0 ? r.stdout.split("\n").filter((k) => k.endsWith("/ip")).map((k) => k.split("/").slice(-2)[0]) : [];
  };

  const waitPublished = (m: Member) =>
    waitFor(() => publishedMembers().includes(String(m.id)), { what: `galera-discovery@${m.id} to publish member ${m.id} in etcd`, timeoutMs: 60000, intervalMs: 250 });

  const grastate = (m: Member) => fs.readFileSync(path.join(m.dataDir, "grastate.dat"), "utf8");

  beforeAll(async () => {
    expect(mysql).toBeDefined();
    root = tempDir("galera");
    fs.chmodSync(root, 0o755); // mysql traverses it to its member's files
    writeTls(path.dirname(hubClientTls().caFile), memberTls(ca, "hub", GATEWAY));
    // Nothing of Galera is on the share any more: every file is node-local.
    expect(bundle.files).toEqual([]);

    const nodes = cluster.nodes.filter((n) => bundle.nodeFiles[n.name] !== undefined).map((n) => ({ name: n.name, ip: n.ip }));
    expect(nodes.map((n) => n.ip)).toEqual(["10.50.0.101", "10.50.0.102", "10.50.0.103"]);
    // A fourth machine on the same network that is no db node of this deployment (the intruder).
    const all = [...nodes, { name: "rogue", ip: "10.50.0.104" }];
    const net = bridgedNetwork({ label: "g", gateway: GATEWAY, prefixLength: 24, members: all.map((n) => ({ label: n.name, ip: n.ip })) });
    hub = net.hub;
    all.forEach((n, k) => {
      const m = harness.newMember({ id: k + 1, node: n.name, ip: n.ip, ns: net.members[n.name], tls: issue(ca, n.name, n.ip), root });
      // The node's files, as GaleraCluster's NodeFiles write them (the rogue gets none here).
      if (n.name !== "rogue") writeNodeFiles(m, bundle);
      (n.name === "rogue" ? (intruder = m) : members.push(m));
    });
    startDaemon({
      name: "etcd",
      command: "etcd",
      args: [
        "--name", "hub", "--data-dir", path.join(root, "etcd"), "--enable-v2",
        "--listen-client-urls", ETCD, "--advertise-client-urls", ETCD,
        "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
        "--initial-cluster", "hub=http://127.0.0.1:2380",
      ],
      netns: hub.name,
      logFile: path.join(root, "etcd.log"),
    });
    await waitFor(() => etcdctl(["ls", "/"]).status === 0, { what: "etcd (v2 API) in the hub", timeoutMs: 30000, intervalMs: 250 });
  }, 90000);

  afterAll(async () => {
    // Members one by one (graceful), then everything else.
    for (const m of [...members].reverse()) {
      try {
        await stopMember(m);
      } catch {
        // cleanupAll kills what is left
      }
    }
    await cleanupAll();
  }, 200000);

  let formationMs = 0;

  /** The formation steps (prestart of member 1 → 3 members Synced, sidecars started); returns the times. */
  const formCluster = async () => {
    const [m1, m2, m3] = members;
    const start = Date.now();
    const p1 = prestart(m1);
    expect(p1.flag).toBe("--wsrep-new-cluster");
    expect(p1.log).toContain("bootstrap lock is ours");
    // The SST credential: mysql-owned, 0400, outside the node's config and the unit.
    const st = fs.statSync(p1.sstAuth);
    expect([st.uid, st.mode & 0o777]).toEqual([mysql!.uid, 0o400]);
    expect(fs.readFileSync(p1.sstAuth, "utf8")).toBe(`[mariadb]\nwsrep_sst_auth="mariabackup:${passwords.sst}"\n`);
    expect(fs.readFileSync(confFile(m1, "galera.cnf"), "utf8")).not.toContain(passwords.sst);
    startServer(m1, p1.flag);
    const bootMs = await waitSynced(m1, "member 1 to bootstrap (Synced)");
    expect(status(m1, "wsrep_cluster_status")).toBe("Primary");
    startSidecar(m1);
    await waitPublished(m1);
    const m1ReadyMs = Date.now() - start;

    const joins = [m2, m3].map((m) => prestart(m));
    for (const p of joins) {
      expect(p.flag).toBe("");
      expect(p.log).toMatch(/members alive \(.*\/members\/1\/ip.*\): joining/);
    }
    startServer(m2, joins[0].flag);
    startServer(m3, joins[1].flag);
    await Promise.all([waitSynced(m2, "member 2 to join (Synced)"), waitSynced(m3, "member 3 to join (Synced)")]);
    await waitFor(() => members.every((m) => clusterSize(m) === 3), { what: "wsrep_cluster_size 3 on every member", timeoutMs: 60000, intervalMs: 500 });
    const ms = Date.now() - start;
    for (const m of [m2, m3]) startSidecar(m);
    await Promise.all(members.map(waitPublished));
    return { ms, bootMs, m1ReadyMs };
  };

  it("forms a 3-member cluster over TLS: member 1 bootstraps, the others join by mariabackup SST over TLS", async () => {
    const [m1, m2, m3] = members;
    const { ms, bootMs, m1ReadyMs } = await formCluster();
    formationMs = ms;
    figure("cluster formation (prestart of member 1 → 3 members Synced)", formationMs, `member 1 bootstrapped in ${(bootMs / 1000).toFixed(1)} s and published after ${(m1ReadyMs / 1000).toFixed(1)} s; the joiners took ${((formationMs - m1ReadyMs) / 1000).toFixed(1)} s including their first-start initialisation and SST`);
    for (const m of [m2, m3]) {
      const log = fs.readFileSync(m.log, "utf8");
      expect(log).toContain("mariabackup SST completed on joiner");
      // SST over TLS: the joiner's socat listened with the node's certificate and checked the donor against the CA.
      expect(log).toMatch(/SSL configuration: CA='[^']*ca\.pem'.*MODE='VERIFY_CA', encrypt='3'/);
      expect(log).toMatch(/Decrypting with cert='[^']*cert\.pem', key='[^']*key\.pem', ca='[^']*ca\.pem'/);
    }
    // Group communication over TLS.
    expect(fs.readFileSync(m2.log, "utf8")).toMatch(/ssl:\/\/10\.50\.0\.10[13]:4567/);
    // Member 1 withdrew its keys while it was the joiners' SST donor (not Synced): wait for all.
    await Promise.all(members.map(waitPublished));
    expect(publishedMembers().sort()).toEqual(["1", "2", "3"]);
    if (/withdrawing it/.test(m1.sidecar!.log())) {
      // eslint-disable-next-line no-console
      console.log("galera-discovery@1 withdrew member 1 from etcd while it was the SST donor (Donor/Desynced), and published it again once Synced");
    }
  }, 330000);

  it("holds the users the unit and the rendered initdb script define: root local only, the check user from the db nodes only, the app user over TLS only", () => {
    const [m1, m2, m3] = members;
    const users = sql(m3, "SELECT CONCAT(user, '@', host) FROM mysql.user ORDER BY 1").split("\n");
    expect(users).toEqual(expect.arrayContaining([`${galera.user}@%`, "mariabackup@localhost", "root@localhost", "haproxy_check@localhost", ...members.map((m) => `haproxy_check@${m.ip}`)]));
    expect(users.filter((u) => u.startsWith("root@") || u.startsWith("mariabackup@"))).toEqual(["mariabackup@localhost", "root@localhost"]);
    expect(users).not.toContain("haproxy_check@%");
    // root over the network is refused, even with the right password and TLS, from the hub and from a db node.
    for (const from of [hub, m2.ns]) {
      const r = tcpSql(m3.ip, 3306, "root", passwords.root, "SELECT 1", "", { from });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/Access denied for user 'root'|is not allowed to connect/);
    }
    // The app user: TLS required; with the CA, the member's certificate verifies for its address.
    expect(tcpSql(m3.ip, 3306, galera.user, passwords.app, "SELECT DATABASE()", galera.database).stdout.trim()).toBe(galera.database);
    const verified = tcpSql(m3.ip, 3306, galera.user, passwords.app, "SHOW STATUS LIKE 'Ssl_version'", "", { tlsArgs: [`--ssl-ca=${path.join(m3.conf, "tls", "ca.pem")}`, "--ssl-verify-server-cert"] });
    expect(verified.stdout).toMatch(/^Ssl_version\tTLSv1\.[23]/);
    const plain = tcpSql(m3.ip, 3306, galera.user, passwords.app, "SELECT 1", "", { plain: true });
    expect(plain.status).not.toBe(0);
    expect(plain.stderr).toMatch(/Access denied/);
    expect(tcpSql(m3.ip, 3306, galera.user, "wrong-password", "SELECT 1").status).not.toBe(0);
    // The SST user logs in locally with the generated password and has what mariabackup needs.
    const grants = sql(m1, "SHOW GRANTS", { user: "mariabackup", password: passwords.sst });
    expect(grants).toMatch(/GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON \*\.\* TO `mariabackup`@`localhost`/);
    // The check user: no password, no privileges; from a db node's address (where HAProxy runs), not from another host.
    expect(tcpSql(m1.ip, 3306, "haproxy_check", "", "SHOW GLOBAL STATUS LIKE 'wsrep_local_state'", "", { from: m2.ns, plain: true }).stdout.trim()).toBe("wsrep_local_state\t4");
    expect(tcpSql(m1.ip, 3306, "haproxy_check", "", "SELECT COUNT(*) FROM mysql.user", "", { from: m2.ns, plain: true }).stderr).toContain("command denied");
    for (const from of [hub, intruder.ns]) {
      const r = tcpSql(m1.ip, 3306, "haproxy_check", "", "SELECT 1", "", { from, plain: true });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/Access denied for user 'haproxy_check'|is not allowed to connect/);
    }
    // The rendered initdb script is what created them (the entrypoint log names it).
    expect(fs.readFileSync(m1.log, "utf8")).toContain(`sourcing ${path.join(m1.conf, "initdb.d", INITDB_SCRIPT)}`);
  }, 60000);

  it("replicates: a row written on member 1 is read on member 3", () => {
    const [m1, , m3] = members;
    const marker = `row-${process.pid}-${Date.now()}`;
    const q = (host: string, query: string) => {
      const r = tcpSql(host, 3306, galera.user, passwords.app, query, galera.database);
      if (r.status !== 0) throw fail(`query on ${host} failed: ${query}`, r.stderr);
      return r.stdout.trim();
    };
    q(m1.ip, "CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, src VARCHAR(64) NOT NULL, node VARCHAR(64) NOT NULL)");
    q(m1.ip, `INSERT INTO t (src, node) VALUES ('${marker}', @@wsrep_node_name)`);
    expect(q(m3.ip, `SET SESSION wsrep_sync_wait = 1; SELECT node FROM t WHERE src = '${marker}'`)).toBe(m1.node);
  }, 60000);

  // ------------------------------------------------------------------ outsiders

  /** Starts the intruder with `cnf` as its galera.cnf and TLS files from `authority`; resolves when it has exited or after `ms`. */
  const intrude = async (label: string, b: GaleraBundle, authority: KeyPairPem) => {
    const m = intruder;
    await stopServer(m);
    fs.rmSync(m.dataDir, { recursive: true, force: true });
    fs.rmSync(m.runDir, { recursive: true, force: true });
    m.tls = issue(authority, m.node, m.ip);
    writeNodeFiles(m, b, authority.certPem, "coreos3");
    // Its own prestart would read etcd and join (members are alive); the flag is what matters: none.
    const offset = fs.existsSync(m.log) ? fs.statSync(m.log).size : 0;
    const p = prestart(m);
    expect(p.flag).toBe("");
    startServer(m, p.flag);
    const deadline = Date.now() + 90000;
    while (Date.now() < deadline && m.server!.alive() && !synced(m)) await sleep(1000);
    const joined = m.server!.alive() && synced(m);
    await stopServer(m);
    const log = fs.readFileSync(m.log, "utf8").slice(offset);
    return { label, joined, log };
  };

  it("refuses a node whose certificate comes from another CA, and a node without TLS: neither joins, the cluster stays at 3", async () => {
    const [m1, , m3] = members;
    const memberLogs = () => members.map((m) => fs.readFileSync(m.log, "utf8")).join("\n");
    const before = memberLogs().length;
    const foreign = await intrude("certificate of another CA", bundle, foreignCa);
    const seenForeign = memberLogs().slice(before);
    const plain = await intrude("no TLS", plainBundle, ca);
    for (const r of [foreign, plain]) {
      // eslint-disable-next-line no-console
      console.log(`intruder (${r.label}): joined=${r.joined}; its log: ${(/\[(ERROR|Warning)\] WSREP: [^\n]*(handshake|SSL|ssl|failed to open|timed out)[^\n]*/.exec(r.log)?.[0] ?? "(no WSREP error line)").slice(0, 200)}`);
      expect(r.joined).toBe(false);
    }
    expect(clusterSize(m1)).toBe(3);
    expect(clusterSize(m3)).toBe(3);
    // The members saw the attempts and refused them at the TLS handshake (galera-4 verifies every peer against the CA).
    expect(seenForeign).toMatch(/WSREP: Failed to establish connection: tlsv1 alert unknown ca/);
    expect(memberLogs().slice(before + seenForeign.length)).toMatch(/WSREP: Failed to establish connection: /);
    expect(publishedMembers().sort()).toEqual(["1", "2", "3"]);
  }, 300000);

  it("no password on any command line or in any process environment of the members (the real tier's stand-in for docker inspect)", () => {
    const procs = fs.readdirSync("/proc").filter((d) => /^[0-9]+$/.test(d));
    const seen: string[] = [];
    for (const pid of procs) {
      let cmdline = "";
      let environ = "";
      try {
        cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
        environ = fs.readFileSync(`/proc/${pid}/environ`, "utf8");
      } catch {
        continue;
      }
      if (!members.some((m) => cmdline.includes(m.dir))) continue;
      seen.push(cmdline.split("\0").slice(0, 2).join(" "));
      for (const pw of secrets) {
        expect([pid, cmdline.includes(pw)]).toEqual([pid, false]);
        expect([pid, environ.includes(pw)]).toEqual([pid, false]);
      }
    }
    expect(seen.filter((c) => c.startsWith("mariadbd")).length).toBe(3);
    // And the unit's docker run carries paths and names only.
    for (const pw of secrets) expect(memberUnit.text).not.toContain(pw);
    // eslint-disable-next-line no-console
    console.log(`checked ${seen.length} member processes (${[...new Set(seen.map((c) => c.split(" ")[0]))].join(", ")}): no password in a command line or environment`);
  });

  // ------------------------------------------------------------------ proxy, failover, rejoin

  let loop: Daemon | undefined;
  const loopStop = () => path.join(root, "client-loop.stop");
  const loopResults = (): LoopResult[] =>
    (loop ? loop.log() : "")
      .split("\n")
      .map((l) => /^(\d+) (\d+) (ok|fail) ?(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ start: Number(m[1]), end: Number(m[2]), ok: m[3] === "ok", text: m[4] }));
  const proxyEvent = (re: RegExp) => (proxy ? re.test(proxy.log()) : false);

  let downAt = 0;
  let stoppedAt = 0;

  it("sends clients through coreos1's rendered haproxy.cfg (its address only, checks from it) to healthy members only: member 2 stopped, no failed query once the check notices", async () => {
    const [m1, m2, m3] = members;
    // HAProxy in coreos1's network (the unit's --network host), with coreos1's own haproxy.cfg.
    proxy = startDaemon({ name: "galera-proxy", command: "haproxy", args: ["-db", "-f", path.join(m1.conf, "haproxy", "haproxy.cfg")], netns: m1.ns.name, logFile: path.join(root, "haproxy.log") });
    await waitFor(() => tcpSql(m1.ip, galera.proxyPort, galera.user, passwords.app, "SELECT 1").status === 0, { what: `HAProxy on ${m1.ip}:${galera.proxyPort}`, timeoutMs: 30000, intervalMs: 250 });
    // Bound to the node's address only: not on its loopback.
    expect(m1.ns.exec("mariadb", ["--no-defaults", "--ssl", "--connect-timeout=3", "-h", "127.0.0.1", "-P", String(galera.proxyPort), "-u", galera.user, "-e", "SELECT 1"], { env: { MYSQL_PWD: passwords.app }, timeoutMs: 10000 }).stderr).toMatch(/Can't connect/);
    fs.rmSync(loopStop(), { force: true });
    loop = startDaemon({
      name: "client-loop",
      command: "bash",
      args: [CLIENT_LOOP, m1.ip, String(galera.proxyPort), galera.user, galera.database, loopStop()],
      netns: hub.name,
      env: { MYSQL_PWD: passwords.app },
      logFile: path.join(root, "client-loop.log"),
    });
    await waitFor(() => new Set(loopResults().filter((r) => r.ok).map((r) => r.text)).size === 3, { what: "the client loop to reach all three members through the proxy", timeoutMs: 30000, intervalMs: 200 });
    expect(loopResults().filter((r) => !r.ok)).toEqual([]);

    await stopSidecar(m2);
    stoppedAt = Date.now(); // SIGTERM to mariadbd (docker stop)
    const stopping = stopServer(m2);
    await waitFor(() => proxyEvent(/Server galera\/coreos2 is DOWN/), { what: "HAProxy to mark coreos2 DOWN", timeoutMs: 60000, intervalMs: 50 });
    downAt = Date.now();
    await stopping;
    await waitFor(() => clusterSize(m1) === 2 && clusterSize(m3) === 2, { what: "wsrep_cluster_size 2 on members 1 and 3", timeoutMs: 60000, intervalMs: 250 });
    expect(publishedMembers().sort()).toEqual(["1", "3"]);
    await sleep(6000); // writes continue through the proxy
    const after = loopResults().filter((r) => r.start > downAt);
    const failed = loopResults().filter((r) => !r.ok);
    const lastFailure = failed.length ? Math.max(...failed.map((r) => r.end)) - stoppedAt : 0;
    figure("proxy failover (member 2 stopped → HAProxy marks it DOWN)", downAt - stoppedAt, `${failed.length} failed queries before that, the last ${(lastFailure / 1000).toFixed(1)} s after the stop; ${after.filter((r) => r.ok).length} good queries after`);
    const lastOnM2 = Math.max(...loopResults().filter((r) => r.ok && r.text === m2.node).map((r) => r.end)) - stoppedAt;
    const reason = /Server galera\/coreos2 is DOWN, reason: ([^,]*, info: "[^"]*")/.exec(proxy.log())?.[1] ?? "?";
    // eslint-disable-next-line no-console
    console.log(`HAProxy: coreos2 DOWN (${reason}); the last query answered by member 2 ended ${(lastOnM2 / 1000).toFixed(1)} s after its SIGTERM`);
    expect(after.filter((r) => !r.ok)).toEqual([]);
    expect(after.filter((r) => r.ok).length).toBeGreaterThanOrEqual(10);
    expect(new Set(after.map((r) => r.text))).toEqual(new Set([m1.node, m3.node]));
  }, 240000);

  it("rejoins member 2 (IST or SST) with the rows written while it was down; the proxy takes it back without failed queries", async () => {
    const [m1, m2] = members;
    const failedBefore = loopResults().filter((r) => !r.ok).length;
    const writtenWhileDown = sql(m1, `SELECT COUNT(*) FROM ${galera.database}.t WHERE src = 'loop'`);
    const start = Date.now();
    const p = prestart(m2);
    expect(p.flag).toBe("");
    expect(p.log).toMatch(/members alive .*: joining/);
    const logOffset = fs.statSync(m2.log).size;
    startServer(m2, p.flag);
    await waitSynced(m2, "member 2 to rejoin (Synced)");
    const rejoinMs = Date.now() - start;
    const log = fs.readFileSync(m2.log, "utf8").slice(logOffset);
    const transfer = /Receiving IST: (\d+) writesets/.exec(log);
    figure("member 2 rejoin (prestart → Synced)", rejoinMs, transfer ? `IST of ${transfer[1]} writesets` : "by SST");
    startSidecar(m2);
    await waitFor(() => proxyEvent(/Server galera\/coreos2 is UP/), { what: "HAProxy to mark coreos2 UP again", timeoutMs: 60000, intervalMs: 100 });
    const upMs = Date.now() - start;
    await waitFor(() => loopResults().some((r) => r.ok && r.text === m2.node && r.start > start), { what: "the proxy to send queries to member 2 again", timeoutMs: 30000, intervalMs: 200 });
    await sleep(2000);
    fs.writeFileSync(loopStop(), "");
    await loop!.exited;
    const failedDuringRejoin = loopResults().filter((r) => !r.ok).slice(failedBefore);
    figure("member 2 back in the proxy (prestart → HAProxy UP)", upMs, `${failedDuringRejoin.length} failed queries during the rejoin`);
    expect(failedDuringRejoin).toEqual([]);
    // Every row, including those written while it was down, is on member 2.
    const count = (m: Member) => sql(m, `SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*), MAX(id) FROM ${galera.database}.t`);
    expect(count(m2)).toBe(count(m1));
    expect(Number(sql(m2, `SELECT COUNT(*) FROM ${galera.database}.t WHERE src = 'loop'`))).toBeGreaterThanOrEqual(Number(writtenWhileDown));
    expect(clusterSize(m2)).toBe(3);
    await Promise.all(members.map(waitPublished));
  }, 300000);

  // ------------------------------------------------------------------ the bootstrap rule

  it("restarts member 1 (the bootstrapper) while the others are alive: the rendered prestart joins, never --wsrep-new-cluster", async () => {
    const [m1, m2, m3] = members;
    // "Alive" is what etcd says: a donor withdraws its keys until it is Synced again.
    await Promise.all([m2, m3].map(waitPublished));
    await stopMember(m1);
    expect(publishedMembers().sort()).toEqual(["2", "3"]);
    expect(grastate(m1)).toMatch(/^safe_to_bootstrap: 0$/m);
    const p = prestart(m1);
    expect(p.flag).toBe("");
    expect(p.log).toMatch(/members alive \(.*\/members\/2\/ip.*\): joining/);
    const start = Date.now();
    startServer(m1, p.flag);
    await waitSynced(m1, "member 1 to rejoin (Synced)");
    figure("member 1 rejoin after a restart", Date.now() - start);
    expect(clusterSize(m1)).toBe(3);
    startSidecar(m1);
    await waitPublished(m1);
  }, 240000);

  it("after a full stop, the last member to leave (safe_to_bootstrap: 1) bootstraps again and the others join", async () => {
    const [m1, m2, m3] = members;
    // One at a time, so that member 1 is the last to leave.
    await stopMember(m3);
    await waitFor(() => clusterSize(m1) === 2, { what: "wsrep_cluster_size 2 after member 3 left", timeoutMs: 30000, intervalMs: 250 });
    await stopMember(m2);
    await waitFor(() => clusterSize(m1) === 1, { what: "wsrep_cluster_size 1 after member 2 left", timeoutMs: 30000, intervalMs: 250 });
    await stopMember(m1);
    expect(publishedMembers()).toEqual([]);
    expect(grastate(m1)).toMatch(/^safe_to_bootstrap: 1$/m);
    expect(grastate(m2)).toMatch(/^safe_to_bootstrap: 0$/m);
    expect(grastate(m3)).toMatch(/^safe_to_bootstrap: 0$/m);
    for (const m of [m2, m3]) {
      const p = prestart(m);
      expect(p.flag).toBe("");
      expect(p.log).toContain("did not leave the cluster last (safe_to_bootstrap: 0): joining");
    }
    // The bootstrap lock of the first bootstrap was released once the cluster existed (the
    // discovery sidecar removes it on its first publish), so it does not hold up a recovery.
    const lock = etcdctl(["get", `${GALERA_DEFAULTS.etcdPrefix}/bootstrap`]);
    expect(lock.status).not.toBe(0);
    // eslint-disable-next-line no-console
    console.log(`bootstrap lock after the full stop: ${lock.stdout.trim() || "none"} (${lock.stderr.trim()})`);

    const p1 = prestart(m1);
    expect(p1.flag).toBe("--wsrep-new-cluster");
    // eslint-disable-next-line no-console
    console.log(`prestart of member 1 after the full stop: ${p1.log}`);
    const start = Date.now();
    startServer(m1, p1.flag);
    await waitSynced(m1, "member 1 to bootstrap again");
    expect(status(m1, "wsrep_cluster_status")).toBe("Primary");
    startSidecar(m1);
    await waitPublished(m1);
    const p2 = prestart(m2);
    expect(p2.flag).toBe("");
    startServer(m2, p2.flag);
    await waitSynced(m2, "member 2 to join the re-bootstrapped member 1");
    figure("recovery after a full stop (member 1 bootstraps, member 2 joins)", Date.now() - start);
    expect(clusterSize(m1)).toBe(2);
    const rows = (m: Member) => sql(m, `SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*), MAX(id) FROM ${galera.database}.t`);
    expect(rows(m2)).toBe(rows(m1));
  }, 300000);

  it("measures what TLS costs on formation: the same 3 members formed again from empty data, without TLS", async () => {
    for (const m of [...members].reverse()) await stopMember(m);
    etcdctl(["rm", "--recursive", GALERA_DEFAULTS.etcdPrefix]);
    for (const m of members) {
      fs.rmSync(m.dataDir, { recursive: true, force: true });
      fs.rmSync(m.runDir, { recursive: true, force: true });
      writeNodeFiles(m, plainBundle);
    }
    expect(fs.readFileSync(confFile(members[0], "galera.cnf"), "utf8")).not.toMatch(/ssl/);
    const plainMs = (await formCluster()).ms;
    for (const m of [members[1], members[2]]) expect(fs.readFileSync(m.log, "utf8")).toMatch(/SSL configuration: .*MODE='DISABLED', encrypt='0'/);
    figure("cluster formation with TLS (prestart of member 1 → 3 members Synced)", formationMs);
    figure("cluster formation without TLS (same steps)", plainMs, `TLS costs ${((formationMs - plainMs) / 1000).toFixed(1)} s (${(((formationMs - plainMs) / plainMs) * 100).toFixed(0)} %) on this machine`);
  }, 400000);

  it("took a measured time overall", () => {
    figure("galera tier, total", Date.now() - t0, `formation ${(formationMs / 1000).toFixed(1)} s with TLS`);
  });
});
