#!/usr/bin/env bash
# Starts and stops the database servers that the job store tests run against, each on
# a fixed loopback port. Idempotent: `start` leaves a server that is already up alone,
# `stop` only stops the servers this script started.
#
#   PostgreSQL  127.0.0.1:54320  user postgres, no password (its own cluster; the
#                                port keeps clear of a system server on 5432)
#   Redis       127.0.0.1:6379   the address APScheduler's own tests use
#   ZooKeeper   127.0.0.1:2181   the address APScheduler's own tests use
#   etcd        127.0.0.1:2379   the address APScheduler's own tests use
#
# MongoDB and RethinkDB have no Debian package; their stores are tested without a
# server as far as that goes (see README.md).
#
# Usage: bash scripts/services.sh start|stop|status|restart-postgres
#   start   installs missing Debian packages (when run as root), then starts every
#           server that can be had; a server that cannot be installed or started is
#           reported and skipped, and its tests skip
#   stop    stops the servers started by `start`
#   status  prints which servers answer
#   restart-postgres
#           restarts the PostgreSQL server started by `start` (for the test of a
#           server restart under a running scheduler); fails if it is not ours
#
# Environment: SERVICES_DIR  data, logs and pid files (default: a fixed folder in
#              the temporary directory, shared by the checkouts of this machine as
#              the ports are)

set -uo pipefail

SERVICES_DIR="${SERVICES_DIR:-${TMPDIR:-/tmp}/apscheduler-rs-services}"
PG_PORT=54320
REDIS_PORT=6379
ZK_PORT=2181
ETCD_PORT=2379
ETCD_PEER_PORT=2380

log() { printf 'services: %s\n' "$*"; }

# port_open PORT: true when something accepts connections on 127.0.0.1:PORT.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_port NAME PORT SECONDS
wait_port() {
    local name=$1 port=$2 limit=$3 i
    for ((i = 0; i < limit * 10; i++)); do
        port_open "$port" && return 0
        sleep 0.1
    done
    log "$name did not open port $port within ${limit}s (log: $SERVICES_DIR/$name.log)"
    return 1
}

