#!/usr/bin/env bash
# A sample partner on a pull feed: polls its feed, verifies and decrypts each package with its private
# key (.local/keys/partners/PARTNER.private.jwk) against the broker's published keys, prints it, and
# acknowledges the packages whose handling conditions require it. Uses a development-issuer token whose subject is
# PARTNER-sample-partner, so the audit ledger records its reads and acknowledgements as PARTNER/PARTNER-sample-partner.
#
# Usage: deploy/sample-partner.sh [--gateway URL] [--partner ID]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
gateway="http://127.0.0.1:${TOEX_GATEWAY_PORT:-5080}"
partner=bcc-childrens
while [[ $# -gt 0 ]]; do
  case "$1" in
    --gateway) gateway=$2; shift 2 ;;
    --partner) partner=$2; shift 2 ;;
    *) echo "sample-partner: unknown option $1" >&2; exit 2 ;;
  esac
done
exec dotnet "$root/services/TOEX.Sharing.Cli/bin/Debug/net10.0/toex.dll" feed pull --gateway "$gateway" \
  --dev-org "$partner" --subject "$partner-sample-partner" --key "$root/.local/keys/partners/$partner.private.jwk" --follow --ack
