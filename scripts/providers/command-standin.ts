/**
 * STAND-IN for the `command` resource provider plugin (pulumi-resource-command 1.2.1),
 * for this project's tests and local previews only: the real plugin cannot be built
 * here (the Go module proxy refuses github.com/pulumi/pulumi-command/provider). See
 * scripts/providers/README.md. Launched by scripts/providers/bin/pulumi-resource-command.
 *
 * Resource types and properties are those of @pulumi/command 1.2.1:
 *   command:local:Command   create update delete triggers stdin logging environment
 *                           addPreviousOutputInEnv interpreter dir assetPaths archivePaths
 *                           → + stdout stderr
 *   command:remote:Command  create update delete triggers stdin logging environment
 *                           addPreviousOutputInEnv connection → + stdout stderr
 *
 * Behaviour follows the real provider's source (pulumi-command provider/pkg/provider:
 * common/inputs.go, local/*.go, remote/*.go; the diff and secret flow of
 * pulumi-go-provider's infer package):
 *   - Check applies the schema defaults (connection port 22, user root, dialErrorLimit 10,
 *     perDialTimeout 15, also for proxy: remote/connection.go and proxyConnection.go
 *     SetDefault) and marks `connection` secret. `addPreviousOutputInEnv` has no default in
 *     the resources' schema: an unset value stays unset in inputs and state, and a run treats
 *     it as true (remote/commandOutputs.go: `AddPreviousOutputInEnv == nil || *…`);
 *   - a change to `triggers` replaces (the schema's replaceOnChanges, and the SDK adds
 *     replaceOnChanges "triggers[*]"), even when `update` is set; any other input change
 *     (connection included) is an in-place update; replacements create before deleting;
 *   - remote commands: SSH as lib/ssh.ts describes (connections held open until this process
 *     exits, the proxy handshake retried on its closed channel, perDialTimeout bounding only
 *     the TCP connect, a stale SSH_AUTH_SOCK failing every remote command before dialing);
 *   - Create runs `create` (nothing when absent: stdout and stderr are ""); Update runs
 *     `update`, else `create`, else nothing (keeping the old stdout/stderr); Delete runs
 *     `delete` of the old state. PULUMI_COMMAND_STDOUT/STDERR carry the state's previous
 *     stdout/stderr into update and delete unless addPreviousOutputInEnv is false;
 *   - a non-zero exit fails the step: `<exit status>: running "<command>":\n<output>`;
 *   - output lines go to the engine log of the resource as status messages, per `logging`
 *     (default both; "none" logs nothing; the outputs are captured either way);
 *   - outputs repeat the inputs with their secretness; stdout/stderr are plain unless the
 *     program asks for additionalSecretOutputs (as with the real provider);
 *   - preview never runs anything: this provider does not declare preview support, so the
 *     engine does not call Create/Update during a preview (it takes the inputs as outputs,
 *     and stdout/stderr read as unknown).
 * Not reproduced: `assetPaths`/`archivePaths` are accepted but no `assets`/`archive` are
 * returned; the `local.run`/`remote.CopyToRemote` parts of the package are absent.
 */
import * as crypto from "crypto";
import * as provider from "@pulumi/pulumi/provider";
import { EngineLog, engineAddressFromArgs } from "./lib/engine-log";
import { Logging, RunResult, runLocal } from "./lib/local-run";
import { Connection, ConnectionBase, dial, runRemote } from "./lib/ssh";
import { PlainObject, UNKNOWN, changedKeys, containsUnknown, isSecret, pick, reveal, secret, urnName, urnType, withoutUndefined } from "./lib/values";

export const VERSION = "1.2.1";
export const LOCAL_TYPE = "command:local:Command";
export const REMOTE_TYPE = "command:remote:Command";

const COMMON_INPUTS = ["triggers", "create", "update", "delete", "stdin", "logging", "environment", "addPreviousOutputInEnv"];
export const LOCAL_INPUTS = [...COMMON_INPUTS, "interpreter", "dir", "assetPaths", "archivePaths"];
export const REMOTE_INPUTS = [...COMMON_INPUTS, "connection"];
const LOGGING: readonly string[] = ["stdout", "stderr", "stdoutAndStderr", "none"];

