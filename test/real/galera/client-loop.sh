#!/bin/bash
# client-loop.sh HOST PORT USER DATABASE STOPFILE
# A client of the Galera proxy: one new TLS connection (the app user requires it) and one
# INSERT per query (password in MYSQL_PWD), about 10 a second, until STOPFILE exists. One line per query:
#   <start ms> <end ms> ok <member that answered>
#   <start ms> <end ms> fail <error>
host=$1 port=$2 user=$3 db=$4 stop=$5
while [ ! -e "$stop" ]; do
    start=$(date +%s%3N)
    if out=$(mariadb --no-defaults --ssl --connect-timeout=5 -h "$host" -P "$port" -u "$user" -N -B "$db" \
        -e "INSERT INTO t (src, node) VALUES ('loop', @@wsrep_node_name); SELECT @@wsrep_node_name" 2>&1); then
        echo "$start $(date +%s%3N) ok $out"
    else
        echo "$start $(date +%s%3N) fail $(printf '%s' "$out" | tr '\n' ' ')"
    fi
    sleep 0.1
done
