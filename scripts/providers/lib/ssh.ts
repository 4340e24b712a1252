/**
 * SSH for the `command:remote:Command` stand-in, with the ssh2 client, following
 * pulumi-command 1.2.1 (provider/pkg/provider/remote/connection.go, proxyConnection.go,
 * commandOutputs.go, commandController.go):
 *
 *   - authentication methods in the real order: public key (`privateKey`, with
 *     `privateKeyPassword`), password, keyboard-interactive answering `password`, agent
 *     (`agentSocketPath`, else SSH_AUTH_SOCK); a key that does not parse fails before dialing.
 *     The agent socket is connected while the client config is built (connection.go,
 *     SShConfig: `net.Dial("unix", …)`), so a stale SSH_AUTH_SOCK (a path that is gone, or a
 *     socket nobody listens on) fails every remote command before any dial, even when a key is
 *     given;
 *   - `hostKey` (an authorized_keys line, e.g. "ssh-ed25519 AAAA…"): the server's key must be
 *     exactly that key, else the handshake fails; without it any host key is accepted. The host
 *     key algorithm is negotiated in Go's default preference (golang.org/x/crypto/ssh,
 *     common.go defaultHostKeyAlgos: ECDSA, then RSA, then Ed25519), not narrowed to the pinned
 *     key's type: a server offering an ECDSA key besides the pinned ed25519 one presents the
 *     ECDSA key, and the pin fails (the nodes' sshd therefore offers only the pinned key);
 *   - dialing retries (connection.go, dialWithRetry): up to `dialErrorLimit` failed attempts are
 *     retried (-1: no limit; 0: one attempt), waiting 100 ms, then ×1.5 per attempt up to 5 s
 *     (the SDK's retry.Until defaults); the last error is reported as
 *     `after N failed attempts: <error>`;
 *   - `perDialTimeout` is golang.org/x/crypto/ssh's ClientConfig.Timeout, which ssh.Dial
 *     passes to net.DialTimeout: it bounds the TCP connect only. The SSH handshake after it
 *     (version exchange, key exchange, authentication) has no bound at all: a server that
 *     accepts the TCP connection and then stalls holds the command forever;
 *   - `proxy` (connection.go, Dial): dial the bastion with its own retries ("Dial proxy", a new
 *     TCP connection per attempt), then open a direct-tcpip channel from it to host:port with
 *     retries ("Dial from proxy"), then run the SSH handshake over THAT channel with retries
 *     ("Dial"). Go's ssh.NewClientConn closes the connection it was given when the handshake
 *     fails, and the retry hands it the same, now closed, channel: every retry fails at once
 *     with "ssh: handshake failed: EOF" (after the backoff), so one failed handshake through
 *     the proxy is fatal and the reported error is that EOF, not the first cause. Errors start
 *     `proxy: `. The proxy's own handshake is a plain ssh.Dial (bounded like any other);
 *     the handshake over the channel is not bounded;
 *   - connections are never closed (commandOutputs.go, run: the client from Dial is never
 *     closed, only the session): each command's authenticated connection, and with a proxy the
 *     bastion connection under it, stay open until the provider process exits. They are kept
 *     in `held` (see `heldConnections`), so a target sshd sees them for the whole run;
 *   - a run: one session; `environment` via setenv requests (a refused variable fails the run,
 *     as the real provider's session.Setenv error does: sshd must AcceptEnv it);
 *     PULUMI_COMMAND_STDOUT/STDERR likewise but a refusal only warns; they are sent unless
 *     `addPreviousOutputInEnv` is false (commandOutputs.go: `nil || true`); stdin written then
 *     closed; exit status and signal reported like Go's ssh.ExitError.
 * `hostKey` is from the 1.2.x schema (connection.go of that release checks it in the host
 * key callback); the stored copy read for the rest is the Dial above.
 */
import * as crypto from "crypto";
import * as net from "net";
import { Client, ClientChannel, ConnectConfig, utils as sshUtils } from "ssh2";
import type { AnyAuthMethod, AuthenticationType, NextAuthHandler, ParsedKey } from "ssh2";
import { LineSplitter } from "./engine-log";
import { Logging, RunResult, shouldLogStderr, shouldLogStdout, trimOneNewline } from "./local-run";
import { goQuote } from "./values";

