#!/usr/bin/env bash
# bench/dhcp.sh: perfdhcp (Debian kea-admin) against provision, Kea 2.2
# (kea-dhcp4, memfile leases) and dnsmasq, side by side in the same run,
# alternating, on two workloads:
#
#   reservations  1,000 registered MACs (perfdhcp -R 1000), each with its
#                 reserved address;
#   pool          10,000 unknown MACs (perfdhcp -R 10000) leasing from a
#                 dynamic pool of 15,359 addresses.
#
#   sudo bench/dhcp.sh                                   # both, 2000..10000/s, 10 s each
#   RATES="6000 7000 8000" WORKLOADS=pool sudo bench/dhcp.sh
#   SERVERS="provision provision-test kea kea-mt dnsmasq dnsmasq-ro" sudo bench/dhcp.sh
#   SERVERS="provision-pg kea-pg" WORKLOADS=pool RATES="500 1000 2000" sudo bench/dhcp.sh
#
# Every server serves the same subnet, 10.250.0.0/18 (router and DNS: the
# server, domain "bench", lease time 1 h), with the same 1,000
# reservations (02:50:00:00:RR:RR at 10.250.0.10 on) and the same pool
# (10.250.4.0-10.250.63.254), so that the two workloads differ only in the
# MACs perfdhcp uses (pool: 02:51:00:00:RR:RR). The servers run in one
# network namespace, perfdhcp in another, joined by a veth pair; perfdhcp
# acts as a relay (giaddr 10.250.0.2): nothing leaves this machine. Each
# run starts its server afresh, with no lease, and stops it afterwards.
#
# Servers (SERVERS):
#   provision       the production binary, "provision serve" (registry with
#                   the reservations and the pool imported through the API):
#                   pool leases and sightings go to the registry's SQLite
#                   database (WAL, synchronous=FULL) through its dynamic log,
#                   boot events of registered MACs through its event log,
#                   as deployed. Its per-MAC rate limit (10 packets/s,
#                   burst 20) stays on: with 1,000 MACs it caps the
#                   reservations workload near 5,000 exchanges/s.
#   provision-test  dhcp.Server alone (TestPerfdhcpServe): no registry, no
#                   persistence, per-MAC limit raised (PROVISION_TEST_LIMIT)
#   kea             kea-dhcp4 2.2, memfile lease database, persist true
#                   (its CSV, appended on every lease change), single-threaded
#                   (2.2's default), UDP sockets on the server's interface
#   kea-mt          the same, multi-threaded (2 threads, queue 64)
#   dnsmasq         dnsmasq with its lease file, --no-ping (its default
#                   pings every new pool address for up to 3 s first; the
#                   others do not)
#   dnsmasq-ro      the same with --leasefile-ro (no lease file)
#   provision-pg    "provision serve --database": the registry, and the pool
#                   leases, in PostgreSQL, as appliances sharing a database
#                   run; a pool DHCPACK waits for its claim's transaction
#   kea-pg          kea-dhcp4 2.2 with its PostgreSQL lease database
#                   (lease-database type postgresql), single-threaded
# The last two share one PostgreSQL server (Debian's postgresql, started
# here in the servers' namespace on 127.0.0.1, fsync and synchronous
# commit on, as deployed), each run on a fresh copy of a database made
# once (createdb -T).
#
# Per run: offered rate (perfdhcp -r: new DISCOVERs a second), DISCOVERs
# really sent a second, ACKs a second (completed exchanges), perfdhcp's
# drops of DISCOVER-OFFER and REQUEST-ACK (no answer within 2 s) in %,
# latency percentiles of each (computed here from perfdhcp -x t, the send
# and receive times of every successful exchange: drops are not in them),
# the server's CPU (user + system, all threads; for the -pg ones with
# their PostgreSQL server's) per ACK, perfdhcp's CPU
# and everything else's (other people's builds and tests share the
# machine: see QUIET) in % of one CPU, UDP receive-buffer overflows in the
# server's and in perfdhcp's namespace, and what the server persisted. A
# run is clean when both drop ratios are below CLEAN % and perfdhcp sent
# at least 95% of the offered DISCOVERs; a server's clean rate is the
# highest offered rate up to which every run was clean. Two markdown
# tables close the output (per run; clean rates, with the ratio to Kea's).
#
# Settings (environment):
#   WORKLOADS ("reservations pool"), SERVERS ("provision kea dnsmasq"),
#   RATES ("2000 4000 6000 8000 10000"), PERIOD (10 s a run), CLEAN (0.2 %)
#   ROUNDS (1)           the whole ladder that many times; a rate is clean for
#                        a server when most rounds were clean there
#   SKIP_AFTER (0)       within a round, stop a server's ladder after that many
#                        dirty rates in a row (0: never)
#   PROVISION_BIN        a provision binary instead of building ./cmd/provision
#   PROVISION_TEST_LIMIT provision-test's per-MAC packets/s (1000)
#   PIN=1                server on the first half of the CPUs, perfdhcp on the
#                        other (taskset; SERVER_CPUS, CLIENT_CPUS override);
#                        default: they share every CPU
#   QUIET (15), QUIET_WAIT (120), RETRIES (2)  before a run, wait (at most
#                        QUIET_WAIT s) until the machine uses less than QUIET %
#                        of a CPU; run again (at most RETRIES times) when other
#                        processes took more than QUIET % of a CPU meanwhile
#   PROFILE=DIR          provision-test writes a CPU profile of each run there
#   TIMESTAMPS=0         no perfdhcp -x t (which keeps every packet in memory): no latency
#   KEEP=1               keep the temporary directory (logs, configs, raw output)
# It needs root, Go, iproute2, kea-admin (perfdhcp), kea-dhcp4-server,
# dnsmasq-base, curl; sqlite3 (optional) counts what provision persisted;
# postgresql for provision-pg and kea-pg.
# Everything it starts is stopped, and the namespaces removed, on exit,
# whatever happens.
set -euo pipefail

