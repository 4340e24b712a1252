/**
 * DeploymentPki under Pulumi mocks (the mocks run the provider's own generator): one CA,
 * certificates and host keys on request, private halves as Pulumi secrets, and the same
 * name giving the same resource.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ResourceRecorder, valueOf } from "../support/mocks";

const recorder = new ResourceRecorder();
pulumi.runtime.setMocks(recorder, "xen-coreos", "lab", false);

async function isSecret(o: pulumi.Output<unknown>): Promise<boolean> {
  return (o as any).isSecret as Promise<boolean>;
}

describe("DeploymentPki", () => {
  it("issues node certificates that verify against its CA, as secrets", async () => {
    const { DeploymentPki } = await import("../../components/pki/deployment-pki");
    const pki = new DeploymentPki("pki", { deploymentId: "0123456789abcdef", stack: "lab", tlsRotation: "2026-11" }, recorder.root());
    const a = pki.certificate("etcd-coreos1", { commonName: "coreos1", ipAddresses: ["10.50.0.101"], usages: ["server", "client"] });
    expect(pki.certificate("etcd-coreos1", { commonName: "coreos1", ipAddresses: ["10.50.0.101"], usages: ["server", "client"] })).toBe(a);
    const material = await valueOf<any>(a);
    expect(await isSecret(a)).toBe(true);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pki-mock-"));
    try {
      fs.writeFileSync(path.join(dir, "ca.pem"), material.caPem);
      fs.writeFileSync(path.join(dir, "node.pem"), material.certPem);
      expect(execFileSync("openssl", ["verify", "-CAfile", path.join(dir, "ca.pem"), "-verify_ip", "10.50.0.101", path.join(dir, "node.pem")], { encoding: "utf8" })).toMatch(/OK/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(material.caPem).toBe(await valueOf<string>(pki.caPem));
    const ca = recorder.named("pki-ca");
    expect(ca.inputs).toMatchObject({ kind: "ca", rotation: "2026-11", validityDays: 3650 });
    expect(ca.inputs.commonName).toBe("xen-coreos lab CA 0123456789abcdef");
    const cert = recorder.named("pki-cert-etcd-coreos1");
    expect(cert.secretPaths).toContain("caKeyPem");
    expect(recorder.ancestry("pki-cert-etcd-coreos1")).toEqual(["pki"]);
  });

  it("gives each node its own host key; the private half is secret", async () => {
    const { DeploymentPki } = await import("../../components/pki/deployment-pki");
    const pki = new DeploymentPki("pki2", { deploymentId: "fedcba9876543210", stack: "lab" }, recorder.root());
    const k1 = pki.hostKey("coreos1");
    const k2 = pki.hostKey("coreos2");
    expect(pki.hostKey("coreos1")).toBe(k1);
    expect(await valueOf<string>(k1.publicKey)).toMatch(/^ssh-ed25519 \S+ coreos1$/);
    expect(await valueOf<string>(k1.publicKey)).not.toBe(await valueOf<string>(k2.publicKey));
    expect(await isSecret(k1.privateKey)).toBe(true);
    expect(await isSecret(k1.publicKey)).toBe(false);
  });

  it("refuses certificates that outlive the CA, naming the settings", async () => {
    const { DeploymentPki } = await import("../../components/pki/deployment-pki");
    expect(() => new DeploymentPki("pki3", { deploymentId: "x", stack: "lab", caValidityDays: 100, certValidityDays: 200 })).toThrow(/security\.certValidityDays \(200\) is longer than security\.caValidityDays \(100\)/);
  });
});
