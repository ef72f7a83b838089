#!/usr/bin/env bash
# Side-by-side HTTP benchmark: sinkd against nginx (Debian nginx-light, one
# worker, access log on) in one run on this machine, loaded by wrk over
# loopback: keep-alive and one request per connection, a small GET and a
# 1 KiB form POST. Also memory per idle connection and TLS handshakes/s.
# Prints req/s, p99 latency, errors and the ratios, and for sinkd how many
# requests it stored against how many were answered; writes the same report
# to bench/out/.
#
# Usage: bench/http/run.sh SINKD_BINARY        (make bench-http)
# See bench/http/README.md for what is measured and the BENCH_* knobs.
set -uo pipefail

usage() {
	echo "usage: $0 SINKD_BINARY   (env: BENCH_SECONDS, BENCH_ONLY, BENCH_PARTS, ...; see bench/http/README.md)" >&2
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

run_s=${BENCH_SECONDS:-10}		# measured wrk run, per server and mode
warm_s=${BENCH_WARMUP:-1}		# unmeasured wrk run before it
conns=${BENCH_CONNECTIONS:-64}		# wrk -c
wrk_threads=${BENCH_WRK_THREADS:-1}	# wrk -t
idle_n=${BENCH_IDLE_CONNS:-5000}	# connections of the memory test
tls_s=${BENCH_TLS_SECONDS:-5}		# each TLS measurement
tls_clients=${BENCH_TLS_CLIENTS:-8}	# parallel openssl s_time -new
tls_keys=${BENCH_TLS_KEYS:-rsa2048 p256}
server_cpu=${BENCH_SERVER_CPU:-1}
client_cpu=${BENCH_CLIENT_CPU:-0}
port_base=${BENCH_PORT_BASE:-18080}
domains=${BENCH_DOMAINS:-$repo/data/waledac-domains.txt}
only=${BENCH_ONLY:-}			# e.g. "nginx sinkd" (ids below)
parts=${BENCH_PARTS:-throughput memory tls}
keep=${BENCH_KEEP:-0}			# 1 = keep the work dir
outdir=${BENCH_OUTDIR:-$repo/bench/out}
stop_timeout=${BENCH_STOP_TIMEOUT:-60}	# sinkd drains its queue on SIGTERM
nginx_echo_so=${BENCH_NGINX_ECHO:-/usr/lib/nginx/modules/ngx_http_echo_module.so}

ids=(nginx nginx-body sinkd)
declare -A label=([nginx]="nginx" [nginx-body]="nginx+body" [sinkd]="sinkd")
modes=(get-ka post-ka get-close post-close)
declare -A mlabel=([get-ka]="GET keep-alive" [post-ka]="POST keep-alive"
	[get-close]="GET close" [post-close]="POST close")

die() {
	say "bench/http: $*"
	exit 1
}

for c in nginx wrk openssl python3 sqlite3 curl taskset ss awk; do
	command -v "$c" >/dev/null 2>&1 ||
		die "'$c' not found; install the bench packages: scripts/install-deps.sh --bench"
done
[ -r "$domains" ] || die "cannot read the domain list $domains"
[ -r "$nginx_echo_so" ] ||
	say "bench/http: warning: $nginx_echo_so not found (package libnginx-mod-http-echo, a dependency of nginx-light); nginx+body will fail"

ncpu=$(nproc)
if [ "$ncpu" -ge 2 ]; then
	pin_server=(taskset -c "$server_cpu")
	pin_client=(taskset -c "$client_cpu")
	pinning="server on CPU $server_cpu, wrk on CPU $client_cpu (taskset; all threads of each)"
else
	pin_server=()
	pin_client=()
	pinning="NOT pinned: only $ncpu CPU, server and wrk share it"
fi
clk_tck=$(getconf CLK_TCK)

work=$(mktemp -d "${TMPDIR:-/tmp}/sinkd-bench-http.XXXXXX") || die "mktemp failed"
pgids=()		# process groups we started (each server runs under setsid)
client_pid=""
client_pids=()

cleanup() {
	local pg p
	[ -n "$client_pid" ] && kill -KILL "$client_pid" 2>/dev/null
	for p in "${client_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for pg in "${pgids[@]}"; do kill -TERM -- "-$pg" 2>/dev/null; done
	for pg in "${pgids[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 -- "-$pg" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL -- "-$pg" 2>/dev/null
	done
	if [ "$keep" = 1 ]; then say "bench/http: work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers

port_free() {	# PORT: nothing listens on udp or tcp PORT
	[ -z "$(ss -Hlnut "sport = :$1" 2>/dev/null)" ]
}
next_port=$port_base
# stop_server [TIMEOUT]: TERM the group, wait, then KILL. Sets stop_note
# and stop_s (seconds from SIGTERM to exit: sinkd drains its queue then).
stop_server() {
	local pg=$server_pg i limit=$((${1:-10} * 10)) t0
	stop_note=""
	t0=$(date +%s.%N)
	kill -TERM -- "-$pg" 2>/dev/null
	for ((i = 0; i < limit; i++)); do
		if ! kill -0 -- "-$pg" 2>/dev/null; then
			stop_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
			return 0
		fi
		sleep 0.1
	done
	kill -KILL -- "-$pg" 2>/dev/null
	stop_s=""
	stop_note="did not exit within ${1:-10} s of SIGTERM, killed"
}

# Resident memory of all the server's processes, bytes.
server_rss() {
	local pid kb=0 v
	for pid in $(server_pids); do
		v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		kb=$((kb + ${v:-0}))
	done
	echo $((kb * 1024))
}

# wait_up URL SECONDS: until the server answers 200.
wait_up() {
	local url=$1 deadline=$((SECONDS + $2))
	while ((SECONDS < deadline)); do
		alive || return 1
		[ "$(curl -sk -o /dev/null -m 1 -w '%{http_code}' "$url" 2>/dev/null)" = 200 ] && return 0
		sleep 0.2
	done
	return 1
}

# verify PORT: a GET and a form POST (with Connection: close) get 200.
# Sets verify_note ("" = good). Counts the requests in checks_sent.
verify() {
	local port=$1 code
	verify_note=""
	code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' -H "Host: $vhost" -A "$ua" \
		"http://127.0.0.1:$port$get_path" 2>&1)
	checks_sent=$((checks_sent + 1))
	[ "$code" = 200 ] || { verify_note="GET $get_path answered '$code' (want 200)"; return 1; }
	code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' -H "Host: $vhost" -A "$ua" \
		-H 'Connection: close' --data-binary "@$work/post.body" \
		-H 'Content-Type: application/x-www-form-urlencoded' "http://127.0.0.1:$port$post_path" 2>&1)
	checks_sent=$((checks_sent + 1))
	[ "$code" = 200 ] || { verify_note="POST $post_path answered '$code' (want 200)"; return 1; }
	return 0
}

# wrk_run OUT ARGS...: one pinned wrk, killable by the trap.
wrk_run() {
	local out=$1
	shift
	"${pin_client[@]}" wrk "$@" >"$out" 2>&1 &
	client_pid=$!
	wait "$client_pid"
	client_pid=""
}

# wrk_args MODE URL: the wrk arguments of one mode into the array wargs.
wrk_args() {
	wargs=(-t "$wrk_threads" -c "$conns" -H "Host: $vhost" -H "User-Agent: $ua")
	case "$1" in *-close) wargs+=(-H 'Connection: close') ;; esac
	case "$1" in
	get-*) wargs+=("$2$get_path") ;;
	post-*) wargs+=(-s "$work/post.lua" "$2$post_path") ;;
	esac
}

