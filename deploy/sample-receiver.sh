#!/usr/bin/env bash
# A sample push partner: a webhook receiver (toex webhook listen) for the given partners, each at
# http://127.0.0.1:PORT/hooks/PARTNER. It verifies each delivery's Standard Webhooks signature against the
# broker's published webhook key, opens the sealed package or recall notice with the partner's private key
# (.local/keys/partners/PARTNER.private.jwk), prints it, and acknowledges in its answer what the conditions
# require and every recall notice.
#
# Usage: deploy/sample-receiver.sh [--gateway URL] [--port PORT] PARTNER...
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
gateway="http://127.0.0.1:${TOEX_GATEWAY_PORT:-5080}"
port="${TOEX_RECEIVER_PORT:-5090}"
partners=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --gateway) gateway=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    -*) echo "sample-receiver: unknown option $1" >&2; exit 2 ;;
    *) partners+=(--partner "$1"); shift ;;
  esac
done
[[ ${#partners[@]} -gt 0 ]] || { echo "sample-receiver: name at least one partner" >&2; exit 2; }
exec dotnet "$root/services/TOEX.Sharing.Cli/bin/Debug/net10.0/toex.dll" webhook listen --gateway "$gateway" --port "$port" \
  --keys "$root/.local/keys/partners" --ack "${partners[@]}"
