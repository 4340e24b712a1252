/**
 * Scripts that change etcd membership from a running member's node (thesis §10.4.2: a
 * node added after bootstrap joins with `etcdctl member add` and
 * initial-cluster-state=existing, one at a time). Pure: plain values in, POSIX sh out.
 * etcdctl is the v2 tool of CoreOS's etcd2 era (`ETCDCTL_API=2` on newer etcdctl). etcd
 * takes only clients with a certificate of the deployment's CA: etcdctl passes the node's
 * (`--ca-file/--cert-file/--key-file`, paths only), and runs through sudo when the SSH user
 * is not root, because the key is readable only by etcd and root.
 */
import { shellAssign, strictPrelude } from "../shell";
import { ETCD_TLS, EtcdTlsPaths } from "./etcd-tls";

export interface EtcdMemberSpec {
  /** Member name (the node's hostname). */
  name: string;
  /** The member's peer URL, https://<ip>:2380. */
  peerUrl: string;
  /** Client URL of a running member that takes the change (https). */
  endpoint: string;
  /** Seconds to wait until the new member has started (joined). */
  timeoutSeconds: number;
  /** The client certificate etcdctl presents and the CA it trusts. Defaults to the node's files under /etc/xen-coreos/tls. */
  tls?: EtcdTlsPaths;
}

