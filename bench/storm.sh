#!/usr/bin/env bash
# bench/storm.sh: a boot storm (bench/storm: N machines booting at once,
# as a BIOS PXE ROM then iPXE do: DHCP, undionly.kpxe over TFTP, DHCP
# again as iPXE, the boot script, kernel and initrd over HTTP, then
# /zone/data.cdb) against provision, and against the classic stack, dnsmasq
# (DHCP + TFTP) with nginx (HTTP), configured for the same hosts, the same
# files at the same paths, in the same run; side by side.
#
#   sudo bench/storm.sh                          # N = 100 then 1000, kernel 8 MiB + initrd 32 MiB
#   MACHINES="100" INITRD_SIZE=8M sudo bench/storm.sh
#   STACKS=provision MACHINES=1000 sudo bench/storm.sh
#   MODE=deploy sudo bench/storm.sh              # N = 100 deploying a 200 MiB disk image
#
# MODE=deploy is a deploy storm (issue 28): every machine boots a disk
# image's deployer and then fetches the image's rootfs, as a deploy does
# (bench/storm -rootfs: after data.cdb, resumed on a cut). The image is a
# real disk image (image add --kind disk): the current Debian kernel
# package (apt-get download of linux-image-amd64's dependency, unless
# KERNEL_PACKAGE names one), from which provision builds the deployer's
# kernel and initrd, and a tar rootfs of ROOTFS_SIZE incompressible bytes
# beside the few files provision checks a disk root for (boot/vmlinuz-V,
# boot/initrd.img-V, usr/sbin/grub-install, usr/lib/grub/i386-pc/: small
# stand-ins, nothing boots from them). The systems are put into a build
# (system reinstall --profile, no BMC), so that each boot script is a
# deploy's: the deployer's kernel and initrd with provision.deploy=. The
# classic stack serves the same script, kernel, initrd and rootfs bytes at
# the same paths. The link is measured on the rootfs; the byte limit
# includes the rootfs bytes. The goal is wall <= 1.2 x the byte limit
# and no failures.
#
# pin/tftp's client cannot choose its source address, so every machine's
# TFTP comes from 10.77.0.2: provision runs with --tftp-max-per-client
# 2048 (as if each had its own address, as real machines do).
#
# Two network namespaces joined by a veth pair: the servers' (10.77.0.1/20)
# and the machines' (10.77.0.2/20, plus every machine's reserved address,
# which its HTTP comes from), so that DHCP broadcasts stay between them:
# no traffic leaves this machine. It needs root, Go, and Debian's iproute2,
# dnsmasq-base, nginx-light (or nginx), ipxe (undionly.kpxe) and curl; it
# installs nothing. Before the storms it measures the HTTP throughput of the
# veth (bench/storm -measure: the initrd downloaded over and over, from
# each stack, by 1, 4 and 16 streams); the best is the link's throughput,
# and each storm's byte limit is its total bytes over it. Everything it
# starts (provision, dnsmasq, nginx, the namespaces) is stopped and removed
# on exit, whatever happens; so is its temporary directory, unless KEEP=1.
#
# Settings (environment):
#   MODE           boot (the default) or deploy (see above)
#   MACHINES       storm sizes, in order ("100 1000"; MODE=deploy: "100")
#   KERNEL_SIZE    kernel of random bytes (8M); INITRD_SIZE: initrd (32M); not in MODE=deploy
#   ROOTFS_SIZE    MODE=deploy: incompressible bytes in the rootfs (200M)
#   KERNEL_PACKAGE MODE=deploy: a Debian kernel package (.deb) to use instead of downloading one
#   STACKS         which to run, in order ("provision classic")
#   ROUNDS         storms of each size and stack (1), the order of the stacks
#                  reversed every other round; the verdict takes the median wall
#   STREAMS        parallel downloads measured ("1,4,16"); MEASURE_BYTES each ("2G")
#   DNSMASQ_TFTP_MAX  dnsmasq's tftp-max (2048, provision's cap; dnsmasq's default is 50)
#   DNSMASQ_LEASEFILE_RO=1  dnsmasq without its lease file (provision writes none for a reservation)
#   STORM_FLAGS    more flags for bench/storm (e.g. "-concurrency 200 -ramp 5s")
#   PROVISION_BIN  a provision binary to run instead of building ./cmd/provision
#   KEEP=1         keep the temporary directory (logs, configs, results)
set -euo pipefail

