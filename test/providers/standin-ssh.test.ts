/**
 * The command stand-in's SSH layer against a real sshd on 127.0.0.1 (no engine): the
 * connection behaviour of pulumi-command 1.2.1 that the stand-in must reproduce, one rule per
 * test (sources in scripts/providers/lib/ssh.ts's header). A loopback front
 * (test/support/socket-front.ts) counts what reaches the target and misbehaves on purpose.
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { Client } from "ssh2";
import { SshLog, closeHeldConnections, dial, heldConnections, runRemote } from "../../scripts/providers/lib/ssh";
import { describeIf } from "../support/engine";
import { SocketFront } from "../support/socket-front";
import { Sshd, sshdMissing, startSshd } from "../support/sshd";

const quiet: SshLog = { status: () => undefined, warning: () => undefined, error: () => undefined };
const collect = (into: string[]): SshLog => ({ status: (m) => into.push(m), warning: (m) => into.push(m), error: (m) => into.push(m) });

/** Settles within `ms`, or reports "pending". */
function within<T>(p: Promise<T>, ms: number): Promise<{ value?: T; error?: Error } | "pending"> {
  return Promise.race([
    p.then((value) => ({ value }), (error: Error) => ({ error })),
    new Promise<"pending">((r) => setTimeout(() => r("pending"), ms)),
  ]);
}

