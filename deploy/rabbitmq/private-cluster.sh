#!/usr/bin/env bash
# A private three-node RabbitMQ cluster for development and fault tests, run from the installed Debian/Ubuntu
# `rabbitmq-server` package without touching the system broker. Each node is a private node of private-node.sh
# (its own state folder DIR/node-N, AMQP port, Erlang distribution port, node name toex-PORT@localhost, no `guest`),
# all three with one Erlang cookie and one private epmd on loopback. They start in parallel; nodes 2 and 3 then join
# node 1 (`rabbitmqctl join_cluster`). Quorum queues declared on it get a member on each of the three nodes.
#
# Usage: private-cluster.sh COMMAND [options]
#   start [--owner-pid PID [--remove-dir]]  start (or reuse) the three nodes, cluster them, print node 1's URL
#   stop [--remove-dir]                     stop the three nodes and their epmd (and delete DIR)
#   status                                  exit 0 and describe the cluster if all three nodes run, 3 if not
#   url                                     print amqp://toex:PASS@127.0.0.1:PORT1/
#   nodes                                   print each node's 127.0.0.1:PORT, one a line (node 1 first)
#   service-users                           load deploy/rabbitmq/definitions.json into the cluster and give each
#                                           service user a generated password (private-node.sh service-users)
#   service-url USER                        print amqp://USER:PASS@127.0.0.1:PORT1/toex for a service user
#   node N start|stop|kill|status|ctl ARGS  one node (1-3): start or stop it alone (it rejoins the cluster when it
#                                           starts), SIGKILL its Erlang VM, or run rabbitmqctl against it; also
#                                           url, add-vhost, delete-vhost, add-user of private-node.sh through it
# Options (or environment):
#   --dir DIR          (TOEX_RABBITMQ_CLUSTER_DIR)   state folder; default <repo>/.local/rabbitmq-cluster
#   --ports P1,P2,P3   (TOEX_RABBITMQ_CLUSTER_PORTS) AMQP ports on 127.0.0.1; default 5691,5692,5693
#   --dist-ports D1,D2,D3 (TOEX_RABBITMQ_CLUSTER_DIST_PORTS) Erlang distribution ports; default each AMQP+20000
#   --epmd-port N      (TOEX_RABBITMQ_CLUSTER_EPMD_PORT) the nodes' shared private epmd; default P1+10000
#   --timeout SECONDS  (TOEX_RABBITMQ_NODE_TIMEOUT) how long each node may take to start; default 120
#   --owner-pid PID    stop the nodes (and with --remove-dir delete their folders) when process PID exits
# Ports given once are remembered in DIR/cluster.env. Diagnostics go to stderr; stdout carries only the requested
# value, so `url=$(private-cluster.sh start)` works.
#
# Exit codes: 0 ok, 1 failure, 2 usage, 3 not running, 69 rabbitmq-server not installed,
# 75 a port is already in use (pick others and retry).
set -euo pipefail
umask 077

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
SCRIPT_PATH="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
readonly SCRIPT_DIR REPO_ROOT SCRIPT_PATH
readonly NODE_SCRIPT="$SCRIPT_DIR/private-node.sh"
readonly SIZE=3

die() {
  local code=$1
  shift
  printf 'private-cluster: %s\n' "$*" >&2
  exit "$code"
}

note() { printf 'private-cluster: %s\n' "$*" >&2; }

usage() {
  sed -n '/^# Usage:/,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p;}' "$SCRIPT_PATH" >&2
  exit 2
}

valid_port() { [[ "$1" =~ ^[0-9]+$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535)); }

