/**
 * A full `pulumi preview` of one of the repository's stacks, run by the real Pulumi
 * engine through the Automation API with the project's own program, against a
 * throwaway local state backend. Nothing is contacted: a preview never runs commands.
 *
 * If the stack has no `sshPrivateKey` secret (a fresh clone), a throwaway key is
 * generated for this preview only; the program still validates every other setting.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";

const ROOT = path.resolve(__dirname, "..");

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const stackName = args.find((a) => !a.startsWith("--")) ?? "lab";
  const showDiff = args.includes("--diff");
  const stackFile = path.join(ROOT, `Pulumi.${stackName}.yaml`);
  if (!fs.existsSync(stackFile)) {
    const stacks = fs.readdirSync(ROOT).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).map((f) => f.split(".")[1]);
    throw new Error(`no stack file Pulumi.${stackName}.yaml; stacks in this repository: ${stacks.join(", ")}`);
  }

  // The workspace is a scratch copy: the repository's files are never written.
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `xen-coreos-preview-${stackName}-`));
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(workDir, "Pulumi.yaml"));
  fs.copyFileSync(stackFile, path.join(workDir, `Pulumi.${stackName}.yaml`));
  // The dynamic-provider host (the PKI's resources) resolves the SDK from the project directory.
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(workDir, "node_modules"), "dir");
  const envVars: Record<string, string> = {
    PULUMI_BACKEND_URL: process.env.PULUMI_BACKEND_URL ?? `file://${path.join(workDir, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "xen-coreos-local-preview",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
  fs.mkdirSync(path.join(workDir, "state"));

  try {
    const program = async () => {
      const { xenCoreosProgram } = await import("../components/program");
      return xenCoreosProgram();
    };
    const stack = await LocalWorkspace.createOrSelectStack({ stackName, projectName: "xen-coreos", program }, { workDir, envVars });
    const config = await stack.getAllConfig();
    if (!config["xen-coreos:sshPrivateKey"]) {
      const { privateKey } = crypto.generateKeyPairSync("ed25519");
      await stack.setConfig("xen-coreos:sshPrivateKey", { value: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), secret: true });
      console.log(`(no xen-coreos:sshPrivateKey in Pulumi.${stackName}.yaml: using a throwaway key for this preview)`);
    }
    const standins = process.env.XENCOREOS_STANDINS;
    if (standins) console.log(`(provider stand-ins in use for: ${standins}; see scripts/providers/README.md)`);
    const result = await stack.preview({ onOutput: (s) => process.stdout.write(s), diff: showDiff });
    const counts = Object.entries(result.changeSummary).map(([op, n]) => `${op}: ${n}`).join(", ");
    console.log(`\npreview of stack ${stackName}: ${counts}`);
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
