#!/bin/sh
# galera-prestart.sh
# ExecStartPre of galera@MEMBER.service: prepares the member's start.
#   - copies TLS_DIR's ca.pem, cert.pem, key.pem to RUN_DIR/MEMBER/tls (mode 0400, owner MYSQL_UID);
#   - copies SECRETS_DIR's password files to RUN_DIR/MEMBER/secrets (0400, MYSQL_UID) while the data
#     dir is uninitialised (the image reads them through its *_FILE variables on first start only);
#     afterwards they are staged empty, so no password reaches the server's environment;
#   - writes RUN_DIR/MEMBER/sst-auth.cnf (wsrep_sst_auth from GALERA_SST_USER and SECRETS_DIR/sst-password,
#     mode 0400, owner MYSQL_UID), mounted into the container; the password never reaches a command line;
#   - decides bootstrap and writes RUN_DIR/MEMBER/bootstrap.env:
#     GALERA_NEW_CLUSTER=--wsrep-new-cluster only when no member is alive, the local state may
#     bootstrap (safe_to_bootstrap: 1, or no data while etcd never saw a cluster), and this
#     member wins `etcdctl mk` on GALERA_PREFIX/bootstrap; otherwise it joins.
# When every node has safe_to_bootstrap: 0 (all crashed), no member bootstraps: set
# safe_to_bootstrap: 1 in grastate.dat of the most advanced node (Galera's recovery procedure).
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
# GALERA_PREFIX: etcd directory of the cluster
DEFAULT_GALERA_PREFIX=/xen-coreos/galera
GALERA_PREFIX=${GALERA_PREFIX:-$DEFAULT_GALERA_PREFIX}
# DATA_DIR: node-local data directory
DEFAULT_DATA_DIR=/var/lib/xen-coreos/galera
DATA_DIR=${DATA_DIR:-$DEFAULT_DATA_DIR}
# RUN_DIR: tmpfs directory for per-member start files
DEFAULT_RUN_DIR=/run/xen-coreos/galera
RUN_DIR=${RUN_DIR:-$DEFAULT_RUN_DIR}
# MYSQL_UID: uid of mysql in the image (owner of the staged files)
DEFAULT_MYSQL_UID=999
MYSQL_UID=${MYSQL_UID:-$DEFAULT_MYSQL_UID}
# SECRETS_DIR: root-only password files (NodeFiles)
DEFAULT_SECRETS_DIR=/etc/xen-coreos/galera/secrets
SECRETS_DIR=${SECRETS_DIR:-$DEFAULT_SECRETS_DIR}
# TLS_DIR: the node's certificate, key and CA (NodeFiles)
DEFAULT_TLS_DIR=/etc/xen-coreos/galera/tls
TLS_DIR=${TLS_DIR:-$DEFAULT_TLS_DIR}
# GALERA_SST_USER: the SST account
DEFAULT_GALERA_SST_USER=mariabackup
GALERA_SST_USER=${GALERA_SST_USER:-$DEFAULT_GALERA_SST_USER}
# BOOTSTRAP_LOCK_TTL: seconds the bootstrap lock is held
DEFAULT_BOOTSTRAP_LOCK_TTL=600
BOOTSTRAP_LOCK_TTL=${BOOTSTRAP_LOCK_TTL:-$DEFAULT_BOOTSTRAP_LOCK_TTL}

SCRIPT=galera-prestart.sh
log() { printf '%s: %s\n' "$SCRIPT" "$*" >&2; }

etcd() { "$ETCDCTL" --endpoint "$ETCD_ENDPOINT" --ca-file "$ETCD_CA_FILE" --cert-file "$ETCD_CERT_FILE" --key-file "$ETCD_KEY_FILE" "$@"; }

die() { log "$*"; exit 1; }

member="${1:-}"
case "$member" in ''|*[!A-Za-z0-9_.-]*) die "usage: $0 MEMBER (e.g. 1)" ;; esac
case "$GALERA_SST_USER" in ''|*[!A-Za-z0-9_]*) die "GALERA_SST_USER must be [A-Za-z0-9_]" ;; esac
for f in root-password app-password sst-password; do
    [ -s "$SECRETS_DIR/$f" ] || die "$SECRETS_DIR/$f is missing or empty (written by pulumi up: GaleraCluster's NodeFiles)"
done
for f in ca.pem cert.pem key.pem; do
    [ -s "$TLS_DIR/$f" ] || die "$TLS_DIR/$f is missing or empty (written by pulumi up: GaleraCluster's NodeFiles)"
done

