/**
 * MariaDB Galera cluster (Galera 4; thesis §10.5.2), fixed:
 * - official image `mariadb:11.4` (the thesis's image no longer exists);
 * - member data on a node-local persistent path (`/var/lib/xen-coreos/galera`), not in
 *   the container and not on NFS;
 * - secure by default (issue 12): replication (gcomm, IST) over TLS with the deployment CA
 *   (`socket.ssl_*`: galera-4 always verifies the peer and fails without a peer certificate,
 *   so a node without a certificate of this CA cannot join), SST over TLS (`[sst]
 *   ssl-mode=VERIFY_CA`: the SST scripts' socat checks both ends against the CA), and TLS
 *   on 3306 with `REQUIRE SSL` for the one remote account with privileges (the app user);
 * - ports published on the node's address only (`-p ${COREOS_PUBLIC_IPV4}:PORT:PORT`);
 * - `root` only from localhost (the image's `MARIADB_ROOT_HOST=localhost`); the SST user
 *   local only; the health-check user without password (HAProxy's mysql-check sends none)
 *   and without privileges, from the db nodes' addresses (where HAProxy runs) and localhost;
 * - no password in any unit, command line or container configuration: the passwords are
 *   root-only files (0600) under `/etc/xen-coreos/galera/secrets/` written by NodeFiles; the
 *   ExecStartPre stages them (mysql-owned, 0400, tmpfs) for the image's `*_FILE` variables,
 *   which hold only paths, and only while the data dir is uninitialised (the only time the
 *   image needs them); the SST credential goes into `/run/xen-coreos/galera/<i>/sst-auth.cnf`
 *   (tmpfs, 0400, mysql-owned), mounted as `/etc/mysql/conf.d/99-sst-auth.cnf`;
 * - nothing root runs or reads as config comes from the NFS share: galera.cnf, the initdb
 *   script, haproxy.cfg and the scripts are node-local under `/etc/xen-coreos/galera/`;
 * - bootstrap decided in ExecStartPre from etcd: join when another member is alive;
 *   otherwise bootstrap only with a local state that may bootstrap (Galera's
 *   `safe_to_bootstrap: 1`, or an empty data dir while etcd has never seen a cluster)
 *   and only after winning `etcdctl mk` on a bootstrap lock; everyone else joins;
 * - a discovery sidecar per member publishes host/ip/port with a TTL while the member is
 *   Synced and removes them on stop (the thesis's ExecStop was broken);
 * - HAProxy gives clients one MySQL port with `mysql-check` health checks.
 *
 * Pure: plain values in, strings out.
 */
import { RenderedFile, RenderedUnit, ServiceBundle, XFleet, instanceName, renderUnitFile, templateName, unitName } from "../fleet/unit-file";
import {
  absPath,
  dockerServiceDirectives,
  etcdDefaults,
  etcdDir,
  ETCD_SH,
  execLine,
  imageRef,
  NAP_SH,
  plainWord,
  port,
  shScript,
} from "./scripts/common";

export const GALERA_DEFAULTS = {
  image: "mariadb:11.4",
  haproxyImage: "haproxy:2.8",
  prefix: "galera",
  discoveryPrefix: "galera-discovery",
  proxyUnit: "galera-proxy.service",
  proxyContainer: "galera-proxy",
  dataDir: "/var/lib/xen-coreos/galera",
  runDir: "/run/xen-coreos/galera",
  /** Node-local, root-owned directory with galera.cnf, initdb.d/, haproxy/ (written by NodeFiles). */
  confDir: "/etc/xen-coreos/galera",
  scriptDir: "/etc/xen-coreos/galera/scripts",
  /** Root-only password files (0600), one per account. */
  secretsDir: "/etc/xen-coreos/galera/secrets",
  /** The node's certificate, its key (0600) and the deployment CA. */
  tlsDir: "/etc/xen-coreos/galera/tls",
  /** Where the member's container sees the staged TLS files and password files. */
  containerTlsDir: "/etc/mysql/xen-coreos/tls",
  containerSecretsDir: "/etc/mysql/xen-coreos/secrets",
  etcdPrefix: "/xen-coreos/galera",
  provider: "/usr/lib/galera/libgalera_smm.so",
  /** uid/gid of `mysql` in the official mariadb image. */
  mysqlUid: 999,
  sstUser: "mariabackup",
  checkUser: "haproxy_check",
  appUser: "app",
  machineMetadata: ["role=db"],
  discoveryInterval: 10,
  discoveryTtl: 30,
  bootstrapLockTtl: 600,
  stopTimeout: 110,
} as const;

/** MySQL client, SST, group communication, IST. */
export const GALERA_PORTS = [3306, 4444, 4567, 4568] as const;

export const PRESTART_SCRIPT = "galera-prestart.sh";
export const DISCOVERY_SCRIPT = "galera-discovery.sh";
export const INITDB_SCRIPT = "10-xen-coreos-users.sh";
/** File names under `secretsDir` (and the staged copies the container reads). */
export const GALERA_SECRET_FILES = { root: "root-password", app: "app-password", sst: "sst-password" } as const;
/** File names under `tlsDir` (and the staged copies the container reads). */
export const GALERA_TLS_FILES = { ca: "ca.pem", cert: "cert.pem", key: "key.pem" } as const;

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
const SQL_USER_RE = /^[A-Za-z0-9_]{1,32}$/;
const HOST_RE = /^([0-9]{1,3}(\.[0-9]{1,3}){3}|[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)$/;

function hostPort(value: string, what: string): string {
  const m = /^(.*?)(?::([0-9]+))?$/.exec(value) as RegExpExecArray;
  if (!HOST_RE.test(m[1]) || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535))) {
    throw new Error(`${what} ${JSON.stringify(value)} must be an IPv4 address or host name, optionally with :port`);
  }
  return value;
}

function sqlUser(value: string, what: string): string {
  if (!SQL_USER_RE.test(value)) throw new Error(`${what} ${JSON.stringify(value)} must be 1-32 characters of [A-Za-z0-9_]`);
  return value;
}

export type SstMethod = "mariabackup" | "rsync";

