import * as pulumi from "@pulumi/pulumi";
import { CloudConfigInput, renderCloudConfig } from "./cloud-config-render";

/** What replaces the discovery token in the copy of the cloud-config that previews and logs show. */
export const REDACTED_DISCOVERY = "<discovery URL: secret, see the DiscoveryToken output>";

/** What replaces the node's private host key in the redacted copy. */
export const REDACTED_HOST_KEY = "<SSH host key: secret, kept in the stack's state>";

export interface CloudConfigArgs {
  /** Everything the node's cloud-config needs except its secrets (discovery URL, host key). */
  node: Omit<CloudConfigInput, "discoveryUrl" | "sshHostKey">;
  /** The cluster's discovery URL (a secret). Unset for a cluster bootstrapped from its static member list. */
  discoveryUrl?: pulumi.Input<string>;
  /** The node's SSH host key: the private half a secret, the public line shown in the redacted copy. */
  sshHostKey?: { privateKey: pulumi.Input<string>; publicKey: pulumi.Input<string> };
}

/**
 * One node's cloud-config. `userData` is the real file (a secret: it holds the discovery
 * token and the node's private host key); `redacted` is the same text with those replaced, safe to show, and what
 * `pulumi preview` diffs when a setting changes.
 */
export class CloudConfig extends pulumi.ComponentResource {
  /** The cloud-config text the node boots with (secret). */
  public readonly userData: pulumi.Output<string>;
  /** The cloud-config with its secret parts replaced by placeholders. */
  public readonly redacted: pulumi.Output<string>;

  constructor(name: string, args: CloudConfigArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:coreos:CloudConfig", name, {}, opts);
    const hostKey = args.sshHostKey;
    this.userData = pulumi.secret(
      pulumi.all([args.discoveryUrl ?? "", hostKey?.privateKey ?? "", hostKey?.publicKey ?? ""]).apply(([discoveryUrl, privateKey, publicKey]) =>
        renderCloudConfig({ ...args.node, discoveryUrl, sshHostKey: hostKey ? { privateKey, publicKey } : undefined }),
      ),
    );
    // A rotated host key changes the public line here, so the preview shows it and the drive is rebuilt.
    this.redacted = pulumi.output(hostKey?.publicKey ?? "").apply((publicKey) =>
      renderCloudConfig({
        ...args.node,
        discoveryUrl: args.discoveryUrl === undefined ? "" : REDACTED_DISCOVERY,
        sshHostKey: hostKey ? { privateKey: REDACTED_HOST_KEY, publicKey } : undefined,
      }),
    );
    this.registerOutputs({ userData: this.userData, redacted: this.redacted });
  }
}