# Numbers from a wrk report.
wrk_requests() { awk '/ requests in / { print $1; exit }' "$1"; }
wrk_rps() { awk '/^Requests\/sec:/ { print $2; exit }' "$1"; }
wrk_p99() {	# in ms
	awk '$1 == "99%" { v = $2; u = v; sub(/[a-z]+$/, "", v); sub(/^[0-9.]+/, "", u);
		f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : 0;
		printf "%.2f", v * f; exit }' "$1"
}
wrk_errors() {	# connect+read+write+timeout socket errors
	awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10; f = 1; exit } END { if (!f) print 0 }' "$1"
}
wrk_errdetail() { awk '/Socket errors:/ { sub(/^ */, ""); print; exit }' "$1"; }
wrk_non2xx() { awk '/Non-2xx or 3xx responses:/ { print $NF; f = 1; exit } END { if (!f) print 0 }' "$1"; }

# metered RUNNER ARGS...: one client run (wrk_run or stime_run) with the
# CPU accounting around it. Sets m_srv, m_cli, m_other (% of one CPU).
metered() {
	local t0 t1 c0 c1 j0 j1 jt0 jt1 st0 wall
	t0=$(server_ticks)
	read -r j0 jt0 < <(cpu_jiffies)
	child_cpu c0
	st0=$(date +%s.%N)
	"$@"
	child_cpu c1
	read -r j1 jt1 < <(cpu_jiffies)
	t1=$(server_ticks)
	wall=$(awk -v a="$st0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
	m_srv=$(awk -v d="$((t1 - t0))" -v hz="$clk_tck" -v w="$wall" 'BEGIN { printf "%.0f", 100 * d / hz / w }')
	m_cli=$(awk -v a="$c0" -v b="$c1" -v w="$wall" 'BEGIN { printf "%.0f", 100 * (b - a) / w }')
	m_other=$(awk -v j="$((j1 - j0))" -v s="$((t1 - t0))" -v c="$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" \
		-v hz="$clk_tck" -v w="$wall" 'BEGIN { o = 100 * ((j - s) / hz - c) / w; printf "%.0f", o < 0 ? 0 : o }')
}

part() { [[ " $parts " == *" $1 "* ]]; }
note() { r_note[$1]+="${r_note[$1]:+; }$2"; }	# ID TEXT

# ---------------------------------------------------------------- inputs

vhost=$(awk -F, 'NF && $1 !~ /^#/ && $1 != "domain" { print $1; exit }' "$domains")
[ -n "$vhost" ] || die "no domain in $domains"
ua="Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1; sinkd-bench)"
get_path="/gate.php?id=4f2a9c01&v=2"
post_path="/gate.php"
# The POST body: exactly 1024 bytes of application/x-www-form-urlencoded,
# two fields of base64url (valid form encoding as is), the second one
# ending in a marker the store check looks for.
marker="sinkdbenchmarker"
python3 - "$work/post.body" "$marker" <<-'EOF' || die "cannot generate the POST body"
	import base64, os, sys
	path, marker = sys.argv[1], sys.argv[2]
	a = base64.urlsafe_b64encode(os.urandom(600)).decode().rstrip("=")
	body = "a=" + a + "&b="
	tail = marker
	fill = 1024 - len(body) - len(tail)
	b = base64.urlsafe_b64encode(os.urandom(fill)).decode()[:fill]
	body += b + tail
	assert len(body) == 1024
	open(path, "w").write(body)
EOF
{
	echo "-- generated by bench/http/run.sh: a 1 KiB form POST"
	echo 'wrk.method = "POST"'
	echo 'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"'
	printf 'wrk.body = "%s"\n' "$(cat "$work/post.body")"
} >"$work/post.lua"

. "$here/conf.sh"	# write_nginx_conf, write_sinkd_conf

# Sections this sinkd knows (from `sinkd config dump`).
sinkd_sections=""
has_section() { [[ " $sinkd_sections " == *" $1 "* ]]; }

# start_peer ID INSTANCE [TLSKEY [EXTRA]]: start a fresh instance of server
# ID on new ports, wait for it and check it. With TLSKEY: TLS on, checked
# over https only. Sets port (the one to load), inst_fail ("" = up).
start_peer() {
	local id=$1 inst=$2 k=${3:-} hport dport tport="" url
	inst_fail=""
	repinned=0
	checks_sent=0
	take_port
	case "$id" in
	nginx | nginx-body)
		write_nginx_conf "$inst" "$port" "$([ "$id" = nginx-body ] && echo 1 || echo 0)" "$k"
		if ! nginx -t -q -p "$work/$inst/" -c "$work/$inst/nginx.conf" >"$work/$inst.check" 2>&1; then
			inst_fail="nginx -t: $(head -3 "$work/$inst.check" | tr '\n' ' ')"
			return 1
		fi
		start_server "$inst" nginx -p "$work/$inst/" -c "$work/$inst/nginx.conf"
		;;
	sinkd)
		hport=$port
		take_port
		dport=$port
		if [ -n "$k" ]; then
			take_port
			tport=$port
		fi
		write_sinkd_conf "$inst" "$hport" "$dport" "$tport" "$k" "${4:-}"
		if ! "$sinkd_bin" config check "$work/$inst.conf" >"$work/$inst.check" 2>&1; then
			inst_fail="sinkd config check: $(head -3 "$work/$inst.check" | tr '\n' ' ')"
			return 1
		fi
		start_server "$inst" "$sinkd_bin" serve -c "$work/$inst.conf"
		port=${tport:-$hport}
		;;
	esac
	url="http://127.0.0.1:$port/"
	[ -n "$k" ] && url="https://127.0.0.1:$port/"
	if ! wait_up "$url" "${BENCH_START_TIMEOUT:-10}"; then
		if alive; then inst_fail="no 200 from $url within ${BENCH_START_TIMEOUT:-10} s"
		else inst_fail="exited during start-up"; fi
		inst_fail+="; log tail: $(tail -5 "$work/$inst.log" | tr '\n' '|')"
		stop_server
		return 1
	fi
	checks_sent=1
	repin
	[ -n "$k" ] && return 0
	if ! verify "$port"; then
		inst_fail=$verify_note
		stop_server
		return 1
	fi
	return 0
}

