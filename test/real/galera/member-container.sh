#!/bin/bash
# What `docker run … mariadb:11.4 <args>` of galera@.service does, without Docker, for the
# real-server tests. Run as root inside the member's network namespace with a private mount
# and UTS namespace (ip netns exec NS unshare --uts --mount --propagation private bash THIS …),
# with the unit's `-e NAME=value` pairs in the environment (names and paths only, no password).
#
#   member-container.sh HOSTNAME MEMBER_DIR CONF_DIR RUN_MEMBER_DIR -- MARIADBD_ARGS…
#
# CONF_DIR stands for the node's /etc/xen-coreos/galera (written like NodeFiles writes it),
# RUN_MEMBER_DIR for /run/xen-coreos/galera/<i> (written by the rendered prestart script).
# 1. hostname (the node's name: %H in the unit);
# 2. the unit's volumes as bind mounts: CONF_DIR/galera.cnf and RUN_MEMBER_DIR/sst-auth.cnf
#    appear read-only in MEMBER_DIR/conf.d as 60-galera.cnf and 99-sst-auth.cnf (which
#    MEMBER_DIR/my.cnf includes like the image's /etc/mysql/conf.d); RUN_MEMBER_DIR/tls and
#    RUN_MEMBER_DIR/secrets read-only at the container paths /etc/mysql/xen-coreos/{tls,secrets}
#    (a tmpfs over /etc/mysql in this private mount namespace, as the image has its own /etc);
# 3. the image's docker-entrypoint.sh (MariaDB/mariadb-docker 11.4), reduced to what this
#    setup uses: file_env for MARIADB_ROOT_PASSWORD_FILE / MARIADB_PASSWORD_FILE (the value
#    exported, the _FILE variable unset), MARIADB_ROOT_HOST (root@'%' only when it is not
#    localhost), chown the data dir to mysql, and on an empty data dir mariadb-install-db, a
#    temporary server (--skip-networking --wsrep_on=OFF), root's password, MARIADB_DATABASE,
#    MARIADB_USER@'%', then every *.sh of CONF_DIR/initdb.d sourced with the image's
#    docker_process_sql, then the temporary server stopped. Left out: time zone tables and the
#    image's own healthcheck users (unused here);
# 4. exec mariadbd as mysql (the image's gosu) with the unit's arguments.
set -eo pipefail
hostname_="$1" member_dir="$2" conf_dir="$3" run_dir="$4"
shift 4
[ "$1" = -- ] && shift

hostname "$hostname_"
ro_bind() { mount --bind "$1" "$2" && mount -o remount,bind,ro "$2"; }
ro_bind "$conf_dir/galera.cnf" "$member_dir/conf.d/60-galera.cnf"
ro_bind "$run_dir/sst-auth.cnf" "$member_dir/conf.d/99-sst-auth.cnf"
mount -t tmpfs -o mode=0755 tmpfs /etc/mysql
mkdir -p /etc/mysql/xen-coreos/tls /etc/mysql/xen-coreos/secrets
ro_bind "$run_dir/tls" /etc/mysql/xen-coreos/tls
ro_bind "$run_dir/secrets" /etc/mysql/xen-coreos/secrets

# The image's file_env: VAR from VAR_FILE (exclusive), exported; VAR_FILE unset.
file_env() {
    local var="$1" fileVar="${1}_FILE" def="${2:-}" val
    if [ -n "${!var:-}" ] && [ -n "${!fileVar:-}" ]; then echo "Both $var and $fileVar are set" >&2; exit 1; fi
    val="$def"
    if [ -n "${!var:-}" ]; then val="${!var}"; elif [ -n "${!fileVar:-}" ]; then val="$(<"${!fileVar}")"; fi
    export "$var"="$val"
    unset "$fileVar"
}
file_env MARIADB_ROOT_HOST '%'
file_env MARIADB_ROOT_PASSWORD
file_env MARIADB_PASSWORD
file_env MARIADB_USER
file_env MARIADB_DATABASE

