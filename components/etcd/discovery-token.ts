import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";
import { renderDiscoveryKeepScript, renderDiscoveryRequestScript } from "./etcd-scripts";

export interface DiscoveryTokenArgs {
  /** Base URL of the discovery service: https://discovery.etcd.io or a self-hosted etcd-discovery. */
  endpoint: string;
  /** The cluster's initial size: discovery waits for exactly this many members. */
  size: number;
  /** Cluster name, kept with the token so two clusters never share one. */
  cluster: string;
}

/**
 * The etcd discovery URL of one cluster (thesis §10.3). A token is single-use, so it must
 * stay the same across `pulumi up` runs (or every node would be rebuilt) and be new after
 * a teardown.
 *
 * A random id, kept by Pulumi state, stands for "this cluster's bootstrap": while it
 * lives, the `<endpoint>/new?size=N` request is never sent again and its answer stays in
 * state (as a secret). A teardown deletes the id; the next `up` makes a new one and so
 * asks for a new token. Changing the size or endpoint also makes a new token, as it must.
 */
export class DiscoveryToken extends pulumi.ComponentResource {
  /** The discovery URL (secret: whoever holds it can join the bootstrap). */
  public readonly url: pulumi.Output<string>;
  /** A non-secret identity of the token: changes exactly when the URL changes. */
  public readonly id: pulumi.Output<string>;

  constructor(name: string, args: DiscoveryTokenArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:etcd:DiscoveryToken", name, {}, opts);
    if (!Number.isInteger(args.size) || args.size < 1) {
      throw new pulumi.ResourceError(`discovery size must be a positive whole number, got ${args.size}`, this);
    }
    const endpoint = args.endpoint.replace(/\/+$/, "");
    const bootstrap = new random.RandomId(
      `${name}-bootstrap`,
      { byteLength: 8, keepers: { cluster: args.cluster, size: String(args.size), endpoint } },
      { parent: this },
    );
    const request = new command.local.Command(
      `${name}-request`,
      {
        create: renderDiscoveryRequestScript(endpoint, args.size),
        update: renderDiscoveryKeepScript(endpoint, args.size),
        addPreviousOutputInEnv: true,
        triggers: [bootstrap.hex],
        logging: "none",
      },
      { parent: this, additionalSecretOutputs: ["stdout"], replaceOnChanges: ["triggers"] },
    );
    this.url = pulumi.secret(request.stdout.apply((s) => s.trim()));
    this.id = bootstrap.hex;
    this.registerOutputs({ url: this.url, id: this.id });
  }
}
