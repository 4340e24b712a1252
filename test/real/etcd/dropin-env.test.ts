import { dropInEnvironment } from "./dropin-env";

// systemd.exec(5), Environment=: space-separated assignments, quotes removed, an empty
// assignment resets the list, the last assignment of a variable wins.
describe("dropInEnvironment (the test's reading of a drop-in, as systemd sets it)", () => {
  it("reads quoted and bare assignments of the [Service] section only", () => {
    const text = [
      "# comment",
      "[Unit]",
      'Environment="NOT_SERVICE=1"',
      "[Service]",
      'Environment="A=one two" B=3',
      "Environment='C=\"q\"' \"D=back\\\\slash \\\"x\\\"\"",
      "ExecStart=/bin/true",
    ].join("\n");
    expect(dropInEnvironment(text)).toEqual({ A: "one two", B: "3", C: '"q"', D: 'back\\slash "x"' });
  });

  it("resets on an empty Environment= and lets the last assignment win", () => {
    const text = ["[Service]", 'Environment="A=1" "B=2"', "Environment=", 'Environment="B=3"', 'Environment="B=4"'].join("\n");
    expect(dropInEnvironment(text)).toEqual({ B: "4" });
  });

  it("refuses what systemd would ignore, so a broken line cannot pass unseen", () => {
    expect(() => dropInEnvironment('[Service]\nEnvironment="NOEQUALS"')).toThrow(/invalid environment assignment/);
    expect(() => dropInEnvironment('[Service]\nEnvironment="1BAD=x"')).toThrow(/invalid environment assignment/);
    expect(() => dropInEnvironment('[Service]\nEnvironment="A=x')).toThrow(/unbalanced quote/);
  });
});
