#!/usr/bin/env bash
# Side-by-side DNS benchmark: sinkd against NSD 4 and Knot DNS 3 (plain and
# with mod-dnstap logging every query and response), in one run on this
# machine, each server with one worker, loaded by dnsperf over loopback with
# random names under the seized zones. Prints qps, average and p99 latency,
# lost queries and the ratios; writes the same report to bench/out/.
#
# Usage: bench/dns/run.sh SINKD_BINARY        (make bench-dns)
# See bench/dns/README.md for what is measured and the BENCH_* knobs.
set -uo pipefail

usage() {
	echo "usage: $0 SINKD_BINARY   (env: BENCH_SECONDS, BENCH_ONLY, ...; see bench/dns/README.md)" >&2
	exit 2
}
[ $# -eq 1 ] || usage
case "$1" in -h | --help) usage ;; esac

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/../lib.sh"
repo=$(cd "$here/../.." && pwd)
sinkd_arg=$1
case "$sinkd_arg" in
/*) sinkd_bin=$sinkd_arg ;;
*) sinkd_bin=$PWD/$sinkd_arg ;;
esac

run_s=${BENCH_SECONDS:-10}		# saturating run, per server
lat_s=${BENCH_LAT_SECONDS:-5}		# fixed-rate latency run, per server
lat_qps=${BENCH_LAT_QPS:-100000}	# offered load of the latency run
warm_s=${BENCH_WARMUP:-1}		# unmeasured warm-up before each server
nq=${BENCH_QUERIES:-200000}		# lines in the dnsperf input
aaaa_pct=${BENCH_AAAA_PCT:-20}		# share of AAAA queries
clients=${BENCH_CLIENTS:-4}		# dnsperf -c (saturating run)
outstanding=${BENCH_OUTSTANDING:-200}	# dnsperf -q
threads=${BENCH_THREADS:-2}		# dnsperf -T
server_cpu=${BENCH_SERVER_CPU:-1}
client_cpu=${BENCH_CLIENT_CPU:-0}
port_base=${BENCH_PORT_BASE:-15353}
domains=${BENCH_DOMAINS:-$repo/data/waledac-domains.txt}
only=${BENCH_ONLY:-}			# e.g. "nsd knot" (ids below)
keep=${BENCH_KEEP:-0}			# 1 = keep the work dir
outdir=${BENCH_OUTDIR:-$repo/bench/out}

ids=(nsd knot knot-dnstap sinkd-default sinkd-every)
declare -A label=([nsd]="nsd" [knot]="knot" [knot-dnstap]="knot+dnstap"
	[sinkd-default]="sinkd (default)" [sinkd-every]="sinkd (every query)")

die() {
	say "bench/dns: $*"
	exit 1
}

for c in nsd nsd-checkconf knotd knotc dnsperf dig taskset awk sort; do
	command -v "$c" >/dev/null 2>&1 ||
		die "'$c' not found; install the bench packages: scripts/install-deps.sh --bench"
done
[ -r "$domains" ] || die "cannot read the domain list $domains"
knot_mod_dir=$(dirname "$(dpkg -L knot-module-dnstap 2>/dev/null | grep '/dnstap\.so$' | head -1)" 2>/dev/null)
[ -n "$knot_mod_dir" ] && [ -f "$knot_mod_dir/dnstap.so" ] ||
	say "bench/dns: warning: knot-module-dnstap not found by dpkg; knot+dnstap may fail"

ncpu=$(nproc)
if [ "$ncpu" -ge 2 ]; then
	pin_server=(taskset -c "$server_cpu")
	pin_client=(taskset -c "$client_cpu")
	pinning="server on CPU $server_cpu, dnsperf on CPU $client_cpu (taskset; all threads of each)"
else
	pin_server=()
	pin_client=()
	pinning="NOT pinned: only $ncpu CPU, server and dnsperf share it"
fi
clk_tck=$(getconf CLK_TCK)

work=$(mktemp -d "${TMPDIR:-/tmp}/sinkd-bench-dns.XXXXXX") || die "mktemp failed"
pgids=()		# process groups we started (each server runs under setsid)
client_pid=""

cleanup() {
	local pg
	[ -n "$client_pid" ] && kill -KILL "$client_pid" 2>/dev/null
	for pg in "${pgids[@]}"; do kill -TERM -- "-$pg" 2>/dev/null; done
	for pg in "${pgids[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 -- "-$pg" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL -- "-$pg" 2>/dev/null
	done
	if [ "$keep" = 1 ]; then say "bench/dns: work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers

port_free() {	# PORT: nothing listens on udp or tcp 127.0.0.1/any PORT
	command -v ss >/dev/null 2>&1 || return 0
	[ -z "$(ss -Hlnut "sport = :$1" 2>/dev/null)" ]
}
next_port=$port_base
# stop_server: TERM the group, wait up to 10 s, then KILL; sets stop_note.
stop_server() {
	local pg=$server_pg i
	stop_note=""
	kill -TERM -- "-$pg" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 -- "-$pg" 2>/dev/null || return 0
		sleep 0.2
	done
	kill -KILL -- "-$pg" 2>/dev/null
	stop_note="did not exit within 10 s of SIGTERM, killed"
}

# UDP datagrams the kernel dropped because a socket's receive buffer was
# full (server or client socket; loopback, so both are ours).
udp_rcvbuf_errors() { awk '/^Udp:/ && n++ { print $6 }' /proc/net/snmp; }

rand_label() { tr -dc 'a-z0-9' </dev/urandom 2>/dev/null | head -c "$((8 + RANDOM % 9))"; }

# wait_up PORT SECONDS: until the server answers an A query under a seized zone.
wait_up() {
	local port=$1 deadline=$((SECONDS + $2)) z
	z=$(sed -n '1p' "$work/zones.txt")
	while ((SECONDS < deadline)); do
		alive || return 1
		[ -n "$(dig +short +time=1 +tries=1 -p "$port" @127.0.0.1 "probe.$z" A 2>/dev/null)" ] && return 0
		sleep 0.2
	done
	return 1
}

# verify PORT: sample answers are right and every seized zone answers.
# Sets verify_note ("" = good). Retries the all-zones pass for up to 15 s
# because Knot loads zones in the background after it starts answering.
verify() {
	local port=$1 z name a aaaa flags deadline=$((SECONDS + 15)) codes
	verify_note=""
	for _ in 1 2 3; do
		z=$(shuf -n 1 "$work/zones.txt")
		name="$(rand_label).$z"
		a=$(dig +short +time=2 +tries=1 -p "$port" @127.0.0.1 "$name" A 2>&1)
		aaaa=$(dig +short +time=2 +tries=1 -p "$port" @127.0.0.1 "$name" AAAA 2>&1)
		flags=$(dig +time=2 +tries=1 -p "$port" @127.0.0.1 "$name" A 2>&1 | awk '/^;; ->>HEADER<<-/ { print $6 } /^;; flags:/ { print }')
		if [ "$a" != "127.0.0.1" ] || [ "$aaaa" != "::1" ]; then
			verify_note="wrong answer for $name: A='$(echo $a)' AAAA='$(echo $aaaa)' (want 127.0.0.1 / ::1)"
			return 1
		fi
		case "$flags" in
		*" aa"*) ;;
		*) verify_note="answer for $name lacks the AA flag ($(echo $flags))" && return 1 ;;
		esac
	done
	while :; do
		"${pin_client[@]}" dnsperf -s 127.0.0.1 -p "$port" -d "$work/cover.txt" -n 1 -t 2 \
			>"$work/cover.out" 2>&1
		codes=$(awk -F': *' '/Response codes/ { print $2 }' "$work/cover.out")
		case "$codes" in
		"NOERROR $nzones (100.00%)") return 0 ;;
		esac
		if ((SECONDS >= deadline)); then
			verify_note="not every seized zone answers NOERROR: ${codes:-no responses} (of $nzones, one random name each)"
			return 1
		fi
		sleep 0.5
	done
}

# dnsperf_run OUT ARGS...: one pinned dnsperf, killable by the trap.
dnsperf_run() {
	local out=$1
	shift
	"${pin_client[@]}" dnsperf -s 127.0.0.1 "$@" >"$out" 2>&1 &
	client_pid=$!
	wait "$client_pid"
	client_pid=""
}

stat_field() {	# FILE LABEL -> first number after "LABEL:"
	awk -v l="$2" 'index($0, l ":") { s = substr($0, index($0, l ":") + length(l) + 1);
		split(s, f, " "); print f[1]; exit }' "$1"
}

# metered OUT DNSPERF-ARGS...: one dnsperf run with the CPU accounting
# around it. Sets m_srv, m_cli, m_other (% of one CPU) and m_udpdrop.
metered() {
	local out=$1 t0 t1 u0 c0 c1 j0 j1 jt0 jt1 st0 wall
	shift
	t0=$(server_ticks)
	u0=$(udp_rcvbuf_errors)
	read -r j0 jt0 < <(cpu_jiffies)
	child_cpu c0
	st0=$(date +%s.%N)
	dnsperf_run "$out" -p "$port" -d "$work/queries.txt" "$@"
	child_cpu c1
	read -r j1 jt1 < <(cpu_jiffies)
	t1=$(server_ticks)
	m_udpdrop=$(($(udp_rcvbuf_errors) - u0))
	wall=$(awk -v a="$st0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
	m_srv=$(awk -v d="$((t1 - t0))" -v hz="$clk_tck" -v w="$wall" 'BEGIN { printf "%.0f", 100 * d / hz / w }')
	m_cli=$(awk -v a="$c0" -v b="$c1" -v w="$wall" 'BEGIN { printf "%.0f", 100 * (b - a) / w }')
	# Everything else that ran meanwhile (other processes on a shared
	# machine, kernel threads): all busy CPU minus the server and dnsperf.
	m_other=$(awk -v j="$((j1 - j0))" -v s="$((t1 - t0))" -v c="$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" \
		-v hz="$clk_tck" -v w="$wall" 'BEGIN { o = 100 * ((j - s) / hz - c) / w; printf "%.0f", o < 0 ? 0 : o }')
}

# measure ID PORT: warm-up, saturating run, fixed-rate latency run. A run
# during which other work used more than BENCH_NOISE % of a CPU is repeated
# (up to BENCH_TRIES times); the last try counts and its noise is shown.
measure() {
	local id=$1 port=$2 out="$work/$id.perf" lat="$work/$id.lat" try
	local tries=${BENCH_TRIES:-3} noise=${BENCH_NOISE:-15}
	for ((try = 1; try <= tries; try++)); do
		quiet_wait
		# Again after start-up: threads may be created (and pinned) late.
		repin
		dnsperf_run "$work/$id.warm" -p "$port" -d "$work/queries.txt" -l "$warm_s" \
			-c "$clients" -q "$outstanding" -T "$threads"
		repin
		metered "$out" -l "$run_s" -c "$clients" -q "$outstanding" -T "$threads"
		((m_other <= noise)) && break
		((try < tries)) && say "   noisy run (other work used ${m_other}% of a CPU), repeating"
	done
	[ -n "$quiet_note" ] && r_note[$id]+="${r_note[$id]:+; }$quiet_note"
	((m_other > noise)) && r_note[$id]+="${r_note[$id]:+; }saturating run noisy after $tries tries"
	r_srvcpu[$id]=$m_srv
	r_clicpu[$id]=$m_cli
	r_other[$id]=$m_other
	r_udpdrop[$id]=$m_udpdrop
	r_qps[$id]=$(stat_field "$out" "Queries per second")
	r_sent[$id]=$(stat_field "$out" "Queries sent")
	r_lost[$id]=$(stat_field "$out" "Queries lost")
	r_avg[$id]=$(awk '/Average Latency/ { printf "%.3f", $4 * 1000 }' "$out")
	r_codes[$id]=$(awk -F': *' '/Response codes/ { print $2 }' "$out")
	r_size[$id]=$(awk '/Average packet size/ { print $7 }' "$out" | tr -d ',')
	[ -n "${r_qps[$id]}" ] || r_fail[$id]="dnsperf gave no result: $(tail -3 "$out" | tr '\n' ' ')"

	# Latency: dnsperf has no percentile output, so a second run at a fixed
	# offered load prints every query's latency (-v) and we take p50/p99.
	# One paced client thread: smoother arrivals than -T 2, whose pacing
	# comes in bursts.
	for ((try = 1; try <= tries; try++)); do
		quiet_wait
		metered "$lat" -l "$lat_s" -Q "$lat_qps" -c 1 -T 1 -q 200 -v
		((m_other <= noise)) && break
		((try < tries)) && say "   noisy latency run (other work used ${m_other}% of a CPU), repeating"
	done
	((m_other > noise)) && r_note[$id]+="${r_note[$id]:+; }latency run noisy after $tries tries (other ${m_other}%)"
	r_latlost[$id]=$(stat_field "$lat" "Queries lost")
	r_latqps[$id]=$(stat_field "$lat" "Queries per second")
	awk '/^> / { print $NF }' "$lat" | LC_ALL=C sort -n >"$lat.sorted"
	read -r r_p50[$id] r_p99[$id] r_p999[$id] < <(awk '{ v[NR] = $1 }
		function q(p,  i) { i = int(NR * p + 0.999999); if (i < 1) i = 1; return v[i] * 1000 }
		END { if (NR) printf "%.3f %.3f %.3f\n", q(0.5), q(0.99), q(0.999); else print "- - -" }' "$lat.sorted")
	rm -f "$lat" "$lat.sorted"
}

# run_peer ID PORT CMD...: start, wait, verify, measure, stop.
run_peer() {
	local id=$1 port=$2
	shift 2
	say "== ${label[$id]}: port $port: $*"
	repinned=0
	start_server "$id" "$@"
	if ! wait_up "$port" "${BENCH_START_TIMEOUT:-10}"; then
		if alive; then r_fail[$id]="no DNS answer on 127.0.0.1:$port within ${BENCH_START_TIMEOUT:-10} s"
		else r_fail[$id]="exited during start-up"; fi
		r_fail[$id]+="; log tail: $(tail -5 "$work/$id.log" | tr '\n' '|')"
		stop_server
		return 1
	fi
	repin
	if ! verify "$port"; then
		r_fail[$id]="$verify_note"
		stop_server
		return 1
	fi
	measure "$id" "$port"
	((repinned > 0)) && r_note[$id]+="${r_note[$id]:+; }$repinned thread(s) had set their own CPU affinity, moved back to CPU $server_cpu"
	alive || r_fail[$id]="died under load; log tail: $(tail -5 "$work/$id.log" | tr '\n' '|')"
	stop_server
	[ -n "$stop_note" ] && r_note[$id]+="${r_note[$id]:+; }$stop_note"
	say "   qps ${r_qps[$id]:-?}  lost ${r_lost[$id]:-?}  p99 ${r_p99[$id]:-?} ms  server CPU ${r_srvcpu[$id]:-?}%  dnsperf CPU ${r_clicpu[$id]:-?}%"
}

# ---------------------------------------------------------------- inputs

mkdir -p "$work/zones" "$work/knot-nodnstap" "$work/knot-dnstap"
awk -v mode=zones -v dir="$work/zones" -f "$here/gen.awk" "$domains" >"$work/zones.txt" ||
	die "cannot generate zones from $domains"
nzones=$(wc -l <"$work/zones.txt")
awk -v mode=queries -v n="$nq" -v seed="${BENCH_SEED:-$RANDOM}" -v aaaa="$aaaa_pct" \
	-f "$here/gen.awk" "$domains" >"$work/queries.txt" || die "cannot generate queries"
while read -r z; do echo "$(rand_label).$z A"; done <"$work/zones.txt" >"$work/cover.txt"

# NSD: one server process, RRL off (rrl-ratelimit: 0; dropped if this NSD
# was built without RRL, which then has none to turn off).
write_nsd_conf() {	# PORT WITH_RRL_LINES
	{
		echo "server:"
		echo "  server-count: 1"
		echo "  ip-address: 127.0.0.1@$1"
		echo "  port: $1"
		echo "  do-ip6: no"
		echo "  username: \"\""
		echo "  chroot: \"\""
		echo "  zonesdir: \"$work/zones\""
		echo "  database: \"\""
		echo "  pidfile: \"$work/nsd.pid\""
		echo "  xfrdfile: \"$work/nsd-xfrd.state\""
		echo "  zonelistfile: \"$work/nsd-zone.list\""
		echo "  logfile: \"$work/nsd.log.file\""
		echo "  verbosity: 1"
		echo "  hide-version: yes"
		if [ "$2" = 1 ]; then
			echo "  rrl-ratelimit: 0"
			echo "  rrl-whitelist-ratelimit: 0"
		fi
		echo "remote-control:"
		echo "  control-enable: no"
		while read -r z; do
			printf 'zone:\n  name: %s\n  zonefile: %s.zone\n' "$z" "$z"
		done <"$work/zones.txt"
	} >"$work/nsd.conf"
}

# Knot: one UDP and one TCP worker; with dnstap, a global mod-dnstap that
# logs every query and every response to a file, as a logging sinkhole would.
write_knot_conf() {	# NAME PORT DNSTAP(0/1)
	local d="$work/$1"
	{
		echo "server:"
		echo "  rundir: \"$d\""
		echo "  pidfile: \"$d/knot.pid\""
		echo "  listen: 127.0.0.1@$2"
		echo "  udp-workers: 1"
		echo "  tcp-workers: 1"
		echo "  background-workers: 1"
		echo "  automatic-acl: off"
		echo "log:"
		echo "  - target: \"$d/knot.log.file\""
		echo "    any: info"
		echo "database:"
		echo "  storage: \"$d\""
		if [ "$3" = 1 ]; then
			echo "mod-dnstap:"
			echo "  - id: tap"
			echo "    sink: \"$d/queries.dnstap\""
			echo "    log-queries: on"
			echo "    log-responses: on"
		fi
		echo "template:"
		echo "  - id: default"
		echo "    storage: \"$work/zones\""
		echo "    file: \"%s.zone\""
		echo "    zonefile-sync: -1"
		echo "    zonefile-load: whole"
		echo "    journal-content: none"
		[ "$3" = 1 ] && echo "    global-module: mod-dnstap/tap"
		echo "zone:"
		sed 's/^/  - domain: /' "$work/zones.txt"
	} >"$d/knot.conf"
}

write_sinkd_conf() {	# ID PORT EVERY(yes/no)
	cat >"$work/$1.conf" <<-EOF
		# generated by bench/dns/run.sh
		[server]
		workers = 1

		[dns]
		listen = 127.0.0.1:$2
		log_every_query = $3

		[rrl]
		# off: RRL would (correctly) limit a single-source benchmark
		enabled = no

		[domains]
		file = $domains

		[store]
		path = $work/$1.db
	EOF
}

# ---------------------------------------------------------------- runs

declare -A r_dropped r_udpdrop r_other r_qps r_sent r_lost r_avg r_codes r_size r_srvcpu r_clicpu r_fail r_note \
	r_latlost r_latqps r_p50 r_p99 r_p999
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "bench/dns: work dir $work; $nzones zones, $nq queries; $pinning"

if wanted nsd; then
	take_port
	write_nsd_conf "$port" 1
	if ! nsd-checkconf "$work/nsd.conf" >"$work/nsd-checkconf.out" 2>&1; then
		write_nsd_conf "$port" 0
		r_note[nsd]="this nsd has no RRL options (no RRL compiled in)"
	fi
	if nsd-checkconf "$work/nsd.conf" >"$work/nsd-checkconf.out" 2>&1; then
		run_peer nsd "$port" nsd -d -c "$work/nsd.conf"
	else
		r_fail[nsd]="nsd-checkconf: $(head -3 "$work/nsd-checkconf.out" | tr '\n' ' ')"
	fi
fi

for v in knot knot-dnstap; do
	wanted "$v" || continue
	take_port
	if [ "$v" = knot ]; then
		write_knot_conf knot-nodnstap "$port" 0
		conf="$work/knot-nodnstap/knot.conf"
	else
		write_knot_conf knot-dnstap "$port" 1
		conf="$work/knot-dnstap/knot.conf"
	fi
	if knotc -c "$conf" conf-check >"$work/$v-check.out" 2>&1; then
		run_peer "$v" "$port" knotd -c "$conf"
	else
		r_fail[$v]="knotc conf-check: $(head -3 "$work/$v-check.out" | tr '\n' ' ')"
	fi
done
if [ -f "$work/knot-dnstap/queries.dnstap" ]; then
	tap_bytes=$(stat -c %s "$work/knot-dnstap/queries.dnstap")
	r_note[knot-dnstap]+="${r_note[knot-dnstap]:+; }dnstap file $((tap_bytes / 1048576)) MiB"
elif wanted knot-dnstap && [ -z "${r_fail[knot-dnstap]:-}" ]; then
	r_fail[knot-dnstap]="no dnstap file written"
fi

for v in sinkd-default sinkd-every; do
	wanted "$v" || continue
	if [ ! -x "$sinkd_bin" ]; then
		r_fail[$v]="sinkd binary $sinkd_arg not found or not executable (build it: make build)"
		continue
	fi
	take_port
	write_sinkd_conf "$v" "$port" "$([ "$v" = sinkd-every ] && echo yes || echo no)"
	run_peer "$v" "$port" "$sinkd_bin" serve -c "$work/$v.conf" || continue
	# sinkd's own account at exit (whole lifetime: warm-up, runs, checks):
	# "stopped: N queries, ... events stored S (all listeners), DNS events dropped (queue full) D, ..."
	summary=$(grep -o 'stopped: .*' "$work/$v.log" | tail -1)
	if [ -n "$summary" ]; then
		r_note[$v]+="${r_note[$v]:+; }sinkd $summary"
		read -r stored dropped < <(sed -n 's/.*events stored \([0-9]*\) (all listeners), DNS events dropped (queue full) \([0-9]*\).*/\1 \2/p' <<<"$summary")
		if [ -n "${stored:-}" ] && [ "${dropped:-0}" -gt 0 ]; then
			r_dropped[$v]=$(awk -v s="$stored" -v d="$dropped" 'BEGIN { printf "%.0f", 100 * d / (s + d) }')
		fi
	else
		r_note[$v]+="${r_note[$v]:+; }no exit summary in sinkd's log"
	fi
	# What the store holds after a clean stop: rows per table.
	if command -v sqlite3 >/dev/null 2>&1 && [ -f "$work/$v.db" ]; then
		rows=$(sqlite3 "$work/$v.db" "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name" 2>/dev/null |
			while read -r t; do
				printf '%s=%s ' "$t" "$(sqlite3 "$work/$v.db" "SELECT count(*) FROM \"$t\"" 2>/dev/null)"
			done)
		r_note[$v]+="${r_note[$v]:+; }store rows: ${rows:-none}"
	fi
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report

