#!/usr/bin/env bash
# A private RabbitMQ node for development and tests, run from the installed Debian/Ubuntu
# `rabbitmq-server` package without touching the system broker: own state folder, own ports,
# own epmd, own Erlang cookie, no `guest` user. Runs as root or as a normal user.
#
# Usage: private-node.sh COMMAND [options]
#   start [--owner-pid PID [--remove-dir]]  start (or reuse) the node, wait until ready, print its URL
#   stop [--remove-dir]                     stop the node and its epmd (and delete DIR)
#   status                                  exit 0 and describe the node if running, 3 if not
#   url                                     print amqp://toex:PASS@127.0.0.1:PORT/
#   add-vhost NAME                          create a virtual host and grant the toex user on it
#   delete-vhost NAME                       delete a virtual host (no error if absent)
#   add-user USER PASS VHOST [CONF WRITE READ]
#                                           create or update a user with permissions on VHOST
#   service-users                           load deploy/rabbitmq/definitions.json (the services' own
#                                           users and their permissions on vhost `toex`) and give
#                                           each user a generated password, kept in DIR/users/USER
#   service-url USER                        print amqp://USER:PASS@127.0.0.1:PORT/toex for a service user
#   ctl ARGS...                             run rabbitmqctl ARGS against the node (e.g. ctl set_disk_free_limit 1TB)
# Options (or environment):
#   --dir DIR         (TOEX_RABBITMQ_NODE_DIR)   state folder; default <repo>/.local/rabbitmq
#   --port N          (TOEX_RABBITMQ_NODE_PORT)  AMQP port on 127.0.0.1; default 5679
#   --dist-port N     (TOEX_RABBITMQ_DIST_PORT)  Erlang distribution port; default AMQP+20000
#   --epmd-port N     (TOEX_RABBITMQ_EPMD_PORT)  private epmd port; default AMQP+10000
#   --management-port N (TOEX_RABBITMQ_MANAGEMENT_PORT) enable the management UI/API on
#                     127.0.0.1:N (off by default: it adds a few seconds to start); 0 turns it off
#   --timeout SECONDS (TOEX_RABBITMQ_NODE_TIMEOUT) how long start waits; default 120
#   --owner-pid PID   stop the node (and with --remove-dir delete DIR) when process PID exits
#   --shared-epmd     (TOEX_RABBITMQ_SHARED_EPMD=1) the epmd on --epmd-port is shared with other nodes (a cluster,
#                     deploy/rabbitmq/private-cluster.sh): start neither kills it nor refuses its port as in use
# Ports given once are remembered in DIR/node.env. Diagnostics go to stderr; stdout carries only
# the requested value, so `url=$(private-node.sh start)` works.
#
# Exit codes: 0 ok, 1 failure, 2 usage, 3 not running, 69 rabbitmq-server not installed,
# 75 a port is already in use (pick another and retry).
set -euo pipefail
umask 077

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
SCRIPT_PATH="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
readonly SCRIPT_DIR REPO_ROOT SCRIPT_PATH
readonly RABBITMQ_BIN="${TOEX_RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}"
readonly USER_NAME=toex
readonly DEFINITIONS="$SCRIPT_DIR/definitions.json"
readonly SERVICE_VHOST=toex

die() {
  local code=$1
  shift
  printf 'private-node: %s\n' "$*" >&2
  exit "$code"
}

note() { printf 'private-node: %s\n' "$*" >&2; }

usage() {
  sed -n '/^# Usage:/,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p;}' "$SCRIPT_PATH" >&2
  exit 2
}

require_installed() {
  if [[ ! -x "$RABBITMQ_BIN/rabbitmq-server" || ! -x "$RABBITMQ_BIN/rabbitmqctl" ]] || ! command -v epmd >/dev/null 2>&1; then
    die 69 "rabbitmq-server is not installed (no $RABBITMQ_BIN/rabbitmq-server)." \
      "Install it with 'sudo apt-get install rabbitmq-server' (Debian/Ubuntu; the system service it starts is not used)," \
      "or use an existing broker: export TOEX_RABBITMQ_URL=amqp://user:pass@host:5672/ (and TOEX_RABBITMQ_MANAGEMENT_URL=http://host:15672/ for a virtual host per test run)."
  fi
}