# ---- arguments --------------------------------------------------------------------------------
command=${1:-}
[[ -n "$command" ]] || usage
shift
positional=()
opt_dir=${TOEX_RABBITMQ_CLUSTER_DIR:-}
opt_ports=${TOEX_RABBITMQ_CLUSTER_PORTS:-}
opt_dist=${TOEX_RABBITMQ_CLUSTER_DIST_PORTS:-}
opt_epmd=${TOEX_RABBITMQ_CLUSTER_EPMD_PORT:-}
opt_timeout=${TOEX_RABBITMQ_NODE_TIMEOUT:-120}
opt_owner=
opt_remove_dir=false
if [[ "$command" == node ]]; then
  # node N SUBCOMMAND [ARGS...]: everything after the subcommand goes to it (ctl's arguments among them).
  [[ $# -ge 2 ]] || usage
  positional=("$1" "$2")
  shift 2
fi
while (($#)); do
  case "$1" in
    --dir) opt_dir=${2:?--dir needs a value}; shift 2 ;;
    --ports) opt_ports=${2:?--ports needs a value}; shift 2 ;;
    --dist-ports) opt_dist=${2:?--dist-ports needs a value}; shift 2 ;;
    --epmd-port) opt_epmd=${2:?--epmd-port needs a value}; shift 2 ;;
    --timeout) opt_timeout=${2:?--timeout needs a value}; shift 2 ;;
    --owner-pid) opt_owner=${2:?--owner-pid needs a value}; shift 2 ;;
    --remove-dir) opt_remove_dir=true; shift ;;
    -h | --help) usage ;;
    --) shift; positional+=("$@"); break ;;
    -*) [[ "$command" == node ]] && { positional+=("$1"); shift; continue; }; die 2 "unknown option $1" ;;
    *) positional+=("$1"); shift ;;
  esac
done
[[ "$opt_timeout" =~ ^[0-9]+$ ]] || die 2 "invalid timeout '$opt_timeout'"

DIR=${opt_dir:-$REPO_ROOT/.local/rabbitmq-cluster}
if [[ "$command" == start ]]; then
  mkdir -p "$DIR"
elif [[ ! -d "$DIR" ]]; then
  case "$command" in
    status) echo "not running (no folder $DIR)"; exit 3 ;;
    stop) exit 0 ;;
    *) die 3 "no cluster has been set up in $DIR (run start first)" ;;
  esac
fi
DIR="$(cd "$DIR" && pwd)"
readonly DIR STATE_FILE="$DIR/cluster.env"

# ---- configuration: options > environment > DIR/cluster.env > defaults ------------------------
stored_ports='' stored_dist='' stored_epmd=''
if [[ -f "$STATE_FILE" ]]; then
  while IFS='=' read -r key value; do
    case "$key" in
      ports) stored_ports=$value ;;
      dist_ports) stored_dist=$value ;;
      epmd_port) stored_epmd=$value ;;
    esac
  done <"$STATE_FILE"
fi
if [[ -n "$opt_ports" && "$opt_ports" != "$stored_ports" ]]; then
  stored_dist='' stored_epmd=''
