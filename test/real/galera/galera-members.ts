/**
 * Real Galera members started from the rendered bundle, outside Docker: the harness of the
 * Galera tier (galera.test.ts, whose header explains every stand-in), shared with the security
 * probes (test/real/security/probes.test.ts).
 *
 * A member lives in a network namespace carrying its node's address; its files are written
 * the way NodeFiles writes them; galera@N's ExecStartPre is the rendered prestart script (env
 * file sourced, documented overrides), its ExecStart member-container.sh (`docker run` of the
 * unit, with the unit's `-e` pairs), galera-discovery@N the rendered discovery script. Where
 * the scripts find etcd is the caller's: `etcdEnv(member)` gives ETCD_ENDPOINT, ETCDCTL_API and,
 * for a TLS etcd, the node's ETCD_CA_FILE / ETCD_CERT_FILE / ETCD_KEY_FILE.
 *
 * API:
 *   galeraHarness(spec) → GaleraHarness
 *   h.newMember({id, node, ip, ns, tls, root})  its directories and my.cnf under root/m<id>
 *   h.writeNodeFiles(m, bundle?, caPem?, asNode?)  the node's config, scripts, password and TLS files
 *   h.confFile(m, name)     a bundle file's path in the member's conf dir
 *   h.sql(m, query, opts?)  SQL through the member's socket (root unless opts.user)
 *   h.status(m, name) / h.synced(m) / h.clusterSize(m)
 *   h.prestart(m, overrides?) → {flag, log, sstAuth}
 *   h.startServer(m, flag) / h.startSidecar(m) / h.waitSynced(m, what, timeoutMs?)
 *   h.stopSidecar(m) / h.stopServer(m) / h.stopMember(m)   async
 *   h.fail(what, detail)   an Error with every secret redacted
 */
import * as fs from "fs";
import * as path from "path";
import { DISCOVERY_SCRIPT, GALERA_DEFAULTS, GaleraBundle, PRESTART_SCRIPT, renderGaleraSecretFiles, renderGaleraTlsFiles } from "../../../components/services/galera-render";
import { renderNodeFilesStdin, renderNodeFilesWriteScript } from "../../../components/node/node-files-render";
import { KeyPairPem } from "../../../components/pki/x509";
import { Daemon, Netns, runOk, startDaemon, waitFor } from "../../support/real";
import { account, redact, tailFile } from "../../support/real-db";

const CONTAINER_SCRIPT = path.join(__dirname, "member-container.sh");

export interface GaleraPasswords {
  root: string;
  sst: string;
  app: string;
}

export interface Member {
  id: number;
  /** Node name: the host name (%H) and wsrep node name. */
  node: string;
  ip: string;
  ns: Netns;
  dir: string;
  /** Stands in for the node's /etc/xen-coreos/galera (NodeFiles' target). */
  conf: string;
  dataDir: string;
  runDir: string;
  socket: string;
  log: string;
  tls: KeyPairPem;
  server?: Daemon;
  sidecar?: Daemon;
}

export interface GaleraHarnessSpec {
  /** The rendered bundle (renderGaleraBundle): its unit gives the container's `-e` pairs and the sidecar's environment. */
  bundle: GaleraBundle;
  passwords: GaleraPasswords;
  /** The deployment CA's certificate, written as the nodes' ca.pem unless writeNodeFiles is told another. */
  caPem: string;
  /** Where the member's scripts find etcd (ETCD_ENDPOINT, ETCDCTL_API, the TLS files). */
  etcdEnv: (m: Member) => Record<string, string>;
}

export interface GaleraHarness {
  /** The unit's `-e NAME=value` pairs (names and container paths only). */
  unitEnv: Record<string, string>;
  /** The discovery unit's Environment= lines. */
  discoveryEnv: Record<string, string>;
  /** mysql's uid and gid on this machine (undefined without mariadb-server: every start then fails). */
  mysql: { uid: number; gid: number } | undefined;
  newMember(spec: { id: number; node: string; ip: string; ns: Netns; tls: KeyPairPem; root: string }): Member;
  writeNodeFiles(m: Member, b?: GaleraBundle, caPem?: string, asNode?: string): void;
  confFile(m: Member, name: string): string;
  sql(m: Member, query: string, opts?: { user?: string; password?: string; timeoutMs?: number }): string;
  status(m: Member, name: string): string;
  synced(m: Member): boolean;
  clusterSize(m: Member): number;
  prestart(m: Member, overrides?: { dataDir?: string; runDir?: string }): { flag: string; log: string; sstAuth: string };
  startServer(m: Member, flag: string): void;
  startSidecar(m: Member): void;
  waitSynced(m: Member, what: string, timeoutMs?: number): Promise<number>;
  stopSidecar(m: Member): Promise<void>;
  stopServer(m: Member): Promise<void>;
  stopMember(m: Member): Promise<void>;
  fail(what: string, detail: string): Error;
}

