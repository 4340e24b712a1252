/**
 * Web tier (thesis §10.5.1), fixed:
 * - apache instances are plain units `apache-<i>.service` with an explicit host port
 *   `basePort + i` (the thesis's `808%i` overflowed past 9). They are not `apache@.service`
 *   instances on purpose: systemd cannot do arithmetic on `%i`, and fleet asks that
 *   `foo@N.service` units all come from one `foo@.service` template.
 * - one announce sidecar per apache (`MachineOf` it) keeps `<etcdPrefix>/<instance>` =
 *   `IP:port` alive in etcd with a TTL while the backend answers, and removes it on stop.
 * - the nginx proxy publishes port 80 only; its config and the scripts root runs are
 *   node-local files under /etc/xen-coreos/web/ (only `www/` stays on the share); the upstream
 *   block is a node-local file rendered from etcd by a sidecar `MachineOf` the proxy, which
 *   validates with `nginx -t` inside the proxy container and reloads nginx locally.
 *   No shared file edited with sed, no SSH, no hard-coded address.
 *
 * Upstream sidecar: a poll loop (default every 2 s), not `etcdctl exec-watch`. The TTL
 * refreshes are themselves etcd events (one per backend per interval), so a watch would
 * wake as often as a poll; a poll also sees expiries as plain state, needs no initial
 * listing, and cannot lose events when etcd v2's 1000-event watch window moves on.
 *
 * Pure: plain values in, strings out.
 */
import { Directive, RenderedFile, RenderedUnit, ServiceBundle, renderUnitFile, unitName, XFleet } from "../fleet/unit-file";
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

/** Defaults of the web tier. */
export const WEB_DEFAULTS = {
  apacheImage: "httpd:2.4",
  /** Document root of the official httpd image. */
  apacheDocroot: "/usr/local/apache2/htdocs",
  nginxImage: "nginx:1.26",
  proxyContainer: "nginx",
  proxyUnit: "nginx.service",
  upstreamUnit: "nginx-upstreams.service",
  /** Customer sites: the only part of the web tier on the share (apache mounts it read-only). */
  wwwDir: "/mnt/nfs/www",
  /** Node-local, root-owned (written by the program over SSH, NodeFiles): never on the share, which every NFS client can write. */
  nginxDir: "/etc/xen-coreos/web/nginx",
  scriptDir: "/etc/xen-coreos/web/scripts",
  /** Node-local directory of the rendered upstream file (tmpfs; re-rendered at proxy start). */
  upstreamDir: "/run/xen-coreos/web/upstreams",
  upstreamFileName: "web.conf",
  /** Where the proxy container sees the node's nginx directory and the upstream directory. */
  containerConfDir: "/etc/nginx/xen-coreos",
  containerUpstreamDir: "/etc/nginx/upstreams",
  upstreamName: "web_backends",
  etcdPrefix: "/xen-coreos/web/upstreams",
  announceInterval: 5,
  announceTtl: 15,
  pollInterval: 2,
  keepalive: 32,
  serverParams: "max_fails=2 fail_timeout=10s",
  stopTimeout: 10,
} as const;

export const ANNOUNCE_SCRIPT = "web-announce.sh";
export const UPSTREAM_SCRIPT = "web-upstreams.sh";

/** `apache-<i>.service`. */
export function apacheUnitName(index: number): string {
  return unitName(`apache-${checkIndex(index)}`);
}

/** `apache-announce-<i>.service`. */
export function announceUnitName(index: number): string {
  return unitName(`apache-announce-${checkIndex(index)}`);
}

function checkIndex(index: number): number {
  if (!Number.isInteger(index) || index < 1) throw new Error(`apache instance index ${index} must be an integer >= 1`);
  return index;
}

/** Host port of apache instance `index`: `basePort + index`, validated. */
export function apachePort(basePort: number, index: number): number {
  port(basePort, "apache basePort");
  return port(basePort + checkIndex(index), `apache port of instance ${index} (basePort ${basePort} + ${index})`);
}

/** Checks announce timing: INTERVAL < TTL <= 3 x INTERVAL. */
export function checkAnnounceTiming(interval: number, ttl: number): void {
  if (!Number.isInteger(interval) || interval < 1) throw new Error(`announce interval ${interval} must be a whole number of seconds >= 1`);
  if (!Number.isInteger(ttl) || ttl <= interval) {
    throw new Error(`announce ttl ${ttl} must be a whole number of seconds greater than the interval ${interval}, or the key expires between refreshes`);
  }
  if (ttl > 3 * interval) {
    throw new Error(`announce ttl ${ttl} must be at most 3 x interval (${3 * interval}); a longer ttl keeps a dead backend in the proxy`);
  }
}

