import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import {
  renderDiscoveryScript,
  renderGalera,
  renderGaleraCnf,
  renderGaleraDiscoveryUnit,
  renderGaleraEnvFile,
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

  it("galera.cnf, haproxy.cfg, env file", () => {
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
        provider: "/usr/lib64/galera-4/libgalera_smm.so",
        providerOptions: ["gcache.size=512M"],
      }),
    );
    const members = nodes.map((n) => ({ ...n, port: 3306 }));
    expectGolden("services/galera/haproxy.cfg", renderHaproxyCfg({ members, listenPort: 3306, checkUser: "haproxy_check" }));
    expectGolden("services/galera/haproxy-first.cfg", renderHaproxyCfg({ members, listenPort: 3307, checkUser: "haproxy_check", balance: "first", inter: 1000, fall: 2, rise: 3, memberMaxconn: 300 }));
    const env = renderGaleraEnvFile({ rootPassword: "root pw $1", sstPassword: 'sst"pw#2', appPassword: "app-pw-3", appDatabase: "sites" });
    expect(env.mode).toBe(0o600);
    expectGolden("services/galera/galera.env", env.content);
  });

  it("scripts", () => {
    expectGolden("services/galera/galera-prestart.sh", renderPrestartScript());
    expectGolden("services/galera/galera-discovery.sh", renderDiscoveryScript());
    expectGolden("services/galera/10-xen-coreos-users.sh", renderInitdbScript());
  });
});

describe("galera: fixes of the thesis", () => {
  const unit = renderGaleraMemberUnit().text;
  it("one member per db node, the four Galera ports, an existing official image", () => {
    expect(renderGaleraMemberUnit().xFleet).toEqual({ machineMetadata: ["role=db"], conflicts: ["galera@*.service"] });
    for (const p of [3306, 4444, 4567, 4568]) expect(unit).toContain(` -p ${p}:${p} `);
    expect(unit).toContain(" mariadb:11.4 ");
    expect(unit).not.toContain("icclab");
  });
  it("keeps data on the node, outside the container and off NFS", () => {
    expect(unit).toContain(" -v /var/lib/xen-coreos/galera:/var/lib/mysql ");
    expect(unit).not.toMatch(/\/mnt\/nfs\S*:\/var\/lib\/mysql/);
  });
  it("takes credentials from the root-only env file by name only, and stops with docker stop", () => {
    expect(unit).toContain("EnvironmentFile=/etc/xen-coreos/galera.env\n");
    expect(unit).toContain(" -e MARIADB_ROOT_PASSWORD -e MARIADB_USER -e MARIADB_PASSWORD ");
    expect(unit).not.toMatch(/PASSWORD=/);
    expect(unit).toContain("ExecStop=/usr/bin/docker stop -t 110 galera-%i\n");
  });
  it("decides bootstrap in ExecStartPre and passes the flag as an optional word", () => {
    expect(unit).toMatch(/ExecStartPre=\/bin\/sh \/mnt\/nfs\/services\/scripts\/galera-prestart\.sh %i\nExecStart=/);
    expect(unit).toContain("EnvironmentFile=-/run/xen-coreos/galera/%i/bootstrap.env\n");
    expect(unit).toMatch(/ \$GALERA_NEW_CLUSTER\n/);
  });
  it("the discovery sidecar follows its member and has a real ExecStop", () => {
    const d = renderGaleraDiscoveryUnit();
    expect(d.xFleet).toEqual({ machineOf: "galera@%i.service" });
    expect(d.text).toContain("ExecStop=/bin/sh /mnt/nfs/services/scripts/galera-discovery.sh stop %i\n");
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
  it("renders the bundle: templates with instances, share files", () => {
    const b = renderGalera({ clusterName: "prod", nodes, proxy: { listenPort: 3306, machineMetadata: ["role=web"] } });
    expect(b.units.map((u) => [u.name, u.instances])).toEqual([
      ["galera@.service", ["galera@1.service", "galera@2.service", "galera@3.service"]],
      ["galera-discovery@.service", ["galera-discovery@1.service", "galera-discovery@2.service", "galera-discovery@3.service"]],
      ["galera-proxy.service", undefined],
    ]);
    expect(b.files.map((f) => f.path)).toEqual([
      "/mnt/nfs/services/galera/galera.cnf",
      "/mnt/nfs/services/galera/initdb.d/10-xen-coreos-users.sh",
      "/mnt/nfs/services/galera/haproxy/haproxy.cfg",
      "/mnt/nfs/services/scripts/galera-prestart.sh",
      "/mnt/nfs/services/scripts/galera-discovery.sh",
    ]);
  });
});

describe("galera: validation", () => {
  const ok = { rootPassword: "r", sstPassword: "s", appPassword: "a" };
  it("rejects passwords the env file cannot hold", () => {
    expect(() => renderGaleraEnvFile({ ...ok, rootPassword: "" })).toThrow(/rootPassword is empty/);
    expect(() => renderGaleraEnvFile({ ...ok, sstPassword: "a\nb" })).toThrow(/sstPassword contains a newline/);
    expect(() => renderGaleraEnvFile({ ...ok, appPassword: "it's" })).toThrow(/appPassword contains ' or \\, which systemd's EnvironmentFile= and sh read differently/);
    expect(() => renderGaleraEnvFile({ ...ok, appPassword: "a\\b" })).toThrow(/contains ' or \\/);
    expect(() => renderGaleraEnvFile({ ...ok, sstUser: "sst:user" })).toThrow(/sstUser "sst:user" must be 1-32 characters of \[A-Za-z0-9_\]/);
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

describe("galera-prestart.sh: SST credential and bootstrap decision", () => {
  let sb: Sandbox;
  let script: string;
  const prefix = "/xen-coreos/galera";
  const env = (extra: Record<string, string> = {}) =>
    scriptEnv(sb, {
      GALERA_SST_USER: "mariabackup",
      GALERA_SST_PASSWORD: 'p"w#x\\y',
      RUN_DIR: path.join(sb.dir, "run"),
      DATA_DIR: path.join(sb.dir, "data"),
      MYSQL_UID: String(process.getuid ? process.getuid() : 0),
      ...extra,
    });
  const decision = (member = "1") => fs.readFileSync(path.join(sb.dir, "run", member, "bootstrap.env"), "utf8");
  beforeEach(() => {
    sb = sandbox("prestart");
    script = sb.file("galera-prestart.sh", renderPrestartScript());
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

  it("refuses a missing credential or a bad member name", () => {
    const e = env();
    delete e.GALERA_SST_PASSWORD;
    expect(runScript(script, ["1"], e).stderr).toMatch(/GALERA_SST_PASSWORD is not set/);
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
  it("creates the SST and check users with SQL-escaped values", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xc-initdb-"));
    const script = path.join(dir, "init.sh");
    fs.writeFileSync(script, renderInitdbScript());
    const driver = `docker_process_sql() { cat; }\n. ${script}\n`;
    const r = spawnSync("sh", ["-c", driver], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, GALERA_SST_USER: "mariabackup", GALERA_SST_PASSWORD: "it's a \\ test", GALERA_CHECK_USER: "haproxy_check" },
    });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      [
        "CREATE USER IF NOT EXISTS 'mariabackup'@'localhost' IDENTIFIED BY 'it''s a \\\\ test';",
        "GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO 'mariabackup'@'localhost';",
        "CREATE USER IF NOT EXISTS 'haproxy_check'@'%';",
        "",
      ].join("\n"),
    );
  });
});
