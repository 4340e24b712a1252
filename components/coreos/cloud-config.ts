import * as pulumi from "@pulumi/pulumi";
import { CloudConfigInput, renderCloudConfig } from "./cloud-config-render";

/** What replaces the discovery token in the copy of the cloud-config that previews and logs show. */
export const REDACTED_DISCOVERY = "<discovery URL: secret, see the DiscoveryToken output>";

export interface CloudConfigArgs {
  /** Everything the node's cloud-config needs except the discovery URL. */
  node: Omit<CloudConfigInput, "discoveryUrl">;
  /** The cluster's discovery URL (a secret). Unset for a cluster bootstrapped from its static member list. */
  discoveryUrl?: pulumi.Input<string>;
}

/**
 * One node's cloud-config. `userData` is the real file (a secret: it holds the discovery
 * token); `redacted` is the same text with the token replaced, safe to show, and what
 * `pulumi preview` diffs when a setting changes.
 */
export class CloudConfig extends pulumi.ComponentResource {
  /** The cloud-config text the node boots with (secret). */
  public readonly userData: pulumi.Output<string>;
  /** The cloud-config with its secret parts replaced by placeholders. */
  public readonly redacted: pulumi.Output<string>;

  constructor(name: string, args: CloudConfigArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:coreos:CloudConfig", name, {}, opts);
    this.userData = pulumi.secret(
      pulumi.output(args.discoveryUrl ?? "").apply((discoveryUrl) => renderCloudConfig({ ...args.node, discoveryUrl })),
    );
    this.redacted = pulumi.output(renderCloudConfig({ ...args.node, discoveryUrl: args.discoveryUrl === undefined ? "" : REDACTED_DISCOVERY }));
    this.registerOutputs({ userData: this.userData, redacted: this.redacted });
  }
}