# sinkd_account INST: sinkd's own account at exit and the rows it stored.
# Sets s_recv (HTTP requests), s_conns, s_dropped (events dropped, ring
# full), s_http and s_tls (event rows of kind 2 and 3), s_stopped, s_cap.
sinkd_account() {
	local inst=$1
	s_cap=$(grep -o 'capture: .*' "$work/$inst.log" | tail -1)
	s_stopped=$(grep -o 'stopped: .*' "$work/$inst.log" | tail -1)
	s_conns=$(sed -n 's/^capture: \([0-9]*\) connections.*/\1/p' <<<"$s_cap")
	s_recv=$(sed -n 's/.*, \([0-9]*\) requests (.*/\1/p' <<<"$s_cap")
	s_dropped=$(sed -n 's/.* \([0-9]*\) events dropped.*/\1/p' <<<"$s_cap")
	s_http=$(sqlite3 "$work/$inst.db" "SELECT count(*) FROM events WHERE kind = 2" 2>/dev/null)
	s_tls=$(sqlite3 "$work/$inst.db" "SELECT count(*) FROM events WHERE kind = 3" 2>/dev/null)
}

# ---------------------------------------------------------------- throughput

# run_mode ID MODE: fresh instance, warm-up, measured run, stop, account.
run_mode() {
	local id=$1 mode=$2 inst="$1-$2" key="$1/$2" try tries=${BENCH_TRIES:-3} noise=${BENCH_NOISE:-15}
	local out="$work/$inst.wrk" answered=0 n f
	say "== ${label[$id]}, ${mlabel[$mode]}"
	if ! start_peer "$id" "$inst"; then
		r_fail[$key]=$inst_fail
		say "   FAILED: $inst_fail"
		return 1
	fi
	answered=$checks_sent
	wrk_args "$mode" "http://127.0.0.1:$port"
	for ((try = 1; try <= tries; try++)); do
		quiet_wait
		wrk_run "$work/$inst.warm$try" -d "${warm_s}s" "${wargs[@]}"
		n=$(wrk_requests "$work/$inst.warm$try")
		answered=$((answered + ${n:-0}))
		repin
		metered wrk_run "$out" -d "${run_s}s" --latency "${wargs[@]}"
		n=$(wrk_requests "$out")
		answered=$((answered + ${n:-0}))
		((m_other <= noise)) && break
		((try < tries)) && say "   noisy run (other work used ${m_other}% of a CPU), repeating"
	done
	[ -n "$quiet_note" ] && r_note[$key]+="${r_note[$key]:+; }$quiet_note"
	((m_other > noise)) && r_note[$key]+="${r_note[$key]:+; }noisy after $tries tries"
	((repinned > 0)) && r_note[$key]+="${r_note[$key]:+; }$repinned thread(s) moved back to CPU $server_cpu"
	r_rps[$key]=$(wrk_rps "$out")
	r_req[$key]=$(wrk_requests "$out")
	r_p99[$key]=$(wrk_p99 "$out")
	r_err[$key]=$(wrk_errors "$out")
	r_non2xx[$key]=$(wrk_non2xx "$out")
	r_srvcpu[$key]=$m_srv
	r_clicpu[$key]=$m_cli
	r_other[$key]=$m_other
	r_answered[$key]=$answered
	[ "${r_err[$key]}" != 0 ] && r_note[$key]+="${r_note[$key]:+; }wrk $(wrk_errdetail "$out")"
	[ -n "${r_rps[$key]}" ] || r_fail[$key]="wrk gave no result: $(tail -3 "$out" | tr '\n' ' ')"
	alive || r_fail[$key]="died under load; log tail: $(tail -5 "$work/$inst.log" | tr '\n' '|')"
	stop_server "$([ "$id" = sinkd ] && echo "$stop_timeout" || echo 10)"
	[ -n "$stop_note" ] && r_note[$key]+="${r_note[$key]:+; }$stop_note"
	account "$id" "$mode" "$inst"
	say "   ${r_rps[$key]:-?} req/s  p99 ${r_p99[$key]:-?} ms  errors ${r_err[$key]:-?}  non-2xx ${r_non2xx[$key]:-?}  server CPU ${r_srvcpu[$key]:-?}%  wrk CPU ${r_clicpu[$key]:-?}%${r_rec[$key]:+  | ${r_rec[$key]}}"
}