valid_port() { [[ "$1" =~ ^[0-9]+$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535)); }

# ---- arguments --------------------------------------------------------------------------------
command=${1:-}
[[ -n "$command" ]] || usage
shift
positional=()
opt_dir=${TOEX_RABBITMQ_NODE_DIR:-}
opt_port=${TOEX_RABBITMQ_NODE_PORT:-}
opt_dist=${TOEX_RABBITMQ_DIST_PORT:-}
opt_epmd=${TOEX_RABBITMQ_EPMD_PORT:-}
opt_management=${TOEX_RABBITMQ_MANAGEMENT_PORT:-}
opt_timeout=${TOEX_RABBITMQ_NODE_TIMEOUT:-120}
opt_owner=
opt_remove_dir=false
opt_shared_epmd=false
[[ "${TOEX_RABBITMQ_SHARED_EPMD:-}" == 1 ]] && opt_shared_epmd=true
while (($#)); do
  case "$1" in
    --dir) opt_dir=${2:?--dir needs a value}; shift 2 ;;
    --port) opt_port=${2:?--port needs a value}; shift 2 ;;
    --dist-port) opt_dist=${2:?--dist-port needs a value}; shift 2 ;;
    --epmd-port) opt_epmd=${2:?--epmd-port needs a value}; shift 2 ;;
    --management-port) opt_management=${2:?--management-port needs a value}; shift 2 ;;
    --timeout) opt_timeout=${2:?--timeout needs a value}; shift 2 ;;
    --owner-pid) opt_owner=${2:?--owner-pid needs a value}; shift 2 ;;
    --remove-dir) opt_remove_dir=true; shift ;;
    --shared-epmd) opt_shared_epmd=true; shift ;;
    -h | --help) usage ;;
    --) shift; positional+=("$@"); break ;;
    -*) die 2 "unknown option $1" ;;
    *) positional+=("$1"); shift ;;
  esac
done

DIR=${opt_dir:-$REPO_ROOT/.local/rabbitmq}
if [[ "$command" == start ]]; then
  mkdir -p "$DIR"
elif [[ ! -d "$DIR" ]]; then
  case "$command" in
    status) echo "not running (no folder $DIR)"; exit 3 ;;
    stop) exit 0 ;;
    -h | --help | help) usage ;;
    *) die 3 "no node has been set up in $DIR (run start first)" ;;
  esac
fi
DIR="$(cd "$DIR" && pwd)"
readonly DIR STATE_FILE="$DIR/node.env" PASSWORD_FILE="$DIR/password" PID_FILE="$DIR/pid"

# ---- configuration: options > environment > DIR/node.env > defaults ---------------------------
stored_port='' stored_dist='' stored_epmd='' stored_management=''
if [[ -f "$STATE_FILE" ]]; then
  while IFS='=' read -r key value; do
    case "$key" in
      port) stored_port=$value ;;
      dist_port) stored_dist=$value ;;
      epmd_port) stored_epmd=$value ;;
      management_port) stored_management=$value ;;
    esac
  done <"$STATE_FILE"
fi

PORT=${opt_port:-${stored_port:-5679}}
valid_port "$PORT" || die 2 "invalid AMQP port '$PORT'"
if [[ -n "$opt_port" && "$opt_port" != "$stored_port" ]]; then
  # A new AMQP port re-derives the other two unless they are given explicitly.
  stored_dist='' stored_epmd=''
