# bench/lib.sh: what the bench scripts share (sourced).

# tree_ticks PID: the CPU (user + system, in clock ticks) that PID and
# its descendants have used so far, with what they have reaped (NSD
# answers from processes its main process forks, PostgreSQL from a
# backend per connection). Names such as "nsd: server 1" hold spaces, so
# the fields are counted after the name's closing parenthesis.
tree_ticks() {
	local sum=0 p stat
	for p in $(tree_pids "$1"); do
		stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		sum=$((sum + $(awk '{print $12 + $13 + $14 + $15}' <<<"${stat##*) }")))
	done
	echo "$sum"
}

# tree_pids PID: PID and its descendants.
tree_pids() {
	local c
	echo "$1"
	for c in $(pgrep -P "$1" || true); do tree_pids "$c"; done
}

# netns_pair SRV CLI SV CL: network namespaces SRV and CLI joined by a veth
# pair, SV in SRV and CL in CLI, both up with their loopbacks; the caller
# adds the addresses, and removes the namespaces (ip netns del) on exit.
netns_pair() {
	local srv=$1 cli=$2 sv=$3 cl=$4
	ip netns add "$srv"
	ip netns add "$cli"
	ip link add "$sv" type veth peer name "$cl"
	ip link set "$sv" netns "$srv"
	ip link set "$cl" netns "$cli"
	ip -n "$srv" link set lo up
	ip -n "$cli" link set lo up
	ip -n "$srv" link set "$sv" up
	ip -n "$cli" link set "$cl" up
}
