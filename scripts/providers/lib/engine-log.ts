/**
 * Log messages to the Pulumi engine from a provider process, attached to a resource.
 *
 * The engine starts a provider plugin with its own gRPC address as the last argument
 * (after flags such as `--logtostderr`, `-v=N`, `--tracing X`). The Node SDK's provider
 * framework reads it but does not expose a logger, and `pulumi.log` only works inside a
 * program, so this talks to the Engine service directly. Messages keep their order.
 */
import * as grpc from "@grpc/grpc-js";
import * as engrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engproto from "@pulumi/pulumi/proto/engine_pb";

export type Severity = "debug" | "info" | "warning" | "error";

const SEVERITY: Record<Severity, engproto.LogSeverity> = {
  debug: engproto.LogSeverity.DEBUG,
  info: engproto.LogSeverity.INFO,
  warning: engproto.LogSeverity.WARNING,
  error: engproto.LogSeverity.ERROR,
};

/** The engine address among a plugin's arguments, as the SDK's provider `main` parses it. */
export function engineAddressFromArgs(args: readonly string[]): string | undefined {
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--logtostderr" || a.startsWith("-v=")) continue;
    if (a === "--tracing") {
      i++;
      continue;
    }
    positional.push(a);
  }
  return positional[0];
}

export class EngineLog {
  private client: engrpc.EngineClient | undefined;
  private last: Promise<void> = Promise.resolve();

  constructor(address: string | undefined) {
    if (address) this.client = new engrpc.EngineClient(address, grpc.credentials.createInsecure());
  }

  /**
   * Sends one message. `ephemeral` messages are status lines (the real providers' command
   * output goes this way: shown while the step runs, kept in the event stream).
   */
  log(severity: Severity, urn: string, message: string, ephemeral = false): Promise<void> {
    const client = this.client;
    if (!client) {
      // No engine (a test calling the provider functions directly): keep warnings and errors only.
      if (severity === "warning" || severity === "error") process.stderr.write(`${severity}: ${message}\n`);
      return Promise.resolve();
    }
    this.last = this.last.then(
      () =>
        new Promise<void>((resolve) => {
          const req = new engproto.LogRequest();
          req.setSeverity(SEVERITY[severity]);
          req.setMessage(message);
          req.setUrn(urn);
          req.setEphemeral(ephemeral);
          client.log(req, (err) => {
            if (err && severity !== "debug") process.stderr.write(`${severity}: ${message}\n`);
            resolve();
          });
        }),
    );
    return this.last;
  }

  /** Resolves when every message sent so far has been delivered. */
  flush(): Promise<void> {
    return this.last;
  }
}

/**
 * Splits a stream of output chunks into lines and hands each complete line to `emit`
 * (as Go's bufio.Scanner does for the real provider). `end()` emits a last partial line.
 */
export class LineSplitter {
  private pending = "";
  constructor(private readonly emit: (line: string) => void) {}

  write(chunk: string): void {
    this.pending += chunk;
    let nl: number;
    while ((nl = this.pending.indexOf("\n")) >= 0) {
      this.emit(this.pending.slice(0, nl).replace(/\r$/, ""));
      this.pending = this.pending.slice(nl + 1);
    }
  }

  end(): void {
    if (this.pending.length > 0) this.emit(this.pending.replace(/\r$/, ""));
    this.pending = "";
  }
}
