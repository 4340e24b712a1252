import { spawnSync } from "child_process";
import { shellAssign, shellJoin, shq } from "../../components/shell";

/** Runs `printf '%s\0' <words>` through a real sh and returns the words it received. */
function throughShell(line: string): string[] {
  const r = spawnSync("sh", ["-c", `printf '%s\\0' ${line}`], { encoding: "utf8" });
  expect(r.status).toBe(0);
  return r.stdout.split("\0").slice(0, -1);
}

const HOSTILE = ["plain", "", " ", "it's", "'", "''", "$(id)", "`id`", "a;b", "a|b&c", "new\nline", "tab\there", "\"dq\"", "\\", "*", "?", "~", "!x", "#c", "-n", "--minimal", "x=y z", "ü€", "$HOME", "a'b\"c$d\\e"];

describe("shell quoting", () => {
  it.each(HOSTILE)("%j reaches sh as one literal word", (word) => {
    expect(throughShell(shq(word))).toEqual([word]);
  });

  it("joins many hostile words, each one argument", () => {
    expect(throughShell(shellJoin(HOSTILE))).toEqual(HOSTILE);
  });

  it("leaves safe words bare so diffs stay readable", () => {
    expect(shq("https://discovery.etcd.io")).toBe("https://discovery.etcd.io");
    expect(shq(2147483648)).toBe("2147483648");
    expect(shq("Local storage")).toBe("'Local storage'");
  });

  it("assigns only to valid variable names", () => {
    expect(shellAssign("sr_name", "x y")).toBe("sr_name='x y'");
    expect(() => shellAssign("a-b", "x")).toThrow(/invalid shell variable name/);
  });
});
