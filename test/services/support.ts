/**
 * Test support for the fleet and service renderers: systemd-analyze verification of
 * rendered units, shell-snippet extraction, a fake etcdctl (v2 CLI subset) and helpers to
 * run the rendered scripts as child processes.
 */
import { spawn, spawnSync, ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RenderedUnit } from "../../components/fleet/unit-file";

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `xc-${prefix}-`));
}

/** The single warning fleet's section may cause; systemd 252 ignores X- sections silently. */
const X_FLEET_WARNING = /Unknown section 'X-Fleet'\. Ignoring\.$/;

/**
 * Runs `systemd-analyze verify --man=no --root=<tmp>` on the units. The temporary root
 * holds the host's /lib/systemd/system (for sysinit.target & co.), the units under
 * /etc/systemd/system, a stub docker.service (CoreOS ships one; Debian here does not), and
 * stub executables for every absolute Exec path (docker, /bin/sh, …) so that systemd's
 * "is not executable" check passes: the stubs exist only inside the temporary root.
 * Templates are verified as instances (`name@1.service`). Returns systemd's output minus
 * the X-Fleet warning; "" means clean.
 */
export function systemdVerify(units: RenderedUnit[]): { output: string; status: number | null; verified: string[] } {
  const root = tempDir("verify");
  const unitDir = path.join(root, "etc/systemd/system");
  fs.mkdirSync(unitDir, { recursive: true });
  fs.cpSync("/lib/systemd/system", path.join(root, "usr/lib/systemd/system"), { recursive: true, dereference: false });
  fs.writeFileSync(path.join(unitDir, "docker.service"), "[Unit]\nDescription=Stub of CoreOS's docker.service (verification only)\n\n[Service]\nExecStart=/usr/bin/docker daemon\n");
  const executables = new Set<string>(["/usr/bin/docker"]);
  const names: string[] = [];
  for (const u of units) {
    // A drop-in is named `<unit>.d/<file>.conf`: written beside its unit, verified through it.
    fs.mkdirSync(path.dirname(path.join(unitDir, u.name)), { recursive: true });
    fs.writeFileSync(path.join(unitDir, u.name), u.text);
    if (!u.name.includes("/")) names.push(u.name.includes("@.") ? u.name.replace("@.", "@1.") : u.name);
    for (const line of u.text.split("\n")) {
      const m = /^Exec[A-Za-z]*=[-@+!:]*(\/\S+)/.exec(line);
      if (m) executables.add(m[1]);
    }
  }
  for (const exe of executables) {
    const p = path.join(root, exe);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, "#!/bin/sh\n# stub for systemd-analyze verify\nexit 0\n", { mode: 0o755 });
  }
  const r = spawnSync("systemd-analyze", ["verify", "--man=no", `--root=${root}`, ...names], { encoding: "utf8" });
  fs.rmSync(root, { recursive: true, force: true });
  const output = `${r.stdout}${r.stderr}`
    .split("\n")
    .filter((l) => l.trim() !== "" && !X_FLEET_WARNING.test(l))
    .join("\n");
  return { output, status: r.status, verified: names };
}

/** Bodies of `/bin/sh -c '…'` (or bash -c) in Exec lines, for shellcheck. */
export function shellSnippets(unitText: string): string[] {
  const out: string[] = [];
  for (const line of unitText.split("\n")) {
    const m = /^Exec[A-Za-z]*=[-@+!:]*\/(?:usr\/)?bin\/(?:ba)?sh -c (?:'(.*)'|"(.*)")$/.exec(line);
    if (m) out.push(`#!/bin/sh\n${(m[1] ?? m[2]).replace(/\$\$/g, "$").replace(/%%/g, "%")}\n`);
  }
  return out;
}

/**
 * A fake etcdctl (the v2 CLI subset the scripts use: set/mk/get/rm/ls with --ttl,
 * --recursive) over a directory: key /a/b is the file $FAKE_ETCD_DIR/a/b. Every call is
 * appended to $FAKE_ETCD_LOG. FAKE_ETCD_DOWN=1 answers like an unreachable cluster.
 * Error texts follow etcdctl's ("Key not found", "Key already exists").
 * Global options as etcdctl v2 takes them before the command (etcd v3.5.17
 * etcdctl/ctlv2/ctl.go: --endpoint, --endpoints, --peers/-C, --ca-file, --cert-file,
 * --key-file). Like the platform's etcd (https only, client-cert-auth), it refuses a call
 * without an https endpoint and a client certificate, the way etcdctl reports a failed
 * connection ("cluster is unavailable or misconfigured").
 */
