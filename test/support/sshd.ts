/**
 * A real OpenSSH server (Debian's /usr/sbin/sshd) on 127.0.0.1 for tests: its own host key,
 * client key, config, pid file and authorized_keys in a directory the test owns, a free port,
 * stopped by `stop()` (call it in afterAll, also on failure).
 *
 * Optionally it runs in a private mount namespace with a tmpfs on given paths, so that what
 * remote commands write there (e.g. /mnt/nfs, /etc/xen-coreos) lands in memory that vanishes
 * with the server, never on this machine. That needs root; the mount points are created on the
 * host when missing (empty directories, left in place: another test's namespace may be using
 * them, and removing a directory detaches the mounts other namespaces have on it).
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export const SSHD = "/usr/sbin/sshd";

/** Why an sshd cannot be started here, or undefined. */
export function sshdMissing(opts: { namespace?: boolean } = {}): string | undefined {
  if (!fs.existsSync(SSHD)) return `${SSHD} is missing (apt-get install -y openssh-server)`;
  for (const program of ["ssh-keygen", "ssh", ...(opts.namespace ? ["unshare", "nsenter"] : [])]) {
    if (spawnSync("sh", ["-c", `command -v "$1" >/dev/null`, "sh", program]).status !== 0) return `${program} is missing (apt-get install -y openssh-client util-linux)`;
  }
  if (opts.namespace && process.getuid?.() !== 0) return "a private mount namespace for the test sshd needs root";
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, "127.0.0.1");
      sock.once("connect", () => {
        sock.destroy();
        resolve(true);
      });
      sock.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listened on 127.0.0.1:${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Generates an ed25519 key pair without a passphrase at `file` / `file.pub`. */
export function keygen(file: string, comment: string): void {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], { stdio: "ignore" });
}

export interface SshdOptions {
  /** Directory for keys, config and pid file (created). */
  dir: string;
  /** `PermitRootLogin`. Defaults to prohibit-password. */
  permitRootLogin?: "yes" | "prohibit-password" | "no";
  /** `AcceptEnv` names. */
  acceptEnv?: string[];
  /** `SetEnv` variables for every session (values without whitespace or quotes). */
  setEnv?: Record<string, string>;
  /** Run in a private mount namespace with a tmpfs mounted on each of these absolute paths. */
  tmpfs?: string[];
  /** Host keys offered besides the ed25519 one (as a stock host has, from sshd-keygen). */
  extraHostKeyTypes?: Array<"ecdsa" | "rsa">;
}

export interface Sshd {
  port: number;
  /** Pid of the sshd listener (also the process whose mount namespace holds the tmpfs). */
  pid: number;
  /** OpenSSH private key of the client (authorized for every user), its file and public line. */
  clientKey: string;
  clientKeyFile: string;
  clientPublicKey: string;
  /** The server's public host key line (`ssh-ed25519 AAAA… comment`). */
  hostKey: string;
  /** Every public host key line it offers, by type (ed25519 and the extra ones). */
  hostKeys: Record<string, string>;
  /** What sshd printed (-e): for error messages. */
  log(): string;
  /** Runs `command` as `user` over SSH with the `ssh` client; returns stdout, throws on failure. */
  ssh(user: string, command: string, input?: string): string;
  /** Runs argv inside the server's mount namespace (nsenter); returns stdout, throws on failure. */
  inNamespace(argv: string[], input?: string): string;
  /**
   * The argv of one `sshd -i` (inetd mode: one connection on stdin/stdout, as a socket-activated
   * `sshd@.service` runs it) with this server's config, in its mount namespace.
   */
  inetdArgv(config?: string): string[];
  /**
   * A copy of this server's config that offers only `keyFile` as its host key (a node whose host
   * key the program wrote), for `inetdArgv`. The file must be a private key sshd accepts (0600).
   */
  configWithHostKey(keyFile: string): string;
  stop(): Promise<void>;
}

