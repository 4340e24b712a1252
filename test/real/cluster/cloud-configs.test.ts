/**
 * Every node's cloud-config, for every stack of the repository, as the program renders it
 * (the config drive's user_data, collected under Pulumi mocks), passes the real validator:
 * `coreos-cloudinit -validate` built from github.com/coreos/coreos-cloudinit by
 * .ci/coreos-cloudinit.sh (see its header for what the module proxy serves and refuses).
 *
 * - v1.11.0 (2016-05, the etcd2 era this project targets): no entry at all.
 * - v1.14.0 (2017, the last release): for a coreos-profile node exactly two warnings, both
 *   about the era and not about the file: `deprecated key "etcd2" (etcd2 is no longer shipped
 *   in Container Linux)` and the same for "fleet". They are true of Container Linux after 2017
 *   and wrong for CoreOS with etcd2 + fleet; any other entry fails. A flatcar-profile node
 *   (production) has neither section, so no entry at all: Flatcar still runs this parser
 *   (its coreos-cloudinit) on the config drive, and the two sections would do nothing there.
 */
import * as path from "path";
import { describeWith } from "../../support/prereq";
import { cleanupAll, run, runOk, tempDir } from "../../support/real";
import { etcd2Environment } from "./etcd2-env";
import { RenderedStack, renderStack, repositoryStacks } from "./rendered";
import * as fs from "fs";
import * as yaml from "js-yaml";

const ROOT = path.join(__dirname, "..", "..", "..");
const SCRIPT = path.join(ROOT, ".ci", "coreos-cloudinit.sh");

/** A flatcar-profile node: its config has no etcd2/fleet section and runs etcd-member.service. */
function isFlatcar(cloudConfig: string): boolean {
  return /^ {4}- name: etcd-member\.service$/m.test(cloudConfig);
}

/** v1.14.0's deprecation warnings for the keys of the etcd2 era (config/config.go `deprecated:` tags). */
const ERA_DEPRECATIONS = [
  'warning: deprecated key "etcd2" (etcd2 is no longer shipped in Container Linux)',
  'warning: deprecated key "fleet" (fleet is no longer shipped in Container Linux)',
];

interface Entry {
  line: number;
  text: string;
}

/** Runs `-validate`; returns its report entries (`line N: kind: message`, log prefix removed). */
function validate(bin: string, file: string): { status: number | null; entries: Entry[]; raw: string } {
  const r = run(bin, ["-validate", "-from-file", file]);
  const raw = `${r.stdout}${r.stderr}`;
  const entries: Entry[] = [];
  for (const l of raw.split("\n")) {
    const m = /line (\d+): ((?:error|warning|info): .*)$/.exec(l);
    if (m) entries.push({ line: Number(m[1]), text: m[2] });
    else if (l.trim() !== "") entries.push({ line: 0, text: `unparsed output: ${l}` });
  }
  return { status: r.status, entries, raw };
}

