#!/usr/bin/env bash
# The fuzz campaign (tools/fuzz/README.md): builds the harness, instruments MLNetMerge.dll with SharpFuzz, and runs
# afl-fuzz on one target for a fixed time, seeded with the test fixtures and the committed corpus. Then it minimises the
# queue into the committed corpus (tests/MLNetMerge.Tests/Fixtures/fuzz/TARGET) and copies crashers to
# tests/MLNetMerge.Tests/Fixtures/fuzz/crashes/TARGET, which the tests replay (FuzzCorpusTests).
#   bash tools/fuzz/run.sh TARGET [SECONDS]     TARGET: safetensors | pytorch | onnx | npy | recipe; default 180 s
# Needs afl++ (tools/ci-deps.sh fuzz). Uses one core.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${1:?target: safetensors, pytorch, onnx, npy or recipe}
seconds=${2:-180}
fixtures=tests/MLNetMerge.Tests/Fixtures
corpus=$fixtures/fuzz/$target
crashes=$fixtures/fuzz/crashes/$target
work=tools/fuzz/work/$target
bin=tools/fuzz/bin

# FUZZ_REUSE_BIN=1 reuses the instrumented harness of an earlier run (several targets in a row, sources unchanged).
if [ -z "${FUZZ_REUSE_BIN:-}" ] || [ ! -f "$bin/MLNetMerge.Fuzz.dll" ]; then
  dotnet build tools/fuzz/MLNetMerge.Fuzz -c Release -o "$bin" -v q -nologo
  (cd tools/fuzz && dotnet tool restore >/dev/null && dotnet sharpfuzz "../../$bin/MLNetMerge.dll")
fi

rm -rf "$work" && mkdir -p "$work/seeds" "$corpus" "$crashes"
case $target in
  safetensors) cp $fixtures/onnx/*.safetensors $fixtures/engine/mlp.safetensors "$work/seeds/" ;;
  pytorch) cp $fixtures/torch/*.pt "$work/seeds/" ;;
  onnx) cp $fixtures/onnx/*.onnx "$work/seeds/" ;;
  npy) cp $fixtures/npy/*.npy "$work/seeds/" ;;
  recipe) # the zoos' recipes share file names: keep each under its zoo's name
    for f in data/zoo/*/recipes/*.yaml data/zoo/*/recipes/*/*.yaml; do
      [ -f "$f" ] && cp "$f" "$work/seeds/$(echo "${f#data/zoo/}" | tr / _)"
    done ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
# Seeds above 64 KiB slow AFL down without adding paths.
find "$work/seeds" -type f -size +64k -delete
cp "$corpus"/* "$work/seeds/" 2>/dev/null || true

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
harness=("$(command -v dotnet)" "$bin/MLNetMerge.Fuzz.dll" "$target")
timeout --signal=INT "$seconds" afl-fuzz -i "$work/seeds" -o "$work/findings" -t 10000 -m none -- "${harness[@]}" > "$work/afl.log" 2>&1 || true
stats=$work/findings/default/fuzzer_stats
if [ -f "$stats" ]; then
  grep -E "^(execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|run_time)" "$stats"
else
  tail -20 "$work/afl.log"; exit 1
fi
# Keep the queue, minimised to the inputs that reach distinct coverage, as the committed corpus.
rm -rf "$work/min"
AFL_SKIP_BIN_CHECK=1 afl-cmin -i "$work/findings/default/queue" -o "$work/min" -t 10000 -m none -- "${harness[@]}" > "$work/cmin.log" 2>&1 || cp -r "$work/findings/default/queue" "$work/min"
find "$work/min" -type f -size +16k -delete
# The old corpus was among the seeds, so what it covers is in the minimised set: replace it.
rm -f "$corpus"/*
for f in "$work/min"/*; do [ -f "$f" ] && cp "$f" "$corpus/$(sha256sum "$f" | cut -c1-16)"; done
for f in "$work/findings/default/crashes"/id:*; do [ -f "$f" ] && cp "$f" "$crashes/$(sha256sum "$f" | cut -c1-16)"; done
echo "corpus: $(ls "$corpus" | wc -l) files in $corpus; crashers: $(ls "$crashes" | wc -l) in $crashes"