export interface ApacheUnitArgs {
  /** Instance number (>= 1). */
  index: number;
  /** Host port = basePort + index (e.g. 8080 → 8081, 8082, …). */
  basePort: number;
  /** Image. Defaults to `httpd:2.4`. */
  image?: string;
  /** Share directory with the customer sites. Defaults to `/mnt/nfs/www`. */
  wwwDir?: string;
  /** Document root inside the image. Defaults to `/usr/local/apache2/htdocs`. */
  docroot?: string;
}

/** The apache instance unit: `/mnt/nfs/www` read-only at the image's docroot on host port basePort+index. */
export function renderApacheUnit(args: ApacheUnitArgs): RenderedUnit {
  const name = apacheUnitName(args.index);
  const hostPort = apachePort(args.basePort, args.index);
  const www = absPath(args.wwwDir ?? WEB_DEFAULTS.wwwDir, "wwwDir");
  const docroot = absPath(args.docroot ?? WEB_DEFAULTS.apacheDocroot, "docroot");
  const container = `apache-${args.index}`;
  const text = renderUnitFile({
    unit: [
      ["Description", `Apache instance ${args.index} (host port ${hostPort}) serving ${www} read-only`],
      ["After", "docker.service"],
      ["Requires", "docker.service"],
      ["RequiresMountsFor", www],
    ],
    service: [
      ["EnvironmentFile", "/etc/environment"],
      ["TimeoutStartSec", "300"],
      ...dockerServiceDirectives({
        container,
        image: imageRef(args.image ?? WEB_DEFAULTS.apacheImage),
        ports: [`${hostPort}:80`],
        volumes: [`${www}:${docroot}:ro`],
        stopTimeout: WEB_DEFAULTS.stopTimeout,
      }),
      ["Restart", "always"],
      ["RestartSec", "5"],
    ],
  });
  return { name, text };
}

export interface AnnounceUnitArgs {
  index: number;
  basePort: number;
  /** Seconds between refreshes. Defaults to 5. */
  interval?: number;
  /** Key TTL in seconds, INTERVAL < TTL <= 3 x INTERVAL. Defaults to 15. */
  ttl?: number;
  /** etcd directory of the upstreams. Defaults to `/xen-coreos/web/upstreams`. */
  etcdPrefix?: string;
  /** Where the scripts are on the node. Defaults to `/etc/xen-coreos/web/scripts`. */
  scriptDir?: string;
  /** Path asked to decide that the backend answers. Defaults to `/`. */
  checkPath?: string;
}

function environment(name: string, value: string | number): Directive {
  return ["Environment", `${name}=${plainWord(value, `${name} value`)}`];
}

/** Announce sidecar of apache instance `index`: BindsTo/After/MachineOf the instance. */
export function renderAnnounceUnit(args: AnnounceUnitArgs): RenderedUnit {
  const target = apacheUnitName(args.index);
  const name = announceUnitName(args.index);
  const hostPort = apachePort(args.basePort, args.index);
  const interval = args.interval ?? WEB_DEFAULTS.announceInterval;
  const ttl = args.ttl ?? WEB_DEFAULTS.announceTtl;
  checkAnnounceTiming(interval, ttl);
  const prefix = etcdDir(args.etcdPrefix ?? WEB_DEFAULTS.etcdPrefix);
  const script = `${absPath(args.scriptDir ?? WEB_DEFAULTS.scriptDir, "scriptDir")}/${ANNOUNCE_SCRIPT}`;
  const checkPath = args.checkPath ?? "/";
  if (!/^\/[A-Za-z0-9_./-]*$/.test(checkPath)) throw new Error(`checkPath ${JSON.stringify(checkPath)} must be a plain absolute URL path`);
  const xFleet: XFleet = { machineOf: target };
  const text = renderUnitFile({
    unit: [
      ["Description", `Announce apache instance ${args.index} to the web proxy through etcd`],
      ["BindsTo", target],
      ["After", target],
    ],
    service: [
      ["EnvironmentFile", "/etc/environment"],
      environment("ANNOUNCE_NAME", `apache-${args.index}`),
      environment("ANNOUNCE_PORT", hostPort),
      environment("ANNOUNCE_PREFIX", prefix),
      environment("ANNOUNCE_INTERVAL", interval),
      environment("ANNOUNCE_TTL", ttl),
      environment("ANNOUNCE_CHECK_PATH", checkPath),
      ["ExecStart", execLine(["/bin/sh", script, "run"])],
      ["ExecStop", execLine(["/bin/sh", script, "stop"])],
      ["Restart", "always"],
      ["RestartSec", "5"],
    ],
    xFleet,
  });
  return { name, text, xFleet };
}

export interface AnnounceScriptArgs {
  etcdctl?: string;
  etcdEndpoint?: string;
  /** curl binary used for the backend check. Defaults to `/usr/bin/curl`. */
  curl?: string;
}

