import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { RenderedUnit } from "./unit-file";
import { renderFleetApplyScript, renderFleetDestroyScript } from "./fleetctl-scripts";

export interface FleetUnitArgs {
  /** SSH connection to the cluster node that runs fleetctl (user core). */
  connection: command.types.input.remote.ConnectionArgs;
  /** The rendered unit: name, text, and for a template the instances to start. */
  unit: RenderedUnit;
  /** Seconds to wait for the unit (every instance) to be active. Defaults to 300. */
  activeTimeoutSeconds?: number;
}

/**
 * One fleet unit as desired state (thesis §10.2, Annex 3). Create puts the text on the
 * node, submits and starts it, and waits until fleet reports it active (a timeout names
 * the unit). A change of text replaces it: the old unit is destroyed first (fleet cannot
 * hold two texts under one name), and the preview shows the changed lines. Delete
 * destroys it; a unit already gone is success.
 */
export class FleetUnit extends pulumi.ComponentResource {
  /** The unit's fleet name. */
  public readonly unitName: string;
  /** The unit's text. */
  public readonly text: string;

  constructor(name: string, args: FleetUnitArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:fleet:FleetUnit", name, {}, opts);
    const instances = args.unit.instances ?? [];
    const timeoutSeconds = args.activeTimeoutSeconds ?? 300;
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) {
      throw new pulumi.ResourceError(`activeTimeoutSeconds must be a positive whole number, got ${timeoutSeconds}`, this);
    }
    new command.remote.Command(
      `${name}-unit`,
      {
        connection: args.connection,
        create: renderFleetApplyScript({ unit: args.unit.name, instances, timeoutSeconds }),
        delete: renderFleetDestroyScript({ unit: args.unit.name, instances }),
        stdin: args.unit.text,
        // The unit text and its instances are what a change is judged by: either replaces the unit.
        triggers: [args.unit.text, ...instances],
      },
      { parent: this, deleteBeforeReplace: true, replaceOnChanges: ["triggers", "stdin", "create"] },
    );
    this.unitName = args.unit.name;
    this.text = args.unit.text;
    this.registerOutputs({ unitName: this.unitName, text: this.text });
  }
}
