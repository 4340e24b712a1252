import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";
import { renderNodeHaltScript, renderVmConvergeScript, renderVmDeleteScript, vmConvergeInput, vmMarker } from "./xe-scripts";

export interface XenVmArgs {
  /** SSH connection to the XenServer host (root, key as a secret). */
  connection: command.types.input.remote.ConnectionArgs;
  /** SSH connection to the node itself (user core): the halt request before an in-place change. */
  nodeConnection: command.types.input.remote.ConnectionArgs;
  /** The deployment's id (random, kept in the stack's state): part of the VM's marker. */
  deploymentId: pulumi.Input<string>;
  /** Cluster name (e.g. lab). */
  clusterName: string;
  /**
   * The marker versions before deployment ids wrote (`<stack>/<cluster>/<node>`): an update
   * takes such a VM over once. Also what identifies the node among the replace triggers.
   */
  legacyMarker: string;
  /** VM name-label and hostname (e.g. coreos1). */
  nodeName: string;
  /** name-label of the template (e.g. CoreOS). */
  template: string;
  /** What the error of a missing template tells the operator (xe-scripts `missingTemplateFix`). Defaults to the XenServer 6.5 text. */
  templateFix?: string;
  /** name-label of the storage repository for the system disk. */
  storageRepository: string;
  /** name-label of the network the VIF joins. */
  network: string;
  /**
   * The node's host-key generation (`security.hostKeyRotation`). A new one gives the node a new
   * VM: the program's connections pin the new key at once, and a running node still presents
   * the old one, so no SSH step (the halt request) may come between. Defaults to "1".
   */
  hostKeyRotation?: string;
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
  /** Seconds to wait for the node to halt before an in-place change. Defaults to 300. */
  haltTimeoutSeconds?: number;
  /** After that wait, power the VM off hard instead of failing. Defaults to false. */
  hardPowerOff?: boolean;
}

/**
 * One cluster node's VM, driven by `xe` on the XenServer host over SSH.
 *
 * Create and update run the same idempotent converge script. vCPU, memory, disk growth and
 * a new config drive are applied in place while the VM is halted: first the node is asked
 * over SSH to power itself off (a clean `xe vm-shutdown` needs a guest agent that 6.5-era
 * hosts refuse to do without), then the converge script waits for xapi to see it halted,
 * applies, and starts it; the node keeps its etcd data and identity and re-reads its
 * cloud-config on that boot.
 *
 * A new template, network or storage repository cannot be applied to a VM and replaces
 * it. The VM's marker holds an instance id that changes with exactly those settings, and
 * the old VM is deleted before the new one is made (same name and address): the new VM can
 * never adopt the old one, and a delete removes only the one VM its marker names.
 */
export class XenVm extends pulumi.ComponentResource {
  /** The VM's uuid on the XenServer host. */
  public readonly uuid: pulumi.Output<string>;

  constructor(name: string, args: XenVmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("xencoreos:xen:XenVm", name, {}, opts);
    // What only a new VM can take: a change of these gives a new instance id, so a new marker.
    const hostKeyRotation = args.hostKeyRotation ?? "1";
    const replaceTriggers = [args.legacyMarker, args.template, args.storageRepository, args.network, ...(hostKeyRotation === "1" ? [] : [`host-key:${hostKeyRotation}`])];
    const instance = new random.RandomId(
      `${name}-instance`,
      { byteLength: 4, keepers: { template: args.template, storageRepository: args.storageRepository, network: args.network, ...(hostKeyRotation === "1" ? {} : { hostKeyRotation }) } },
      { parent: this },
    );
    const marker = pulumi
      .all([args.deploymentId, instance.hex])
      .apply(([deployment, id]) => vmMarker({ deployment, cluster: args.clusterName, node: args.nodeName, instance: id }));
    const spec = pulumi.output(args.isoName).apply((isoName) => ({
      nameLabel: args.nodeName,
      template: args.template,
      templateFix: args.templateFix,
      storageRepository: args.storageRepository,
      network: args.network,
      isoName,
      vcpus: args.vcpus,
      memoryMiB: args.memoryMiB,
      diskGiB: args.diskGiB,
      haltTimeoutSeconds: args.haltTimeoutSeconds,
      hardPowerOff: args.hardPowerOff,
    }));

    // Runs only on update (no create: a node that does not exist yet has nothing to halt), when
    // what needs a halted VM changes; the converge below waits for the halt.
    const haltRequest = new command.remote.Command(
      `${name}-halt`,
      {
        connection: args.nodeConnection,
        update: pulumi.output(args.configDriveVdi).apply((drive) =>
          renderNodeHaltScript({ nameLabel: args.nodeName, vcpus: args.vcpus, memoryMiB: args.memoryMiB, diskGiB: args.diskGiB, configDriveVdi: drive }),
        ),
        logging: "stderr",
        // Replaced (create and delete do nothing) with the VM: a new VM needs no halt, and a
        // rotated host key must not be dialed before the new VM boots with it.
        triggers: replaceTriggers,
      },
      { parent: this, replaceOnChanges: ["triggers"] },
    );
    const vm = new command.remote.Command(
      `${name}-vm`,
      {
        connection: args.connection,
        create: spec.apply((s) => renderVmConvergeScript(s)),
        // An update may meet a VM made before deployment ids: take it over once (a create never does).
        update: spec.apply((s) => renderVmConvergeScript({ ...s, legacyMarker: args.legacyMarker })),
        // The drive's uuid (a new drive is an update, swapped in with a reboot, not a new VM)
        // and the marker (a new instance id comes only with a replacement, see triggers).
        stdin: pulumi.all([args.configDriveVdi, marker]).apply(([drive, m]) => vmConvergeInput(drive, m)),
        delete: marker.apply((m) => renderVmDeleteScript({ marker: m, nameLabel: args.nodeName })),
        triggers: replaceTriggers,
      },
      // The old VM goes first: the new one has the same name and static address.
      { parent: this, dependsOn: [haltRequest], replaceOnChanges: ["triggers"], deleteBeforeReplace: true },
    );
    this.uuid = vm.stdout.apply((out) => out.trim().split("\n").pop() ?? "");
    this.registerOutputs({ uuid: this.uuid });
  }
}