/** `web-announce.sh run|stop`: keeps `$ANNOUNCE_PREFIX/$ANNOUNCE_NAME` = `IP:port` in etcd while the backend answers. */
export function renderAnnounceScript(args: AnnounceScriptArgs = {}): string {
  return shScript({
    file: ANNOUNCE_SCRIPT,
    description: [
      "Announces one apache backend to the web proxy through etcd (v2 API).",
      "  run   every ANNOUNCE_INTERVAL s: if http://$COREOS_PUBLIC_IPV4:$ANNOUNCE_PORT answers (< 500),",
      "        set $ANNOUNCE_PREFIX/$ANNOUNCE_NAME = IP:port with ttl ANNOUNCE_TTL, else remove it;",
      "        SIGTERM/SIGINT/SIGHUP remove the key before exiting.",
      "  stop  remove the key (the unit's ExecStop).",
      "Environment: ANNOUNCE_NAME, ANNOUNCE_PORT, COREOS_PUBLIC_IPV4 (from /etc/environment).",
    ],
    defaults: [
      ...etcdDefaults(args.etcdctl, args.etcdEndpoint),
      { name: "CURL", value: absPath(args.curl ?? "/usr/bin/curl", "curl path"), doc: "curl used to check the backend" },
      { name: "ANNOUNCE_PREFIX", value: WEB_DEFAULTS.etcdPrefix, doc: "etcd directory of the upstreams" },
      { name: "ANNOUNCE_INTERVAL", value: WEB_DEFAULTS.announceInterval, doc: "seconds between refreshes" },
      { name: "ANNOUNCE_TTL", value: WEB_DEFAULTS.announceTtl, doc: "key ttl in seconds (INTERVAL < TTL <= 3 x INTERVAL)" },
      { name: "ANNOUNCE_CHECK_PATH", value: "/", doc: "URL path asked to decide that the backend answers" },
    ],
    body: `${ETCD_SH}${NAP_SH}
die() { log "$*"; exit 2; }
is_count() { case "$1" in ''|*[!0-9]*) return 1 ;; esac; [ "$1" -ge 1 ]; }

[ -n "\${ANNOUNCE_NAME:-}" ] || die "ANNOUNCE_NAME is not set"
case "$ANNOUNCE_NAME" in *[!A-Za-z0-9_.-]*) die "ANNOUNCE_NAME '$ANNOUNCE_NAME' has characters outside [A-Za-z0-9_.-]" ;; esac
KEY="$ANNOUNCE_PREFIX/$ANNOUNCE_NAME"

withdraw() {
    if etcd rm "$KEY" >/dev/null 2>&1; then log "removed $KEY"; fi
}

case "\${1:-}" in
    stop) withdraw; exit 0 ;;
    run) ;;
    *) die "usage: $0 run|stop" ;;
esac

is_count "\${ANNOUNCE_PORT:-}" || die "ANNOUNCE_PORT is not a port number"
[ -n "\${COREOS_PUBLIC_IPV4:-}" ] || die "COREOS_PUBLIC_IPV4 is not set (see /etc/environment)"
is_count "$ANNOUNCE_INTERVAL" || die "ANNOUNCE_INTERVAL must be a whole number of seconds"
is_count "$ANNOUNCE_TTL" || die "ANNOUNCE_TTL must be a whole number of seconds"
if [ "$ANNOUNCE_TTL" -le "$ANNOUNCE_INTERVAL" ] || [ "$ANNOUNCE_TTL" -gt $((3 * ANNOUNCE_INTERVAL)) ]; then
    die "ANNOUNCE_TTL ($ANNOUNCE_TTL) must be greater than ANNOUNCE_INTERVAL ($ANNOUNCE_INTERVAL) and at most 3 times it"
fi
ADDRESS="$COREOS_PUBLIC_IPV4:$ANNOUNCE_PORT"

healthy() {
    code=$("$CURL" -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$ADDRESS$ANNOUNCE_CHECK_PATH" 2>/dev/null) || code=000
    case "$code" in ''|*[!0-9]*) return 1 ;; esac
    [ "$code" -ge 100 ] && [ "$code" -lt 500 ]
}

trap 'withdraw; exit 0' TERM INT HUP
announced=no
while :; do
    if healthy; then
        if etcd set --ttl "$ANNOUNCE_TTL" "$KEY" "$ADDRESS" >/dev/null; then
            [ "$announced" = yes ] || log "announced $KEY = $ADDRESS (ttl \${ANNOUNCE_TTL}s)"
            announced=yes
        else
            log "could not set $KEY; retrying in \${ANNOUNCE_INTERVAL}s"
        fi
    else
        [ "$announced" = no ] || log "backend $ADDRESS does not answer; withdrawing it"
        withdraw
        announced=no
    fi
    nap "$ANNOUNCE_INTERVAL"
done
`,
  });
}

