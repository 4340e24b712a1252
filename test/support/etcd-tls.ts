/**
 * Real TLS material for the tiers that run etcd: a CA and per-member certificates made with
 * the program's own PKI functions (components/pki/x509.ts), written as the cloud-config
 * writes them on a node (ca.pem, etcd.pem, etcd-key.pem, the key 0600).
 */
import * as fs from "fs";
import { EtcdTlsPaths, etcdTlsPaths } from "../../components/etcd/etcd-tls";
import { KeyPairPem, TlsMaterial, createCa, issueCertificate } from "../../components/pki/x509";

export function testCa(label: string): KeyPairPem {
  return createCa({ commonName: `xen-coreos test CA ${label}`, validityDays: 2 });
}

/** A member's material as the program issues it: its address and 127.0.0.1, server and client. */
export function memberTls(ca: KeyPairPem, name: string, ip: string): TlsMaterial {
  const pair = issueCertificate(ca, { commonName: name, ipAddresses: [ip, "127.0.0.1"], usages: ["server", "client"], validityDays: 2 });
  return { caPem: ca.certPem, ...pair };
}

/** Writes the material into `dir` under the node's file names; returns their paths. */
export function writeTls(dir: string, tls: TlsMaterial): EtcdTlsPaths {
  fs.mkdirSync(dir, { recursive: true });
  const paths = etcdTlsPaths(dir);
  fs.writeFileSync(paths.caFile, tls.caPem, { mode: 0o644 });
  fs.writeFileSync(paths.certFile, tls.certPem, { mode: 0o644 });
  fs.writeFileSync(paths.keyFile, tls.keyPem, { mode: 0o600 });
  return paths;
}

/** Rewrites the node's TLS paths (`from`, e.g. /etc/xen-coreos/tls) in every value to `to`. */
export function relocate(env: Record<string, string>, from: string, to: string): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.split(`${from}/`).join(`${to}/`)]));
}
