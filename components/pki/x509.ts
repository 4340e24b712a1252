/**
 * The platform's small PKI, as plain functions (no Pulumi imports): one CA per deployment
 * and leaf certificates for etcd members and clients, Galera members and FTPS. Built with
 * node-forge (a well-kept X.509 library; key pairs come from Node's native generator, which
 * forge uses when it runs under Node). RSA 2048 + SHA-256: what etcd 2/3.5 (Go), MariaDB
 * (OpenSSL/wolfSSL), Galera's socket.ssl and vsftpd all accept.
 *
 * Key material is returned as PEM text; callers keep it in Pulumi secrets (see
 * `components/pki/`), never in plain state or logs.
 */
import * as crypto from "crypto";
import * as forge from "node-forge";
import { utils as sshUtils } from "ssh2";

/** A certificate and its private key, PEM. */
export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

/** What a node receives to speak TLS: its own pair and the CA that signs every peer. */
export interface TlsMaterial extends KeyPairPem {
  caPem: string;
}

export type CertificateUsage = "server" | "client";

export interface CaSpec {
  /** Subject common name, e.g. "xen-coreos lab CA (deployment 1a2b3c4d)". */
  commonName: string;
  /** Days the CA is valid from `now`. */
  validityDays: number;
  /** Start of validity (default: now). Backdated by one hour for clock skew between nodes. */
  now?: Date;
}

export interface LeafSpec {
  commonName: string;
  /** IPv4 addresses in subjectAltName (clients verify etcd and Galera peers by address). */
  ipAddresses: string[];
  /** DNS names in subjectAltName. */
  dnsNames?: string[];
  /** extendedKeyUsage: serverAuth, clientAuth or both (etcd peers need both). */
  usages: CertificateUsage[];
  validityDays: number;
  now?: Date;
}

const RSA_BITS = 2048;
const CLOCK_SKEW_MS = 60 * 60 * 1000;

function randomSerial(): string {
  // 16 random bytes, top bit cleared so the DER integer stays positive (RFC 5280 §4.1.2.2).
  const bytes = crypto.randomBytes(16);
  bytes[0] &= 0x7f;
  if (bytes[0] === 0) bytes[0] = 0x01;
  return bytes.toString("hex");
}

function validity(cert: forge.pki.Certificate, days: number, now?: Date): void {
  if (!Number.isInteger(days) || days < 1) throw new Error(`certificate validity ${days} must be a whole number of days (>= 1)`);
  const start = new Date((now ?? new Date()).getTime() - CLOCK_SKEW_MS);
  cert.validity.notBefore = start;
  cert.validity.notAfter = new Date(start.getTime() + days * 86400 * 1000 + CLOCK_SKEW_MS);
}

function keyPair(): forge.pki.rsa.KeyPair {
  // forge delegates to crypto.generateKeyPairSync under Node (fast, native).
  return forge.pki.rsa.generateKeyPair({ bits: RSA_BITS, e: 0x10001 });
}

function readPair(pair: KeyPairPem, what: string): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } {
  try {
    return { cert: forge.pki.certificateFromPem(pair.certPem), key: forge.pki.privateKeyFromPem(pair.keyPem) as forge.pki.rsa.PrivateKey };
  } catch (e) {
    throw new Error(`${what} is not a PEM certificate and RSA key: ${(e as Error).message}`);
  }
}

/** A self-signed CA that may sign leaf certificates only (pathLenConstraint 0). */
export function createCa(spec: CaSpec): KeyPairPem {
  const keys = keyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerial();
  validity(cert, spec.validityDays, spec.now);
  const subject = [{ name: "commonName", value: spec.commonName }, { name: "organizationName", value: "xen-coreos" }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** A leaf certificate signed by `ca` for the given addresses and usages. */
export function issueCertificate(ca: KeyPairPem, spec: LeafSpec): KeyPairPem {
  if (spec.usages.length === 0) throw new Error(`certificate ${spec.commonName}: give at least one usage (server, client)`);
  for (const ip of spec.ipAddresses) if (!IPV4_RE.test(ip)) throw new Error(`certificate ${spec.commonName}: ${JSON.stringify(ip)} is not an IPv4 address`);
  const issuer = readPair(ca, "the CA");
  const keys = keyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerial();
  validity(cert, spec.validityDays, spec.now);
  cert.setSubject([{ name: "commonName", value: spec.commonName }, { name: "organizationName", value: "xen-coreos" }]);
  cert.setIssuer(issuer.cert.subject.attributes);
  const altNames = [
    ...spec.ipAddresses.map((ip) => ({ type: 7, ip })),
    ...(spec.dnsNames ?? []).map((value) => ({ type: 2, value })),
  ];
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: spec.usages.includes("server"), clientAuth: spec.usages.includes("client") },
    ...(altNames.length > 0 ? [{ name: "subjectAltName", altNames }] : []),
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: issuer.cert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(issuer.key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** An OpenSSH host key pair (ed25519), for a node's /etc/ssh and the pinned `hostKey`. */
export interface SshHostKeyPair {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` text, as sshd reads /etc/ssh/ssh_host_ed25519_key. */
  privateKey: string;
  /** `ssh-ed25519 AAAA… comment`: the .pub line, and what a connection's `hostKey` pins. */
  publicKey: string;
}

/** Generates an ed25519 host key in OpenSSH format (ssh2's key generator: Node's native keys, OpenSSH encoding). */
export function createSshHostKey(comment: string): SshHostKeyPair {
  if (!/^[A-Za-z0-9@._-]+$/.test(comment)) throw new Error(`host key comment ${JSON.stringify(comment)} must be one word of [A-Za-z0-9@._-]`);
  const pair = sshUtils.generateKeyPairSync("ed25519", { comment });
  return { privateKey: pair.private.endsWith("\n") ? pair.private : `${pair.private}\n`, publicKey: pair.public };
}
