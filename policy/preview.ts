/**
 * A full `pulumi preview` of one of the repository's stacks with the policy pack, through
 * the Automation API, as `scripts/preview.ts` does it (scratch workspace, throwaway local
 * state, a throwaway SSH key when the stack sets none; nothing contacted) plus
 * `policyPacks: [policy/analyzer]`. `scripts/policy.sh <stack>` runs it; the tests call
 * `previewWithPolicy`. Exit status 1 when a mandatory rule is broken.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineEvent, LocalWorkspace, PulumiFn, PulumiCommand } from "@pulumi/pulumi/automation";

const ROOT = path.resolve(__dirname, "..");
/** The pack as an analyzer executable (see policy/analyzer). */
export const POLICY_PACK = path.join(__dirname, "analyzer");

export interface PolicyFinding {
  policy: string;
  level: string;
  /** The resource's URN, or "" for a stack policy. */
  urn: string;
  /** The engine's message: the rule's description, then (after a newline) what is wrong. */
  message: string;
  /** What is wrong: the message without the rule's description. */
  detail: string;
}

export interface PolicyPreviewResult {
  stack: string;
  /** The preview succeeded (no mandatory violation, no error). */
  ok: boolean;
  findings: PolicyFinding[];
  changeSummary: Record<string, number>;
  /** The engine's text output. */
  output: string;
  /** The error text when the preview failed. */
  error?: string;
}

export interface PolicyPreviewOptions {
  /** Stack name; its Pulumi.<stack>.yaml is read from `projectDir`. */
  stack: string;
  /** Folder holding Pulumi.yaml and the stack file. Defaults to the repository. */
  projectDir?: string;
  /** The program. Defaults to the repository's own (components/program.ts). */
  program?: PulumiFn;
  /** Extra config to set (e.g. secrets of a test stack). */
  config?: Record<string, { value: string; secret?: boolean }>;
  /** Environment of the engine (PATH with the CLI and the stand-ins, PULUMI_HOME, …). */
  envVars?: Record<string, string>;
  /** The CLI to use; by default the one on PATH. */
  pulumiCommand?: PulumiCommand;
  onOutput?: (text: string) => void;
}

/** Policy findings from the engine's events. */
function findingOf(event: EngineEvent): PolicyFinding | undefined {
  const p = event.policyEvent;
  if (!p) return undefined;
  const message = p.message.trim();
  const newline = message.indexOf("\n");
  return { policy: p.policyName, level: p.enforcementLevel, urn: p.resourceUrn ?? "", message, detail: newline === -1 ? message : message.slice(newline + 1).trim() };
}

export async function previewWithPolicy(opts: PolicyPreviewOptions): Promise<PolicyPreviewResult> {
  const projectDir = opts.projectDir ?? ROOT;
  const stackName = opts.stack;
  const stackFile = path.join(projectDir, `Pulumi.${stackName}.yaml`);
  if (!fs.existsSync(stackFile)) {
    const stacks = fs.readdirSync(projectDir).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).map((f) => f.split(".")[1]);
    throw new Error(`no stack file Pulumi.${stackName}.yaml; stacks here: ${stacks.join(", ")}`);
  }
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `xen-coreos-policy-${stackName}-`));
  fs.copyFileSync(path.join(projectDir, "Pulumi.yaml"), path.join(workDir, "Pulumi.yaml"));
  fs.copyFileSync(stackFile, path.join(workDir, `Pulumi.${stackName}.yaml`));
  fs.mkdirSync(path.join(workDir, "state"));
  // The dynamic-provider host (the PKI's resources) resolves the SDK from the project directory.
  fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(workDir, "node_modules"), "dir");
  const envVars: Record<string, string> = {
    PULUMI_BACKEND_URL: `file://${path.join(workDir, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: "xen-coreos-policy-preview",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    ...opts.envVars,
  };
  const findings: PolicyFinding[] = [];
  let output = "";
  const onOutput = (s: string) => {
    output += s;
    opts.onOutput?.(s);
  };
  try {
    const program: PulumiFn =
      opts.program ??
      (async () => {
        const { xenCoreosProgram } = await import("../components/program");
        return xenCoreosProgram();
      });
    const projectName = (fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8").match(/^name:\s*(\S+)/m) ?? [])[1] ?? "xen-coreos";
    const stack = await LocalWorkspace.createOrSelectStack(
      { stackName, projectName, program },
      { workDir, envVars, ...(opts.pulumiCommand ? { pulumiCommand: opts.pulumiCommand } : {}) },
    );
    for (const [key, v] of Object.entries(opts.config ?? {})) await stack.setConfig(key, v);
    const config = await stack.getAllConfig();
    if (projectName === "xen-coreos" && !config["xen-coreos:sshPrivateKey"]) {
      const { privateKey } = crypto.generateKeyPairSync("ed25519");
      await stack.setConfig("xen-coreos:sshPrivateKey", { value: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), secret: true });
      onOutput(`(no xen-coreos:sshPrivateKey in Pulumi.${stackName}.yaml: using a throwaway key for this preview)\n`);
    }
    try {
      const result = await stack.preview({
        policyPacks: [POLICY_PACK],
        onOutput,
        onEvent: (e) => {
          const f = findingOf(e);
          if (f) findings.push(f);
        },
      });
      return { stack: stackName, ok: true, findings, changeSummary: result.changeSummary as Record<string, number>, output };
    } catch (err) {
      return { stack: stackName, ok: false, findings, changeSummary: {}, output, error: err instanceof Error ? err.message : String(err) };
    }
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** One line per finding, for people. */
export function formatFindings(findings: PolicyFinding[]): string {
  return findings
    .map((f) => `[${f.level}] ${f.policy}${f.urn ? ` (${f.urn.split("::").pop()})` : ""}: ${f.detail}`)
    .join("\n");
}

async function main(): Promise<void> {
  const stackName = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "lab";
  const standins = process.env.XENCOREOS_STANDINS;
  if (standins) console.log(`(provider stand-ins in use for: ${standins}; see scripts/providers/README.md)`);
  const result = await previewWithPolicy({ stack: stackName, onOutput: (s) => process.stdout.write(s) });
  const mandatory = result.findings.filter((f) => f.level === "mandatory");
  const advisory = result.findings.filter((f) => f.level !== "mandatory");
  console.log(`\npolicy pack xen-coreos on stack ${stackName}: ${mandatory.length} mandatory violation(s), ${advisory.length} advisory note(s)`);
  if (result.findings.length) console.log(formatFindings(result.findings));
  if (!result.ok) {
    if (mandatory.length === 0) console.error(result.error);
    process.exit(1);
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
