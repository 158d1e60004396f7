#!/usr/bin/env bash
# tests/golden/gen.sh - regenerates the golden inputs and expected outputs:
# pcaps/ with gen.py (scapy), then expected/NAME.txt for every line of
# cases.txt with tcpdump (and expected/NAME.banner, tcpdump's "reading from
# file" line, where tcptwin reads the same file), and the tcpdump-written references of wcases.txt.
# Run it only when a case is added or changed, check the diff, commit.
# It never runs tcptwin.
set -euo pipefail
cd "$(dirname "$0")"
export TZ=UTC

/usr/bin/python3 gen.py
mkdir -p expected
rm -f expected/*.txt expected/*.pcap expected/*.banner

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

n=0
while IFS='|' read -r name _input _targs ref dargs; do
	name=$(trim "$name")
	[[ -z $name || $name == \#* ]] && continue
	ref=$(trim "$ref")
	split_args "$(trim "$dargs")"
	tcpdump -r "pcaps/$ref" "${A[@]}" >"expected/$name.txt" 2>"expected/$name.err"
	# the "reading from file" banner, when tcptwin reads the same file
	if [ "$ref" = "$(trim "$_input")" ]; then
		grep '^reading from file ' "expected/$name.err" >"expected/$name.banner"
	fi
	rm -f "expected/$name.err"
	n=$((n + 1))
done <cases.txt

# -w references that tcpdump writes
tcpdump -r pcaps/eth_http.pcap -w expected/filter_syn.w.pcap 'tcp[tcpflags] & tcp-syn != 0' 2>/dev/null
tcpdump -r pcaps/vlan.pcap -c 3 -w expected/count3.w.pcap 2>/dev/null
tcpdump -r pcaps/be.pcap -w expected/big_endian.w.pcap 2>/dev/null
tcpdump -r pcaps/nano.pcap --nano -w expected/nano.w.pcap 2>/dev/null

echo "gen.sh: $(find pcaps -name '*.pcap*' | wc -l) pcaps, $n expected texts"
