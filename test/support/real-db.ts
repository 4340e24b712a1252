/**
 * Helpers shared by the real-server tiers of the database and FTP services
 * (test/real/galera, test/real/ftp). Process, namespace and temp-dir plumbing is in
 * ./real.ts; this file only adds what those two tiers need on top of it.
 */
import * as crypto from "crypto";
import * as fs from "fs";

/**
 * A password like `random.RandomPassword({ length, special: false })` gives the services'
 * components (galera-cluster.ts, ftp-service.ts): upper, lower and digits only.
 */
export function generatedPassword(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[crypto.randomInt(alphabet.length)];
  return out;
}

/** Replaces every secret in `text` by <secret>, for error messages and logs. */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join("<secret>");
  return out;
}

/**
 * Names for `describeWith`: the programs, plus a pseudo-name for each missing file and for
 * "root" when not running as root, so a tier skips (or fails under CI=true) with one line
 * naming everything it lacks.
 */
export function prerequisites(programs: string[], opts: { files?: Record<string, string>; root?: boolean } = {}): string[] {
  const names = [...programs];
  for (const [name, paths] of Object.entries(opts.files ?? {})) {
    if (!paths.split(":").some((p) => fs.existsSync(p))) names.push(name);
  }
  if (opts.root && process.getuid?.() !== 0) names.push("root (namespaces and mounts)");
  return names;
}

/** uid and gid of a local account, or undefined. */
export function account(name: string): { uid: number; gid: number } | undefined {
  for (const line of fs.readFileSync("/etc/passwd", "utf8").split("\n")) {
    const f = line.split(":");
    if (f[0] === name && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/** Prints a measured figure on one line (jest shows console.log with its origin). */
export function figure(what: string, ms: number, extra = ""): void {
  // eslint-disable-next-line no-console
  console.log(`${what}: ${(ms / 1000).toFixed(1)} s${extra ? ` (${extra})` : ""}`);
}

/** The last `lines` lines of a file ("" when missing). */
export function tailFile(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}
