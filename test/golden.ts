import * as fs from "fs";
import * as path from "path";

/** Folder of committed golden files; reviewers read config changes as diffs of these. */
export const GOLDEN_DIR = path.join(__dirname, "golden");

/**
 * Compares `actual` with the committed golden file `test/golden/<name>`.
 * Run with UPDATE_GOLDEN=1 to (re)write the file; under CI=true a missing file is a failure.
 */
export function expectGolden(name: string, actual: string): void {
  const file = path.join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === "1" || (!fs.existsSync(file) && process.env.CI !== "true")) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
  }
  if (!fs.existsSync(file)) {
    throw new Error(`golden file ${name} is missing: run UPDATE_GOLDEN=1 npx jest and commit it`);
  }
  expect(actual).toBe(fs.readFileSync(file, "utf8"));
}
