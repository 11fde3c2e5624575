#!/usr/bin/env bash
# bench/dns.sh: dnsperf (Debian dnsperf) against provision's DNS (the
# appliance itself, appliance.Open with DNS only, in bench/dnsserve) and
# against NSD (Debian nsd), side by side, serving the same zone: N systems
# with 5 settings each (TXT), their A and PTR records, written for NSD by
# bench/dnsserve from dnsconf's Zone.Records. Same query list for both
# (per system: a TXT setting, its A, its PTR; plus a global TXT and an
# NXDOMAIN every 10 systems). Everything runs on 127.0.0.1, on free
# unprivileged ports; both servers are stopped on exit, whatever happens.
#
# Each server first gets one untimed run of WARMUP seconds (the first time
# provision answers a question it prepares the answer's bytes, NSD has
# its zone in memory already); then the two run alternately ROUNDS times;
# the last lines are each one's median and the ratio, and the CPU each
# server used per query it answered (read from /proc around each run: on
# two shared cores the queries/s are bounded by the load generator too).
#
#   bench/dns.sh                      # 10,000 systems, 10 s per server, 3 rounds
#   SYSTEMS=100000 ROUNDS=5 bench/dns.sh
#   SYSTEMS=1000 SECONDS_EACH=5 CLIENTS=4 bench/dns.sh
set -euo pipefail

SYSTEMS=${SYSTEMS:-10000}
SECONDS_EACH=${SECONDS_EACH:-10}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-4}       # dnsperf -c: client sockets
OUTSTANDING=${OUTSTANDING:-200} # dnsperf -q: queries in flight
WARMUP=${WARMUP:-10}        # seconds of untimed queries for each server first

for c in go dnsperf nsd dig; do
	command -v "$c" >/dev/null || { echo "bench/dns.sh: $c is not installed (apt-get install dnsperf nsd dnsutils)" >&2; exit 1; }
done
cd "$(dirname "$0")/.."
. bench/lib.sh

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	[[ -n ${KEEP:-} ]] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

# wait_dns PORT: until the server at 127.0.0.1:PORT answers for dsas.
# (bounded: 20 s).
wait_dns() {
	for _ in $(seq 100); do
		dig @127.0.0.1 -p "$1" +time=1 +tries=1 +short SOA dsas >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	echo "bench/dns.sh: no answer on port $1" >&2
	return 1
}

hz=$(getconf CLK_TCK)

# rate NAME PORT PID: one dnsperf run, one line of the table; the rate is
# also appended to $tmp/NAME.rates, and the server's CPU per answered
# query (tree_ticks of PID around the run) to $tmp/NAME.cpu.
rate() {
	local out qps before cpu
	before=$(tree_ticks "$3")
	out=$(dnsperf -s 127.0.0.1 -p "$2" -d "$tmp/queries" -l "$SECONDS_EACH" -c "$CLIENTS" -q "$OUTSTANDING" 2>&1)
	cpu=$(awk -v t="$(($(tree_ticks "$3") - before))" -v hz="$hz" '/Queries completed:/ {printf "%.2f", t / hz * 1e6 / $3}' <<<"$out")
	qps=$(awk '/Queries per second:/ {print $4}' <<<"$out")
	echo "$qps" >>"$tmp/$1.rates"
	echo "$cpu" >>"$tmp/$1.cpu"
	printf '%-10s %12s %10s %12s %12s\n' "$1" "$qps" \
		"$(awk '/Queries lost:/ {print $3}' <<<"$out")" \
		"$(awk '/Average Latency/ {print $4}' <<<"$out")" "$cpu"
}

# median FILE: the median of the numbers in FILE, one a line.
median() { sort -g "$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

go build -o "$tmp/dnsserve" ./bench/dnsserve

# provision: loads the registry, writes zone files and queries, serves.
"$tmp/dnsserve" -n "$SYSTEMS" -dir "$tmp" &
pids+=($!)
ourpid=$!
for _ in $(seq 600); do [[ -s $tmp/ready ]] && break; sleep 0.1; done
[[ -s $tmp/ready ]] || { echo "bench/dns.sh: dnsserve did not start" >&2; exit 1; }
ours=$(cut -d: -f2 "$tmp/ready")
wait_dns "$ours"

# NSD: foreground, unprivileged port, no database, no control socket,
# socket buffers of 4 MiB like dnsserve's, no response rate limiting (its
# default, 200 replies a second per client netblock, would drop the load).
nsdport=$("$tmp/dnsserve" -freeport)
{
	cat <<-CONF
	server:
	    ip-address: 127.0.0.1
	    port: $nsdport
	    server-count: $(nproc)
	    reuseport: yes
	    receive-buffer-size: 4194304
	    send-buffer-size: 4194304
	    rrl-ratelimit: 0
	    username: ""
	    chroot: ""
	    zonesdir: "$tmp/zones"
	    database: ""
	    zonelistfile: "$tmp/zone.list"
	    xfrdfile: "$tmp/xfrd.state"
	    xfrdir: "$tmp"
	    pidfile: "$tmp/nsd.pid"
	    logfile: "$tmp/nsd.log"
	    verbosity: 0
	    hide-version: yes
	remote-control:
	    control-enable: no
	CONF
	while read -r apex file; do printf 'zone:\n    name: "%s"\n    zonefile: "%s"\n' "$apex" "$file"; done <"$tmp/zones.list"
} >"$tmp/nsd.conf"
nsd -d -c "$tmp/nsd.conf" 2>>"$tmp/nsd.log" &
pids+=($!)
nsdpid=$!
wait_dns "$nsdport"

# Both must give the same answers before they race.
for q in "TXT rack.h00001._host.dsas" "A h00001.dsas" "PTR 2.0.64.10.in-addr.arpa" "TXT lvs.vrid.dsas"; do
	a=$(dig @127.0.0.1 -p "$ours" +short $q)
	b=$(dig @127.0.0.1 -p "$nsdport" +short $q)
	[[ $a == "$b" ]] || { echo "bench/dns.sh: $q: provision says '$a', NSD says '$b'" >&2; exit 1; }
done

echo "$SYSTEMS systems, $(wc -l <"$tmp/queries") queries in the list, ${SECONDS_EACH}s each, $CLIENTS clients, $OUTSTANDING in flight, $(nproc) cores"
for port in "$ours" "$nsdport"; do
	dnsperf -s 127.0.0.1 -p "$port" -d "$tmp/queries" -l "$WARMUP" -c "$CLIENTS" -q "$OUTSTANDING" >/dev/null 2>&1
done
printf '%-10s %12s %10s %12s %12s\n' server "queries/s" lost "avg latency" "CPU us/query"
for _ in $(seq "$ROUNDS"); do
	rate provision "$ours" "$ourpid"
	rate nsd "$nsdport" "$nsdpid"
done
p=$(median "$tmp/provision.rates") n=$(median "$tmp/nsd.rates")
printf 'median of %d: provision %.0f, nsd %.0f queries/s: %.2fx NSD\n' "$ROUNDS" "$p" "$n" "$(awk -v p="$p" -v n="$n" 'BEGIN {print p / n}')"
printf 'server CPU per query, median: provision %s us, nsd %s us\n' "$(median "$tmp/provision.cpu")" "$(median "$tmp/nsd.cpu")"
