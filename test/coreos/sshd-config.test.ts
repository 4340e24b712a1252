/**
 * The nodes' sshd_config, read by the real OpenSSH sshd: it parses (`sshd -t`), and a server
 * started with it (and the node's program-generated key) offers exactly that one host key,
 * whatever other keys the system has, so the pinned key is the one every client negotiates.
 */
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { NODE_HOST_KEY_PATH, renderSshdConfig } from "../../components/coreos/sshd-config";
import { createSshHostKey } from "../../components/pki/x509";
import { describeIf } from "../support/engine";
import { freePort, waitForPort } from "../support/sshd";

const SSHD = "/usr/sbin/sshd";
const missing = fs.existsSync(SSHD) && spawnSync("sh", ["-c", "command -v ssh-keyscan"]).status === 0 ? undefined : "OpenSSH server and client are missing (apt-get install -y openssh-server openssh-client)";

describe("renderSshdConfig", () => {
  it("offers only the program's ed25519 key, keys only, the cluster's user, and the env pulumi-command sends", () => {
    const text = renderSshdConfig({ user: "core" });
    expect(text.match(/^HostKey .*$/gm)).toEqual([`HostKey ${NODE_HOST_KEY_PATH}`]);
    expect(text).toMatch(/^PasswordAuthentication no$/m);
    expect(text).toMatch(/^PermitRootLogin no$/m);
    expect(text).toMatch(/^AllowUsers core$/m);
    expect(text).toMatch(/^AcceptEnv PULUMI_COMMAND_STDOUT PULUMI_COMMAND_STDERR$/m);
    expect(renderSshdConfig({ user: "root" })).toMatch(/^PermitRootLogin prohibit-password$/m);
    expect(() => renderSshdConfig({ user: "a b" })).toThrow(/not a user name/);
  });
});

describeIf(missing)("the rendered sshd_config, run by OpenSSH's sshd", () => {
  jest.setTimeout(60_000);
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sshd-config-"));
    fs.mkdirSync("/run/sshd", { recursive: true });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The rendered file with the key's path pointed at the test's copy (the only change). */
  function configWith(keyFile: string, extra: string[] = []): string {
    const file = path.join(dir, `sshd_config-${path.basename(keyFile)}`);
    fs.writeFileSync(file, renderSshdConfig({ user: "core" }).replace(`HostKey ${NODE_HOST_KEY_PATH}`, `HostKey ${keyFile}`) + extra.join("\n") + "\n");
    return file;
  }

  it("parses (sshd -t), with no deprecation warning", () => {
    const key = createSshHostKey("node1");
    const keyFile = path.join(dir, "key1");
    fs.writeFileSync(keyFile, key.privateKey, { mode: 0o600 });
    const r = spawnSync(SSHD, ["-t", "-f", configWith(keyFile)], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("a server with it offers exactly the pinned key, even with the system's other host keys present", async () => {
    const key = createSshHostKey("node2");
    const keyFile = path.join(dir, "key2");
    fs.writeFileSync(keyFile, key.privateKey, { mode: 0o600 });
    // The other keys a first boot's sshd-keygen leaves (not named by the config: never offered).
    execFileSync("ssh-keygen", ["-q", "-t", "ecdsa", "-N", "", "-f", path.join(dir, "ssh_host_ecdsa_key")]);
    const port = await freePort();
    const server = spawn(SSHD, ["-D", "-e", "-f", configWith(keyFile, [`Port ${port}`, "ListenAddress 127.0.0.1", `PidFile ${path.join(dir, "sshd.pid")}`])], { stdio: ["ignore", "ignore", "pipe"] });
    try {
      await waitForPort(port, 10_000);
      const scanned = execFileSync("ssh-keyscan", ["-p", String(port), "-T", "5", "127.0.0.1"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
        .split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(" ").slice(1, 3).join(" "));
      expect(scanned).toEqual([key.publicKey.split(" ").slice(0, 2).join(" ")]);
    } finally {
      server.kill("SIGTERM");
    }
  });
});
