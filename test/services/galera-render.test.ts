import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import {
  renderDiscoveryScript,
  renderGalera,
  renderGaleraCnf,
  renderGaleraDiscoveryUnit,
  renderGaleraSecretFiles,
  renderGaleraTlsFiles,
  renderGaleraMemberUnit,
  renderHaproxyCfg,
  renderHaproxyUnit,
  renderInitdbScript,
  renderPrestartScript,
} from "../../components/services/galera-render";
import { expectGolden } from "../golden";
import { have, killStarted, runScript, sandbox, scriptEnv, startScript, terminate, waitFor, Sandbox } from "./support";

const nodes = [
  { name: "db1", address: "10.50.0.21" },
  { name: "db2", address: "10.50.0.22" },
  { name: "db3", address: "10.50.0.23" },
];

describe("galera: rendered units and files (golden)", () => {
  it("member and discovery templates, proxy unit", () => {
    expectGolden("services/galera/galera@.service", renderGaleraMemberUnit().text);
    expectGolden("services/galera/galera-discovery@.service", renderGaleraDiscoveryUnit().text);
    expectGolden("services/galera/galera-proxy.service", renderHaproxyUnit({ listenPort: 3306, machineMetadata: ["role=web"] }).text);
  });

  it("galera.cnf, haproxy.cfg", () => {
    expectGolden(
      "services/galera/galera.cnf",
      renderGaleraCnf({ clusterName: "xen-coreos", clusterAddresses: nodes.map((n) => n.address), sstMethod: "mariabackup", sstUser: "mariabackup" }),
    );
    expectGolden(
      "services/galera/galera-node-rsync.cnf",
      renderGaleraCnf({
        clusterName: "lab",
        clusterAddresses: ["coreos1", "coreos2:4567", "coreos3"],
        nodeAddress: "10.50.0.21",
        nodeName: "coreos1",
        sstMethod: "rsync",
        tls: false,
        provider: "/usr/lib64/galera-4/libgalera_smm.so",
        providerOptions: ["gcache.size=512M"],
      }),
    );
    const members = nodes.map((n) => ({ ...n, port: 3306 }));
    expectGolden("services/galera/haproxy.cfg", renderHaproxyCfg({ members, listenPort: 3306, checkUser: "haproxy_check" }));
    expectGolden("services/galera/haproxy-first.cfg", renderHaproxyCfg({ members, listenPort: 3307, checkUser: "haproxy_check", balance: "first", inter: 1000, fall: 2, rise: 3, memberMaxconn: 300 }));
    expectGolden("services/galera/haproxy-node.cfg", renderHaproxyCfg({ members, listenPort: 3307, checkUser: "haproxy_check", nodeAddress: "10.50.0.21" }));
  });

  it("scripts", () => {
    expectGolden("services/galera/galera-prestart.sh", renderPrestartScript());
    expectGolden("services/galera/galera-discovery.sh", renderDiscoveryScript());
    expectGolden("services/galera/10-xen-coreos-users.sh", renderInitdbScript({ checkHosts: nodes.map((n) => n.address) }));
  });
});