defaults=(--defaults-file="$member_dir/my.cnf")
DATADIR="$member_dir/data"
SOCKET="$member_dir/run-mysqld/mysqld.sock"
as_mysql() { setpriv --reuid=mysql --regid=mysql --init-groups -- "$@"; }
note() { printf '%s [Note] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$*"; }

mkdir -p "$DATADIR"
find "$DATADIR" \! -user mysql -exec chown mysql: '{}' +

docker_exec_client() {
    if [ -n "${MARIADB_DATABASE:-}" ]; then set -- --database="$MARIADB_DATABASE" "$@"; fi
    as_mysql mariadb "${defaults[@]}" --protocol=socket -uroot -hlocalhost --socket="$SOCKET" "$@"
}
docker_process_sql() {
    if [ '--dont-use-mysql-root-password' = "$1" ]; then
        shift
        MYSQL_PWD='' docker_exec_client "$@"
    else
        MYSQL_PWD=$MARIADB_ROOT_PASSWORD docker_exec_client "$@"
    fi
}
docker_sql_escape_string_literal() {
    local newline=$'\n'
    local escaped=${1//\\/\\\\}
    escaped="${escaped//$newline/\\n}"
    echo "${escaped//\'/\\\'}"
}

if [ ! -d "$DATADIR/mysql" ]; then
    [ -n "${MARIADB_ROOT_PASSWORD:-}" ] || { echo "MARIADB_ROOT_PASSWORD is not set" >&2; exit 1; }
    note "Initializing database files"
    as_mysql mariadb-install-db "${defaults[@]}" --datadir="$DATADIR" --rpm --auth-root-authentication-method=normal "$@" \
        --skip-test-db --old-mode='UTF8_IS_UTF8MB3' --default-time-zone=SYSTEM --enforce-storage-engine= \
        --skip-log-bin --expire-logs-days=0 --loose-innodb_buffer_pool_load_at_startup=0 \
        --loose-innodb_buffer_pool_dump_at_shutdown=0 >/dev/null
    note "Starting temporary server"
    setpriv --reuid=mysql --regid=mysql --init-groups -- mariadbd "${defaults[@]}" "$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" --wsrep_on=OFF \
        --expire-logs-days=0 --loose-innodb_buffer_pool_load_at_startup=0 &
    pid=$!
    for i in {60..0}; do
        if docker_process_sql --dont-use-mysql-root-password --database=mysql <<<'SELECT 1' &>/dev/null; then break; fi
        sleep 1
    done
    [ "$i" != 0 ] || { echo "Unable to start the temporary server" >&2; exit 1; }
    root_pw=$(docker_sql_escape_string_literal "$MARIADB_ROOT_PASSWORD")
    user_pw=$(docker_sql_escape_string_literal "${MARIADB_PASSWORD:-}")
    create_db='' create_user='' grants='' root_create=''
    if [ -n "$MARIADB_ROOT_HOST" ] && [ "$MARIADB_ROOT_HOST" != localhost ]; then
        root_create="CREATE USER 'root'@'$MARIADB_ROOT_HOST' IDENTIFIED BY '$root_pw'; GRANT ALL ON *.* TO 'root'@'$MARIADB_ROOT_HOST' WITH GRANT OPTION; GRANT PROXY ON ''@'%' TO 'root'@'$MARIADB_ROOT_HOST' WITH GRANT OPTION;"
    fi
    [ -z "${MARIADB_DATABASE:-}" ] || create_db="CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;"
    if [ -n "${MARIADB_PASSWORD:-}" ] && [ -n "${MARIADB_USER:-}" ]; then
        create_user="CREATE USER '$MARIADB_USER'@'%' IDENTIFIED BY '$user_pw';"
        [ -z "${MARIADB_DATABASE:-}" ] || grants="GRANT ALL ON \`${MARIADB_DATABASE//_/\\_}\`.* TO '$MARIADB_USER'@'%';"
    fi
    note "Securing system users, creating the database and user"
    docker_process_sql --dont-use-mysql-root-password --database=mysql --binary-mode <<-EOSQL
	SET @orig_sql_log_bin= @@SESSION.SQL_LOG_BIN;
	SET @@SESSION.SQL_LOG_BIN=0;
	SET @@SESSION.SQL_MODE=REPLACE(@@SESSION.SQL_MODE, 'NO_BACKSLASH_ESCAPES', '');
	DROP USER IF EXISTS root@'127.0.0.1', root@'::1';
	EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\'', @@hostname,'\'');
	SET PASSWORD FOR 'root'@'localhost'= PASSWORD('${root_pw}');
	${root_create}
	SET @@SESSION.SQL_LOG_BIN=@orig_sql_log_bin;
	${create_db}
	${create_user}
	${grants}
	EOSQL
    for f in "$conf_dir"/initdb.d/*; do
        case "$f" in
            *.sh)
                # shellcheck disable=SC1090 # the rendered initdb.d, as the image sources it
                if [ -x "$f" ]; then note "running $f"; "$f"; else note "sourcing $f"; . "$f"; fi ;;
            *) note "ignoring $f" ;;
        esac
    done
    note "Stopping temporary server"
    kill "$pid"
    wait "$pid"
    note "MariaDB init process done. Ready for start up."
fi
exec setpriv --reuid=mysql --regid=mysql --init-groups -- mariadbd "${defaults[@]}" "$@"