export interface ConnectionBase {
  host: string;
  port: number;
  user: string;
  password?: string;
  privateKey?: string;
  privateKeyPassword?: string;
  agentSocketPath?: string;
  hostKey?: string;
  dialErrorLimit: number;
  perDialTimeout: number;
}

export interface Connection extends ConnectionBase {
  proxy?: ConnectionBase;
}

/** Where a dial's progress and warnings go (the engine log of the resource). */
export interface SshLog {
  status: (message: string) => void;
  warning: (message: string) => void;
  error: (message: string) => void;
}

// ---------------------------------------------------------------- keys

/** The key type and blob of one base64 field of an authorized_keys line, if it is one. */
function decodeKeyField(field: string): { type: string; blob: Buffer } | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(field)) return undefined;
  const blob = Buffer.from(field, "base64");
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || 4 + n > blob.length) return undefined;
  const type = blob.subarray(4, 4 + n).toString("latin1");
  return /^[a-z0-9@.-]+$/.test(type) ? { type, blob } : undefined;
}

/**
 * The key of an authorized_keys line ("[options] type base64 [comment]", or the bare base64
 * blob), as Go's ssh.ParseAuthorizedKey reads `hostKey`.
 */
export function parseAuthorizedKey(line: string): { type: string; blob: Buffer } {
  const fields = line.trim().split(/\s+/).filter((f) => f.length > 0);
  for (let i = 0; i < fields.length; i++) {
    const key = decodeKeyField(fields[i]);
    if (key && (fields.length === 1 || (i > 0 && fields[i - 1] === key.type))) return key;
  }
  throw new Error("ssh: no key found");
}

/** OpenSSH's SHA256 fingerprint of a key blob. */
export function fingerprint(blob: Buffer): string {
  return "SHA256:" + crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}

function sshString(b: Buffer | string): Buffer {
  const body = typeof b === "string" ? Buffer.from(b, "latin1") : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length, 0);
  return Buffer.concat([len, body]);
}

/** An unencrypted OpenSSH private key ("openssh-key-v1") holding one ed25519 key. */
function opensshEd25519(seed: Buffer, pub: Buffer): string {
  const pubBlob = Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]);
  const check = crypto.randomBytes(4);
  let priv = Buffer.concat([check, check, sshString("ssh-ed25519"), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString("")]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);
  const nkeys = Buffer.alloc(4);
  nkeys.writeUInt32BE(1, 0);
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    nkeys,
    sshString(pubBlob),
    sshString(priv),
  ]);
  const b64 = body.toString("base64").replace(/(.{70})/g, "$1\n");
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64.replace(/\n$/, "")}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

/**
 * Parses a private key as the real provider's ssh.ParsePrivateKey[WithPassphrase] would:
 * OpenSSH, PEM (RSA/DSA/EC) and PKCS#8 (which ssh2 lacks: converted through node:crypto).
 */
export function parsePrivateKey(text: string, passphrase?: string): ParsedKey {
  const parsed = sshUtils.parseKey(text, passphrase);
  if (!(parsed instanceof Error)) return parsed;
  if (/-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/.test(text)) {
    let key: crypto.KeyObject;
    try {
      key = crypto.createPrivateKey({ key: text, format: "pem", passphrase });
    } catch (err) {
      throw new Error(`ssh: ${(err as Error).message}`);
    }
    let converted: string;
    switch (key.asymmetricKeyType) {
      case "rsa":
        converted = key.export({ type: "pkcs1", format: "pem" }).toString();
        break;
      case "ec":
        converted = key.export({ type: "sec1", format: "pem" }).toString();
        break;
      case "ed25519": {
        const jwk = key.export({ format: "jwk" });
        converted = opensshEd25519(Buffer.from(jwk.d ?? "", "base64url"), Buffer.from(jwk.x ?? "", "base64url"));
        break;
      }
      default:
        throw new Error(`ssh: unsupported key type ${key.asymmetricKeyType}`);
    }
    const again = sshUtils.parseKey(converted);
    if (!(again instanceof Error)) return again;
    throw new Error(`ssh: ${again.message}`);
  }
  if (/passphrase|encrypted/i.test(parsed.message) && passphrase === undefined) {
    throw new Error("ssh: this private key is passphrase protected");
  }
  throw new Error(`ssh: ${parsed.message}`);
}

