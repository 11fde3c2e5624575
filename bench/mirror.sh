#!/usr/bin/env bash
# bench/mirror.sh: provision's package cache (`provision serve --mirror`,
# docs/mirror.md) against Debian's apt-cacher-ng, both on 127.0.0.1, both in
# front of the SAME local upstream, side by side:
#
#   cold   CLIENTS (4) clients at once, each fetching every package of the
#          set (the ~150 .debs of Debian 12's base system) through an empty
#          cache: the time until the last has all, and what the upstream
#          served (from its access log: each file should be fetched once)
#   warm   the same fetch again, every file a hit: the time, and what the
#          upstream served (nothing); then wrk -t2 -c50 on the smallest
#          cached .deb (requests/s) and curl on the biggest (MB/s)
#   herd   HERD (20) clients at once asking for the same uncached big .deb
#          (the kernel image package, 70 MB): how many times each cache
#          fetched it from upstream, and the time until all of them have it
#
#   bench/mirror.sh                                   # 3 rounds
#   ROUNDS=5 DURATION=8s bench/mirror.sh
#   DEBS=/var/tmp/debs bench/mirror.sh                # keep the downloaded .debs for the next run
#   KEEP=1 bench/mirror.sh                            # keep the temporary directory (logs) and say where
#   PACKAGES=10 HERD=4 HERD_PKG=libc6 ROUNDS=1 DURATION=1s RUNS=1 bench/mirror.sh   # a dry run
#
# The upstream is nginx (Debian's nginx-light) serving a directory laid out
# as a Debian archive, $tmp/up/debian/pool/..., each .deb where its Filename
# in the archive says (pool/main/<letter>/<source>/, pool/updates/main/...
# for those from debian-security), so the internet's variance stays out.
# The packages are `debootstrap --print-debs bookworm` (the first PACKAGES
# of them), downloaded once with `apt-get download` from this machine's apt
# sources (into DEBS if given, then only the missing ones) and checked
# against the sha256 that apt's lists give. The upstream serves at the
# speed of the loopback, except the herd's file, which it sends at HERD_RATE
# (25m: 25 MB/s, nginx's limit_rate, per connection) as an internet mirror
# would, so that the herd's clients all arrive while the cache is still
# downloading it. Its access log (method, path, status, body bytes, Range,
# User-Agent) is what counts the upstream's requests and bytes. It also
# serves dists/SUITE/Release (unsigned) and main/binary-amd64/Packages(.gz)
# with the set's records from apt's lists, which each cache is asked for
# first, as apt update would (apt-cacher-ng's documentation asks for an
# apt update through it before anything else).
#
# provision: `provision serve --dev --mirror debian=http://UPSTREAM/debian`,
# built from this tree (or PROVISION=binary), its HTTP on a free port, no DNS
# or TFTP; its own counter of upstream bytes (/metrics,
# provision_mirror_upstream_bytes_total) is printed beside the access log's.
# apt-cacher-ng: Debian's package (3.7.4 in bookworm). The Debian package
# starts a system instance on port 3142: stop and disable it
# (`service apt-cacher-ng stop; update-rc.d apt-cacher-ng disable`), it is
# not used. This script runs its own: `apt-cacher-ng -c CONFDIR
# ForeGround=1` with a config of its own in $tmp (port, cache and log
# directories, SupportDir of the package), in reverse-mirror mode: a remap
# `Remap-debian: /debian ; http://UPSTREAM/debian/`, so that clients ask
# http://ACNG/debian/pool/... as they ask http://PROVISION/debian/pool/...
# (it also works as an HTTP proxy, clients sending the upstream's absolute
# URLs; the remap is its documented way of serving an archive at a path of
# its own, and lets both caches be asked the same paths). Every other
# setting is its default. apt-cacher-ng 3.7.4 cannot listen on a port
# above 32767 (it exits with "Error resolving address for binding:
# Success"), so the free ports are taken below 32768.
#
# Each round starts both caches again with empty cache directories, and
# runs on each the index, cold, warm, herd, wrk (after a WARMUP run, not
# counted) and RUNS curl downloads of the herd's file, now cached, which
# is the biggest cached .deb; the order of the caches alternates round by
# round (provision first in odd rounds). Clients
# are curl processes, one per client, each fetching its list of files in
# order on one keep-alive connection (as apt does from one host), writing
# them to files; after each phase every file every client got is checked
# byte-identical to the upstream's (sha256), then removed. The table gives
# the medians of the rounds, and the upstream's counts of every round.
# Everything is in a temporary directory, deleted on exit with every server
# stopped, whatever happens.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-4}
HERD=${HERD:-20}
PACKAGES=${PACKAGES:-150}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
RUNS=${RUNS:-3}
HERD_RATE=${HERD_RATE:-25m}
HERD_PKG=${HERD_PKG:-}
SUITE=${SUITE:-bookworm}
DEBIAN=${DEBIAN:-http://deb.debian.org/debian}

for c in curl nginx wrk go sha256sum python3 apt-cacher-ng apt-get debootstrap; do
	command -v "$c" >/dev/null || { echo "bench/mirror.sh: $c is not installed (apt-get install curl nginx-light wrk apt-cacher-ng debootstrap)" >&2; exit 1; }
done
cd "$(dirname "$0")/.."
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

tmp=$(mktemp -d)
chmod 755 "$tmp" # nginx's workers run as nobody
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [[ -n ${KEEP:-} ]]; then
		echo "kept: $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

die() {
	echo "bench/mirror.sh: $*" >&2
	exit 1
}

# free_port: a TCP port free on 127.0.0.1 now, below 32768: apt-cacher-ng
# 3.7.4 cannot listen above 32767 ("Error resolving address for binding").
free_port() {
	python3 -c '
import random, socket
while True:
    p = random.randrange(20000, 32768)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(p)
    break'
}

# wait_for URL PID LOG: poll (bounded, 20 s) until the server PID answers
# at all; if it does not, show its LOG.
wait_for() {
	for _ in $(seq 400); do
		curl -s -o /dev/null "$1" && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.05
	done
	cat "$3" >&2
	die "no answer from $1"
}

# now: seconds since the epoch, to the nanosecond.
now() { date +%s.%N; }

# --- the packages -----------------------------------------------------------

debs=${DEBS:-$tmp/debs}
mkdir -p "$debs" "$tmp/up/debian"
echo "resolving the package set: debootstrap --print-debs $SUITE (the first $PACKAGES)"
mapfile -t pkgs < <(debootstrap --print-debs "$SUITE" "$tmp/ds" "$DEBIAN" 2>"$tmp/debootstrap.log" | tr ' ' '\n' | sed '/^$/d' | head -n "$PACKAGES") ||
	{ cat "$tmp/debootstrap.log" >&2; die "debootstrap --print-debs failed"; }
((${#pkgs[@]} > 0)) || { cat "$tmp/debootstrap.log" >&2; die "debootstrap gave no package"; }
rm -rf "$tmp/ds"
if [[ -z $HERD_PKG ]]; then
	HERD_PKG=$(apt-cache show --no-all-versions linux-image-amd64 | awk -F'[ ,]+' '/^Depends:/ && !n++ { print $2 }')
	[[ -n $HERD_PKG ]] || die "no kernel image package in apt's lists: give HERD_PKG"
fi

# apt-get download --print-uris: 'URL' FILE SIZE SHA256:HASH, one line a
# package. The archive path is the URL's after its archive (debian or
# debian-security), %-decoded: pool/main/s/systemd/systemd_..._amd64.deb.
apt-get download --print-uris "${pkgs[@]}" "$HERD_PKG" >"$tmp/uris" 2>"$tmp/apt.log" || { cat "$tmp/apt.log" >&2; die "apt-get download --print-uris failed"; }
: >"$tmp/manifest"
: >"$tmp/paths"
missing=()
herd_path=
while read -r url file size hash; do
	url=${url//\'/}
	path=${url#*://*/*/}
	path=$(printf '%b' "${path//%/\\x}")
	[[ $hash == SHA256:* ]] || die "no sha256 for $file: $hash"
	if [[ ${file%%_*} == "$HERD_PKG" ]]; then
		herd_path=$path herd_size=$size herd_sha=${hash#SHA256:}
	else
		echo "$path" >>"$tmp/paths"
	fi
	echo "${hash#SHA256:}  $path" >>"$tmp/manifest"
	echo "$file $path $size" >>"$tmp/files"
	[[ -f $debs/$file && $(stat -c %s "$debs/$file") == "$size" ]] || missing+=("${file%%_*}")
done <"$tmp/uris"
[[ -n $herd_path ]] || die "$HERD_PKG is not in apt's answer"
if ((${#missing[@]})); then
	echo "downloading ${#missing[@]} packages with apt-get download into $debs"
	(cd "$debs" && apt-get download "${missing[@]}" >"$tmp/apt.log" 2>&1) || { cat "$tmp/apt.log" >&2; die "apt-get download failed"; }
fi
while read -r file path size; do
	mkdir -p "$tmp/up/debian/$(dirname "$path")"
	ln "$debs/$file" "$tmp/up/debian/$path" 2>/dev/null || cp "$debs/$file" "$tmp/up/debian/$path"
done <"$tmp/files"
(cd "$tmp/up/debian" && sha256sum -c --quiet --strict "$tmp/manifest") || die "a downloaded package is not the one apt's lists name"
# The archive's index, as apt update fetches it: dists/SUITE/Release (not
# signed) and main/binary-amd64/Packages(.gz), the records of apt's lists.
dists=$tmp/up/debian/dists/$SUITE
mkdir -p "$dists/main/binary-amd64"
apt-cache show --no-all-versions "${pkgs[@]}" "$HERD_PKG" >"$dists/main/binary-amd64/Packages"
gzip -k "$dists/main/binary-amd64/Packages"
{
	echo "Origin: Debian"
	echo "Suite: $SUITE"
	echo "Codename: $SUITE"
	echo "Architectures: amd64"
	echo "Components: main"
	echo "Date: $(date -Ru)"
	echo "SHA256:"
	for f in main/binary-amd64/Packages main/binary-amd64/Packages.gz; do
		echo " $(sha256sum <"$dists/$f" | cut -d' ' -f1) $(stat -c %s "$dists/$f") $f"
	done
} >"$dists/Release"
chmod -R a+rX "$tmp/up"
nfiles=$(wc -l <"$tmp/paths")
setbytes=$(cd "$tmp/up/debian" && xargs stat -c %s <"$tmp/paths" | awk '{ s += $1 } END { print s }')
small_path=$(cd "$tmp/up/debian" && xargs stat -c '%s %n' <"$tmp/paths" | sort -n | awk 'NR == 1 { print $2 }') # no head: pipefail
small_size=$(stat -c %s "$tmp/up/debian/$small_path")

# --- the upstream: nginx ------------------------------------------------------

up_port=$(free_port)
mkdir -p "$tmp/nginx"
rate=$(numfmt --from=si "${HERD_RATE^^}" 2>/dev/null || echo "$HERD_RATE")
cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
	log_format bench '\$request_method \$uri \$status \$body_bytes_sent \$http_range \$http_user_agent';
	access_log $tmp/nginx/access.log bench;
	sendfile on;
	tcp_nopush on;
	default_type application/octet-stream;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	map_hash_bucket_size 256;
	map \$uri \$bench_rate {
		default 0;
		"/debian/$herd_path" $rate;
	}
	server {
		listen 127.0.0.1:$up_port;
		root $tmp/up;
		limit_rate \$bench_rate;
	}
}
EOF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
pids+=($!)
upstream=http://127.0.0.1:$up_port/debian
wait_for "$upstream/$small_path" "${pids[-1]}" "$tmp/nginx/error.log"

# --- the caches ---------------------------------------------------------------

prov=${PROVISION:-}
if [[ -z $prov ]]; then
	echo "building provision"
	go build -o "$tmp/provision" ./cmd/provision
	prov=$tmp/provision
fi
mkdir -p "$tmp/acng/conf"
cat >"$tmp/acng/conf/acng.conf" <<EOF
# apt-cacher-ng as a reverse mirror of the bench's upstream, everything else
# its defaults.
SupportDir: /usr/lib/apt-cacher-ng
BindAddress: 127.0.0.1
Remap-debian: /debian ; $upstream/
EOF

cache_pid= cache_url=
# start NAME: NAME's cache, empty, in $tmp/run/NAME; sets cache_pid, cache_url.
start() {
	local port
	rm -rf "$tmp/run/$1"
	mkdir -p "$tmp/run/$1"
	port=$(free_port)
	case $1 in
	provision)
		"$prov" serve --dev --data "$tmp/run/$1/data" --http "127.0.0.1:$port" --dns "" --tftp "" \
			--mirror "debian=$upstream" >"$tmp/run/$1/out" 2>&1 &
		;;
	acng)
		mkdir -p "$tmp/run/$1/cache" "$tmp/run/$1/log"
		apt-cacher-ng -c "$tmp/acng/conf" ForeGround=1 Port="$port" \
			CacheDir="$tmp/run/$1/cache" LogDir="$tmp/run/$1/log" >"$tmp/run/$1/out" 2>&1 &
		;;
	esac
	cache_pid=$!
	pids+=("$cache_pid")
	cache_url=http://127.0.0.1:$port
	wait_for "$cache_url/" "$cache_pid" "$tmp/run/$1/out"
}

# stop: the cache started last, waited for.
stop() {
	kill "$cache_pid" 2>/dev/null || true
	wait "$cache_pid" 2>/dev/null || true
}

# mark: the access log's length now. upstream MARK [PATH]: the upstream's
# GETs since MARK (of PATH only if given), their body bytes, and the most
# GETs of any one path: "GETS BYTES MAX NON200".
mark() { wc -l <"$tmp/nginx/access.log"; }
upstream_since() {
	sleep 0.3 # nginx logs a request when its last byte is sent
	tail -n +"$(($1 + 1))" "$tmp/nginx/access.log" | awk -v only="${2:+/debian/$2}" '
		only != "" && $2 != only { next }
		{ n++; b += $4; c[$2]++; if (c[$2] > m) m = c[$2]; if ($3 != 200) bad++ }
		END { printf "%d %d %d %d\n", n, b, m, bad }'
}

# verify DIR LIST: every file of LIST (archive paths) under DIR is the
# upstream's, byte for byte; then DIR is removed.
verify() {
	(cd "$1" && awk 'NR == FNR { want[$0] = 1; next } $2 in want' "$2" "$tmp/manifest" | sha256sum -c --quiet --strict) || die "$1: a file differs from the upstream's"
	[[ $(cd "$1" && find . -type f | wc -l) == "$(wc -l <"$2")" ]] || die "$1: files missing"
	rm -rf "$1"
}

# fetch NAME PHASE ROUND: CLIENTS clients at once, each fetching every
# package of the set in order through the cache; records the time until
# the last is done and what the upstream served meanwhile.
fetch() {
	local c m s e u p=()
	for c in $(seq "$CLIENTS"); do
		awk -v base="$cache_url/debian" -v out="$tmp/out/$1/$c" \
			'{ printf "url = \"%s/%s\"\noutput = \"%s/%s\"\n", base, $0, out, $0 }' "$tmp/paths" >"$tmp/list.$c"
	done
	m=$(mark)
	s=$(now)
	for c in $(seq "$CLIENTS"); do
		curl -fsS --create-dirs -K "$tmp/list.$c" &
		p+=($!)
	done
	for c in "${p[@]}"; do wait "$c" || die "$1 $2: a client failed"; done
	e=$(now)
	read -r u <<<"$(upstream_since "$m")"
	for c in $(seq "$CLIENTS"); do verify "$tmp/out/$1/$c" "$tmp/paths"; done
	record "$2" "$1" "$3" "$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')" $u
}

# herd NAME ROUND: HERD clients at once asking for the uncached big file.
herd() {
	local c m s e u p=()
	m=$(mark)
	s=$(now)
	for c in $(seq "$HERD"); do
		curl -fsS --create-dirs -o "$tmp/out/$1/$c/$herd_path" "$cache_url/debian/$herd_path" &
		p+=($!)
	done
	for c in "${p[@]}"; do wait "$c" || die "$1 herd: a client failed"; done
	e=$(now)
	read -r u <<<"$(upstream_since "$m" "$herd_path")"
	echo "$herd_path" >"$tmp/herd.list"
	for c in $(seq "$HERD"); do verify "$tmp/out/$1/$c" "$tmp/herd.list"; done
	record herd "$1" "$2" "$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')" $u
}

# wrk_small NAME ROUND: requests/s of the smallest cached .deb.
wrk_small() {
	local out
	wrk -t2 -c50 -d"$WARMUP" "$cache_url/debian/$small_path" >/dev/null
	out=$(wrk -t2 -c50 -d"$DURATION" "$cache_url/debian/$small_path")
	grep -qE 'Non-2xx|Socket errors' <<<"$out" && { echo "$out" >&2; die "$1: wrk had errors"; }
	record small "$1" "$2" "$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")"
}

# big NAME ROUND: RUNS curl downloads of the herd's file, now cached: MB/s.
big() {
	local i r
	for i in $(seq "$RUNS"); do
		r=$(curl -fsS -o /dev/null -w '%{size_download} %{time_total}\n' "$cache_url/debian/$herd_path")
		[[ ${r%% *} == "$herd_size" ]] || die "$1: short download of $herd_path: $r"
		record big "$1" "$2.$i" "$(awk -v r="$r" 'BEGIN { split(r, a, " "); printf "%.1f", a[1] / a[2] / 1e6 }')"
	done
	[[ $(curl -fsS "$cache_url/debian/$herd_path" | sha256sum | cut -d' ' -f1) == "$herd_sha" ]] || die "$1: the cached $herd_path differs"
}

# record PHASE NAME ROUND VALUE [GETS BYTES MAX NON200]: one figure, kept and printed.
record() {
	echo "$*" >>"$tmp/data"
	case $1 in
	cold | warm | herd) printf "%-5s %-9s round %-4s %8.3f s   upstream: %d GETs, %d bytes, at most %d of one file, %d not 200 (Range)\n" "$@" ;;
	small) printf "%-5s %-9s round %-4s %10.1f req/s\n" "$@" ;;
	big) printf "%-5s %-9s run %-6s %8.1f MB/s\n" "$@" ;;
	esac
}

# median PHASE NAME: the median of a figure over the rounds.
median() {
	awk -v c="$1" -v name="$2" '$1 == c && $2 == name { print $4 }' "$tmp/data" | sort -g |
		awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# rounds PHASE NAME FIELD [SCALE]: field FIELD (5 GETs, 6 bytes, 7 most
# GETs of one file, 8 not 200) of every round, in round order, divided by
# SCALE.
rounds() {
	awk -v c="$1" -v name="$2" -v f="$3" -v d="${4:-1}" '$1 == c && $2 == name { printf "%s%s", (n++ ? " / " : ""), (d == 1 ? $f : sprintf("%.1f", $f / d)) }' "$tmp/data"
}

echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
if [[ -n ${PROVISION:-} ]]; then
	built="provision $PROVISION (given)"
else
	built="provision built from the tree at $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench' || echo ' with changes')"
fi
echo "$built, apt-cacher-ng $(dpkg-query -W -f '${Version}' apt-cacher-ng), upstream $(nginx -v 2>&1 | cut -d' ' -f3), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $(curl -V | head -1 | cut -d' ' -f1-2), $(go version | cut -d' ' -f3)"
echo "set: $nfiles packages, $setbytes bytes (smallest $small_path, $small_size bytes); herd: $herd_path, $herd_size bytes, upstream at $HERD_RATE/s a connection"
echo "rounds $ROUNDS; cold and warm: $CLIENTS clients; herd: $HERD clients; wrk -t2 -c50 -d$DURATION; $RUNS curl downloads a round"
echo

: >"$tmp/data"
for r in $(seq "$ROUNDS"); do
	order="provision acng"
	((r % 2)) || order="acng provision"
	for name in $order; do
		start "$name"
		for f in Release main/binary-amd64/Packages.gz; do # apt update
			cmp -s <(curl -fsS "$cache_url/debian/dists/$SUITE/$f") "$dists/$f" || die "$name: $f differs"
		done
		fetch "$name" cold "$r"
		fetch "$name" warm "$r"
		herd "$name" "$r"
		wrk_small "$name" "$r"
		big "$name" "$r"
		if [[ $name == provision ]]; then
			got=$(curl -fsS -H "Authorization: Bearer $(cat "$tmp/run/provision/data/token")" "$cache_url/metrics" |
				awk '/^provision_mirror_upstream_bytes_total\{.*debian/ { print $2 }')
			printf "provision round %s: its /metrics says %.0f bytes from upstream in all\n" "$r" "${got:-0}"
		fi
		stop
	done
done

echo
echo "upstream served the set's $nfiles files, $setbytes bytes, and the herd's file, $herd_size bytes"
echo
echo "| case | provision | apt-cacher-ng | ratio (> 1: provision better) |"
echo "|---|---:|---:|---:|"
row() { # DESC PHASE UNIT HIGHER_IS_BETTER
	local o t
	o=$(median "$2" provision) t=$(median "$2" acng)
	awk -v d="$1" -v o="$o" -v t="$t" -v u="$3" -v h="$4" 'BEGIN {
		f = (u == "s") ? "%.2f %s" : "%.0f %s"
		printf "| %s | " f " | " f " | %.2fx |\n", d, o, u, t, u, (h ? o / t : t / o) }'
}
up() { # DESC PHASE NAME: what the upstream served, every round
	printf "%s GETs (%s of them Range), %s MB; up to %s GETs of one file" "$(rounds "$1" "$2" 5)" "$(rounds "$1" "$2" 8)" "$(rounds "$1" "$2" 6 1e6)" "$(rounds "$1" "$2" 7)"
}
row "cold: $CLIENTS clients x $nfiles packages, empty cache, until all done (median of $ROUNDS)" cold s 0
printf "| cold: upstream served, each round (the set: %d files, %.1f MB) | %s | %s | |\n" "$nfiles" "$(awk -v b="$setbytes" 'BEGIN { print b / 1e6 }')" "$(up cold provision)" "$(up cold acng)"
row "warm: the same again, all hits (median of $ROUNDS)" warm s 0
printf "| warm: upstream served, each round | %s | %s | |\n" "$(up warm provision)" "$(up warm acng)"
row "warm: wrk -t2 -c50 on the smallest .deb ($small_size bytes), req/s (median of $ROUNDS)" small "req/s" 1
row "warm: curl of the biggest cached .deb ($herd_size bytes), MB/s (median of $((ROUNDS * RUNS)))" big "MB/s" 1
row "herd: $HERD clients at once, uncached $herd_size-byte .deb, until all have it (median of $ROUNDS)" herd s 0
printf "| herd: upstream served, each round | %s | %s | |\n" "$(up herd provision)" "$(up herd acng)"
