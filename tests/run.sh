#!/usr/bin/env bash
# tests/run.sh - runs every test layer and ends with "N passed, N failed".
#   unit:   each build/.../tests/test_* (cmocka), counted per test case
#   golden: tests/golden/run.sh (capture -r X.pcap against expected text)
#   e2e:    tests/e2e/test_*.sh (root, network namespaces); exit 4 = skipped
# TW_BUILD names the build directory (default build). TW_ONLY=regex limits
# golden/e2e scripts by name.
set -u
cd "$(dirname "$0")/.."
export TW_BUILD=${TW_BUILD:-build}
export TW_BIN=$PWD/$TW_BUILD/tcptwin
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
pass=0 fail=0 skip=0
failed=()
log=$(mktemp -d /tmp/tw-test.XXXXXX)

for t in "$TW_BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	out="$log/$name.log"
	"$t" >"$out" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	p=${p:-0} f=${f:-0}
	if grep -q 'ERROR: \(Address\|Undefined\|Leak\)Sanitizer\|runtime error:' "$out"; then f=$((f + 1)); fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	pass=$((pass + p)) fail=$((fail + f))
	if [ "$f" -ne 0 ]; then failed+=("unit:$name"); sed 's/^/    /' "$out" | tail -40; fi
	echo "unit   $name: $p passed, $f failed"
done

run_script() { # kind script
	local kind=$1 s=$2 name out rc
	name=$(basename "$s" .sh)
	if [ -n "${TW_ONLY:-}" ] && ! [[ $name =~ $TW_ONLY ]]; then return; fi
	out="$log/$kind-$name.log"
	timeout 600 bash "$s" >"$out" 2>&1
	rc=$?
	if grep -q 'ERROR: \(Address\|Undefined\|Leak\)Sanitizer\|runtime error:' "$out"; then rc=1; fi
	case $rc in
	0) pass=$((pass + 1)); echo "$kind $name: ok" ;;
	4) skip=$((skip + 1)); echo "$kind $name: skipped ($(tail -1 "$out"))" ;;
	*) fail=$((fail + 1)); failed+=("$kind:$name"); echo "$kind $name: FAILED (exit $rc)"; tail -30 "$out" | sed 's/^/    /' ;;
	esac
}

if [ -x tests/golden/run.sh ] || [ -f tests/golden/run.sh ]; then
	out="$log/golden.log"
	bash tests/golden/run.sh >"$out" 2>&1
	gp=$(grep -c '^PASS ' "$out")
	gf=$(grep -c '^FAIL ' "$out")
	if grep -q 'ERROR: \(Address\|Undefined\|Leak\)Sanitizer\|runtime error:' "$out"; then gf=$((gf + 1)); fi
	pass=$((pass + gp)) fail=$((fail + gf))
	[ "$gf" -ne 0 ] && { failed+=("golden"); grep -v '^PASS ' "$out" | head -60 | sed 's/^/    /'; }
	echo "golden: $gp passed, $gf failed"
fi

if [ "$(id -u)" -eq 0 ]; then
	for s in tests/e2e/test_*.sh; do
		[ -f "$s" ] && run_script e2e "$s"
	done
else
	echo "e2e: skipped (needs root for network namespaces)"
fi

[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "logs: $log"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
