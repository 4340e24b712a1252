import {
  instanceName,
  isTemplateName,
  isValidUnitName,
  parseUnitName,
  renderUnitFile,
  templateName,
  templateOf,
  unitName,
  validateUnitName,
  xFleetDirectives,
} from "../../components/fleet/unit-file";
import { expectGolden } from "../golden";

describe("renderUnitFile", () => {
  it("writes sections in the fixed order with one blank line between them", () => {
    // GIVEN sections supplied out of order
    const text = renderUnitFile({
      install: [["WantedBy", "multi-user.target"]],
      xFleet: { machineOf: "apache-1.service" },
      service: [
        ["ExecStartPre", "-/usr/bin/docker rm -f x"],
        ["ExecStartPre", "-/usr/bin/docker pull x:1"],
        ["ExecStart", "/usr/bin/docker run --rm --name x x:1"],
      ],
      unit: [["Description", "Example"]],
    });
    // THEN
    expect(text).toBe(
      [
        "[Unit]",
        "Description=Example",
        "",
        "[Service]",
        "ExecStartPre=-/usr/bin/docker rm -f x",
        "ExecStartPre=-/usr/bin/docker pull x:1",
        "ExecStart=/usr/bin/docker run --rm --name x x:1",
        "",
        "[X-Fleet]",
        "MachineOf=apache-1.service",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
      ].join("\n"),
    );
  });

  it("renders every X-Fleet option in a fixed order (golden)", () => {
    const text = renderUnitFile({
      unit: [["Description", "All X-Fleet options"]],
      service: [["ExecStart", "/usr/bin/true"]],
      xFleet: {
        replaces: "old.service",
        global: false,
        conflicts: ["web@*.service", "db-?.service"],
        machineMetadata: ["role=db", "disk=ssd"],
        machineOf: "peer.service",
        machineId: "0123456789abcdef0123456789abcdef",
      },
    });
    expectGolden("fleet/all-options.service", text);
  });

  it("leaves out empty sections and an empty [X-Fleet]", () => {
    expect(renderUnitFile({ unit: [], service: [["ExecStart", "/bin/true"]], xFleet: {} })).toBe("[Service]\nExecStart=/bin/true\n");
  });

  it("rejects a unit without sections", () => {
    expect(() => renderUnitFile({})).toThrow(/no sections/);
  });

  it("rejects invalid keys", () => {
    expect(() => renderUnitFile({ service: [["Exec Start", "/bin/true"]] })).toThrow(/\[Service\] key "Exec Start" is not a valid unit key/);
    expect(() => renderUnitFile({ unit: [["1Description", "x"]] })).toThrow(/not a valid unit key/);
    expect(() => renderUnitFile({ unit: [["", "x"]] })).toThrow(/not a valid unit key/);
    expect(() => renderUnitFile({ unit: [["Environment-File", "x"]] })).toThrow(/not a valid unit key/);
  });

  it("rejects values with newlines, NUL or a trailing backslash", () => {
    expect(() => renderUnitFile({ service: [["ExecStart", "/bin/true\nExecStop=/bin/false"]] })).toThrow(/ExecStart= value contains a newline/);
    expect(() => renderUnitFile({ service: [["ExecStart", "/bin/true\r"]] })).toThrow(/newline/);
    expect(() => renderUnitFile({ service: [["ExecStart", "/bin/a\0b"]] })).toThrow(/NUL/);
    expect(() => renderUnitFile({ service: [["ExecStart", "/bin/echo \\"]] })).toThrow(/ends with a backslash/);
  });

  it("validates X-Fleet value shapes", () => {
    expect(() => xFleetDirectives({ machineId: "abc" })).toThrow(/MachineID "abc" must be the full 32-hex machine id/);
    expect(() => xFleetDirectives({ machineMetadata: ["role"] })).toThrow(/MachineMetadata "role" must be one key=value pair/);
    expect(() => xFleetDirectives({ machineMetadata: ["a=b=c"] })).toThrow(/one key=value pair/);
    expect(() => xFleetDirectives({ machineMetadata: ["role=db web"] })).toThrow(/one key=value pair/);
    expect(() => xFleetDirectives({ conflicts: [""] })).toThrow(/Conflicts "" must be a non-empty glob/);
    expect(xFleetDirectives({ global: true })).toEqual([["Global", "true"]]);
  });
});

describe("unit names", () => {
  it("builds template, instance and plain names", () => {
    expect(templateName("apache")).toBe("apache@.service");
    expect(instanceName("apache", 3)).toBe("apache@3.service");
    expect(instanceName("galera", "db-1", "service")).toBe("galera@db-1.service");
    expect(unitName("nginx")).toBe("nginx.service");
    expect(unitName("backup", "timer")).toBe("backup.timer");
  });

  it("parses names and recognises templates", () => {
    expect(parseUnitName("apache@3.service")).toEqual({ prefix: "apache", instance: "3", type: "service" });
    expect(parseUnitName("apache@.service")).toEqual({ prefix: "apache", instance: "", type: "service" });
    expect(parseUnitName("mnt-nfs.mount")).toEqual({ prefix: "mnt-nfs", type: "mount" });
    expect(isTemplateName("apache@.service")).toBe(true);
    expect(isTemplateName("apache@1.service")).toBe(false);
    expect(templateOf("apache@12.service")).toBe("apache@.service");
    expect(templateOf("apache@.service")).toBeUndefined();
    expect(templateOf("nginx.service")).toBeUndefined();
  });

  it("rejects names fleet or systemd refuse", () => {
    expect(() => validateUnitName("")).toThrow(/unit name is empty/);
    expect(() => validateUnitName("nginx")).toThrow(/has no "\.type" suffix/);
    expect(() => validateUnitName("nginx.target")).toThrow(/type "target", fleet schedules only service/);
    expect(() => validateUnitName("@1.service")).toThrow(/must not start with "@"/);
    expect(() => validateUnitName("my app.service")).toThrow(/prefix outside/);
    expect(() => validateUnitName("app@a b.service")).toThrow(/instance outside/);
    expect(() => validateUnitName(`${"a".repeat(250)}.service`)).toThrow(/longer than 256/);
    expect(() => templateName("bad/name")).toThrow(/invalid unit name/);
    expect(() => instanceName("apache", "")).toThrow(/instance of "apache" is empty/);
    expect(() => unitName("apache@1")).toThrow(/contains "@"/);
    expect(isValidUnitName("galera-discovery@2.service")).toBe(true);
    expect(isValidUnitName("a:b_c.d-e.socket")).toBe(true);
  });
});