MODE=${MODE:-boot}
[[ $MODE == boot || $MODE == deploy ]] || { echo "bench/storm.sh: MODE: $MODE is not boot or deploy" >&2; exit 1; }
if [[ $MODE == deploy ]]; then MACHINES=${MACHINES:-100}; else MACHINES=${MACHINES:-"100 1000"}; fi
ROOTFS_SIZE=${ROOTFS_SIZE:-200M}
ROUNDS=${ROUNDS:-1}
KERNEL_SIZE=${KERNEL_SIZE:-8M}
INITRD_SIZE=${INITRD_SIZE:-32M}
STACKS=${STACKS:-"provision classic"}
STREAMS=${STREAMS:-"1,4,16"}
MEASURE_BYTES=${MEASURE_BYTES:-2G}
DNSMASQ_TFTP_MAX=${DNSMASQ_TFTP_MAX:-2048}
STORM_FLAGS=${STORM_FLAGS:-}

die() { echo "bench/storm.sh: $*" >&2; exit 1; }

[[ $EUID -eq 0 ]] || die "needs root (network namespaces, ports 67, 68, 69, 80)"
missing=()
for c in ip:iproute2 dnsmasq:dnsmasq-base nginx:nginx-light curl:curl sha256sum:coreutils; do
	command -v "${c%%:*}" >/dev/null || missing+=("${c#*:}")
done
[[ -r /usr/lib/ipxe/undionly.kpxe ]] || missing+=(ipxe)
if [[ $MODE == deploy ]]; then
	# provision builds the deployer with these tools from this machine
	# (bootenv.DeployTools); apt-get downloads the kernel package.
	PATH=$PATH:/usr/sbin:/sbin
	for c in tar:tar sfdisk:fdisk wipefs:util-linux blkid:util-linux blockdev:util-linux mkfs.ext4:e2fsprogs \
		mkfs.vfat:dosfstools mdadm:mdadm zstd:zstd apt-get:apt; do
		command -v "${c%%:*}" >/dev/null || missing+=("${c#*:}")
	done
	[[ -z ${KERNEL_PACKAGE:-} || -r ${KERNEL_PACKAGE:-} ]] || die "KERNEL_PACKAGE: cannot read $KERNEL_PACKAGE"