export function galeraHarness(spec: GaleraHarnessSpec): GaleraHarness {
  const { bundle, passwords } = spec;
  const secrets = Object.values(passwords);
  const secretFiles = renderGaleraSecretFiles({ rootPassword: passwords.root, sstPassword: passwords.sst, appPassword: passwords.app });
  const memberUnit = bundle.units.find((u) => u.name === "galera@.service");
  const discoveryUnit = bundle.units.find((u) => u.name === "galera-discovery@.service");
  if (!memberUnit || !discoveryUnit) throw new Error("the Galera bundle has no galera@.service or galera-discovery@.service");
  const unitEnv = Object.fromEntries([...memberUnit.text.matchAll(/ -e ([A-Z_]+)=(\S+)/g)].map((m) => [m[1], m[2]]));
  const discoveryEnv = Object.fromEntries([...discoveryUnit.text.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
  const found = account("mysql");
  const mysqlAccount = () => {
    if (!found) throw new Error("no mysql account on this machine (apt-get install mariadb-server)");
    return found;
  };

  const fail = (what: string, detail: string) => new Error(redact(`${what}\n${detail}`, secrets));

  const h: GaleraHarness = {
    unitEnv,
    discoveryEnv,
    mysql: found,

    newMember({ id, node, ip, ns, tls, root }) {
      const dir = path.join(root, `m${id}`);
      const m: Member = {
        id,
        node,
        ip,
        ns,
        dir,
        conf: path.join(dir, "etc-xen-coreos-galera"),
        dataDir: path.join(dir, "data"),
        runDir: path.join(dir, "run"),
        socket: path.join(dir, "run-mysqld", "mysqld.sock"),
        log: path.join(dir, "mariadbd.log"),
        tls,
      };
      const mysql = mysqlAccount();
      fs.mkdirSync(path.join(dir, "conf.d"), { recursive: true, mode: 0o755 });
      fs.chmodSync(dir, 0o755);
      for (const placeholder of ["60-galera.cnf", "99-sst-auth.cnf"]) fs.writeFileSync(path.join(dir, "conf.d", placeholder), "");
      for (const d of ["run-mysqld", "sst-log-archive", "tmp"]) {
        fs.mkdirSync(path.join(dir, d));
        fs.chownSync(path.join(dir, d), mysql.uid, mysql.gid);
      }
      fs.writeFileSync(
        path.join(dir, "my.cnf"),
        [
          "# Stands in for the mariadb:11.4 image's /etc/mysql/my.cnf: its 05-skipcache.cnf, this",
          "# member's paths (the image's are /var/lib/mysql and /run/mysqld), then conf.d, where the",
          "# unit's two volumes appear (bind mounts made by member-container.sh).",
          "[mariadb]",
          "host-cache-size=0",
          "skip-name-resolve",
          "[mysqld]",
          `datadir=${m.dataDir}`,
          `socket=${m.socket}`,
          `pid-file=${path.join(dir, "run-mysqld", "mysqld.pid")}`,
          `tmpdir=${path.join(dir, "tmp")}`,
          "[client]",
          `socket=${m.socket}`,
          "[sst]",
          `sst-log-archive-dir=${path.join(dir, "sst-log-archive")}`,
          `!includedir ${path.join(dir, "conf.d")}`,
          "",
        ].join("\n"),
      );
      return m;
    },

    /**
     * The node's Galera files written the way NodeFiles writes them (one set, each file checked
     * by sha256, then renamed into place), with /etc/xen-coreos/galera mapped to the member's
     * conf dir: the bundle's config and scripts, the password files, the TLS files.
     */
    writeNodeFiles(m, b = bundle, caPem = spec.caPem, asNode = m.node) {
      const files = [...b.nodeFiles[asNode], ...secretFiles, ...renderGaleraTlsFiles({ caPem, certPem: m.tls.certPem, keyPem: m.tls.keyPem })].map((f) => ({
        ...f,
        path: f.path.replace(GALERA_DEFAULTS.confDir, m.conf),
      }));
      runOk("sh", ["-c", renderNodeFilesWriteScript(`galera-${m.node}`, files.map((f) => f.path))], { input: renderNodeFilesStdin(files) });
    },

    confFile(m, name) {
      const f = Object.values(bundle.nodeFiles)[0]?.find((x) => x.path.endsWith(`/${name}`));
      if (!f) throw new Error(`the bundle has no ${name}`);
      return f.path.replace(GALERA_DEFAULTS.confDir, m.conf);
    },

    /** SQL through the member's socket as root (the root password from the env file). */
    sql(m, query, opts = {}) {
      const r = m.ns.exec("mariadb", ["--no-defaults", `--socket=${m.socket}`, "-u", opts.user ?? "root", "-N", "-B", "-e", query], {
        env: { MYSQL_PWD: opts.password ?? passwords.root },
        timeoutMs: opts.timeoutMs ?? 20000,
      });
      if (r.status !== 0) throw fail(`mariadb on ${m.node} failed: ${query}`, `${r.stdout}${r.stderr}`);
      return r.stdout.trim();
    },
    status(m, name) {
      return h.sql(m, `SHOW GLOBAL STATUS LIKE '${name}'`).split("\t")[1] ?? "";
    },
    synced(m) {
      try {
        return h.status(m, "wsrep_local_state") === "4";
      } catch {
        return false;
      }
    },
    clusterSize(m) {
      return Number(h.status(m, "wsrep_cluster_size"));
    },

    /** galera@N's ExecStartPre: the rendered prestart script, env file sourced; returns the flag and its log. */
    prestart(m, overrides = {}) {
      const runDir = overrides.runDir ?? m.runDir;
      const r = m.ns.exec("unshare", ["--uts", "sh", "-c", 'hostname "$1" && exec sh "$2" "$3"', "sh", m.node, h.confFile(m, PRESTART_SCRIPT), String(m.id)], {
        env: {
          SECRETS_DIR: path.join(m.conf, "secrets"),
          TLS_DIR: path.join(m.conf, "tls"),
          DATA_DIR: overrides.dataDir ?? m.dataDir,
          RUN_DIR: runDir,
          MYSQL_UID: String(mysqlAccount().uid),
          ...spec.etcdEnv(m),
        },
        timeoutMs: 60000,
      });
      if (r.status !== 0) throw fail(`prestart of galera@${m.id} exited ${r.status}`, r.stderr);
      const env = fs.readFileSync(path.join(runDir, String(m.id), "bootstrap.env"), "utf8");
      const flag = /^GALERA_NEW_CLUSTER=(.*)$/m.exec(env)?.[1] ?? "<missing>";
      return { flag, log: r.stderr.trim(), sstAuth: path.join(runDir, String(m.id), "sst-auth.cnf") };
    },

    /** galera@N's ExecStart: the member's "container" with the unit's arguments. */
    startServer(m, flag) {
      fs.appendFileSync(m.log, `\n==== start ${new Date().toISOString()} ${flag}\n`);
      m.server = startDaemon({
        name: `galera@${m.id}`,
        command: "unshare",
        args: [
          "--uts", "--mount", "--propagation", "private",
          "bash", CONTAINER_SCRIPT, m.node, m.dir, m.conf, path.join(m.runDir, String(m.id)), "--",
          `--wsrep-node-address=${m.ip}`, `--wsrep-node-name=${m.node}`, ...(flag ? [flag] : []),
        ],
        env: unitEnv,
        netns: m.ns.name,
        logFile: m.log,
      });
    },

    /** galera-discovery@N: the rendered discovery script with the unit's environment. */
    startSidecar(m) {
      m.sidecar = startDaemon({
        name: `galera-discovery@${m.id}`,
        command: "unshare",
        args: ["--uts", "sh", "-c", 'hostname "$1" && shift && exec "$@"', "sh", m.node, "sh", h.confFile(m, DISCOVERY_SCRIPT), "run", String(m.id)],
        netns: m.ns.name,
        env: {
          ...discoveryEnv,
          COREOS_PUBLIC_IPV4: m.ip,
          ...spec.etcdEnv(m),
          // As the rendered `docker exec galera-N mariadb --protocol=socket -u CHECK …`: the member's socket.
          GALERA_STATE_CMD: `mariadb --no-defaults --protocol=socket --socket=${m.socket} -u ${discoveryEnv.GALERA_CHECK_USER} -N -B -e "SHOW GLOBAL STATUS LIKE 'wsrep_local_state'"`,
        },
        logFile: path.join(m.dir, "discovery.log"),
      });
    },

    async waitSynced(m, what, timeoutMs = 240000) {
      const gone = () => m.server !== undefined && !m.server.alive();
      try {
        const ms = await waitFor(() => gone() || h.synced(m), { what, timeoutMs, intervalMs: 500 });
        if (gone()) throw new Error(`galera@${m.id} exited while waiting for ${what}`);
        return ms;
      } catch (e) {
        const errors = fs.readFileSync(m.log, "utf8").split("\n").filter((l) => /\[ERROR\]|got signal/.test(l)).slice(0, 10).join("\n");
        throw fail((e as Error).message, `--- ${m.node} log, errors:\n${errors}\n--- last lines:\n${tailFile(m.log, 40)}`);
      }
    },

    /** `fleetctl stop galera@N`: the sidecar first (BindsTo/After: ExecStop, then TERM), then `docker stop -t 110`. */
    async stopSidecar(m) {
      if (!m.sidecar?.alive()) return;
      m.ns.exec("sh", [h.confFile(m, DISCOVERY_SCRIPT), "stop", String(m.id)], { env: { ...discoveryEnv, ...spec.etcdEnv(m) } });
      await m.sidecar.stop({ timeoutMs: 10000 });
    },
    async stopServer(m) {
      if (m.server?.alive()) await m.server.stop({ timeoutMs: GALERA_DEFAULTS.stopTimeout * 1000 });
    },
    async stopMember(m) {
      await h.stopSidecar(m);
      await h.stopServer(m);
    },
    fail,
  };
  return h;
}