export interface UpstreamConfArgs {
  /** Name of the upstream block. Defaults to `web_backends`. */
  upstreamName?: string;
  /** Idle keepalive connections per worker. Defaults to 32. */
  keepalive?: number;
  /** Parameters appended to each server line. Defaults to `max_fails=2 fail_timeout=10s`. */
  serverParams?: string;
  /** etcd directory, named in the header. */
  etcdPrefix?: string;
}

interface UpstreamSettings {
  name: string;
  keepalive: number;
  params: string;
  prefix: string;
}

function upstreamSettings(args: UpstreamConfArgs): UpstreamSettings {
  const name = args.upstreamName ?? WEB_DEFAULTS.upstreamName;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`upstream name ${JSON.stringify(name)} must be [A-Za-z_][A-Za-z0-9_]*`);
  const keepalive = args.keepalive ?? WEB_DEFAULTS.keepalive;
  if (!Number.isInteger(keepalive) || keepalive < 1 || keepalive > 10000) throw new Error(`upstream keepalive ${keepalive} must be 1..10000`);
  const params = args.serverParams ?? WEB_DEFAULTS.serverParams;
  if (!/^([a-z_]+=[A-Za-z0-9.]+( |$))*$/.test(params)) throw new Error(`serverParams ${JSON.stringify(params)} must be "key=value" words`);
  return { name, keepalive, params: params === "" ? "" : ` ${params.trim()}`, prefix: etcdDir(args.etcdPrefix ?? WEB_DEFAULTS.etcdPrefix) };
}

const ADDRESS_RE = /^([0-9]{1,3}\.){3}[0-9]{1,3}:[0-9]{1,5}$/;

/**
 * The upstream file exactly as `web-upstreams.sh` writes it (tests compare the two):
 * sorted, de-duplicated `server IP:port` lines; with no backend a single `down` server,
 * because nginx refuses an empty upstream block.
 */
export function renderUpstreamConf(addresses: string[], args: UpstreamConfArgs = {}): string {
  const s = upstreamSettings(args);
  for (const a of addresses) if (!ADDRESS_RE.test(a)) throw new Error(`upstream address ${JSON.stringify(a)} is not IPv4:port`);
  const sorted = [...new Set(addresses)].sort();
  const lines = [`# Rendered on this node by ${UPSTREAM_SCRIPT} from etcd ${s.prefix}; do not edit.`, `upstream ${s.name} {`];
  if (sorted.length === 0) {
    lines.push("    # No backend is announced yet: nginx needs one server line, so this one is marked down.");
    lines.push("    server 127.0.0.1:1 down;");
  }
  for (const a of sorted) lines.push(`    server ${a}${s.params};`);
  lines.push(`    keepalive ${s.keepalive};`, "}");
  return lines.join("\n") + "\n";
}

export interface UpstreamScriptArgs extends UpstreamConfArgs {
  etcdctl?: string;
  etcdEndpoint?: string;
  /** Upstream file on the proxy's node. Defaults to `/run/xen-coreos/web/upstreams/web.conf`. */
  upstreamFile?: string;
  /** Seconds between polls. Defaults to 2. */
  pollInterval?: number;
  /** Proxy container. Defaults to `nginx`. */
  proxyContainer?: string;
  /** nginx.conf path inside the proxy container. */
  containerNginxConf?: string;
}

/**
 * `web-upstreams.sh once|watch`: renders the upstream file from the keys under
 * `$UPSTREAM_PREFIX` (values must be IPv4:port), installs it with an atomic `mv`, and in
 * `watch` mode tests it (`$NGINX_TEST_CMD`, default `docker exec <proxy> nginx -t`) and
 * reloads nginx (`$NGINX_RELOAD_CMD`, default `docker kill -s HUP <proxy>`), restoring the
 * previous file when the test fails. If etcd cannot be read the current file is kept.
 */