function inputKeys(urn: string): string[] {
  const t = urnType(urn);
  if (t === LOCAL_TYPE) return LOCAL_INPUTS;
  if (t === REMOTE_TYPE) return REMOTE_INPUTS;
  throw new Error(`the command stand-in has no resource type ${t} (only ${LOCAL_TYPE} and ${REMOTE_TYPE})`);
}

function withConnectionDefaults(c: PlainObject, withProxy: boolean): PlainObject {
  const out: PlainObject = { ...c };
  out.port ??= 22;
  out.user ??= "root";
  out.dialErrorLimit ??= 10;
  out.perDialTimeout ??= 15;
  if (withProxy && out.proxy !== undefined && out.proxy !== null && typeof out.proxy === "object") {
    out.proxy = withConnectionDefaults(reveal(out.proxy) as PlainObject, false);
  }
  return out;
}

function checkConnection(c: unknown, path: string, failures: provider.CheckFailure[]): void {
  if (c === UNKNOWN) return;
  if (typeof c !== "object" || c === null || Array.isArray(c)) {
    failures.push({ property: path, reason: `${path} must be an object` });
    return;
  }
  const o = c as PlainObject;
  if (o.host === undefined || o.host === null || o.host === "") failures.push({ property: `${path}.host`, reason: `Missing required field 'host' on ${path}` });
  for (const k of ["port", "dialErrorLimit", "perDialTimeout"]) {
    const v = o[k];
    if (v !== undefined && v !== UNKNOWN && typeof v !== "number") failures.push({ property: `${path}.${k}`, reason: `${path}.${k} must be a number` });
  }
}

export async function check(urn: string, _olds: PlainObject, news: PlainObject): Promise<provider.CheckResult> {
  const type = urnType(urn);
  inputKeys(urn);
  const failures: provider.CheckFailure[] = [];
  // No default for addPreviousOutputInEnv: unset stays unset (see header).
  const inputs: PlainObject = { ...news };
  const logging = reveal(inputs.logging);
  if (logging !== undefined && logging !== null && logging !== UNKNOWN && !LOGGING.includes(String(logging))) {
    failures.push({ property: "logging", reason: `logging must be one of ${LOGGING.join(", ")}; got ${JSON.stringify(logging)}` });
  }
  if (type === REMOTE_TYPE) {
    if (inputs.connection === undefined || inputs.connection === null) {
      failures.push({ property: "connection", reason: "Missing required field 'connection' on remote.CommandInputs" });
    } else if (reveal(inputs.connection) !== UNKNOWN) {
      const conn = withConnectionDefaults(reveal(inputs.connection) as PlainObject, true);
      checkConnection(conn, "connection", failures);
      if (conn.proxy !== undefined && conn.proxy !== null) checkConnection(conn.proxy, "connection.proxy", failures);
      // provider:"secret" on the field: the whole connection is a secret, as in the real schema.
      inputs.connection = secret(conn);
    } else if (!isSecret(inputs.connection)) {
      inputs.connection = secret(inputs.connection);
    }
  }
  return { inputs: withoutUndefined(inputs), failures };
}

/**
 * Which inputs changed, and which of those replace. The Node framework's DiffResult can
 * carry neither a detailed diff nor the changed keys, and without them the engine cannot
 * apply a program's own `replaceOnChanges` (e.g. ["create", "stdin"]). So a change is
 * answered as "changes unknown" with the replace keys: the engine then computes the
 * changed keys itself from old and new inputs (pkg/resource/deploy/step_generator.go,
 * diffResource) and keeps ours.
 */
export async function diff(_id: string, urn: string, olds: PlainObject, news: PlainObject): Promise<provider.DiffResult> {
  const changed = changedKeys(olds, news, inputKeys(urn));
  if (changed.length === 0) return { changes: false };
  return { replaces: changed.filter((k) => k === "triggers"), deleteBeforeReplace: false };
}

// ---------------------------------------------------------------- running

/** The engine's log; connected in main() (a test that imports this module logs to stderr). */
let engine = new EngineLog(undefined);

function str(v: unknown): string | undefined {
  const r = reveal(v);
  return r === undefined || r === null ? undefined : String(r);
}
function strMap(v: unknown): Record<string, string> | undefined {
  const r = reveal(v);
  if (r === undefined || r === null || typeof r !== "object") return undefined;
  return Object.fromEntries(Object.entries(r as PlainObject).map(([k, e]) => [k, String(e)]));
}
function num(v: unknown, fallback: number): number {
  const r = reveal(v);
  return typeof r === "number" ? r : fallback;
}

