import { spawnSync } from "child_process";
import { pathToUnitName, renderIni } from "../../components/systemd/ini";
import { describeWith } from "../support/prereq";

describe("renderIni", () => {
  it("writes sections in the given order, repeated keys kept, empty sections left out", () => {
    expect(
      renderIni([
        ["Unit", [["Description", "x"], ["After", "a.service"], ["After", "b.service"]]],
        ["Service", []],
        ["Install", [["WantedBy", "multi-user.target"]]],
      ]),
    ).toBe("[Unit]\nDescription=x\nAfter=a.service\nAfter=b.service\n\n[Install]\nWantedBy=multi-user.target\n");
  });

  it("rejects what systemd would misread", () => {
    expect(() => renderIni([["Unit", [["Description", "two\nlines"]]]])).toThrow(/contains a line break/);
    expect(() => renderIni([["Unit", [["Bad Key", "x"]]]])).toThrow(/invalid key "Bad Key"/);
    expect(() => renderIni([["Un]it", [["A", "x"]]]])).toThrow(/invalid section name/);
  });
});

const PATHS = ["/.dot/x", "/mnt/nfs", "/srv/web-data", "/mnt/nfs/", "/data/.hidden", "/a b/ü", "/var/lib/x_y:z", "/"];

describeWith(["systemd-escape"], "the real unit-name escaping")("pathToUnitName agrees with systemd-escape", () => {
  it.each(PATHS)("%j", (path) => {
    const real = spawnSync("systemd-escape", ["--path", "--suffix=mount", path], { encoding: "utf8" }).stdout.trim();
    expect(pathToUnitName(path)).toBe(real);
  });
});
