/**
 * The nodes' sshd: its config and the host key the program pins. Pure: plain values in,
 * text out. Container Linux and Flatcar read /etc/ssh/sshd_config (a plain file there,
 * which coreos-cloudinit may write); sshd runs socket-activated, one `sshd -i` per
 * connection, so the file written at boot governs every connection after it.
 */

/** Where the node's host key lives (OpenSSH's default path for ed25519). */
export const NODE_HOST_KEY_PATH = "/etc/ssh/ssh_host_ed25519_key";

export interface SshdConfigInput {
  /** The user the program and the operators log in as (core). */
  user: string;
}

/**
 * Only the program's ed25519 host key is offered. OpenSSH offers every HostKey it has, and
 * the client picks by its own preference: Go's x/crypto/ssh (pulumi-command's client) prefers
 * ECDSA, then RSA, then Ed25519 (ssh/common.go, defaultHostKeyAlgos), so with the keys
 * sshd-keygen makes at first boot still offered, a pinned ed25519 key would never be the one
 * presented. Logins: keys only, no root, only the cluster's user; PULUMI_COMMAND_STDOUT and
 * _STDERR accepted (pulumi-command sends a command's previous output with them; the node
 * file sets read it to remove files they no longer own).
 */
export function renderSshdConfig(input: SshdConfigInput): string {
  if (!/^[a-z_][a-z0-9_-]*$/.test(input.user)) throw new Error(`ssh user ${JSON.stringify(input.user)} is not a user name`);
  return [
    "# sshd of a xen-coreos node. Rendered by xen-coreos (cloud-config); changes here are lost at the next boot.",
    `HostKey ${NODE_HOST_KEY_PATH}`,
    "Subsystem sftp internal-sftp",
    "ClientAliveInterval 180",
    "UseDNS no",
    "UsePAM yes",
    "PrintLastLog no",
    "PrintMotd no",
    // Root logs in only when the operator chose root as the cluster's user, and then by key only.
    `PermitRootLogin ${input.user === "root" ? "prohibit-password" : "no"}`,
    "PasswordAuthentication no",
    "ChallengeResponseAuthentication no",
    `AllowUsers ${input.user}`,
    "AcceptEnv PULUMI_COMMAND_STDOUT PULUMI_COMMAND_STDERR",
    "",
  ].join("\n");
}
