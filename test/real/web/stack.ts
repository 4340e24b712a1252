/**
 * The web tier of a stack, run for real on loopback: the program's rendered files (from
 * renderWebBundle, exactly what WebCluster puts on the share), remapped only where a path
 * or an address of the container world has to become a temp-dir path or a loopback
 * address; apache2 instances with their own minimal config (the httpd:2.4 image's
 * defaults: mpm_event with compiled-in MPM settings, KeepAlive on, an access log); nginx
 * started as `nginx -p <dir> -c <conf> -e <error log>` (never the host's own config).
 */
import * as fs from "fs";
import * as path from "path";
import { parseSettings } from "../../../components/config/settings";
import { WebServiceSettings } from "../../../components/config/services-settings";
import { ServiceBundle } from "../../../components/fleet/unit-file";
import { renderWebBundle } from "../../../components/services/bundles";
import { ANNOUNCE_SCRIPT, UPSTREAM_SCRIPT, WEB_DEFAULTS, announceUnitName } from "../../../components/services/web-render";
import { stackRawSettings, WITH_KEY } from "../../fixtures/settings";
import { Daemon, runOk, startDaemon, waitForPort } from "../../support/real";

/** The stack's web settings and the bundle the program renders from them. */
export function stackWeb(stack: string): { web: WebServiceSettings; bundle: ServiceBundle } {
  const web = parseSettings(stackRawSettings(stack), WITH_KEY).services.web;
  if (!web) throw new Error(`stack ${stack} has no web service`);
  return { web, bundle: renderWebBundle(web) };
}

/** A share file of the bundle by its path. */
export function bundleFile(bundle: ServiceBundle, filePath: string): string {
  const f = bundle.files.find((x) => x.path === filePath);
  if (!f) throw new Error(`bundle has no ${filePath}; has ${bundle.files.map((x) => x.path).join(", ")}`);
  return f.content;
}

export const SCRIPT_PATHS = {
  nginxConf: `${WEB_DEFAULTS.nginxDir}/nginx.conf`,
  proxyConf: `${WEB_DEFAULTS.nginxDir}/conf.d/proxy.conf`,
  announce: `${WEB_DEFAULTS.scriptDir}/${ANNOUNCE_SCRIPT}`,
  upstream: `${WEB_DEFAULTS.scriptDir}/${UPSTREAM_SCRIPT}`,
};

