import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import type { TlsMaterial } from "../pki/x509";
import { CloudConfigInput, renderCloudConfig } from "./cloud-config-render";

/** What replaces the discovery token in the copy of the cloud-config that previews and logs show. */
export const REDACTED_DISCOVERY = "<discovery URL: secret, see the DiscoveryToken output>";

/** What replaces the node's private host key in the redacted copy. */
export const REDACTED_HOST_KEY = "<SSH host key: secret, kept in the stack's state>";

/**
 * What replaces the node's TLS material in the redacted copy. Only the key is secret, but the
 * three come from the PKI as one secret value; a new certificate shows in the drive's
 * `secretsVersion` (its fingerprint), not here.
 */
export function redactedTls(node: string): TlsMaterial {
  return {
    caPem: "<the deployment's CA certificate: see the caCertificate output>\n",
    certPem: `<etcd certificate of ${node}: from the deployment's PKI>\n`,
    keyPem: `<etcd private key of ${node}: secret>\n`,
  };
}

/** sha256 of the certificate's PEM text (public: it identifies the certificate, not the key). */
export function certificateFingerprint(tls: TlsMaterial): string {
  return crypto.createHash("sha256").update(tls.certPem).digest("hex");
}

export interface CloudConfigArgs {
  /** Everything the node's cloud-config needs except its secrets (discovery URL, TLS material, host key). */
  node: Omit<CloudConfigInput, "discoveryUrl" | "tls" | "sshHostKey">;
  /** The cluster's discovery URL (a secret). Unset for a cluster bootstrapped from its static member list. */
  discoveryUrl?: pulumi.Input<string>;
  /** The node's etcd TLS material from the deployment's PKI (a secret: it holds the private key). */
  tls: pulumi.Input<TlsMaterial>;
  /** The node's SSH host key: the private half a secret, the public line shown in the redacted copy. */
  sshHostKey?: { privateKey: pulumi.Input<string>; publicKey: pulumi.Input<string> };
}

/**
 * One node's cloud-config. `userData` is the real file (a secret: it holds the discovery
 * token, the node's etcd private key and its SSH host key); `redacted` is the same text with
 * those replaced, safe to show, and what `pulumi preview` diffs when a setting changes.
 * `tlsVersion` (the certificate's fingerprint, not secret) changes when the PKI issues a new
 * certificate; a new host key shows in the redacted copy (its public line).
 */
export class CloudConfig extends pulumi.ComponentResource {
  /** The cloud-config text the node boots with (secret). */
  public readonly userData: pulumi.Output<string>;
  /** The cloud-config with its secret parts replaced by placeholders. */
  public readonly redacted: pulumi.Output<string>;
  /** Fingerprint of the node's etcd certificate: changes with a rotation. */
  public readonly tlsVersion: pulumi.Output<string>;

  constructor(name: string, args: CloudConfigArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:coreos:CloudConfig", name, {}, opts);
    const tls = pulumi.secret(args.tls);
    const hostKey = args.sshHostKey;
    this.userData = pulumi.secret(
      pulumi.all([args.discoveryUrl ?? "", tls, hostKey?.privateKey ?? "", hostKey?.publicKey ?? ""]).apply(([discoveryUrl, material, privateKey, publicKey]) =>
        renderCloudConfig({ ...args.node, discoveryUrl, tls: material, sshHostKey: hostKey ? { privateKey, publicKey } : undefined }),
      ),
    );
    this.redacted = pulumi.output(hostKey?.publicKey ?? "").apply((publicKey) =>
      renderCloudConfig({
        ...args.node,
        discoveryUrl: args.discoveryUrl === undefined ? "" : REDACTED_DISCOVERY,
        tls: redactedTls(args.node.hostname),
        sshHostKey: hostKey ? { privateKey: REDACTED_HOST_KEY, publicKey } : undefined,
      }),
    );
    this.tlsVersion = pulumi.unsecret(tls.apply(certificateFingerprint));
    this.registerOutputs({ userData: this.userData, redacted: this.redacted, tlsVersion: this.tlsVersion });
  }
}
