#!/usr/bin/env bash
# Fuzzes one target (package | opener | webhook), or all, with AFL++ for SECONDS each (SharpFuzz, persistent mode), from
# the checked-in seed corpus (corpus/TARGET). Fails if AFL records a crash (an exception other than the target's
# documented refusal) or a hang, or did not run. Crashes are copied to crashes/TARGET/ (replayed by
# TOEX.Sharing.Fuzz.Tests once committed) and printed with their exception.
#   tests/TOEX.Sharing.Fuzz/run.sh all 50          # CI: 50 s per target
#   tests/TOEX.Sharing.Fuzz/run.sh package 3600    # by hand: an hour on the package parser
# Needs Debian's afl++ (.ci/run installs it) and the local dotnet tool SharpFuzz.CommandLine (.config/dotnet-tools.json).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${1:?usage: run.sh package|opener|webhook|all SECONDS}
seconds=${2:?usage: run.sh package|opener|webhook|all SECONDS}
work=${TOEX_FUZZ_WORK:-$root/.local/fuzz}

command -v afl-fuzz >/dev/null 2>&1 || { echo "afl-fuzz is not installed (Debian package afl++; .ci/run installs it)" >&2; exit 1; }

# Built apart from the solution's output: instrumentation rewrites the assemblies in place.
build=$work/build
rm -rf "$build" "$work/plain"
mkdir -p "$work"
(cd "$root" && dotnet tool restore >/dev/null)
dotnet build "$here/TOEX.Sharing.Fuzz.csproj" -c Release -o "$build" -nologo -v quiet >/dev/null
# An uninstrumented copy prints a crash's exception (instrumented code needs AFL's coverage map attached).
cp -r "$build" "$work/plain"
# Only the code under test: the gateway's body reader and validator, the contracts, and the sealing library.
(cd "$root" && dotnet sharpfuzz "$build/TOEX.Sharing.Gateway.dll" TOEX.Sharing.Gateway.Apis.JsonBody TOEX.Sharing.Gateway.Validation)
(cd "$root" && dotnet sharpfuzz "$build/TOEX.Sharing.Contracts.dll")
(cd "$root" && dotnet sharpfuzz "$build/TOEX.Sharing.Sealing.dll")

# dotnet itself is not an instrumented binary (the coverage map is filled by SharpFuzz's instrumented IL); this
# machine's cores are shared (no pinning); a core_pattern piping to a handler cannot be changed without root and
# does not matter here (a .NET crash is an exception reported by SharpFuzz, not a core dump); no UI on CI.
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_TieredPGO=0

failed=0
fuzz() { # target
  local name=$1 findings=$work/findings-$1 crashes hangs stats
  rm -rf "$findings"
  echo "==> afl-fuzz $name for ${seconds}s (seeds: $(find "$here/corpus/$name" -type f | wc -l))"
  # -t: the first execution starts the runtime; -m none: the CLR reserves far more address space than AFL's default.
  afl-fuzz -i "$here/corpus/$name" -o "$findings" -V "$seconds" -t 10000 -m none -- dotnet "$build/TOEX.Sharing.Fuzz.dll" "$name" \
    >"$work/afl-$name.log" 2>&1 || { tail -n 40 "$work/afl-$name.log"; echo "afl-fuzz $name failed to run" >&2; failed=1; return; }
  stats=$findings/default/fuzzer_stats
  [[ -f $stats ]] || { tail -n 40 "$work/afl-$name.log"; echo "afl-fuzz $name wrote no statistics" >&2; failed=1; return; }
  crashes=$(find "$findings/default/crashes" -type f -name 'id:*' | wc -l)
  hangs=$(find "$findings/default/hangs" -type f -name 'id:*' | wc -l)
  printf '%s: %s executions, %s paths, %s per second, stability %s, crashes %s, hangs %s\n' "$name" \
    "$(awk '/^execs_done/ {print $3}' "$stats")" "$(awk '/^corpus_count|^paths_total/ {print $3}' "$stats")" \
    "$(awk '/^execs_per_sec/ {print $3}' "$stats")" "$(awk '/^stability/ {print $3}' "$stats")" "$crashes" "$hangs"
  if [[ "$(awk '/^execs_done/ {print $3}' "$stats")" -le 0 ]]; then
    echo "afl-fuzz $name executed nothing" >&2
    failed=1
  fi
  if ((crashes > 0 || hangs > 0)); then
    mkdir -p "$here/crashes/$name"
    local file
    for file in "$findings"/default/crashes/id:* "$findings"/default/hangs/id:*; do
      [[ -f $file ]] || continue
      local copy=$here/crashes/$name/$(sha1sum "$file" | cut -c1-16)
      cp "$file" "$copy"
      echo "--- $copy"
      dotnet "$work/plain/TOEX.Sharing.Fuzz.dll" "$name" "$copy" 2>&1 | head -n 20 || true
    done
    failed=1
  fi
}

if [[ $target == all ]]; then
  for name in package opener webhook; do fuzz "$name"; done
else
  fuzz "$target"
fi
exit "$failed"
