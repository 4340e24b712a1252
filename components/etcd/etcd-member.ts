import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { renderEtcdMemberAddScript, renderEtcdMemberRemoveScript } from "./etcd-scripts";
import { ETCD_LOCAL_CLIENT_URL } from "./etcd-tls";
import { etcdUrls } from "../os/coreos";

export interface EtcdMemberArgs {
  /** SSH connection to a bootstrap node of the cluster, where etcdctl runs. */
  connection: command.types.input.remote.ConnectionArgs;
  /** Member name (the node's hostname). */
  name: string;
  /** The node's IPv4 address: its peer URL is https://<ip>:2380. */
  ip: string;
  /** Client URL etcdctl talks to (with the node's certificate). Defaults to https://127.0.0.1:2379 (the local member). */
  endpoint?: string;
  /** Seconds to wait for the member to start. Defaults to 1800 (install and first boot). */
  timeoutSeconds?: number;
}

/**
 * A member added to a running etcd cluster (thesis §10.4.2). It is declared after its
 * node's VM, and the next joining node's member waits for this one to have started, so
 * members join one at a time. Deleting it removes the member from the cluster; it goes
 * before its VM (Pulumi deletes dependents first), so a removed node leaves etcd first.
 */
export class EtcdMember extends pulumi.ComponentResource {
  public readonly peerUrl: string;

  constructor(name: string, args: EtcdMemberArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:etcd:EtcdMember", name, {}, opts);
    this.peerUrl = etcdUrls(args.ip).peer;
    const spec = { name: args.name, peerUrl: this.peerUrl, endpoint: args.endpoint ?? ETCD_LOCAL_CLIENT_URL };
    new command.remote.Command(
      `${name}-member`,
      {
        connection: args.connection,
        create: renderEtcdMemberAddScript({ ...spec, timeoutSeconds: args.timeoutSeconds ?? 1800 }),
        delete: renderEtcdMemberRemoveScript(spec),
      },
      { parent: this },
    );
    this.registerOutputs({ peerUrl: this.peerUrl });
  }
}