fi
derive() {
  local port=$((10#$PORT + $1))
  ((port <= 65535)) || die 2 "AMQP port $PORT is too high to derive the $2 port (AMQP+$1 > 65535); pass --$2-port"
  echo "$port"
}
DIST_PORT=${opt_dist:-${stored_dist:-$(derive 20000 dist)}}
EPMD_PORT=${opt_epmd:-${stored_epmd:-$(derive 10000 epmd)}}
valid_port "$DIST_PORT" || die 2 "invalid dist port '$DIST_PORT'"
valid_port "$EPMD_PORT" || die 2 "invalid epmd port '$EPMD_PORT'"
MANAGEMENT_PORT=${opt_management:-${stored_management:-0}}
[[ "$MANAGEMENT_PORT" == 0 ]] || valid_port "$MANAGEMENT_PORT" || die 2 "invalid management port '$MANAGEMENT_PORT'"
[[ "$opt_timeout" =~ ^[0-9]+$ ]] || die 2 "invalid timeout '$opt_timeout'"
NODENAME="toex-$PORT@localhost"

# Everything RabbitMQ and Erlang read comes from DIR, never from /etc/rabbitmq or /var/lib/rabbitmq.
export HOME="$DIR"
export RABBITMQ_NODENAME="$NODENAME"
export RABBITMQ_NODE_PORT="$PORT"
export RABBITMQ_DIST_PORT="$DIST_PORT"
export RABBITMQ_MNESIA_BASE="$DIR/mnesia"
export RABBITMQ_LOG_BASE="$DIR/log"
export RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins"
export RABBITMQ_CONFIG_FILE="$DIR/rabbitmq"
export RABBITMQ_ADVANCED_CONFIG_FILE="$DIR/advanced.config"
export RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf"
export RABBITMQ_PID_FILE="$PID_FILE"
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export ERL_EPMD_PORT="$EPMD_PORT"
export ERL_EPMD_ADDRESS=127.0.0.1

ctl() { "$RABBITMQ_BIN/rabbitmqctl" "$@"; }

node_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid=$(<"$PID_FILE")
  # The pid must be a live Erlang VM whose HOME is this folder (guards against a recycled pid).
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == beam* ]] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- "$DIR" || return 1
  echo "$pid"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

url() {
  [[ -f "$PASSWORD_FILE" ]] || die 1 "no node has been set up in $DIR (run start first)"
  printf 'amqp://%s:%s@127.0.0.1:%s/\n' "$USER_NAME" "$(<"$PASSWORD_FILE")" "$PORT"
}

kill_epmd() {
  # Only our private epmd listens on EPMD_PORT; -kill refuses while nodes are registered.
  epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true
}

kill_watcher() {
  local pid
  [[ -f "$DIR/watcher.pid" ]] || return 0
  pid=$(<"$DIR/watcher.pid")
  rm -f "$DIR/watcher.pid"
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 0
  # Only if that pid is still our watcher (pids get reused).
  tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- __watch || return 0
  tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- "$DIR" || return 0
  # The watcher runs in its own session: signal its whole group (it and its `tail`).
  kill -TERM -- "-$pid" 2>/dev/null || true
}

stop_node() {
  local pid waited=0
  if pid=$(node_pid); then
    note "stopping $NODENAME (pid $pid)"
    if ! timeout 120 "$RABBITMQ_BIN/rabbitmqctl" -q stop "$PID_FILE" >/dev/null 2>&1; then
      kill -TERM "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null && ((waited < 300)); do sleep 0.1; waited=$((waited + 1)); done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$PID_FILE"
  kill_epmd
}

write_config() {
  if [[ ! -s "$PASSWORD_FILE" ]]; then
    # 24 alphanumerics: URL-safe, no escaping anywhere.
    LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom 2>/dev/null | head -c 24 >"$PASSWORD_FILE" || true
    [[ -s "$PASSWORD_FILE" ]] || die 1 "could not generate a password"
  fi
  chmod 600 "$PASSWORD_FILE"
  mkdir -p "$DIR/log" "$DIR/mnesia"
  printf 'port=%s\ndist_port=%s\nepmd_port=%s\nmanagement_port=%s\n' \
    "$PORT" "$DIST_PORT" "$EPMD_PORT" "$MANAGEMENT_PORT" >"$STATE_FILE"
  if [[ "$MANAGEMENT_PORT" == 0 ]]; then
    echo '[].' >"$DIR/enabled_plugins"
  else
    echo '[rabbitmq_management].' >"$DIR/enabled_plugins"
  fi
  : >"$DIR/rabbitmq-env.conf"
  # default_user is created on the first boot of an empty database, and replaces `guest`.
  cat >"$DIR/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$PORT
default_vhost = /
default_user = $USER_NAME
default_pass = $(<"$PASSWORD_FILE")
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.write = .*
default_permissions.read = .*
EOF
  if [[ "$MANAGEMENT_PORT" != 0 ]]; then
    # Message counters refreshed every second (default 5 s), so a benchmark reads its totals soon after it ends.
    printf 'management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = %s\ncollect_statistics_interval = 1000\n' "$MANAGEMENT_PORT" >>"$DIR/rabbitmq.conf"
  fi
  chmod 600 "$DIR/rabbitmq.conf"
}

