#!/usr/bin/env bash
# A private PostgreSQL cluster for development and tests, run from Debian's installed `postgresql`
# binaries (/usr/lib/postgresql/<version>/bin) without touching the system cluster: own data folder,
# own port on 127.0.0.1 only, own socket folder, password (SCRAM) authentication for the user `toex`.
# PostgreSQL refuses to run as root: run as root, the cluster runs as the OS user `postgres`.
#
# Usage: private-cluster.sh COMMAND [options]
#   start [--owner-pid PID [--remove-dir]]  initialise (once) and start the cluster, wait until it
#                                           accepts connections, print its Npgsql connection string
#   stop [--immediate] [--remove-dir]       stop the cluster (and delete DIR); --immediate: at once, cutting
#                                           every connection, recovered from the WAL at the next start
#   status                                  exit 0 if running, 3 if not
# Options (or environment):
#   --dir DIR        (TOEX_POSTGRES_DIR)   state folder; default <repo>/.local/postgres
#   --port N         (TOEX_POSTGRES_PORT)  port on 127.0.0.1; default 5689
#   --unsafe-fast    fsync and synchronous commit off: for throw-away test clusters only
#   --owner-pid PID  stop the cluster (and with --remove-dir delete DIR) when process PID exits
# Exit codes: 0 ok, 1 failure, 2 usage, 3 not running, 69 postgresql not installed,
# 75 the port is already in use (pick another and retry).
set -euo pipefail
umask 077

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
SCRIPT_PATH="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
readonly SCRIPT_DIR REPO_ROOT SCRIPT_PATH
readonly USER_NAME=toex

die() {
  local code=$1
  shift
  printf 'private-cluster: %s\n' "$*" >&2
  exit "$code"
}

usage() {
  sed -n '/^# Usage:/,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p;}' "$SCRIPT_PATH" >&2
  exit 2
}

find_bin() {
  local dir
  if [[ -n "${TOEX_POSTGRES_BIN:-}" ]]; then
    echo "$TOEX_POSTGRES_BIN"
    return
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && { echo "$dir"; return; }
  done
  die 69 "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb). Install it with 'sudo apt-get install postgresql'" \
    "(Debian; the system cluster it starts is not used), or point the tests at a server: export TOEX_POSTGRES_URL='Host=…;Port=…;Username=…;Password=…'."
}

command=${1:-}
[[ -n "$command" ]] || usage
shift
opt_dir=${TOEX_POSTGRES_DIR:-}
opt_port=${TOEX_POSTGRES_PORT:-}
opt_owner=
opt_remove_dir=false
opt_fast=false
opt_mode=fast
positional=()
while (($#)); do
  case "$1" in
    --dir) opt_dir=${2:?--dir needs a value}; shift 2 ;;
    --port) opt_port=${2:?--port needs a value}; shift 2 ;;
    --owner-pid) opt_owner=${2:?--owner-pid needs a value}; shift 2 ;;
    --remove-dir) opt_remove_dir=true; shift ;;
    --unsafe-fast) opt_fast=true; shift ;;
    --immediate) opt_mode=immediate; shift ;;
    -h | --help) usage ;;
    -*) die 2 "unknown option $1" ;;
    *) positional+=("$1"); shift ;;
  esac
done

DIR=${opt_dir:-$REPO_ROOT/.local/postgres}
if [[ "$command" == start ]]; then
  mkdir -p "$DIR"
elif [[ ! -d "$DIR" ]]; then
  case "$command" in
    status) echo "not running (no folder $DIR)"; exit 3 ;;
    stop) exit 0 ;;
    *) usage ;;
  esac
fi
DIR="$(cd "$DIR" && pwd)"
readonly DIR DATA="$DIR/data" PASSWORD_FILE="$DIR/password" STATE_FILE="$DIR/cluster.env"