# account ID MODE INST: what the server recorded of the requests answered
# by this instance (checks, warm-up and measured runs; requests still in
# flight when wrk stopped are received but not counted by wrk).
account() {
	local id=$1 key="$1/$2" inst=$3 logged sample
	case "$id" in
	nginx | nginx-body)
		logged=$(wc -l <"$work/$inst/access.log" 2>/dev/null || echo 0)
		r_stored[$key]=$logged
		r_rec[$key]="access log $logged lines for ${r_answered[$key]} answered"
		if [ "$2" = post-ka ] || [ "$2" = post-close ]; then
			if grep -q "$marker" "$work/$inst/access.log" 2>/dev/null; then
				r_rec[$key]+=", bodies logged"
			else
				r_rec[$key]+=", bodies NOT logged"
			fi
		fi
		;;
	sinkd)
		sinkd_account "$inst"
		r_stored[$key]=${s_http:-}
		r_recv[$key]=${s_recv:-}
		r_dropped[$key]=${s_dropped:-}
		r_drain[$key]=${stop_s:-}
		r_rec[$key]="received ${s_recv:-?}, stored ${s_http:-?} rows (kind=2), dropped ${s_dropped:-?}; wrk+checks got ${r_answered[$key]} answers; drain ${stop_s:-?} s"
		[ -n "$s_cap" ] || note "$key" "no capture summary in sinkd's log"
		[ -n "$s_stopped" ] && note "$key" "sinkd $s_stopped"
		[ -n "$s_cap" ] && note "$key" "sinkd $s_cap"
		if [ "$2" = post-ka ] && [ -f "$work/$inst.db" ]; then
			sample=$("$sinkd_bin" events --db "$work/$inst.db" --type http --format json --limit 1 2>&1)
			r_sample=$sample
			grep -q "$marker" <<<"$sample" && r_sample_body=yes || r_sample_body=no
			grep -q "sinkd-bench" <<<"$sample" && r_sample_ua=yes || r_sample_ua=no
			if [ "$r_sample_body" = no ]; then
				sqlite3 "$work/$inst.db" .dump 2>/dev/null | grep -q "$marker" && r_sample_body="in the database, not in 'sinkd events'"
			fi
			if [ "$r_sample_ua" = no ]; then
				sqlite3 "$work/$inst.db" .dump 2>/dev/null | grep -q "sinkd-bench" && r_sample_ua="in the database, not in 'sinkd events'"
			fi
		fi
		;;
	esac
}

