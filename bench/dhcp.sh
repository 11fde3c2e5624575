#!/usr/bin/env bash
# bench/dhcp.sh: perfdhcp (Debian kea-admin) against provision's dhcp.Server
# and against dnsmasq (Debian dnsmasq-base), side by side, with the same
# 1,000 reserved MACs, from a network namespace over a veth pair on a
# test-only 10.250.N.0/22. All traffic stays on this machine.
#
#   sudo bench/dhcp.sh                 # rates 1000 2000 4000, 10 s each
#   RATES="2000" PERIOD=5 sudo bench/dhcp.sh
#
# provision runs through its own test (TestPerfdhcpReservations, which sets
# up its own namespace); dnsmasq runs in the foreground here, twice: with
# its lease file (as deployed) and with --leasefile-ro (no disk write per
# ACK; provision writes nothing for a reservation either). It is stopped,
# and the namespace removed, on exit whatever happens.
set -euo pipefail

RATES=${RATES:-"1000 2000 4000"}
PERIOD=${PERIOD:-10}
CLIENTS=1000 # must match perfClients in dhcp/perfdhcp_test.go

[[ $EUID -eq 0 ]] || { echo "bench/dhcp.sh: needs root (network namespaces)" >&2; exit 1; }
for c in ip perfdhcp dnsmasq go; do
	command -v "$c" >/dev/null || { echo "bench/dhcp.sh: $c is not installed" >&2; exit 1; }
done
cd "$(dirname "$0")/.."

tmp=$(mktemp -d "${TMPDIR:-/tmp}/provision-dhcp-bench.XXXXXX")
id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
ns=pvbench$id host=pvbh$id peer=pvbc$id
dnsmasq_pid=

cleanup() {
	if [[ -n $dnsmasq_pid ]]; then kill "$dnsmasq_pid" 2>/dev/null || true; wait "$dnsmasq_pid" 2>/dev/null || true; fi
	ip link del "$host" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# A 10.250.N.0/22 that no interface uses.
for _ in $(seq 64); do
	n=$(( $(od -An -N1 -tu1 /dev/urandom) / 4 * 4 ))
	ip -4 -o addr | grep -Eq "10\.250\.($n|$((n+1))|$((n+2))|$((n+3)))\." || break
done
server=10.250.$n.1 client=10.250.$n.2

ip netns add "$ns"
ip link add "$host" type veth peer name "$peer"
ip link set "$peer" netns "$ns"
ip addr add "$server/22" dev "$host"
ip link set "$host" up
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" ip addr add "$client/22" dev "$peer"
ip netns exec "$ns" ip link set "$peer" up

# perfdhcp -b mac=02:50:00:00:00:00 -R 1000 uses 02:50:00:00:(r>>8):(r&255)
# for r in [0, 1000); reserve each at the (10+r)-th address of the /22.
for r in $(seq 0 $((CLIENTS - 1))); do
	x=$((10 + r))
	printf '02:50:00:00:%02x:%02x,10.250.%d.%d\n' $((r >> 8)) $((r & 255)) $((n + x / 256)) $((x % 256))
done >"$tmp/hosts"

# result NAME RATE OUTPUT: one line of the table from perfdhcp's output.
# perfdhcp's own "Rate:" divides by the period plus the -W wait, so the
# table shows completed DORA exchanges (ACKs received) per second of period.
result() {
	local acks drops
	acks=$(grep -E '^ *received packets: ' <<<"$3" | awk 'NR==2 {print $3}')
	drops=$(grep -E '^ *drops: ' <<<"$3" | awk '{print $2}' | paste -sd/)
	printf '%-11s %8s %12s %16s\n' "$1" "$2" "$(( ${acks:-0} / PERIOD ))" "${drops:-?}"
}

# dnsmasq_run NAME RATE [EXTRA...]: dnsmasq in the foreground on $host
# with the same reservations, perfdhcp against it, then stop it.
dnsmasq_run() {
	local name=$1 rate=$2 out
	shift 2
	dnsmasq -d -C /dev/null -p 0 -u root --bind-interfaces --interface="$host" --quiet-dhcp \
		--dhcp-range="10.250.$n.0,static,255.255.252.0,1h" --dhcp-hostsfile="$tmp/hosts" \
		--dhcp-lease-max=$((2 * CLIENTS)) --pid-file="$tmp/dnsmasq.pid" "$@" 2>"$tmp/dnsmasq.log" &
	dnsmasq_pid=$!
	for _ in $(seq 50); do ss -Hlunp "sport = :67" | grep -q "pid=$dnsmasq_pid," && break; sleep 0.1; done
	out=$(ip netns exec "$ns" perfdhcp -4 -l "$client" -r "$rate" -p "$PERIOD" -R "$CLIENTS" \
		-b mac=02:50:00:00:00:00 -d 2 -W 2000000 "$server" 2>&1 || true)
	result "$name" "$rate" "$out"
	kill "$dnsmasq_pid" 2>/dev/null || true
	wait "$dnsmasq_pid" 2>/dev/null || true
	dnsmasq_pid=
	rm -f "$tmp/dnsmasq.pid" "$tmp/dnsmasq.leases"
}

go test -c -o "$tmp/dhcp.test" ./dhcp
printf '%-11s %8s %12s %16s\n' server asked "ACKs/s" "drops DO/RA"
for rate in $RATES; do
	out=$(cd dhcp && DHCP_PERF_RATE=$rate DHCP_PERF_SECONDS=$PERIOD "$tmp/dhcp.test" \
		-test.run '^TestPerfdhcpReservations$' -test.v 2>&1 || true)
	result provision "$rate" "$out"
	dnsmasq_run dnsmasq "$rate" --dhcp-leasefile="$tmp/dnsmasq.leases"
	dnsmasq_run dnsmasq-ro "$rate" --leasefile-ro
done
