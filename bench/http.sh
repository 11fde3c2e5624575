#!/usr/bin/env bash
# bench/http.sh: provision's HTTP boot path against nginx (Debian
# nginx-light), both on 127.0.0.1, serving the same files, side by side:
#
#   small   requests/s of a 4 KiB image file (/images/bench/kernel), wrk
#   script  requests/s of the iPXE script iPXE fetches (/boot.ipxe), wrk;
#           nginx serves a static copy of what provision answered
#   large   MB/s of a 1 GiB image file (/images/bench/rootfs), curl
#
#   bench/http.sh                        # 1 GiB, 3 wrk rounds of 10 s, 5 downloads
#   SIZE=256M ROUNDS=5 DURATION=5s RUNS=3 bench/http.sh
#   CPUPROFILE=/tmp/http.pprof bench/http.sh   # provision's CPU profile, whole run
#
# provision runs as its own test (TestBenchServer in images/bench_test.go):
# the appliance's boot path as `provision serve` has it, the registry
# lookup of the client's IP, the script rendered, the per-request log line
# (slog's text handler, stderr to a file) and the boot event recorded to the
# registry's SQLite database all included. nginx has its access log on (to
# a file, unbuffered: its default), sendfile and tcp_nopush, as Debian's
# nginx.conf. Both have the machine's cores; wrk shares them.
#
# wrk runs are `wrk -t2 -c50 -d$DURATION` (keep-alive), ROUNDS of each,
# alternating between the servers so that a change in the machine's load
# hits both, after a warm-up run of WARMUP (3s) of each, not counted; a run
# with a non-2xx answer or a socket error fails. Large-file
# runs are curl downloads to /dev/null, also alternating; MB/s is 10^6 bytes
# per second of curl's time_total. After the first download the files sit
# in the page cache: this measures the servers, not the disk. Each server is
# first checked to return every file byte-identical. The table gives the
# medians, provision/nginx as the ratio; every run is printed above it.
#
# Everything is in a temporary directory, deleted on exit with both
# servers stopped, whatever happens. At the end: the boot events that the
# registry dropped (its writer behind), and the lines each server logged.
set -euo pipefail

SIZE=${SIZE:-1G}
RUNS=${RUNS:-5}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
SMALL=${SMALL:-4096}

for c in curl nginx wrk go sha256sum python3; do
	command -v "$c" >/dev/null || { echo "bench/http.sh: $c is not installed (apt-get install curl nginx-light wrk)" >&2; exit 1; }
done
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
chmod 755 "$tmp" # nginx's workers run as nobody
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

avail=$(df -Pk "$tmp" | awk 'NR==2 {print $4}')
need=$(($(numfmt --from=iec "$SIZE") / 1024 + 4 * 1024 * 1024)) # and the two logs
((avail > need)) || { echo "bench/http.sh: $tmp needs $need KiB free, has $avail" >&2; exit 1; }

www=$tmp/www
mkdir -p "$www/images/bench" "$tmp/nginx"
echo "generating $SIZE and two files of $SMALL bytes of random data"
head -c "$SIZE" /dev/urandom >"$www/images/bench/rootfs"
head -c "$SMALL" /dev/urandom >"$www/images/bench/kernel"
head -c "$SMALL" /dev/urandom >"$www/images/bench/initrd"
size=$(stat -c %s "$www/images/bench/rootfs")

# wait_for URL: poll (bounded, 20 s) until the server answers.
wait_for() {
	for _ in $(seq 400); do
		curl -fs -o /dev/null -r 0-0 "$1" && return 0
		sleep 0.05
	done
	echo "bench/http.sh: no answer from $1" >&2
	exit 1
}

# check NAME URL FILE: the server returns FILE byte-identical.
check() {
	local got want
	got=$(curl -fsS "$2" | sha256sum | cut -d' ' -f1)
	want=$(sha256sum <"$3" | cut -d' ' -f1)
	[[ $got == "$want" ]] || { echo "bench/http.sh: $1 returned a different $2" >&2; exit 1; }
}

# download NAME URL I: time one download to /dev/null; print its MB/s.
download() {
	curl -fsS -o /dev/null -w '%{size_download} %{time_total}\n' "$2" |
		awk -v name="$1" -v run="$3" -v want="$size" '
			$1 != want { print name ": short download " $1 > "/dev/stderr"; exit 1 }
			{ printf "large  %-10s run %d: %10.1f MB/s (%.3f s)\n", name, run, $1 / $2 / 1e6, $2 }'
}

