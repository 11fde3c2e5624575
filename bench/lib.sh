# bench/lib.sh: what the bench scripts share (sourced).

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
