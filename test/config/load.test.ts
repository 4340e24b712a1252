/**
 * Reading the stack's config through the Pulumi runtime (under mocks, as `pulumi up` hands it
 * over): which keys were set with --secret, JSON values with a repeated key, and the program
 * refusing bad input before it declares any resource.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadStackSettings, readRawConfig } from "../../components/config/load";
import { SettingsError } from "../../components/config/settings";
import { labRaw } from "../fixtures/settings";
import { ResourceRecorder, setStackConfig } from "../support/mocks";

/** Config as `pulumi config` hands it to the program: structured values as JSON text, `secretKeys` marked secret. */
function setConfig(values: Record<string, string>, secretKeys: string[]): void {
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(values).map(([k, v]) => [`xen-coreos:${k}`, v])),
    secretKeys.map((k) => `xen-coreos:${k}`),
  );
}

function labConfig(): Record<string, string> {
  return Object.fromEntries(Object.entries(labRaw()).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

function settingsProblems(): string[] {
  try {
    loadStackSettings();
    return [];
  } catch (e) {
    if (e instanceof SettingsError) return e.problems;
    throw e;
  }
}

beforeAll(() => {
  pulumi.runtime.setMocks(new ResourceRecorder(), "xen-coreos", "lab", false);
});

describe("secret keys set without --secret", () => {
  it("the runtime tells which config keys are secret (the SDK function this relies on exists)", () => {
    expect(typeof (pulumi.runtime as any).isConfigSecret).toBe("function");
  });

  it("a key set with --secret is accepted", () => {
    setConfig({ ...labConfig(), sshPrivateKey: "KEY" }, ["sshPrivateKey"]);
    expect(readRawConfig().options.plainSecretKeys).toEqual(new Set());
    expect(settingsProblems()).toEqual([]);
  });

  it("a key set in plain text is refused, whichever of the three", () => {
    setConfig({ ...labConfig(), sshPrivateKey: "KEY", xenserverPrivateKey: "XEN", nasPrivateKey: "NAS" }, ["xenserverPrivateKey"]);
    expect(readRawConfig().options.plainSecretKeys).toEqual(new Set(["sshPrivateKey", "nasPrivateKey"]));
    expect(settingsProblems()).toEqual([
      "xen-coreos:sshPrivateKey: is set in plain text (without --secret), so the private key is written unencrypted in Pulumi.<stack>.yaml. Fix: rotate the key, remove it with pulumi config rm xen-coreos:sshPrivateKey, then set it with pulumi config set --secret xen-coreos:sshPrivateKey < key",
      "xen-coreos:nasPrivateKey: is set in plain text (without --secret), so the private key is written unencrypted in Pulumi.<stack>.yaml. Fix: rotate the key, remove it with pulumi config rm xen-coreos:nasPrivateKey, then set it with pulumi config set --secret xen-coreos:nasPrivateKey < key",
    ]);
  });

  it("the plain value never reaches the raw settings or a message", () => {
    setConfig({ ...labConfig(), sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETBYTES\n-----END OPENSSH PRIVATE KEY-----" }, []);
    expect(JSON.stringify(readRawConfig().raw)).not.toContain("SECRETBYTES");
    const list = settingsProblems();
    expect(list).toHaveLength(1);
    expect(list.join("\n")).not.toContain("SECRETBYTES");
  });
});

describe("JSON values with a repeated key", () => {
  it("names the repeated member's setting (JSON.parse alone keeps the last silently)", () => {
    const config = labConfig();
    config.network = '{"cidr": "10.50.0.0/24", "gateway": "10.50.0.1", "cidr": "10.50.0.0/24", "dns": ["8.8.8.8"]}';
    config.clusters = config.clusters.replace('"ip":"10.50.0.102"', '"ip":"10.50.0.102","ip":"10.50.0.102"');
    setConfig({ ...config, sshPrivateKey: "KEY" }, ["sshPrivateKey"]);
    expect(settingsProblems()).toEqual([
      'xen-coreos:network.cidr: the key "cidr" is written twice in the JSON value of xen-coreos:network; only the last one would count. Fix: keep one "cidr" (set structured values in Pulumi.<stack>.yaml or with pulumi config set --path).',
      'xen-coreos:clusters[0].nodes[1].ip: the key "ip" is written twice in the JSON value of xen-coreos:clusters; only the last one would count. Fix: keep one "ip" (set structured values in Pulumi.<stack>.yaml or with pulumi config set --path).',
    ]);
  });
});

describe("the program refuses bad input before declaring anything", () => {
  it("an installBaseUrl ending in a backslash: a settings error, not a stack trace from the unit writer", async () => {
    const recorder = new ResourceRecorder();
    pulumi.runtime.setMocks(recorder, "xen-coreos", "lab", false);
    const raw = labRaw();
    raw.coreos.installBaseUrl = "https://mirror.example/coreos\\";
    setStackConfig(raw, { sshPrivateKey: "KEY" });
    const { xenCoreosProgram } = await import("../../components/program");
    expect(() => xenCoreosProgram()).toThrow(SettingsError);
    expect(() => xenCoreosProgram()).toThrow(/xen-coreos:coreos\.installBaseUrl: ends in "\\"/);
    expect(recorder.resources).toEqual([]);
  });

  it("the program still runs the services' fleet placement check (passed down to the settings)", async () => {
    const { servicePlacementProblems } = await import("../../components/services/bundles");
    const checks: string[] = [];
    const raw = labRaw();
    setStackConfig(raw, { sshPrivateKey: "KEY" });
    loadStackSettings([(s) => { checks.push("ran"); return servicePlacementProblems(s.services, s.clusters); }]);
    expect(checks).toEqual(["ran"]);
    expect(() => loadStackSettings([() => ["xen-coreos:services (cluster lab): a placement problem"]])).toThrow(
      /Invalid stack settings \(1 problem\):\n {2}- xen-coreos:services \(cluster lab\): a placement problem/,
    );
  });
});
