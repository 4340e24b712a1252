/**
 * An OS profile: everything about the nodes' OS that the cloud-config renderer asks, in one
 * module per OS (`coreos.ts`, the thesis; `flatcar.ts`, what can be installed today). The
 * renderer writes what every node has (network, sshd, the NFS mount, files) and asks the
 * profile for the rest; no renderer tests which OS it renders for. Pure: plain values only.
 */
import type { Directive } from "../systemd/ini";

export type OsProfileName = "coreos" | "flatcar";

/** The OS settings a node's cloud-config needs. */
export interface NodeOs {
  profile: OsProfileName;
  /** flatcar: the release `flatcar-install -V` pins; unset = the channel's current one. */
  version?: string;
  /** flatcar: where fleet v1.0.0 comes from and its pinned sha256. */
  fleet?: { url: string; sha256: string };
}

/** One etcd member of the initial cluster. */
export interface EtcdPeer {
  name: string;
  ip: string;
}

/** How the node's etcd member starts: through a discovery URL, or from a static member list. */
export type EtcdBootstrap =
  | { mode: "discovery"; discoveryUrl: string }
  | {
      mode: "static";
      /** Every member the node starts with, itself included. */
      initialCluster: EtcdPeer[];
      /** `new`: a bootstrap member; `existing`: a node added to a running cluster. */
      state: "new" | "existing";
      /** etcd's initial-cluster-token (bootstrap members only). */
      token?: string;
    };

/** What a profile renders from. */
export interface ProfileNode {
  hostname: string;
  ip: string;
  fleetMetadata: Record<string, string>;
  install: { device: string; channel: string; baseUrl?: string };
  os: NodeOs;
  etcd: EtcdBootstrap;
}

export interface DropIn {
  name: string;
  content: string;
}

/** A `coreos.units` entry, as coreos-cloudinit reads it. */
export interface CloudConfigUnit {
  name: string;
  command?: "start" | "restart";
  enable?: boolean;
  content?: string;
  "drop-ins"?: DropIn[];
}

/** A `write_files` entry. */
export interface CloudConfigFile {
  path: string;
  permissions: string;
  owner: string;
  content: string;
}

export interface OsProfile {
  readonly name: OsProfileName;
  /** The OS's name in the installer unit's description. */
  readonly displayName: string;
  /** The installer's command line, one argument per element. */
  installCommand(node: ProfileNode): string[];
  /** The units that must not start on the install boot (the installer orders itself before them). */
  readonly clusterUnitNames: string[];
  /** `coreos.*` sections of this OS beside `update` and `units` (the coreos profile's etcd2 and fleet). */
  sections(node: ProfileNode): Record<string, unknown>;
  /** etcd's and fleet's units, in start order; `skipOnInstallBoot` keeps a unit down on the install boot. */
  clusterUnits(node: ProfileNode, skipOnInstallBoot: DropIn): CloudConfigUnit[];
  /** Files of this OS beside the common ones. */
  files(node: ProfileNode): CloudConfigFile[];
  /** Lines of /etc/environment after the common ones (the service units read that file). */
  environment(node: ProfileNode): string[];
}

export type { Directive };
