/**
 * A loopback TCP listener that stands in front of an SSH server and counts connections,
 * for tests that need a server's connection limits or misbehaviour.
 *
 * `inetd` mode is socket activation as Container Linux runs sshd: `sshd.socket` with
 * `Accept=yes` and systemd's default `MaxConnections=64` (systemd src/core/socket.c:
 * socket_init sets `s->max_connections = 64`; socket_enter_running, Accept=yes case: when
 * `s->n_connections >= s->max_connections` it logs "Too many incoming connections (%u),
 * dropping connection." and closes the accepted connection; otherwise it starts one
 * `sshd@.service` instance with the connection as its standard input and output, which runs
 * `sshd -i`, and the count drops when that instance exits). Here each accepted connection gets
 * its own `sshd -i` process (the argv is the caller's, e.g. through nsenter), counted until it
 * exits; the connection past the limit is accepted and closed at once, as socket.c does.
 *
 * `forward` mode relays each connection to another loopback port (a plain sshd), with test
 * hooks: close the n-th connection at once (as an over-limit socket unit does), or stall it
 * (accept and never answer).
 */
import { ChildProcess, spawn } from "child_process";
import * as net from "net";

export type FrontServe =
  | { kind: "inetd"; argv: () => string[] }
  | { kind: "forward"; port: number; drop?: (n: number) => boolean; stall?: (n: number) => boolean };

export interface FrontOptions {
  /** Loopback address to listen on (127.0.0.0/8). Defaults to 127.0.0.1. */
  host?: string;
  /** Port; 0 or absent: a free one. */
  port?: number;
  serve: FrontServe;
  /** systemd's MaxConnections: connections served at once; past it, accepted and closed. Unlimited when absent. */
  maxConnections?: number;
}

export class SocketFront {
  /** Connections accepted, in order (1-based numbering in drop/stall hooks). */
  accepted = 0;
  /** Connections served right now (systemd's n_connections). */
  current = 0;
  /** Most connections served at once. */
  peak = 0;
  /** Connections accepted and closed at once because of maxConnections (or a drop hook). */
  dropped = 0;
  /** systemd's warnings, one per dropped connection. */
  readonly journal: string[] = [];
  port = 0;
  readonly host: string;
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly children = new Set<ChildProcess>();

  constructor(private readonly opts: FrontOptions) {
    this.host = opts.host ?? "127.0.0.1";
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(this.host)) throw new Error(`socket front: ${this.host} is not a loopback address`);
  }

  /** The limit in force; a test may change it (e.g. to a value a rendered drop-in sets). */
  maxConnections(): number | undefined {
    return this.opts.maxConnections;
  }

  setMaxConnections(n: number | undefined): void {
    this.opts.maxConnections = n;
  }

  async start(): Promise<void> {
    // pauseOnConnect: nothing is read here, so an inetd child gets every byte.
    this.server = net.createServer({ pauseOnConnect: true }, (sock) => this.onConnection(sock));
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(this.opts.port ?? 0, this.host, () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  private onConnection(sock: net.Socket): void {
    const n = ++this.accepted;
    const max = this.opts.maxConnections;
    const serve = this.opts.serve;
    if (max !== undefined && this.current >= max) {
      this.dropped++;
      this.journal.push(`Too many incoming connections (${this.current}), dropping connection.`);
      sock.destroy();
      return;
    }
    if (serve.kind === "forward" && serve.drop?.(n)) {
      this.dropped++;
      sock.destroy();
      return;
    }
    this.current++;
    this.peak = Math.max(this.peak, this.current);
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      this.current--;
    };
    if (serve.kind === "inetd") {
      const [file, ...args] = serve.argv();
      // The child gets the connection as stdin and stdout (StandardInput=socket); our copy is closed.
      const child = spawn(file, args, { stdio: [sock, sock, "ignore"] });
      this.children.add(child);
      sock.destroy();
      child.once("exit", () => {
        this.children.delete(child);
        release();
      });
      child.once("error", () => {
        this.children.delete(child);
        release();
      });
      return;
    }
    this.sockets.add(sock);
    sock.once("close", () => {
      this.sockets.delete(sock);
      release();
    });
    sock.on("error", () => undefined);
    if (serve.stall?.(n)) return; // accepted, never answered
    const upstream = net.connect(serve.port, "127.0.0.1");
    this.sockets.add(upstream);
    upstream.on("error", () => sock.destroy());
    upstream.once("close", () => {
      this.sockets.delete(upstream);
      sock.destroy();
    });
    sock.once("close", () => upstream.destroy());
    sock.pipe(upstream).pipe(sock);
    sock.resume();
  }

  /** Closes the connections it relays (stalled ones included), keeping the listener. */
  closeConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.closeConnections();
    for (const c of this.children) c.kill("SIGTERM");
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