export function renderUpstreamScript(args: UpstreamScriptArgs = {}): string {
  const s = upstreamSettings(args);
  const file = absPath(args.upstreamFile ?? `${WEB_DEFAULTS.upstreamDir}/${WEB_DEFAULTS.upstreamFileName}`, "upstreamFile");
  const poll = args.pollInterval ?? WEB_DEFAULTS.pollInterval;
  if (!Number.isInteger(poll) || poll < 1 || poll > 60) throw new Error(`upstream pollInterval ${poll} must be 1..60 seconds`);
  const container = args.proxyContainer ?? WEB_DEFAULTS.proxyContainer;
  const conf = absPath(args.containerNginxConf ?? `${WEB_DEFAULTS.containerConfDir}/nginx.conf`, "containerNginxConf");
  return shScript({
    file: UPSTREAM_SCRIPT,
    description: [
      "Renders the nginx upstream block of the web proxy from etcd (v2 API), on the proxy's node.",
      "  once   render and install the file, no test, no reload (proxy ExecStartPre: nginx",
      "         can start even with zero backends or without etcd)",
      "  watch  poll every POLL_INTERVAL s; when the rendering changes: install it (atomic mv),",
      "         run NGINX_TEST_CMD, then NGINX_RELOAD_CMD; restore the previous file if the test fails.",
      "Polling, not etcdctl exec-watch: TTL refreshes are etcd events too, so a watch wakes as",
      "often; a poll sees expired keys as state and cannot miss events.",
    ],
    defaults: [
      ...etcdDefaults(args.etcdctl, args.etcdEndpoint),
      { name: "UPSTREAM_PREFIX", value: s.prefix, doc: "etcd directory: one key per backend, value IPv4:port" },
      { name: "UPSTREAM_FILE", value: file, doc: "rendered file (node-local, included by nginx.conf)" },
      { name: "UPSTREAM_NAME", value: s.name, doc: "name of the upstream block" },
      { name: "UPSTREAM_KEEPALIVE", value: s.keepalive, doc: "idle keepalive connections per worker" },
      { name: "UPSTREAM_SERVER_PARAMS", value: s.params, doc: "appended to each server line" },
      { name: "POLL_INTERVAL", value: poll, doc: "seconds between polls" },
      { name: "NGINX_TEST_CMD", value: `/usr/bin/docker exec ${container} nginx -t -q -c ${conf}`, doc: "validates the config (sh -c)" },
      { name: "NGINX_RELOAD_CMD", value: `/usr/bin/docker kill -s HUP ${container}`, doc: "reloads nginx on this node (sh -c)" },
    ],
    body: `${ETCD_SH}${NAP_SH}
valid_address() {
    case "$1" in ''|*[!0-9.:]*) return 1 ;; esac
    printf '%s\\n' "$1" | grep -Eq '^([0-9]{1,3}\\.){3}[0-9]{1,3}:[0-9]{1,5}$'
}

# collect OUT: sorted, unique backend addresses into OUT; fails when etcd cannot be read.
collect() {
    if ! keys=$(etcd ls "$UPSTREAM_PREFIX" 2>&1); then
        case "$keys" in
            *"Key not found"*) keys="" ;;
            *) log "cannot list $UPSTREAM_PREFIX, keeping the current upstreams: $keys"; return 1 ;;
        esac
    fi
    printf '%s\\n' "$keys" | while IFS= read -r key; do
        [ -n "$key" ] || continue
        value=$(etcd get "$key" 2>/dev/null) || continue
        if valid_address "$value"; then
            printf '%s\\n' "$value"
        else
            log "ignoring $key: '$value' is not IPv4:port"
        fi
    done | LC_ALL=C sort -u >"$1"
}

# write_conf ADDRESSES OUT: the upstream block (same bytes as renderUpstreamConf).
write_conf() {
    {
        printf '# Rendered on this node by %s from etcd %s; do not edit.\\n' "$SCRIPT" "$UPSTREAM_PREFIX"
        printf 'upstream %s {\\n' "$UPSTREAM_NAME"
        if [ ! -s "$1" ]; then
            printf '    # No backend is announced yet: nginx needs one server line, so this one is marked down.\\n'
            printf '    server 127.0.0.1:1 down;\\n'
        fi
        while IFS= read -r address; do
            printf '    server %s%s;\\n' "$address" "$UPSTREAM_SERVER_PARAMS"
        done <"$1"
        printf '    keepalive %s;\\n' "$UPSTREAM_KEEPALIVE"
        printf '}\\n'
    } >"$2"
}

same_file() {
    [ -f "$1" ] && [ -f "$2" ] && [ "$(cat "$1")" = "$(cat "$2")" ]
}

# apply MODE: render; when the result differs, install it (MODE=install) or install, test
# and reload (MODE=reload). Returns 1 when etcd could not be read.
apply() {
    addresses="$UPSTREAM_FILE.addresses"
    candidate="$UPSTREAM_FILE.new"
    if ! collect "$addresses"; then
        rm -f "$addresses"
        return 1
    fi
    write_conf "$addresses" "$candidate"
    count=$(grep -c . "$addresses")
    rm -f "$addresses"
    if same_file "$candidate" "$UPSTREAM_FILE"; then
        rm -f "$candidate"
        return 0
    fi
    rm -f "$UPSTREAM_FILE.prev"
    [ ! -f "$UPSTREAM_FILE" ] || cp -p "$UPSTREAM_FILE" "$UPSTREAM_FILE.prev"
    mv -f "$candidate" "$UPSTREAM_FILE"
    if [ "$1" = install ]; then
        log "installed $UPSTREAM_FILE with $count backend(s)"
        return 0
    fi
    if ! output=$(sh -c "$NGINX_TEST_CMD" 2>&1); then
        log "nginx rejected the new upstreams, keeping the previous ones: $output"
        if [ -f "$UPSTREAM_FILE.prev" ]; then mv -f "$UPSTREAM_FILE.prev" "$UPSTREAM_FILE"; fi
        return 0
    fi
    rm -f "$UPSTREAM_FILE.prev"
    if output=$(sh -c "$NGINX_RELOAD_CMD" 2>&1); then
        log "reloaded nginx with $count backend(s)"
    else
        log "nginx reload failed: $output"
    fi
}

mkdir -p "$(dirname "$UPSTREAM_FILE")"
case "\${1:-}" in
    once)
        if ! apply install && [ ! -f "$UPSTREAM_FILE" ]; then
            empty="$UPSTREAM_FILE.addresses"
            : >"$empty"
            write_conf "$empty" "$UPSTREAM_FILE.new"
            rm -f "$empty"
            mv -f "$UPSTREAM_FILE.new" "$UPSTREAM_FILE"
            log "etcd unavailable: installed an upstream block without backends"
        fi
        ;;
    watch)
        trap 'exit 0' TERM INT HUP
        while :; do
            apply reload || true
            nap "$POLL_INTERVAL"
        done
        ;;
    *)
        log "usage: $0 once|watch"
        exit 2
        ;;
esac
`,
  });
}