function prelude(spec: Pick<EtcdMemberSpec, "name" | "peerUrl" | "endpoint" | "tls">): string[] {
  const tls = spec.tls ?? ETCD_TLS;
  if (!/^https:\/\//.test(spec.endpoint)) throw new Error(`etcd member ${spec.name}: endpoint ${JSON.stringify(spec.endpoint)} must be https (etcd serves no plain http)`);
  if (!/^https:\/\//.test(spec.peerUrl)) throw new Error(`etcd member ${spec.name}: peer URL ${JSON.stringify(spec.peerUrl)} must be https (peers speak TLS only)`);
  return [
    shellAssign("name", spec.name),
    shellAssign("peer_url", spec.peerUrl),
    shellAssign("endpoint", spec.endpoint),
    shellAssign("ca_file", tls.caFile),
    shellAssign("cert_file", tls.certFile),
    shellAssign("key_file", tls.keyFile),
    ...strictPrelude("etcd member $name"),
    // sudo resets the environment: ETCDCTL_API goes through env, the TLS files as flags.
    'if [ "$(id -u)" -eq 0 ]; then as_root=""; else as_root=sudo; fi',
    'etcd() { $as_root env ETCDCTL_API=2 etcdctl --endpoint "$endpoint" --ca-file "$ca_file" --cert-file "$cert_file" --key-file "$key_file" "$@"; }',
    // member list (v2): "<id>[unstarted]: name=<n> peerURLs=<urls> clientURLs=<urls> …"
    "peer_line() { awk -v u=\"peerURLs=$peer_url\" '{ for (i = 1; i <= NF; i++) if ($i == u || index($i, u \",\") == 1) { print; exit } }'; }",
    "member_line() { etcd member list | peer_line; }",
  ];
}

/**
 * Adds the member (unless its peer URL is already a member), then waits until it has
 * started: the next node is added only after this one has joined (one at a time).
 */
export function renderEtcdMemberAddScript(spec: EtcdMemberSpec): string {
  return [
    `# xen-coreos: etcd member ${spec.name} joins the running cluster`,
    ...prelude(spec),
    shellAssign("timeout", spec.timeoutSeconds),
    "deadline=$(( $(date +%s) + timeout ))",
    "# etcd refuses an add while the last member added has not settled: retry until the deadline.",
    'until [ -n "$(member_line)" ]; do',
    '  if out=$(etcd member add "$name" "$peer_url" 2>&1); then',
    '    echo "xen-coreos: etcd member $name: added, waiting for it to start" >&2',
    '  elif [ "$(date +%s)" -ge "$deadline" ]; then',
    '    fail "etcdctl member add failed for ${timeout}s: $out (check: etcdctl cluster-health)"',
    "  else",
    "    sleep 5",
    "  fi",
    "done",
    "while :; do",
    "  line=$(member_line)",
    '  case "$line" in',
    '    *unstarted*|"") ;;',
    '    *" name=$name "*) break ;;',
    '    *) fail "peer URL $peer_url belongs to another member: $line" ;;',
    "  esac",
    '  if [ "$(date +%s)" -ge "$deadline" ]; then',
    '    fail "added but not started after ${timeout}s: the node must boot with initial-cluster-state=existing. Check: etcdctl member list; journalctl -u etcd2 on the node"',
    "  fi",
    "  sleep 5",
    "done",
    'echo "xen-coreos: etcd member $name: started" >&2',
    "",
  ].join("\n");
}

/** Seconds the removal retries while etcd calls the cluster unhealthy. */
export const defaultRemoveTimeoutSeconds = 120;

/**
 * Removes the member (before its node goes). Already gone is success. etcd's strict
 * reconfiguration check refuses a removal ("unhealthy cluster") while a member has been
 * connected for less than its health interval (5 s), e.g. just after a join or a peer
 * restart: the script retries until the deadline and then fails with etcd's message. An
 * unreachable endpoint is retried the same way: only a member list that etcd answered
 * can say the member is already gone.
 */
export function renderEtcdMemberRemoveScript(
  spec: Pick<EtcdMemberSpec, "name" | "peerUrl" | "endpoint" | "tls"> & { timeoutSeconds?: number },
): string {
  return [
    `# xen-coreos: etcd member ${spec.name} leaves the cluster`,
    ...prelude(spec),
    shellAssign("timeout", spec.timeoutSeconds ?? defaultRemoveTimeoutSeconds),
    "deadline=$(( $(date +%s) + timeout ))",
    "while :; do",
    "  # A list that fails (etcd unreachable) is not an empty one: never \"already gone\" then.",
    "  if members=$(etcd member list 2>&1); then",
    "    line=$(printf '%s\\n' \"$members\" | peer_line)",
    '    if [ -z "$line" ]; then echo "xen-coreos: etcd member $name: already gone" >&2; exit 0; fi',
    "    id=${line%%:*}",
    "    id=${id%%\\[*}",
    '    if out=$(etcd member remove "$id" 2>&1); then break; fi',
    '    out="etcdctl member remove $id: $out"',
    "  else",
    '    out="etcdctl member list via $endpoint: $members"',
    "  fi",
    '  if [ "$(date +%s)" -ge "$deadline" ]; then',
    '    fail "not removed after ${timeout}s: $out (check: etcdctl cluster-health; the VM is kept)"',
    "  fi",
    '  echo "xen-coreos: etcd member $name: not removed yet, retrying: $out" >&2',
    "  sleep 2",
    "done",
    'echo "xen-coreos: etcd member $name: removed ($id)" >&2',
    "",
  ].join("\n");
}

/** What a failed token request tells the operator: the static mode needs no discovery service. */
export const STATIC_MODE_FIX =
  "Fix: set xen-coreos:discovery.mode to static (each cluster's etcd starts from its nodes' declared addresses, no discovery service), or point xen-coreos:discovery.endpoint at a discovery service that answers (a self-hosted etcd-discovery).";

/**
 * The discovery token request (`<endpoint>/new?size=N`, run where pulumi runs). curl fails on
 * an HTTP error or no answer; the answer must be a URL under the endpoint, or nothing is
 * stored. Either failure says what the service did and names the static mode.
 */
export function renderDiscoveryRequestScript(endpoint: string, size: number): string {
  return [
    "set -eu",
    shellAssign("endpoint", endpoint),
    shellAssign("size", size),
    shellAssign("static_fix", STATIC_MODE_FIX),
    'if ! url=$(curl -fsS --max-time 30 --retry 3 "$endpoint/new?size=$size" 2>&1); then',
    '  echo "xen-coreos: the discovery service $endpoint did not answer with a token ($url). $static_fix" >&2; exit 1',
    "fi",
    'case "$url" in "$endpoint"/*) ;; *) echo "xen-coreos: the discovery service $endpoint answered no token URL: $(printf %s "$url" | head -c 200). $static_fix" >&2; exit 1 ;; esac',
    "printf '%s' \"$url\"",
  ].join("\n");
}

/**
 * The token request's update: a token is single-use, so a new version of the request script
 * (an upgrade of this program) keeps the token already in state (PULUMI_COMMAND_STDOUT, the
 * previous stdout) instead of asking for another, which would rebuild every node's config drive.
 * Only without a previous token does it ask, as create does.
 */
export function renderDiscoveryKeepScript(endpoint: string, size: number): string {
  return [
    shellAssign("endpoint", endpoint),
    'case "${PULUMI_COMMAND_STDOUT:-}" in "$endpoint"/*) printf \'%s\' "$PULUMI_COMMAND_STDOUT"; exit 0 ;; esac',
    renderDiscoveryRequestScript(endpoint, size),
  ].join("\n");
}
