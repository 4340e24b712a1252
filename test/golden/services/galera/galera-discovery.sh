#!/bin/sh
# galera-discovery.sh
# Discovery sidecar of galera@MEMBER.service (etcd v2 API).
#   run   every DISCOVERY_INTERVAL s: when the member is Synced, set
#         GALERA_PREFIX/members/MEMBER/{host,ip,port} with ttl DISCOVERY_TTL; else remove them.
#         SIGTERM/SIGINT/SIGHUP remove them before exiting.
#   stop  remove them (the unit's ExecStop).
# The state is asked with GALERA_STATE_CMD when set, else through docker exec as GALERA_CHECK_USER
# (over the container's socket: the check user exists for localhost and the db nodes' addresses only).
#
# Rendered by xen-coreos; do not edit on the share (the next `pulumi up` rewrites it).
set -u

# Defaults; each may be overridden through the environment.
# ETCDCTL: etcdctl of the etcd2 era (v2 API: set/rm/ls/get/mk)
DEFAULT_ETCDCTL=/usr/bin/etcdctl
ETCDCTL=${ETCDCTL:-$DEFAULT_ETCDCTL}
# ETCD_ENDPOINT: etcd client URL (https); /etc/environment may set ETCD_ENDPOINT
DEFAULT_ETCD_ENDPOINT=https://127.0.0.1:2379
ETCD_ENDPOINT=${ETCD_ENDPOINT:-$DEFAULT_ETCD_ENDPOINT}
# ETCD_CA_FILE: CA that signs etcd's certificate
DEFAULT_ETCD_CA_FILE=/etc/xen-coreos/tls/ca.pem
ETCD_CA_FILE=${ETCD_CA_FILE:-$DEFAULT_ETCD_CA_FILE}
# ETCD_CERT_FILE: the node's client certificate for etcd
DEFAULT_ETCD_CERT_FILE=/etc/xen-coreos/tls/etcd.pem
ETCD_CERT_FILE=${ETCD_CERT_FILE:-$DEFAULT_ETCD_CERT_FILE}
# ETCD_KEY_FILE: its private key (root and etcd only)
DEFAULT_ETCD_KEY_FILE=/etc/xen-coreos/tls/etcd-key.pem
ETCD_KEY_FILE=${ETCD_KEY_FILE:-$DEFAULT_ETCD_KEY_FILE}
# DOCKER: docker client
DEFAULT_DOCKER=/usr/bin/docker
DOCKER=${DOCKER:-$DEFAULT_DOCKER}
# GALERA_PREFIX: etcd directory of the cluster
DEFAULT_GALERA_PREFIX=/xen-coreos/galera
GALERA_PREFIX=${GALERA_PREFIX:-$DEFAULT_GALERA_PREFIX}
# GALERA_CHECK_USER: passwordless, privilege-less user allowed to read status (localhost)
DEFAULT_GALERA_CHECK_USER=haproxy_check
GALERA_CHECK_USER=${GALERA_CHECK_USER:-$DEFAULT_GALERA_CHECK_USER}
# MEMBER_PORT: client port published by the member
DEFAULT_MEMBER_PORT=3306
MEMBER_PORT=${MEMBER_PORT:-$DEFAULT_MEMBER_PORT}
# DISCOVERY_INTERVAL: seconds between refreshes
DEFAULT_DISCOVERY_INTERVAL=10
DISCOVERY_INTERVAL=${DISCOVERY_INTERVAL:-$DEFAULT_DISCOVERY_INTERVAL}
# DISCOVERY_TTL: key ttl in seconds
DEFAULT_DISCOVERY_TTL=30
DISCOVERY_TTL=${DISCOVERY_TTL:-$DEFAULT_DISCOVERY_TTL}

SCRIPT=galera-discovery.sh
log() { printf '%s: %s\n' "$SCRIPT" "$*" >&2; }

etcd() { "$ETCDCTL" --endpoint "$ETCD_ENDPOINT" --ca-file "$ETCD_CA_FILE" --cert-file "$ETCD_CERT_FILE" --key-file "$ETCD_KEY_FILE" "$@"; }
nap() { sleep "$1" & wait $!; }

die() { log "$*"; exit 2; }

action="${1:-}"
member="${2:-}"
case "$member" in ''|*[!A-Za-z0-9_.-]*) die "usage: $0 run|stop MEMBER" ;; esac
dir="$GALERA_PREFIX/members/$member"

withdraw() {
    if etcd rm --recursive "$dir" >/dev/null 2>&1; then log "removed $dir"; fi
}

case "$action" in
    stop) withdraw; exit 0 ;;
    run) ;;
    *) die "usage: $0 run|stop MEMBER" ;;
esac
[ -n "${COREOS_PUBLIC_IPV4:-}" ] || die "COREOS_PUBLIC_IPV4 is not set (see /etc/environment)"

synced() {
    if [ -n "${GALERA_STATE_CMD:-}" ]; then
        out=$(sh -c "$GALERA_STATE_CMD" 2>/dev/null) || return 1
    else
        out=$("$DOCKER" exec "galera-$member" mariadb --protocol=socket -u "$GALERA_CHECK_USER" \
            -N -B -e "SHOW GLOBAL STATUS LIKE 'wsrep_local_state'" 2>/dev/null) || return 1
    fi
    # 4 = Synced; 2 = Donor/Desynced: a donor serving an SST/IST is still a member that others join.
    case "$(printf '%s\n' "$out" | awk '{ print $2 }')" in 4|2) return 0 ;; *) return 1 ;; esac
}

publish() {
    etcd set --ttl "$DISCOVERY_TTL" "$dir/host" "$(hostname)" >/dev/null &&
        etcd set --ttl "$DISCOVERY_TTL" "$dir/ip" "$COREOS_PUBLIC_IPV4" >/dev/null &&
        etcd set --ttl "$DISCOVERY_TTL" "$dir/port" "$MEMBER_PORT" >/dev/null
}

trap 'withdraw; exit 0' TERM INT HUP
published=no
while :; do
    if synced; then
        if publish; then
            if [ "$published" = no ]; then
                log "published $dir ($COREOS_PUBLIC_IPV4:$MEMBER_PORT, ttl ${DISCOVERY_TTL}s)"
                etcd mk "$GALERA_PREFIX/initialized" "first synced member: $member@$(hostname)" >/dev/null 2>&1 || true
                # The cluster exists now: release the bootstrap lock instead of leaving it to its TTL,
                # so a later full restart can bootstrap without waiting for it to expire.
                etcd rm "$GALERA_PREFIX/bootstrap" >/dev/null 2>&1 || true
            fi
            published=yes
        else
            log "could not publish $dir; retrying"
        fi
    else
        [ "$published" = no ] || log "member is not Synced; withdrawing it"
        withdraw
        published=no
    fi
    nap "$DISCOVERY_INTERVAL"
done