# ---------------------------------------------------------------- memory

# idle_mem ID MODE: fresh instance, warmed by 1 s of keep-alive GETs (so
# first-touch memory such as sinkd's event ring and SQLite's page cache is
# in the baseline, not counted per connection), then RSS before and after
# idle_n idle connections (MODE connect or request, see idle.py).
idle_mem() {
	local id=$1 mode=$2 inst="$1-idle-$2" key="$1/$2" rss0 rss1 held i ready out
	say "== ${label[$id]}, memory: $idle_n idle connections ($mode)"
	if ! start_peer "$id" "$inst"; then
		m_fail[$key]=$inst_fail
		say "   FAILED: $inst_fail"
		return 1
	fi
	wrk_args get-ka "http://127.0.0.1:$port"
	wrk_run "$work/$inst.warm" -d 1s "${wargs[@]}"
	sleep 1.5
	rss0=$(server_rss)
	ready="$work/$inst.ready"
	"${pin_client[@]}" python3 "$here/idle.py" 127.0.0.1 "$port" "$idle_n" "$mode" \
		"$ready" "$work/$inst.done" 60 >"$work/$inst.idle" 2>&1 &
	client_pid=$!
	for ((i = 0; i < 600; i++)); do
		[ -f "$ready" ] && break
		kill -0 "$client_pid" 2>/dev/null || break
		sleep 0.1
	done
	sleep 1
	rss1=$(server_rss)
	held=$(ss -Htn state established "( sport = :$port )" 2>/dev/null | wc -l)
	touch "$work/$inst.done"
	wait "$client_pid"
	client_pid=""
	out=$(tail -1 "$work/$inst.idle")
	alive || m_fail[$key]="died holding idle connections; log tail: $(tail -5 "$work/$inst.log" | tr '\n' '|')"
	stop_server "$([ "$id" = sinkd ] && echo "$stop_timeout" || echo 10)"
	m_rss0[$key]=$rss0
	m_rss1[$key]=$rss1
	m_held[$key]=$held
	m_client[$key]=$out
	if [ "$held" -gt 0 ]; then
		m_per[$key]=$(( (rss1 - rss0) / held ))
	fi
	say "   RSS $((rss0 / 1024)) KiB -> $((rss1 / 1024)) KiB, $held connections held by the server: ${m_per[$key]:-?} bytes each (client: $out)"
}

