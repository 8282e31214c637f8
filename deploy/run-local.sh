#!/usr/bin/env bash
# Runs TOEX.Sharing locally: RabbitMQ (a private node of the installed rabbitmq-server under .local/,
# unless TOEX_RABBITMQ_URL names a broker), the gateway, PolicyDecision and the audit worker, a sample
# pull partner (nca) that polls its feed, and a sample push receiver (wmp, staffs, bcc-childrens,
# safe-haven) that verifies each webhook, opens it and acknowledges. Prints the URLs, then shows a ready
# example: submits deploy/samples, shows what was pushed, reads a feed, recalls a package.
# The services export traces, metrics and logs by OTLP to a local Aspire dashboard (one trace per package, from the
# HTTP request through decision, release, delivery and the ledger), whose login URL is printed.
# Ctrl-C stops everything (the private broker too, unless --keep-broker). With --cluster the broker is a private
# three-node RabbitMQ cluster under .local/rabbitmq-cluster (deploy/rabbitmq/private-cluster.sh, quorum queues on all
# three nodes) and the services are given all three nodes (RabbitMq:Nodes): stop one and they carry on.
#
# Usage: deploy/run-local.sh [--no-example] [--keep-broker] [--no-dashboard] [--cluster]
#   TOEX_GATEWAY_PORT (5080), TOEX_AUDIT_PORT (5081), TOEX_POLICY_DECISION_PORT (5082, its health only), TOEX_RECEIVER_PORT (5090), TOEX_RABBITMQ_NODE_PORT (5679),
#   TOEX_DASHBOARD_PORT (18888), TOEX_OTLP_PORT (18890), TOEX_RABBITMQ_CLUSTER_PORTS (5691,5692,5693) choose ports. With OTEL_EXPORTER_OTLP_ENDPOINT already set,
#   the services export there instead.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$root/.local"
logs="$state/logs"
gateway_port="${TOEX_GATEWAY_PORT:-5080}"
audit_port="${TOEX_AUDIT_PORT:-5081}"
policy_decision_port="${TOEX_POLICY_DECISION_PORT:-5082}"
receiver_port="${TOEX_RECEIVER_PORT:-5090}"
push_partners=(wmp staffs bcc-childrens safe-haven)
example=1
keep_broker=0
dashboard=1
cluster=0
dashboard_port="${TOEX_DASHBOARD_PORT:-18888}"
otlp_port="${TOEX_OTLP_PORT:-18890}"
for arg in "$@"; do
  case "$arg" in
    --no-example) example=0 ;;
    --keep-broker) keep_broker=1 ;;
    --no-dashboard) dashboard=0 ;;
    --cluster) cluster=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "run-local: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
mkdir -p "$logs"
for tool in dotnet curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "run-local: '$tool' is not installed (Debian: sudo apt-get install $tool; the .NET 10 SDK from Microsoft)." >&2; exit 1; }
done

say "Building"
dotnet build "$root/TOEX.Sharing.sln" -c Debug -v quiet -nologo >"$logs/build.log" 2>&1 \
  || { tail -40 "$logs/build.log"; echo "run-local: build failed (full log: $logs/build.log)" >&2; exit 1; }
bin() { echo "$root/services/$1/bin/Debug/net10.0/$1.dll"; }
toex() { dotnet "$root/services/TOEX.Sharing.Cli/bin/Debug/net10.0/toex.dll" "$@"; }

pids=()
broker_started=0
cleanup() {
  trap - EXIT INT TERM
  say "Stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ $broker_started == 1 && $keep_broker == 0 ]]; then
    "$root/deploy/rabbitmq/$broker_script" stop --dir "$state/$broker_dir" || true
  fi
}
trap cleanup EXIT INT TERM

broker_script=private-node.sh broker_dir=rabbitmq broker_what="a private RabbitMQ node" broker_label="private node"
if [[ $cluster == 1 ]]; then
  [[ -z "${TOEX_RABBITMQ_URL:-}" ]] || { echo "run-local: --cluster starts its own cluster; unset TOEX_RABBITMQ_URL." >&2; exit 2; }
  broker_script=private-cluster.sh broker_dir=rabbitmq-cluster broker_what="a private three-node RabbitMQ cluster" broker_label="private cluster of three nodes"
fi
if [[ -n "${TOEX_RABBITMQ_URL:-}" ]]; then
  say "Using the broker at TOEX_RABBITMQ_URL"
  broker_url="$TOEX_RABBITMQ_URL"