describeIf(sshdMissing())("command stand-in SSH: as pulumi-command 1.2.1 dials", () => {
  jest.setTimeout(120_000);
  let tmp: string;
  let sshd: Sshd;
  const fronts: SocketFront[] = [];
  const user = os.userInfo().username;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "xen-coreos-standin-ssh-"));
    // AllowTcpForwarding is OpenSSH's default (yes): the sshd is also the proxy.
    sshd = await startSshd({ dir: path.join(tmp, "sshd") });
  });

  afterEach(() => closeHeldConnections());

  afterAll(async () => {
    for (const f of fronts) await f.stop();
    await sshd?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const front = async (serve: ConstructorParameters<typeof SocketFront>[0]["serve"]) => {
    const f = new SocketFront({ serve });
    await f.start();
    fronts.push(f);
    return f;
  };
  const base = (port: number) => ({ host: "127.0.0.1", port, user, privateKey: sshd.clientKey, dialErrorLimit: 2, perDialTimeout: 15 });
  const proxy = () => ({ ...base(sshd.port), hostKey: sshd.hostKey });

  it("never closes a connection: each command's connection (and its proxy's) stays open after the command", async () => {
    const target = await front({ kind: "forward", port: sshd.port });
    for (let i = 0; i < 3; i++) {
      const client = await dial({ ...base(target.port), proxy: proxy() }, quiet);
      expect(await runRemote(client, `echo run-${i}`, { log: quiet, output: () => undefined })).toEqual({ stdout: `run-${i}`, stderr: "" });
    }
    await new Promise((r) => setTimeout(r, 300));
    // Three target connections still open at the node, three proxy connections (plus their targets) held here.
    expect(target.accepted).toBe(3);
    expect(target.current).toBe(3);
    expect(heldConnections()).toBe(6);
    closeHeldConnections();
    await new Promise((r) => setTimeout(r, 300));
    expect(target.current).toBe(0);
  });

  it("through a proxy, one failed handshake is fatal: the retries reuse the closed channel and never reach the target again", async () => {
    // The first connection is accepted and closed at once, as an sshd.socket past MaxConnections does.
    const target = await front({ kind: "forward", port: sshd.port, drop: (n) => n === 1 });
    const log: string[] = [];
    const err = await dial({ ...base(target.port), dialErrorLimit: 2, proxy: proxy() }, collect(log)).then(() => undefined, (e: Error) => e);
    expect(err?.message).toBe("proxy: after 2 failed attempts: ssh: handshake failed: EOF");
    expect(target.accepted).toBe(1);
    expect(log).toEqual(["Dial 1/2 failed: retrying", "Dial 2/2 failed: retrying"]);
  });

  it("without a proxy the same drop is retried on a new connection and succeeds", async () => {
    const target = await front({ kind: "forward", port: sshd.port, drop: (n) => n === 1 });
    const client = await dial(base(target.port), quiet);
    expect((await runRemote(client, "echo ok", { log: quiet, output: () => undefined })).stdout).toBe("ok");
    expect(target.accepted).toBe(2);
  });

  it("perDialTimeout bounds only the TCP connect: a server that accepts and stalls holds the dial past it", async () => {
    const stalling = await front({ kind: "forward", port: sshd.port, stall: () => true });
    const pending = dial({ ...base(stalling.port), perDialTimeout: 1, dialErrorLimit: 0 }, quiet);
    expect(await within(pending, 3000)).toBe("pending");
    // Only the server ending the connection ends the dial.
    stalling.closeConnections();
    const settled = await within(pending, 5000);
    expect(settled).not.toBe("pending");
    expect((settled as { error?: Error }).error?.message).toMatch(/^after 0 failed attempts: ssh: handshake failed: (EOF|read: connection reset by peer)$/);
  });

  it("perDialTimeout does bound the TCP connect (nothing listens: refused at once, within the limit)", async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    await expect(dial({ ...base(closed), perDialTimeout: 1, dialErrorLimit: 0 }, quiet)).rejects.toThrow(
      `after 0 failed attempts: dial tcp 127.0.0.1:${closed}: connect: connection refused`,
    );
  });

  it("a stale SSH_AUTH_SOCK fails every remote command before dialing, even one with a key", async () => {
    const target = await front({ kind: "forward", port: sshd.port });
    const saved = process.env.SSH_AUTH_SOCK;
    const gone = path.join(tmp, "agent-gone.sock");
    const notListening = path.join(tmp, "agent-file");
    fs.writeFileSync(notListening, "");
    try {
      process.env.SSH_AUTH_SOCK = gone;
      await expect(dial(base(target.port), quiet)).rejects.toThrow(`dial unix ${gone}: connect: no such file or directory`);
      process.env.SSH_AUTH_SOCK = notListening;
      await expect(dial({ ...base(target.port), proxy: proxy() }, quiet)).rejects.toThrow(`dial unix ${notListening}: connect: connection refused`);
      expect(target.accepted).toBe(0);
      // An agent that answers is used as the last method; the key still authenticates.
      const live = path.join(tmp, "agent-live.sock");
      const server = net.createServer((s) => s.destroy()).listen(live);
      await new Promise((r) => server.once("listening", r));
      process.env.SSH_AUTH_SOCK = live;
      const client: Client = await dial(base(target.port), quiet);
      expect((await runRemote(client, "echo keyed", { log: quiet, output: () => undefined })).stdout).toBe("keyed");
      await new Promise((r) => server.close(r));
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
    }
  });

  it("negotiates the host key as Go's client does: with ECDSA offered too, an ed25519 pin fails, naming both keys", async () => {
    const stock = await startSshd({ dir: path.join(tmp, "sshd-stock"), extraHostKeyTypes: ["ecdsa", "rsa"] });
    try {
      const err = await dial({ ...base(stock.port), privateKey: stock.clientKey, hostKey: stock.hostKeys.ed25519, dialErrorLimit: 0 }, quiet).then(() => undefined, (e: Error) => e);
      expect(err?.message).toMatch(/ssh: host key mismatch: 127\.0\.0\.1:\d+ presented ecdsa-sha2-nistp256 SHA256:\S+, but hostKey is ssh-ed25519 SHA256:/);
      const client = await dial({ ...base(stock.port), privateKey: stock.clientKey, hostKey: stock.hostKeys.ecdsa }, quiet);
      expect((await runRemote(client, "echo pinned", { log: quiet, output: () => undefined })).stdout).toBe("pinned");
    } finally {
      closeHeldConnections();
      await stock.stop();
    }
  });

  it("a server offering only the pinned ed25519 key is accepted; another ed25519 key is refused", async () => {
    const ok = await dial({ ...base(sshd.port), hostKey: sshd.hostKey }, quiet);
    expect((await runRemote(ok, "echo ok", { log: quiet, output: () => undefined })).stdout).toBe("ok");
    const other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPtWTMxmpgBHFFPkeAzxpzMB7ItNnD87pCqP8owiZhoa";
    await expect(dial({ ...base(sshd.port), hostKey: other, dialErrorLimit: 0 }, quiet)).rejects.toThrow(/host key mismatch/);
  });
});