stored_port=''
[[ -f "$STATE_FILE" ]] && stored_port=$(sed -n 's/^port=//p' "$STATE_FILE")
PORT=${opt_port:-${stored_port:-5689}}
[[ "$PORT" =~ ^[0-9]+$ ]] && ((10#$PORT >= 1 && 10#$PORT <= 65535)) || die 2 "invalid port '$PORT'"

# As root, the cluster's files belong to and its server runs as the OS user postgres.
as_owner() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() { [[ -f "$DATA/postmaster.pid" ]] && as_owner "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1; }

connection_string() {
  printf 'Host=127.0.0.1;Port=%s;Username=%s;Password=%s;Database=postgres\n' "$PORT" "$USER_NAME" "$(<"$PASSWORD_FILE")"
}

initialise() {
  [[ -f "$DATA/PG_VERSION" ]] && return 0
  if [[ ! -s "$PASSWORD_FILE" ]]; then
    LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom 2>/dev/null | head -c 24 >"$PASSWORD_FILE" || true
    [[ -s "$PASSWORD_FILE" ]] || die 1 "could not generate a password"
  fi
  mkdir -p "$DIR/socket"
  if ((EUID == 0)); then
    id postgres >/dev/null 2>&1 || die 1 "running as root needs the OS user 'postgres' (created by Debian's postgresql package)"
    chown -R postgres: "$DIR"
    # The folder may sit inside others only root can enter (a temp folder is fine).
  fi
  as_owner "$BIN/initdb" -D "$DATA" --username="$USER_NAME" --pwfile="$PASSWORD_FILE" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C -N >"$DIR/initdb.log" 2>&1 || { tail -20 "$DIR/initdb.log" >&2; die 1 "initdb failed"; }
}

start_watcher() {
  local owner=$1
  [[ "$owner" =~ ^[0-9]+$ ]] || die 2 "invalid --owner-pid '$owner'"
  local args=(__watch "$owner" --dir "$DIR" --port "$PORT")
  [[ "$opt_remove_dir" == true ]] && args+=(--remove-dir)
  (cd / && exec setsid bash "$SCRIPT_PATH" "${args[@]}" </dev/null >/dev/null 2>&1) &
  echo "$!" >"$DIR/watcher.pid"
}

stop_cluster() {
  if [[ -f "$DATA/postmaster.pid" ]]; then
    as_owner "$BIN/pg_ctl" stop -D "$DATA" -m "$opt_mode" -w -t 60 >/dev/null 2>&1 || true
  fi
}

BIN=$(find_bin)
case "$command" in
  start)
    if running; then
      connection_string
      exit 0
    fi
    port_in_use "$PORT" && die 75 "port $PORT is already in use on 127.0.0.1 (pass another with --port)"
    initialise
    printf 'port=%s\n' "$PORT" >"$STATE_FILE"
    settings=(-p "$PORT" -k "$DIR/socket" -c listen_addresses=127.0.0.1 -c max_connections=200)
    [[ "$opt_fast" == true ]] && settings+=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off)
    as_owner "$BIN/pg_ctl" start -D "$DATA" -l "$DIR/server.log" -w -t 60 -o "${settings[*]}" >/dev/null 2>&1 \
      || { tail -20 "$DIR/server.log" >&2 || true; port_in_use "$PORT" && die 75 "port $PORT was taken meanwhile"; die 1 "the cluster did not start; log in $DIR/server.log"; }
    [[ -n "$opt_owner" ]] && start_watcher "$opt_owner"
    connection_string
    ;;
  stop)
    stop_cluster
    if [[ "$opt_remove_dir" == true ]]; then
      cd /
      rm -rf "$DIR"
    fi
    ;;
  status)
    running && echo "running on 127.0.0.1:$PORT, data in $DATA" || { echo "not running"; exit 3; }
    ;;
  __watch)
    owner=${positional[0]:?}
    tail --pid="$owner" -f /dev/null 2>/dev/null || while kill -0 "$owner" 2>/dev/null; do sleep 1; done
    [[ -d "$DIR" ]] || exit 0
    stop_cluster
    if [[ "$opt_remove_dir" == true ]]; then
      cd /
      rm -rf "$DIR"
    fi
    ;;
  *) usage ;;
esac
