import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { renderFleetReadyScript } from "./fleetctl-scripts";

export interface FleetReadyArgs {
  /** SSH connection to the cluster node that runs fleetctl (user core). */
  connection: command.types.input.remote.ConnectionArgs;
  /** Number of machines fleet must list (the cluster's nodes). */
  machines: number;
  /** Seconds to wait. Defaults to 1800: a first install downloads CoreOS on every node. */
  timeoutSeconds?: number;
}

/**
 * Waits, once, until fleet lists every node of a cluster: the install and first boot of
 * new nodes take minutes, and units submitted before that would pile onto the first node.
 */
export class FleetReady extends pulumi.ComponentResource {
  public readonly machines: number;

  constructor(name: string, args: FleetReadyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:fleet:FleetReady", name, {}, opts);
    this.machines = args.machines;
    new command.remote.Command(
      `${name}-wait`,
      {
        connection: args.connection,
        create: renderFleetReadyScript({ machines: args.machines, timeoutSeconds: args.timeoutSeconds ?? 1800 }),
      },
      { parent: this },
    );
    this.registerOutputs({ machines: this.machines });
  }
}