export const FAKE_ETCDCTL = `#!/bin/sh
set -u
root=\${FAKE_ETCD_DIR:?}
printf '%s\\n' "$*" >>"\${FAKE_ETCD_LOG:-/dev/null}"
if [ "\${FAKE_ETCD_DOWN:-0}" = 1 ]; then
    echo "Error:  client: etcd cluster is unavailable or misconfigured" >&2
    exit 4
fi
endpoint=
cert=
while [ $# -gt 0 ]; do
    case "$1" in
        --endpoint|--endpoints|--peers|-C) endpoint=$2; shift 2 ;;
        --cert-file) cert=$2; shift 2 ;;
        --ca-file|--key-file) shift 2 ;;
        *) break ;;
    esac
done
case "$endpoint" in https://*) ;; *) echo "Error:  client: etcd cluster is unavailable or misconfigured; error #0: malformed HTTP response (etcd serves https only)" >&2; exit 4 ;; esac
if [ -z "$cert" ]; then
    echo "Error:  client: etcd cluster is unavailable or misconfigured; error #0: remote error: tls: bad certificate" >&2
    exit 4
fi
cmd=$1
shift
ttl=
recursive=no
while [ $# -gt 0 ]; do
    case "$1" in
        --ttl) ttl=$2; shift 2 ;;
        --recursive) recursive=yes; shift ;;
        -p) shift ;;
        *) break ;;
    esac
done
: "$ttl"
notfound() { echo "Error:  100: Key not found ($1) [7]" >&2; exit 4; }
case "$cmd" in
    set|mk)
        if [ "$cmd" = mk ] && [ -e "$root$1" ]; then
            echo "Error:  105: Key already exists ($1) [7]" >&2
            exit 4
        fi
        mkdir -p "$root$(dirname "$1")"
        printf '%s' "$2" >"$root$1"
        printf '%s\\n' "$2"
        ;;
    get)
        [ -f "$root$1" ] || notfound "$1"
        cat "$root$1"
        echo
        ;;
    rm)
        if [ -d "$root$1" ] && [ "$recursive" = yes ]; then rm -rf "\${root:?}$1"
        elif [ -f "$root$1" ]; then rm -f "$root$1"
        else notfound "$1"
        fi
        ;;
    ls)
        [ -d "$root$1" ] || notfound "$1"
        if [ "$recursive" = yes ]; then
            find "$root$1" -mindepth 1 | sed "s|^$root||" | LC_ALL=C sort
        else
            find "$root$1" -mindepth 1 -maxdepth 1 | sed "s|^$root||" | LC_ALL=C sort
        fi
        ;;
    *) echo "fake etcdctl: unsupported command $cmd" >&2; exit 1 ;;
esac
`;

export interface Sandbox {
  dir: string;
  etcdDir: string;
  etcdLog: string;
  etcdctl: string;
  /** Writes an executable file in the sandbox and returns its path. */
  exe(name: string, content: string): string;
  /** Writes a file in the sandbox and returns its path. */
  file(name: string, content: string): string;
  /** Sets an etcd key in the fake store. */
  setKey(key: string, value: string): void;
  key(key: string): string | undefined;
  cleanup(): void;
}

export function sandbox(prefix: string): Sandbox {
  const dir = tempDir(prefix);
  const etcdDir = path.join(dir, "etcd");
  fs.mkdirSync(etcdDir);
  const sb: Sandbox = {
    dir,
    etcdDir,
    etcdLog: path.join(dir, "etcd.log"),
    etcdctl: "",
    exe(name, content) {
      const p = path.join(dir, name);
      fs.writeFileSync(p, content, { mode: 0o755 });
      return p;
    },
    file(name, content) {
      const p = path.join(dir, name);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
      return p;
    },
    setKey(key, value) {
      const p = path.join(etcdDir, key);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, value);
    },
    key(key) {
      const p = path.join(etcdDir, key);
      return fs.existsSync(p) && fs.statSync(p).isFile() ? fs.readFileSync(p, "utf8") : undefined;
    },
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  sb.etcdctl = sb.exe("etcdctl", FAKE_ETCDCTL);
  return sb;
}

/** Environment for a script run against the sandbox's fake etcd. */
export function scriptEnv(sb: Sandbox, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    ETCDCTL: sb.etcdctl,
    ETCD_ENDPOINT: "https://127.0.0.1:2379",
    FAKE_ETCD_DIR: sb.etcdDir,
    FAKE_ETCD_LOG: sb.etcdLog,
    ...extra,
  };
}

/** Runs a script to completion with `sh`. */
export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("sh", [script, ...args], { env, encoding: "utf8", timeout: 20000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const started: ChildProcess[] = [];

/** Kills every script started by `startScript` that is still running (call in afterEach). */
export function killStarted(): void {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}

/** Starts a long-running script with `sh`; collect stderr through `.stderrText()`. */
export function startScript(script: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess & { stderrText: () => string } {
  const child = spawn("sh", [script, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  let err = "";
  child.stderr?.on("data", (d) => (err += String(d)));
  child.stdout?.on("data", () => undefined);
  return Object.assign(child, { stderrText: () => err });
}

/** Polls `cond` every 50 ms until true or `timeoutMs`; returns the last value. */
export async function waitFor(cond: () => boolean, timeoutMs = 8000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

/** Sends SIGTERM and resolves with the exit code. */
export function terminate(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });
}

/** True when `program` is on PATH. */
export function have(program: string): boolean {
  return spawnSync("sh", ["-c", 'command -v "$1" >/dev/null', "sh", program]).status === 0;
}