fi
((${#missing[@]} == 0)) || die "missing: apt-get install ${missing[*]}"
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || die "no go on PATH or in /usr/local/go/bin"
max=0
for n in $MACHINES; do
	[[ $n =~ ^[0-9]+$ ]] && ((n >= 1 && n <= 4000)) || die "MACHINES: $n is not a count from 1 to 4000"
	((n > max)) && max=$n
done
for s in $STACKS; do [[ $s == provision || $s == classic ]] || die "STACKS: $s is not provision or classic"; done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS: $ROUNDS is not a positive count"
cd "$(dirname "$0")/.."
. bench/lib.sh

tmp=$(mktemp -d "${TMPDIR:-/tmp}/provision-storm.XXXXXX")
chmod 755 "$tmp" # nginx's workers run as nobody
id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
srv=pvstorm-s$id cli=pvstorm-c$id # namespaces
sv=pvss$id cl=pvsc$id             # their ends of the veth pair
server=10.77.0.1
pids=()
thresh=()

cleanup() {
	set +e
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	# Anything else still in our namespaces (a storm interrupted...).
	for ns in "$srv" "$cli"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
	ip netns del "$cli" 2>/dev/null
	ip netns del "$srv" 2>/dev/null
	for t in "${thresh[@]}"; do echo "${t#*=}" >"${t%%=*}"; done
	if [[ -n ${KEEP:-} ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# addr I: the reserved address of machine I (1-based), in 10.77.0.0/20
# from 10.77.0.10 on; mac I: its MAC, as bench/storm makes it.
addr() { local x=$((9 + $1)); echo "10.77.$((x / 256)).$((x % 256))"; }
mac() { printf '52:54:00:%02x:%02x:%02x' $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }
# (Never put these in the background: $! would be a subshell, and killing
# it would leave the server running; the servers start with ip netns exec,
# which execs them, so that $! is the server itself.)
in_srv() { ip netns exec "$srv" "$@"; }
in_cli() { ip netns exec "$cli" "$@"; }

# The kernel's ARP table is one for all namespaces; the server side holds
# an entry per machine. Raise its limits (restored on exit) if they are
# below what the storm needs beside what the host has.
for k in 1:$((max + 256)) 2:$((2 * max + 512)) 3:$((4 * max + 1024)); do
	f=/proc/sys/net/ipv4/neigh/default/gc_thresh${k%%:*}
	cur=$(<"$f")
	if ((cur < ${k#*:})); then thresh+=("$f=$cur"); echo "${k#*:}" >"$f"; fi
done

netns_pair "$srv" "$cli" "$sv" "$cl"
in_srv ip addr add "$server/20" dev "$sv"
in_cli ip addr add 10.77.0.2/20 dev "$cl"
for i in $(seq "$max"); do echo "addr add $(addr "$i")/20 dev $cl"; done | in_cli ip -batch -

if [[ -n ${PROVISION_BIN:-} ]]; then
	echo "building bench/storm; provision is $PROVISION_BIN"
	cp "$PROVISION_BIN" "$tmp/provision"
else
	echo "building provision and bench/storm"
	go build -o "$tmp/provision" ./cmd/provision
fi
go build -o "$tmp/storm" ./bench/storm
# (A disk image's boot environment carries zonecfg: provision takes it from
# beside itself.)
[[ $MODE == deploy ]] && CGO_ENABLED=0 go build -o "$tmp/zonecfg" ./cmd/zonecfg

mkdir -p "$tmp/files" "$tmp/results"
if [[ $MODE == boot ]]; then
	head -c "$KERNEL_SIZE" /dev/urandom >"$tmp/files/kernel"
	head -c "$INITRD_SIZE" /dev/urandom >"$tmp/files/initrd"
else
	# A disk root as provision checks one, and ROOTFS_SIZE random bytes.
	root=$tmp/root kv=6.1.0-storm-amd64
	mkdir -p "$root/boot" "$root/usr/sbin" "$root/usr/lib/grub/i386-pc" "$root/var/lib/storm"
	head -c 64K /dev/urandom >"$root/boot/vmlinuz-$kv"
	head -c 64K /dev/urandom >"$root/boot/initrd.img-$kv"
	printf '#!/bin/sh\nexit 1\n' >"$root/usr/sbin/grub-install"
	head -c 4K /dev/urandom >"$root/usr/lib/grub/i386-pc/core.img"
	head -c "$ROOTFS_SIZE" /dev/urandom >"$root/var/lib/storm/fill"
	tar -C "$root" -cf "$tmp/files/rootfs" --owner=0 --group=0 .
	rm -rf "$root"
	if [[ -n ${KERNEL_PACKAGE:-} ]]; then
		kpkg=$KERNEL_PACKAGE
	else
		kp=$(apt-cache depends linux-image-amd64 | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ {print $2; exit}')
		[[ -n $kp ]] || die "apt-cache depends linux-image-amd64 names no kernel package (apt-get update?)"
		echo "downloading $kp"
		(cd "$tmp/files" && apt-get download -q -o APT::Sandbox::User=root "$kp" >/dev/null) || die "apt-get download $kp failed"
		kpkg=$(echo "$tmp/files/${kp}"_*.deb)
	fi
fi

# wait_until WHAT CMD...: poll CMD (bounded, 20 s).
wait_until() {
	local what=$1
	shift
	for _ in $(seq 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	die "$what did not come up"
}
# stop_all: stop what was started since the last call.
stop_all() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
}

# ---- provision -----------------------------------------------------------
data=$tmp/provision-data
export PROVISION_SERVER=http://$server:80
runs=0
start_provision() {
	runs=$((runs + 1))
	local log=$tmp/provision-$runs.log
	ip netns exec "$srv" "$tmp/provision" serve --data "$data" --zone bench --dhcp-interface "$sv" --address "$server" \
		--http "$server:80" --dns "" --tftp "$server:69" --tftp-max-per-client 2048 --dns-forward none >"$log" 2>&1 &
	pids+=($!)
	wait_until provision grep -q 'msg=ready' "$log"
}
pv() { PROVISION_TOKEN=$(<"$data/token") in_srv "$tmp/provision" -q "$@"; }

echo "registering $max systems in provision"
start_provision
if [[ $MODE == boot ]]; then
	pv image add img --kernel "$tmp/files/kernel" --initrd "$tmp/files/initrd"
else
	echo "adding the disk image (provision builds its deployer from $(basename "$kpkg"))"
	pv image add img --kind disk --kernel-package "$kpkg" --rootfs "$tmp/files/rootfs"
fi
{
	printf 'subnets:\n  - name: storm\n    cidr: 10.77.0.0/20\nprofiles:\n  - name: storm\n    image: img\n    kernel_args: console=ttyS0\nsystems:\n'
	for i in $(seq "$max"); do
		printf '  - name: m%04d\n    macs: ["%s"]\n    ip: %s\n    profile: storm\n    netboot: true\n' "$i" "$(mac "$i")" "$(addr "$i")"
	done
} >"$tmp/registry.yaml"
pv import "$tmp/registry.yaml"
if [[ $MODE == deploy ]]; then
	# A build for each: its boot script is a deploy's (no BMC: nothing is
	# powered, the state becomes pending with a token).
	pv system reinstall --profile storm >/dev/null
fi

# The classic stack serves what provision serves: its data.cdb, each
# machine's script (by the address it asks from, as /boot.ipxe does),
# the same kernel and initrd, the same undionly.kpxe.
www=$tmp/classic/www
mkdir -p "$www/zone" "$www/scripts" "$www/images/img" "$tmp/classic/tftp" "$tmp/nginx"
in_srv curl -fsS -m 60 -o "$www/zone/data.cdb" "http://$server/zone/data.cdb"
# (Host: as the storm's requests have it, from the URL DHCP gives: the
# script names its files by it. Each from its machine's address, where a
# build's script is handed only to its machine.)
for i in $(seq "$max"); do
	((i == 1)) || echo next
	printf 'header = "Host: %s:80"\ninterface = "%s"\nurl = "http://%s/boot/%s.ipxe"\noutput = "%s/scripts/%s.ipxe"\n' \
		"$server" "$(addr "$i")" "$server" "$(mac "$i")" "$www" "$(addr "$i")"
done >"$tmp/scripts.curl"
in_cli curl -fsS -m 300 --config "$tmp/scripts.curl"
grep -q '^kernel http' "$www/scripts/$(addr 1).ipxe" || die "the script of m0001 does not netboot: $(cat "$www/scripts/$(addr 1).ipxe")"
if [[ $MODE == deploy ]]; then
	# The deployer's kernel and initrd are provision's build: the same bytes.
	grep -q "^kernel http://$server:80/images/img/kernel " "$www/scripts/$(addr 1).ipxe" &&
		grep -q "^initrd .*http://$server:80/images/img/initrd " "$www/scripts/$(addr 1).ipxe" &&
		grep -q 'provision.deploy=' "$www/scripts/$(addr 1).ipxe" ||
		die "the script of m0001 is not a deploy of img: $(cat "$www/scripts/$(addr 1).ipxe")"
	in_srv curl -fsS -m 300 -o "$tmp/files/kernel" "http://$server/images/img/kernel"
	in_srv curl -fsS -m 300 -o "$tmp/files/initrd" "http://$server/images/img/initrd"
	cmp -s "$tmp/files/rootfs" <(in_srv curl -fsS -m 300 "http://$server/images/img/rootfs") ||
		die "provision does not serve the rootfs it was given at /images/img/rootfs"
	cp "$tmp/files/rootfs" "$www/images/img/"
fi
cp "$tmp/files/kernel" "$tmp/files/initrd" "$www/images/img/"
cp "$data/boot/undionly.kpxe" "$tmp/classic/tftp/"
served=(kernel initrd data.cdb)
[[ $MODE == deploy ]] && served+=(rootfs)
(cd "$tmp/files" && cp "$www/zone/data.cdb" . && sha256sum "${served[@]}" >SHA256SUMS)
image_bytes=0 sizes=""
for f in "${served[@]}"; do
	b=$(stat -c %s "$tmp/files/$f")
	image_bytes=$((image_bytes + b)) sizes+="${sizes:+ + }$f $b"
done
chmod -R a+rX "$tmp/classic"

# ---- dnsmasq and nginx ---------------------------------------------------
for i in $(seq "$max"); do printf '%s,%s,m%04d\n' "$(mac "$i")" "$(addr "$i")" "$i"; done >"$tmp/classic/hosts"
cat >"$tmp/classic/dnsmasq.conf" <<EOF
port=0
interface=$sv
bind-interfaces
dhcp-authoritative
dhcp-range=10.77.0.0,static,255.255.240.0,1h
dhcp-hostsfile=$tmp/classic/hosts
dhcp-lease-max=$((2 * max + 100))
$([[ -n ${DNSMASQ_LEASEFILE_RO:-} ]] && echo leasefile-ro || echo "dhcp-leasefile=$tmp/classic/dnsmasq.leases")
dhcp-option=option:dns-server,$server
domain=bench
dhcp-userclass=set:ipxe,iPXE
dhcp-boot=tag:!ipxe,undionly.kpxe,,$server
dhcp-boot=tag:ipxe,http://$server:80/boot.ipxe
enable-tftp
tftp-root=$tmp/classic/tftp
tftp-max=$DNSMASQ_TFTP_MAX
log-facility=$tmp/classic/dnsmasq.log
pid-file=$tmp/classic/dnsmasq.pid
user=root
EOF
cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
worker_rlimit_nofile 16384;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 8192; }
http {
	access_log $tmp/nginx/access.log;
	sendfile on;
	tcp_nopush on;
	keepalive_timeout 65;
	default_type application/octet-stream;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	server {
		listen $server:80;
		root $www;
		location = /boot.ipxe { try_files /scripts/\$remote_addr.ipxe =404; }
	}
}
EOF
start_classic() {
	rm -f "$tmp/classic/dnsmasq.pid"
	ip netns exec "$srv" dnsmasq -k -C "$tmp/classic/dnsmasq.conf" 2>>"$tmp/classic/dnsmasq.log" &
	pids+=($!)
	ip netns exec "$srv" nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
	pids+=($!)
	wait_until nginx in_srv curl -fs -m 2 -o /dev/null "http://$server/zone/data.cdb"
	wait_until dnsmasq sh -c "ip netns exec $srv ss -Hlun 'sport = :67' | grep -q . && ip netns exec $srv ss -Hlun 'sport = :69' | grep -q ."
}

# ---- the link ------------------------------------------------------------
link=0
mfile=initrd
[[ $MODE == deploy ]] && mfile=rootfs # the bulk of a deploy storm
measure() {
	local out
	out=$(in_cli "$tmp/storm" -measure "http://$server/images/img/$mfile" -streams "$STREAMS" \
		-measure-bytes "$MEASURE_BYTES" -measure-from 10.77.0.2)
	sed "s/^/  $1: /" <<<"$out"
	best=$(awk '/^best/ {print $2}' <<<"$out")
	((best > link)) && link=$best
	return 0
}
echo "HTTP throughput over the veth ($mfile, $(stat -c %s "$tmp/files/$mfile") bytes):"
measure provision # it is still running from the registration
stop_all
start_classic
measure nginx
stop_all
echo "link: $link MB/s (the best above)"

# ---- the storms ----------------------------------------------------------
# server_cpu: user + system seconds of the processes in the server namespace.
hz=$(getconf CLK_TCK)
# udp_drops NS: UDP datagrams NS dropped because a socket's receive buffer was full.
udp_drops() {
	ip netns exec "$1" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 } else print $c }' /proc/net/snmp
}
server_cpu() {
	local t=0 p
	for p in $(ip netns pids "$srv"); do
		t=$((t + $(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0)))
	done
	awk -v t="$t" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }'
}
storm_flags=()
[[ $MODE == deploy ]] && storm_flags+=(-rootfs /images/img/rootfs)
for n in $MACHINES; do
	for r in $(seq "$ROUNDS"); do
		order=$STACKS
		# Every other round the other way round: a load that drifts
		# (another job on the cores) favours neither.
		((r % 2 == 0)) && order=$(tr ' ' '\n' <<<"$STACKS" | tac | tr '\n' ' ')
		for s in $order; do
			echo
			echo "== $s, $n machines, round $r of $ROUNDS (load $(cut -d' ' -f1-3 /proc/loadavg))"
			if [[ $s == provision ]]; then start_provision; else start_classic; fi
			rc=0 cpu0=$(server_cpu) drops0=$(udp_drops "$srv") cdrops0=$(udp_drops "$cli")
			out=$tmp/results/$s-$n-$r.tsv
			in_cli "$tmp/storm" -iface "$cl" -n "$n" -label "$s" -out "$out" -link-mbps "$link" \
				-sums "$tmp/files/SHA256SUMS" -verify-every 100 "${storm_flags[@]}" $STORM_FLAGS || rc=$?
			((rc <= 1)) || die "bench/storm failed against $s (exit $rc)"
			cpu=$(awk -v a="$cpu0" -v b="$(server_cpu)" 'BEGIN { printf "%.1fs", b - a }')
			drops=$(($(udp_drops "$srv") - drops0)) cdrops=$(($(udp_drops "$cli") - cdrops0))
			echo "server CPU (every process in the server namespace): $cpu; UDP datagrams dropped for a full receive buffer: $drops server side, $cdrops client side"
			printf 'server CPU\t%s\nUDP drops srv/cli\t%s\n' "$cpu" "$drops/$cdrops" >>"$out"
			stop_all
		done
	done
done

echo
echo "== side by side, MODE=$MODE ($sizes = $image_bytes bytes a machine; link $link MB/s; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg))"
for n in $MACHINES; do
	files=()
	for r in $(seq "$ROUNDS"); do
		for s in $STACKS; do files+=("$tmp/results/$s-$n-$r.tsv"); done
	done
	"$tmp/storm" -compare "${files[@]}"
	echo
done
# The goal (issue 12): at 1,000, wall time within 1.5 x the byte limit and
# no failures; and provision at least as fast as the classic stack, with
# no more failures. A deploy storm's (issue 28): within 1.2 x, no failures.
# Over several rounds: the median wall, and the failures of all rounds.
goal=1.5
[[ $MODE == deploy ]] && goal=1.2
get() { awk -F'\t' -v k="$2" '$1 == k {print $2}' "$1"; }
secs() { awk '{ v = $1; if (v ~ /ms$/) { sub(/ms$/, "", v); v /= 1000 } else sub(/s$/, "", v); print v }' <<<"$1"; }
# rounds STACK N: "MEDIAN-WALL LIMIT FAILURES WALLS" over the rounds, or nothing.
rounds() {
	local r f walls="" fails=0 limit=0
	for r in $(seq "$ROUNDS"); do
		f=$tmp/results/$1-$2-$r.tsv
		[[ -f $f ]] || continue
		walls+="$(secs "$(get "$f" wall)") " fails=$((fails + $(get "$f" failures)))
		limit=$(secs "$(get "$f" "byte limit")")
	done
	[[ -n $walls ]] || return 0
	echo "$(tr ' ' '\n' <<<"$walls" | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }') $limit $fails ${walls% }"
}
for n in $MACHINES; do
	p=$(rounds provision "$n") c=$(rounds classic "$n")
	[[ -n $p ]] || continue
	read -r pw plim pf pws <<<"$p"
	verdict=$(awk -v w="$pw" -v l="$plim" -v f="$pf" -v g="$goal" -v ws="$pws" -v k="$ROUNDS" 'BEGIN {
		r = w / l; printf "wall %.2fs%s, wall/limit %.2f (goal <= %s), %d failures: %s", w, (k > 1 ? " (median of " ws ")" : ""), r, g, f, (r <= g && f == 0) ? "met" : "missed" }')
	if [[ -n $c ]]; then
		read -r cw _ cf cws <<<"$c"
		verdict+=$(awk -v pw="$pw" -v cw="$cw" -v pf="$pf" -v cf="$cf" -v l="$plim" -v ws="$cws" -v k="$ROUNDS" 'BEGIN {
			printf "; classic: wall %.2fs%s, wall/limit %.2f, %d failures; provision %s, %s failures: %s", cw, (k > 1 ? " (median of " ws ")" : ""), cw / l, cf,
				pw <= cw ? "as fast or faster" : "slower", pf <= cf ? "no more" : "more", (pw <= cw && pf <= cf) ? "met" : "missed" }')
	fi
	echo "N=$n provision: $verdict"
done
