#!/bin/sh
# web-announce.sh
# Announces one apache backend to the web proxy through etcd (v2 API).
#   run   every ANNOUNCE_INTERVAL s: if http://$COREOS_PUBLIC_IPV4:$ANNOUNCE_PORT answers (< 500),
#         set $ANNOUNCE_PREFIX/$ANNOUNCE_NAME = IP:port with ttl ANNOUNCE_TTL, else remove it;
#         SIGTERM/SIGINT/SIGHUP remove the key before exiting.
#   stop  remove the key (the unit's ExecStop).
# Environment: ANNOUNCE_NAME, ANNOUNCE_PORT, COREOS_PUBLIC_IPV4 (from /etc/environment).
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
# CURL: curl used to check the backend
DEFAULT_CURL=/usr/bin/curl
CURL=${CURL:-$DEFAULT_CURL}
# ANNOUNCE_PREFIX: etcd directory of the upstreams
DEFAULT_ANNOUNCE_PREFIX=/xen-coreos/web/upstreams
ANNOUNCE_PREFIX=${ANNOUNCE_PREFIX:-$DEFAULT_ANNOUNCE_PREFIX}
# ANNOUNCE_INTERVAL: seconds between refreshes
DEFAULT_ANNOUNCE_INTERVAL=5
ANNOUNCE_INTERVAL=${ANNOUNCE_INTERVAL:-$DEFAULT_ANNOUNCE_INTERVAL}
# ANNOUNCE_TTL: key ttl in seconds (INTERVAL < TTL <= 3 x INTERVAL)
DEFAULT_ANNOUNCE_TTL=15
ANNOUNCE_TTL=${ANNOUNCE_TTL:-$DEFAULT_ANNOUNCE_TTL}
# ANNOUNCE_CHECK_PATH: URL path asked to decide that the backend answers
DEFAULT_ANNOUNCE_CHECK_PATH=/
ANNOUNCE_CHECK_PATH=${ANNOUNCE_CHECK_PATH:-$DEFAULT_ANNOUNCE_CHECK_PATH}

SCRIPT=web-announce.sh
log() { printf '%s: %s\n' "$SCRIPT" "$*" >&2; }

etcd() { "$ETCDCTL" --endpoint "$ETCD_ENDPOINT" --ca-file "$ETCD_CA_FILE" --cert-file "$ETCD_CERT_FILE" --key-file "$ETCD_KEY_FILE" "$@"; }
nap() { sleep "$1" & wait $!; }

die() { log "$*"; exit 2; }
is_count() { case "$1" in ''|*[!0-9]*) return 1 ;; esac; [ "$1" -ge 1 ]; }

[ -n "${ANNOUNCE_NAME:-}" ] || die "ANNOUNCE_NAME is not set"
case "$ANNOUNCE_NAME" in *[!A-Za-z0-9_.-]*) die "ANNOUNCE_NAME '$ANNOUNCE_NAME' has characters outside [A-Za-z0-9_.-]" ;; esac
KEY="$ANNOUNCE_PREFIX/$ANNOUNCE_NAME"

withdraw() {
    if etcd rm "$KEY" >/dev/null 2>&1; then log "removed $KEY"; fi
}

case "${1:-}" in
    stop) withdraw; exit 0 ;;
    run) ;;
    *) die "usage: $0 run|stop" ;;
esac

is_count "${ANNOUNCE_PORT:-}" || die "ANNOUNCE_PORT is not a port number"
[ -n "${COREOS_PUBLIC_IPV4:-}" ] || die "COREOS_PUBLIC_IPV4 is not set (see /etc/environment)"
is_count "$ANNOUNCE_INTERVAL" || die "ANNOUNCE_INTERVAL must be a whole number of seconds"
is_count "$ANNOUNCE_TTL" || die "ANNOUNCE_TTL must be a whole number of seconds"
if [ "$ANNOUNCE_TTL" -le "$ANNOUNCE_INTERVAL" ] || [ "$ANNOUNCE_TTL" -gt $((3 * ANNOUNCE_INTERVAL)) ]; then
    die "ANNOUNCE_TTL ($ANNOUNCE_TTL) must be greater than ANNOUNCE_INTERVAL ($ANNOUNCE_INTERVAL) and at most 3 times it"
fi
ADDRESS="$COREOS_PUBLIC_IPV4:$ANNOUNCE_PORT"

healthy() {
    code=$("$CURL" -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$ADDRESS$ANNOUNCE_CHECK_PATH" 2>/dev/null) || code=000
    case "$code" in ''|*[!0-9]*) return 1 ;; esac
    [ "$code" -ge 100 ] && [ "$code" -lt 500 ]
}

trap 'withdraw; exit 0' TERM INT HUP
announced=no
while :; do
    if healthy; then
        if etcd set --ttl "$ANNOUNCE_TTL" "$KEY" "$ADDRESS" >/dev/null; then
            [ "$announced" = yes ] || log "announced $KEY = $ADDRESS (ttl ${ANNOUNCE_TTL}s)"
            announced=yes
        else
            log "could not set $KEY; retrying in ${ANNOUNCE_INTERVAL}s"
        fi
    else
        [ "$announced" = no ] || log "backend $ADDRESS does not answer; withdrawing it"
        withdraw
        announced=no
    fi
    nap "$ANNOUNCE_INTERVAL"
done
