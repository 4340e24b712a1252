/**
 * MariaDB Galera cluster (Galera 4; thesis §10.5.2), fixed:
 * - official image `mariadb:11.4` (the thesis's image no longer exists);
 * - member data on a node-local persistent path (`/var/lib/xen-coreos/galera`), not in
 *   the container and not on NFS;
 * - no password in any unit: `EnvironmentFile=/etc/xen-coreos/galera.env` (root-only, 0600)
 *   and `docker run -e NAME`, which copies the value from docker's own environment;
 * - SST credential: `galera.cnf` holds no credential. At each start the member's
 *   ExecStartPre writes `wsrep_sst_auth` from the env file into
 *   `/run/xen-coreos/galera/<i>/sst-auth.cnf` (tmpfs, 0400, owned by the image's mysql
 *   uid), mounted read-only as `/etc/mysql/conf.d/99-sst-auth.cnf`; it never appears in a
 *   unit, a command line or the share;
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
import { shq } from "../shell";
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
  envFile: "/etc/xen-coreos/galera.env",
  runDir: "/run/xen-coreos/galera",
  /** Share directory with galera.cnf, initdb.d/ and haproxy/. */
  confDir: "/mnt/nfs/services/galera",
  scriptDir: "/mnt/nfs/services/scripts",
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
  /** SST user, named in the comment; its credential comes from the env file at start. */
  sstUser?: string;
  /** Galera provider library. Defaults to `/usr/lib/galera/libgalera_smm.so`. */
  provider?: string;
  /** `bind-address` inside the container. Defaults to `0.0.0.0`. */
  bindAddress?: string;
  /** Extra `wsrep_provider_options`, e.g. ["gcache.size=512M"]. `ist.recv_bind=0.0.0.0` is always set. */
  providerOptions?: string[];
}

/** The `galera.cnf` of every member (on the share); holds no credential. */
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
  const options = ["ist.recv_bind=0.0.0.0", ...(args.providerOptions ?? [])];
  for (const o of options) if (!/^[a-z_.]+=[A-Za-z0-9_.:/-]+$/.test(o)) throw new Error(`provider option ${JSON.stringify(o)} must be key=value`);
  const lines = [
    `# MariaDB Galera settings of cluster ${args.clusterName}. Rendered by xen-coreos; do not edit on the share.`,
    "# No credential here: wsrep_sst_auth is written at each start into",
    "# /etc/mysql/conf.d/99-sst-auth.cnf (tmpfs, mode 0400) from the root-only /etc/xen-coreos/galera.env.",
    "[mysqld]",
    `bind-address=${bind}`,
    "binlog_format=ROW",
    "default_storage_engine=InnoDB",
    "innodb_autoinc_lock_mode=2",
    "",
    "[galera]",
    "wsrep_on=ON",
    `wsrep_provider=${provider}`,
    `wsrep_cluster_name=${args.clusterName}`,
    `wsrep_cluster_address=gcomm://${addresses.join(",")}`,
  ];
  if (args.nodeAddress !== undefined) lines.push(`wsrep_node_address=${hostPort(args.nodeAddress, "nodeAddress")}`);
  if (args.nodeName !== undefined) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(args.nodeName)) throw new Error(`nodeName ${JSON.stringify(args.nodeName)} must be [A-Za-z0-9_.-]`);
    lines.push(`wsrep_node_name=${args.nodeName}`);
  }
  lines.push(`wsrep_sst_method=${args.sstMethod}`);
  if (args.sstMethod === "mariabackup") lines.push(`# SST user: ${sstUser} (credential from 99-sst-auth.cnf).`);
  lines.push("# Listen for IST on every container address; the advertised address is the node's.");
  lines.push(`wsrep_provider_options="${options.join(";")}"`);
  return lines.join("\n") + "\n";
}

export interface GaleraEnvArgs {
  rootPassword: string;
  sstPassword: string;
  appPassword: string;
  /** Defaults to `app`. */
  appUser?: string;
  /** Database created for the app user on first start; omitted when undefined. */
  appDatabase?: string;
  /** Defaults to `mariabackup`. */
  sstUser?: string;
  /** Passwordless, privilege-less user of the HAProxy health check. Defaults to `haproxy_check`. */
  checkUser?: string;
}

