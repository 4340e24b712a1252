import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { renderIsoRepositoryScript } from "./xe-scripts";

export interface IsoRepositoryArgs {
  /** SSH connection to the XenServer host (root, key as a secret). */
  connection: command.types.input.remote.ConnectionArgs;
  /** name-label of the ISO storage repository (e.g. "ISOS"). */
  name: string;
  /** Directory on the host backing the repository (e.g. /var/opt/isos). */
  location: string;
  /** File name of the CoreOS install ISO in that directory. */
  coreosIso: string;
}

/**
 * The host's ISO library holding the CoreOS install ISO (thesis Annex 1). Created when
 * missing; never deleted by this program: it is shared host infrastructure holding files
 * the operator copied there.
 */
export class IsoRepository extends pulumi.ComponentResource {
  /** uuid of the ISO storage repository. */
  public readonly srUuid: pulumi.Output<string>;
  /** name-label of the install ISO, as `vm-cd-add cd-name=` expects it. */
  public readonly isoName: string;

  constructor(name: string, args: IsoRepositoryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:xen:IsoRepository", name, {}, opts);
    const script = renderIsoRepositoryScript({ name: args.name, location: args.location, isoName: args.coreosIso });
    const ensure = new command.remote.Command(
      `${name}-ensure`,
      { connection: args.connection, create: script, update: script },
      { parent: this },
    );
    this.srUuid = ensure.stdout.apply((out) => out.trim().split("\n").pop() ?? "");
    this.isoName = args.coreosIso;
    this.registerOutputs({ srUuid: this.srUuid, isoName: this.isoName });
  }
}
