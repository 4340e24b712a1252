/**
 * Building blocks shared by the service renderers (web, galera, ftp):
 * - `shScript`: a POSIX sh script with a fixed header and environment-overridable
 *   defaults (every default is assigned through `shellAssign`, so any value is one word);
 * - `ETCD_SH`: the etcd v2 (`etcdctl` of CoreOS's etcd2 era) helper functions;
 * - `execLine` / `dockerServiceDirectives`: Exec lines for a container unit.
 *
 * systemd parses Exec lines with its own quoting rules, which differ from sh (a `\:` that
 * sh accepts is an invalid escape for systemd). Exec lines built here therefore contain
 * no quoting at all: every word is checked to be "plain" and a word that would need
 * quoting is an error. Logic lives in script files, not in `/bin/sh -c '…'` bodies.
 *
 * Pure: plain values in, strings out.
 */
import { shellAssign } from "../../shell";
import { Directive } from "../../fleet/unit-file";
import { ETCD_LOCAL_CLIENT_URL, ETCD_TLS } from "../../etcd/etcd-tls";

/** Characters an Exec word may contain without quoting for systemd (and for sh). */
const PLAIN_WORD_RE = /^[A-Za-z0-9_@%/.:,=+{}$-]+$/;

/** Throws unless `word` can be written into an Exec line without quoting. */
export function plainWord(word: string | number, what = "argument"): string {
  const text = String(word);
  if (!PLAIN_WORD_RE.test(text)) {
    throw new Error(`${what} ${JSON.stringify(text)} needs quoting in a unit file; use only [A-Za-z0-9_@%/.:,=+{}$-]`);
  }
  return text;
}

/** Joins plain words into an Exec line value (see `plainWord`). */
export function execLine(words: ReadonlyArray<string | number>): string {
  if (words.length === 0) throw new Error("an Exec line needs a command");
  const first = String(words[0]);
  const command = first.startsWith("-") ? first.slice(1) : first;
  if (!command.startsWith("/")) throw new Error(`Exec command ${JSON.stringify(first)} must be an absolute path`);
  return words.map((w) => plainWord(w)).join(" ");
}

/** Validates a docker container name. */
export function containerName(name: string): string {
  // systemd specifiers such as %i are expanded before docker sees the name.
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9_.-]|%[a-zA-Z])*$/.test(name)) throw new Error(`invalid container name ${JSON.stringify(name)}`);
  return name;
}