start_watcher() {
  local owner=$1 pid
  [[ "$owner" =~ ^[0-9]+$ ]] || die 2 "invalid --owner-pid '$owner'"
  if [[ -f "$DIR/watcher.pid" ]]; then
    pid=$(<"$DIR/watcher.pid")
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && return 0
  fi
  local args=(__watch "$owner" --dir "$DIR" --port "$PORT" --dist-port "$DIST_PORT" --epmd-port "$EPMD_PORT" --management-port "$MANAGEMENT_PORT")
  [[ "$opt_remove_dir" == true ]] && args+=(--remove-dir)
  (cd / && exec setsid bash "$SCRIPT_PATH" "${args[@]}" </dev/null >/dev/null 2>&1 9>&-) &
  echo "$!" >"$DIR/watcher.pid"
}

start_node() {
  local pid started server_pid elapsed=0
  if pid=$(node_pid); then
    ctl -q wait --timeout "$opt_timeout" "$PID_FILE" >/dev/null || die 1 "node $NODENAME (pid $pid) is running but not ready"
    note "reusing $NODENAME (pid $pid) in $DIR"
  else
    rm -f "$PID_FILE"
    [[ "$opt_shared_epmd" == true ]] || kill_epmd
    for port in "$PORT" "$DIST_PORT" "$EPMD_PORT" "$MANAGEMENT_PORT"; do
      [[ "$port" == 0 ]] && continue
      [[ "$port" == "$EPMD_PORT" && "$opt_shared_epmd" == true ]] && continue
      port_in_use "$port" && die 75 "port $port is already in use on 127.0.0.1 (pass other ports with --port/--dist-port/--epmd-port)"
    done
    write_config
    started=$(date +%s%N)
    note "starting $NODENAME in $DIR (AMQP $PORT, dist $DIST_PORT, epmd $EPMD_PORT, management ${MANAGEMENT_PORT/#0/off})"
    # Own session, stdio to a file, lock descriptor closed: the node must not hold the caller's pipes.
    (cd "$DIR" && exec setsid "$RABBITMQ_BIN/rabbitmq-server" </dev/null >>"$DIR/log/server.out" 2>&1 9>&-) &
    server_pid=$!
    while [[ ! -s "$PID_FILE" ]]; do
      if ! kill -0 "$server_pid" 2>/dev/null; then
        tail -n 40 "$DIR/log/server.out" >&2 || true
        die 1 "rabbitmq-server exited during start; logs in $DIR/log"
      fi
      ((elapsed < opt_timeout * 10)) || { stop_node; die 1 "timed out waiting for $PID_FILE"; }
      sleep 0.1
      elapsed=$((elapsed + 1))
    done
    if ! ctl -q wait --timeout "$opt_timeout" "$PID_FILE" >/dev/null 2>&1; then
      tail -n 40 "$DIR/log/server.out" >&2 || true
      stop_node
      die 1 "$NODENAME did not become ready within ${opt_timeout}s; logs in $DIR/log"
    fi
    note "ready in $((($(date +%s%N) - started) / 1000000)) ms"
  fi
  [[ -n "$opt_owner" ]] && start_watcher "$opt_owner"
  url
}

valid_vhost() {
  [[ "$1" =~ ^[A-Za-z0-9._~-]+$ ]] || die 2 "virtual host '$1' must match [A-Za-z0-9._~-]+ (URL- and JSON-safe)"
}

require_running() { node_pid >/dev/null || die 3 "node $NODENAME is not running in $DIR"; }

# Serialise commands on one folder (start/stop races between test processes or terminals).
lock() {
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$DIR/.lock"
    flock -w "$opt_timeout" 9 || die 1 "could not lock $DIR/.lock"
  fi
}