// ---------------------------------------------------------------- dialing

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries `f` until it succeeds or `limit` failed attempts have been retried (see header). */
export async function dialWithRetry<T>(what: string, limit: number, log: SshLog, f: () => Promise<T>): Promise<T> {
  let delay = 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await f();
    } catch (err) {
      const message = (err as Error).message;
      if (limit > -1 && attempt > limit) throw new Error(`after ${attempt - 1} failed attempts: ${message}`);
      log.status(`${what} ${attempt}/${limit === -1 ? "inf" : limit} failed: retrying`);
      await sleep(delay);
      delay = Math.min(delay * 1.5, 5000);
    }
  }
}

interface PreparedAuth {
  methods: AnyAuthMethod[];
}

/** Connects to a unix socket and closes it again: Go's net.Dial("unix", path) error texts. */
function probeAgent(socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(socketPath);
    sock.once("connect", () => {
      sock.destroy();
      resolve();
    });
    sock.once("error", (err: NodeJS.ErrnoException) => {
      const why =
        err.code === "ENOENT" ? "no such file or directory" :
        err.code === "ECONNREFUSED" ? "connection refused" :
        err.code === "EACCES" ? "permission denied" :
        err.code === "ENOTSOCK" || err.code === "ECONNRESET" ? "connection refused" : err.message;
      reject(new Error(`dial unix ${socketPath}: connect: ${why}`));
    });
  });
}

/** The client config's auth methods (connection.go, SShConfig): built, with the agent dialed, before any dial. */
async function prepareAuth(c: ConnectionBase): Promise<PreparedAuth> {
  const methods: AnyAuthMethod[] = [{ type: "none", username: c.user }];
  if (c.privateKey !== undefined) {
    const key = parsePrivateKey(c.privateKey, c.privateKeyPassword);
    methods.push({ type: "publickey", username: c.user, key });
  }
  if (c.password !== undefined) {
    const password = c.password;
    methods.push({ type: "password", username: c.user, password });
    methods.push({
      type: "keyboard-interactive",
      username: c.user,
      prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)),
    });
  }
  const agent = c.agentSocketPath ?? (process.env.SSH_AUTH_SOCK || undefined);
  if (agent !== undefined) {
    // SShConfig dials the agent while building the config: a stale socket fails here, before any dial.
    await probeAgent(agent);
    methods.push({ type: "agent", username: c.user, agent });
  }
  return { methods };
}

const endpointOf = (c: ConnectionBase) => (c.host.includes(":") ? `[${c.host}]:${c.port}` : `${c.host}:${c.port}`);

/** net.DialTimeout("tcp", …, perDialTimeout): the only part of a dial that perDialTimeout bounds (0: none). */
export function tcpConnect(c: ConnectionBase): Promise<net.Socket> {
  const endpoint = endpointOf(c);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: c.host, port: c.port });
    const timer = c.perDialTimeout > 0
      ? setTimeout(() => {
          sock.destroy();
          reject(new Error(`dial tcp ${endpoint}: i/o timeout`));
        }, c.perDialTimeout * 1000)
      : undefined;
    sock.once("connect", () => {
      if (timer) clearTimeout(timer);
      sock.removeAllListeners("error");
      resolve(sock);
    });
    sock.once("error", (err: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      const why = err.code === "ECONNREFUSED" ? "connection refused" : err.code === "EHOSTUNREACH" ? "no route to host" : err.message;
      reject(new Error(`dial tcp ${endpoint}: connect: ${why}`));
    });
  });
}

/** Go's default client host key preference (x/crypto/ssh common.go, defaultHostKeyAlgos; certificates left out). */
const GO_HOST_KEY_ALGORITHMS = [
  "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
  "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa", "ssh-dss",
  "ssh-ed25519",
];