/** `Environment=NAME=value` lines of a unit, as systemd would set them (values are plain words). */
export function unitEnvironment(unitText: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of unitText.split("\n")) {
    const m = /^Environment=([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

/** The rendered announce unit of instance `index`. */
export function announceUnitText(bundle: ServiceBundle, index: number): string {
  const u = bundle.units.find((x) => x.name === announceUnitName(index));
  if (!u) throw new Error(`bundle has no ${announceUnitName(index)}`);
  return u.text;
}

/** Replaces each `from` with `to`; throws when one is missing (the rendering changed: update the remap). */
export function remap(text: string, pairs: Array<[string, string]>, what: string): string {
  let out = text;
  for (const [from, to] of pairs) {
    if (!out.includes(from)) throw new Error(`${what}: expected to find ${JSON.stringify(from)} to remap`);
    out = out.split(from).join(to);
  }
  return out;
}

/** World-readable directory (apache and nginx workers run as www-data). */
export function openDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, 0o755);
  return dir;
}

export interface ApacheInstance {
  name: string;
  address: string;
  port: number;
  dir: string;
  daemon?: Daemon;
}

/**
 * Minimal apache2 config of one instance: serves `www` on address:port, like the
 * httpd:2.4 container (`-p port:80`, the share mounted at its docroot). `/whoami` answers
 * the instance's name and every response carries `X-Backend: <name>`.
 */
export function apacheConfig(inst: ApacheInstance, www: string): string {
  const mod = (name: string, file: string) => `LoadModule ${name}_module /usr/lib/apache2/modules/mod_${file}.so`;
  return [
    `# apache instance ${inst.name} (xen-coreos real web tier test)`,
    `ServerRoot ${inst.dir}`,
    `ServerName ${inst.name}`,
    `Listen ${inst.address}:${inst.port}`,
    mod("mpm_event", "mpm_event"),
    mod("authz_core", "authz_core"),
    mod("mime", "mime"),
    mod("dir", "dir"),
    mod("alias", "alias"),
    mod("headers", "headers"),
    "User www-data",
    "Group www-data",
    `PidFile ${inst.dir}/httpd.pid`,
    `DefaultRuntimeDir ${inst.dir}/run`,
    `ErrorLog ${inst.dir}/error.log`,
    "LogLevel warn",
    'LogFormat "%h %l %u %t \\"%r\\" %>s %b" common',
    `CustomLog ${inst.dir}/access.log common`,
    "TypesConfig /etc/mime.types",
    `DocumentRoot ${www}`,
    "<Directory />",
    "    AllowOverride None",
    "    Require all denied",
    "</Directory>",
    `<Directory ${www}>`,
    "    Options FollowSymLinks",
    "    AllowOverride None",
    "    Require all granted",
    "</Directory>",
    "DirectoryIndex index.html",
    `Alias /whoami ${inst.dir}/whoami.txt`,
    `<Directory ${inst.dir}>`,
    "    Require all granted",
    "</Directory>",
    `Header always set X-Backend ${inst.name}`,
    "",
  ].join("\n");
}

/**
 * Writes the instance's config and starts `apache2 -f <conf> -DFOREGROUND` (inside `netns`
 * when given); waits until it listens.
 */
export async function startApache(inst: ApacheInstance, www: string, netns?: string): Promise<Daemon> {
  openDir(inst.dir);
  openDir(path.join(inst.dir, "run"));
  fs.writeFileSync(path.join(inst.dir, "whoami.txt"), `${inst.name}\n`, { mode: 0o644 });
  const conf = path.join(inst.dir, "httpd.conf");
  fs.writeFileSync(conf, apacheConfig(inst, www));
  runOk("apache2", ["-t", "-f", conf]);
  inst.daemon = startDaemon({
    name: inst.name,
    command: "apache2",
    args: ["-f", conf, "-DFOREGROUND"],
    // Debian's apache2 reads these only through its own apache2.conf; unset so nothing leaks in.
    env: { APACHE_CONFDIR: undefined },
    logFile: path.join(inst.dir, "stdout.log"),
    netns,
  });
  await waitForPort(inst.address, inst.port, { timeoutMs: 15000, netns }).catch((e) => {
    throw new Error(`${e.message}\n${inst.daemon!.log()}\n${readIf(path.join(inst.dir, "error.log"))}`);
  });
  return inst.daemon;
}

export function readIf(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** The small static page of the benchmark and the test www tree. */
export function writeWww(dir: string): string {
  const www = openDir(dir);
  fs.writeFileSync(path.join(www, "index.html"), "<!doctype html>\n<html><head><title>xen-coreos</title></head><body><p>It works.</p></body></html>\n", { mode: 0o644 });
  return www;
}

export interface NginxRun {
  dir: string;
  conf: string;
  errorLog: string;
  /** argv prefix that names this instance: `-p dir -c conf -e errorLog`. */
  args: string[];
}

/** argv for an nginx whose prefix, config and early error log are all in `dir`. */
export function nginxRun(dir: string, conf: string): NginxRun {
  const errorLog = path.join(dir, "logs", "error.log");
  openDir(path.join(dir, "logs"));
  return { dir, conf, errorLog, args: ["-p", `${dir}/`, "-c", conf, "-e", errorLog] };
}

/** `nginx -t`, then nginx in the foreground (inside `netns` when given); waits until address:port accepts connections. */
export async function startNginx(name: string, runArgs: NginxRun, address: string, port: number, extra: string[] = [], netns?: string): Promise<Daemon> {
  runOk("nginx", [...runArgs.args, ...extra, "-t", "-q"]);
  const d = startDaemon({ name, command: "nginx", args: [...runArgs.args, ...extra], logFile: path.join(runArgs.dir, "stdout.log"), netns });
  await waitForPort(address, port, { timeoutMs: 15000, netns }).catch((e) => {
    throw new Error(`${e.message}\n${d.log()}\n${readIf(runArgs.errorLog)}`);
  });
  return d;
}

/**
 * The rendered nginx.conf with the container's paths moved into `dir`: pid, logs, the
 * node-local upstream file and the share's conf.d; `user nginx` (the official image's user,
 * absent on Debian) becomes www-data. mime.types is Debian's own /etc/nginx/mime.types.
 */
export function remapRenderedNginxConf(text: string, dir: string, upstreamFile: string, confD: string): string {
  return remap(
    text,
    [
      ["user nginx;", "user www-data;"],
      ["pid /var/run/nginx.pid;", `pid ${dir}/nginx.pid;`],
      ["error_log /var/log/nginx/error.log warn;", `error_log ${dir}/logs/error.log warn;`],
      ["access_log /var/log/nginx/access.log main;", `access_log ${dir}/logs/access.log main;`],
      [`include ${WEB_DEFAULTS.containerUpstreamDir}/${WEB_DEFAULTS.upstreamFileName};`, `include ${upstreamFile};`],
      [`include ${WEB_DEFAULTS.containerConfDir}/conf.d/*.conf;`, `include ${confD}/*.conf;`],
    ],
    "rendered nginx.conf",
  );
}

/** The rendered proxy server block listening on address:port instead of port 80 of the container. */
export function remapRenderedProxyConf(text: string, address: string, port: number): string {
  return remap(text, [["listen 80 default_server;", `listen ${address}:${port} default_server;`]], "rendered proxy.conf");
}
