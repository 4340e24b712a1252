#!/bin/sh
# 10-xen-coreos-users.sh
# Sourced by the mariadb image's docker-entrypoint.sh on first initialisation only (empty
# data dir); uses its docker_process_sql. Creates:
#   - mariabackup@localhost (password from GALERA_SST_PASSWORD_FILE) with what mariabackup SST needs;
#   - haproxy_check without password or privileges, for HAProxy's mysql-check (which sends no
#     password) from the db nodes only, and for the discovery sidecar over the socket;
#   - REQUIRE SSL for app@'%' (the server has the node's certificate);
#   - no root@'%' (MARIADB_ROOT_HOST=localhost already; dropped again should it exist).
# Then unsets the password variables, so that mariadbd's environment holds no password.
# Rendered by xen-coreos (node-local; the next `pulumi up` rewrites it).

xc_sql_string() {
    printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")"
}

if [ -z "${GALERA_SST_PASSWORD_FILE:-}" ] || [ ! -s "$GALERA_SST_PASSWORD_FILE" ]; then
    echo "10-xen-coreos-users.sh: GALERA_SST_PASSWORD_FILE is not a readable password file" >&2
    exit 1
fi
xc_sst_password=$(head -n 1 "$GALERA_SST_PASSWORD_FILE")

docker_process_sql --database=mysql <<EOSQL
DROP USER IF EXISTS 'root'@'%';
CREATE USER IF NOT EXISTS 'mariabackup'@'localhost' IDENTIFIED BY $(xc_sql_string "$xc_sst_password");
GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO 'mariabackup'@'localhost';
CREATE USER IF NOT EXISTS 'haproxy_check'@'localhost';
CREATE USER IF NOT EXISTS 'haproxy_check'@'10.50.0.21';
CREATE USER IF NOT EXISTS 'haproxy_check'@'10.50.0.22';
CREATE USER IF NOT EXISTS 'haproxy_check'@'10.50.0.23';
ALTER USER IF EXISTS 'app'@'%' REQUIRE SSL;
EOSQL

unset xc_sst_password MARIADB_ROOT_PASSWORD MYSQL_ROOT_PASSWORD MARIADB_PASSWORD MYSQL_PASSWORD