/** Validates a docker image reference (`name[:tag]`, optional registry/path). */
export function imageRef(image: string): string {
  if (!/^[a-z0-9]+([._/-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/.test(image)) {
    throw new Error(`invalid docker image reference ${JSON.stringify(image)} (e.g. "httpd:2.4")`);
  }
  return image;
}

/** Validates a TCP port number. */
export function port(value: number, what = "port"): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${what} ${value} is not a TCP port (1-65535)`);
  return value;
}

/** Validates an absolute path without spaces or shell metacharacters. */
export function absPath(path: string, what = "path"): string {
  if (!/^\/[A-Za-z0-9_./@+-]*$/.test(path) || path.includes("..")) {
    throw new Error(`${what} ${JSON.stringify(path)} must be an absolute path of [A-Za-z0-9_./@+-]`);
  }
  return path;
}

/** Validates an etcd v2 key directory (`/a/b`, no trailing slash). */
export function etcdDir(path: string, what = "etcd prefix"): string {
  if (!/^(\/[A-Za-z0-9_.-]+)+$/.test(path)) throw new Error(`${what} ${JSON.stringify(path)} must look like /a/b (no trailing slash)`);
  return path;
}

export interface ContainerSpec {
  /** docker `--name`. */
  container: string;
  /** Image reference. */
  image: string;
  /** `-p` values, e.g. `8081:80`. */
  ports?: string[];
  /** `-v` values, e.g. `/mnt/nfs/www:/usr/local/apache2/htdocs:ro`. */
  volumes?: string[];
  /** Names passed with `-e NAME`: docker copies the value from its own environment, so the value never appears in the unit. */
  env?: string[];
  /**
   * Environment variables written unbraced (`$NAME`) after the volumes: systemd replaces such a
   * word by the variable's value split at whitespace (systemd.service, "Command lines"), e.g. a
   * list of `-v` options from an `EnvironmentFile`, which has no line-length limit.
   */
  expand?: string[];
  /**
   * `-e NAME=value` pairs for values that are no secret (a user name, a file path): docker
   * keeps them in the container's config, visible in `docker inspect`. Never a password.
   */
  envValues?: Array<[string, string]>;
  /** docker `--network`, e.g. "host" (then `ports` must be empty). Defaults to docker's bridge. */
  network?: "host";
  /** Arguments after the image (entrypoint arguments). */
  args?: string[];
  /** Seconds `docker stop` waits before killing. */
  stopTimeout: number;
}

/**
 * The Exec lines of a container unit: remove a leftover container (`-`: may not exist),
 * pull the image (`-`: a registry outage must not stop a restart from the local copy),
 * `docker run --rm` in the foreground, and `docker stop` with a grace period.
 * `pre` lines run between the pull and the run.
 */
export function dockerServiceDirectives(spec: ContainerSpec, pre: string[][] = []): Directive[] {
  const name = containerName(spec.container);
  const image = imageRef(spec.image);
  const run: string[] = ["/usr/bin/docker", "run", "--rm", "--name", name];
  if (spec.network) {
    if (spec.ports?.length) throw new Error(`container ${name}: --network ${spec.network} publishes nothing; drop its ports (${spec.ports.join(", ")})`);
    run.push("--network", spec.network);
  }
  for (const p of spec.ports ?? []) run.push("-p", p);
  for (const v of spec.volumes ?? []) run.push("-v", v);
  for (const e of spec.env ?? []) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(e)) throw new Error(`environment name ${JSON.stringify(e)} must be [A-Z_][A-Z0-9_]*`);
    run.push("-e", e);
  }
  for (const e of spec.expand ?? []) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(e)) throw new Error(`environment name ${JSON.stringify(e)} must be [A-Z_][A-Z0-9_]*`);
    run.push(`$${e}`);
  }
  for (const [k, v] of spec.envValues ?? []) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`environment name ${JSON.stringify(k)} must be [A-Z_][A-Z0-9_]*`);
    run.push("-e", `${k}=${plainWord(v, k)}`);
  }
  run.push(image, ...(spec.args ?? []));
  return [
    ["ExecStartPre", execLine(["-/usr/bin/docker", "rm", "-f", name])],
    ["ExecStartPre", execLine(["-/usr/bin/docker", "pull", image])],
    ...pre.map((words): Directive => ["ExecStartPre", execLine(words)]),
    ["ExecStart", execLine(run)],
    ["ExecStop", execLine(["/usr/bin/docker", "stop", "-t", spec.stopTimeout, name])],
  ];
}

/** A default that the environment may override: `NAME=${NAME:-$DEFAULT_NAME}`. */
export interface ScriptDefault {
  name: string;
  value: string | number;
  /** One line saying what it is. */
  doc: string;
}

export interface ScriptSpec {
  /** File name, used in the header and in log lines. */
  file: string;
  /** What the script does, one or more lines (no leading '#'). */
  description: string[];
  defaults: ScriptDefault[];
  /** Script body after the defaults (POSIX sh). */
  body: string;
}

/** Renders a POSIX sh script: header, `set -u`, documented defaults, `log`, the body. */
export function shScript(spec: ScriptSpec): string {
  const lines: string[] = ["#!/bin/sh", `# ${spec.file}`];
  for (const d of spec.description) lines.push(d === "" ? "#" : `# ${d}`);
  lines.push("#", "# Rendered by xen-coreos; do not edit on the share (the next `pulumi up` rewrites it).", "set -u", "");
  if (spec.defaults.length > 0) {
    lines.push("# Defaults; each may be overridden through the environment.");
    for (const d of spec.defaults) {
      lines.push(`# ${d.name}: ${d.doc}`);
      lines.push(shellAssign(`DEFAULT_${d.name}`, d.value));
      lines.push(`${d.name}=\${${d.name}:-$DEFAULT_${d.name}}`);
    }
    lines.push("");
  }
  lines.push(shellAssign("SCRIPT", spec.file));
  lines.push(`log() { printf '%s: %s\\n' "$SCRIPT" "$*" >&2; }`, "");
  return lines.join("\n") + "\n" + spec.body.replace(/^\n+/, "").replace(/\n*$/, "\n");
}

/**
 * Defaults for the etcd helpers (`ETCDCTL`, `ETCD_ENDPOINT` and the node's TLS files). etcd
 * serves https only and asks every client for a certificate of the deployment's CA: the
 * helper passes the node's (the units run as root, which reads the key).
 */
export function etcdDefaults(etcdctl = "/usr/bin/etcdctl", endpoint = ETCD_LOCAL_CLIENT_URL): ScriptDefault[] {
  absPath(etcdctl, "etcdctl path");
  if (!/^https:\/\/[A-Za-z0-9.:[\]-]+$/.test(endpoint)) throw new Error(`etcd endpoint ${JSON.stringify(endpoint)} must be https://host:port (etcd serves no plain http)`);
  return [
    { name: "ETCDCTL", value: etcdctl, doc: "etcdctl of the etcd2 era (v2 API: set/rm/ls/get/mk)" },
    { name: "ETCD_ENDPOINT", value: endpoint, doc: "etcd client URL (https); /etc/environment may set ETCD_ENDPOINT" },
    { name: "ETCD_CA_FILE", value: ETCD_TLS.caFile, doc: "CA that signs etcd's certificate" },
    { name: "ETCD_CERT_FILE", value: ETCD_TLS.certFile, doc: "the node's client certificate for etcd" },
    { name: "ETCD_KEY_FILE", value: ETCD_TLS.keyFile, doc: "its private key (root and etcd only)" },
  ];
}

/** The `etcd` helper: etcdctl (v2 API) against `$ETCD_ENDPOINT`, with the node's certificate. */
export const ETCD_SH = `etcd() { "$ETCDCTL" --endpoint "$ETCD_ENDPOINT" --ca-file "$ETCD_CA_FILE" --cert-file "$ETCD_CERT_FILE" --key-file "$ETCD_KEY_FILE" "$@"; }
`;

/** Sleeps in the background so a trapped signal is handled at once, not after the sleep. */
export const NAP_SH = `nap() { sleep "$1" & wait $!; }
`;