export interface NginxConfArgs {
  /** `worker_processes`: "auto" or a count. */
  workerProcesses: "auto" | number;
  /** `worker_connections` per worker. */
  workerConnections: number;
  /** Defaults to `nginx` (the official image's user). */
  user?: string;
  pidFile?: string;
  errorLog?: string;
  accessLog?: string;
  mimeTypes?: string;
  /** Upstream file as nginx sees it. Defaults to `/etc/nginx/upstreams/web.conf`. */
  upstreamFile?: string;
  /** Directory of server blocks as nginx sees it. Defaults to `/etc/nginx/xen-coreos/conf.d`. */
  serverConfDir?: string;
  /** `keepalive_timeout` (client side) in seconds. Defaults to 65. */
  keepaliveTimeout?: number;
}

function intIn(value: number, lo: number, hi: number, what: string): number {
  if (!Number.isInteger(value) || value < lo || value > hi) throw new Error(`${what} ${value} must be an integer in ${lo}..${hi}`);
  return value;
}

/** The main nginx.conf of the proxy (node-local, `<nginxDir>/nginx.conf`). */
export function renderNginxConf(args: NginxConfArgs): string {
  const workers = args.workerProcesses === "auto" ? "auto" : String(intIn(args.workerProcesses, 1, 256, "workerProcesses"));
  const connections = intIn(args.workerConnections, 16, 65535, "workerConnections");
  const user = args.user ?? "nginx";
  if (!/^[a-z_][a-z0-9_-]*$/.test(user)) throw new Error(`nginx user ${JSON.stringify(user)} is not a user name`);
  const p = (v: string | undefined, d: string, what: string) => absPath(v ?? d, what);
  const upstreamFile = p(args.upstreamFile, `${WEB_DEFAULTS.containerUpstreamDir}/${WEB_DEFAULTS.upstreamFileName}`, "upstreamFile");
  const confDir = p(args.serverConfDir, `${WEB_DEFAULTS.containerConfDir}/conf.d`, "serverConfDir");
  return [
    "# nginx.conf of the xen-coreos web proxy. Rendered by xen-coreos; do not edit on the node.",
    `user ${user};`,
    `worker_processes ${workers};`,
    "# The container's main process: stay in the foreground.",
    "daemon off;",
    `pid ${p(args.pidFile, "/var/run/nginx.pid", "pidFile")};`,
    `error_log ${p(args.errorLog, "/var/log/nginx/error.log", "errorLog")} warn;`,
    "",
    "events {",
    `    worker_connections ${connections};`,
    "}",
    "",
    "http {",
    `    include ${p(args.mimeTypes, "/etc/nginx/mime.types", "mimeTypes")};`,
    "    default_type application/octet-stream;",
    "",
    "    log_format main '$remote_addr - $remote_user [$time_local] \"$request\" '",
    "                    '$status $body_bytes_sent \"$http_referer\" '",
    "                    '\"$http_user_agent\" \"$http_x_forwarded_for\" upstream=$upstream_addr';",
    `    access_log ${p(args.accessLog, "/var/log/nginx/access.log", "accessLog")} main;`,
    "",
    "    sendfile on;",
    `    keepalive_timeout ${intIn(args.keepaliveTimeout ?? 65, 0, 3600, "keepaliveTimeout")};`,
    "    server_tokens off;",
    "",
    "    # The upstream block: rendered on this node from etcd by web-upstreams.sh.",
    `    include ${upstreamFile};`,
    "    # Server blocks, written with this file by xen-coreos.",
    `    include ${confDir}/*.conf;`,
    "}",
    "",
  ].join("\n");
}

