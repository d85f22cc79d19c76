#!/usr/bin/env bash
# Checks that a change leaves the merge outputs of the benchmark recipes (TA, TIES, EMR + task0) byte-identical: runs
# the recipes of bench/out/family<N> with two published CLIs, once natively and once with AVX-512 off, into the same
# output directory (the recipe and output path are part of the safetensors metadata), and compares SHA-256 digests.
#
#   bench/merge/same_bytes.sh BEFORE_CLI.dll AFTER_CLI.dll [MODELS=8] [WORKDIR=bench/out]
#
# BEFORE_CLI: e.g. `git archive main | tar -x -C /tmp/main && dotnet publish /tmp/main/src/MLNetMerge.Cli -c Release
# -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o /tmp/main_cli`.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
before=$1; after=$2; models=${3:-8}; work=${4:-$HERE/../out}
family=$work/family$models
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() {  # CLI ENV... : merges ta, ties and emr into $out and prints their digests
  local cli=$1; shift
  for m in ta ties emr; do
    local extra=(); [[ $m == emr ]] && extra=(--materialize task0)
    env "$@" dotnet "$cli" merge "$family/recipes/$m.yaml" --force "${extra[@]}" -o "$out/$m" >/dev/null 2>&1
    (cd "$out/$m" && find . -name '*.safetensors' | sort | xargs sha256sum | sed "s|^|$m |")
  done
}
status=0
for isa in native avx2; do
  envs=(BENCH=1); [[ $isa == avx2 ]] && envs=(DOTNET_EnableAVX512=0)
  b=$(run "$before" "${envs[@]}"); a=$(run "$after" "${envs[@]}")
  if [[ "$b" == "$a" ]]; then echo "$isa: identical bytes ($(echo "$a" | wc -l) files)"; else echo "$isa: OUTPUTS DIFFER"; diff <(echo "$b") <(echo "$a") || true; status=1; fi
done
exit $status