/**
 * One SSH handshake + authentication over `sock` (a connected TCP socket or a channel
 * through a proxy), without any time bound (see header). As Go's ssh.NewClientConn does,
 * `sock` is closed when the handshake fails.
 */
function handshake(c: ConnectionBase, auth: PreparedAuth, sock: net.Socket | ClientChannel): Promise<Client> {
  const endpoint = endpointOf(c);
  const expected = c.hostKey !== undefined ? parseAuthorizedKey(c.hostKey) : undefined;
  return new Promise<Client>((resolve, reject) => {
    const client = new Client();
    let presented: Buffer | undefined;
    const attempted: string[] = [];
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      client.end();
      sock.destroy();
      reject(new Error(message));
    };
    let next = 0;
    const config: ConnectConfig = {
      sock: sock as unknown as ConnectConfig["sock"],
      username: c.user,
      readyTimeout: 0,
      keepaliveInterval: 0,
      algorithms: { serverHostKey: GO_HOST_KEY_ALGORITHMS as NonNullable<ConnectConfig["algorithms"]>["serverHostKey"] },
      hostVerifier: (key: Buffer) => {
        presented = key;
        return expected === undefined || key.equals(expected.blob);
      },
      authHandler: (_left: AuthenticationType[], _partial: boolean, done: NextAuthHandler) => {
        if (next >= auth.methods.length) {
          (done as (m: unknown) => void)(false);
          return;
        }
        const m = auth.methods[next++];
        attempted.push(m.type);
        done(m);
      },
    };
    client.on("ready", () => {
      if (settled) return;
      settled = true;
      resolve(client);
    });
    client.on("error", (err: Error & { level?: string; code?: string }) => {
      if (err.level === "client-verification" || (expected && presented && !presented.equals(expected.blob))) {
        const got = presented ? `${decodeKeyField(presented.toString("base64"))?.type ?? "key"} ${fingerprint(presented)}` : "no key";
        fail(
          `ssh: handshake failed: ssh: host key mismatch: ${endpoint} presented ${got}, ` +
            `but hostKey is ${expected ? `${expected.type} ${fingerprint(expected.blob)}` : "(none)"}`,
        );
      } else if (err.level === "client-authentication") {
        fail(`ssh: handshake failed: ssh: unable to authenticate, attempted methods [${attempted.join(" ")}], no supported methods remain`);
      } else if (err.code === "ECONNRESET") fail("ssh: handshake failed: read: connection reset by peer");
      else if (err.code === "EPIPE" || /write after end|ended by the other party/i.test(err.message)) fail("ssh: handshake failed: EOF");
      else fail(`ssh: handshake failed: ${err.message}`);
    });
    client.on("close", () => fail("ssh: handshake failed: EOF"));
    client.connect(config);
  });
}

/** A channel that is closed (ended or destroyed) reads and writes as EOF. */
function channelClosed(ch: ClientChannel): boolean {
  const s = ch as unknown as { destroyed?: boolean; writableEnded?: boolean; readableEnded?: boolean };
  return Boolean(s.destroyed || s.writableEnded || s.readableEnded);
}

/**
 * Every connection a run dialed: never closed (commandOutputs.go never closes its client),
 * so they stay open until the provider process exits. Proxy connections included.
 */
const held: Client[] = [];

/** How many SSH connections this process holds open (targets and proxies). */
export function heldConnections(): number {
  return held.length;
}

/** Closes every held connection (for tests that use this module in their own process). */
export function closeHeldConnections(): void {
  for (const c of held.splice(0)) c.end();
}

