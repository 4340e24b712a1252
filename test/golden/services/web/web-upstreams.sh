#!/bin/sh
# web-upstreams.sh
# Renders the nginx upstream block of the web proxy from etcd (v2 API), on the proxy's node.
#   once   render and install the file, no test, no reload (proxy ExecStartPre: nginx
#          can start even with zero backends or without etcd)
#   watch  poll every POLL_INTERVAL s; when the rendering changes: install it (atomic mv),
#          run NGINX_TEST_CMD, then NGINX_RELOAD_CMD; restore the previous file if the test fails.
# Polling, not etcdctl exec-watch: TTL refreshes are etcd events too, so a watch wakes as
# often; a poll sees expired keys as state and cannot miss events.
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
# UPSTREAM_PREFIX: etcd directory: one key per backend, value IPv4:port
DEFAULT_UPSTREAM_PREFIX=/xen-coreos/web/upstreams
UPSTREAM_PREFIX=${UPSTREAM_PREFIX:-$DEFAULT_UPSTREAM_PREFIX}
# UPSTREAM_FILE: rendered file (node-local, included by nginx.conf)
DEFAULT_UPSTREAM_FILE=/run/xen-coreos/web/upstreams/web.conf
UPSTREAM_FILE=${UPSTREAM_FILE:-$DEFAULT_UPSTREAM_FILE}
# UPSTREAM_NAME: name of the upstream block
DEFAULT_UPSTREAM_NAME=web_backends
UPSTREAM_NAME=${UPSTREAM_NAME:-$DEFAULT_UPSTREAM_NAME}
# UPSTREAM_KEEPALIVE: idle keepalive connections per worker
DEFAULT_UPSTREAM_KEEPALIVE=32
UPSTREAM_KEEPALIVE=${UPSTREAM_KEEPALIVE:-$DEFAULT_UPSTREAM_KEEPALIVE}
# UPSTREAM_SERVER_PARAMS: appended to each server line
DEFAULT_UPSTREAM_SERVER_PARAMS=' max_fails=2 fail_timeout=10s'
UPSTREAM_SERVER_PARAMS=${UPSTREAM_SERVER_PARAMS:-$DEFAULT_UPSTREAM_SERVER_PARAMS}
# POLL_INTERVAL: seconds between polls
DEFAULT_POLL_INTERVAL=2
POLL_INTERVAL=${POLL_INTERVAL:-$DEFAULT_POLL_INTERVAL}
# NGINX_TEST_CMD: validates the config (sh -c)
DEFAULT_NGINX_TEST_CMD='/usr/bin/docker exec nginx nginx -t -q -c /etc/nginx/xen-coreos/nginx.conf'
NGINX_TEST_CMD=${NGINX_TEST_CMD:-$DEFAULT_NGINX_TEST_CMD}
# NGINX_RELOAD_CMD: reloads nginx on this node (sh -c)
DEFAULT_NGINX_RELOAD_CMD='/usr/bin/docker kill -s HUP nginx'
NGINX_RELOAD_CMD=${NGINX_RELOAD_CMD:-$DEFAULT_NGINX_RELOAD_CMD}

SCRIPT=web-upstreams.sh
log() { printf '%s: %s\n' "$SCRIPT" "$*" >&2; }

etcd() { "$ETCDCTL" --endpoint "$ETCD_ENDPOINT" --ca-file "$ETCD_CA_FILE" --cert-file "$ETCD_CERT_FILE" --key-file "$ETCD_KEY_FILE" "$@"; }
nap() { sleep "$1" & wait $!; }

valid_address() {
    case "$1" in ''|*[!0-9.:]*) return 1 ;; esac
    printf '%s\n' "$1" | grep -Eq '^([0-9]{1,3}\.){3}[0-9]{1,3}:[0-9]{1,5}$'
}

