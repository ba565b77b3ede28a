#!/usr/bin/env bash
# Installs PostgreSQL from the distribution's packages if it is missing, starts a throwaway
# cluster on 127.0.0.1 (a free port, data under target/postgres, or /tmp as root, unless
# FLOWACTOR_PG_DIR says otherwise), creates the database `flowactor`, and prints the URLs as shell assignments:
#
#   eval "$(bash scripts/install-postgres.sh)"
#   LANGFLOW_DATABASE_URL=$FLOWACTOR_PG_URL cargo run -- run
#
# Idempotent: a second run reuses the running cluster (or restarts the stopped one) and prints
# the same URL. `bash scripts/install-postgres.sh stop` stops it; `… exec CMD ARGS` runs CMD with
# the URLs exported. The cluster is for development
# and tests: trust authentication on loopback only, and fsync off (FLOWACTOR_PG_FSYNC=on keeps it).
# initdb refuses to run as root, so as root the cluster belongs to the `postgres` user.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
if [ -n "${FLOWACTOR_PG_DIR:-}" ]; then
    dir="$FLOWACTOR_PG_DIR"
elif [ "$(id -u)" -eq 0 ]; then
    # The `postgres` user may not reach into root's checkout: a directory of its own in /tmp,
    # one per checkout.
    dir="/tmp/flowactor-postgres-$(printf '%s' "$root" | cksum | cut -d' ' -f1)"
else
    dir="$root/target/postgres"
fi
data="$dir/data"
log() { echo "install-postgres: $*" >&2; }

find_bindir() {
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
        return
    fi
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then
        echo "$d"
    fi
}

bindir="$(find_bindir)"
if [ -z "$bindir" ]; then
    log "PostgreSQL is not installed; installing the distribution's package"
    if [ "$(id -u)" -ne 0 ]; then
        log "need root to install packages (apt-get install postgresql)"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    bindir="$(find_bindir)"
    [ -n "$bindir" ] || { log "no initdb after installing postgresql"; exit 1; }
fi

# The server runs as the current user, or as `postgres` when that is root.
as_owner() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    as_owner() { runuser -u postgres -- "$@"; }
fi

mkdir -p "$dir"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$dir"
fi

if [ "${1:-}" = "stop" ]; then
    if [ -f "$data/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >&2
    fi
    exit 0
fi

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        # A port nothing holds: the kernel picks it (connecting is not enough: a port can be
        # bound without listening).
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    local p
    for p in $(seq 45432 45532); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    log "no free port in 45432-45532"
    exit 1
}

if [ ! -f "$data/PG_VERSION" ]; then
    log "initialising a cluster in $data"
    as_owner "$bindir/initdb" -D "$data" -U flowactor -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
fi

if as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    port="$(cat "$dir/port")"
else
    port="$(free_port)"
    echo "$port" >"$dir/port"
    fsync="${FLOWACTOR_PG_FSYNC:-off}"
    log "starting PostgreSQL on 127.0.0.1:$port"
    as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=$fsync -c max_connections=300" start >&2
fi

if ! as_owner "$bindir/psql" -h 127.0.0.1 -p "$port" -U flowactor -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'flowactor'" | grep -q 1; then
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U flowactor flowactor
fi

url="postgresql://flowactor@127.0.0.1:$port/flowactor"
if [ "${1:-}" = "exec" ]; then
    # `install-postgres.sh exec CMD…`: runs CMD with the URLs exported (its status is ours).
    shift
    export FLOWACTOR_PG_URL="$url" FLOWACTOR_TEST_DATABASE_URL="$url"
    exec "$@"
fi
echo "export FLOWACTOR_PG_URL=$url"
echo "export FLOWACTOR_TEST_DATABASE_URL=$url"
