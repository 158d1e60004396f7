#!/usr/bin/env bash
# tests/golden/run.sh - golden tests of `tcptwin capture -r`: for every line of
# cases.txt, runs TZ=UTC $TW_BIN capture -r pcaps/INPUT ARGS and diffs stdout
# with expected/NAME.txt (tcpdump 4.99's output, made once by gen.sh), and
# the "reading from file" line on stderr with expected/NAME.banner; for
# every line of wcases.txt, runs capture -r ... -w OUT and compares OUT with
# the reference pcap record by record. Prints "PASS name" or "FAIL name" and
# the diff. Needs no root and no network. It does not regenerate anything.
# TW_BIN: binary under test (default build/tcptwin); GOLDEN_ONLY: regex on case
# names (TW_ONLY, which tests/run.sh uses to pick scripts, is not looked at).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${TW_BIN:-$root/build/tcptwin}
[[ $bin == /* ]] || bin=$root/$bin
cd "$here" || exit 1
export TZ=UTC
tmp=$(mktemp -d /tmp/tw-golden.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# split_args "ARGS": fills array A; everything after "--" is one argument
split_args() {
	local s=$1 head tail
	A=()
	if [[ $s == *"-- "* ]]; then
		head=${s%%-- *}
		tail=${s#*-- }
		read -ra A <<<"$head"
		A+=(-- "$tail")
	else
		read -ra A <<<"$s"
	fi
}

trim() { local x=$1; x=${x#"${x%%[![:space:]]*}"}; x=${x%"${x##*[![:space:]]}"}; printf '%s' "$x"; }

selected() { [[ -z ${GOLDEN_ONLY:-} || $1 =~ $GOLDEN_ONLY ]]; }

result() { # name ok(0/1) detail-file
	if [ "$2" -eq 0 ]; then
		echo "PASS $1"
		pass=$((pass + 1))
	else
		echo "FAIL $1"
		sed 's/^/    /' "$3" | head -60
		fail=$((fail + 1))
	fi
}

if [ ! -x "$bin" ]; then
	echo "FAIL golden: binary $bin not found (build it first)"
	exit 1
fi

# ---- text cases
while IFS='|' read -r name input targs _ref _dargs; do
	name=$(trim "$name")
	[[ -z $name || $name == \#* ]] && continue
	selected "$name" || continue
	input=$(trim "$input")
	split_args "$(trim "$targs")"
	out=$tmp/$name.out err=$tmp/$name.err det=$tmp/$name.det
	timeout 60 "$bin" capture -r "pcaps/$input" "${A[@]}" >"$out" 2>"$err"
	rc=$?
	ok=0
	if [ $rc -ne 0 ]; then
		{ echo "exit $rc: $bin capture -r pcaps/$input ${A[*]}"; tail -5 "$err"; } >"$det"
		ok=1
	elif ! diff -u "expected/$name.txt" "$out" >"$det"; then
		ok=1
	elif [ -f "expected/$name.banner" ] &&
		! diff -u "expected/$name.banner" <(grep '^reading from file ' "$err") >"$det"; then
		echo "(stderr banner differs)" >>"$det"
		ok=1
	fi
	if grep -q 'ERROR: \(Address\|Undefined\|Leak\)Sanitizer\|runtime error:' "$err"; then
		cat "$err" >>"$det"
		ok=1
	fi
	result "$name" $ok "$det"
done <cases.txt

# ---- -w cases: compare magic+version (bytes 0-7), link type (20-23), records (24-)
hexpart() { od -An -v -tx1 -j "$2" ${3:+-N "$3"} "$1" | tr -s ' \n' ' '; }

pcap_same() { # got want det
	local got=$1 want=$2 det=$3 g w
	g=$(hexpart "$got" 0 8) w=$(hexpart "$want" 0 8)
	if [ "$g" != "$w" ]; then
		echo "pcap header (magic, version) differs: got $g, want $w" >>"$det"
		return 1
	fi
	g=$(hexpart "$got" 20 4) w=$(hexpart "$want" 20 4)
	if [ "$g" != "$w" ]; then
		echo "pcap header (link type) differs: got $g, want $w" >>"$det"
		return 1
	fi
	if ! cmp <(tail -c +25 "$got") <(tail -c +25 "$want") >>"$det" 2>&1; then
		{
			echo "records differ (offsets count from byte 25 of the file); got:"
			tcpdump -r "$got" -n -tt 2>&1 | head -8
			echo "want:"
			tcpdump -r "$want" -n -tt 2>&1 | head -8
		} >>"$det"
		return 1
	fi
	return 0
}

while IFS='|' read -r name input targs ref; do
	name=$(trim "$name")
	[[ -z $name || $name == \#* ]] && continue
	selected "$name" || continue
	input=$(trim "$input") ref=$(trim "$ref")
	split_args "$(trim "$targs")"
	out=$tmp/$name.pcap err=$tmp/$name.err det=$tmp/$name.det
	: >"$det"
	# -w goes before the other arguments: a trailing filter must stay last
	timeout 60 "$bin" capture -r "pcaps/$input" -w "$out" "${A[@]}" >/dev/null 2>"$err"
	rc=$?
	ok=0
	if [ $rc -ne 0 ]; then
		{ echo "exit $rc: $bin capture -r pcaps/$input -w OUT ${A[*]}"; tail -5 "$err"; } >"$det"
		ok=1
	elif [ ! -s "$out" ]; then
		echo "no output file" >"$det"
		ok=1
	elif ! pcap_same "$out" "$ref" "$det"; then
		ok=1
	fi
	if grep -q 'ERROR: \(Address\|Undefined\|Leak\)Sanitizer\|runtime error:' "$err"; then
		cat "$err" >>"$det"
		ok=1
	fi
	result "$name" $ok "$det"
done <wcases.txt

# ---- stdin and stdout: -r - and -w -
if selected stdin; then
	det=$tmp/stdin.det ok=0
	if ! timeout 60 "$bin" capture -r - -n <pcaps/eth_http.pcap >"$tmp/stdin.out" 2>"$tmp/stdin.err"; then
		{ echo "exit status not 0"; tail -5 "$tmp/stdin.err"; } >"$det"
		ok=1
	elif ! diff -u expected/eth_http.txt "$tmp/stdin.out" >"$det"; then
		ok=1
	fi
	result stdin $ok "$det"
fi
if selected stdout.w; then
	det=$tmp/stdout.det ok=0
	: >"$det"
	if ! timeout 60 "$bin" capture -r pcaps/eth_http.pcap -w - >"$tmp/stdout.pcap" 2>"$tmp/stdout.err"; then
		{ echo "exit status not 0"; tail -5 "$tmp/stdout.err"; } >"$det"
		ok=1
	elif ! pcap_same "$tmp/stdout.pcap" pcaps/eth_http.pcap "$det"; then
		ok=1
	fi
	result stdout.w $ok "$det"
fi

echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