else
  say "Starting $broker_what under .local/$broker_dir"
  broker_url="$("$root/deploy/rabbitmq/$broker_script" start --dir "$state/$broker_dir")" || {
    echo "run-local: no RabbitMQ. Install Debian's package (sudo apt-get install rabbitmq-server) or set TOEX_RABBITMQ_URL=amqp://user:pass@host:5672/vhost." >&2
    exit 1
  }
  broker_started=1
  # Each service connects as its own user, confined to its own queues and exchanges (deploy/rabbitmq/definitions.json).
  "$root/deploy/rabbitmq/$broker_script" service-users --dir "$state/$broker_dir"
  # The gateway's referral-preview queue was a classic queue (on one node) before it became a quorum queue: a broker
  # state of before that is given it again (it holds only requests of officers' pages, each answered or timed out).
  if [[ $cluster == 1 ]]; then broker_ctl=("$root/deploy/rabbitmq/private-cluster.sh" node 1 ctl); else broker_ctl=("$root/deploy/rabbitmq/private-node.sh" ctl); fi
  if "${broker_ctl[@]}" --dir "$state/$broker_dir" -- -q list_queues -p toex name type 2>/dev/null | grep -qE '^gateway-referral-preview[[:space:]]+classic$'; then
    "${broker_ctl[@]}" --dir "$state/$broker_dir" -- -q delete_queue -p toex gateway-referral-preview >/dev/null
  fi
fi
if [[ $cluster == 1 ]]; then
  # The services connect to node 1 (RabbitMq:Url) and fail over to the others (RabbitMq:Nodes).
  i=0
  for node in $("$root/deploy/rabbitmq/private-cluster.sh" nodes --dir "$state/$broker_dir" | tail -n +2); do
    export "RabbitMq__Nodes__$i=$node"
    i=$((i + 1))
  done
fi
service_url() { # service
  if [[ -n "${TOEX_RABBITMQ_URL:-}" ]]; then echo "$TOEX_RABBITMQ_URL"; else "$root/deploy/rabbitmq/$broker_script" service-url "$1" --dir "$state/$broker_dir"; fi
}

dashboard_url=""
if [[ -n "${OTEL_EXPORTER_OTLP_ENDPOINT:-}" ]]; then
  say "Telemetry goes to OTEL_EXPORTER_OTLP_ENDPOINT ($OTEL_EXPORTER_OTLP_ENDPOINT)"
elif [[ $dashboard == 1 ]]; then
  say "Starting the trace dashboard (Aspire dashboard, standalone)"
  # Fetched from NuGet by restoring deploy/dashboard (a self-contained linux-x64 executable in the package's tools/).
  dashboard_bin=""
  if dotnet restore "$root/deploy/dashboard/Dashboard.csproj" -v quiet -nologo >"$logs/dashboard-restore.log" 2>&1; then
    packages="$(dotnet nuget locals global-packages -l | sed -E 's/^global-packages: *//')"
    dashboard_bin="${packages%/}/aspire.dashboard.sdk.linux-x64/13.6.5/tools/Aspire.Dashboard"
  fi
  if [[ -x "$dashboard_bin" && "$(uname -m)" == x86_64 ]]; then
    # Loopback only; the browser signs in with the one-time link the dashboard prints; the services need an API key.
    otlp_key="$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32 || true)"
    ASPNETCORE_URLS="http://127.0.0.1:$dashboard_port" ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL="http://127.0.0.1:$otlp_port" \
      Dashboard__Otlp__AuthMode=ApiKey Dashboard__Otlp__PrimaryApiKey="$otlp_key" \
      "$dashboard_bin" >"$logs/dashboard.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 120); do grep -q "Login URL" "$logs/dashboard.log" 2>/dev/null && break; sleep 0.5; done
    dashboard_url="$(sed -n 's/.*Login URL: *//p' "$logs/dashboard.log" | head -n 1)"
    if [[ -n "$dashboard_url" ]]; then
      export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$otlp_port" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
        OTEL_EXPORTER_OTLP_HEADERS="x-otlp-api-key=$otlp_key"
    else
      echo "run-local: the dashboard did not start (see $logs/dashboard.log); going on without it" >&2
    fi
  else
    echo "run-local: no Aspire dashboard for this machine (linux-x64 only; see $logs/dashboard-restore.log); going on without it" >&2
  fi
fi

say "Keys (development only, in .local/keys)"
partners=(rocu-wm wmp staffs nca border-force-mids bcc-childrens bsol-nhs-safeguarding safe-haven)
for partner in "${partners[@]}"; do
  [[ -f "$state/keys/partners/$partner.jwks.json" ]] || toex keys generate --out "$state/keys/partners" --name "$partner" >/dev/null
done
# The push partners' endpoints, for this run: the sample receiver, registered as local development
# endpoints in the partner registry (never in the policy set; refused in Production).
for partner in "${push_partners[@]}"; do
  printf '{"endpoint":"http://127.0.0.1:%s/hooks/%s","localDevelopment":true}\n' "$receiver_port" "$partner" \
    >"$state/keys/partners/$partner.webhook.json"