fi
IFS=',' read -r -a PORTS <<<"${opt_ports:-${stored_ports:-5691,5692,5693}}"
((${#PORTS[@]} == SIZE)) || die 2 "--ports needs $SIZE ports, comma-separated"
for port in "${PORTS[@]}"; do valid_port "$port" || die 2 "invalid AMQP port '$port'"; done
if [[ -n "${opt_dist:-$stored_dist}" ]]; then
  IFS=',' read -r -a DIST_PORTS <<<"${opt_dist:-$stored_dist}"
else
  DIST_PORTS=()
  for port in "${PORTS[@]}"; do DIST_PORTS+=($((10#$port + 20000))); done
fi
((${#DIST_PORTS[@]} == SIZE)) || die 2 "--dist-ports needs $SIZE ports, comma-separated"
for port in "${DIST_PORTS[@]}"; do valid_port "$port" || die 2 "invalid distribution port '$port' (pass --dist-ports)"; done
EPMD_PORT=${opt_epmd:-${stored_epmd:-$((10#${PORTS[0]} + 10000))}}
valid_port "$EPMD_PORT" || die 2 "invalid epmd port '$EPMD_PORT' (pass --epmd-port)"
if [[ $(printf '%s\n' "${PORTS[@]}" "${DIST_PORTS[@]}" "$EPMD_PORT" | sort -u | wc -l) -ne $((2 * SIZE + 1)) ]]; then
  die 2 "the AMQP, distribution and epmd ports must all differ"
fi
readonly PORTS DIST_PORTS EPMD_PORT

node_dir() { echo "$DIR/node-$1"; }
node_name() { echo "toex-${PORTS[$(($1 - 1))]}@localhost"; }
# Every node shares the epmd: private-node.sh neither kills it when a node starts nor calls its port in use.
node_script() { # N COMMAND [ARGS...]
  local n=$1 sub=$2
  shift 2
  TOEX_RABBITMQ_SHARED_EPMD=1 TOEX_RABBITMQ_NODE_TIMEOUT="$opt_timeout" \
    bash "$NODE_SCRIPT" "$sub" --dir "$(node_dir "$n")" --port "${PORTS[$((n - 1))]}" \
    --dist-port "${DIST_PORTS[$((n - 1))]}" --epmd-port "$EPMD_PORT" "$@"
}
node_ctl() { # N ARGS...
  local n=$1
  shift
  node_script "$n" ctl -- "$@"
}

require_installed() {
  if [[ ! -x "${TOEX_RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}/rabbitmq-server" ]] || ! command -v epmd >/dev/null 2>&1; then
    die 69 "rabbitmq-server is not installed. Install it with 'sudo apt-get install rabbitmq-server' (Debian/Ubuntu; the system service it starts is not used)."
  fi
}

prepare() {
  printf 'ports=%s\ndist_ports=%s\nepmd_port=%s\n' "$(IFS=,; echo "${PORTS[*]}")" "$(IFS=,; echo "${DIST_PORTS[*]}")" "$EPMD_PORT" >"$STATE_FILE"
  # One Erlang cookie (the nodes and rabbitmqctl read HOME/.erlang.cookie, HOME being each node's folder) and one
  # password for the `toex` user, so that each node's url names the cluster's user.
  if [[ ! -s "$DIR/.erlang.cookie" ]]; then
    LC_ALL=C tr -dc 'A-Z' </dev/urandom 2>/dev/null | head -c 32 >"$DIR/.erlang.cookie" || true
    [[ -s "$DIR/.erlang.cookie" ]] || die 1 "could not generate an Erlang cookie"
  fi
  if [[ ! -s "$DIR/password" ]]; then
    LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom 2>/dev/null | head -c 24 >"$DIR/password" || true
    [[ -s "$DIR/password" ]] || die 1 "could not generate a password"
  fi
  chmod 400 "$DIR/.erlang.cookie"
  chmod 600 "$DIR/password"
  for n in $(seq 1 $SIZE); do
    mkdir -p "$(node_dir "$n")"
    if ! cmp -s "$DIR/.erlang.cookie" "$(node_dir "$n")/.erlang.cookie"; then
      rm -f "$(node_dir "$n")/.erlang.cookie"
      cp "$DIR/.erlang.cookie" "$(node_dir "$n")/.erlang.cookie"
      chmod 400 "$(node_dir "$n")/.erlang.cookie"
    fi
    cp "$DIR/password" "$(node_dir "$n")/password"
  done
}

start_epmd() {
  # Started here, before the nodes, so that no node's VM races another to start it.
  if ! epmd -port "$EPMD_PORT" -names >/dev/null 2>&1; then
    (exec 3<>"/dev/tcp/127.0.0.1/$EPMD_PORT") 2>/dev/null && die 75 "port $EPMD_PORT is already in use on 127.0.0.1 (pass --epmd-port)"
    ERL_EPMD_ADDRESS=127.0.0.1 epmd -port "$EPMD_PORT" -daemon
  fi
}

is_member() { # N: node N's own view of the cluster names node 1
  node_ctl "$1" -q cluster_status 2>/dev/null | grep -qF "$(node_name 1)"
}

start_cluster() {
  local n started pids=() codes=() failed=0 args=(start)
  [[ -n "$opt_owner" ]] && args+=(--owner-pid "$opt_owner")
  [[ "$opt_remove_dir" == true ]] && args+=(--remove-dir)
  prepare
  start_epmd
  started=$(date +%s%N)
  note "starting $SIZE nodes in parallel in $DIR (AMQP ${PORTS[*]}, dist ${DIST_PORTS[*]}, epmd $EPMD_PORT)"
  for n in $(seq 1 $SIZE); do
    node_script "$n" "${args[@]}" >/dev/null 2>"$DIR/start-$n.err" &
    pids+=($!)
  done
  for n in $(seq 1 $SIZE); do
    if wait "${pids[$((n - 1))]}"; then codes+=(0); else codes+=($?); failed=1; fi
  done
  if ((failed)); then
    for n in $(seq 1 $SIZE); do
      ((codes[n - 1] == 0)) || { note "node $n failed (exit ${codes[$((n - 1))]}):"; cat "$DIR/start-$n.err" >&2; }
    done
    stop_cluster
    for code in "${codes[@]}"; do ((code == 75 || code == 69)) && exit "$code"; done
    die 1 "the cluster did not start"
  fi
  rm -f "$DIR"/start-*.err
  note "nodes ready in $((($(date +%s%N) - started) / 1000000)) ms"
  for n in $(seq 2 $SIZE); do
    if is_member "$n"; then
      continue
    fi
    note "$(node_name "$n") joins $(node_name 1)"
    node_ctl "$n" -q stop_app >/dev/null
    node_ctl "$n" -q join_cluster "$(node_name 1)" >/dev/null
    node_ctl "$n" -q start_app >/dev/null
  done
  note "cluster of $SIZE ready in $((($(date +%s%N) - started) / 1000000)) ms"
  node_script 1 url
}

stop_cluster() {
  local n pids=() args=(stop)
  [[ "$opt_remove_dir" == true ]] && args+=(--remove-dir)
  for n in $(seq 1 $SIZE); do
    [[ -d "$(node_dir "$n")" ]] || continue
    node_script "$n" "${args[@]}" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true
}

node_command() {
  local n=${positional[0]} sub=${positional[1]}
  [[ "$n" =~ ^[1-9][0-9]*$ ]] && ((n <= SIZE)) || die 2 "no node '$n' (1-$SIZE)"
  [[ -d "$(node_dir "$n")" ]] || die 3 "node $n has not been set up in $DIR (run start first)"
  case "$sub" in
    start)
      start_epmd
      local args=(start)
      [[ -n "$opt_owner" ]] && args+=(--owner-pid "$opt_owner")
      [[ "$opt_remove_dir" == true ]] && args+=(--remove-dir)
      node_script "$n" "${args[@]}" >/dev/null
      ;;
    stop) node_script "$n" stop ;;
    status) node_script "$n" status ;;
    kill)
      # What a crash or an OOM kill does: no clean shutdown; the watcher and the folder stay.
      local pid
      pid=$(node_script "$n" status 2>/dev/null | sed -n 's/.* pid \([0-9]*\),.*/\1/p') || true
      [[ -n "$pid" ]] || die 3 "node $n is not running"
      kill -KILL "$pid"
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
      note "killed $(node_name "$n") (pid $pid)"
      ;;
    ctl) node_ctl "$n" "${positional[@]:2}" ;;
    url | add-vhost | delete-vhost | add-user | service-url) node_script "$n" "$sub" "${positional[@]:2}" ;;
    *) usage ;;
  esac
}

case "$command" in
  start) require_installed; start_cluster ;;
  stop)
    stop_cluster
    if [[ "$opt_remove_dir" == true ]]; then
      cd /
      rm -rf "$DIR"
    fi
    ;;
  status)
    code=0
    for n in $(seq 1 $SIZE); do node_script "$n" status || code=3; done
    ((code == 0)) && node_ctl 1 -q cluster_status 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' | sed -n '/^Running Nodes/,/^Versions/p' | grep '@' | paste -sd' ' | sed 's/^/cluster: running nodes /'
    exit "$code"
    ;;
  url) node_script 1 url ;;
  nodes) for port in "${PORTS[@]}"; do echo "127.0.0.1:$port"; done ;;
  service-users) node_script 1 service-users ;;
  service-url)
    ((${#positional[@]} == 1)) || usage
    node_script 1 service-url "${positional[0]}"
    ;;
  node) node_command ;;
  *) usage ;;
esac