# pool_cost ID: both servers allocate their connection pool at start and
# write to every slot (nginx: worker_connections, sinkd: [capture]
# max_connections), so the idle test does not see it. RSS at start with the
# configured pool against a pool of 16 gives the cost of one slot.
pool_cost() {
	local id=$1 big small=16 r_big r_small
	case "$id" in
	nginx) big=$((idle_n + 2048)) ;;
	sinkd) big=$("$sinkd_bin" config dump 2>/dev/null |
		awk -F' = ' '/^\[/ { s = $1 } s == "[capture]" && $1 == "max_connections" { print $2 }') ;;
	esac
	[ -n "$big" ] && [ "$big" -gt "$small" ] || return 0
	say "== ${label[$id]}, memory: connection pool of $big slots against $small"
	start_peer "$id" "$id-pool-big" || return 0
	sleep 0.5
	r_big=$(server_rss)
	stop_server "$stop_timeout"
	nginx_wc=$small
	start_peer "$id" "$id-pool-small" "" "max_connections = $small"
	local ret=$?
	nginx_wc=""
	[ "$ret" = 0 ] || return 0
	sleep 0.5
	r_small=$(server_rss)
	stop_server "$stop_timeout"
	m_slots[$id]=$big
	m_slot[$id]=$(( (r_big - r_small) / (big - small) ))
	m_pool[$id]=$((r_big - r_small))
	say "   RSS at start $((r_big / 1024)) KiB against $((r_small / 1024)) KiB: ${m_slot[$id]} bytes per slot"
}

# ---------------------------------------------------------------- TLS

# stime_run OUT: BENCH_TLS_CLIENTS pinned `openssl s_time -new` at once,
# each doing full handshakes one after another (no HTTP request).
stime_run() {
	local out=$1 i
	client_pids=()
	for ((i = 0; i < tls_clients; i++)); do
		"${pin_client[@]}" timeout $((tls_s + 20)) openssl s_time -connect "127.0.0.1:$port" -new \
			-time "$tls_s" >"$out.$i" 2>&1 </dev/null &
		client_pids+=($!)
	done
	wait "${client_pids[@]}"
	client_pids=()
}

