/**
 * The REAL Pulumi engine for tests: the CLI built by .ci/pulumi-toolchain.sh, driven through
 * the Automation API with a local file backend, a temporary PULUMI_HOME and the provider
 * stand-ins (scripts/providers/bin) first on PATH as ambient plugins (automatic plugin
 * acquisition off, so nothing else could serve them).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vm from "vm";
import { EngineEvent, LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";

export const ROOT = path.resolve(__dirname, "../..");
export const STANDIN_BIN = path.join(ROOT, "scripts/providers/bin");
/** Where .ci/pulumi-toolchain.sh caches binaries: the rule of .ci/toolchain-dir.sh. */
export function toolchainDir(): string {
  if (process.env.XENCOREOS_TOOLCHAIN_DIR) return process.env.XENCOREOS_TOOLCHAIN_DIR;
  const system = "/var/cache/xen-coreos/toolchain";
  try {
    fs.accessSync(system, fs.constants.W_OK);
    return system;
  } catch {
    return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "xen-coreos", "toolchain");
  }
}

export const TOOLCHAIN = toolchainDir();
export const CLI_BIN = process.env.PULUMI_BIN_DIR ?? path.join(TOOLCHAIN, "pulumi-v3.274.1", "bin");

/** Why the engine cannot run here, or undefined. */
export const cliMissing: string | undefined = fs.existsSync(path.join(CLI_BIN, "pulumi"))
  ? undefined
  : `the Pulumi CLI is not at ${CLI_BIN}/pulumi (build it with .ci/pulumi-toolchain.sh)`;

/** `describe`, or a skip with a one-line reason (a failing test under CI=true). */
export function describeIf(missing: string | undefined): jest.Describe | ((name: string, fn: () => void) => void) {
  if (!missing) return describe;
  if (process.env.CI === "true") {
    return (name: string) =>
      describe(name, () => {
        it("has its prerequisites", () => {
          throw new Error(`missing prerequisite under CI=true: ${missing}`);
        });
      });
  }
  // eslint-disable-next-line no-console
  console.log(`skipping: ${missing}`);
  return describe.skip;
}

let pulumiCommand: Promise<PulumiCommand> | undefined;
/** The built CLI (not whatever `pulumi` is on PATH). */
export function builtPulumi(): Promise<PulumiCommand> {
  pulumiCommand ??= PulumiCommand.get({ root: path.dirname(CLI_BIN) });
  return pulumiCommand;
}

export interface NewStackArgs {
  /** Parent directory; the stack gets `<baseDir>/<stackName>/{state,home,work}`. */
  baseDir: string;
  stackName: string;
  projectName: string;
  program: () => Promise<Record<string, unknown> | void>;
  /** Extra environment of the CLI (and so of the plugins and local commands). */
  env?: Record<string, string>;
}