umask 077
dir="$RUN_DIR/$member"
mkdir -p "$dir/tls" "$dir/secrets" "$DATA_DIR" || die "cannot create $dir or $DATA_DIR"
if ! { chown "$MYSQL_UID:$MYSQL_UID" "$dir/tls" "$dir/secrets" && chmod 0500 "$dir/tls" "$dir/secrets"; }; then
    die "cannot set the owner or mode of $dir/tls and $dir/secrets"
fi

# put SRC DEST: a copy of SRC (or, with SRC empty, an empty file) owned by MYSQL_UID, mode 0400.
put() {
    if [ -n "$1" ]; then cat "$1" >"$2.new" || die "cannot read $1"; else : >"$2.new" || die "cannot write $2.new"; fi
    if ! { chown "$MYSQL_UID:$MYSQL_UID" "$2.new" && chmod 0400 "$2.new" && mv -f "$2.new" "$2"; }; then
        die "cannot stage $2"
    fi
}

# 1. TLS files, readable by the server only.
for f in ca.pem cert.pem key.pem; do put "$TLS_DIR/$f" "$dir/tls/$f"; done

# 2. Password files for the image's first start; empty once the data dir is initialised.
if [ -d "$DATA_DIR/mysql" ]; then from=; else from=$SECRETS_DIR; fi
for f in root-password app-password sst-password; do put "${from:+$from/$f}" "$dir/secrets/$f"; done

# 3. SST credential, in MariaDB option-file syntax ("..." with \\ and \" escaped).
escaped=$(sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' "$SECRETS_DIR/sst-password" | head -n 1)
printf '[mariadb]\nwsrep_sst_auth="%s:%s"\n' "$GALERA_SST_USER" "$escaped" >"$dir/sst-auth.cnf.new"
if ! { chown "$MYSQL_UID:$MYSQL_UID" "$dir/sst-auth.cnf.new" && chmod 0400 "$dir/sst-auth.cnf.new"; }; then
    die "cannot set the owner or mode of $dir/sst-auth.cnf.new"
fi
mv -f "$dir/sst-auth.cnf.new" "$dir/sst-auth.cnf"

# 4. Bootstrap decision.
decide() {
    if ! live=$(etcd ls --recursive "$GALERA_PREFIX/members" 2>&1); then
        case "$live" in
            *"Key not found"*) live="" ;;
            *) die "cannot read $GALERA_PREFIX/members from etcd: $live" ;;
        esac
    fi
    others=$(printf '%s\n' "$live" | while IFS= read -r key; do
        case "$key" in
            "$GALERA_PREFIX/members/$member/"*) ;;
            */ip) printf '%s\n' "$key" ;;
        esac
    done)
    if [ -n "$others" ]; then
        log "members alive ($(printf '%s' "$others" | tr '\n' ' ')): joining"
        return 1
    fi
    if [ -f "$DATA_DIR/grastate.dat" ]; then
        if ! grep -Eq '^safe_to_bootstrap: *1' "$DATA_DIR/grastate.dat"; then
            log "no member alive, but this node did not leave the cluster last (safe_to_bootstrap: 0): joining"
            return 1
        fi
    elif [ -d "$DATA_DIR/mysql" ]; then
        log "data without grastate.dat in $DATA_DIR: not bootstrapping from it, joining"
        return 1
    elif initialized=$(etcd get "$GALERA_PREFIX/initialized" 2>&1); then
        log "empty data dir and a cluster existed ($initialized): joining, never bootstrapping empty data"
        return 1
    else
        case "$initialized" in
            *"Key not found"*) ;;
            *) die "cannot read $GALERA_PREFIX/initialized from etcd: $initialized" ;;
        esac
    fi
    me="$member@$(hostname)"
    if lock=$(etcd mk --ttl "$BOOTSTRAP_LOCK_TTL" "$GALERA_PREFIX/bootstrap" "$me" 2>&1); then
        log "no member alive and the bootstrap lock is ours: bootstrapping a new cluster"
        return 0
    fi
    case "$lock" in
        *"already exists"*) ;;
        *) die "cannot take the bootstrap lock: $lock" ;;
    esac
    if [ "$(etcd get "$GALERA_PREFIX/bootstrap" 2>/dev/null)" = "$me" ]; then
        log "no member alive and this member already holds the bootstrap lock (restart): bootstrapping again"
        return 0
    fi
    log "another member holds the bootstrap lock: joining"
    return 1
}

if decide; then flag=--wsrep-new-cluster; else flag=; fi
printf 'GALERA_NEW_CLUSTER=%s\n' "$flag" >"$dir/bootstrap.env"
