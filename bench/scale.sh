#!/usr/bin/env bash
# bench/scale.sh: how provision grows with the fleet. For 1,000, 10,000
# and 100,000 systems (SIZES), one table row each:
#
#   system add     registry.BenchmarkSystemAdd: validate, commit with
#                  fsync, publish (server side, SQLite on disk)
#   add via API    POST /api/v1/systems to a running server, round trip
#   snapshot MiB   registry.BenchmarkSnapshotMemory: heap of one Snapshot
#   zone MiB       dnsconf.BenchmarkZoneMemory: heap of the zone, and what
#                  its data.cdb encoding adds
#   server RSS     the running server after the import and the changes
#   zone build     dnsconf.BenchmarkBuildZone: a whole zone (start-up,
#                  subnet or static record changes)
#   publish        dnsconf.BenchmarkPublish (10k and 100k only): a setting
#                  changed in place, data.cdb put together
#   set->dig       BenchmarkSettingVisibility: setting set acknowledged to
#                  dig seeing it (dig is a process per poll)
#   set->cdb       ... to the server starting the 200 of a data.cdb that
#                  holds it (If-None-Match polling)
#   add->dig/cdb   the same for a system add
#   cdb MiB        BenchmarkZonecfgProcess: size of data.cdb
#   zonecfg get    BenchmarkZonecfgProcess: one `zonecfg get` process, start
#                  to exit, on that data.cdb
#   import         BenchmarkRestart (a new server each of 3 times, medians):
#                  `provision import` of the fleet as a process, start to
#                  exit, and (in brackets) until DNS answers the last
#                  system's setting
#   restart        ... SIGTERM, exit, and the server started again: from
#   DNS/HTTP/DHCP  the process start until DNS answers the last system's
#                  TXT setting, HTTP serves a data.cdb that holds it and
#                  its iPXE script (the later of the two), and a DISCOVER
#                  from a registered MAC gets its OFFER (as root only: the
#                  server runs in a lab network namespace; else "-")
#   RSS after      ... the server's RSS once the zone holds the last system
#   import/restart after the import, and after the restart, each settled
#                  (moved less than 1 % over 2 s, 30 s at most). "server
#                  RSS" beside it is the server of the set->dig figures,
#                  after the import and their changes, unsettled
#   DNS q/s        bench/dns.sh (provision and NSD side by side), with
#                  each server's CPU per query answered
#
#   bench/scale.sh                  # all sizes; about 25 minutes
#   SIZES="1000 10000" DNS=0 bench/scale.sh
#
# Needs go, dig, and for the DNS column dnsperf and nsd (apt-get install
# dnsutils dnsperf nsd); root (and iproute2) for the DHCP figure. Runs on
# this machine only (127.0.0.1, or a network namespace of its own).
set -euo pipefail

SIZES=${SIZES:-"1000 10000 100000"}
DNS=${DNS:-1}
for c in go dig; do
	command -v "$c" >/dev/null || { echo "bench/scale.sh: $c is not installed" >&2; exit 1; }
done
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# metric FILE BENCH UNIT: the value before UNIT on BENCH's line.
metric() {
	awk -v b="$2" -v u="$3" '$1 ~ "^"b"(-[0-9]+)?$" { for (i = 2; i <= NF; i++) if ($i == u) print $(i-1) }' "$1" | head -1
}
# sec FILE BENCH UNIT: the value before UNIT (milliseconds) in seconds, or "-".
sec() { local v; v=$(metric "$@"); [[ -n $v ]] && awk -v v="$v" 'BEGIN { printf "%.2f", v / 1000 }' || echo -; }
nsop() { awk -v b="$2" '$1 ~ "^"b"(-[0-9]+)?$" { for (i = 2; i <= NF; i++) if ($i == "ns/op") printf "%.2f", $(i-1) / 1e6 }' "$1" | head -1; }

echo "go benchmarks (registry, dnsconf)..."
go test -run XXX -bench 'SystemAdd|SnapshotMemory' -benchtime 100x ./registry >"$tmp/registry.txt"
go test -run XXX -bench 'BuildZone|Publish' -benchtime 5x ./dnsconf >"$tmp/dnsconf.txt"
go test -run XXX -bench 'ZoneMemory' -benchtime 1x ./dnsconf >>"$tmp/dnsconf.txt"

rows=()
for n in $SIZES; do
	echo "$n systems: server benchmarks..."
	BENCH_SYSTEMS=$n go test -run XXX -bench 'SettingVisibility|ZonecfgProcess' -benchtime 10x -timeout 60m ./cmd/provision >"$tmp/server-$n.txt"
	echo "$n systems: import and restart..."
	BENCH_SYSTEMS=$n go test -run XXX -bench '^BenchmarkRestart$' -benchtime 3x -timeout 60m ./cmd/provision >"$tmp/restart-$n.txt"
	dns="-"
	if [[ $DNS == 1 ]]; then
		echo "$n systems: bench/dns.sh..."
		SYSTEMS=$n ROUNDS=3 bench/dns.sh >"$tmp/dns-$n.txt"
		dns=$(awk '/^median/ { gsub(",", "", $5); gsub(",", "", $7); p = $5; n = $7; r = $9 }
			/^server CPU/ { c = $7 " / " $10 }
			END { printf "%s vs NSD %s (%s; CPU %s us/query)", p, n, r, c }' "$tmp/dns-$n.txt")
	fi
	s=$tmp/server-$n.txt r=$tmp/restart-$n.txt
	publish=$(nsop "$tmp/dnsconf.txt" "BenchmarkPublish/$n")
	publish=${publish:+$publish ms}
	publish=${publish:--}
	rows+=("| $n | $(nsop "$tmp/registry.txt" "BenchmarkSystemAdd/$n") ms | $(metric "$s" BenchmarkSettingVisibility ms-add-api) ms | $(metric "$tmp/registry.txt" "BenchmarkSnapshotMemory/$n" MiB) | $(metric "$tmp/dnsconf.txt" "BenchmarkZoneMemory/$n" MiB-zone) + $(metric "$tmp/dnsconf.txt" "BenchmarkZoneMemory/$n" MiB-cdb) | $(metric "$s" BenchmarkSettingVisibility MiB-rss) | $(sec "$r" BenchmarkRestart ms-import) s ($(sec "$r" BenchmarkRestart ms-import-dns) s) | $(sec "$r" BenchmarkRestart ms-restart-dns) / $(sec "$r" BenchmarkRestart ms-restart-http) / $(sec "$r" BenchmarkRestart ms-restart-dhcp) s | $(metric "$r" BenchmarkRestart MiB-rss-import) / $(metric "$r" BenchmarkRestart MiB-rss-restart) | $(nsop "$tmp/dnsconf.txt" "BenchmarkBuildZone/$n") ms | $publish | $(metric "$s" BenchmarkSettingVisibility ms-to-dns) / $(metric "$s" BenchmarkSettingVisibility ms-to-cdb) ms | $(metric "$s" BenchmarkSettingVisibility ms-add-to-dns) / $(metric "$s" BenchmarkSettingVisibility ms-add-to-cdb) ms | $(metric "$s" BenchmarkZonecfgProcess MiB-cdb) | $(nsop "$s" BenchmarkZonecfgProcess) ms | $dns |")
done

echo
echo "$(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -r), $(date -u +%F)"
echo
echo "| systems | system add | add via API | snapshot MiB | zone + cdb MiB | server RSS MiB | import | restart DNS / HTTP / DHCP | RSS MiB after import / restart | zone build | publish | set->dig / ->cdb | add->dig / ->cdb | cdb MiB | zonecfg get | DNS q/s |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