function toConnectionBase(o: PlainObject): ConnectionBase {
  return {
    host: String(o.host),
    port: num(o.port, 22),
    user: str(o.user) ?? "root",
    password: str(o.password),
    privateKey: str(o.privateKey),
    privateKeyPassword: str(o.privateKeyPassword),
    agentSocketPath: str(o.agentSocketPath),
    hostKey: str(o.hostKey),
    dialErrorLimit: Math.trunc(num(o.dialErrorLimit, 10)),
    perDialTimeout: Math.trunc(num(o.perDialTimeout, 15)),
  };
}

export function toConnection(v: unknown): Connection {
  const o = withConnectionDefaults(reveal(v) as PlainObject, true);
  const c: Connection = toConnectionBase(o);
  if (o.proxy !== undefined && o.proxy !== null) c.proxy = toConnectionBase(o.proxy as PlainObject);
  return c;
}

/** Runs one command of the resource `urn` with the inputs/state `props`. */
async function run(urn: string, command: string, props: PlainObject, previous: RunResult | undefined): Promise<RunResult> {
  const logging = str(props.logging) as Logging | undefined;
  const output = (line: string) => void engine.log("info", urn, line, true);
  const common = {
    environment: strMap(props.environment),
    stdin: str(props.stdin),
    logging,
    addPreviousOutputInEnv: reveal(props.addPreviousOutputInEnv) !== false,
    previous,
  };
  try {
    if (urnType(urn) === LOCAL_TYPE) {
      const interpreter = reveal(props.interpreter);
      return await runLocal(command, {
        ...common,
        interpreter: Array.isArray(interpreter) ? interpreter.map(String) : undefined,
        dir: str(props.dir),
        log: output,
      });
    }
    const log = {
      status: (m: string) => void engine.log("info", urn, m, true),
      warning: (m: string) => void engine.log("warning", urn, m),
      error: (m: string) => void engine.log("error", urn, m),
    };
    const client = await dial(toConnection(props.connection), log);
    return await runRemote(client, command, { ...common, log, output });
  } finally {
    await engine.flush();
  }
}

function previousOf(state: PlainObject): RunResult {
  return { stdout: str(state.stdout) ?? "", stderr: str(state.stderr) ?? "" };
}

function assertKnown(urn: string, inputs: PlainObject): void {
  // Never reached in a preview (the engine does not call Create/Update then), but a
  // command must never run with a placeholder in it.
  for (const [k, v] of Object.entries(inputs)) {
    if (containsUnknown(v)) throw new Error(`${urnName(urn)}: input ${k} is not known yet; refusing to run a command`);
  }
}

export async function create(urn: string, inputs: PlainObject): Promise<provider.CreateResult> {
  inputKeys(urn);
  assertKnown(urn, inputs);
  const id = urnName(urn) + crypto.randomBytes(4).toString("hex");
  const cmd = str(inputs.create);
  const result = cmd === undefined ? { stdout: "", stderr: "" } : await run(urn, cmd, inputs, undefined);
  return { id, outs: withoutUndefined({ ...inputs, ...result }) };
}

export async function update(_id: string, urn: string, olds: PlainObject, news: PlainObject): Promise<provider.UpdateResult> {
  inputKeys(urn);
  assertKnown(urn, news);
  const previous = previousOf(olds);
  const cmd = str(news.update) ?? str(news.create);
  const result = cmd === undefined ? previous : await run(urn, cmd, news, previous);
  return { outs: withoutUndefined({ ...news, ...result }) };
}

export async function del(_id: string, urn: string, props: PlainObject): Promise<void> {
  inputKeys(urn);
  const cmd = str(props.delete);
  if (cmd === undefined) return;
  await run(urn, cmd, props, previousOf(props));
}

export async function read(id: string, urn: string, props: PlainObject): Promise<provider.ReadResult> {
  return { id, props, inputs: pick(props, inputKeys(urn)) };
}

export const commandProvider: provider.Provider = {
  version: VERSION,
  check,
  diff,
  create,
  update,
  delete: del,
  read,
};

if (require.main === module) {
  engine = new EngineLog(engineAddressFromArgs(process.argv.slice(2)));
  void provider.main(commandProvider, process.argv.slice(2));
}
