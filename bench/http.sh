#!/usr/bin/env bash
# bench/http.sh: download throughput of one large image file with curl,
# from provision's images.BootHandler (through images.Serve) and from nginx
# (Debian nginx-light), both on 127.0.0.1, serving the same file.
#
#   bench/http.sh                  # a 1 GiB random file, 5 downloads each
#   SIZE=256M RUNS=3 bench/http.sh
#
# The file is generated in a temporary directory (SIZE of /dev/urandom) and
# deleted on exit, with both servers stopped, whatever happens. After the
# first download it sits in the page cache, so this measures the servers
# (both use sendfile), not the disk. Each server is checked once to return
# the file byte-identical, then timed over RUNS downloads to /dev/null,
# alternating between the two; MB/s is 10^6 bytes per second of curl's
# time_total, one line per run, then the mean of each.
# provision runs as its own test (TestBenchServer in images/bench_test.go).
set -euo pipefail

SIZE=${SIZE:-1G}
RUNS=${RUNS:-5}

for c in curl nginx go sha256sum python3; do
	command -v "$c" >/dev/null || { echo "bench/http.sh: $c is not installed" >&2; exit 1; }
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
need=$(( $(numfmt --from=iec "$SIZE") / 1024 * 2 ))
(( avail > need )) || { echo "bench/http.sh: $tmp needs $need KiB free, has $avail" >&2; exit 1; }

mkdir -p "$tmp/www/images/bench" "$tmp/nginx"
file=$tmp/www/images/bench/rootfs
echo "generating $SIZE of random data"
head -c "$SIZE" /dev/urandom > "$file"
sum=$(sha256sum "$file" | cut -d' ' -f1)
size=$(stat -c %s "$file")

# wait_for URL: poll (bounded, 10 s) until the server answers.
wait_for() {
	for _ in $(seq 200); do
		curl -fs -o /dev/null -r 0-0 "$1" && return 0
		sleep 0.05
	done
	echo "bench/http.sh: no answer from $1" >&2
	exit 1
}

# check NAME URL: the server returns the file byte-identical.
check() {
	local got
	got=$(curl -fsS "$2" | sha256sum | cut -d' ' -f1)
	[[ $got == "$sum" ]] || { echo "bench/http.sh: $1 returned a different file" >&2; exit 1; }
}

# run NAME URL I: time one download to /dev/null; print its MB/s.
run() {
	curl -fsS -o /dev/null -w '%{size_download} %{time_total}\n' "$2" |
		awk -v name="$1" -v run="$3" -v want="$size" '
			$1 != want { print name ": short download " $1 > "/dev/stderr"; exit 1 }
			{ printf "%-10s run %d: %8.1f MB/s (%.3f s)\n", name, run, $1 / $2 / 1e6, $2 }'
}

# nginx in the foreground, with everything it writes in $tmp.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$tmp/nginx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 64; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	default_type application/octet-stream;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	server {
		listen 127.0.0.1:$port;
		root $tmp/www;
	}
}
EOF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
pids+=($!)
nginx_url=http://127.0.0.1:$port/images/bench/rootfs
wait_for "$nginx_url"

# provision: the images test binary, built without -race.
go test -c -o "$tmp/images.test" ./images
PROVISION_BENCH_FILE=$file PROVISION_BENCH_SHA256=$sum \
	"$tmp/images.test" -test.run '^TestBenchServer$' > "$tmp/provision.out" 2>&1 &
pids+=($!)
ours_url=
for _ in $(seq 200); do
	ours_url=$(sed -n 's/^PROVISION_BENCH_URL=//p' "$tmp/provision.out")
	[[ -n $ours_url ]] && break
	sleep 0.05
done
[[ -n $ours_url ]] || { echo "bench/http.sh: provision did not start:" >&2; cat "$tmp/provision.out" >&2; exit 1; }
wait_for "$ours_url"

echo "file: $size bytes, sha256 $sum; $RUNS runs each; $(nproc) cores"
check provision "$ours_url"
check nginx "$nginx_url"
# Alternate the servers, so that a change in the machine's load hits both.
for i in $(seq "$RUNS"); do
	run provision "$ours_url" "$i"
	run nginx "$nginx_url" "$i"
done | tee "$tmp/runs"
awk '{ mbs[$1] += $4; n[$1]++ } END { for (s in n) printf "%-10s mean %8.1f MB/s over %d runs\n", s, mbs[s] / n[s], n[s] }' "$tmp/runs" | sort
