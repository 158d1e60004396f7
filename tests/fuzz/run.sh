#!/usr/bin/env bash
# tests/fuzz/run.sh TIME - run every build/fuzz/fuzz_* libFuzzer binary for
# TIME seconds (default 30), each on a temporary copy of its seed corpus
# tests/fuzz/corpus/<name without fuzz_>/ when there is one, so the
# repository is never written to. Builds nothing (make fuzz does).
# Exit status: 0 when no target crashed, 1 otherwise (2: nothing to run).
# Crash inputs and logs are kept in the temporary directory printed at the end.
set -u
cd "$(dirname "$0")/../.."
time=${1:-30}
case $time in '' | *[!0-9]*) echo "usage: $0 SECONDS" >&2; exit 2 ;; esac
work=$(mktemp -d /tmp/tw-fuzz.XXXXXX)
ran=0 failed=()

for bin in build/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	short=${name#fuzz_}
	corpus=$work/$short/corpus
	mkdir -p "$corpus" "$work/$short/crash"
	if [ -d "tests/fuzz/corpus/$short" ]; then
		cp -R "tests/fuzz/corpus/$short/." "$corpus/"
	fi
	echo "fuzz $name: ${time}s, $(find "$corpus" -type f | wc -l) seed(s)"
	"$bin" -max_total_time="$time" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/$short/crash/" "$corpus" >"$work/$short/log" 2>&1
	rc=$?
	ran=$((ran + 1))
	grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' "$work/$short/log" | sed 's/^/    /'
	if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$work/$short/crash")" ]; then
		failed+=("$name")
		echo "fuzz $name: FAILED (exit $rc)"
		grep -E 'ERROR|SUMMARY|runtime error|==[0-9]+==' "$work/$short/log" | head -20 | sed 's/^/    /'
		ls "$work/$short/crash" | sed 's/^/    artifact: /'
	else
		echo "fuzz $name: ok"
	fi
done

if [ "$ran" -eq 0 ]; then
	echo "no build/fuzz/fuzz_* binaries: run 'make fuzz' first" >&2
	exit 2
fi
echo "fuzz logs: $work"
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz failed: ${failed[*]}"
	exit 1
fi
echo "fuzz: $ran target(s), no crash"