ratio() {	# A B -> A/B with 2 decimals, or "-"
	awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}
goal() {	# NAME A B
	local r
	r=$(ratio "$2" "$3")
	if [ "$r" = "-" ]; then printf '%s = -  (not measured)\n' "$1"
	elif awk -v r="$r" 'BEGIN { exit !(r >= 1) }'; then printf '%s = %s  (goal >= 1): met\n' "$1" "$r"
	else printf '%s = %s  (goal >= 1): NOT met\n' "$1" "$r"
	fi
}

report() {
	echo "sinkd DNS benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(hostname)"
	echo "machine: $ncpu CPU ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)); load before $load_before, after $load_after"
	echo "versions: $(nsd -v 2>&1 | head -1); $(knotd -V 2>&1 | head -1); dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ { print $2 }')"
	echo "sinkd:    $sinkd_arg ($("$sinkd_bin" --version 2>/dev/null | head -1 || echo "not runnable"); tree $(git -C "$repo" rev-parse --short HEAD 2>/dev/null)$(git -C "$repo" diff --quiet HEAD -- src 2>/dev/null || echo "+uncommitted src changes"))"
	echo "load: dnsperf over UDP 127.0.0.1, -c $clients -q $outstanding -T $threads, $run_s s per server after a $warm_s s warm-up;"
	echo "      $nq random names (8-16 chars, ${aaaa_pct}% AAAA) under the $nzones seized zones, answered from wildcards"
	echo "cpu:  $pinning"
	echo "each server: one worker; nsd rrl off; sinkd [rrl] enabled = no (RRL would limit this single-source load)"
	echo
	printf '%-20s %9s %7s %7s %7s %7s %6s %6s %6s %6s  %s\n' server qps avg_ms p99_ms lost udpdrop srvcpu dpcpu other vs_nsd status
	local id st
	for id in "${ids[@]}"; do
		wanted "$id" || continue
		if [ -n "${r_fail[$id]:-}" ] && [ -z "${r_qps[$id]:-}" ]; then
			printf '%-20s %9s %7s %7s %7s %7s %6s %6s %6s %6s  %s\n' "${label[$id]}" - - - - - - - - - FAILED
			continue
		fi
		st=ok
		[ -n "${r_fail[$id]:-}" ] && st=FAILED
		case "${r_codes[$id]}" in "NOERROR "*"(100.00%)") ;; *) st="WRONG RCODES" ;; esac
		[ -n "${r_dropped[$id]:-}" ] && st+=", ${r_dropped[$id]}% of events dropped (queue full)"
		printf '%-20s %9.0f %7s %7s %7s %7s %5s%% %5s%% %5s%% %6s  %s\n' "${label[$id]}" "${r_qps[$id]}" \
			"${r_avg[$id]}" "${r_p99[$id]}" "${r_lost[$id]}" "${r_udpdrop[$id]}" "${r_srvcpu[$id]}" "${r_clicpu[$id]}" "${r_other[$id]}" \
			"$(ratio "${r_qps[$id]}" "${r_qps[nsd]:-}")" "$st"
	done
	echo
	goal "sinkd (default) / nsd            " "${r_qps[sinkd-default]:-}" "${r_qps[nsd]:-}"
	goal "sinkd (every query) / knot+dnstap" "${r_qps[sinkd-every]:-}" "${r_qps[knot-dnstap]:-}"
	if [ -n "${r_dropped[sinkd-every]:-}" ]; then
		echo "  but sinkd did not record every query: ${r_dropped[sinkd-every]}% of its events were dropped (queue full),"
		echo "  so this run is not 'every query recorded' and the second goal is not met as stated."
	fi
	echo
	echo "qps, avg_ms, lost: the saturating run (dnsperf's own statistics; lost = no answer within 5 s)."
	echo "udpdrop: datagrams the kernel dropped for a full socket receive buffer during that run (why queries get lost)."
	echo "p99_ms: a separate ${lat_s} s run at a fixed ${lat_qps} qps offered to every server (dnsperf -Q $lat_qps -c 1 -q 200 -v),"
	echo "        p99 of the per-query latencies dnsperf prints (dnsperf 2.10 has no percentile output);"
	echo "        at saturation latency is mostly queueing (-q $outstanding / qps), so it is not measured there."
	echo "srvcpu: CPU used by all the server's processes/threads during the saturating run (100% = one CPU);"
	echo "dpcpu:  CPU used by dnsperf. A server below ~95% while dnsperf is at ~100% is client-bound: its qps is a floor."
	echo "other:  all other CPU use during that run (other processes, kernel threads such as ksoftirqd); high = noisy run."
	echo
	for id in "${ids[@]}"; do
		wanted "$id" || continue
		echo "${label[$id]}:"
		[ -n "${r_fail[$id]:-}" ] && echo "  FAILED: ${r_fail[$id]}"
		if [ -n "${r_qps[$id]:-}" ]; then
			echo "  sent ${r_sent[$id]}, rcodes ${r_codes[$id]}, avg response ${r_size[$id]} bytes"
			echo "  latency run: ${r_latqps[$id]:-?} qps achieved, lost ${r_latlost[$id]:-?}, p50 ${r_p50[$id]} ms, p99 ${r_p99[$id]} ms, p99.9 ${r_p999[$id]} ms"
		fi
		[ -n "${r_note[$id]:-}" ] && echo "  note: ${r_note[$id]}"
	done
	return 0
}

mkdir -p "$outdir"
outfile="$outdir/dns-$(date +%Y%m%d-%H%M%S).txt"
report | tee "$outfile"
say "bench/dns: report written to $outfile"

status=0
for id in "${ids[@]}"; do
	wanted "$id" && [ -n "${r_fail[$id]:-}" ] && status=1
done
exit "$status"