WORKLOADS=${WORKLOADS:-"reservations pool"}
SERVERS=${SERVERS:-"provision kea dnsmasq"}
RATES=${RATES:-"2000 4000 6000 8000 10000"}
PERIOD=${PERIOD:-10}
CLEAN=${CLEAN:-0.2}
TIMESTAMPS=${TIMESTAMPS:-1}
PIN=${PIN:-0}
QUIET=${QUIET:-15}
QUIET_WAIT=${QUIET_WAIT:-120}
RETRIES=${RETRIES:-2}
ROUNDS=${ROUNDS:-1}
SKIP_AFTER=${SKIP_AFTER:-0}
PROVISION_TEST_LIMIT=${PROVISION_TEST_LIMIT:-1000}
RES_CLIENTS=1000    # dhcp/perfdhcp_test.go's perfClients
POOL_CLIENTS=10000

die() { echo "bench/dhcp.sh: $*" >&2; exit 1; }

[[ $EUID -eq 0 ]] || die "needs root (network namespaces, port 67)"
missing=()
for c in ip:iproute2 perfdhcp:kea-admin kea-dhcp4:kea-dhcp4-server dnsmasq:dnsmasq-base curl:curl ss:iproute2; do
	command -v "${c%%:*}" >/dev/null || missing+=("${c#*:}")