/** A stack of an inline program in its own workspace, state and PULUMI_HOME. */
export async function newStack(args: NewStackArgs): Promise<Stack> {
  const dir = path.join(args.baseDir, args.stackName);
  for (const d of ["state", "home", "work"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const envVars: Record<string, string> = {
    PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: "test",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_HOME: path.join(dir, "home"),
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_IGNORE_AMBIENT_PLUGINS: "false",
    PATH: [STANDIN_BIN, CLI_BIN, process.env.PATH ?? ""].join(path.delimiter),
    ...(args.env ?? {}),
  };
  // The dynamic-provider host (the PKI's resources) resolves the SDK from the project directory.
  fs.mkdirSync(path.join(dir, "work"), { recursive: true });
  if (!fs.existsSync(path.join(dir, "work", "node_modules")))
    fs.symlinkSync(path.resolve(__dirname, "..", "..", "node_modules"), path.join(dir, "work", "node_modules"), "dir");
  return LocalWorkspace.createOrSelectStack(
    { stackName: args.stackName, projectName: args.projectName, program: args.program as () => Promise<Record<string, unknown>> },
    { workDir: path.join(dir, "work"), envVars, pulumiCommand: await builtPulumi() },
  );
}

/** Runs `op` collecting the engine's events. */
export async function withEvents<T>(op: (onEvent: (e: EngineEvent) => void) => Promise<T>): Promise<{ result: T; events: EngineEvent[] }> {
  const events: EngineEvent[] = [];
  const result = await op((e) => events.push(e));
  return { result, events };
}

/**
 * The Node SDK (3.248) in the program's own process logs every RegisterResource response at
 * debug level ("RegisterResource RPC finished: … resp: …"), secrets included, and the engine
 * passes debug diagnostics into the event stream. That echo is the SDK's, not a provider's:
 * secret checks exclude exactly it and nothing else.
 */
export function isSdkResponseEcho(e: EngineEvent): boolean {
  const d = e.diagnosticEvent as { severity?: string; message?: string } | undefined;
  return d?.severity === "debug" && /^(RegisterResource|RegisterResourceOutputs|ReadResource) RPC finished:/.test(d.message ?? "");
}

export function eventsMentioning(events: EngineEvent[], text: string): EngineEvent[] {
  return events.filter((e) => JSON.stringify(e).includes(text));
}

/** The resource name at the end of a URN. */
export function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** Non-"same" steps of a preview or update, as "op name" strings (sorted). */
export function changedSteps(events: EngineEvent[]): string[] {
  return events
    .map((e) => e.resourcePreEvent?.metadata)
    .filter((m): m is NonNullable<typeof m> => m !== undefined && m.op !== "same" && m.type !== "pulumi:pulumi:Stack" && !m.type.startsWith("pulumi:providers:"))
    .map((m) => `${m.op} ${urnName(m.urn)}`)
    .sort();
}

/** The stack's checkpoint files in a local file backend (`file://<stateDir>`), as stored (secrets encrypted). */
export function storedCheckpoints(stateDir: string, stackName: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name === `${stackName}.json`) out.push(fs.readFileSync(p, "utf8"));
    }
  };
  walk(path.join(stateDir, ".pulumi", "stacks"));
  return out;
}

/**
 * Runs an operation that may fail halfway (an update whose resource fails), tolerating what
 * the SDK does then: the engine shuts its resource monitor down while the inline program (in
 * this process) still has RegisterResourceOutputs calls in flight, and the SDK re-raises their
 * UNAVAILABLE/CANCELLED gRPC errors as unhandled rejections on purpose (runtime/resource.js,
 * runAsyncResourceOp), after the Automation API has removed its own handler. Under jest those
 * would fail whichever test runs at that moment. For the duration of `op` and `settleMs` after
 * it, exactly those rejections are counted instead; any other rejection still goes to jest's
 * handlers. (The handlers live on the real `process`, which jest's sandbox hides.)
 */
export async function toleratingMonitorShutdown<T>(op: () => Promise<T>, settleMs = 1500): Promise<{ result: T; monitorGone: number }> {
  const real = vm.runInThisContext("process") as NodeJS.Process;
  const saved = real.listeners("unhandledRejection");
  let monitorGone = 0;
  const handler = (err: unknown, promise: Promise<unknown>) => {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 14 /* UNAVAILABLE */ || code === 1 /* CANCELLED */) {
      monitorGone++;
      return;
    }
    for (const l of saved) (l as (e: unknown, p: Promise<unknown>) => void)(err, promise);
  };
  real.removeAllListeners("unhandledRejection");
  real.on("unhandledRejection", handler);
  try {
    const result = await op();
    return { result, monitorGone };
  } finally {
    await new Promise((r) => setTimeout(r, settleMs));
    real.removeListener("unhandledRejection", handler);
    for (const l of saved) real.on("unhandledRejection", l as (...args: unknown[]) => void);
  }
}

/** The deployment id kept in a stack's state (the `deployment` RandomId), also after an up that failed halfway. */
export async function deploymentIdOf(stack: Stack): Promise<string> {
  const state = await stack.exportStack();
  const resources = (state.deployment as { resources?: Array<{ type: string; urn: string; outputs?: Record<string, unknown> }> }).resources ?? [];
  const r = resources.find((x) => x.type === "random:index/randomId:RandomId" && x.urn.endsWith("::deployment"));
  const hex = r?.outputs?.hex;
  if (typeof hex !== "string") throw new Error("the stack's state holds no deployment id");
  return hex;
}

/** Why an engine test cannot run here: the first program of `programs` missing from PATH (with what it is for), or undefined. */
export function programsMissing(programs: string[], forWhat: string): string | undefined {
  const missing = programs.filter((p) => spawnSync("sh", ["-c", `command -v "$1" >/dev/null`, "sh", p]).status !== 0);
  return missing.length ? `needs ${missing.join(", ")} (${forWhat}); apt-get install -y ${missing.join(" ")}` : undefined;
}