# tls_resumes: "yes" when the server resumes a session (ticket or cache).
tls_resumes() {
	local sess="$work/tls-$port.sess"
	# stdin open for a moment: TLS 1.3 tickets come after the handshake
	sleep 1 | timeout 10 openssl s_client -connect "127.0.0.1:$port" -sess_out "$sess" >/dev/null 2>&1
	if sleep 1 | timeout 10 openssl s_client -connect "127.0.0.1:$port" -sess_in "$sess" 2>/dev/null |
		grep -q '^Reused, '; then echo yes; else echo no; fi
}

# tls_run ID KEY: TLS on server ID (nginx or sinkd) with the self-signed
# certificate KEY. Full handshakes from parallel openssl s_time -new
# clients; then wrk over https with Connection: close (wrk resumes
# sessions where the server lets it).
tls_run() {
	local id=$1 k=$2 key="$1/$2" inst="$1-tls-$2" out n0 answered=0
	say "== ${label[$id]} TLS ($k)"
	if ! start_peer "$id" "$inst" "$k"; then
		t_fail[$key]=$inst_fail
		say "   FAILED: $inst_fail"
		return 1
	fi
	t_sproto[$key]=$(timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername "$vhost" </dev/null 2>/dev/null |
		awk '/^New, / { sub(/^New, /, ""); sub(/, Cipher is /, " "); print; exit }')
	t_resume[$key]=$(tls_resumes)
	quiet_wait
	out="$work/$inst.stime"
	metered stime_run "$out"
	read -r t_stime[$key] t_shs[$key] < <(cat "$out".* | awk '/connections in [0-9.]+ real seconds/ { n += $1; if ($4 > t) t = $4 }
		END { if (t > 0) printf "%.0f %d\n", n / t, n; else print "" }')
	t_ssrv[$key]=$m_srv
	t_scli[$key]=$m_cli
	[ -n "${t_stime[$key]:-}" ] || t_note[$key]+="s_time gave no result: $(tail -2 "$out.0" | tr '\n' ' '); "
	quiet_wait
	[ -f "$work/$inst/access.log" ] && n0=$(wc -l <"$work/$inst/access.log")
	metered wrk_run "$work/$inst.wrk" -d "${tls_s}s" --latency -t "$wrk_threads" -c "$conns" \
		-H "Host: $vhost" -H "User-Agent: $ua" -H 'Connection: close' "https://127.0.0.1:$port$get_path"
	t_wrk[$key]=$(wrk_rps "$work/$inst.wrk")
	t_wreq[$key]=$(wrk_requests "$work/$inst.wrk")
	t_p99[$key]=$(wrk_p99 "$work/$inst.wrk")
	t_err[$key]=$(($(wrk_errors "$work/$inst.wrk") + $(wrk_non2xx "$work/$inst.wrk")))
	t_wsrv[$key]=$m_srv
	t_wcli[$key]=$m_cli
	if [ -f "$work/$inst/access.log" ]; then
		# ... $ssl_protocol $ssl_cipher "sni" "ciphers" "curves" $ssl_session_reused
		t_wproto[$key]=$(tail -n +$((n0 + 1)) "$work/$inst/access.log" | awk '
			{ n++; if ($NF == "r") r++; for (i = 1; i <= NF; i++) if ($i ~ /^TLSv/) { p[$i]++; break } }
			END { for (k in p) { s = s sep k; sep = "," } if (n) printf "%s, %.0f%% resumed", s, 100 * r / n }')
	fi
	alive || t_fail[$key]="died under load; log tail: $(tail -5 "$work/$inst.log" | tr '\n' '|')"
	stop_server "$([ "$id" = sinkd ] && echo "$stop_timeout" || echo 10)"
	[ -n "$stop_note" ] && t_note[$key]+="$stop_note; "
	if [ "$id" = sinkd ]; then
		sinkd_account "$inst"
		# connections made: checks (wait_up, s_client x3) + s_time + wrk
		t_rec[$key]="$s_conns connections, stored ${s_tls:-?} TLS rows (kind=3) and ${s_http:-?} HTTP rows, dropped ${s_dropped:-?}; clients made $(( ${t_shs[$key]:-0} + ${t_wreq[$key]:-0} )) handshakes + checks"
		[ -n "$s_cap" ] && t_note[$key]+="sinkd $s_cap; "
	fi
	say "   s_time x$tls_clients ${t_stime[$key]:-?}/s (server CPU ${t_ssrv[$key]}%, clients ${t_scli[$key]}%), ${t_sproto[$key]:-?}, resumes: ${t_resume[$key]}; wrk ${t_wrk[$key]:-?}/s (server CPU ${t_wsrv[$key]}%, wrk ${t_wcli[$key]}%)${t_rec[$key]:+ | ${t_rec[$key]}}"
}

make_cert() {	# KEY: self-signed certificate for CN=<vhost> in the work dir
	local k=$1 newkey
	case "$k" in
	rsa2048) newkey=(-newkey rsa:2048) ;;
	p256) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1) ;;
	*) cert_fail[$k]="unknown key type (BENCH_TLS_KEYS: rsa2048, p256)"; return 1 ;;
	esac
	openssl req -x509 "${newkey[@]}" -nodes -days 2 -subj "/CN=$vhost" \
		-keyout "$work/tls-$k.key" -out "$work/tls-$k.crt" >"$work/tls-$k.out" 2>&1 ||
		{ cert_fail[$k]="openssl req failed: $(tail -2 "$work/tls-$k.out" | tr '\n' ' ')"; return 1; }
}