/** Content and mode (0600, root) of `/etc/xen-coreos/galera.env`, read by systemd and sh alike. */
export function renderGaleraEnvFile(args: GaleraEnvArgs): { content: string; mode: number } {
  const secret = (value: string, what: string) => {
    if (typeof value !== "string" || value.length === 0) throw new Error(`${what} is empty`);
    if (/[\r\n\0]/.test(value)) throw new Error(`${what} contains a newline or NUL, which an environment file cannot hold`);
    // systemd's EnvironmentFile= parser and sh agree on single-quoted text only when it holds
    // no ' (sh's '\'' idiom is read differently by systemd) and no \ (older systemd unescapes it).
    if (/['\\]/.test(value)) {
      throw new Error(`${what} contains ' or \\, which systemd's EnvironmentFile= and sh read differently; generate it without those characters`);
    }
    return shq(value);
  };
  const lines = [
    "# Galera credentials. Root-only (0600): read by systemd (EnvironmentFile=) for galera@.service.",
    `MARIADB_ROOT_PASSWORD=${secret(args.rootPassword, "rootPassword")}`,
    `MARIADB_USER=${sqlUser(args.appUser ?? GALERA_DEFAULTS.appUser, "appUser")}`,
    `MARIADB_PASSWORD=${secret(args.appPassword, "appPassword")}`,
  ];
  if (args.appDatabase !== undefined) lines.push(`MARIADB_DATABASE=${sqlUser(args.appDatabase, "appDatabase")}`);
  lines.push(
    `GALERA_SST_USER=${sqlUser(args.sstUser ?? GALERA_DEFAULTS.sstUser, "sstUser")}`,
    `GALERA_SST_PASSWORD=${secret(args.sstPassword, "sstPassword")}`,
    `GALERA_CHECK_USER=${sqlUser(args.checkUser ?? GALERA_DEFAULTS.checkUser, "checkUser")}`,
  );
  return { content: lines.join("\n") + "\n", mode: 0o600 };
}

export interface GaleraMemberUnitArgs {
  /** Image. Defaults to `mariadb:11.4`. */
  image?: string;
  /** Placement, e.g. ["role=db"]. Defaults to ["role=db"]. */
  machineMetadata?: string[];
  dataDir?: string;
  confDir?: string;
  scriptDir?: string;
}

/** `galera@.service`: one member per node (`Conflicts=galera@*.service`), on db machines. */
export function renderGaleraMemberUnit(args: GaleraMemberUnitArgs = {}): RenderedUnit {
  const name = templateName(GALERA_DEFAULTS.prefix);
  const dataDir = absPath(args.dataDir ?? GALERA_DEFAULTS.dataDir, "dataDir");
  const confDir = absPath(args.confDir ?? GALERA_DEFAULTS.confDir, "confDir");
  const scriptDir = absPath(args.scriptDir ?? GALERA_DEFAULTS.scriptDir, "scriptDir");
  const run = `${GALERA_DEFAULTS.runDir}/%i`;
  const xFleet: XFleet = {
    machineMetadata: [...(args.machineMetadata ?? GALERA_DEFAULTS.machineMetadata)],
    conflicts: [`${GALERA_DEFAULTS.prefix}@*.service`],
  };
  const text = renderUnitFile({
    unit: [
      ["Description", "MariaDB Galera member %i"],
      ["After", "docker.service"],
      ["Requires", "docker.service"],
      ["RequiresMountsFor", `${confDir} ${scriptDir}`],
    ],
    service: [
      ["EnvironmentFile", "/etc/environment"],
      ["EnvironmentFile", GALERA_DEFAULTS.envFile],
      // Written by the prestart script: GALERA_NEW_CLUSTER=--wsrep-new-cluster or empty.
      ["EnvironmentFile", `-${run}/bootstrap.env`],
      ["TimeoutStartSec", "600"],
      ["TimeoutStopSec", String(GALERA_DEFAULTS.stopTimeout + 10)],
      ...dockerServiceDirectives(
        {
          container: `${GALERA_DEFAULTS.prefix}-%i`,
          image: imageRef(args.image ?? GALERA_DEFAULTS.image),
          ports: GALERA_PORTS.map((p) => `${p}:${p}`),
          volumes: [
            `${dataDir}:/var/lib/mysql`,
            `${confDir}/galera.cnf:/etc/mysql/conf.d/60-galera.cnf:ro`,
            `${run}/sst-auth.cnf:/etc/mysql/conf.d/99-sst-auth.cnf:ro`,
            `${confDir}/initdb.d:/docker-entrypoint-initdb.d:ro`,
          ],
          env: [
            "MARIADB_ROOT_PASSWORD",
            "MARIADB_USER",
            "MARIADB_PASSWORD",
            "MARIADB_DATABASE",
            "GALERA_SST_USER",
            "GALERA_SST_PASSWORD",
            "GALERA_CHECK_USER",
          ],
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
      ["RequiresMountsFor", script],
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
}

/**
 * `galera-prestart.sh MEMBER` (ExecStartPre of galera@MEMBER): writes the SST credential
 * file and `bootstrap.env`. Bootstrap rule:
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
      "  - writes RUN_DIR/MEMBER/sst-auth.cnf (wsrep_sst_auth from GALERA_SST_USER/GALERA_SST_PASSWORD,",
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
      { name: "MYSQL_UID", value: uid, doc: "uid of mysql in the image (owner of sst-auth.cnf)" },
      { name: "BOOTSTRAP_LOCK_TTL", value: lockTtl, doc: "seconds the bootstrap lock is held" },
    ],
    body: `${ETCD_SH}
die() { log "$*"; exit 1; }

member="\${1:-}"
case "$member" in ''|*[!A-Za-z0-9_.-]*) die "usage: $0 MEMBER (e.g. 1)" ;; esac
[ -n "\${GALERA_SST_USER:-}" ] || die "GALERA_SST_USER is not set (EnvironmentFile /etc/xen-coreos/galera.env)"
[ -n "\${GALERA_SST_PASSWORD:-}" ] || die "GALERA_SST_PASSWORD is not set (EnvironmentFile /etc/xen-coreos/galera.env)"
case "$GALERA_SST_USER" in *[!A-Za-z0-9_]*) die "GALERA_SST_USER must be [A-Za-z0-9_]" ;; esac

umask 077
dir="$RUN_DIR/$member"
mkdir -p "$dir" "$DATA_DIR" || die "cannot create $dir or $DATA_DIR"

# 1. SST credential, in MariaDB option-file syntax ("..." with \\\\ and \\" escaped).
escaped=$(printf '%s' "$GALERA_SST_PASSWORD" | sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g')
printf '[mariadb]\\nwsrep_sst_auth="%s:%s"\\n' "$GALERA_SST_USER" "$escaped" >"$dir/sst-auth.cnf.new"
if ! { chown "$MYSQL_UID:$MYSQL_UID" "$dir/sst-auth.cnf.new" && chmod 0400 "$dir/sst-auth.cnf.new"; }; then
    die "cannot set the owner or mode of $dir/sst-auth.cnf.new"
fi
mv -f "$dir/sst-auth.cnf.new" "$dir/sst-auth.cnf"

# 2. Bootstrap decision.
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
      "The state is asked with GALERA_STATE_CMD when set, else through docker exec as GALERA_CHECK_USER.",
    ],
    defaults: [
      ...etcdDefaults(args.etcdctl, args.etcdEndpoint),
      { name: "DOCKER", value: absPath(args.docker ?? "/usr/bin/docker", "docker path"), doc: "docker client" },
      { name: "GALERA_PREFIX", value: etcdDir(args.etcdPrefix ?? GALERA_DEFAULTS.etcdPrefix), doc: "etcd directory of the cluster" },
      { name: "GALERA_CHECK_USER", value: GALERA_DEFAULTS.checkUser, doc: "passwordless user allowed to read status" },
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
        out=$("$DOCKER" exec "galera-$member" mariadb --protocol=tcp -h 127.0.0.1 -u "$GALERA_CHECK_USER" \\
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

/**
 * `initdb.d/10-xen-coreos-users.sh`: sourced by the mariadb image's entrypoint on first
 * initialisation (empty data dir). Creates the SST user and the passwordless, privilege-less
 * health-check user from the container environment; values are SQL-escaped.
 */
export function renderInitdbScript(): string {
  return `#!/bin/sh
# ${INITDB_SCRIPT}
# Sourced by the mariadb image's docker-entrypoint.sh on first initialisation only (empty
# data dir); uses its docker_process_sql. Creates:
#   - GALERA_SST_USER@localhost (GALERA_SST_PASSWORD) with the privileges mariabackup SST needs;
#   - GALERA_CHECK_USER@'%' without password or privileges, for HAProxy's mysql-check.
# Rendered by xen-coreos; do not edit on the share.

xc_sql_string() {
    printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\\\/\\\\\\\\/g' -e "s/'/''/g")"
}

if [ -n "\${GALERA_SST_USER:-}" ] && [ -n "\${GALERA_SST_PASSWORD:-}" ]; then
    docker_process_sql --database=mysql <<EOSQL
CREATE USER IF NOT EXISTS $(xc_sql_string "$GALERA_SST_USER")@'localhost' IDENTIFIED BY $(xc_sql_string "$GALERA_SST_PASSWORD");
GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO $(xc_sql_string "$GALERA_SST_USER")@'localhost';
EOSQL
fi

if [ -n "\${GALERA_CHECK_USER:-}" ]; then
    docker_process_sql --database=mysql <<EOSQL
CREATE USER IF NOT EXISTS $(xc_sql_string "$GALERA_CHECK_USER")@'%';
EOSQL
fi
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
  /** User of `option mysql-check` (exists on the members without password). */
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

/** `haproxy.cfg` of the Galera proxy (on the share, `<confDir>/haproxy/haproxy.cfg`). */
export function renderHaproxyCfg(args: HaproxyCfgArgs): string {
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
    "# HAProxy: one MySQL port for the Galera cluster. Rendered by xen-coreos; do not edit on the share.",
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
    `    bind :${port(args.listenPort, "listenPort")}`,
    "    mode tcp",
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

/** `galera-proxy.service`: HAProxy publishing listenPort only. */
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
      ["RequiresMountsFor", `${confDir}/haproxy`],
    ],
    service: [
      ["TimeoutStartSec", "300"],
      ...dockerServiceDirectives({
        container: GALERA_DEFAULTS.proxyContainer,
        image: imageRef(args.image ?? GALERA_DEFAULTS.haproxyImage),
        ports: [`${listen}:${listen}`],
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
  proxy: Omit<HaproxyUnitArgs, "confDir"> & Pick<HaproxyCfgArgs, "balance">;
}

/** Units (templates with their instances) and share files of the Galera cluster. */
export function renderGalera(args: GaleraArgs): ServiceBundle {
  const members = args.members ?? args.nodes.length;
  if (!Number.isInteger(members) || members < 1) throw new Error(`members ${members} must be an integer >= 1`);
  if (members > args.nodes.length) throw new Error(`members ${members} exceeds the ${args.nodes.length} db nodes; Conflicts allows one member per node`);
  const checkUser = sqlUser(args.checkUser ?? GALERA_DEFAULTS.checkUser, "checkUser");
  const memberUnit = renderGaleraMemberUnit({ image: args.image, machineMetadata: args.machineMetadata });
  const discovery = renderGaleraDiscoveryUnit({ checkUser });
  const ids = Array.from({ length: members }, (_, i) => i + 1);
  memberUnit.instances = ids.map((i) => instanceName(GALERA_DEFAULTS.prefix, i));
  discovery.instances = ids.map((i) => instanceName(GALERA_DEFAULTS.discoveryPrefix, i));
  const files: RenderedFile[] = [
    {
      path: `${GALERA_DEFAULTS.confDir}/galera.cnf`,
      content: renderGaleraCnf({
        clusterName: args.clusterName,
        clusterAddresses: args.nodes.map((n) => n.address),
        sstMethod: args.sstMethod ?? "mariabackup",
        sstUser: args.sstUser,
      }),
      mode: 0o644,
    },
    { path: `${GALERA_DEFAULTS.confDir}/initdb.d/${INITDB_SCRIPT}`, content: renderInitdbScript(), mode: 0o644 },
    {
      path: `${GALERA_DEFAULTS.confDir}/haproxy/haproxy.cfg`,
      content: renderHaproxyCfg({
        members: args.nodes.map((n) => ({ name: n.name, address: n.address, port: 3306 })),
        listenPort: args.proxy.listenPort,
        checkUser,
        balance: args.proxy.balance,
      }),
      mode: 0o644,
    },
    { path: `${GALERA_DEFAULTS.scriptDir}/${PRESTART_SCRIPT}`, content: renderPrestartScript(), mode: 0o755 },
    { path: `${GALERA_DEFAULTS.scriptDir}/${DISCOVERY_SCRIPT}`, content: renderDiscoveryScript(), mode: 0o755 },
  ];
  return { units: [memberUnit, discovery, renderHaproxyUnit(args.proxy)], files };
}
