/**
 * A real vsftpd from the rendered FTP service, outside Docker: the harness of the FTP tier
 * (ftp.test.ts, whose header explains the stand-ins), shared with the security probes
 * (test/real/security/probes.test.ts).
 *
 * API:
 *   writeFtpNodeFiles(bundle, dir)       the bundle's files written as NodeFiles writes them, with
 *                                        /etc/xen-coreos/ftp mapped to `dir`
 *   programHomesScript(ftp, certificate?)  async → the `create` script of FtpService's homes command,
 *                                        as the program declares it (under Pulumi mocks)
 *   unitContainer(bundle, confDir)       the unit's docker run: its `-v` values and `-e` environment
 *   startVsftpd({name, work, bundle, confDir, www, pasvAddress, listenPort, netns, logFile})
 *                                        async → the container stand-in (ftp-container.sh) running,
 *                                        once pasvAddress:listenPort accepts connections
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { FtpServiceSettings } from "../../../components/config/services-settings";
import { ServiceBundle } from "../../../components/fleet/unit-file";
import { renderNodeFilesStdin, renderNodeFilesWriteScript } from "../../../components/node/node-files-render";
import { TlsMaterial } from "../../../components/pki/x509";
import { FTP_DEFAULTS } from "../../../components/services/ftp-render";
import { ResourceRecorder } from "../../support/mocks";
import { Daemon, Netns, runOk, startDaemon, waitFor, waitForPort } from "../../support/real";

const CONTAINER_SCRIPT = path.join(__dirname, "ftp-container.sh");

/** Writes a bundle's files as NodeFiles does on a node (one transfer, sha256-checked), into `dir` standing for /etc/xen-coreos/ftp. */
export function writeFtpNodeFiles(bundle: ServiceBundle, dir: string): void {
  const files = bundle.files.map((f) => {
    if (!path.dirname(f.path).startsWith(FTP_DEFAULTS.confDir)) throw new Error(`ftp file ${f.path} is not under ${FTP_DEFAULTS.confDir}`);
    return { ...f, path: path.join(dir, path.relative(FTP_DEFAULTS.confDir, f.path)) };
  });
  runOk("sh", ["-c", renderNodeFilesWriteScript("ftp", files.map((f) => f.path))], { input: renderNodeFilesStdin(files) });
}

/** The `create` script of FtpService's homes command, as the program declares it (Pulumi mocks). */
export async function programHomesScript(ftp: FtpServiceSettings, certificate?: TlsMaterial): Promise<string> {
  const recorder = new ResourceRecorder();
  pulumi.runtime.setMocks(recorder, "xen-coreos", "lab", false);
  const { FtpService } = await import("../../../components/services/ftp-service");
  new FtpService("ftp", { settings: ftp, fleetConnection: { host: "10.50.0.101", user: "core" }, nodes: [{ name: "coreos1", connection: { host: "10.50.0.101", user: "core" } }], certificate, protectedDirs: [FTP_DEFAULTS.wwwDir] });
  await waitFor(() => recorder.resources.some((r) => r.name === "ftp-homes"), { what: "FtpService to declare its homes command", timeoutMs: 20000 });
  return recorder.named("ftp-homes").inputs.create as string;
}

/**
 * What the unit's docker run gives the container: its `-v` values, with `$NAME` words replaced
 * as systemd does (systemd.service, "Command lines": an unbraced variable is split at
 * whitespace) from the unit's EnvironmentFile (NAME=VALUE lines, `#` comments), and the
 * environment of each `-e NAME` (docker copies the value from its own environment, which
 * systemd set from the unit's `Environment=` lines).
 */
export function unitContainer(bundle: ServiceBundle, confDir: string): { volumes: string[]; env: Record<string, string> } {
  const unit = bundle.units.find((u) => u.name === "vsftpd.service")!.text;
  const fromFile: Record<string, string> = {};
  for (const m of unit.matchAll(/^EnvironmentFile=(\S+)$/gm)) {
    if (m[1] === "/etc/environment") continue;
    if (path.dirname(m[1]) !== FTP_DEFAULTS.confDir) throw new Error(`vsftpd.service reads ${m[1]}, not a file of ${FTP_DEFAULTS.confDir}`);
    for (const line of fs.readFileSync(path.join(confDir, path.basename(m[1])), "utf8").split("\n")) {
      const kv = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
      if (kv) fromFile[kv[1]] = kv[2].trim();
    }
  }
  const fromUnit = Object.fromEntries([...unit.matchAll(/^Environment=([A-Za-z_][A-Za-z0-9_]*)=(\S*)$/gm)].map((m) => [m[1], m[2]]));
  const exec = /^ExecStart=(.*)$/m.exec(unit)![1];
  const words = exec.split(" ").flatMap((w) => (/^\$[A-Za-z_][A-Za-z0-9_]*$/.test(w) ? (fromFile[w.slice(1)] ?? "").split(/\s+/).filter(Boolean) : [w]));
  const after = (flag: string) => words.flatMap((w, i) => (w === flag ? [words[i + 1]] : []));
  return { volumes: after("-v"), env: Object.fromEntries(after("-e").map((name) => [name, fromUnit[name]])) };
}

export interface VsftpdSpec {
  name: string;
  /** A fresh directory for the container's overlays and /var/log. */
  work: string;
  bundle: ServiceBundle;
  /** Where the bundle's files were written (stands for /etc/xen-coreos/ftp). */
  confDir: string;
  /** Stands for the share's /mnt/nfs/www. */
  www: string;
  /** The node's address (the unit's -opasv_address=${COREOS_PUBLIC_IPV4}). */
  pasvAddress: string;
  listenPort: number;
  netns: Netns;
  logFile: string;
}

/** Starts the container stand-in for the bundle in `netns`; returns the daemon and vsftpd's transfer log. */
export async function startVsftpd(spec: VsftpdSpec): Promise<{ daemon: Daemon; log: string }> {
  const container = unitContainer(spec.bundle, spec.confDir);
  const d = startDaemon({
    name: spec.name,
    command: "unshare",
    args: ["--mount", "--propagation", "private", "sh", CONTAINER_SCRIPT, spec.work, spec.confDir, spec.www, spec.pasvAddress, ...container.volumes],
    env: container.env,
    netns: spec.netns.name,
    logFile: spec.logFile,
  });
  try {
    await waitForPort(spec.pasvAddress, spec.listenPort, { netns: spec.netns.name, timeoutMs: 30000 });
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${d.log()}`);
  }
  return { daemon: d, log: path.join(spec.work, "log", "vsftpd.log") };
}