/** Dials `c` (through its proxy, if any) with the real provider's retries (see header). */
export async function dial(c: Connection, log: SshLog): Promise<Client> {
  const auth = await prepareAuth(c);
  if (!c.proxy) {
    const client = await dialWithRetry("Dial", c.dialErrorLimit, log, async () => handshake(c, auth, await tcpConnect(c)));
    held.push(client);
    return client;
  }

  let proxyAuth: PreparedAuth;
  try {
    proxyAuth = await prepareAuth(c.proxy);
  } catch (err) {
    throw new Error(`proxy: ${(err as Error).message}`);
  }
  const proxy = c.proxy;
  let proxyClient: Client;
  try {
    proxyClient = await dialWithRetry("Dial proxy", proxy.dialErrorLimit, log, async () => handshake(proxy, proxyAuth, await tcpConnect(proxy)));
  } catch (err) {
    throw new Error(`proxy: ${(err as Error).message}`);
  }
  held.push(proxyClient);
  let channel: ClientChannel;
  try {
    channel = await dialWithRetry("Dial from proxy", c.dialErrorLimit, log, () =>
      new Promise<ClientChannel>((resolve, reject) =>
        proxyClient.forwardOut("127.0.0.1", 0, c.host, c.port, (err, ch) =>
          err ? reject(new Error(`ssh: rejected: connect failed (${err.message})`)) : resolve(ch),
        ),
      ),
    );
  } catch (err) {
    throw new Error(`proxy: ${(err as Error).message}`);
  }
  try {
    // The same channel on every attempt: after a failed handshake it is closed (see header).
    const target = await dialWithRetry("Dial", c.dialErrorLimit, log, async () => {
      if (channelClosed(channel)) throw new Error("ssh: handshake failed: EOF");
      return handshake(c, auth, channel);
    });
    held.push(target);
    return target;
  } catch (err) {
    throw new Error(`proxy: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------- running

interface Ssh2Internals {
  _protocol?: { env?: (...a: unknown[]) => unknown; exec?: (...a: unknown[]) => unknown };
  _chanMgr?: { _channels?: Record<string, unknown> };
}
interface ChannelInternals {
  outgoing?: { id?: number };
  _callbacks?: Array<(hadErr: unknown) => void>;
  close?: () => void;
}

/**
 * `client.exec` with setenv requests that want a reply, as Go's session.Setenv sends them:
 * ssh2 sends `env` without asking for a reply, so a refused variable would go unnoticed.
 * For this one exec, the client's protocol object is wrapped so that each env request
 * asks for a reply (its answer is queued on the channel like ssh2's own requests) and the
 * exec request waits until every answer is in. `decide` sees which names were refused and
 * may veto the exec with an error. Uses ssh2 1.17.0 internals (pinned in package.json).
 */
function execWithCheckedEnv(
  client: Client,
  command: string,
  env: Record<string, string>,
  decide: (refused: string[]) => Error | undefined,
): Promise<ClientChannel> {
  const internals = client as unknown as Ssh2Internals;
  const proto = internals._protocol;
  const channels = internals._chanMgr?._channels;
  const origEnv = proto?.env;
  const origExec = proto?.exec;
  if (!proto || !channels || !origEnv || !origExec || Object.keys(env).length === 0) {
    return new Promise((resolve, reject) => client.exec(command, { env }, (err, ch) => (err ? reject(err) : resolve(ch))));
  }
  return new Promise<ClientChannel>((resolve, reject) => {
    const replies: Promise<string | undefined>[] = [];
    let vetoed: Error | undefined;
    const findChannel = (remoteId: unknown): ChannelInternals | undefined =>
      Object.values(channels).find((ch) => (ch as ChannelInternals)?.outgoing?.id === remoteId) as ChannelInternals | undefined;
    const restore = () => {
      delete (proto as Record<string, unknown>).env;
      delete (proto as Record<string, unknown>).exec;
      if (proto.env !== origEnv) proto.env = origEnv;
      if (proto.exec !== origExec) proto.exec = origExec;
    };
    proto.env = function (this: unknown, chanId: unknown, key: unknown, value: unknown) {
      const ch = findChannel(chanId);
      if (ch?._callbacks) {
        replies.push(new Promise((r) => ch._callbacks!.push((hadErr) => r(hadErr ? String(key) : undefined))));
        return origEnv.call(this, chanId, key, value, true);
      }
      return origEnv.call(this, chanId, key, value, false);
    };
    proto.exec = function (this: unknown, chanId: unknown, cmd: unknown, wantReply: unknown) {
      restore();
      const self = this;
      void Promise.all(replies).then((answers) => {
        vetoed = decide(answers.filter((a): a is string => a !== undefined));
        if (vetoed) {
          // The session is closed (commandOutputs.go: defer session.Close()); the client is not.
          (findChannel(chanId) as ChannelInternals | undefined)?.close?.();
          reject(vetoed);
          return;
        }
        origExec.call(self, chanId, cmd, wantReply);
      });
      return true;
    };
    try {
      client.exec(command, { env }, (err, ch) => {
        if (vetoed) return;
        if (err) reject(err);
        else resolve(ch);
      });
    } catch (err) {
      restore();
      reject(err);
    }
  });
}

export interface RemoteRunOptions {
  environment?: Record<string, string>;
  stdin?: string;
  logging?: Logging;
  addPreviousOutputInEnv?: boolean;
  previous?: RunResult;
  log: SshLog;
  /** Receives each logged line of output. */
  output: (line: string) => void;
}

const SIGNAL_NUMBER: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, ABRT: 6, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15,
};

const SETENV_HELP =
  "This only works if your SSH server is configured to accept\n\tthese variables via AcceptEnv. Alternatively, if a Bash-like shell runs the command on the remote host, you could\n\tprefix the command itself with the variables in the form 'VAR=value command'";

/** Runs `command` in one session on a dialed client (see header). The client stays open (see `held`). */
export async function runRemote(client: Client, command: string, opts: RemoteRunOptions): Promise<RunResult> {
  const env: Record<string, string> = { ...(opts.environment ?? {}) };
  const optional = new Set<string>();
  if (opts.addPreviousOutputInEnv !== false && opts.previous) {
    if (opts.previous.stdout !== "") {
      env.PULUMI_COMMAND_STDOUT = opts.previous.stdout;
      optional.add("PULUMI_COMMAND_STDOUT");
    }
    if (opts.previous.stderr !== "") {
      env.PULUMI_COMMAND_STDERR = opts.previous.stderr;
      optional.add("PULUMI_COMMAND_STDERR");
    }
  }
  {
    const channel = await execWithCheckedEnv(client, command, env, (refused) => {
      for (const name of refused.filter((n) => optional.has(n))) opts.log.warning(`Unable to set '${name}'. ${SETENV_HELP}`);
      const required = refused.find((n) => !optional.has(n));
      if (required === undefined) return undefined;
      opts.log.error(`Unable to set '${required}'. ${SETENV_HELP}`);
      return new Error(`could not set environment variable ${goQuote(required)}: ssh: setenv failed`);
    });
    return await new Promise<RunResult>((resolve, reject) => {
      let stdout = "";
      let stderr = "";
      let combined = "";
      const lines = new LineSplitter(opts.output);
      let exit: { code?: number | null; signal?: string; desc?: string } | undefined;
      channel.setEncoding("utf8");
      channel.stderr.setEncoding("utf8");
      channel.on("data", (d: string) => {
        stdout += d;
        combined += d;
        if (shouldLogStdout(opts.logging)) lines.write(d);
      });
      channel.stderr.on("data", (d: string) => {
        stderr += d;
        combined += d;
        if (shouldLogStderr(opts.logging)) lines.write(d);
      });
      channel.on("exit", (code: number | null, signal?: string, _core?: boolean, desc?: string) => {
        exit = { code, signal, desc };
      });
      channel.on("close", () => {
        lines.end();
        let exitError: string | undefined;
        if (!exit) exitError = "wait: remote command exited without exit status or exit signal";
        else if (exit.signal) {
          // Go's ssh.Waitmsg: status 128 + the signal's number, then " from signal NAME" and its message.
          const status = 128 + (SIGNAL_NUMBER[exit.signal] ?? 0);
          exitError = `Process exited with status ${status} from signal ${exit.signal}${exit.desc ?? ""}`;
        } else if (exit.code !== 0) exitError = `Process exited with status ${exit.code}`;
        if (exitError) reject(new Error(`${exitError}: running ${goQuote(command)}:\n${combined}`));
        else resolve({ stdout: trimOneNewline(stdout), stderr: trimOneNewline(stderr) });
      });
      if (opts.stdin !== undefined && opts.stdin.length > 0) channel.end(opts.stdin);
      else channel.end();
    });
  }
}