export async function startSshd(opts: SshdOptions): Promise<Sshd> {
  const dir = opts.dir;
  fs.mkdirSync(dir, { recursive: true });
  keygen(path.join(dir, "host_key"), "xen-coreos-test-host");
  for (const type of opts.extraHostKeyTypes ?? [])
    execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", `xen-coreos-test-host-${type}`, "-f", path.join(dir, `host_key_${type}`)], { stdio: "ignore" });
  keygen(path.join(dir, "client_key"), "xen-coreos-test-client");
  fs.copyFileSync(path.join(dir, "client_key.pub"), path.join(dir, "authorized_keys"));
  const clientKeyFile = path.join(dir, "client_key");
  const port = await freePort();
  const setEnv = Object.entries(opts.setEnv ?? {});
  for (const [k, v] of setEnv) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || /[\s"'\\]/.test(v)) throw new Error(`SetEnv ${k}=${v}: only plain names and values without whitespace or quotes`);
  }
  const config = path.join(dir, "sshd_config");
  fs.writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${path.join(dir, "host_key")}`,
      ...(opts.extraHostKeyTypes ?? []).map((type) => `HostKey ${path.join(dir, `host_key_${type}`)}`),
      `PidFile ${path.join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      "StrictModes no",
      "UsePAM no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      `PermitRootLogin ${opts.permitRootLogin ?? "prohibit-password"}`,
      // OpenSSH's own limits, as on a stock host: MaxStartups 10:30:100 (past 10 unauthenticated
      // connections, refuse 30 % rising to all at 100), MaxSessions 10. Not raised for tests.
      ...(opts.acceptEnv?.length ? [`AcceptEnv ${opts.acceptEnv.join(" ")}`] : []),
      ...(setEnv.length ? [`SetEnv ${setEnv.map(([k, v]) => `${k}=${v}`).join(" ")}`] : []),
      "",
    ].join("\n"),
  );
  if (process.getuid?.() === 0) fs.mkdirSync("/run/sshd", { recursive: true }); // privilege separation directory

  let child: ChildProcess;
  const tmpfs = opts.tmpfs ?? [];
  if (tmpfs.length) {
    for (const p of tmpfs) {
      if (!path.isAbsolute(p) || /[\s'"\\$`]/.test(p)) throw new Error(`tmpfs path ${p}: absolute, without whitespace or shell characters`);
      fs.mkdirSync(p, { recursive: true });
    }
    // unshare execs sh, which execs sshd: one pid, whose namespace the tmpfs mounts live in.
    const script = [...tmpfs.map((p) => `mount -t tmpfs -o mode=0755 tmpfs '${p}'`), `exec ${SSHD} -D -e -f '${config}'`].join(" && ");
    child = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", script], { stdio: ["ignore", "ignore", "pipe"] });
  } else {
    child = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  }
  let log = "";
  child.stderr?.on("data", (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitForPort(port, 10_000);
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n${log}`);
  }

  const run = (file: string, args: string[], input?: string) => {
    const r = spawnSync(file, args, { input: input ?? "", encoding: "utf8", timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${file} ${args.join(" ")} -> ${r.status ?? r.signal}\n${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  return {
    port,
    pid: child.pid!,
    clientKey: fs.readFileSync(clientKeyFile, "utf8"),
    clientKeyFile,
    clientPublicKey: fs.readFileSync(`${clientKeyFile}.pub`, "utf8").trim(),
    hostKey: fs.readFileSync(path.join(dir, "host_key.pub"), "utf8").trim(),
    hostKeys: Object.fromEntries([
      ["ed25519", fs.readFileSync(path.join(dir, "host_key.pub"), "utf8").trim()],
      ...(opts.extraHostKeyTypes ?? []).map((type) => [type, fs.readFileSync(path.join(dir, `host_key_${type}.pub`), "utf8").trim()]),
    ]),
    log: () => log,
    ssh: (user, command, input) =>
      run("ssh", [
        "-q", "-i", clientKeyFile, "-p", String(port),
        "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no", "-o", `UserKnownHostsFile=${os.devNull}`,
        `${user}@127.0.0.1`, command,
      ], input),
    inNamespace: (argv, input) => run("nsenter", ["-t", String(child.pid), "-m", "--", ...argv], input),
    inetdArgv: (file = config) => (tmpfs.length ? ["nsenter", "-t", String(child.pid), "-m", "--"] : []).concat([SSHD, "-i", "-e", "-f", file]),
    configWithHostKey: (keyFile) => {
      const variant = `${config}.${crypto.createHash("sha1").update(keyFile).digest("hex").slice(0, 12)}`;
      if (!fs.existsSync(variant)) {
        // Written whole, then renamed: connections arrive in parallel, and an sshd must never read a half-written file.
        const text = fs.readFileSync(config, "utf8").split("\n").filter((l) => !l.startsWith("HostKey ")).join("\n");
        const tmp = `${variant}.${process.pid}.${crypto.randomBytes(4).toString("hex")}`;
        fs.writeFileSync(tmp, `HostKey ${keyFile}\n${text}`);
        fs.renameSync(tmp, variant);
      }
      return variant;
    },
    stop,
  };
}