done

export DOTNET_ENVIRONMENT=Development ASPNETCORE_ENVIRONMENT=Development
# rocu-wm runs the broker in the reference region: it answers for the whole ledger and may export it.
export Audit__Custodians__0=rocu-wm
# The IG console (served by the audit service): plain HTTP on loopback here, so its cookies are not marked Secure
# (refused in Production); operator retries go to the local gateway with the officer's own token.
export Console__RequireHttps=false Console__GatewayUrl="http://127.0.0.1:$gateway_port"
# The ROCU runs the region's broker: its callers alone keep an operator role (Deliveries.Operate).
export Operations__Organisations__0=rocu-wm

start() { # name dll url-or-empty
  local name=$1 dll=$2 url=${3:-}
  # The content root is the service's own folder, so its appsettings.json (log levels among them) applies; the
  # working directory stays the repository's (the .local/ paths are found from there).
  RabbitMq__Url="$(service_url "$name")" ASPNETCORE_URLS="$url" DOTNET_CONTENTROOT="$(dirname "$dll")" \
    dotnet "$dll" >"$logs/$name.log" 2>&1 &
  pids+=($!)
}
wait_ready() { # name url
  local name=$1 url=$2
  for _ in $(seq 1 120); do
    if curl -fsS "$url" 2>/dev/null | grep -q '"Healthy"'; then return 0; fi
    sleep 0.5
  done
  echo "run-local: $name did not become ready; last lines of $logs/$name.log:" >&2
  tail -30 "$logs/$name.log" >&2
  exit 1
}

say "Starting PolicyDecision, the audit worker and the gateway"
start policy-decision "$(bin TOEX.Sharing.PolicyDecision)" "http://127.0.0.1:$policy_decision_port"
wait_ready policy-decision "http://127.0.0.1:$policy_decision_port/health"
start audit "$(bin TOEX.Sharing.Audit)" "http://127.0.0.1:$audit_port"
start gateway "$(bin TOEX.Sharing.Gateway)" "http://127.0.0.1:$gateway_port"
wait_ready audit "http://127.0.0.1:$audit_port/health"
wait_ready gateway "http://127.0.0.1:$gateway_port/health"

gateway="http://127.0.0.1:$gateway_port"
audit="http://127.0.0.1:$audit_port"

say "Starting the sample partners (nca on its pull feed; a webhook receiver for ${push_partners[*]})"
"$root/deploy/sample-partner.sh" --gateway "$gateway" --partner nca >"$logs/sample-partner.log" 2>&1 &
pids+=($!)
"$root/deploy/sample-receiver.sh" --gateway "$gateway" --port "$receiver_port" "${push_partners[@]}" >"$logs/sample-receiver.log" 2>&1 &
pids+=($!)

cat <<MSG

  Gateway        $gateway   (API: /api/v1/..., keys: /.well-known/jwks.json, health: /health)
  Audit          $audit   (API: /api/v1/audit/entries)
  RabbitMQ       ${broker_url%%@*}@…  ($broker_label: .local/$broker_dir; services connect as their own users)
  Logs           $logs
  Traces         ${dashboard_url:-${OTEL_EXPORTER_OTLP_ENDPOINT:-(no dashboard: --no-dashboard, or it could not start)}}
  Sample partner nca (pull): what it reads is opened into $logs/sample-partner.log
  Sample receiver http://127.0.0.1:$receiver_port/hooks/PARTNER (push): what it verifies and opens is in $logs/sample-receiver.log

  A token:  dotnet services/TOEX.Sharing.Cli/bin/Debug/net10.0/toex.dll token dev --org rocu-wm --roles Packages.Submit

  IG console $audit/   Sign in with "Development sign-in" (Development only): organisation rocu-wm (the ledger's
                 custodian), any user id, roles Audit.Read, Disclosures.Approve, Policies.Read (and Deliveries.Operate
                 for operator retries). An identity provider of Authentication:Issuers is offered as a button once
                 Console:Issuers names the console's client there (README, "The IG console").

MSG

