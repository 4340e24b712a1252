import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { EncodedDriveFile, parseGuestAgentListing, renderGuestAgentScript } from "./xe-scripts";

export interface GuestAgentArgs {
  /** SSH connection to the XenServer host. */
  connection: command.types.input.remote.ConnectionArgs;
}

/**
 * The XenServer Linux guest agent, read from the host's tools ISO (as xscontainer does) so
 * that every config drive carries it in `agent/`; the node's xe-linux-distribution.service
 * runs it from there (it reports the guest's IP addresses and OS to XenCenter, and gives the
 * VM the cooperative shutdown feature). Nothing depends on it: a host without a tools ISO
 * gives an empty list and the nodes run without the agent.
 */
export class GuestAgent extends pulumi.ComponentResource {
  /** The agent's files, as config drive entries under `agent/`. */
  public readonly files: pulumi.Output<EncodedDriveFile[]>;

  constructor(name: string, args: GuestAgentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:xen:GuestAgent", name, {}, opts);
    const script = renderGuestAgentScript();
    const read = new command.remote.Command(
      `${name}-read`,
      // Logged: stderr only (stdout is the files, in base64).
      { connection: args.connection, create: script, update: script, logging: "stderr" },
      { parent: this },
    );
    this.files = read.stdout.apply(parseGuestAgentListing);
    this.registerOutputs({});
  }
}