describe("galera: fixes of the thesis", () => {
  const unit = renderGaleraMemberUnit().text;
  it("one member per db node, the four Galera ports on the node's address only, an existing official image", () => {
    expect(renderGaleraMemberUnit().xFleet).toEqual({ machineMetadata: ["role=db"], conflicts: ["galera@*.service"] });
    for (const p of [3306, 4444, 4567, 4568]) expect(unit).toContain(` -p \${COREOS_PUBLIC_IPV4}:${p}:${p} `);
    expect(unit).not.toMatch(/ -p [0-9]/);
    expect(unit).toContain(" mariadb:11.4 ");
    expect(unit).not.toContain("icclab");
  });
  it("keeps data on the node, outside the container and off NFS", () => {
    expect(unit).toContain(" -v /var/lib/xen-coreos/galera:/var/lib/mysql ");
    expect(unit).not.toMatch(/\/mnt\/nfs\S*:\/var\/lib\/mysql/);
  });
  it("passes passwords as file paths only (no -e NAME copying a value), root from localhost only, and stops with docker stop", () => {
    expect(unit).not.toContain("galera.env");
    expect(unit).toContain(" -e MARIADB_ROOT_HOST=localhost -e MARIADB_ROOT_PASSWORD_FILE=/etc/mysql/xen-coreos/secrets/root-password ");
    expect(unit).toContain(" -e MARIADB_PASSWORD_FILE=/etc/mysql/xen-coreos/secrets/app-password ");
    expect(unit).toContain(" -v /run/xen-coreos/galera/%i/secrets:/etc/mysql/xen-coreos/secrets:ro ");
    // every -e carries NAME=value, and no value is a password
    const envWords = [...unit.matchAll(/ -e (\S+)/g)].map((m) => m[1]);
    expect(envWords.length).toBeGreaterThan(3);
    for (const w of envWords) expect(w).toMatch(/^[A-Z_]+=(localhost|app|\/etc\/mysql\/xen-coreos\/secrets\/[a-z-]+)$/);
    expect(unit).not.toMatch(/PASSWORD=/);
    expect(unit).toContain("ExecStop=/usr/bin/docker stop -t 110 galera-%i\n");
  });
  it("decides bootstrap in ExecStartPre and passes the flag as an optional word", () => {
    expect(unit).toMatch(/ExecStartPre=\/bin\/sh \/etc\/xen-coreos\/galera\/scripts\/galera-prestart\.sh %i\nExecStart=/);
    expect(unit).toContain("EnvironmentFile=-/run/xen-coreos/galera/%i/bootstrap.env\n");
    expect(unit).toMatch(/ \$GALERA_NEW_CLUSTER\n/);
  });
  it("the discovery sidecar follows its member and has a real ExecStop", () => {
    const d = renderGaleraDiscoveryUnit();
    expect(d.xFleet).toEqual({ machineOf: "galera@%i.service" });
    expect(d.text).toContain("ExecStop=/bin/sh /etc/xen-coreos/galera/scripts/galera-discovery.sh stop %i\n");
  });
  it("galera.cnf has the Galera requirements and no credential", () => {
    const cnf = renderGaleraCnf({ clusterName: "c", clusterAddresses: ["10.0.0.1", "10.0.0.2"], sstMethod: "mariabackup" });
    for (const line of [
      "wsrep_on=ON",
      "wsrep_provider=/usr/lib/galera/libgalera_smm.so",
      "wsrep_cluster_address=gcomm://10.0.0.1,10.0.0.2",
      "wsrep_sst_method=mariabackup",
      "binlog_format=ROW",
      "default_storage_engine=InnoDB",
      "innodb_autoinc_lock_mode=2",
      "bind-address=0.0.0.0",
    ]) {
      expect(cnf.split("\n")).toContain(line);
    }
    expect(cnf).not.toMatch(/^wsrep_sst_auth/m);
  });
  it("galera.cnf speaks TLS by default: replication and IST (socket.ssl_*), SST (ssl-mode=VERIFY_CA), clients (ssl-*)", () => {
    const cnf = renderGaleraCnf({ clusterName: "c", clusterAddresses: ["10.0.0.1"], sstMethod: "mariabackup" });
    const options = /^wsrep_provider_options="(.*)"$/m.exec(cnf)![1].split(";");
    expect(options).toEqual(expect.arrayContaining([
      "socket.ssl_key=/etc/mysql/xen-coreos/tls/key.pem",
      "socket.ssl_cert=/etc/mysql/xen-coreos/tls/cert.pem",
      "socket.ssl_ca=/etc/mysql/xen-coreos/tls/ca.pem",
      "socket.dynamic=false",
    ]));
    expect(cnf).toMatch(/\[mysqld\][^[]*\nssl-ca=\/etc\/mysql\/xen-coreos\/tls\/ca\.pem\nssl-cert=.*\nssl-key=/);
    expect(cnf).toMatch(/\[sst\][^[]*\nssl-mode=VERIFY_CA\n/);
    const plain = renderGaleraCnf({ clusterName: "c", clusterAddresses: ["10.0.0.1"], sstMethod: "mariabackup", tls: false });
    expect(plain).not.toMatch(/ssl/);
  });
  it("HAProxy runs in the node's network, listens on the node's address and checks from it", () => {
    const u = renderHaproxyUnit({ listenPort: 3307 }).text;
    expect(u).toContain(" --network host ");
    expect(u).not.toContain(" -p ");
    const cfg = renderHaproxyCfg({ members: nodes.map((n) => ({ ...n, port: 3306 })), listenPort: 3307, checkUser: "c", nodeAddress: "10.50.0.22" });
    expect(cfg).toContain("\n    bind 10.50.0.22:3307\n");
    expect(cfg).toContain("\n    source 10.50.0.22\n");
  });
  it("refuses rsync SST with TLS (the image has no stunnel), naming the setting", () => {
    expect(() => renderGalera({ clusterName: "c", nodes, sstMethod: "rsync", proxy: { listenPort: 3307 } })).toThrow(/xen-coreos:services\.galera\.sstMethod/);
    expect(() => renderGalera({ clusterName: "c", nodes, sstMethod: "rsync", tls: false, proxy: { listenPort: 3307 } })).not.toThrow();
  });
  it("renders the bundle: templates with instances, nothing on the share, each db node's own files", () => {
    const b = renderGalera({ clusterName: "prod", nodes, proxy: { listenPort: 3306, machineMetadata: ["role=web"] } });
    expect(b.units.map((u) => [u.name, u.instances])).toEqual([
      ["galera@.service", ["galera@1.service", "galera@2.service", "galera@3.service"]],
      ["galera-discovery@.service", ["galera-discovery@1.service", "galera-discovery@2.service", "galera-discovery@3.service"]],
      ["galera-proxy.service", undefined],
    ]);
    expect(b.files).toEqual([]);
    expect(Object.keys(b.nodeFiles)).toEqual(["db1", "db2", "db3"]);
    expect(b.nodeFiles.db2.map((f) => [f.path, f.mode])).toEqual([
      ["/etc/xen-coreos/galera/galera.cnf", 0o644],
      ["/etc/xen-coreos/galera/initdb.d/10-xen-coreos-users.sh", 0o644],
      ["/etc/xen-coreos/galera/haproxy/haproxy.cfg", 0o644],
      ["/etc/xen-coreos/galera/scripts/galera-prestart.sh", 0o755],
      ["/etc/xen-coreos/galera/scripts/galera-discovery.sh", 0o755],
    ]);
    expect(b.nodeFiles.db2[2].content).toContain("bind 10.50.0.22:3306");
  });
});

describe("galera: validation", () => {
  const ok = { rootPassword: "r", sstPassword: "s", appPassword: "a" };
  it("password files: root-only, one line each; refuses what a one-line file cannot hold", () => {
    const files = renderGaleraSecretFiles({ ...ok, appPassword: "it's \\ fine" });
    expect(files).toStrictEqual([
      { path: "/etc/xen-coreos/galera/secrets/root-password", content: "r\n", mode: 0o600 },
      { path: "/etc/xen-coreos/galera/secrets/app-password", content: "it's \\ fine\n", mode: 0o600 },
      { path: "/etc/xen-coreos/galera/secrets/sst-password", content: "s\n", mode: 0o600 },
    ]);
    expect(() => renderGaleraSecretFiles({ ...ok, rootPassword: "" })).toThrow(/rootPassword is empty/);
    expect(() => renderGaleraSecretFiles({ ...ok, sstPassword: "a\nb" })).toThrow(/sstPassword contains a newline/);
  });
  it("TLS files: the key 0600, certificates 0644, PEM only", () => {
    const pem = { caPem: "-----BEGIN CERTIFICATE-----\nca\n", certPem: "-----BEGIN CERTIFICATE-----\nc", keyPem: "-----BEGIN RSA PRIVATE KEY-----\nk\n" };
    expect(renderGaleraTlsFiles(pem).map((f) => [f.path, f.mode])).toEqual([
      ["/etc/xen-coreos/galera/tls/ca.pem", 0o644],
      ["/etc/xen-coreos/galera/tls/cert.pem", 0o644],
      ["/etc/xen-coreos/galera/tls/key.pem", 0o600],
    ]);
    expect(() => renderGaleraTlsFiles({ ...pem, keyPem: "nope" })).toThrow(/the node key is not PEM text/);
  });
  it("rejects bad cnf input", () => {
    const base = { clusterName: "c", clusterAddresses: ["10.0.0.1"], sstMethod: "rsync" as const };
    expect(() => renderGaleraCnf({ ...base, clusterName: "bad name" })).toThrow(/clusterName "bad name"/);
    expect(() => renderGaleraCnf({ ...base, clusterAddresses: [] })).toThrow(/clusterAddresses is empty/);
    expect(() => renderGaleraCnf({ ...base, clusterAddresses: ["10.0.0.1", "10.0.0.1"] })).toThrow(/duplicates/);
    expect(() => renderGaleraCnf({ ...base, clusterAddresses: ["10.0.0.1;x"] })).toThrow(/cluster address "10.0.0.1;x"/);
    expect(() => renderGaleraCnf({ ...base, sstMethod: "xtrabackup" as never })).toThrow(/sstMethod "xtrabackup" must be "mariabackup" or "rsync"/);
    expect(() => renderGaleraCnf({ ...base, providerOptions: ["gcache.size=1G; evil"] })).toThrow(/provider option/);
  });
  it("rejects bad haproxy input and member counts", () => {
    const m = [{ name: "db1", address: "10.0.0.1", port: 3306 }];
    expect(() => renderHaproxyCfg({ members: [], listenPort: 3306, checkUser: "c" })).toThrow(/members is empty/);
    expect(() => renderHaproxyCfg({ members: [...m, ...m], listenPort: 3306, checkUser: "c" })).toThrow(/"db1" is listed twice/);
    expect(() => renderHaproxyCfg({ members: [{ ...m[0], address: "10.0.0.1:3306" }], listenPort: 3306, checkUser: "c" })).toThrow(/must not carry a port/);
    expect(() => renderHaproxyCfg({ members: m, listenPort: 70000, checkUser: "c" })).toThrow(/listenPort 70000/);
    expect(() => renderHaproxyCfg({ members: m, listenPort: 3306, checkUser: "c", balance: "roundrobin" as never })).toThrow(/balance "roundrobin"/);
    expect(() => renderHaproxyCfg({ members: m, listenPort: 3306, checkUser: "c", fall: 0 })).toThrow(/fall 0/);
    expect(() => renderGalera({ clusterName: "c", nodes, members: 4, proxy: { listenPort: 3306 } })).toThrow(/members 4 exceeds the 3 db nodes/);
    expect(() => renderGaleraDiscoveryUnit({ interval: 10, ttl: 31 })).toThrow(/discovery ttl 31/);
  });
});

const haproxyOk = have("haproxy");
(haproxyOk ? describe : describe.skip)("haproxy -c accepts haproxy.cfg (local haproxy)", () => {
  if (!haproxyOk) console.log("skipping haproxy -c: haproxy is not installed (apt-get install -y haproxy)");
  it.each(["leastconn", "first"] as const)("balance %s", (balance) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-haproxy-"));
    const cfg = path.join(dir, "haproxy.cfg");
    fs.writeFileSync(cfg, renderHaproxyCfg({ members: nodes.map((n) => ({ ...n, port: 3306 })), listenPort: 3306, checkUser: "haproxy_check", balance }));
    const r = spawnSync("haproxy", ["-c", "-f", cfg], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/ALERT|WARNING/);
    expect(r.status).toBe(0);
  });
});

describe("galera-prestart.sh: staged TLS and password files, SST credential, bootstrap decision", () => {
  let sb: Sandbox;
  let script: string;
  const prefix = "/xen-coreos/galera";
  const env = (extra: Record<string, string> = {}) =>
    scriptEnv(sb, {
      SECRETS_DIR: path.join(sb.dir, "secrets"),
      TLS_DIR: path.join(sb.dir, "tls"),
      RUN_DIR: path.join(sb.dir, "run"),
      DATA_DIR: path.join(sb.dir, "data"),
      MYSQL_UID: String(process.getuid ? process.getuid() : 0),
      ...extra,
    });
  const decision = (member = "1") => fs.readFileSync(path.join(sb.dir, "run", member, "bootstrap.env"), "utf8");
  beforeEach(() => {
    sb = sandbox("prestart");
    script = sb.file("galera-prestart.sh", renderPrestartScript());
    for (const f of renderGaleraSecretFiles({ rootPassword: "root-pw", appPassword: "app-pw", sstPassword: 'p"w#x\\y' })) sb.file(`secrets/${path.basename(f.path)}`, f.content);
    for (const f of ["ca.pem", "cert.pem", "key.pem"]) sb.file(`tls/${f}`, `pem ${f}\n`);
  });
  afterEach(() => {
    killStarted();
    sb.cleanup();
  });

  it("writes the SST credential as a 0400 option file, escaped, and never on a command line", () => {
    const r = runScript(script, ["1"], env());
    expect(r.status).toBe(0);
    const auth = path.join(sb.dir, "run", "1", "sst-auth.cnf");
    expect(fs.readFileSync(auth, "utf8")).toBe('[mariadb]\nwsrep_sst_auth="mariabackup:p\\"w#x\\\\y"\n');
    expect(fs.statSync(auth).mode & 0o777).toBe(0o400);
    expect(fs.readFileSync(sb.etcdLog, "utf8")).not.toContain("p\"w");
    expect(r.stderr).not.toContain("p\"w");
  });

  it("stages the TLS files and, for a first start only, the password files (0400, in a 0500 dir)", () => {
    const run = path.join(sb.dir, "run", "1");
    expect(runScript(script, ["1"], env()).status).toBe(0);
    expect(fs.readFileSync(path.join(run, "tls", "key.pem"), "utf8")).toBe("pem key.pem\n");
    expect(fs.readFileSync(path.join(run, "secrets", "root-password"), "utf8")).toBe("root-pw\n");
    for (const f of ["tls/ca.pem", "tls/cert.pem", "tls/key.pem", "secrets/root-password", "secrets/app-password", "secrets/sst-password"]) {
      expect([f, fs.statSync(path.join(run, f)).mode & 0o777]).toEqual([f, 0o400]);
    }
    expect(fs.statSync(path.join(run, "secrets")).mode & 0o777).toBe(0o500);
    // Initialised data dir: the image needs no password, so none is staged.
    fs.mkdirSync(path.join(sb.dir, "data", "mysql"), { recursive: true });
    expect(runScript(script, ["1"], env()).status).toBe(0);
    for (const f of ["root-password", "app-password", "sst-password"]) expect(fs.readFileSync(path.join(run, "secrets", f), "utf8")).toBe("");
    expect(fs.readFileSync(path.join(run, "tls", "cert.pem"), "utf8")).toBe("pem cert.pem\n");
  });

  it("first member of a new cluster: takes the lock and bootstraps", () => {
    expect(runScript(script, ["1"], env()).status).toBe(0);
    expect(decision()).toBe("GALERA_NEW_CLUSTER=--wsrep-new-cluster\n");
    expect(sb.key(`${prefix}/bootstrap`)).toMatch(/^1@/);
    expect(fs.readFileSync(sb.etcdLog, "utf8")).toMatch(/mk --ttl 600 \/xen-coreos\/galera\/bootstrap/);
  });

  it("a second fresh member while the lock is held: joins", () => {
    runScript(script, ["1"], env());
    const r = runScript(script, ["2"], env({ DATA_DIR: path.join(sb.dir, "data2") }));
    expect(r.status).toBe(0);
    expect(decision("2")).toBe("GALERA_NEW_CLUSTER=\n");
    expect(r.stderr).toMatch(/another member holds the bootstrap lock: joining/);
  });

  it("a member restarting while it holds the lock bootstraps again", () => {
    runScript(script, ["1"], env());
    fs.rmSync(path.join(sb.dir, "run", "1", "bootstrap.env"));
    const r = runScript(script, ["1"], env());
    expect(decision()).toBe("GALERA_NEW_CLUSTER=--wsrep-new-cluster\n");
    expect(r.stderr).toMatch(/already holds the bootstrap lock \(restart\)/);
  });

  it("joins when another member is published, even with safe_to_bootstrap: 1", () => {
    sb.setKey(`${prefix}/members/2/ip`, "10.50.0.22");
    sb.file("data/grastate.dat", "# GALERA saved state\nversion: 2.1\nsafe_to_bootstrap: 1\n");
    const r = runScript(script, ["1"], env());
    expect(decision()).toBe("GALERA_NEW_CLUSTER=\n");
    expect(r.stderr).toMatch(/members alive \(\/xen-coreos\/galera\/members\/2\/ip\): joining/);
  });

  it("ignores its own stale keys when counting live members", () => {
    sb.setKey(`${prefix}/members/1/ip`, "10.50.0.21");
    expect(runScript(script, ["1"], env()).status).toBe(0);
    expect(decision()).toBe("GALERA_NEW_CLUSTER=--wsrep-new-cluster\n");
  });

  it("bootstraps from safe_to_bootstrap: 1 and never from safe_to_bootstrap: 0", () => {
    sb.setKey(`${prefix}/initialized`, "yes");
    sb.file("data/grastate.dat", "safe_to_bootstrap: 0\n");
    let r = runScript(script, ["1"], env());
    expect(decision()).toBe("GALERA_NEW_CLUSTER=\n");
    expect(r.stderr).toMatch(/did not leave the cluster last/);
    sb.file("data/grastate.dat", "safe_to_bootstrap: 1\n");
    r = runScript(script, ["1"], env());
    expect(decision()).toBe("GALERA_NEW_CLUSTER=--wsrep-new-cluster\n");
  });

  it("never bootstraps an empty data dir once a cluster existed", () => {
    sb.setKey(`${prefix}/initialized`, "first synced member: 1@db1");
    const r = runScript(script, ["3"], env());
    expect(decision("3")).toBe("GALERA_NEW_CLUSTER=\n");
    expect(r.stderr).toMatch(/never bootstrapping empty data/);
    expect(sb.key(`${prefix}/bootstrap`)).toBeUndefined();
  });

  it("fails, instead of guessing, when etcd cannot be read", () => {
    const r = runScript(script, ["1"], env({ FAKE_ETCD_DOWN: "1" }));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot read \/xen-coreos\/galera\/members from etcd/);
    expect(fs.existsSync(path.join(sb.dir, "run", "1", "bootstrap.env"))).toBe(false);
  });

  it("refuses a missing password file, a missing certificate or a bad member name", () => {
    fs.rmSync(path.join(sb.dir, "secrets", "sst-password"));
    expect(runScript(script, ["1"], env()).stderr).toMatch(/secrets\/sst-password is missing or empty \(written by pulumi up/);
    sb.file("secrets/sst-password", "x\n");
    fs.rmSync(path.join(sb.dir, "tls", "key.pem"));
    expect(runScript(script, ["1"], env()).stderr).toMatch(/tls\/key\.pem is missing or empty/);
    expect(runScript(script, ["1;x"], env()).stderr).toMatch(/usage: .* MEMBER/);
  });
});

describe("galera-discovery.sh", () => {
  let sb: Sandbox;
  let script: string;
  const dir = "/xen-coreos/galera/members/2";
  const env = (state: number) =>
    scriptEnv(sb, { GALERA_STATE_CMD: `printf 'wsrep_local_state\\t${state}\\n'`, COREOS_PUBLIC_IPV4: "10.50.0.22", DISCOVERY_INTERVAL: "1", DISCOVERY_TTL: "3" });
  beforeEach(() => {
    sb = sandbox("discovery");
    script = sb.file("galera-discovery.sh", renderDiscoveryScript());
  });
  afterEach(() => {
    killStarted();
    sb.cleanup();
  });

  it("publishes host, ip and port with a TTL while Synced, marks the cluster initialized, cleans up on SIGTERM", async () => {
    const child = startScript(script, ["run", "2"], env(4));
    expect(await waitFor(() => sb.key(`${dir}/port`) === "3306" && sb.key("/xen-coreos/galera/initialized") !== undefined)).toBe(true);
    expect(sb.key(`${dir}/ip`)).toBe("10.50.0.22");
    expect(sb.key(`${dir}/host`)).toBe(os.hostname());
    expect(sb.key("/xen-coreos/galera/initialized")).toMatch(/first synced member: 2@/);
    expect(fs.readFileSync(sb.etcdLog, "utf8")).toContain(`set --ttl 3 ${dir}/ip 10.50.0.22`);
    expect(await terminate(child)).toBe(0);
    expect(fs.existsSync(path.join(sb.etcdDir, dir))).toBe(false);
  });

  it("keeps a donor (state 2, serving an SST/IST) published", async () => {
    const child = startScript(script, ["run", "2"], env(2));
    expect(await waitFor(() => sb.key(`${dir}/ip`) === "10.50.0.22")).toBe(true);
    expect(await terminate(child)).toBe(0);
  });

  it("does not publish a member that is neither Synced nor a donor, and stop removes stale keys", async () => {
    // 1 = Joining: still catching up, not a member clients or joiners should use.
    const child = startScript(script, ["run", "2"], env(1));
    await new Promise((r) => setTimeout(r, 1200));
    expect(sb.key(`${dir}/ip`)).toBeUndefined();
    await terminate(child);
    sb.setKey(`${dir}/ip`, "10.50.0.22");
    expect(runScript(script, ["stop", "2"], env(4)).status).toBe(0);
    expect(sb.key(`${dir}/ip`)).toBeUndefined();
  });
});

describe("10-xen-coreos-users.sh (sourced by the mariadb entrypoint)", () => {
  const run = (script: string, env: Record<string, string>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-initdb-"));
    const file = path.join(dir, "init.sh");
    fs.writeFileSync(file, script);
    fs.writeFileSync(path.join(dir, "sst"), "it's a \\ test\n");
    // The entrypoint's docker_process_sql reads SQL on stdin; after sourcing, print what is left set.
    const driver = `docker_process_sql() { cat; }\n. ${file}\necho "left: \${MARIADB_ROOT_PASSWORD:-}\${MARIADB_PASSWORD:-}\${xc_sst_password:-}"\n`;
    const r = spawnSync("sh", ["-c", driver], { encoding: "utf8", env: { PATH: process.env.PATH, GALERA_SST_PASSWORD_FILE: path.join(dir, "sst"), MARIADB_ROOT_PASSWORD: "rootpw", MARIADB_PASSWORD: "apppw", ...env } });
    fs.rmSync(dir, { recursive: true, force: true });
    return r;
  };
  it("creates the SST user locally, the check user for localhost and the db nodes only, requires TLS of the app user, and leaves no password set", () => {
    const r = run(renderInitdbScript({ checkHosts: ["10.50.0.21", "10.50.0.22"], appUser: "shop" }), {});
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      [
        "DROP USER IF EXISTS 'root'@'%';",
        "CREATE USER IF NOT EXISTS 'mariabackup'@'localhost' IDENTIFIED BY 'it''s a \\\\ test';",
        "GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO 'mariabackup'@'localhost';",
        "CREATE USER IF NOT EXISTS 'haproxy_check'@'localhost';",
        "CREATE USER IF NOT EXISTS 'haproxy_check'@'10.50.0.21';",
        "CREATE USER IF NOT EXISTS 'haproxy_check'@'10.50.0.22';",
        "ALTER USER IF EXISTS 'shop'@'%' REQUIRE SSL;",
        "left: ",
        "",
      ].join("\n"),
    );
    expect(r.stdout).not.toMatch(/'%'.*(haproxy_check|mariabackup)|(haproxy_check|mariabackup).*'%'/);
  });
  it("fails the first start without the SST password file", () => {
    const r = run(renderInitdbScript({ checkHosts: ["10.50.0.21"] }), { GALERA_SST_PASSWORD_FILE: "/nonexistent" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/GALERA_SST_PASSWORD_FILE is not a readable password file/);
    expect(() => renderInitdbScript({ checkHosts: [] })).toThrow(/checkHosts is empty/);
  });
});
