/**
 * The PKI functions, checked by the programs that read their output: `openssl verify` /
 * `openssl x509` for the certificates, `ssh-keygen -y` for the host key.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createCa, createSshHostKey, issueCertificate } from "../../components/pki/x509";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "pki-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text, { mode: 0o600 });
  return p;
}
const openssl = (...args: string[]) => execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("createCa / issueCertificate", () => {
  const ca = createCa({ commonName: "xen-coreos test CA", validityDays: 30 });
  const leaf = issueCertificate(ca, { commonName: "node1", ipAddresses: ["10.0.0.11", "127.0.0.1"], usages: ["server", "client"], validityDays: 10 });

  it("makes a CA that openssl reads as a CA limited to leaf certificates", () => {
    const text = openssl("x509", "-in", write("ca.pem", ca.certPem), "-noout", "-text");
    expect(text).toMatch(/CA:TRUE, pathlen:0/);
    expect(text).toMatch(/Certificate Sign/);
    expect(text).toMatch(/Subject: CN ?= ?xen-coreos test CA/);
  });

  it("issues a leaf that verifies against the CA, for its addresses and usages", () => {
    const caFile = write("ca2.pem", ca.certPem);
    const leafFile = write("leaf.pem", leaf.certPem);
    expect(openssl("verify", "-CAfile", caFile, "-purpose", "sslserver", leafFile)).toMatch(/: OK/);
    expect(openssl("verify", "-CAfile", caFile, "-purpose", "sslclient", leafFile)).toMatch(/: OK/);
    expect(openssl("verify", "-CAfile", caFile, "-verify_ip", "10.0.0.11", leafFile)).toMatch(/: OK/);
    expect(() => openssl("verify", "-CAfile", caFile, "-verify_ip", "10.0.0.12", leafFile)).toThrow();
    const text = openssl("x509", "-in", leafFile, "-noout", "-text");
    expect(text).toMatch(/CA:FALSE/);
    expect(text).toMatch(/IP Address:10\.0\.0\.11, IP Address:127\.0\.0\.1/);
  });

  it("keeps the key with its certificate (same public key)", () => {
    const fromKey = openssl("pkey", "-in", write("leaf.key", leaf.keyPem), "-pubout");
    const fromCert = openssl("x509", "-in", write("leaf2.pem", leaf.certPem), "-noout", "-pubkey");
    expect(fromKey).toBe(fromCert);
  });

  it("a client-only certificate is refused as a server", () => {
    const client = issueCertificate(ca, { commonName: "client", ipAddresses: [], usages: ["client"], validityDays: 10 });
    const f = write("client.pem", client.certPem);
    expect(openssl("verify", "-CAfile", write("ca3.pem", ca.certPem), "-purpose", "sslclient", f)).toMatch(/: OK/);
    expect(() => openssl("verify", "-CAfile", write("ca4.pem", ca.certPem), "-purpose", "sslserver", f)).toThrow();
  });

  it("a certificate of another CA does not verify", () => {
    const other = createCa({ commonName: "someone else", validityDays: 30 });
    const stranger = issueCertificate(other, { commonName: "x", ipAddresses: ["10.0.0.11"], usages: ["server"], validityDays: 10 });
    expect(() => openssl("verify", "-CAfile", write("ca5.pem", ca.certPem), write("stranger.pem", stranger.certPem))).toThrow();
  });

  it("refuses bad input with the reason", () => {
    expect(() => issueCertificate(ca, { commonName: "n", ipAddresses: ["10.0.0"], usages: ["server"], validityDays: 1 })).toThrow(/not an IPv4 address/);
    expect(() => issueCertificate(ca, { commonName: "n", ipAddresses: [], usages: [], validityDays: 1 })).toThrow(/at least one usage/);
    expect(() => createCa({ commonName: "n", validityDays: 0 })).toThrow(/whole number of days/);
    expect(() => issueCertificate({ certPem: "x", keyPem: "y" }, { commonName: "n", ipAddresses: [], usages: ["server"], validityDays: 1 })).toThrow(/the CA is not a PEM/);
  });
});

describe("createSshHostKey", () => {
  it("writes a private key that ssh-keygen reads back to the same public line", () => {
    const key = createSshHostKey("node1");
    const f = write("ssh_host_ed25519_key", key.privateKey);
    const derived = execFileSync("ssh-keygen", ["-y", "-f", f], { encoding: "utf8" }).trim();
    expect(key.publicKey.split(" ").slice(0, 2)).toEqual(derived.split(" ").slice(0, 2));
    expect(key.publicKey).toMatch(/^ssh-ed25519 AAAA\S+ node1$/);
    expect(createSshHostKey("node1").publicKey).not.toBe(key.publicKey);
  });
  it("refuses a comment that is not one word", () => {
    expect(() => createSshHostKey("a b")).toThrow(/one word/);
  });
});