done
((${#missing[@]} == 0)) || die "missing: apt-get install ${missing[*]}"
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
for w in $WORKLOADS; do [[ $w == reservations || $w == pool ]] || die "WORKLOADS: $w is not reservations or pool"; done
for s in $SERVERS; do
	[[ $s =~ ^(provision|provision-test|kea|kea-mt|dnsmasq|dnsmasq-ro|provision-pg|kea-pg)$ ]] || die "SERVERS: unknown server $s"
done
for r in $RATES; do [[ $r =~ ^[1-9][0-9]*$ ]] || die "RATES: $r is not a rate"; done
[[ $PERIOD =~ ^[1-9][0-9]*$ ]] || die "PERIOD: $PERIOD is not a number of seconds"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS: $ROUNDS is not a count"
[[ $SKIP_AFTER =~ ^[0-9]+$ ]] || die "SKIP_AFTER: $SKIP_AFTER is not a count"
RATES=$(tr ' ' '\n' <<<"$RATES" | grep . | sort -n | uniq | paste -sd' ')
ncpu=$(nproc)
if [[ $PIN == 1 ]] && ((ncpu >= 2)); then
	command -v taskset >/dev/null || die "PIN=1 needs taskset (util-linux)"
	SERVER_CPUS=${SERVER_CPUS:-0-$((ncpu / 2 - 1))} CLIENT_CPUS=${CLIENT_CPUS:-$((ncpu / 2))-$((ncpu - 1))}
	pin_srv=(taskset -c "$SERVER_CPUS") pin_cli=(taskset -c "$CLIENT_CPUS")
	pinning="server on CPU $SERVER_CPUS, perfdhcp on CPU $CLIENT_CPUS"
else
	pin_srv=() pin_cli=() pinning="not pinned: servers and perfdhcp share every CPU"
fi
if [[ -n ${PROFILE:-} ]]; then mkdir -p "$PROFILE" && PROFILE=$(cd "$PROFILE" && pwd); fi
cd "$(dirname "$0")/.."
. bench/lib.sh

tmp=$(mktemp -d "${TMPDIR:-/tmp}/provision-dhcp-bench.XXXXXX")
id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
srv=pvdhcp-s$id cli=pvdhcp-c$id # namespaces
sv=pvds$id cl=pvdc$id           # their ends of the veth pair
spid=                           # the server running, if any

cleanup() {
	set +e
	[[ -n $spid ]] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	# Anything else still in our namespaces (perfdhcp interrupted...).
	for ns in "$srv" "$cli"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
	ip netns del "$cli" 2>/dev/null
	ip netns del "$srv" 2>/dev/null
	if [[ -n ${KEEP:-} ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Servers start in the background with ip netns exec itself, which execs
# them, so that $! is the server; never with in_srv (a function: $! would
# be a subshell, and killing it would leave the server running).
in_srv() { ip netns exec "$srv" "$@"; }
in_cli() { ip netns exec "$cli" "$@"; }

prefix=10.250.0.0/18 server=10.250.0.1 client=10.250.0.2
pool_first=10.250.4.0 pool_last=10.250.63.254
netns_pair "$srv" "$cli" "$sv" "$cl"
in_srv ip addr add "$server/18" dev "$sv"
in_cli ip addr add "$client/18" dev "$cl"

# Reservation r (0..999): 02:50:00:00:(r>>8):(r&255) at the (10+r)-th
# address, named m0000..m0999, as perfdhcp -b mac=02:50:00:00:00:00 -R 1000
# draws them.
res_mac() { printf '02:50:00:00:%02x:%02x' $(($1 >> 8)) $(($1 & 255)); }
res_ip() { local x=$((10 + $1)); echo "10.250.$((x / 256)).$((x % 256))"; }
res_name() { printf 'm%04d' "$1"; }
for r in $(seq 0 $((RES_CLIENTS - 1))); do echo "$(res_mac "$r") $(res_ip "$r") $(res_name "$r")"; done >"$tmp/reservations"

wait_until() { # WHAT CMD...: poll CMD (bounded, 20 s)
	local what=$1
	shift
	for _ in $(seq 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	die "$what did not come up"
}
listening67() { [[ -n $(in_srv ss -Hlun "sport = :67") ]]; }

# ---- PostgreSQL (provision-pg, kea-pg) -----------------------------------------
pg_port=5432
psql_() { in_srv runuser -u postgres -- psql -qtA -h 127.0.0.1 -p "$pg_port" -U provision "$@"; }
if [[ " $SERVERS " == *-pg* ]]; then
	pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	[[ -x $pg_bin/initdb ]] || die "provision-pg and kea-pg need PostgreSQL: apt-get install postgresql"
	chmod 755 "$tmp"
	mkdir -p "$tmp/pg"
	chown postgres: "$tmp/pg"
	runuser -u postgres -- "$pg_bin/initdb" -D "$tmp/pg/data" -U provision -A trust -E UTF8 >"$tmp/pg/initdb.log" 2>&1 ||
		{ cat "$tmp/pg/initdb.log" >&2; die "initdb failed"; }
	ip netns exec "$srv" runuser -u postgres -- "$pg_bin/postgres" -D "$tmp/pg/data" -k "$tmp/pg" -p "$pg_port" \
		-c listen_addresses=127.0.0.1 -c max_connections=200 >"$tmp/pg/server.log" 2>&1 &
	wait_until PostgreSQL psql_ -d postgres -c 'SELECT 1'
	echo "PostgreSQL $(psql_ -d postgres -c 'SHOW server_version'): fsync $(psql_ -d postgres -c 'SHOW fsync'), synchronous_commit $(psql_ -d postgres -c 'SHOW synchronous_commit')"
fi
# fresh_db TEMPLATE DB: DB afresh, a copy of TEMPLATE.
fresh_db() {
	psql_ -d postgres -c "DROP DATABASE IF EXISTS $2" -c "CREATE DATABASE $2 TEMPLATE $1"
}

# ---- provision ---------------------------------------------------------------
if [[ " $SERVERS " == *" provision "* || " $SERVERS " == *" provision-pg "* ]]; then
	if [[ -n ${PROVISION_BIN:-} ]]; then
		cp "$PROVISION_BIN" "$tmp/provision"
	else
		echo "building provision"
		go build -o "$tmp/provision" ./cmd/provision
	fi
fi
if [[ " $SERVERS " == *" provision-test "* ]]; then
	echo "building the dhcp tests"
	go test -c -o "$tmp/dhcp.test" ./dhcp
fi

pv_start() { # DATA LOG [serve flags...]
	local data=$1 log=$2
	shift 2
	ip netns exec "$srv" "${pin_srv[@]}" "$tmp/provision" serve --data "$data" --zone bench --dhcp-interface "$sv" --address "$server" \
		--http "$server:80" --dns "" --tftp "" --dns-forward none --power-poll 0 "$@" >"$log" 2>&1 &
	spid=$!
	wait_until provision grep -q 'msg=ready' "$log"
	wait_until "provision's DHCP" listening67
}
if [[ " $SERVERS " == *" provision "* || " $SERVERS " == *" provision-pg "* ]]; then
	echo "registering the subnet, its pool and $RES_CLIENTS systems in provision"
	mkdir -p "$tmp/files"
	head -c 4096 /dev/urandom >"$tmp/files/kernel"
	head -c 4096 /dev/urandom >"$tmp/files/initrd"
	pv_start "$tmp/pv-template" "$tmp/pv-template.log"
	pv() { PROVISION_SERVER=http://$server:80 PROVISION_TOKEN=$(<"$tmp/pv-template/token") in_srv "$tmp/provision" -q "$@"; }
	pv image add img --kernel "$tmp/files/kernel" --initrd "$tmp/files/initrd"
	{
		printf 'subnets:\n  - name: bench\n    cidr: %s\n    gateway: %s\n    pool: %s-%s\n' "$prefix" "$server" "$pool_first" "$pool_last"
		printf 'profiles:\n  - name: bench\n    image: img\nsystems:\n'
		while read -r mac ip name; do
			printf '  - name: %s\n    macs: ["%s"]\n    ip: %s\n    profile: bench\n' "$name" "$mac" "$ip"
		done <"$tmp/reservations"
	} >"$tmp/registry.yaml"
	pv import "$tmp/registry.yaml" >"$tmp/pv-import.log"
	kill "$spid"
	wait "$spid" || true
	spid=
	if [[ " $SERVERS " == *" provision-pg "* ]]; then
		psql_ -d postgres -c "CREATE DATABASE pvtemplate"
		in_srv "$tmp/provision" -q migrate --from "sqlite:$tmp/pv-template/registry.db" \
			--to "postgres://provision@127.0.0.1:$pg_port/pvtemplate?sslmode=disable" >"$tmp/pv-migrate.log"
	fi
fi

# ---- Kea ---------------------------------------------------------------------
kea_conf() { # MT(true|false) [pg] > JSON
	local mt=$1 first=1
	printf '{"Dhcp4": {\n'
	printf '  "interfaces-config": {"interfaces": ["%s"], "dhcp-socket-type": "udp"},\n' "$sv"
	if [[ ${2:-} == pg ]]; then
		printf '  "lease-database": {"type": "postgresql", "name": "kearun", "host": "127.0.0.1", "port": %d, "user": "provision", "password": "unused"},\n' "$pg_port"
	else
		printf '  "lease-database": {"type": "memfile", "persist": true, "name": "%s/kea/leases4.csv", "lfc-interval": 3600},\n' "$tmp"
	fi
	printf '  "valid-lifetime": 3600, "renew-timer": 1800, "rebind-timer": 3150,\n'
	printf '  "host-reservation-identifiers": ["hw-address"],\n'
	if [[ $mt == true ]]; then
		printf '  "multi-threading": {"enable-multi-threading": true, "thread-pool-size": 2, "packet-queue-size": 64},\n'
	else
		printf '  "multi-threading": {"enable-multi-threading": false},\n'
	fi
	printf '  "subnet4": [{"id": 1, "subnet": "%s", "pools": [{"pool": "%s - %s"}],\n' "$prefix" "$pool_first" "$pool_last"
	printf '    "option-data": [{"name": "routers", "data": "%s"}, {"name": "domain-name-servers", "data": "%s"}, {"name": "domain-name", "data": "bench"}],\n' "$server" "$server"
	printf '    "reservations": [\n'
	while read -r mac ip name; do
		((first)) || printf ',\n'
		first=0
		printf '      {"hw-address": "%s", "ip-address": "%s", "hostname": "%s"}' "$mac" "$ip" "$name"
	done <"$tmp/reservations"
	printf '\n    ]}],\n'
	printf '  "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "%s/kea/kea.log"}], "severity": "WARN"}]\n' "$tmp"
	printf '}}\n'
}
if [[ " $SERVERS " == *" kea"* ]]; then
	mkdir -p "$tmp/kea"
	kea_conf false >"$tmp/kea/kea.json"
	kea_conf true >"$tmp/kea/kea-mt.json"
	kea_conf false pg >"$tmp/kea/kea-pg.json"
	in_srv kea-dhcp4 -t "$tmp/kea/kea.json" >"$tmp/kea/check.log" 2>&1 || { cat "$tmp/kea/check.log" >&2; die "kea-dhcp4 -t refused its configuration"; }
	if [[ " $SERVERS " == *" kea-pg "* ]]; then
		psql_ -d postgres -c "CREATE DATABASE keatemplate"
		in_srv kea-admin db-init pgsql -h 127.0.0.1 -P "$pg_port" -u provision -p unused -n keatemplate >"$tmp/kea/db-init.log" 2>&1 ||
			{ cat "$tmp/kea/db-init.log" >&2; die "kea-admin db-init pgsql failed"; }
	fi
fi

# ---- dnsmasq -----------------------------------------------------------------
while read -r mac ip name; do echo "$mac,$ip,$name"; done <"$tmp/reservations" >"$tmp/dnsmasq.hosts"

# ---- one run -----------------------------------------------------------------
# start_server NAME WORKLOAD RATE: start NAME afresh (no lease) as $spid.
start_server() {
	local name=$1 workload=$2
	rm -rf "$tmp/run"
	mkdir -p "$tmp/run"
	case $name in
	provision)
		cp -a "$tmp/pv-template" "$tmp/run/data"
		pv_start "$tmp/run/data" "$tmp/run/server.log"
		;;
	provision-pg)
		cp -a "$tmp/pv-template" "$tmp/run/data"
		rm -f "$tmp"/run/data/registry.db*
		fresh_db pvtemplate pvrun
		pv_start "$tmp/run/data" "$tmp/run/server.log" --database "postgres://provision@127.0.0.1:$pg_port/pvrun?sslmode=disable" --name bench
		;;
	provision-test)
		DHCP_PERF_SERVE=$sv DHCP_PERF_PREFIX=$prefix DHCP_PERF_WORKLOAD=$workload DHCP_PERF_STOP=$tmp/run/stop \
			DHCP_PERF_RATELIMIT=$PROVISION_TEST_LIMIT ip netns exec "$srv" "${pin_srv[@]}" "$tmp/dhcp.test" -test.run '^TestPerfdhcpServe$' -test.v \
			-test.timeout 30m ${PROFILE:+-test.cpuprofile "$PROFILE/provision-test-$workload-$3.pprof"} >"$tmp/run/server.log" 2>&1 &
		spid=$!
		wait_until provision-test listening67
		;;
	kea | kea-mt | kea-pg)
		rm -f "$tmp"/kea/leases4.csv* "$tmp"/kea/*.pid
		[[ $name == kea-pg ]] && fresh_db keatemplate kearun
		KEA_PIDFILE_DIR=$tmp/kea KEA_LOCKFILE_DIR=$tmp/kea ip netns exec "$srv" "${pin_srv[@]}" kea-dhcp4 -c "$tmp/kea/$name.json" >"$tmp/run/server.log" 2>&1 &
		spid=$!
		wait_until "$name" listening67
		;;
	dnsmasq | dnsmasq-ro)
		local lease=--dhcp-leasefile=$tmp/run/dnsmasq.leases
		[[ $name == dnsmasq-ro ]] && lease=--leasefile-ro
		ip netns exec "$srv" "${pin_srv[@]}" dnsmasq -d -C /dev/null -p 0 -u root --bind-interfaces --interface="$sv" --quiet-dhcp --no-ping \
			--domain=bench --dhcp-range="$pool_first,$pool_last,255.255.192.0,1h" --dhcp-hostsfile="$tmp/dnsmasq.hosts" \
			--dhcp-lease-max=$((2 * POOL_CLIENTS)) --pid-file="$tmp/run/dnsmasq.pid" "$lease" >"$tmp/run/server.log" 2>&1 &
		spid=$!
		wait_until "$name" listening67
		;;
	esac
}

# stop_server NAME: stop $spid; $tmp/run/persisted says what it persisted.
stop_server() {
	local name=$1 t0 t1 persisted=-
	if [[ $name == provision || $name == provision-pg ]]; then
		in_srv curl -fsS -m 5 -H "Authorization: Bearer $(<"$tmp/run/data/token")" "http://$server/metrics" \
			>"$tmp/run/metrics" 2>/dev/null || true
	fi
	t0=$(date +%s.%N)
	if [[ $name == provision-test ]]; then touch "$tmp/run/stop"; else kill "$spid"; fi
	wait "$spid" || true
	t1=$(date +%s.%N)
	spid=
	case $name in
	provision)
		local limited lost
		limited=$(awk -F' ' '/^provision_dhcp_packets_total\{outcome="rate_limited"\}/ {print $2}' "$tmp/run/metrics")
		lost=$(awk -F' ' '/^provision_background_writes_lost_total\{log="leases"\}/ {print $2}' "$tmp/run/metrics")
		persisted="limited ${limited:-?}, writes lost ${lost:-?}"
		if command -v sqlite3 >/dev/null; then
			persisted="$(sqlite3 "$tmp/run/data/registry.db" 'SELECT count(*) FROM leases') leases, $(sqlite3 "$tmp/run/data/registry.db" \
				'SELECT count(*) FROM events') events; $persisted"
		fi
		persisted="$persisted; stop $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s"
		;;
	provision-pg)
		persisted="$(psql_ -d pvrun -c "SELECT count(*) FROM leases WHERE state = 'bound'") leases, $(psql_ -d pvrun -c 'SELECT count(*) FROM events') events"
		persisted="$persisted; stop $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s"
		;;
	kea-pg)
		persisted="$(psql_ -d kearun -c 'SELECT count(*) FROM lease4') leases"
		;;
	provision-test)
		persisted="none; $(grep -o 'rate_limited=[0-9]*' "$tmp/run/server.log" || echo '?')"
		;;
	kea | kea-mt)
		local f=$tmp/kea/leases4.csv
		[[ -f $f ]] && persisted="$(tail -n +2 "$f" | cut -d, -f1 | sort -u | wc -l) leases ($(($(wc -l <"$f") - 1)) lines)"
		;;
	dnsmasq)
		[[ -f $tmp/run/dnsmasq.leases ]] && persisted="$(wc -l <"$tmp/run/dnsmasq.leases") leases"
		;;
	dnsmasq-ro) persisted=none ;;
	esac
	echo "$persisted" >"$tmp/run/persisted"
}

udp_rcvbuf() { # NS: RcvbufErrors of /proc/net/snmp in NS
	ip netns exec "$1" awk '/^Udp:/ {if (!n) {for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; n = 1} else print $c}' /proc/net/snmp
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system, all threads
# server_ticks NAME: the CPU of the server running ($spid), and for
# NAME-pg that of its PostgreSQL server, backends included.
server_ticks() {
	local t
	t=$(cpu_ticks "$spid")
	[[ $1 == *-pg ]] && t=$((t + $(tree_ticks "$(head -1 "$tmp/pg/data/postmaster.pid")")))
	echo "$t"
}
hz=$(getconf CLK_TCK)
# busy_ticks: CPU ticks spent by everything (user, nice, system, irq, softirq, steal).
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# child_ticks FILE: user + system ticks of this shell's waited-for
# children, from the times builtin run in this shell (not in a $(...)
# subshell, whose children are others).
child_ticks() { awk -v hz="$hz" 'NR == 2 {for (i = 1; i <= 2; i++) {split($i, t, /[ms]/); s += t[1] * 60 + t[2]} print int(s * hz + 0.5)}' "$1"; }
now() { date +%s.%N; }

# wait_quiet: until the machine's busy CPU over a second is below QUIET %
# of one CPU (other people's builds and tests share it), at most QUIET_WAIT s.
wait_quiet() {
	local t0 b0 b1 end=$((SECONDS + QUIET_WAIT))
	while ((SECONDS < end)); do
		b0=$(busy_ticks)
		sleep 1
		b1=$(busy_ticks)
		(((b1 - b0) * 100 < QUIET * hz)) && return 0
	done
	echo "bench/dhcp.sh: the machine stayed busy for $QUIET_WAIT s (another load?); running anyway" >&2
}

# pct P FILE: the P-th percentile of FILE's numbers (nearest rank).
pct() { sort -g "$2" | awk -v p="$1" '{v[NR] = $1} END {if (!NR) {print "-"; exit} i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; printf "%.2f", v[i]}'; }

printf 'workload\tserver\tround\toffered\tsent/s\tacks/s\tdrop_do%%\tdrop_ra%%\tp50_do\tp99_do\tp50_ra\tp99_ra\tsrv_us/ack\tperfdhcp_cpu%%\tother_cpu%%\trcvbuf_srv\trcvbuf_cli\tpersisted\tclean\n' >"$tmp/results.tsv"

# run SERVER WORKLOAD RATE ROUND: one perfdhcp run, retried (RETRIES times) when
# something else took more than QUIET % of a CPU meanwhile; a line in
# results.tsv.
run() {
	local attempt line
	for attempt in $(seq 0 "$RETRIES"); do
		wait_quiet
		line=$(run_once "$1" "$2" "$3")
		[[ $(cut -f14 <<<"$line") -le $QUIET ]] && break
		echo "(disturbed: $(cut -f14 <<<"$line") % of a CPU used by other processes; again)" >&2
	done
	[[ $(cut -f14 <<<"$line") -le $QUIET ]] || line=$(sed 's/\t\([a-z]*\)$/\t\1 (disturbed)/' <<<"$line")
	# The round goes third, after the workload and the server.
	awk -F'\t' -v OFS='\t' -v round="$4" '{$2 = $2 OFS round; print}' <<<"$line" | tee -a "$tmp/results.tsv"
}

run_once() {
	local name=$1 workload=$2 rate=$3 clients base out c0 c1 s0 s1 k0 k1 b0 b1 p0 p1 t0 t1 rc=0 persisted
	if [[ $workload == pool ]]; then clients=$POOL_CLIENTS base=02:51:00:00:00:00; else clients=$RES_CLIENTS base=02:50:00:00:00:00; fi
	start_server "$name" "$workload" "$rate"
	out=$tmp/run/perfdhcp.out
	local xt=()
	[[ $TIMESTAMPS == 1 ]] && xt=(-x t)
	s0=$(udp_rcvbuf "$srv") c0=$(udp_rcvbuf "$cli") k0=$(server_ticks "$name")
	t0=$(now) b0=$(busy_ticks)
	times >"$tmp/run/times0"
	in_cli "${pin_cli[@]}" perfdhcp -4 -l "$client" -r "$rate" -p "$PERIOD" -R "$clients" -b "mac=$base" -d 2 -W 2000000 "${xt[@]}" "$server" \
		>"$out" 2>&1 || rc=$?
	times >"$tmp/run/times1"
	b1=$(busy_ticks) t1=$(now) p0=$(child_ticks "$tmp/run/times0") p1=$(child_ticks "$tmp/run/times1")
	k1=$(server_ticks "$name") s1=$(udp_rcvbuf "$srv") c1=$(udp_rcvbuf "$cli")
	stop_server "$name"
	persisted=$(<"$tmp/run/persisted")
	[[ $rc == 0 || $rc == 3 ]] || persisted="perfdhcp exit $rc; $persisted" # 3: some exchanges failed
	awk '/^\*\*\*Timestamps for packets: DISCOVER-OFFER/ {s = "do"} /^\*\*\*Timestamps for packets: REQUEST-ACK/ {s = "ra"}
		s && /^sent \/ received: / {printf "%.3f\n", ($6 - $4) * 1000 > (dir "/lat." s)}' dir="$tmp/run" "$out"
	touch "$tmp/run/lat.do" "$tmp/run/lat.ra"
	# perfdhcp prints sent, received, drops for DISCOVER-OFFER then REQUEST-ACK.
	local sent recv drops
	read -ra sent <<<"$(awk '/^sent packets: / {printf "%s ", $3}' "$out")"
	read -ra recv <<<"$(awk '/^received packets: / {printf "%s ", $3}' "$out")"
	read -ra drops <<<"$(awk '/^drops: / {printf "%s ", $2}' "$out")"
	((${#sent[@]} >= 2 && ${#recv[@]} >= 2 && ${#drops[@]} >= 2)) || { sent=(0 0) recv=(0 0) drops=(0 0); persisted="no perfdhcp report; $persisted"; }
	# The server's CPU (from its start to the end of perfdhcp) per ACK;
	# perfdhcp's and the others' CPU over perfdhcp's run, its 2 s tail
	# included, in % of one CPU.
	awk -v OFS='\t' -v w="$workload" -v n="$name" -v r="$rate" -v p="$PERIOD" -v clean="$CLEAN" -v hz="$hz" \
		-v sd="${sent[0]}" -v sr="${sent[1]}" -v rr="${recv[1]}" -v dd="${drops[0]}" -v dr="${drops[1]}" \
		-v p50do="$(pct 50 "$tmp/run/lat.do")" -v p99do="$(pct 99 "$tmp/run/lat.do")" \
		-v p50ra="$(pct 50 "$tmp/run/lat.ra")" -v p99ra="$(pct 99 "$tmp/run/lat.ra")" \
		-v cpu="$((k1 - k0))" -v pcpu="$((p1 - p0))" -v busy="$((b1 - b0))" -v wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" \
		-v sb="$((s1 - s0))" -v cb="$((c1 - c0))" -v persisted="$persisted" 'BEGIN {
		pdo = sd ? 100 * dd / sd : 100; pra = sr ? 100 * dr / sr : 100
		ok = (sd > 0 && pdo < clean && pra < clean && sd >= 0.95 * r * p) ? "yes" : "no"
		other = (busy - cpu - pcpu) / hz / wall * 100; if (other < 0) other = 0
		print w, n, r, int(sd / p), int(rr / p), sprintf("%.3f", pdo), sprintf("%.3f", pra), p50do, p99do, p50ra, p99ra,
			rr ? sprintf("%.0f", cpu / hz * 1e6 / rr) : "-", sprintf("%.0f", 100 * pcpu / hz / wall), sprintf("%.0f", other),
			sb, cb, persisted, ok
	}'
	if [[ -n ${KEEP:-} ]]; then rm -rf "$tmp/run-$workload-$name-$rate"; cp -a "$tmp/run" "$tmp/run-$workload-$name-$rate"; fi
	return 0
}

machine="$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), kernel $(uname -r)"
versions="kea-dhcp4 $(kea-dhcp4 -v), $(dnsmasq --version | head -1 | cut -d' ' -f1,3), perfdhcp $(perfdhcp -v 2>&1 | head -1 | awk '{print $NF}')"
echo
echo "$machine; $versions"
echo "workloads: $WORKLOADS; servers: $SERVERS; rates: $RATES; $PERIOD s a run; clean: drops < $CLEAN %; $pinning"
echo
head -1 "$tmp/results.tsv"
read -ra servers <<<"$SERVERS"
declare -A streak # WORKLOAD/SERVER: dirty runs in a row in this round
for round in $(seq "$ROUNDS"); do
	for workload in $WORKLOADS; do
		i=0
		for rate in $RATES; do
			# The order rotates from one rate to the next.
			for j in "${!servers[@]}"; do
				name=${servers[$(((i + j) % ${#servers[@]}))]}
				k=$workload/$name
				((i == 0)) && streak[$k]=0
				if ((SKIP_AFTER > 0 && ${streak[$k]} >= SKIP_AFTER)); then continue; fi
				run "$name" "$workload" "$rate" "$round"
				if [[ $(tail -1 "$tmp/results.tsv" | cut -f19) == yes* ]]; then streak[$k]=0; else streak[$k]=$((${streak[$k]} + 1)); fi
				sleep 1
			done
			i=$((i + 1))
		done
	done
done

# ---- tables --------------------------------------------------------------------
echo
echo "$machine; $versions; $pinning."
echo
echo "### Runs (perfdhcp $PERIOD s each; drops: no answer within 2 s; latency in ms over successful exchanges)"
echo
echo "| workload | server | round | offered/s | sent/s | ACKs/s | drops DO % | drops RA % | p50 DO / RA | p99 DO / RA | server CPU µs/ACK | CPU % perfdhcp / other | rcvbuf drops srv / cli | persisted | clean |"
echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|"
tail -n +2 "$tmp/results.tsv" | awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s / %s | %s | %s / %s | %s / %s | %s | %s |\n",
	$1, $2, $3, $4, $5, $6, $7, $8, $9, $11, $10, $12, $13, $14, $15, $16, $17, $18, $19}'
echo
echo "### Clean rate"
echo
echo "A rate is clean for a server when most of its $ROUNDS round(s) there had < $CLEAN % drops of DISCOVER-OFFER and of"
echo "REQUEST-ACK (and perfdhcp sent >= 95 % of the offered DISCOVERs); its clean rate is the highest rate up to which every"
echo "rate was clean.$( ((SKIP_AFTER > 0)) && echo " Within a round, a server dirty at $SKIP_AFTER rates in a row is not run at higher ones (they count as dirty).")"
echo "ACKs/s: the lowest of the rounds at the clean rate; p99: the highest; CPU: the mean."
echo
echo "| workload | server | clean rate /s | ACKs/s there | p99 DO / RA ms there | server CPU µs/ACK there | clean rate / Kea's (kea-pg's for provision-pg) | clean rounds per rate |"
echo "|---|---|--:|--:|--:|--:|--:|---|"
tail -n +2 "$tmp/results.tsv" | awk -F'\t' -v rates="$RATES" -v order="$SERVERS" -v rounds="$ROUNDS" '
	{
		key = $1 SUBSEP $2 SUBSEP $4; seen[$1] = 1; n[key]++
		if ($19 ~ /^yes/) yes[key]++
		if (!(key in acks) || $6 < acks[key]) acks[key] = $6
		if (!(key in p99do) || $10 > p99do[key]) p99do[key] = $10
		if (!(key in p99ra) || $12 > p99ra[key]) p99ra[key] = $12
		us[key] += $13
	}
	END {
		nr = split(rates, R, " "); ns = split(order, S, " ")
		split("reservations pool", W, " ")
		for (wi = 1; wi <= 2; wi++) {
			w = W[wi]
			if (!(w in seen)) continue
			for (si = 1; si <= ns; si++) {
				k = w SUBSEP S[si]; clean[k] = 0; all[k] = 1; per[k] = ""
				for (ri = 1; ri <= nr; ri++) {
					key = k SUBSEP R[ri]
					per[k] = per[k] (ri > 1 ? " " : "") R[ri] ":" (yes[key] + 0) "/" rounds
					if (2 * yes[key] <= rounds) all[k] = 0
					if (all[k]) clean[k] = R[ri]
				}
			}
			for (si = 1; si <= ns; si++) {
				k = w SUBSEP S[si]; c = clean[k]; key = k SUBSEP c
				shown = c ? (all[k] ? ">= " c : c) : "< " R[1]
				ratio = "-"
				peer = S[si] ~ /-pg$/ ? "kea-pg" : "kea" # leases in PostgreSQL: against Kea on the same server
				kea = w SUBSEP peer
				if (S[si] != peer && (kea in clean)) {
					if (all[k] && all[kea]) ratio = "both clean at every rate"
					else if (clean[kea] && c) ratio = sprintf("%s%.2fx", (all[k] && !all[kea]) ? ">= " : (all[kea] && !all[k] ? "<= " : ""), c / clean[kea])
					else if (c && !clean[kea]) ratio = "Kea never clean"
				}
				printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", w, S[si], shown, c ? acks[key] : "-",
					c ? p99do[key] " / " p99ra[key] : "-", c ? sprintf("%.0f", us[key] / n[key]) : "-", ratio, per[k]
			}
		}
	}'