export interface GaleraCnfArgs {
  /** `wsrep_cluster_name`. */
  clusterName: string;
  /** Addresses of every db node, for `wsrep_cluster_address=gcomm://a,b,c`. */
  clusterAddresses: string[];
  /** `wsrep_node_address`; omit when the unit passes it at start (`--wsrep-node-address`). */
  nodeAddress?: string;
  /** `wsrep_node_name`; omit when the unit passes it at start (`--wsrep-node-name`). */
  nodeName?: string;
  sstMethod: SstMethod;
  /** SST user, named in the comment; its credential comes from the password file at start. */
  sstUser?: string;
  /** Galera provider library. Defaults to `/usr/lib/galera/libgalera_smm.so`. */
  provider?: string;
  /**
   * `bind-address` inside the container. Defaults to `0.0.0.0`: in docker's bridge network the
   * container's only address is its bridge address, which the node publishes on its own
   * address only (`-p ${COREOS_PUBLIC_IPV4}:…`); the node's address does not exist inside it.
   */
  bindAddress?: string;
  /** Extra `wsrep_provider_options`, e.g. ["gcache.size=512M"]. `ist.recv_bind=0.0.0.0` is always set. */
  providerOptions?: string[];
  /**
   * TLS for replication, IST, SST and clients, with the files the member's container sees in
   * `tlsDir` (ca.pem, cert.pem, key.pem). Defaults to true; false only to measure its cost.
   */
  tls?: boolean;
  /** Defaults to `/etc/mysql/xen-coreos/tls` (the container's view of the staged files). */
  tlsDir?: string;
}

/** The `galera.cnf` of every member (node-local, `/etc/xen-coreos/galera/galera.cnf`); holds no credential. */
export function renderGaleraCnf(args: GaleraCnfArgs): string {
  if (!NAME_RE.test(args.clusterName)) throw new Error(`clusterName ${JSON.stringify(args.clusterName)} must be 1-64 characters of [A-Za-z0-9_-]`);
  if (args.clusterAddresses.length === 0) throw new Error("clusterAddresses is empty: list the address of every db node");
  const addresses = args.clusterAddresses.map((a) => hostPort(a, "cluster address"));
  if (new Set(addresses).size !== addresses.length) throw new Error(`clusterAddresses has duplicates: ${addresses.join(", ")}`);
  if (args.sstMethod !== "mariabackup" && args.sstMethod !== "rsync") throw new Error(`sstMethod ${JSON.stringify(args.sstMethod)} must be "mariabackup" or "rsync"`);
  const sstUser = sqlUser(args.sstUser ?? GALERA_DEFAULTS.sstUser, "sstUser");
  const provider = absPath(args.provider ?? GALERA_DEFAULTS.provider, "provider");
  const bind = args.bindAddress ?? "0.0.0.0";
  if (!/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(bind)) throw new Error(`bindAddress ${JSON.stringify(bind)} must be an IPv4 address`);
  const tls = args.tls ?? true;
  const tlsDir = absPath(args.tlsDir ?? GALERA_DEFAULTS.containerTlsDir, "tlsDir");
  const f = (name: keyof typeof GALERA_TLS_FILES) => `${tlsDir}/${GALERA_TLS_FILES[name]}`;
  const tlsOptions = tls ? [`socket.ssl_key=${f("key")}`, `socket.ssl_cert=${f("cert")}`, `socket.ssl_ca=${f("ca")}`, "socket.dynamic=false"] : [];
  const options = [...tlsOptions, "ist.recv_bind=0.0.0.0", ...(args.providerOptions ?? [])];
  for (const o of options) if (!/^[a-z_.]+=[A-Za-z0-9_.:/-]+$/.test(o)) throw new Error(`provider option ${JSON.stringify(o)} must be key=value`);
  const lines = [
    `# MariaDB Galera settings of cluster ${args.clusterName}. Rendered by xen-coreos (node-local; the next \`pulumi up\` rewrites it).`,
    "# No credential here: wsrep_sst_auth is written at each start into",
    "# /etc/mysql/conf.d/99-sst-auth.cnf (tmpfs, mode 0400) from the root-only /etc/xen-coreos/galera/secrets/.",
    "[mysqld]",
    `bind-address=${bind}`,
    "binlog_format=ROW",
    "default_storage_engine=InnoDB",
    "innodb_autoinc_lock_mode=2",
  ];
  if (tls) {
    lines.push(
      "# TLS on 3306 (accounts with REQUIRE SSL refuse anything else); the SST scripts read these too.",
      `ssl-ca=${f("ca")}`,
      `ssl-cert=${f("cert")}`,
      `ssl-key=${f("key")}`,
    );
  }
  lines.push(
    "",
    "[galera]",
    "wsrep_on=ON",
    `wsrep_provider=${provider}`,
    `wsrep_cluster_name=${args.clusterName}`,
    `wsrep_cluster_address=gcomm://${addresses.join(",")}`,
  );
  if (args.nodeAddress !== undefined) lines.push(`wsrep_node_address=${hostPort(args.nodeAddress, "nodeAddress")}`);
  if (args.nodeName !== undefined) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(args.nodeName)) throw new Error(`nodeName ${JSON.stringify(args.nodeName)} must be [A-Za-z0-9_.-]`);
    lines.push(`wsrep_node_name=${args.nodeName}`);
  }
  lines.push(`wsrep_sst_method=${args.sstMethod}`);
  if (args.sstMethod === "mariabackup") lines.push(`# SST user: ${sstUser} (credential from 99-sst-auth.cnf).`);
  if (tls) lines.push("# Group communication and IST over TLS: galera-4 verifies every peer against ssl_ca and refuses one without a certificate.");
  lines.push("# Listen for IST on every container address; the advertised address is the node's.");
  lines.push(`wsrep_provider_options="${options.join(";")}"`);
  if (tls) {
    lines.push(
      "",
      "[sst]",
      "# SST over TLS, both ends checked against the CA (mariabackup: socat openssl; rsync: stunnel,",
      "# which the mariadb image lacks, so the settings refuse rsync with TLS).",
      "ssl-mode=VERIFY_CA",
    );
  }
  return lines.join("\n") + "\n";
}

export interface GaleraSecretArgs {
  rootPassword: string;
  sstPassword: string;
  appPassword: string;
  /** Defaults to `/etc/xen-coreos/galera/secrets`. */
  secretsDir?: string;
}

/**
 * The password files of a db node (root-only, 0600; a Pulumi secret in the program): one
 * password per file, read by the prestart script, never by systemd, a command line or docker.
 */
