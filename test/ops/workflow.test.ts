/**
 * The GitHub Actions workflows (.github/workflows/*.yml), checked by a real linter:
 * actionlint v1.7.12, built from its Go module by .ci/actionlint.sh (cached under the
 * toolchain folder). actionlint knows the inputs of pulumi/actions@v6, the expression
 * syntax and the permission scopes, and runs shellcheck on every `run:` script (shellcheck
 * is a prerequisite here so that part is never silently off). Then the preview workflow's
 * own contract: stacks, secrets, permissions, the Pulumi action's inputs.
 *
 * Without go (or shellcheck) the linter tier is skipped with a one-line reason; under
 * CI=true that is a failure.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { describeWith } from "../support/prereq";

const ROOT = path.resolve(__dirname, "../..");
const WORKFLOWS = path.join(ROOT, ".github/workflows");
const workflowFiles = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();

interface Finding {
  message: string;
  filepath: string;
  line: number;
  kind: string;
}

/** Runs actionlint (through .ci/actionlint.sh) in `cwd` on `files`; findings as JSON. */
function actionlint(cwd: string, files: string[]): { status: number | null; findings: Finding[]; stderr: string } {
  const r = spawnSync("bash", [path.join(ROOT, ".ci/actionlint.sh"), "--", "-format", "{{json .}}", ...files], { cwd, encoding: "utf8", timeout: 540_000 });
  if (r.error) throw r.error;
  const out = r.stdout.trim();
  let findings: Finding[] = [];
  try {
    findings = out ? (JSON.parse(out) as Finding[]) : [];
  } catch {
    throw new Error(`actionlint printed no JSON (status ${r.status}):\n${out}\n${r.stderr}`);
  }
  return { status: r.status, findings, stderr: r.stderr };
}

describeWith(["go", "shellcheck"], "actionlint is built from its Go module and runs shellcheck on run: blocks")("actionlint on .github/workflows", () => {
  it("finds the workflows", () => {
    expect(workflowFiles).toContain("preview.yml");
  });

  it("reports nothing on any workflow (shellcheck included)", () => {
    const { status, findings, stderr } = actionlint(ROOT, workflowFiles.map((f) => path.join(".github/workflows", f)));
    expect(findings.map((f) => `${f.filepath}:${f.line}: ${f.message} [${f.kind}]`)).toEqual([]);
    expect([status, stderr.split("\n").filter((l) => /error/i.test(l))]).toEqual([0, []]);
  }, 600_000);

  it("is a real linter: a broken copy is refused (unknown input, bad permission, shellcheck finding)", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "xen-coreos-actionlint-"));
    try {
      fs.mkdirSync(path.join(tmp, ".github/workflows"), { recursive: true });
      const broken = fs
        .readFileSync(path.join(WORKFLOWS, "preview.yml"), "utf8")
        .replace("comment-on-pr: true", "comment-on-prr: true")
        .replace("pull-requests: write", "pull-request: write")
        .replace('pulumi login "$PULUMI_BACKEND_URL"', "pulumi login $PULUMI_BACKEND_URL");
      fs.writeFileSync(path.join(tmp, ".github/workflows/preview.yml"), broken);
      const { status, findings } = actionlint(tmp, [".github/workflows/preview.yml"]);
      expect(status).toBe(1);
      expect(findings.map((f) => f.kind).sort()).toEqual(["action", "permissions", "shellcheck"]);
      expect(findings.find((f) => f.kind === "action")!.message).toContain('input "comment-on-prr" is not defined in action "pulumi/actions@v6"');
      expect(findings.find((f) => f.kind === "shellcheck")!.message).toContain("SC2086");
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("the preview workflow", () => {
  const text = fs.readFileSync(path.join(WORKFLOWS, "preview.yml"), "utf8");
  const wf = yaml.load(text) as any;
  const job = wf.jobs.preview;
  const steps: any[] = job.steps;
  const pulumiPreview = steps.find((s) => s.uses === "pulumi/actions@v6" && s.with?.command === "preview");

  it("runs on pull requests with the least permissions", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.permissions).toEqual({ contents: "read", "pull-requests": "write" });
  });

  it("previews every stack of the matrix, each of which has a stack file", () => {
    expect(job.strategy.matrix.stack).toEqual(["lab", "production"]);
    for (const stack of job.strategy.matrix.stack) expect(fs.existsSync(path.join(ROOT, `Pulumi.${stack}.yaml`))).toBe(true);
    expect(job.strategy["fail-fast"]).toBe(false);
  });

  it("sets up Node 20 with the npm cache and installs with npm ci", () => {
    const node = steps.find((s) => String(s.uses).startsWith("actions/setup-node@"));
    expect(node.with).toEqual({ "node-version": 20, cache: "npm" });
    expect(steps.findIndex((s) => /^npm ci\b/.test(s.run ?? ""))).toBeGreaterThan(steps.indexOf(node));
  });

  it("runs the official Pulumi action: preview, diff, PR comment, per-stack name, work dir, policy pack", () => {
    expect(pulumiPreview.with).toMatchObject({
      command: "preview",
      "stack-name": "${{ matrix.stack }}",
      "work-dir": ".",
      "cloud-url": "${{ secrets.PULUMI_BACKEND_URL }}",
      diff: true,
      "comment-on-pr": true,
      "pulumi-version": "3.274.1",
      policyPacks: "policy/analyzer",
    });
    const pack = path.join(ROOT, pulumiPreview.with.policyPacks);
    expect(fs.statSync(pack).mode & 0o111).not.toBe(0); // the CLI launches an executable pack directly
    // The pinned CLI is the one the toolchain builds.
    expect(fs.readFileSync(path.join(ROOT, ".ci/pulumi-toolchain.sh"), "utf8")).toContain(`PULUMI_VERSION=v${pulumiPreview.with["pulumi-version"]}`);
  });

  it("takes the backend and passphrase from secrets, and never puts a secret on a command line", () => {
    expect(job.env.PULUMI_BACKEND_URL).toBe("${{ secrets.PULUMI_BACKEND_URL }}");
    expect(job.env.PULUMI_CONFIG_PASSPHRASE).toBe("${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
    for (const step of steps.filter((s) => s.run)) {
      expect(step.run).not.toMatch(/\$\{\{\s*secrets\./); // secrets reach scripts through env only
      expect(step.run).not.toMatch(/\b(echo|printf)\b[^|\n]*\$(PULUMI_CONFIG_PASSPHRASE|PULUMI_BACKEND_URL)/);
      expect(step.run).not.toMatch(/set -x|set -o xtrace/);
    }
    const keyStep = steps.find((s) => /sshPrivateKey/.test(s.run ?? ""));
    expect(keyStep.run).toMatch(/printf '%s\\n' "\$SSH_PRIVATE_KEY" \| pulumi config set --secret/);
  });
});
