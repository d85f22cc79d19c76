#!/usr/bin/env bash
# Checks that the committed zoos' TA, TIES and EMR (+ the first task materialised) merges keep their bytes: merges
# data/zoo/{vision,text}/recipes/{task_arithmetic,ties,emr}.yaml with two CLIs, natively and with AVX-512 off
# (DOTNET_EnableAVX512=0), into the same output directory (the output path is part of the safetensors metadata) and
# compares SHA-256 digests: BEFORE native, BEFORE avx2, AFTER native and AFTER avx2 must all agree.
#
#   bench/merge/same_bytes_zoo.sh BEFORE_CLI.dll AFTER_CLI.dll
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
before=$1; after=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
digests() {  # CLI ENV... : merges every recipe into $out and prints the digests of what it wrote
  local cli=$1; shift
  for zoo in vision text; do
    for m in task_arithmetic ties emr; do
      local extra=(); [[ $m == emr ]] && extra=(--materialize "$(sed -n 's/.*{ *name: *\([^,]*\),.*/\1/p' "$REPO/data/zoo/$zoo/recipes/$m.yaml" | head -1)")
      rm -rf "${out:?}/$zoo-$m"
      env "$@" dotnet "$cli" merge "$REPO/data/zoo/$zoo/recipes/$m.yaml" --force "${extra[@]}" -o "$out/$zoo-$m" >/dev/null 2>&1 \
        || { echo "$zoo $m: merge failed ($cli)" >&2; return 1; }
      (cd "$out/$zoo-$m" && find . -name '*.safetensors' | sort | xargs sha256sum | sed "s|^|$zoo-$m |")
    done
  done
}
ref=$(digests "$before" BENCH=1)
echo "$(echo "$ref" | wc -l) files from the BEFORE CLI, native"
status=0
for run in "$before avx2" "$after native" "$after avx2"; do
  read -r cli isa <<<"$run"
  envs=(BENCH=1); [[ $isa == avx2 ]] && envs=(DOTNET_EnableAVX512=0)
  got=$(digests "$cli" "${envs[@]}")
  if [[ "$got" == "$ref" ]]; then echo "$cli $isa: identical bytes"; else echo "$cli $isa: OUTPUTS DIFFER"; diff <(echo "$ref") <(echo "$got") || true; status=1; fi
done
exit $status