export function renderGaleraSecretFiles(args: GaleraSecretArgs): RenderedFile[] {
  const dir = absPath(args.secretsDir ?? GALERA_DEFAULTS.secretsDir, "secretsDir");
  const secret = (value: string, what: string) => {
    if (typeof value !== "string" || value.length === 0) throw new Error(`${what} is empty`);
    if (/[\r\n\0]/.test(value)) throw new Error(`${what} contains a newline or NUL, which a one-line password file cannot hold`);
    return `${value}\n`;
  };
  return [
    { path: `${dir}/${GALERA_SECRET_FILES.root}`, content: secret(args.rootPassword, "rootPassword"), mode: 0o600 },
    { path: `${dir}/${GALERA_SECRET_FILES.app}`, content: secret(args.appPassword, "appPassword"), mode: 0o600 },
    { path: `${dir}/${GALERA_SECRET_FILES.sst}`, content: secret(args.sstPassword, "sstPassword"), mode: 0o600 },
  ];
}

/** PEM texts of one db node's certificate (plain strings; the program keeps them secret). */
export interface GaleraTlsPem {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** The TLS files of a db node: the CA and the node's certificate (0644), its key (0600). */
export function renderGaleraTlsFiles(pem: GaleraTlsPem, tlsDir: string = GALERA_DEFAULTS.tlsDir): RenderedFile[] {
  const dir = absPath(tlsDir, "tlsDir");
  const check = (text: string, re: RegExp, what: string) => {
    if (typeof text !== "string" || !re.test(text)) throw new Error(`${what} is not PEM text`);
    return text.endsWith("\n") ? text : `${text}\n`;
  };
  return [
    { path: `${dir}/${GALERA_TLS_FILES.ca}`, content: check(pem.caPem, /-----BEGIN CERTIFICATE-----/, "the CA certificate"), mode: 0o644 },
    { path: `${dir}/${GALERA_TLS_FILES.cert}`, content: check(pem.certPem, /-----BEGIN CERTIFICATE-----/, "the node certificate"), mode: 0o644 },
    { path: `${dir}/${GALERA_TLS_FILES.key}`, content: check(pem.keyPem, /-----BEGIN (RSA )?PRIVATE KEY-----/, "the node key"), mode: 0o600 },
  ];
}

export interface GaleraMemberUnitArgs {
  /** Image. Defaults to `mariadb:11.4`. */
  image?: string;
  /** Placement, e.g. ["role=db"]. Defaults to ["role=db"]. */
  machineMetadata?: string[];
  dataDir?: string;
  confDir?: string;
  scriptDir?: string;
  /** The application's user and database, created on first start. Default `app` / none. */
  appUser?: string;
  appDatabase?: string;
}

/** `galera@.service`: one member per node (`Conflicts=galera@*.service`), on db machines. */
export function renderGaleraMemberUnit(args: GaleraMemberUnitArgs = {}): RenderedUnit {
  const name = templateName(GALERA_DEFAULTS.prefix);
  const dataDir = absPath(args.dataDir ?? GALERA_DEFAULTS.dataDir, "dataDir");
  const confDir = absPath(args.confDir ?? GALERA_DEFAULTS.confDir, "confDir");
  const scriptDir = absPath(args.scriptDir ?? GALERA_DEFAULTS.scriptDir, "scriptDir");
  const appUser = sqlUser(args.appUser ?? GALERA_DEFAULTS.appUser, "appUser");
  const run = `${GALERA_DEFAULTS.runDir}/%i`;
  const secrets = GALERA_DEFAULTS.containerSecretsDir;
  const xFleet: XFleet = {
    machineMetadata: [...(args.machineMetadata ?? GALERA_DEFAULTS.machineMetadata)],
    conflicts: [`${GALERA_DEFAULTS.prefix}@*.service`],
  };
  // Only paths and names: the image's *_FILE variables read the staged password files.
  const envValues: Array<[string, string]> = [
    ["MARIADB_ROOT_HOST", "localhost"],
    ["MARIADB_ROOT_PASSWORD_FILE", `${secrets}/${GALERA_SECRET_FILES.root}`],
    ["MARIADB_USER", appUser],
    ["MARIADB_PASSWORD_FILE", `${secrets}/${GALERA_SECRET_FILES.app}`],
  ];
  if (args.appDatabase !== undefined) envValues.push(["MARIADB_DATABASE", sqlUser(args.appDatabase, "appDatabase")]);
  envValues.push(["GALERA_SST_PASSWORD_FILE", `${secrets}/${GALERA_SECRET_FILES.sst}`]);
  const text = renderUnitFile({
    unit: [
      ["Description", "MariaDB Galera member %i"],
      ["After", "docker.service"],
      ["Requires", "docker.service"],
    ],
    service: [
      ["EnvironmentFile", "/etc/environment"],
      // Written by the prestart script: GALERA_NEW_CLUSTER=--wsrep-new-cluster or empty.
      ["EnvironmentFile", `-${run}/bootstrap.env`],
      ["TimeoutStartSec", "600"],
      ["TimeoutStopSec", String(GALERA_DEFAULTS.stopTimeout + 10)],
      ...dockerServiceDirectives(
        {
          container: `${GALERA_DEFAULTS.prefix}-%i`,
          image: imageRef(args.image ?? GALERA_DEFAULTS.image),
          // On the node's address only: nothing listens on another interface of the node.
          ports: GALERA_PORTS.map((p) => `\${COREOS_PUBLIC_IPV4}:${p}:${p}`),
          volumes: [
            `${dataDir}:/var/lib/mysql`,
            `${confDir}/galera.cnf:/etc/mysql/conf.d/60-galera.cnf:ro`,
            `${run}/sst-auth.cnf:/etc/mysql/conf.d/99-sst-auth.cnf:ro`,
            `${run}/tls:${GALERA_DEFAULTS.containerTlsDir}:ro`,
            `${run}/secrets:${secrets}:ro`,
            `${confDir}/initdb.d:/docker-entrypoint-initdb.d:ro`,
          ],
          envValues,
          // $GALERA_NEW_CLUSTER as its own word: empty gives no argument at all.
          args: ["--wsrep-node-address=${COREOS_PUBLIC_IPV4}", "--wsrep-node-name=%H", "$GALERA_NEW_CLUSTER"],
          stopTimeout: GALERA_DEFAULTS.stopTimeout,
        },
        [["/bin/sh", `${scriptDir}/${PRESTART_SCRIPT}`, "%i"]],
      ),
      ["Restart", "always"],
      ["RestartSec", "10"],
    ],
    xFleet,
  });
  return { name, text, xFleet };
}

export interface GaleraDiscoveryUnitArgs {
  interval?: number;
  ttl?: number;
  scriptDir?: string;
  checkUser?: string;
  etcdPrefix?: string;
}

/** `galera-discovery@.service`: BindsTo/After/MachineOf `galera@%i.service`. */
export function renderGaleraDiscoveryUnit(args: GaleraDiscoveryUnitArgs = {}): RenderedUnit {
  const name = templateName(GALERA_DEFAULTS.discoveryPrefix);
  const member = `${GALERA_DEFAULTS.prefix}@%i.service`;
  const interval = args.interval ?? GALERA_DEFAULTS.discoveryInterval;
  const ttl = args.ttl ?? GALERA_DEFAULTS.discoveryTtl;
  if (!Number.isInteger(interval) || interval < 1 || !Number.isInteger(ttl) || ttl <= interval || ttl > 3 * interval) {
    throw new Error(`discovery ttl ${ttl} must be greater than the interval ${interval} and at most 3 x interval`);
  }
  const script = `${absPath(args.scriptDir ?? GALERA_DEFAULTS.scriptDir, "scriptDir")}/${DISCOVERY_SCRIPT}`;
  const xFleet: XFleet = { machineOf: member };
  const env = (k: string, v: string | number) => ["Environment", `${k}=${plainWord(v, k)}`] as const;
  const text = renderUnitFile({
    unit: [
      ["Description", "Publish Galera member %i (host, ip, port) in etcd"],
      ["BindsTo", member],
      ["After", member],
    ],
    service: [
      ["EnvironmentFile", "/etc/environment"],
      env("GALERA_PREFIX", etcdDir(args.etcdPrefix ?? GALERA_DEFAULTS.etcdPrefix)),
      env("DISCOVERY_INTERVAL", interval),
      env("DISCOVERY_TTL", ttl),
      env("GALERA_CHECK_USER", sqlUser(args.checkUser ?? GALERA_DEFAULTS.checkUser, "checkUser")),
      ["ExecStart", execLine(["/bin/sh", script, "run", "%i"])],
      ["ExecStop", execLine(["/bin/sh", script, "stop", "%i"])],
      ["Restart", "always"],
      ["RestartSec", "5"],
    ],
    xFleet,
  });
  return { name, text, xFleet };
}

export interface GaleraScriptArgs {
  etcdctl?: string;
  etcdEndpoint?: string;
  etcdPrefix?: string;
  dataDir?: string;
  mysqlUid?: number;
  bootstrapLockTtl?: number;
  secretsDir?: string;
  tlsDir?: string;
  sstUser?: string;
}

/**
 * `galera-prestart.sh MEMBER` (ExecStartPre of galera@MEMBER): stages the TLS files and,
 * on an uninitialised data dir only, the password files for the container (mysql-owned,
 * 0400, tmpfs); writes the SST credential file and `bootstrap.env`. Bootstrap rule:
 * 1. another member is published under `$GALERA_PREFIX/members` → join;
 * 2. local state: `grastate.dat` with `safe_to_bootstrap: 1` → may bootstrap; other data →
 *    join (this node did not leave last); empty data dir → may bootstrap only if
 *    `$GALERA_PREFIX/initialized` is absent (etcd never saw a running cluster);
 * 3. may bootstrap → `etcdctl mk --ttl` on `$GALERA_PREFIX/bootstrap`; the winner starts
 *    with `--wsrep-new-cluster`, the others join (and retry through Restart=always).
 * etcd unreadable → fail, so systemd retries instead of guessing.
 */
export function renderPrestartScript(args: GaleraScriptArgs = {}): string {
  const uid = args.mysqlUid ?? GALERA_DEFAULTS.mysqlUid;
  if (!Number.isInteger(uid) || uid < 0) throw new Error(`mysqlUid ${uid} must be a uid`);
  const lockTtl = args.bootstrapLockTtl ?? GALERA_DEFAULTS.bootstrapLockTtl;
  if (!Number.isInteger(lockTtl) || lockTtl < 60) throw new Error(`bootstrapLockTtl ${lockTtl} must be at least 60 seconds`);
  return shScript({
    file: PRESTART_SCRIPT,
    description: [
      "ExecStartPre of galera@MEMBER.service: prepares the member's start.",
      "  - copies TLS_DIR's ca.pem, cert.pem, key.pem to RUN_DIR/MEMBER/tls (mode 0400, owner MYSQL_UID);",
      "  - copies SECRETS_DIR's password files to RUN_DIR/MEMBER/secrets (0400, MYSQL_UID) while the data",
      "    dir is uninitialised (the image reads them through its *_FILE variables on first start only);",
      "    afterwards they are staged empty, so no password reaches the server's environment;",
      "  - writes RUN_DIR/MEMBER/sst-auth.cnf (wsrep_sst_auth from GALERA_SST_USER and SECRETS_DIR/sst-password,",
      "    mode 0400, owner MYSQL_UID), mounted into the container; the password never reaches a command line;",
      "  - decides bootstrap and writes RUN_DIR/MEMBER/bootstrap.env:",
      "    GALERA_NEW_CLUSTER=--wsrep-new-cluster only when no member is alive, the local state may",
      "    bootstrap (safe_to_bootstrap: 1, or no data while etcd never saw a cluster), and this",
      "    member wins `etcdctl mk` on GALERA_PREFIX/bootstrap; otherwise it joins.",
      "When every node has safe_to_bootstrap: 0 (all crashed), no member bootstraps: set",
      "safe_to_bootstrap: 1 in grastate.dat of the most advanced node (Galera's recovery procedure).",
    ],
    defaults: [
      ...etcdDefaults(args.etcdctl, args.etcdEndpoint),
      { name: "GALERA_PREFIX", value: etcdDir(args.etcdPrefix ?? GALERA_DEFAULTS.etcdPrefix), doc: "etcd directory of the cluster" },
      { name: "DATA_DIR", value: absPath(args.dataDir ?? GALERA_DEFAULTS.dataDir, "dataDir"), doc: "node-local data directory" },
      { name: "RUN_DIR", value: GALERA_DEFAULTS.runDir, doc: "tmpfs directory for per-member start files" },
      { name: "MYSQL_UID", value: uid, doc: "uid of mysql in the image (owner of the staged files)" },
      { name: "SECRETS_DIR", value: absPath(args.secretsDir ?? GALERA_DEFAULTS.secretsDir, "secretsDir"), doc: "root-only password files (NodeFiles)" },
      { name: "TLS_DIR", value: absPath(args.tlsDir ?? GALERA_DEFAULTS.tlsDir, "tlsDir"), doc: "the node's certificate, key and CA (NodeFiles)" },
      { name: "GALERA_SST_USER", value: sqlUser(args.sstUser ?? GALERA_DEFAULTS.sstUser, "sstUser"), doc: "the SST account" },
      { name: "BOOTSTRAP_LOCK_TTL", value: lockTtl, doc: "seconds the bootstrap lock is held" },
    ],
    body: `${ETCD_SH}
die() { log "$*"; exit 1; }

member="\${1:-}"
case "$member" in ''|*[!A-Za-z0-9_.-]*) die "usage: $0 MEMBER (e.g. 1)" ;; esac
case "$GALERA_SST_USER" in ''|*[!A-Za-z0-9_]*) die "GALERA_SST_USER must be [A-Za-z0-9_]" ;; esac
for f in ${GALERA_SECRET_FILES.root} ${GALERA_SECRET_FILES.app} ${GALERA_SECRET_FILES.sst}; do
    [ -s "$SECRETS_DIR/$f" ] || die "$SECRETS_DIR/$f is missing or empty (written by pulumi up: GaleraCluster's NodeFiles)"
done
for f in ${GALERA_TLS_FILES.ca} ${GALERA_TLS_FILES.cert} ${GALERA_TLS_FILES.key}; do
    [ -s "$TLS_DIR/$f" ] || die "$TLS_DIR/$f is missing or empty (written by pulumi up: GaleraCluster's NodeFiles)"
done

umask 077
dir="$RUN_DIR/$member"
mkdir -p "$dir/tls" "$dir/secrets" "$DATA_DIR" || die "cannot create $dir or $DATA_DIR"
if ! { chown "$MYSQL_UID:$MYSQL_UID" "$dir/tls" "$dir/secrets" && chmod 0500 "$dir/tls" "$dir/secrets"; }; then
    die "cannot set the owner or mode of $dir/tls and $dir/secrets"
fi

# put SRC DEST: a copy of SRC (or, with SRC empty, an empty file) owned by MYSQL_UID, mode 0400.
put() {
    if [ -n "$1" ]; then cat "$1" >"$2.new" || die "cannot read $1"; else : >"$2.new" || die "cannot write $2.new"; fi
    if ! { chown "$MYSQL_UID:$MYSQL_UID" "$2.new" && chmod 0400 "$2.new" && mv -f "$2.new" "$2"; }; then
        die "cannot stage $2"
    fi
}

# 1. TLS files, readable by the server only.
for f in ${GALERA_TLS_FILES.ca} ${GALERA_TLS_FILES.cert} ${GALERA_TLS_FILES.key}; do put "$TLS_DIR/$f" "$dir/tls/$f"; done

# 2. Password files for the image's first start; empty once the data dir is initialised.
if [ -d "$DATA_DIR/mysql" ]; then from=; else from=$SECRETS_DIR; fi
for f in ${GALERA_SECRET_FILES.root} ${GALERA_SECRET_FILES.app} ${GALERA_SECRET_FILES.sst}; do put "\${from:+$from/$f}" "$dir/secrets/$f"; done

# 3. SST credential, in MariaDB option-file syntax ("..." with \\\\ and \\" escaped).
escaped=$(sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g' "$SECRETS_DIR/${GALERA_SECRET_FILES.sst}" | head -n 1)
printf '[mariadb]\\nwsrep_sst_auth="%s:%s"\\n' "$GALERA_SST_USER" "$escaped" >"$dir/sst-auth.cnf.new"
if ! { chown "$MYSQL_UID:$MYSQL_UID" "$dir/sst-auth.cnf.new" && chmod 0400 "$dir/sst-auth.cnf.new"; }; then
    die "cannot set the owner or mode of $dir/sst-auth.cnf.new"
fi
mv -f "$dir/sst-auth.cnf.new" "$dir/sst-auth.cnf"

# 4. Bootstrap decision.
decide() {
    if ! live=$(etcd ls --recursive "$GALERA_PREFIX/members" 2>&1); then
        case "$live" in
            *"Key not found"*) live="" ;;
            *) die "cannot read $GALERA_PREFIX/members from etcd: $live" ;;
        esac
    fi
    others=$(printf '%s\\n' "$live" | while IFS= read -r key; do
        case "$key" in
            "$GALERA_PREFIX/members/$member/"*) ;;
            */ip) printf '%s\\n' "$key" ;;
        esac
    done)
    if [ -n "$others" ]; then
        log "members alive ($(printf '%s' "$others" | tr '\\n' ' ')): joining"
        return 1
    fi
    if [ -f "$DATA_DIR/grastate.dat" ]; then
        if ! grep -Eq '^safe_to_bootstrap: *1' "$DATA_DIR/grastate.dat"; then
            log "no member alive, but this node did not leave the cluster last (safe_to_bootstrap: 0): joining"
            return 1
        fi
    elif [ -d "$DATA_DIR/mysql" ]; then
        log "data without grastate.dat in $DATA_DIR: not bootstrapping from it, joining"
        return 1
    elif initialized=$(etcd get "$GALERA_PREFIX/initialized" 2>&1); then
        log "empty data dir and a cluster existed ($initialized): joining, never bootstrapping empty data"
        return 1
    else
        case "$initialized" in
            *"Key not found"*) ;;
            *) die "cannot read $GALERA_PREFIX/initialized from etcd: $initialized" ;;
        esac
    fi
    me="$member@$(hostname)"
    if lock=$(etcd mk --ttl "$BOOTSTRAP_LOCK_TTL" "$GALERA_PREFIX/bootstrap" "$me" 2>&1); then
        log "no member alive and the bootstrap lock is ours: bootstrapping a new cluster"
        return 0
    fi
    case "$lock" in
        *"already exists"*) ;;
        *) die "cannot take the bootstrap lock: $lock" ;;
    esac
    if [ "$(etcd get "$GALERA_PREFIX/bootstrap" 2>/dev/null)" = "$me" ]; then
        log "no member alive and this member already holds the bootstrap lock (restart): bootstrapping again"
        return 0
    fi
    log "another member holds the bootstrap lock: joining"
    return 1
}

if decide; then flag=--wsrep-new-cluster; else flag=; fi
printf 'GALERA_NEW_CLUSTER=%s\\n' "$flag" >"$dir/bootstrap.env"
`,
  });
}

/**
 * `galera-discovery.sh run|stop MEMBER`: while the member is Synced or a donor (wsrep_local_state 4 or 2),
 * sets `$GALERA_PREFIX/members/MEMBER/{host,ip,port}` with a TTL every DISCOVERY_INTERVAL,
 * and marks `$GALERA_PREFIX/initialized` once; removes the member's keys on stop/TERM.
 */
export function renderDiscoveryScript(args: GaleraScriptArgs & { docker?: string } = {}): string {
  return shScript({
    file: DISCOVERY_SCRIPT,
    description: [
      "Discovery sidecar of galera@MEMBER.service (etcd v2 API).",
      "  run   every DISCOVERY_INTERVAL s: when the member is Synced, set",
      "        GALERA_PREFIX/members/MEMBER/{host,ip,port} with ttl DISCOVERY_TTL; else remove them.",
      "        SIGTERM/SIGINT/SIGHUP remove them before exiting.",
      "  stop  remove them (the unit's ExecStop).",
      "The state is asked with GALERA_STATE_CMD when set, else through docker exec as GALERA_CHECK_USER",
      "(over the container's socket: the check user exists for localhost and the db nodes' addresses only).",
    ],
    defaults: [
      ...etcdDefaults(args.etcdctl, args.etcdEndpoint),
      { name: "DOCKER", value: absPath(args.docker ?? "/usr/bin/docker", "docker path"), doc: "docker client" },
      { name: "GALERA_PREFIX", value: etcdDir(args.etcdPrefix ?? GALERA_DEFAULTS.etcdPrefix), doc: "etcd directory of the cluster" },
      { name: "GALERA_CHECK_USER", value: GALERA_DEFAULTS.checkUser, doc: "passwordless, privilege-less user allowed to read status (localhost)" },
      { name: "MEMBER_PORT", value: 3306, doc: "client port published by the member" },
      { name: "DISCOVERY_INTERVAL", value: GALERA_DEFAULTS.discoveryInterval, doc: "seconds between refreshes" },
      { name: "DISCOVERY_TTL", value: GALERA_DEFAULTS.discoveryTtl, doc: "key ttl in seconds" },
    ],
    body: `${ETCD_SH}${NAP_SH}
die() { log "$*"; exit 2; }

action="\${1:-}"
member="\${2:-}"
case "$member" in ''|*[!A-Za-z0-9_.-]*) die "usage: $0 run|stop MEMBER" ;; esac
dir="$GALERA_PREFIX/members/$member"

withdraw() {
    if etcd rm --recursive "$dir" >/dev/null 2>&1; then log "removed $dir"; fi
}

case "$action" in
    stop) withdraw; exit 0 ;;
    run) ;;
    *) die "usage: $0 run|stop MEMBER" ;;
esac
[ -n "\${COREOS_PUBLIC_IPV4:-}" ] || die "COREOS_PUBLIC_IPV4 is not set (see /etc/environment)"

synced() {
    if [ -n "\${GALERA_STATE_CMD:-}" ]; then
        out=$(sh -c "$GALERA_STATE_CMD" 2>/dev/null) || return 1
    else
        out=$("$DOCKER" exec "galera-$member" mariadb --protocol=socket -u "$GALERA_CHECK_USER" \\
            -N -B -e "SHOW GLOBAL STATUS LIKE 'wsrep_local_state'" 2>/dev/null) || return 1
    fi
    # 4 = Synced; 2 = Donor/Desynced: a donor serving an SST/IST is still a member that others join.
    case "$(printf '%s\\n' "$out" | awk '{ print $2 }')" in 4|2) return 0 ;; *) return 1 ;; esac
}

publish() {
    etcd set --ttl "$DISCOVERY_TTL" "$dir/host" "$(hostname)" >/dev/null &&
        etcd set --ttl "$DISCOVERY_TTL" "$dir/ip" "$COREOS_PUBLIC_IPV4" >/dev/null &&
        etcd set --ttl "$DISCOVERY_TTL" "$dir/port" "$MEMBER_PORT" >/dev/null
}

trap 'withdraw; exit 0' TERM INT HUP
published=no
while :; do
    if synced; then
        if publish; then
            if [ "$published" = no ]; then
                log "published $dir ($COREOS_PUBLIC_IPV4:$MEMBER_PORT, ttl \${DISCOVERY_TTL}s)"
                etcd mk "$GALERA_PREFIX/initialized" "first synced member: $member@$(hostname)" >/dev/null 2>&1 || true
                # The cluster exists now: release the bootstrap lock instead of leaving it to its TTL,
                # so a later full restart can bootstrap without waiting for it to expire.
                etcd rm "$GALERA_PREFIX/bootstrap" >/dev/null 2>&1 || true
            fi
            published=yes
        else
            log "could not publish $dir; retrying"
        fi
    else
        [ "$published" = no ] || log "member is not Synced; withdrawing it"
        withdraw
        published=no
    fi
    nap "$DISCOVERY_INTERVAL"
done
`,
  });
}

export interface InitdbArgs {
  /** Addresses HAProxy's health check comes from: every db node (HAProxy runs on each, `source` = the node). */
  checkHosts: string[];
  /** Defaults to `haproxy_check`. */
  checkUser?: string;
  /** Defaults to `mariabackup`. */
  sstUser?: string;
  /** The application user the image creates (`MARIADB_USER`); gets `REQUIRE SSL` when `tls`. Defaults to `app`. */
  appUser?: string;
  /** Defaults to true. */
  tls?: boolean;
}

/**
 * `initdb.d/10-xen-coreos-users.sh`: sourced by the mariadb image's entrypoint on first
 * initialisation (empty data dir), after it created root@localhost (MARIADB_ROOT_HOST=localhost)
 * and the app user. Creates the SST user (local only, password from GALERA_SST_PASSWORD_FILE),
 * the health-check user (no password: HAProxy's mysql-check cannot send one; no privileges;
 * only from localhost and the db nodes), requires TLS of the app user, drops any root@'%', and
 * unsets the password variables so the server's environment holds none.
 */
export function renderInitdbScript(args: InitdbArgs): string {
  if (args.checkHosts.length === 0) throw new Error("checkHosts is empty: list the db nodes' addresses (HAProxy runs on each)");
  for (const h of args.checkHosts) if (!/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(h)) throw new Error(`check host ${JSON.stringify(h)} must be an IPv4 address`);
  const checkUser = sqlUser(args.checkUser ?? GALERA_DEFAULTS.checkUser, "checkUser");
  const sstUser = sqlUser(args.sstUser ?? GALERA_DEFAULTS.sstUser, "sstUser");
  const appUser = sqlUser(args.appUser ?? GALERA_DEFAULTS.appUser, "appUser");
  const tls = args.tls ?? true;
  const checkAccounts = ["localhost", ...args.checkHosts].map((h) => `'${checkUser}'@'${h}'`);
  return `#!/bin/sh
# ${INITDB_SCRIPT}
# Sourced by the mariadb image's docker-entrypoint.sh on first initialisation only (empty
# data dir); uses its docker_process_sql. Creates:
#   - ${sstUser}@localhost (password from GALERA_SST_PASSWORD_FILE) with what mariabackup SST needs;
#   - ${checkUser} without password or privileges, for HAProxy's mysql-check (which sends no
#     password) from the db nodes only, and for the discovery sidecar over the socket;
${tls ? `#   - REQUIRE SSL for ${appUser}@'%' (the server has the node's certificate);\n` : ""}#   - no root@'%' (MARIADB_ROOT_HOST=localhost already; dropped again should it exist).
# Then unsets the password variables, so that mariadbd's environment holds no password.
# Rendered by xen-coreos (node-local; the next \`pulumi up\` rewrites it).

xc_sql_string() {
    printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\\\/\\\\\\\\/g' -e "s/'/''/g")"
}

if [ -z "\${GALERA_SST_PASSWORD_FILE:-}" ] || [ ! -s "$GALERA_SST_PASSWORD_FILE" ]; then
    echo "${INITDB_SCRIPT}: GALERA_SST_PASSWORD_FILE is not a readable password file" >&2
    exit 1
fi
xc_sst_password=$(head -n 1 "$GALERA_SST_PASSWORD_FILE")

docker_process_sql --database=mysql <<EOSQL
DROP USER IF EXISTS 'root'@'%';
CREATE USER IF NOT EXISTS '${sstUser}'@'localhost' IDENTIFIED BY $(xc_sql_string "$xc_sst_password");
GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO '${sstUser}'@'localhost';
${checkAccounts.map((a) => `CREATE USER IF NOT EXISTS ${a};`).join("\n")}
${tls ? `ALTER USER IF EXISTS '${appUser}'@'%' REQUIRE SSL;\n` : ""}EOSQL

unset xc_sst_password MARIADB_ROOT_PASSWORD MYSQL_ROOT_PASSWORD MARIADB_PASSWORD MYSQL_PASSWORD
`;
}

export interface HaproxyMember {
  name: string;
  address: string;
  port: number;
}

export interface HaproxyCfgArgs {
  members: HaproxyMember[];
  /** Port clients connect to. */
  listenPort: number;
  /**
   * The node's address: HAProxy (host network) listens on it only and connects to the members
   * from it (`source`), so the members see the db nodes' addresses, which the check user is
   * limited to. Omitted: every address, and the kernel's choice of source.
   */
  nodeAddress?: string;
  /** User of `option mysql-check` (exists on the members without password: mysql-check sends none). */
  checkUser: string;
  /** Defaults to "leastconn"; "first" sends everything to the first healthy member. */
  balance?: "leastconn" | "first";
  /** Health check: interval (ms), failures to mark down, successes to mark up. Defaults 2000/3/2. */
  inter?: number;
  fall?: number;
  rise?: number;
  /** Per-member connection limit (needed by "first"). Defaults to 1000. */
  memberMaxconn?: number;
  /** Global maxconn. Defaults to 4096. */
  maxconn?: number;
}

/** `haproxy.cfg` of the Galera proxy on one db node (node-local, `<confDir>/haproxy/haproxy.cfg`). */
export function renderHaproxyCfg(args: HaproxyCfgArgs): string {
  if (args.nodeAddress !== undefined && !/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(args.nodeAddress)) {
    throw new Error(`haproxy nodeAddress ${JSON.stringify(args.nodeAddress)} must be an IPv4 address`);
  }
  if (args.members.length === 0) throw new Error("haproxy members is empty: list the Galera members");
  const names = new Set<string>();
  for (const m of args.members) {
    if (!/^[A-Za-z0-9_.-]+$/.test(m.name)) throw new Error(`haproxy member name ${JSON.stringify(m.name)} must be [A-Za-z0-9_.-]`);
    if (names.has(m.name)) throw new Error(`haproxy member ${JSON.stringify(m.name)} is listed twice`);
    names.add(m.name);
    hostPort(m.address, `haproxy member ${m.name} address`);
    if (m.address.includes(":")) throw new Error(`haproxy member ${m.name} address must not carry a port; use the port field`);
    port(m.port, `haproxy member ${m.name} port`);
  }
  const balance = args.balance ?? "leastconn";
  if (balance !== "leastconn" && balance !== "first") throw new Error(`balance ${JSON.stringify(balance)} must be "leastconn" or "first"`);
  const n = (v: number | undefined, d: number, lo: number, hi: number, what: string) => {
    const x = v ?? d;
    if (!Number.isInteger(x) || x < lo || x > hi) throw new Error(`${what} ${x} must be an integer in ${lo}..${hi}`);
    return x;
  };
  const inter = n(args.inter, 2000, 100, 60000, "inter");
  const fall = n(args.fall, 3, 1, 100, "fall");
  const rise = n(args.rise, 2, 1, 100, "rise");
  const memberMaxconn = n(args.memberMaxconn, 1000, 1, 100000, "memberMaxconn");
  return [
    "# HAProxy: one MySQL port for the Galera cluster. Rendered by xen-coreos (node-local; the next `pulumi up` rewrites it).",
    "global",
    "    log stdout format raw local0 info",
    `    maxconn ${n(args.maxconn, 4096, 1, 1000000, "maxconn")}`,
    "",
    "defaults",
    "    mode tcp",
    "    log global",
    "    option tcplog",
    "    option dontlognull",
    "    timeout connect 5s",
    "    # As long as MySQL's wait_timeout (8 h): idle client connections stay open.",
    "    timeout client 8h",
    "    timeout server 8h",
    "    retries 3",
    // A client whose member failed is sent to another one instead of failing.
    "    option redispatch",
    "",
    "listen galera",
    `    bind ${args.nodeAddress ?? ""}:${port(args.listenPort, "listenPort")}`,
    "    mode tcp",
    ...(args.nodeAddress ? [`    source ${args.nodeAddress}`] : []),
    `    balance ${balance}`,
    `    option mysql-check user ${sqlUser(args.checkUser, "checkUser")} post-41`,
    `    default-server inter ${inter} fall ${fall} rise ${rise} maxconn ${memberMaxconn} on-marked-down shutdown-sessions`,
    ...args.members.map((m) => `    server ${m.name} ${m.address}:${m.port} check`),
    "",
  ].join("\n");
}

export interface HaproxyUnitArgs {
  listenPort: number;
  image?: string;
  confDir?: string;
  /** Placement, e.g. ["role=web"]. */
  machineMetadata?: string[];
  /** e.g. ["galera@*.service"] when it shares machines (and port 3306) with members. */
  conflicts?: string[];
  /** Run on every machine that matches machineMetadata, so any db node's address is an endpoint. */
  global?: boolean;
}

/**
 * `galera-proxy.service`: HAProxy in the node's network (`--network host`), listening on the
 * node's address and listenPort only (its haproxy.cfg says so), and checking the members from
 * the node's address (`source`): the check user exists for the db nodes' addresses only.
 */
export function renderHaproxyUnit(args: HaproxyUnitArgs): RenderedUnit {
  const confDir = absPath(args.confDir ?? GALERA_DEFAULTS.confDir, "confDir");
  const listen = port(args.listenPort, "listenPort");
  const xFleet: XFleet = {};
  if (args.machineMetadata?.length) xFleet.machineMetadata = [...args.machineMetadata];
  if (args.conflicts?.length) xFleet.conflicts = [...args.conflicts];
  if (args.global) xFleet.global = true;
  const text = renderUnitFile({
    unit: [
      ["Description", `HAProxy: MySQL port ${listen} for the Galera cluster`],
      ["After", "docker.service"],
      ["Requires", "docker.service"],
    ],
    service: [
      ["TimeoutStartSec", "300"],
      ...dockerServiceDirectives({
        container: GALERA_DEFAULTS.proxyContainer,
        image: imageRef(args.image ?? GALERA_DEFAULTS.haproxyImage),
        network: "host",
        volumes: [`${confDir}/haproxy:/usr/local/etc/haproxy:ro`],
        stopTimeout: 10,
      }),
      ["Restart", "always"],
      ["RestartSec", "5"],
    ],
    xFleet: Object.keys(xFleet).length ? xFleet : undefined,
  });
  return { name: unitName(GALERA_DEFAULTS.proxyContainer), text, xFleet: Object.keys(xFleet).length ? xFleet : undefined };
}

export interface GaleraArgs {
  clusterName: string;
  /** The db nodes: their addresses form gcomm:// and the HAProxy member list. */
  nodes: { name: string; address: string }[];
  /** Members to start (galera@1 … galera@N). Defaults to the number of nodes. */
  members?: number;
  machineMetadata?: string[];
  image?: string;
  sstMethod?: SstMethod;
  sstUser?: string;
  checkUser?: string;
  /** The application's user and database. Defaults to `app` / none. */
  appUser?: string;
  appDatabase?: string;
  /** TLS everywhere (replication, IST, SST, clients). Defaults to true; false only to measure its cost. */
  tls?: boolean;
  proxy: Omit<HaproxyUnitArgs, "confDir"> & Pick<HaproxyCfgArgs, "balance">;
}

/** The Galera bundle: units, nothing on the share, and each db node's own (non-secret) files. */
export interface GaleraBundle extends ServiceBundle {
  /**
   * By node name: galera.cnf, the initdb script, haproxy.cfg (this node's address), the
   * prestart and discovery scripts, under `/etc/xen-coreos/galera/`. The secret files
   * (passwords, the node's key and certificate) come from `renderGaleraSecretFiles` and
   * `renderGaleraTlsFiles`.
   */
  nodeFiles: Record<string, RenderedFile[]>;
}

/** Units (templates with their instances) and every db node's files of the Galera cluster. */
export function renderGalera(args: GaleraArgs): GaleraBundle {
  const members = args.members ?? args.nodes.length;
  if (!Number.isInteger(members) || members < 1) throw new Error(`members ${members} must be an integer >= 1`);
  if (members > args.nodes.length) throw new Error(`members ${members} exceeds the ${args.nodes.length} db nodes; Conflicts allows one member per node`);
  const tls = args.tls ?? true;
  const sstMethod = args.sstMethod ?? "mariabackup";
  if (tls && sstMethod === "rsync") {
    throw new Error('sstMethod "rsync" cannot run over TLS in the mariadb image (wsrep_sst_rsync needs stunnel, which the image lacks). Fix: set xen-coreos:services.galera.sstMethod to "mariabackup" (socat with OpenSSL, in the image)');
  }
  const checkUser = sqlUser(args.checkUser ?? GALERA_DEFAULTS.checkUser, "checkUser");
  const memberUnit = renderGaleraMemberUnit({ image: args.image, machineMetadata: args.machineMetadata, appUser: args.appUser, appDatabase: args.appDatabase });
  const discovery = renderGaleraDiscoveryUnit({ checkUser });
  const ids = Array.from({ length: members }, (_, i) => i + 1);
  memberUnit.instances = ids.map((i) => instanceName(GALERA_DEFAULTS.prefix, i));
  discovery.instances = ids.map((i) => instanceName(GALERA_DEFAULTS.discoveryPrefix, i));
  const dir = GALERA_DEFAULTS.confDir;
  const cnf = renderGaleraCnf({ clusterName: args.clusterName, clusterAddresses: args.nodes.map((n) => n.address), sstMethod, sstUser: args.sstUser, tls });
  const initdb = renderInitdbScript({ checkHosts: args.nodes.map((n) => n.address), checkUser, sstUser: args.sstUser, appUser: args.appUser, tls });
  const prestart = renderPrestartScript({ sstUser: args.sstUser });
  const discoveryScript = renderDiscoveryScript();
  const nodeFiles: Record<string, RenderedFile[]> = {};
  for (const node of args.nodes) {
    nodeFiles[node.name] = [
      { path: `${dir}/galera.cnf`, content: cnf, mode: 0o644 },
      { path: `${dir}/initdb.d/${INITDB_SCRIPT}`, content: initdb, mode: 0o644 },
      {
        path: `${dir}/haproxy/haproxy.cfg`,
        content: renderHaproxyCfg({
          members: args.nodes.map((n) => ({ name: n.name, address: n.address, port: 3306 })),
          listenPort: args.proxy.listenPort,
          nodeAddress: node.address,
          checkUser,
          balance: args.proxy.balance,
        }),
        mode: 0o644,
      },
      { path: `${GALERA_DEFAULTS.scriptDir}/${PRESTART_SCRIPT}`, content: prestart, mode: 0o755 },
      { path: `${GALERA_DEFAULTS.scriptDir}/${DISCOVERY_SCRIPT}`, content: discoveryScript, mode: 0o755 },
    ];
  }
  return { units: [memberUnit, discovery, renderHaproxyUnit(args.proxy)], files: [], nodeFiles };
}