case "$command" in
  start)
    require_installed
    lock
    if pid=$(node_pid) && [[ -n "$stored_port" && "$stored_port" != "$PORT" ]]; then
      die 1 "a node (pid $pid) already runs in $DIR on port $stored_port; stop it first"
    fi
    start_node
    ;;
  stop)
    require_installed
    lock
    stop_node
    # Only now: if this command is killed half-way, the watcher still cleans up after its owner.
    kill_watcher
    if [[ "$opt_remove_dir" == true ]]; then
      cd /
      rm -rf "$DIR"
    fi
    ;;
  status)
    if pid=$(node_pid); then
      echo "running: $NODENAME pid $pid, AMQP 127.0.0.1:$PORT, dist $DIST_PORT, epmd $EPMD_PORT, dir $DIR"
      [[ "$MANAGEMENT_PORT" == 0 ]] || echo "management: http://127.0.0.1:$MANAGEMENT_PORT/ (user $USER_NAME, password in $PASSWORD_FILE)"
    else
      echo "not running (dir $DIR, AMQP port $PORT)"
      exit 3
    fi
    ;;
  url) url ;;
  add-vhost)
    ((${#positional[@]} == 1)) || usage
    valid_vhost "${positional[0]}"
    require_installed
    require_running
    printf '{"vhosts":[{"name":"%s"}],"permissions":[{"user":"%s","vhost":"%s","configure":".*","write":".*","read":".*"}]}' \
      "${positional[0]}" "$USER_NAME" "${positional[0]}" | ctl -q import_definitions >/dev/null
    ;;
  delete-vhost)
    ((${#positional[@]} == 1)) || usage
    require_installed
    require_running
    if ! out=$(ctl -q delete_vhost "${positional[0]}" 2>&1); then
      [[ "$out" == *"does not exist"* ]] || die 1 "$out"
    fi
    ;;
  add-user)
    ((${#positional[@]} == 3 || ${#positional[@]} == 6)) || usage
    require_installed
    require_running
    user=${positional[0]} pass=${positional[1]} vhost=${positional[2]}
    if ! out=$(ctl -q add_user "$user" "$pass" 2>&1); then
      [[ "$out" == *"already exists"* ]] || die 1 "$out"
      ctl -q change_password "$user" "$pass" >/dev/null
    fi
    ctl -q set_permissions -p "$vhost" "$user" "${positional[3]:-.*}" "${positional[4]:-.*}" "${positional[5]:-.*}" >/dev/null
    ;;
  service-users)
    ((${#positional[@]} == 0)) || usage
    require_installed
    require_running
    [[ -r "$DEFINITIONS" ]] || die 1 "no $DEFINITIONS"
    ctl -q import_definitions "$DEFINITIONS" >/dev/null
    mkdir -p "$DIR/users"
    # The users of the "users" array: they arrive without a password and get one here.
    while IFS= read -r user; do
      [[ "$user" =~ ^[a-z][a-z0-9-]*$ ]] || die 1 "unexpected user name '$user' in $DEFINITIONS"
      if [[ ! -s "$DIR/users/$user" ]]; then
        LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom 2>/dev/null | head -c 24 >"$DIR/users/$user" || true
      fi
      chmod 600 "$DIR/users/$user"
      ctl -q change_password "$user" "$(<"$DIR/users/$user")" </dev/null >/dev/null
    done < <(sed -n '/"users"/,/^ *\],\?$/p' "$DEFINITIONS" | sed -n 's/.*"name": *"\([^"]*\)".*/\1/p')
    ;;
  service-url)
    ((${#positional[@]} == 1)) || usage
    [[ -s "$DIR/users/${positional[0]}" ]] || die 1 "no service user '${positional[0]}' (run service-users first)"
    printf 'amqp://%s:%s@127.0.0.1:%s/%s\n' "${positional[0]}" "$(<"$DIR/users/${positional[0]}")" "$PORT" "$SERVICE_VHOST"
    ;;
  ctl)
    ((${#positional[@]} >= 1)) || usage
    require_installed
    require_running
    ctl "${positional[@]}"
    ;;
  __watch)
    # Internal: started by `start --owner-pid`. Blocks until the owner exits, then cleans up.
    owner=${positional[0]:?}
    echo "$$" >"$DIR/watcher.pid"
    tail --pid="$owner" -f /dev/null 2>/dev/null || while kill -0 "$owner" 2>/dev/null; do sleep 1; done
    [[ -d "$DIR" ]] || exit 0
    rm -f "$DIR/watcher.pid"
    lock
    stop_node
    if [[ "$opt_remove_dir" == true ]]; then
      cd /
      rm -rf "$DIR"
    fi
    ;;
  *) usage ;;
esac