describeWith(["go", "bash", "flock", "shellcheck", "isoinfo"], "builds coreos-cloudinit -validate from the Go module proxy")(
  "every rendered cloud-config passes coreos-cloudinit -validate",
  () => {
    const bins: Record<string, string> = {};
    const stacks: RenderedStack[] = [];
    let dir: string;

    beforeAll(async () => {
      for (const v of ["v1.14.0", "v1.11.0"]) {
        const out = runOk("bash", [SCRIPT, v], { timeoutMs: 600000 }).trim().split("\n");
        bins[v] = out[out.length - 1];
      }
      for (const s of repositoryStacks()) stacks.push(await renderStack(s));
      dir = tempDir("cloud-configs");
    }, 900000);

    afterAll(async () => {
      await cleanupAll();
    });

    it("the build script is shellcheck-clean and idempotent (a cached binary is reused at once)", () => {
      // By path, from the repository root, so shellcheck follows the sourced toolchain-dir.sh.
      expect(runOk("shellcheck", ["-x", "-f", "gcc", path.relative(ROOT, SCRIPT)], { cwd: ROOT }).trim()).toBe("");
      const start = Date.now();
      expect(runOk("bash", [SCRIPT]).trim()).toBe(bins["v1.14.0"]);
      expect(Date.now() - start).toBeLessThan(5000);
      expect(runOk(bins["v1.14.0"], ["-version"]).trim()).toBe("coreos-cloudinit v1.14.0");
      expect(runOk(bins["v1.11.0"], ["-version"]).trim()).toBe("coreos-cloudinit v1.11.0");
    });

    it("covers every stack file and every node", () => {
      expect(stacks.map((s) => s.stack)).toEqual(expect.arrayContaining(["dev", "lab", "production"]));
      const count = (s: string) => stacks.find((x) => x.stack === s)!.nodes.length;
      expect([count("dev"), count("lab"), count("production")]).toEqual([1, 3, 10]);
    });

    it("v1.11.0 (etcd2 era): no error, no warning, for every node of every stack", () => {
      const problems: string[] = [];
      for (const s of stacks) {
        for (const n of s.nodes) {
          const file = path.join(dir, `${s.stack}-${n.cluster}-${n.node}.yaml`);
          fs.writeFileSync(file, n.cloudConfig);
          const r = validate(bins["v1.11.0"], file);
          if (r.status !== 0 || r.entries.length > 0) problems.push(`${s.stack}/${n.cluster}/${n.node} (exit ${r.status}):\n${r.raw}`);
        }
      }
      expect(problems).toEqual([]);
    });

    it("v1.14.0: coreos nodes only the two era deprecations (etcd2, fleet), on the lines of those keys; flatcar nodes none", () => {
      const report: string[] = [];
      const problems: string[] = [];
      for (const s of stacks) {
        for (const n of s.nodes) {
          const file = path.join(dir, `${s.stack}-${n.cluster}-${n.node}-14.yaml`);
          fs.writeFileSync(file, n.cloudConfig);
          const r = validate(bins["v1.14.0"], file);
          const lines = n.cloudConfig.split("\n");
          const texts = r.entries.map((e) => e.text).sort();
          const expected = isFlatcar(n.cloudConfig) ? [] : ERA_DEPRECATIONS;
          // A warning makes the validator exit 1: a coreos node's two era warnings do; a flatcar node passes clean (exit 0).
          if ((isFlatcar(n.cloudConfig) && r.status !== 0) || JSON.stringify(texts) !== JSON.stringify(expected)) problems.push(`${s.stack}/${n.node} (exit ${r.status}):\n${r.raw}`);
          for (const e of r.entries) {
            const key = /deprecated key "(\w+)"/.exec(e.text)?.[1];
            if (!key || lines[e.line - 1]?.trim() !== `${key}:`) problems.push(`${s.stack}/${n.node}: entry not on the "${key}:" line: line ${e.line}: ${e.text}`);
          }
          if (s.stack === "lab" && n.node === "coreos1") report.push(...r.entries.map((e) => `line ${e.line}: ${e.text}`));
        }
      }
      // eslint-disable-next-line no-console
      console.log(`coreos-cloudinit v1.14.0 -validate on every rendered cloud-config (lab/coreos1 shown):\n  ${report.sort().join("\n  ")}`);
      expect(problems).toEqual([]);
    });

    it("the validator does find errors (a broken copy of a rendered cloud-config is rejected)", () => {
      const lab = stacks.find((s) => s.stack === "lab")!.nodes[0].cloudConfig;
      const broken = lab.replace("reboot-strategy: etcd-lock", "reboot-strategy: sometimes").replace("    - name: rpc-statd.service\n      command: start", "    - name: rpc-statd.service\n      command: launch");
      expect(broken).not.toBe(lab);
      const file = path.join(dir, "broken.yaml");
      fs.writeFileSync(file, broken);
      for (const v of ["v1.11.0", "v1.14.0"]) {
        const r = validate(bins[v], file);
        expect(r.status).toBe(1);
        // (The validator locates a unit's key by searching the text, so its line numbers
        // inside `units` may point at an earlier unit's key of the same name.)
        const errors = r.entries.filter((e) => e.text.startsWith("error:")).map((e) => e.text);
        expect(errors.sort()).toEqual(["error: invalid value launch", "error: invalid value sometimes"]);
        const strategy = r.entries.find((e) => e.text === "error: invalid value sometimes")!;
        expect(broken.split("\n")[strategy.line - 1].trim()).toBe("reboot-strategy: sometimes");
      }
    });

    it("production's 10 nodes are flatcar: no etcd2 or fleet section, the etcd-member drop-in with the static member list", () => {
      const production = stacks.find((s) => s.stack === "production")!;
      for (const n of production.nodes) {
        expect(isFlatcar(n.cloudConfig)).toBe(true);
        const doc = yaml.load(n.cloudConfig) as any;
        expect(Object.keys(doc.coreos).sort()).toEqual(["units", "update"]);
        expect(n.cloudConfig).toContain('Environment="ETCD_INITIAL_CLUSTER_STATE=new"');
      }
      for (const s of stacks.filter((x) => x.stack !== "production")) for (const n of s.nodes) expect(isFlatcar(n.cloudConfig)).toBe(false);
    });

    it("coreos-cloudinit's own parser gives etcd2 the environment the cluster test derives (key → ETCD_<KEY, - → _>)", () => {
      for (const s of stacks) {
        for (const n of s.nodes.filter((x) => !isFlatcar(x.cloudConfig))) {
          const file = path.join(dir, `${s.stack}-${n.node}-env.yaml`);
          fs.writeFileSync(file, n.cloudConfig);
          for (const v of ["v1.11.0", "v1.14.0"]) {
            const lines = runOk(bins[v], ["-etcd2-env", "-from-file", file]).trim().split("\n");
            const fromCloudinit = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
            expect(fromCloudinit).toEqual(etcd2Environment(n.cloudConfig));
          }
        }
      }
    });
  },
);