if [[ $example == 1 ]]; then
  say "Example: rocu-wm submits the sample packages"
  submit_token="$(toex token dev --org rocu-wm --roles Packages.Submit)"
  ids=()
  for file in "$root"/deploy/samples/*.json; do
    answer="$(curl -fsS -X POST "$gateway/api/v1/packages" -H "Authorization: Bearer $submit_token" \
      -H 'Content-Type: application/json' --data-binary @"$file")"
    id="$(sed -E 's/.*"id":"([^"]+)".*/\1/' <<<"$answer")"
    ids+=("$id")
    echo "  $(basename "$file") -> $answer"
  done
  for id in "${ids[@]}"; do
    for _ in $(seq 1 60); do
      status="$(curl -fsS "$gateway/api/v1/packages/$id" -H "Authorization: Bearer $submit_token")"
      grep -q '"status":"submitted"' <<<"$status" || break
      sleep 0.5
    done
    echo "  $id: $(grep -oE '"partner":"[^"]+","outcome":"[^"]+"' <<<"$status" | sed -E 's/"partner":"([^"]+)","outcome":"([^"]+)"/\1=\2/' | paste -sd' ')"
  done

  say "Example: safe-haven reads its feed and opens what it was sent (the ledger records the read as safe-haven/$(id -un))"
  echo "  \$ toex feed pull --gateway $gateway --dev-org safe-haven --key .local/keys/partners/safe-haven.private.jwk"
  toex feed pull --gateway "$gateway" --dev-org safe-haven --key "$state/keys/partners/safe-haven.private.jwk" 2>&1 | sed 's/^/  /'
  echo "  (nca, the sample pull partner, is opening and acknowledging its own copies in $logs/sample-partner.log)"

  say "Example: the push partners' receiver verified, opened and acknowledged (from $logs/sample-receiver.log)"
  for _ in $(seq 1 60); do
    [[ $(grep -c '^--- .*: webhook ' "$logs/sample-receiver.log" 2>/dev/null || true) -ge 4 ]] && break
    sleep 0.5
  done
  grep '^--- ' "$logs/sample-receiver.log" | sed 's/^/  /' || true

  say "Example: rocu-wm recalls ROCUWM-2026-000124 (released to wmp and staffs by push, to nca on its feed)"
  recall_id="${ids[1]}"
  recall="$(curl -fsS -X POST "$gateway/api/v1/packages/$recall_id/recall" -H "Authorization: Bearer $submit_token" \
    -H 'Content-Type: application/json' --data '{"reason":"The source withdrew the report."}')"
  echo "  $recall"
  # What happened to each recipient is the answer's to say: who had the package decides who gets a notice.
  listed() { sed -nE "s/.*\"$1\":\[([^]]*)\].*/\1/p" <<<"$recall" | tr -d '"' | tr ',' ' '; }
  notified=($(listed notified)); withdrawn=($(listed withdrawn)); pending=($(listed pending))
  for partner in "${notified[@]}"; do
    if [[ " ${push_partners[*]} " == *" $partner "* ]]; then
      echo "  $partner had it (its endpoint accepted the push): a signed, sealed recall notice is pushed to it"
    else
      echo "  $partner had it (a read of its feed returned it): a signed, sealed recall notice is put on its feed"
    fi
  done
  for partner in "${withdrawn[@]}"; do
    echo "  $partner had not received it yet: withdrawn (its copy is never served; its status shows delivery.state withdrawn)"
  done
  for partner in "${pending[@]}"; do
    echo "  $partner's push was under way: notified if the endpoint accepts it, withdrawn if not"
  done
  # Each notified partner's sample opens its notice and acknowledges it.
  for _ in $(seq 1 60); do
    acknowledged=$(cat "$logs/sample-receiver.log" "$logs/sample-partner.log" 2>/dev/null | grep -c "acknowledged the recall of $recall_id" || true)
    [[ $acknowledged -ge ${#notified[@]} ]] && break
    sleep 0.5
  done
  grep -h "acknowledged the recall of $recall_id" "$logs/sample-receiver.log" | sed 's/^/  /' || true
  grep -h "acknowledged the recall of $recall_id" "$logs/sample-partner.log" | sed 's/^--- /--- nca: /; s/^/  /' || true

  say "Example: the audit ledger's entries about ROCUWM-2026-000124 (index, type, recipient, who)"
  audit_token="$(toex token dev --org rocu-wm --roles Audit.Read)"
  entries="$(curl -fsS "$audit/api/v1/audit/entries?reference=ROCUWM-2026-000124&limit=1000" -H "Authorization: Bearer $audit_token" \
    | sed 's/{"index":/\n{"index":/g; s/"partner":null/"partner":"-"/g' | grep '^{"index"' \
    | sed -E 's/^\{"index":([0-9]+),"type":"([^"]*)",.*"actor":"([^"]*)".*"partner":"([^"]*)".*/\1\t\2\t\4\t\3/')"
  grep -v $'\tconsultation\t' <<<"$entries" \
    | while IFS=$'\t' read -r index type partner actor; do printf '  %4s  %-24s %-14s %s\n' "$index" "$type" "$partner" "$actor"; done
  echo "  and $(grep -c $'\tconsultation\t' <<<"$entries" || true) consultations of it (each status read by rocu-wm, each item a feed read returned)"
  echo "  (GET $audit/api/v1/audit/entries?reference=ROCUWM-2026-000124: docs/api.md says what each field and type means)"
fi

say "Running. Ctrl-C to stop."
wait
