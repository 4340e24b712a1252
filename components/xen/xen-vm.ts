import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { renderVmConvergeScript, renderVmDeleteScript } from "./xe-scripts";

export interface XenVmArgs {
  /** SSH connection to the XenServer host (root, key as a secret). */
  connection: command.types.input.remote.ConnectionArgs;
  /** Marker stored in the VM's other-config, unique per stack/cluster/node (e.g. `lab/web/coreos1`). */
  marker: string;
  /** VM name-label and hostname (e.g. coreos1). */
  nodeName: string;
  /** name-label of the template (e.g. CoreOS). */
  template: string;
  /** name-label of the storage repository for the system disk. */
  storageRepository: string;
  /** name-label of the network the VIF joins. */
  network: string;
  /** name-label of the install ISO in the host's ISO library. */
  isoName: pulumi.Input<string>;
  /** uuid of the node's config drive VDI. */
  configDriveVdi: pulumi.Input<string>;
  /** Virtual CPUs. */
  vcpus: number;
  /** Memory in MiB (static and dynamic limits are set equal). */
  memoryMiB: number;
  /** System disk size in GiB; can grow in place, never shrink. */
  diskGiB: number;
}

/**
 * One cluster node's VM, driven by `xe` on the XenServer host over SSH.
 *
 * Create and update run the same idempotent converge script: vCPU, memory, disk growth
 * and a new config drive are applied in place (clean shutdown, set, start: the node keeps
 * its etcd data and identity, and re-reads its cloud-config on that boot). A new
 * template, network or storage repository cannot be applied to a VM and replaces it.
 * Delete shuts down and uninstalls; a VM already gone is success.
 */
export class XenVm extends pulumi.ComponentResource {
  /** The VM's uuid on the XenServer host. */
  public readonly uuid: pulumi.Output<string>;

  constructor(name: string, args: XenVmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:xen:XenVm", name, {}, opts);
    const script = pulumi.output(args.isoName).apply((isoName) =>
      renderVmConvergeScript({
        marker: args.marker,
        nameLabel: args.nodeName,
        template: args.template,
        storageRepository: args.storageRepository,
        network: args.network,
        isoName,
        vcpus: args.vcpus,
        memoryMiB: args.memoryMiB,
        diskGiB: args.diskGiB,
      }),
    );
    const vm = new command.remote.Command(
      `${name}-vm`,
      {
        connection: args.connection,
        create: script,
        update: script,
        // The drive's uuid: a new drive is an update (swapped in with a reboot), not a new VM.
        stdin: args.configDriveVdi,
        delete: renderVmDeleteScript({ marker: args.marker, nameLabel: args.nodeName }),
        // What a VM cannot take in place; `replaceOnChanges` makes a change here a replacement.
        triggers: [args.marker, args.template, args.storageRepository, args.network],
      },
      { parent: this, replaceOnChanges: ["triggers"] },
    );
    this.uuid = vm.stdout.apply((out) => out.trim().split("\n").pop() ?? "");
    this.registerOutputs({ uuid: this.uuid });
  }
}