# bench CASE NAME URL I [DURATION]: one wrk run; print its requests/s.
bench() {
	local out
	out=$(wrk -t2 -c50 -d"${5:-$DURATION}" "$3")
	if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
		echo "bench/http.sh: $2 $1 run $4 had errors:" >&2
		echo "$out" >&2
		exit 1
	fi
	awk -v c="$1" -v name="$2" -v run="$4" '/^Requests\/sec:/ { printf "%-6s %-10s run %d: %10.1f req/s\n", c, name, run, $2 }' <<<"$out"
}

# provision: the images test binary, built without -race.
go test -c -o "$tmp/images.test" ./images
PROVISION_BENCH_DIR=$www/images/bench PROVISION_BENCH_CPUPROFILE=${CPUPROFILE:-} \
	"$tmp/images.test" -test.run '^TestBenchServer$' -test.v >"$tmp/provision.out" 2>"$tmp/provision.log" &
ours_pid=$!
pids+=($ours_pid)
ours=
for _ in $(seq 400); do
	ours=$(sed -n 's/^PROVISION_BENCH_URL=//p' "$tmp/provision.out")
	[[ -n $ours ]] && break
	sleep 0.05
done
[[ -n $ours ]] || { echo "bench/http.sh: provision did not start:" >&2; cat "$tmp/provision.out" "$tmp/provision.log" >&2; exit 1; }
wait_for "$ours/images/bench/kernel"
# nginx serves, as /boot.ipxe, what provision answers there.
curl -fsS -o "$www/boot.ipxe" "$ours/boot.ipxe"
grep -q '^kernel http' "$www/boot.ipxe" || { echo "bench/http.sh: the script does not netboot:" >&2; cat "$www/boot.ipxe" >&2; exit 1; }
chmod -R a+rX "$www"

# nginx in the foreground, with everything it writes in $tmp.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log $tmp/nginx/access.log;
	sendfile on;
	tcp_nopush on;
	types { text/plain ipxe; }
	default_type application/octet-stream;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	server {
		listen 127.0.0.1:$port;
		root $www;
	}
}
EOF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
pids+=($!)
theirs=http://127.0.0.1:$port
wait_for "$theirs/images/bench/kernel"

echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), Linux $(uname -r)"
echo "$(nginx -v 2>&1); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); $(go version | cut -d' ' -f3)"
echo "files: $SMALL bytes (small), script $(stat -c %s "$www/boot.ipxe") bytes, $size bytes (large)"
for p in images/bench/kernel images/bench/rootfs boot.ipxe; do
	check provision "$ours/$p" "$www/$p"
	check nginx "$theirs/$p" "$www/$p"
done

for c in small:images/bench/kernel script:boot.ipxe; do
	bench "${c%%:*}" provision "$ours/${c#*:}" 0 "$WARMUP" >/dev/null
	bench "${c%%:*}" nginx "$theirs/${c#*:}" 0 "$WARMUP" >/dev/null
done
{
	for c in small:images/bench/kernel script:boot.ipxe; do
		for i in $(seq "$ROUNDS"); do
			bench "${c%%:*}" provision "$ours/${c#*:}" "$i"
			bench "${c%%:*}" nginx "$theirs/${c#*:}" "$i"
		done
	done
	for i in $(seq "$RUNS"); do
		download provision "$ours/images/bench/rootfs" "$i"
		download nginx "$theirs/images/bench/rootfs" "$i"
	done
} | tee "$tmp/runs"

# median CASE NAME: the median of that case's runs.
median() {
	awk -v c="$1" -v name="$2" '$1 == c && $2 == name { print $5 }' "$tmp/runs" | sort -g |
		awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo
echo "| case | provision | nginx | provision/nginx |"
echo "|---|---:|---:|---:|"
for c in "small:$SMALL-byte image file, req/s (wrk -t2 -c50, median of $ROUNDS)" \
	"script:iPXE script /boot.ipxe, req/s (wrk -t2 -c50, median of $ROUNDS)" \
	"large:$SIZE image file, MB/s (curl, median of $RUNS)"; do
	o=$(median "${c%%:*}" provision) n=$(median "${c%%:*}" nginx)
	awk -v d="${c#*:}" -v o="$o" -v n="$n" 'BEGIN { printf "| %s | %.0f | %.0f | %.2f |\n", d, o, n, o / n }'
done
kill "$ours_pid" && wait "$ours_pid" || true # for its last words
echo
echo "$(sed -n 's/.*\(boot events dropped: [0-9]*\).*/\1/p' "$tmp/provision.out") (of every request's, by the registry's writer)"
echo "log lines: provision $(grep -c 'msg="http boot"' "$tmp/provision.log"), nginx $(wc -l <"$tmp/nginx/access.log")"