# collect OUT: sorted, unique backend addresses into OUT; fails when etcd cannot be read.
collect() {
    if ! keys=$(etcd ls "$UPSTREAM_PREFIX" 2>&1); then
        case "$keys" in
            *"Key not found"*) keys="" ;;
            *) log "cannot list $UPSTREAM_PREFIX, keeping the current upstreams: $keys"; return 1 ;;
        esac
    fi
    printf '%s\n' "$keys" | while IFS= read -r key; do
        [ -n "$key" ] || continue
        value=$(etcd get "$key" 2>/dev/null) || continue
        if valid_address "$value"; then
            printf '%s\n' "$value"
        else
            log "ignoring $key: '$value' is not IPv4:port"
        fi
    done | LC_ALL=C sort -u >"$1"
}

# write_conf ADDRESSES OUT: the upstream block (same bytes as renderUpstreamConf).
write_conf() {
    {
        printf '# Rendered on this node by %s from etcd %s; do not edit.\n' "$SCRIPT" "$UPSTREAM_PREFIX"
        printf 'upstream %s {\n' "$UPSTREAM_NAME"
        if [ ! -s "$1" ]; then
            printf '    # No backend is announced yet: nginx needs one server line, so this one is marked down.\n'
            printf '    server 127.0.0.1:1 down;\n'
        fi
        while IFS= read -r address; do
            printf '    server %s%s;\n' "$address" "$UPSTREAM_SERVER_PARAMS"
        done <"$1"
        printf '    keepalive %s;\n' "$UPSTREAM_KEEPALIVE"
        printf '}\n'
    } >"$2"
}

same_file() {
    [ -f "$1" ] && [ -f "$2" ] && [ "$(cat "$1")" = "$(cat "$2")" ]
}

# apply MODE: render; when the result differs, install it (MODE=install) or install, test
# and reload (MODE=reload). Returns 1 when etcd could not be read.
apply() {
    addresses="$UPSTREAM_FILE.addresses"
    candidate="$UPSTREAM_FILE.new"
    if ! collect "$addresses"; then
        rm -f "$addresses"
        return 1
    fi
    write_conf "$addresses" "$candidate"
    count=$(grep -c . "$addresses")
    rm -f "$addresses"
    if same_file "$candidate" "$UPSTREAM_FILE"; then
        rm -f "$candidate"
        return 0
    fi
    rm -f "$UPSTREAM_FILE.prev"
    [ ! -f "$UPSTREAM_FILE" ] || cp -p "$UPSTREAM_FILE" "$UPSTREAM_FILE.prev"
    mv -f "$candidate" "$UPSTREAM_FILE"
    if [ "$1" = install ]; then
        log "installed $UPSTREAM_FILE with $count backend(s)"
        return 0
    fi
    if ! output=$(sh -c "$NGINX_TEST_CMD" 2>&1); then
        log "nginx rejected the new upstreams, keeping the previous ones: $output"
        if [ -f "$UPSTREAM_FILE.prev" ]; then mv -f "$UPSTREAM_FILE.prev" "$UPSTREAM_FILE"; fi
        return 0
    fi
    rm -f "$UPSTREAM_FILE.prev"
    if output=$(sh -c "$NGINX_RELOAD_CMD" 2>&1); then
        log "reloaded nginx with $count backend(s)"
    else
        log "nginx reload failed: $output"
    fi
}

mkdir -p "$(dirname "$UPSTREAM_FILE")"
case "${1:-}" in
    once)
        if ! apply install && [ ! -f "$UPSTREAM_FILE" ]; then
            empty="$UPSTREAM_FILE.addresses"
            : >"$empty"
            write_conf "$empty" "$UPSTREAM_FILE.new"
            rm -f "$empty"
            mv -f "$UPSTREAM_FILE.new" "$UPSTREAM_FILE"
            log "etcd unavailable: installed an upstream block without backends"
        fi
        ;;
    watch)
        trap 'exit 0' TERM INT HUP
        while :; do
            apply reload || true
            nap "$POLL_INTERVAL"
        done
        ;;
    *)
        log "usage: $0 once|watch"
        exit 2
        ;;
esac
