#!/bin/sh
# 10-xen-coreos-users.sh
# Sourced by the mariadb image's docker-entrypoint.sh on first initialisation only (empty
# data dir); uses its docker_process_sql. Creates:
#   - GALERA_SST_USER@localhost (GALERA_SST_PASSWORD) with the privileges mariabackup SST needs;
#   - GALERA_CHECK_USER@'%' without password or privileges, for HAProxy's mysql-check.
# Rendered by xen-coreos; do not edit on the share.

xc_sql_string() {
    printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")"
}

if [ -n "${GALERA_SST_USER:-}" ] && [ -n "${GALERA_SST_PASSWORD:-}" ]; then
    docker_process_sql --database=mysql <<EOSQL
CREATE USER IF NOT EXISTS $(xc_sql_string "$GALERA_SST_USER")@'localhost' IDENTIFIED BY $(xc_sql_string "$GALERA_SST_PASSWORD");
GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO $(xc_sql_string "$GALERA_SST_USER")@'localhost';
EOSQL
fi

if [ -n "${GALERA_CHECK_USER:-}" ]; then
    docker_process_sql --database=mysql <<EOSQL
CREATE USER IF NOT EXISTS $(xc_sql_string "$GALERA_CHECK_USER")@'%';
EOSQL
fi
