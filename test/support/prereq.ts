/**
 * Prerequisites of test tiers that need a real program. On a user's machine a missing
 * one skips the tier with a one-line reason; under CI=true it is a failure, never a skip.
 */
import { spawnSync } from "child_process";

/** Absolute path of `program` on PATH, or undefined. */
export function which(program: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v "$1"`, "sh", program], { encoding: "utf8" });
  const out = r.stdout.trim();
  return r.status === 0 && out ? out : undefined;
}

/**
 * Returns `describe` when every program is present; otherwise `describe.skip` with the
 * reason printed once, or, under CI=true, a describe whose single test fails naming them.
 */
export function describeWith(programs: string[], why: string): jest.Describe | ((name: string, fn: () => void) => void) {
  const missing = programs.filter((p) => !which(p));
  if (missing.length === 0) return describe;
  const reason = `needs ${missing.join(", ")} (${why}); install with .ci/run or apt-get`;
  if (process.env.CI === "true") {
    return (name: string) =>
      describe(name, () => {
        it("has its prerequisites", () => {
          throw new Error(`missing prerequisite under CI=true: ${reason}`);
        });
      });
  }
  // eslint-disable-next-line no-console
  console.log(`skipping: ${reason}`);
  return describe.skip;
}

/** Runs shellcheck on a script; returns its findings ("" when clean). */
export function shellcheck(script: string, shell: "sh" | "bash" = "sh", exclude: string[] = []): string {
  const args = ["-s", shell, "-f", "gcc", ...(exclude.length ? ["-e", exclude.join(",")] : []), "-"];
  const r = spawnSync("shellcheck", args, { input: script, encoding: "utf8" });
  if (r.error) throw r.error;
  return r.stdout.trim();
}