pid_alive() {
    [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

# One apt-get run for every missing package; needs root and a reachable mirror.
ensure_packages() {
    local missing=() pkg
    command -v postgres >/dev/null || [[ -n "$(pg_bindir)" ]] || missing+=(postgresql)
    command -v redis-server >/dev/null || missing+=(redis-server)
    [[ -f /usr/share/java/zookeeper.jar ]] || missing+=(zookeeper)
    command -v etcd >/dev/null || missing+=(etcd-server)
    ((${#missing[@]})) || return 0
    if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null; then
        log "not installing ${missing[*]} (needs root and apt-get); their tests skip"
        return 0
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Keep package scripts from starting the system's own instances.
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
    fi
    apt-get update -qq >"$SERVICES_DIR/apt.log" 2>&1
    for pkg in "${missing[@]}"; do
        apt-get install -y -qq --no-install-recommends "$pkg" >>"$SERVICES_DIR/apt.log" 2>&1 \
            || log "could not install $pkg (see $SERVICES_DIR/apt.log); its tests skip"
    done
    ((created_policy)) && rm -f "$policy"
    return 0
}

pg_bindir() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x "$dir/pg_ctl" ]] && { echo "$dir"; return; }
    done
}

# Commands for PostgreSQL run as its own user when we are root (it refuses root).
as_pg_user() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start_postgres() {
    local bin data="$SERVICES_DIR/postgres"
    bin="$(pg_bindir)"
    [[ -n $bin ]] || { log "postgresql not installed; skipped"; return 0; }
    if port_open "$PG_PORT"; then log "postgresql already up on $PG_PORT"; return 0; fi
    if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        log "no postgres user; skipped"
        return 0
    fi
    mkdir -p "$data"
    touch "$SERVICES_DIR/postgres.log"
    [[ $EUID -eq 0 ]] && chown postgres: "$data" "$SERVICES_DIR/postgres.log"
    chmod 700 "$data"
    if [[ ! -f "$data/PG_VERSION" ]]; then
        as_pg_user "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 \
            >>"$SERVICES_DIR/postgres.log" 2>&1 || { log "initdb failed"; return 1; }
    fi
    # fsync off: the data is thrown away, and the crash tests kill clients, not
    # the server.
    as_pg_user "$bin/pg_ctl" -D "$data" -l "$SERVICES_DIR/postgres.log" -w -t 30 start \
        -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories='$data' -c fsync=off -c max_connections=200" \
        >/dev/null 9>&- || { log "postgresql failed to start (log: $SERVICES_DIR/postgres.log)"; return 1; }
    touch "$SERVICES_DIR/postgres.started"
    wait_port postgres "$PG_PORT" 30 && log "postgresql up on 127.0.0.1:$PG_PORT"
}

stop_postgres() {
    local bin data="$SERVICES_DIR/postgres"
    [[ -f "$SERVICES_DIR/postgres.started" ]] || return 0
    bin="$(pg_bindir)"
    as_pg_user "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1
    rm -f "$SERVICES_DIR/postgres.started"
    log "postgresql stopped"
}

start_redis() {
    command -v redis-server >/dev/null || { log "redis-server not installed; skipped"; return 0; }
    if port_open "$REDIS_PORT"; then log "redis already up on $REDIS_PORT"; return 0; fi
    mkdir -p "$SERVICES_DIR/redis"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
        --dir "$SERVICES_DIR/redis" --daemonize yes \
        --pidfile "$SERVICES_DIR/redis.pid" --logfile "$SERVICES_DIR/redis.log" 9>&- \
        || { log "redis failed to start"; return 1; }
    wait_port redis "$REDIS_PORT" 20 && log "redis up on 127.0.0.1:$REDIS_PORT"
}

# start_daemon NAME COMMAND...: runs COMMAND in the background with its pid file.
start_daemon() {
    local name=$1
    shift
    # 9>&-: the daemon must not inherit (and so hold) this script's lock.
    nohup "$@" >"$SERVICES_DIR/$name.log" 2>&1 </dev/null 9>&- &
    echo $! >"$SERVICES_DIR/$name.pid"
}

start_zookeeper() {
    local conf="$SERVICES_DIR/zookeeper-conf"
    [[ -f /usr/share/java/zookeeper.jar ]] || { log "zookeeper not installed; skipped"; return 0; }
    command -v java >/dev/null || { log "java not installed; zookeeper skipped"; return 0; }
    if port_open "$ZK_PORT"; then log "zookeeper already up on $ZK_PORT"; return 0; fi
    mkdir -p "$conf" "$SERVICES_DIR/zookeeper-data"
    cat >"$conf/zoo.cfg" <<EOF
tickTime=2000
dataDir=$SERVICES_DIR/zookeeper-data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok
EOF
    cp /etc/zookeeper/conf/log4j.properties "$conf/" 2>/dev/null
    start_daemon zookeeper java -Xmx256m -Dzookeeper.log.dir="$SERVICES_DIR" \
        -Dzookeeper.root.logger=INFO,CONSOLE \
        -cp "$conf:/usr/share/java/zookeeper.jar" \
        org.apache.zookeeper.server.quorum.QuorumPeerMain "$conf/zoo.cfg"
    wait_port zookeeper "$ZK_PORT" 60 && log "zookeeper up on 127.0.0.1:$ZK_PORT"
}

start_etcd() {
    command -v etcd >/dev/null || { log "etcd not installed; skipped"; return 0; }
    if port_open "$ETCD_PORT"; then log "etcd already up on $ETCD_PORT"; return 0; fi
    start_daemon etcd etcd --name apscheduler-rs --data-dir "$SERVICES_DIR/etcd-data" \
        --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
        --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
        --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-cluster "apscheduler-rs=http://127.0.0.1:$ETCD_PEER_PORT"
    wait_port etcd "$ETCD_PORT" 30 && log "etcd up on 127.0.0.1:$ETCD_PORT"
}

# stop_daemon NAME: ends the process of NAME's pid file, if it is still ours.
stop_daemon() {
    local name=$1 pidfile="$SERVICES_DIR/$1.pid" pid i
    pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    rm -f "$pidfile"
    log "$name stopped"
}

restart_postgres() {
    local bin data="$SERVICES_DIR/postgres"
    [[ -f "$SERVICES_DIR/postgres.started" ]] || { log "postgresql was not started here"; return 1; }
    bin="$(pg_bindir)"
    as_pg_user "$bin/pg_ctl" -D "$data" -m fast -w -t 30 restart \
        -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories='$data' -c fsync=off -c max_connections=200" \
        -l "$SERVICES_DIR/postgres.log" >/dev/null 9>&- || { log "postgresql failed to restart"; return 1; }
    wait_port postgres "$PG_PORT" 30 && log "postgresql restarted"
}

status() {
    local entry name port
    for entry in postgres:$PG_PORT redis:$REDIS_PORT zookeeper:$ZK_PORT etcd:$ETCD_PORT; do
        name=${entry%%:*}
        port=${entry#*:}
        if port_open "$port"; then
            log "$name: up on 127.0.0.1:$port"
        else
            log "$name: down"
        fi
    done
}

case "${1:-}" in
    start)
        mkdir -p "$SERVICES_DIR"
        exec 9>"$SERVICES_DIR/.lock"
        flock 9
        ensure_packages
        # A server that fails to start only makes its own tests skip.
        start_postgres
        start_redis
        start_zookeeper
        start_etcd
        exit 0
        ;;
    stop)
        [[ -d $SERVICES_DIR ]] || exit 0
        exec 9>"$SERVICES_DIR/.lock"
        flock 9
        stop_postgres
        stop_daemon redis
        stop_daemon zookeeper
        stop_daemon etcd
        ;;
    status) status ;;
    restart-postgres)
        exec 9>"$SERVICES_DIR/.lock"
        flock 9
        restart_postgres
        ;;
    *)
        sed -n '2,26p' "$0"
        exit 2
        ;;
esac