# ---------------------------------------------------------------- runs

declare -A r_rps r_req r_p99 r_err r_non2xx r_srvcpu r_clicpu r_other r_answered r_stored r_recv r_dropped \
	r_drain r_rec r_note r_fail m_rss0 m_rss1 m_held m_per m_client m_fail m_slots m_slot m_pool cert_fail \
	t_stime t_shs t_ssrv t_scli t_sproto t_resume t_wrk t_wreq t_p99 t_err t_wsrv t_wcli t_wproto t_rec t_fail t_note
r_sample="" r_sample_body="" r_sample_ua="" nginx_wc=""
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "bench/http: work dir $work; $pinning; Host: $vhost"

sinkd_ok=1
if wanted sinkd; then
	if [ ! -x "$sinkd_bin" ]; then
		sinkd_ok=0
		say "bench/http: sinkd binary $sinkd_arg not found or not executable (build it: make build)"
	else
		sinkd_sections=$("$sinkd_bin" config dump 2>/dev/null | sed -n 's/^\[\([a-z]*\)\]$/\1/p' | tr '\n' ' ')
	fi
fi

if part throughput; then
	for mode in "${modes[@]}"; do
		for id in "${ids[@]}"; do
			wanted "$id" || continue
			if [ "$id" = sinkd ] && [ "$sinkd_ok" = 0 ]; then
				r_fail[sinkd/$mode]="sinkd binary $sinkd_arg not found or not executable"
				continue
			fi
			run_mode "$id" "$mode"
		done
	done
fi
if part memory; then
	for id in "${ids[@]}"; do
		wanted "$id" || continue
		[ "$id" = nginx-body ] && continue	# same connection handling as nginx
		[ "$id" = sinkd ] && [ "$sinkd_ok" = 0 ] && continue
		idle_mem "$id" connect
		idle_mem "$id" request
		pool_cost "$id"
	done
fi
if part tls; then
	for k in $tls_keys; do
		make_cert "$k" || continue
		for id in nginx sinkd; do
			wanted "$id" || continue
			[ "$id" = sinkd ] && { [ "$sinkd_ok" = 1 ] && has_section tls || continue; }
			tls_run "$id" "$k"
		done
	done
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report

. "$here/report.sh"

mkdir -p "$outdir"
outfile="$outdir/http-$(date +%Y%m%d-%H%M%S).txt"
report | tee "$outfile"
say "bench/http: report written to $outfile"

status=0
for key in "${!r_fail[@]}" "${!m_fail[@]}" "${!t_fail[@]}"; do
	status=1
done
exit "$status"