export interface ProxyServerConfArgs {
  /** Port nginx listens on inside the container. Defaults to 80. */
  listenPort?: number;
  /** `server_name`. Defaults to `_` (any). */
  serverName?: string;
  upstreamName?: string;
  /** Seconds. Defaults: connect 2, send 60, read 60. */
  connectTimeout?: number;
  sendTimeout?: number;
  readTimeout?: number;
  /** `proxy_next_upstream_tries`. Defaults to 3. */
  nextUpstreamTries?: number;
  /** `proxy_next_upstream_timeout` in seconds. Defaults to 10. */
  nextUpstreamTimeout?: number;
  /** `client_max_body_size`, e.g. "64m". Defaults to "64m". */
  clientMaxBodySize?: string;
}

/** The proxy server block (node-local, `<nginxDir>/conf.d/proxy.conf`). */
export function renderProxyServerConf(args: ProxyServerConfArgs = {}): string {
  const listen = port(args.listenPort ?? 80, "listenPort");
  const serverName = args.serverName ?? "_";
  if (!/^[A-Za-z0-9_.*-]+( [A-Za-z0-9_.*-]+)*$/.test(serverName)) throw new Error(`serverName ${JSON.stringify(serverName)} is not a list of names`);
  const upstream = upstreamSettings({ upstreamName: args.upstreamName }).name;
  const body = args.clientMaxBodySize ?? "64m";
  if (!/^[0-9]+[kmg]?$/.test(body)) throw new Error(`clientMaxBodySize ${JSON.stringify(body)} must look like 64m`);
  const t = (v: number | undefined, d: number, what: string) => intIn(v ?? d, 1, 3600, what);
  return [
    "# Web proxy server block. Rendered by xen-coreos; do not edit on the node.",
    "server {",
    `    listen ${listen} default_server;`,
    `    server_name ${serverName};`,
    `    client_max_body_size ${body};`,
    "",
    "    location / {",
    `        proxy_pass http://${upstream};`,
    "        # HTTP/1.1 with an empty Connection header keeps upstream connections alive.",
    "        proxy_http_version 1.1;",
    '        proxy_set_header Connection "";',
    "        proxy_set_header Host $host;",
    "        proxy_set_header X-Real-IP $remote_addr;",
    "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    "        proxy_set_header X-Forwarded-Proto $scheme;",
    `        proxy_connect_timeout ${t(args.connectTimeout, 2, "connectTimeout")}s;`,
    `        proxy_send_timeout ${t(args.sendTimeout, 60, "sendTimeout")}s;`,
    `        proxy_read_timeout ${t(args.readTimeout, 60, "readTimeout")}s;`,
    "        # Try another backend when one fails (never for non-idempotent requests).",
    "        proxy_next_upstream error timeout http_502 http_503 http_504;",
    `        proxy_next_upstream_tries ${intIn(args.nextUpstreamTries ?? 3, 1, 20, "nextUpstreamTries")};`,
    `        proxy_next_upstream_timeout ${t(args.nextUpstreamTimeout, 10, "nextUpstreamTimeout")}s;`,
    "    }",
    "",
    "    # nginx answers 502 itself when no backend is up or none is announced yet:",
    "    # say 503 with Retry-After instead (backend 502s are passed through unchanged).",
    "    error_page 502 = @no_backend;",
    "    location @no_backend {",
    "        default_type text/plain;",
    "        add_header Retry-After 5 always;",
    '        return 503 "No web backend is available, retry shortly.\\n";',
    "    }",
    "}",
    "",
  ].join("\n");
}

export interface ProxyUnitArgs {
  image?: string;
  /** Node-local directory with nginx.conf and conf.d/. Defaults to `/etc/xen-coreos/web/nginx`. */
  nginxDir?: string;
  /** Node-local upstream directory. Defaults to `/run/xen-coreos/web/upstreams`. */
  upstreamDir?: string;
  scriptDir?: string;
  /** Host port published for HTTP; the only published port. Defaults to 80. */
  publishPort?: number;
  /** Port nginx listens on inside the container (renderProxyServerConf's listenPort). Defaults to 80. */
  listenPort?: number;
  /** Placement of the proxy, e.g. ["role=web"]. */
  machineMetadata?: string[];
}

