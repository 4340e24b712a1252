/**
 * Facts about the targets that the settings check against: what XenServer accepts for a
 * VM, which ports and names the platform itself takes on a node. Plain constants, a leaf
 * module: the layers above (xen, services) keep their own copies where they render, and the
 * tests in test/config check that both agree, so the settings never import a renderer.
 */

// ---------------------------------------------------------------- XenServer

/**
 * Per-VM limits from the XenServer 8 "Configuration limits" page (docs.xenserver.com,
 * system-requirements/configuration-limits; XCP-ng 8.3 documents the same):
 * - "Virtual CPUs per VM (Linux) 32/64": 64 is the hard limit;
 * - "RAM per VM 1.5 TiB";
 * - "Virtual Disk Size (NFS) 2040 GiB", "(LVM) 2040 GiB": the VHD limit (about 2 TiB
 *   per VDI). Only GFS2/XFS SRs (QCOW2) go to 16 TiB; the system disk is created on
 *   `xenserver.storageRepository`, which in the lab ("Local storage", LVM or EXT) holds VHDs.
 * XenServer 6.5 (the thesis) had lower limits (16 vCPUs, 192 GiB): it refuses what is above
 * them itself; these bounds are what no supported XenServer takes.
 */
export const XEN_MAX_VCPUS = 64;
export const XEN_MAX_MEMORY_MIB = 1.5 * 1024 * 1024;
export const XEN_MAX_VHD_DISK_GIB = 2040;

/**
 * Userdevice slots of a node's VBDs (components/xen/xe-scripts.ts SYSTEM_DISK_DEVICE,
 * CONFIG_DRIVE_DEVICE, CD_DEVICE; a test checks they agree). Userdevice n is the guest's
 * n-th xvd disk: 0 → /dev/xvda, 1 → /dev/xvdb, 3 → /dev/xvdd.
 */
export const VM_SLOTS = { systemDisk: 0, configDrive: 1, cd: 3 } as const;

/** The guest's block device of a userdevice slot: 0 → /dev/xvda. */
export function xvdDevice(userdevice: number): string {
  return `/dev/xvd${String.fromCharCode("a".charCodeAt(0) + userdevice)}`;
}

// ---------------------------------------------------------------- ports a node already uses

/** sshd on every node (Container Linux's sshd.socket listens on 22; cloud-configs here do not move it). */
export const NODE_SSHD_PORT = 22;

/** etcd client and peer ports, and the legacy ones etcd2 still listens on (thesis Annex 2). */
export const ETCD_PORTS = [2379, 2380, 4001, 7001] as const;

/** Ports every Galera member publishes: client, SST, replication, IST (thesis §10.5.2). */
export const GALERA_PORTS = [3306, 4444, 4567, 4568] as const;

/** nginx, the web tier's only exposed port (thesis §10.5.1). */
export const WEB_PROXY_PORT = 80;

// ---------------------------------------------------------------- names the services take

/**
 * MariaDB accounts the platform or the server itself owns; the application user must be none
 * of them. `haproxy_check` and `mariabackup` are the health-check and SST users of
 * components/services/galera-render.ts (GALERA_DEFAULTS.checkUser, .sstUser; a test checks
 * they agree); `root`, `mariadb.sys` and `mysql` are created by the server's own install.
 */
export const GALERA_RESERVED_USERS = ["root", "haproxy_check", "mariabackup", "mariadb.sys", "mysql"] as const;

/** MariaDB's system schemas: an application database must not be one of them. */
export const GALERA_SYSTEM_SCHEMAS = ["mysql", "information_schema", "performance_schema", "sys"] as const;

/** An FTP virtual user: also the folder www/<user> on the share (1-32 of a-z, 0-9, '_', '-'). */
export const FTP_USER_RE = /^[a-z][a-z0-9_-]{0,31}$/;
