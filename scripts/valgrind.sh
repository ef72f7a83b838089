#!/usr/bin/env bash
# Run every cmocka unit test executable, then one short `sinkd serve` smoke
# run (dig, HTTP check-in, TLS check-in, SIGTERM), under valgrind memcheck.
# Fails on any memory error and on any definite or indirect leak; "still
# reachable" and "possibly lost" are reported but do not fail (libraries
# keep process-lifetime caches). Third-party noise is suppressed by
# tests/valgrind.supp, each entry with its reason.
#   scripts/valgrind.sh [BUILD_DIR]      (default build/, a release build)
# Logs: BUILD_DIR/valgrind/<name>.log. Ends with "valgrind: N passed, N failed".
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
JOBS=${JOBS:-$(nproc)}
OUT=$BUILD/valgrind
rm -rf "$OUT" && mkdir -p "$OUT" "$BUILD/tmp"
VG=(valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1
    --show-leak-kinds=definite,indirect --num-callers=30
    --suppressions="$ROOT/tests/valgrind.supp" --gen-suppressions=all)
export SINKD_DATA_DIR=${SINKD_DATA_DIR:-$ROOT/data}
export SINKD_TEST_TMP=$BUILD/tmp
t0=$(date +%s)

run_one() {   # name: run BUILD/name under valgrind, print "ok name" or "FAIL name"
	local name=$1 s=$(date +%s)
	if (cd "$BUILD" && "${VG[@]}" --log-file="$OUT/$name.log" "./$name" >"$OUT/$name.out" 2>&1); then
		echo "ok   $name ($(($(date +%s) - s)) s)"
	else
		echo "FAIL $name ($(($(date +%s) - s)) s): see $OUT/$name.log"
	fi
}
export -f run_one
export BUILD OUT
export VG_STR="${VG[*]}"

tests=$(cd "$BUILD" && ls test_* 2>/dev/null | while read -r f; do [ -x "$BUILD/$f" ] && echo "$f"; done)
# xargs -P runs JOBS at once; run_one needs VG as an array, rebuilt from VG_STR.
results=$(printf '%s\n' $tests | xargs -P "$JOBS" -I{} bash -c 'VG=($VG_STR); run_one {}')
echo "$results"

# The serve smoke run: its own directory, ports and config.
echo "== sinkd serve under valgrind"
smoke=$(SINKD_BIN=$BUILD/sinkd VALGRIND_ARGS="$VG_STR --log-file=$OUT/serve.log" \
	/usr/bin/python3 "$ROOT/tests/valgrind_serve.py" 2>&1)
rc=$?
echo "$smoke" | tail -5
if [ $rc -eq 0 ]; then results+=$'\n'"ok   serve"; else results+=$'\n'"FAIL serve: see $OUT/serve.log"; fi

pass=$(grep -c '^ok' <<<"$results")
fail=$(grep -c '^FAIL' <<<"$results")
echo "valgrind: $pass passed, $fail failed ($(($(date +%s) - t0)) s)"
[ "$fail" -eq 0 ]