/** The nginx proxy unit: port 80 only, config and upstream dir from this node. */
export function renderProxyUnit(args: ProxyUnitArgs = {}): RenderedUnit {
  const nginxDir = absPath(args.nginxDir ?? WEB_DEFAULTS.nginxDir, "nginxDir");
  const upstreamDir = absPath(args.upstreamDir ?? WEB_DEFAULTS.upstreamDir, "upstreamDir");
  const script = `${absPath(args.scriptDir ?? WEB_DEFAULTS.scriptDir, "scriptDir")}/${UPSTREAM_SCRIPT}`;
  const publish = port(args.publishPort ?? 80, "publishPort");
  const listen = port(args.listenPort ?? 80, "listenPort");
  const xFleet: XFleet | undefined = args.machineMetadata?.length ? { machineMetadata: [...args.machineMetadata] } : undefined;
  const text = renderUnitFile({
    unit: [
      ["Description", `nginx reverse proxy of the web tier (host port ${publish})`],
      ["After", "docker.service"],
      ["Requires", "docker.service"],
    ],
    service: [
      ["EnvironmentFile", "/etc/environment"],
      ["TimeoutStartSec", "300"],
      // Directory mounts, not file mounts: an atomic replacement of a file inside stays visible.
      ...dockerServiceDirectives(
        {
          container: WEB_DEFAULTS.proxyContainer,
          image: imageRef(args.image ?? WEB_DEFAULTS.nginxImage),
          ports: [`${publish}:${listen}`],
          volumes: [`${nginxDir}:${WEB_DEFAULTS.containerConfDir}:ro`, `${upstreamDir}:${WEB_DEFAULTS.containerUpstreamDir}:ro`],
          args: ["nginx", "-c", `${WEB_DEFAULTS.containerConfDir}/nginx.conf`],
          stopTimeout: WEB_DEFAULTS.stopTimeout,
        },
        [["/bin/sh", script, "once"]],
      ),
      ["Restart", "always"],
      ["RestartSec", "5"],
    ],
    xFleet,
  });
  return { name: WEB_DEFAULTS.proxyUnit, text, xFleet };
}

/** The upstream renderer sidecar: BindsTo/After/MachineOf the proxy. */
export function renderUpstreamUnit(args: { scriptDir?: string } = {}): RenderedUnit {
  const script = `${absPath(args.scriptDir ?? WEB_DEFAULTS.scriptDir, "scriptDir")}/${UPSTREAM_SCRIPT}`;
  const xFleet: XFleet = { machineOf: WEB_DEFAULTS.proxyUnit };
  const text = renderUnitFile({
    unit: [
      ["Description", "Render the web proxy's upstreams from etcd and reload nginx on this node"],
      ["BindsTo", WEB_DEFAULTS.proxyUnit],
      ["After", WEB_DEFAULTS.proxyUnit],
    ],
    service: [
      ["EnvironmentFile", "-/etc/environment"],
      ["ExecStart", execLine(["/bin/sh", script, "watch"])],
      ["Restart", "always"],
      ["RestartSec", "5"],
    ],
    xFleet,
  });
  return { name: WEB_DEFAULTS.upstreamUnit, text, xFleet };
}

export interface WebTierArgs {
  /** Number of apache instances (apache-1 … apache-N). */
  instances: number;
  /** Host port of instance i is basePort + i. */
  basePort: number;
  apacheImage?: string;
  nginxImage?: string;
  announceInterval?: number;
  announceTtl?: number;
  /** Placement of the proxy (e.g. ["role=web"]). */
  proxyMachineMetadata?: string[];
  nginx?: Omit<NginxConfArgs, "upstreamFile" | "serverConfDir">;
  proxy?: ProxyServerConfArgs;
}

/** Every unit of the web tier and the node-local files its units read or run. */
export function renderWebTier(args: WebTierArgs): ServiceBundle {
  if (!Number.isInteger(args.instances) || args.instances < 1) throw new Error(`instances ${args.instances} must be an integer >= 1`);
  apachePort(args.basePort, args.instances);
  const units: RenderedUnit[] = [];
  for (let i = 1; i <= args.instances; i++) {
    units.push(renderApacheUnit({ index: i, basePort: args.basePort, image: args.apacheImage }));
    units.push(renderAnnounceUnit({ index: i, basePort: args.basePort, interval: args.announceInterval, ttl: args.announceTtl }));
  }
  units.push(renderProxyUnit({ image: args.nginxImage, machineMetadata: args.proxyMachineMetadata, listenPort: args.proxy?.listenPort }));
  units.push(renderUpstreamUnit());
  const files: RenderedFile[] = [
    { path: `${WEB_DEFAULTS.nginxDir}/nginx.conf`, content: renderNginxConf(args.nginx ?? { workerProcesses: "auto", workerConnections: 1024 }), mode: 0o644 },
    { path: `${WEB_DEFAULTS.nginxDir}/conf.d/proxy.conf`, content: renderProxyServerConf(args.proxy), mode: 0o644 },
    { path: `${WEB_DEFAULTS.scriptDir}/${ANNOUNCE_SCRIPT}`, content: renderAnnounceScript(), mode: 0o755 },
    { path: `${WEB_DEFAULTS.scriptDir}/${UPSTREAM_SCRIPT}`, content: renderUpstreamScript(), mode: 0o755 },
  ];
  return { units, files };
}

