/**
 * Pinned SSH host keys through the real engine: the program generates each node's host key,
 * writes it (and an sshd_config offering only it) into the node's cloud-config, and pins it on
 * every connection to the node. In the sandbox the xe double's guest stand-in applies the
 * config drive's write_files when the VM starts, and the node's sshd then offers that key.
 * A connection pinned to another key (a node that is not the one the program built, or a
 * stale pin after a rotation) fails with the client's host-key message.
 */
import * as fs from "fs";
import * as path from "path";
import { xenCoreosProgram } from "../../components/program";
import { closeHeldConnections, dial, runRemote } from "../../scripts/providers/lib/ssh";
import { changedSteps, cliMissing, describeIf, newStack, programsMissing, storedCheckpoints, withEvents } from "../support/engine";
import { sshdMissing } from "../support/sshd";
import { COREOS_ISO, HostSandbox, configJson, sandboxSettings, startHostSandbox } from "./sandbox";

const missing = cliMissing ?? sshdMissing({ namespace: true }) ?? programsMissing(["openssl", "curl", "isoinfo"], "config drives and the guest stand-in");
/** Where a state export holds private key material in plain text (paths only: never the values). */
function plainSecretPaths(value: unknown, at = ""): string[] {
  if (typeof value === "string") return /PRIVATE KEY-----/.test(value) ? [at] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => plainSecretPaths(v, `${at}[${i}]`));
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    const urn = typeof o.urn === "string" ? o.urn.split("::").pop() : undefined;
    return Object.entries(o).flatMap(([k, v]) => plainSecretPaths(v, urn ? `${urn}.${k}` : `${at}.${k}`));
  }
  return [];
}

const quiet = { status: () => undefined, warning: () => undefined, error: () => undefined };

describeIf(missing)("pinned node host keys, through the real engine", () => {
  jest.setTimeout(600_000);
  let box: HostSandbox | undefined;

  beforeAll(async () => {
    box = await startHostSandbox({ prefix: "xen-coreos-hostkeys-", nodeCount: 1, iso: COREOS_ISO });
  }, 120_000);
  afterAll(async () => {
    closeHeldConnections();
    await box?.stop();
  }, 60_000);

  /** An SSH command to the node through the host, pinned to `hostKey`, as the program's connections are. */
  async function onNode(hostKey: string, command: string): Promise<string> {
    const b = box!;
    const client = await dial({
      host: b.target.nodes.host(0), port: b.target.nodes.port, user: "root", privateKey: b.sshd.clientKey, hostKey, dialErrorLimit: 0, perDialTimeout: 15,
      proxy: { host: "127.0.0.1", port: b.sshd.port, user: "root", privateKey: b.sshd.clientKey, hostKey: b.sshd.hostKey, dialErrorLimit: 0, perDialTimeout: 15 },
    }, quiet);
    return (await runRemote(client, command, { log: quiet, output: () => undefined })).stdout;
  }

  it("the node offers the key the program generated and pinned; another key is refused; a rotation re-pins", async () => {
    const raw = sandboxSettings(box!.target, { services: false, nodes: [{ name: "coreos1", ip: "10.50.0.101" }] });
    const st = await newStack({ baseDir: path.join(box!.tmp, "backend"), stackName: "keys", projectName: "xen-coreos", program: async () => xenCoreosProgram(), env: { NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" } });
    await st.setAllConfigJson(configJson(raw, box!.sshd.clientKey));
    const first = await st.up();
    expect(first.summary.result).toBe("succeeded");
    const pinned: string = first.outputs.clusters.value.lab.nodes[0].sshHostKey;
    expect(pinned).toMatch(/^ssh-ed25519 AAAA\S+ coreos1$/);

    // What the node booted with: the private key (0600) whose public half is the pinned one.
    const guest = path.join(box!.xe.guestsDir, "coreos1", "etc/ssh");
    expect((fs.statSync(path.join(guest, "ssh_host_ed25519_key")).mode & 0o777).toString(8)).toBe("600");
    expect(fs.readFileSync(path.join(guest, "ssh_host_ed25519_key.pub"), "utf8").trim()).toBe(pinned);
    expect(fs.readFileSync(path.join(guest, "sshd_config"), "utf8")).toMatch(/^HostKey \/etc\/ssh\/ssh_host_ed25519_key$/m);
    expect(await onNode(pinned, "echo pinned")).toBe("pinned");

    // A node presenting any other key (here: the host's own) is refused before authentication.
    const err = await onNode(box!.sshd.hostKey, "echo never").then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/ssh: handshake failed: ssh: host key mismatch: .* presented ssh-ed25519 SHA256:\S+, but hostKey is ssh-ed25519 SHA256:/);
    // The private key is nowhere in the state file in plain text.
    // Key material only as Pulumi secrets: in an export (which decrypts them) every such value sits
    // in a secret's `plaintext`, and the checkpoint file on disk holds none of it.
    const keyPaths = plainSecretPaths(await st.exportStack());
    expect(keyPaths).toEqual(expect.arrayContaining(["pki-hostkey-coreos1.outputs.privateKey.plaintext", "lab-coreos1-cloud-config.outputs.userData.plaintext"]));
    expect(keyPaths.filter((p) => !p.endsWith(".plaintext"))).toEqual([]);
    const stored = storedCheckpoints(path.join(box!.tmp, "backend", "keys", "state"), "keys");
    expect(stored).toHaveLength(1);
    expect(plainSecretPaths(JSON.parse(stored[0]))).toEqual([]);

    // Rotation: a new key on a new config drive and a new VM, the new pin used at once.
    raw.security = { ...(raw.security ?? {}), hostKeyRotation: "2" };
    await st.setAllConfigJson(configJson(raw, box!.sshd.clientKey));
    const { result: preview, events } = await withEvents((onEvent) => st.preview({ onEvent }));
    expect(preview.changeSummary.replace ?? 0).toBeGreaterThan(0);
    const changed = changedSteps(events);
    // A new key means a new VM (a running node still presents the old key: nothing may dial it in between).
    expect(changed).toEqual(expect.arrayContaining(["replace pki-hostkey-coreos1", "replace lab-coreos1-vm", "replace lab-coreos1-halt"]));
    expect(changed.some((c) => /^(update|replace) lab-coreos1-config-drive/.test(c))).toBe(true);
    const second = await st.up();
    expect(second.summary.result).toBe("succeeded");
    const rotated: string = second.outputs.clusters.value.lab.nodes[0].sshHostKey;
    expect(rotated).not.toBe(pinned);
    expect(await onNode(rotated, "echo rotated")).toBe("rotated");
    await expect(onNode(pinned, "echo stale")).rejects.toThrow(/host key mismatch/);

    const third = await st.up();
    expect(third.summary.resourceChanges?.same).toBeGreaterThan(0);
    expect(Object.keys(third.summary.resourceChanges ?? {}).filter((k) => k !== "same")).toEqual([]);
    expect((await st.destroy()).summary.result).toBe("succeeded");
  });
});
