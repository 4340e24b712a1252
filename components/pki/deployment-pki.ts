import * as pulumi from "@pulumi/pulumi";
import { PkiObject } from "./pki-provider";
import { CertificateUsage, TlsMaterial } from "./x509";

export interface DeploymentPkiArgs {
  /** The deployment's id (random, in state): the CA's name carries it. */
  deploymentId: pulumi.Input<string>;
  /** Stack name, for the CA's name. */
  stack: string;
  /**
   * Changing it issues a new CA and, with it, every certificate (`xen-coreos:security.tlsRotation`).
   * Defaults to "1".
   */
  tlsRotation?: string;
  /** Changing it gives every node a new SSH host key (`xen-coreos:security.hostKeyRotation`). Defaults to "1". */
  hostKeyRotation?: string;
  /** Days the CA is valid. Defaults to 3650. */
  caValidityDays?: number;
  /** Days a leaf certificate is valid. Defaults to 825. */
  certValidityDays?: number;
}

export interface CertificateRequest {
  commonName: string;
  /** The addresses peers reach it by (subjectAltName). */
  ipAddresses: string[];
  usages: CertificateUsage[];
}

/** A node's SSH host key: the private half for its /etc/ssh, the public line for `hostKey`. */
export interface HostKey {
  privateKey: pulumi.Output<string>;
  publicKey: pulumi.Output<string>;
}

/**
 * The deployment's PKI: one CA (kept in state, a secret), certificates it signs on request
 * (etcd members and clients, Galera members, FTPS) and per-node SSH host keys. Each node
 * receives only its own keys; the CA key never leaves the state.
 */
export class DeploymentPki extends pulumi.ComponentResource {
  /** The CA certificate (public). */
  public readonly caPem: pulumi.Output<string>;
  private readonly ca: PkiObject;
  private readonly certValidityDays: number;
  private readonly hostKeyRotation: string;
  private readonly issued = new Map<string, pulumi.Output<TlsMaterial>>();
  private readonly hostKeys = new Map<string, HostKey>();

  constructor(private readonly resourceName: string, args: DeploymentPkiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:pki:DeploymentPki", resourceName, {}, opts);
    const caValidityDays = args.caValidityDays ?? 3650;
    this.certValidityDays = args.certValidityDays ?? 825;
    this.hostKeyRotation = args.hostKeyRotation ?? "1";
    if (this.certValidityDays > caValidityDays)
      throw new Error(`xen-coreos:security.certValidityDays (${this.certValidityDays}) is longer than security.caValidityDays (${caValidityDays}). Fix: shorten the certificates or lengthen the CA.`);
    this.ca = new PkiObject(`${resourceName}-ca`, {
      kind: "ca",
      commonName: pulumi.interpolate`xen-coreos ${args.stack} CA ${args.deploymentId}`,
      validityDays: caValidityDays,
      rotation: args.tlsRotation ?? "1",
    }, { parent: this });
    this.caPem = this.ca.certPem.apply((pem) => pem ?? "");
    this.registerOutputs({ caPem: this.caPem });
  }

  /** A certificate signed by the CA; the same name always gives the same resource. Secret. */
  certificate(name: string, request: CertificateRequest): pulumi.Output<TlsMaterial> {
    const known = this.issued.get(name);
    if (known) return known;
    const cert = new PkiObject(`${this.resourceName}-cert-${name}`, {
      kind: "certificate",
      caCertPem: this.ca.certPem,
      caKeyPem: pulumi.secret(this.ca.keyPem),
      commonName: request.commonName,
      ipAddresses: request.ipAddresses,
      usages: request.usages,
      validityDays: this.certValidityDays,
    }, { parent: this });
    const material = pulumi.secret(
      pulumi.all([cert.certPem, cert.keyPem, this.ca.certPem]).apply(([certPem, keyPem, caPem]) => ({ certPem: certPem ?? "", keyPem: keyPem ?? "", caPem: caPem ?? "" })),
    );
    this.issued.set(name, material);
    return material;
  }

  /** The SSH host key of a node (ed25519); the same name always gives the same key. */
  hostKey(nodeName: string): HostKey {
    const known = this.hostKeys.get(nodeName);
    if (known) return known;
    const key = new PkiObject(`${this.resourceName}-hostkey-${nodeName}`, { kind: "sshHostKey", comment: nodeName, rotation: this.hostKeyRotation }, { parent: this });
    const hostKey = {
      privateKey: pulumi.secret(key.privateKey.apply((k) => k ?? "")),
      publicKey: key.publicKey.apply((k) => k ?? ""),
    };
    this.hostKeys.set(nodeName, hostKey);
    return hostKey;
  }
}
