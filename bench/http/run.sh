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

say() { printf '%s\n' "$*" >&2; }
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
take_port() {	# sets $port to the next free port at or above next_port
	port=$next_port
	while ! port_free "$port"; do port=$((port + 1)); done
	next_port=$((port + 1))
}

# start_server ID CMD...: run CMD pinned, in its own session, log in work dir.
start_server() {
	local id=$1
	shift
	setsid "${pin_server[@]}" "$@" >"$work/$id.log" 2>&1 </dev/null &
	server_pg=$!
	pgids+=("$server_pg")
}

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

alive() { kill -0 "$server_pg" 2>/dev/null; }

# Pids of every process in the server's process group.
server_pids() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v pg="$server_pg" '
		{ s = $0; sub(/.*\) /, "", s); split(s, a, " "); if (a[3] == pg) print $1 }'
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

# repin: move every thread of the server to the server CPU, in case a
# server sets its own affinity. Counts in $repinned.
repin() {
	local pid t n=0
	[ ${#pin_server[@]} -gt 0 ] || return 0
	for pid in $(server_pids); do
		for t in /proc/"$pid"/task/*; do
			[ "$(awk '/^Cpus_allowed_list/ { print $2 }' "$t/status" 2>/dev/null)" = "$server_cpu" ] && continue
			taskset -p -c "$server_cpu" "${t##*/}" >/dev/null 2>&1 && n=$((n + 1))
		done
	done
	repinned=$((repinned + n))
	return 0
}

# CPU ticks (user+sys) of every process in the server's process group.
server_ticks() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v pg="$server_pg" '
		{ s = $0; sub(/.*\) /, "", s); split(s, a, " ");
		  if (a[3] == pg) t += a[12] + a[13] }
		END { print t + 0 }'
}

# Seconds of user+sys CPU of the reaped children of this shell. Call it
# in the main shell (not in $(...)): `times` there covers wrk.
child_cpu() {	# VAR
	times >"$work/times.out"
	printf -v "$1" '%s' "$(awk 'NR == 2 {
		n = split($1 " " $2, f, " "); t = 0
		for (i = 1; i <= n; i++) { split(f[i], m, "m"); sub(/s/, "", m[2]); t += m[1] * 60 + m[2] }
		print t }' "$work/times.out")"
}

# Busy and total jiffies of all CPUs, from /proc/stat.
cpu_jiffies() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }

# quiet_wait: wait (up to BENCH_QUIET_WAIT s) until other processes use
# under 10% of the machine. Sets quiet_note when it never got quiet.
quiet_wait() {
	local deadline=$((SECONDS + ${BENCH_QUIET_WAIT:-120})) b0 t0 b1 t1 busy said=0
	quiet_note=""
	while :; do
		read -r b0 t0 < <(cpu_jiffies)
		sleep 1
		read -r b1 t1 < <(cpu_jiffies)
		busy=$(( (b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))
		((busy < 10)) && return 0
		if ((SECONDS >= deadline)); then
			quiet_note="machine busy before the run: other processes used ${busy}% of all CPUs"
			return 0
		fi
		((said++ == 0)) && say "   waiting for the machine to be quiet (other processes use ${busy}% of all CPUs)"
	done
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

wanted() { [ -z "$only" ] || [[ " $only " == *" $1 "* ]]; }
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

# nginx: one worker, an access log in the work dir with what a sinkhole
# wants of each request. ID nginx: `return 200` (the body of a POST is
# read and discarded unlogged: $request_body stays empty). ID nginx-body:
# the body is read into memory by the echo module's echo_read_request_body
# (nginx-light depends on libnginx-mod-http-echo) and then answered by the
# same `return 200` through echo_exec, so $request_body is logged.
write_nginx_conf() {	# ID PORT BODY(0/1) TLS(""|KEYNAME)
	local d="$work/$1" tls=${4:-}
	mkdir -p "$d"
	{
		echo "# generated by bench/http/run.sh"
		[ "$3" = 1 ] && echo "load_module $nginx_echo_so;"
		echo "worker_processes 1;"
		echo "daemon off;"
		echo "master_process on;"
		echo "pid $d/nginx.pid;"
		echo "error_log $d/error.log warn;"
		echo "worker_rlimit_nofile $((idle_n + 4096));"
		echo "events { worker_connections $((idle_n + 2048)); }"
		echo "http {"
		echo "  client_body_temp_path $d/body;"
		echo "  proxy_temp_path $d/proxy;"
		echo "  fastcgi_temp_path $d/fastcgi;"
		echo "  uwsgi_temp_path $d/uwsgi;"
		echo "  scgi_temp_path $d/scgi;"
		echo "  keepalive_requests 1000000;"
		echo "  client_body_buffer_size 16k;"
		if [ -n "$tls" ]; then
			echo "  log_format cap '\$remote_addr:\$remote_port \$msec \"\$request_method \$request_uri \$server_protocol\" \$status \"\$http_host\" \"\$http_user_agent\" \"\$http_referer\" \$ssl_protocol \$ssl_cipher \"\$ssl_server_name\" \"\$ssl_ciphers\" \"\$ssl_curves\" \$ssl_session_reused';"
		else
			echo "  log_format cap '\$remote_addr:\$remote_port \$msec \"\$request_method \$request_uri \$server_protocol\" \$status \"\$http_host\" \"\$http_user_agent\" \"\$http_referer\" \"\$content_type\" \$request_length \"\$request_body\"';"
		fi
		echo "  access_log $d/access.log cap;"
		echo "  server {"
		if [ -n "$tls" ]; then
			echo "    listen 127.0.0.1:$2 ssl;"
			echo "    ssl_certificate $work/tls-$tls.crt;"
			echo "    ssl_certificate_key $work/tls-$tls.key;"
			# nginx < 1.23.4 leaves TLS 1.3 off by default; bots speak both.
			echo "    ssl_protocols TLSv1.2 TLSv1.3;"
		else
			echo "    listen 127.0.0.1:$2;"
		fi
		if [ "$3" = 1 ]; then
			echo "    location / { echo_read_request_body; echo_exec @answer; }"
			echo "    location @answer { return 200; }"
		else
			echo "    location / { return 200; }"
		fi
		echo "  }"
		echo "}"
	} >"$d/nginx.conf"
}

# sinkd: one capture worker, HTTP on PORT, DNS on DNSPORT, store in the
# work dir. max_per_source = 0: every connection here comes from 127.0.0.1.
write_sinkd_conf() {	# ID PORT DNSPORT
	cat >"$work/$1.conf" <<-EOF
		# generated by bench/http/run.sh
		[server]
		workers = 1

		[dns]
		listen = 127.0.0.1:$3

		[rrl]
		enabled = no

		[domains]
		file = $domains

		[store]
		path = $work/$1.db

		[capture]
		workers = 1
		# off: all the load comes from one address
		max_per_source = 0

		[http]
		listen = 127.0.0.1:$2
	EOF
}

# start_peer ID INSTANCE: start a fresh instance of server ID on new ports,
# wait for it and check it. Sets port, inst_fail (reason, "" = up).
start_peer() {
	local id=$1 inst=$2 dport
	inst_fail=""
	repinned=0
	checks_sent=0
	take_port
	case "$id" in
	nginx | nginx-body)
		write_nginx_conf "$inst" "$port" "$([ "$id" = nginx-body ] && echo 1 || echo 0)"
		if ! nginx -t -q -p "$work/$inst/" -c "$work/$inst/nginx.conf" >"$work/$inst.check" 2>&1; then
			inst_fail="nginx -t: $(head -3 "$work/$inst.check" | tr '\n' ' ')"
			return 1
		fi
		start_server "$inst" nginx -p "$work/$inst/" -c "$work/$inst/nginx.conf"
		;;
	sinkd)
		local hport=$port
		take_port
		dport=$port
		port=$hport
		write_sinkd_conf "$inst" "$port" "$dport"
		start_server "$inst" "$sinkd_bin" serve -c "$work/$inst.conf"
		;;
	esac
	if ! wait_up "http://127.0.0.1:$port/" "${BENCH_START_TIMEOUT:-10}"; then
		if alive; then inst_fail="no HTTP 200 on 127.0.0.1:$port within ${BENCH_START_TIMEOUT:-10} s"
		else inst_fail="exited during start-up"; fi
		inst_fail+="; log tail: $(tail -5 "$work/$inst.log" | tr '\n' '|')"
		stop_server
		return 1
	fi
	checks_sent=1
	repin
	if ! verify "$port"; then
		inst_fail=$verify_note
		stop_server
		return 1
	fi
	return 0
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
	local id=$1 key="$1/$2" inst=$3 logged cap stopped recv dropped stored rows sample
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
		# "capture: C connections, R requests (...), ... D events dropped"
		cap=$(grep -o 'capture: .*' "$work/$inst.log" | tail -1)
		stopped=$(grep -o 'stopped: .*' "$work/$inst.log" | tail -1)
		recv=$(sed -n 's/.*, \([0-9]*\) requests (.*/\1/p' <<<"$cap")
		dropped=$(sed -n 's/.* \([0-9]*\) events dropped.*/\1/p' <<<"$cap")
		stored=$(sed -n 's/.*events stored \([0-9]*\),.*/\1/p' <<<"$stopped")
		rows=$(sqlite3 "$work/$inst.db" "SELECT count(*) FROM events WHERE kind = 2" 2>/dev/null)
		r_stored[$key]=${rows:-}
		r_recv[$key]=${recv:-}
		r_dropped[$key]=${dropped:-}
		r_drain[$key]=${stop_s:-}
		r_rec[$key]="received ${recv:-?}, stored ${rows:-?} rows (kind=2), dropped ${dropped:-?}; wrk+checks got ${r_answered[$key]} answers; drain ${stop_s:-?} s"
		[ -n "$cap" ] || note "$key" "no capture summary in sinkd's log"
		[ -n "$stopped" ] && note "$key" "sinkd $stopped"
		[ -n "$cap" ] && note "$key" "sinkd $cap"
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

# idle_mem ID MODE: fresh instance, RSS before and after idle_n idle
# connections (MODE connect or request, see idle.py).
idle_mem() {
	local id=$1 mode=$2 inst="$1-idle-$2" key="$1/$2" rss0 rss1 held i ready out
	say "== ${label[$id]}, memory: $idle_n idle connections ($mode)"
	if ! start_peer "$id" "$inst"; then
		m_fail[$key]=$inst_fail
		say "   FAILED: $inst_fail"
		return 1
	fi
	sleep 0.5
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

# tls_nginx KEY: nginx with `listen ssl` and a self-signed certificate.
# Full handshakes from parallel openssl s_time -new clients; then wrk over
# https with Connection: close, which resumes sessions (counted from
# $ssl_session_reused in the access log).
tls_nginx() {
	local k=$1 inst="nginx-tls-$k" out n0 n1
	say "== nginx TLS ($k)"
	take_port
	write_nginx_conf "$inst" "$port" 0 "$k"
	if ! nginx -t -q -p "$work/$inst/" -c "$work/$inst/nginx.conf" >"$work/$inst.check" 2>&1; then
		t_fail[$k]="nginx -t: $(head -3 "$work/$inst.check" | tr '\n' ' ')"
		return 1
	fi
	repinned=0
	start_server "$inst" nginx -p "$work/$inst/" -c "$work/$inst/nginx.conf"
	if ! wait_up "https://127.0.0.1:$port/" "${BENCH_START_TIMEOUT:-10}"; then
		t_fail[$k]="no HTTPS 200 on 127.0.0.1:$port; log tail: $(tail -3 "$work/$inst.log" "$work/$inst/error.log" 2>/dev/null | tr '\n' '|')"
		stop_server
		return 1
	fi
	repin
	t_sproto[$k]=$(timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername "$vhost" </dev/null 2>/dev/null |
		awk '/^New, / { sub(/^New, /, ""); sub(/, Cipher is /, " "); print; exit }')
	quiet_wait
	out="$work/$inst.stime"
	metered stime_run "$out"
	t_stime[$k]=$(cat "$out".* | awk '/connections in [0-9.]+ real seconds/ { n += $1; if ($4 > t) t = $4 }
		END { if (t > 0) printf "%.0f", n / t }')
	t_ssrv[$k]=$m_srv
	t_scli[$k]=$m_cli
	[ -n "${t_stime[$k]}" ] || t_note[$k]+="s_time gave no result: $(tail -2 "$out.0" | tr '\n' ' '); "
	quiet_wait
	n0=$(wc -l <"$work/$inst/access.log")
	metered wrk_run "$work/$inst.wrk" -d "${tls_s}s" --latency -t "$wrk_threads" -c "$conns" \
		-H "Host: $vhost" -H "User-Agent: $ua" -H 'Connection: close' "https://127.0.0.1:$port$get_path"
	t_wrk[$k]=$(wrk_rps "$work/$inst.wrk")
	t_p99[$k]=$(wrk_p99 "$work/$inst.wrk")
	t_err[$k]=$(($(wrk_errors "$work/$inst.wrk") + $(wrk_non2xx "$work/$inst.wrk")))
	t_wsrv[$k]=$m_srv
	t_wcli[$k]=$m_cli
	# Fields from the end of the line: ... $ssl_protocol $ssl_cipher "sni" "ciphers" "curves" $ssl_session_reused
	t_wproto[$k]=$(tail -n +$((n0 + 1)) "$work/$inst/access.log" | awk '
		{ n++; if ($NF == "r") r++; for (i = 1; i <= NF; i++) if ($i ~ /^TLSv/) { p[$i " " $(i + 1)]++; break } }
		END { for (k in p) { s = s sep k; sep = ", " } if (n) printf "%s, %.0f%% resumed", s, 100 * r / n }')
	alive || t_fail[$k]="died under load"
	stop_server
	say "   s_time x$tls_clients ${t_stime[$k]:-?}/s (server CPU ${t_ssrv[$k]}%, clients ${t_scli[$k]}%), ${t_sproto[$k]:-?}; wrk ${t_wrk[$k]:-?}/s (server CPU ${t_wsrv[$k]}%, wrk ${t_wcli[$k]}%), ${t_wproto[$k]:-?}"
}

make_cert() {	# KEY: self-signed certificate for CN=<vhost> in the work dir
	local k=$1 newkey
	case "$k" in
	rsa2048) newkey=(-newkey rsa:2048) ;;
	p256) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1) ;;
	*) t_fail[$k]="unknown key type (BENCH_TLS_KEYS: rsa2048, p256)"; return 1 ;;
	esac
	openssl req -x509 "${newkey[@]}" -nodes -days 2 -subj "/CN=$vhost" \
		-keyout "$work/tls-$k.key" -out "$work/tls-$k.crt" >"$work/tls-$k.out" 2>&1 ||
		{ t_fail[$k]="openssl req failed: $(tail -2 "$work/tls-$k.out" | tr '\n' ' ')"; return 1; }
}

# ---------------------------------------------------------------- runs

declare -A r_rps r_req r_p99 r_err r_non2xx r_srvcpu r_clicpu r_other r_answered r_stored r_recv r_dropped \
	r_drain r_rec r_note r_fail m_rss0 m_rss1 m_held m_per m_client m_fail \
	t_stime t_ssrv t_scli t_sproto t_wrk t_p99 t_err t_wsrv t_wcli t_wproto t_fail t_note
r_sample="" r_sample_body="" r_sample_ua=""
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "bench/http: work dir $work; $pinning; Host: $vhost"

sinkd_ok=1
if wanted sinkd && [ ! -x "$sinkd_bin" ]; then
	sinkd_ok=0
	say "bench/http: sinkd binary $sinkd_arg not found or not executable (build it: make build)"
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
	done
fi
sinkd_tls=""
if part tls; then
	for k in $tls_keys; do
		make_cert "$k" && tls_nginx "$k"
	done
	# sinkd has no TLS listener yet; say so instead of measuring anything.
	if [ "$sinkd_ok" = 1 ] && "$sinkd_bin" config dump 2>/dev/null | grep -qi '^\[tls\]'; then
		sinkd_tls="sinkd has a [tls] section now: add its TLS listener to bench/http/run.sh"
	fi
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report

per_cpu() {	# RATE CPU% -> RATE per 100% CPU, or "-"
	awk -v r="${1:-}" -v c="${2:-}" 'BEGIN { if (r == "" || c == "" || c + 0 == 0) print "-"; else printf "%.0f", 100 * r / c }'
}

ratio() {	# A B -> A/B with 2 decimals, or "-"
	awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

report() {
	local mode id key st r1 r2 met peer
	echo "sinkd HTTP benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(hostname)"
	echo "machine: $ncpu CPU ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)); load before $load_before, after $load_after"
	echo "versions: $(nginx -v 2>&1 | head -1) (nginx-light $(dpkg-query -W -f='${Version}' nginx-light 2>/dev/null || echo '?'), echo module $(dpkg-query -W -f='${Version}' libnginx-mod-http-echo 2>/dev/null || echo '?')); $(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }'); $(openssl version | awk '{ print $1, $2 }')"
	echo "sinkd:    $sinkd_arg ($("$sinkd_bin" --version 2>/dev/null | head -1 || echo "not runnable"); tree $(git -C "$repo" rev-parse --short HEAD 2>/dev/null)$(git -C "$repo" diff --quiet HEAD -- src 2>/dev/null || echo "+uncommitted src changes"))"
	echo "load: wrk -t$wrk_threads -c$conns over 127.0.0.1, ${run_s} s per run after a ${warm_s} s warm-up, a fresh server instance per run;"
	echo "      GET $get_path; POST $post_path with a 1024-byte application/x-www-form-urlencoded body;"
	echo "      Host: $vhost, User-Agent: $ua; close = -H 'Connection: close'"
	echo "cpu:  $pinning"
	echo "servers: one worker each. nginx: return 200, access log (method, uri, host, UA, referer, content type, length)"
	echo "         without the body; nginx+body: the same plus \$request_body (echo_read_request_body, then return 200);"
	echo "         sinkd: [capture] workers = 1, every request an event row in SQLite"
	echo
	printf '%-16s %-11s %9s %7s %6s %7s %6s %6s %6s %8s %8s %8s\n' mode server req/s p99_ms errors non2xx srvcpu wrkcpu other per_cpu vs_nginx vs_n+body
	for mode in "${modes[@]}"; do
		for id in "${ids[@]}"; do
			wanted "$id" || continue
			key="$id/$mode"
			if [ -z "${r_rps[$key]:-}" ]; then
				printf '%-16s %-11s %9s %7s %6s %7s %6s %6s %6s %8s %8s %8s  %s\n' "${mlabel[$mode]}" "${label[$id]}" - - - - - - - - - - \
					"$([ -n "${r_fail[$key]:-}" ] && echo FAILED || echo 'not run')"
				continue
			fi
			st=""
			[ -n "${r_fail[$key]:-}" ] && st="FAILED"
			printf '%-16s %-11s %9.0f %7s %6s %7s %5s%% %5s%% %5s%% %8s %8s %8s  %s\n' "${mlabel[$mode]}" "${label[$id]}" \
				"${r_rps[$key]}" "${r_p99[$key]}" "${r_err[$key]}" "${r_non2xx[$key]}" \
				"${r_srvcpu[$key]}" "${r_clicpu[$key]}" "${r_other[$key]}" \
				"$(per_cpu "${r_rps[$key]}" "${r_srvcpu[$key]}")" \
				"$(ratio "${r_rps[$key]}" "${r_rps[nginx/$mode]:-}")" \
				"$(ratio "${r_rps[$key]}" "${r_rps[nginx-body/$mode]:-}")" "$st"
		done
	done
	echo
	echo "goal: sinkd, storing every request with headers and body, >= nginx in both modes"
	for mode in "${modes[@]}"; do
		key="sinkd/$mode"
		r1=$(ratio "${r_rps[$key]:-}" "${r_rps[nginx/$mode]:-}")
		r2=$(ratio "${r_rps[$key]:-}" "${r_rps[nginx-body/$mode]:-}")
		met="-"
		if [ "$r1" != "-" ] || [ "$r2" != "-" ]; then
			met=met
			for peer in nginx nginx-body; do
				[ -n "${r_rps[$peer/$mode]:-}" ] && [ -n "${r_rps[$key]:-}" ] || continue
				awk -v a="${r_rps[$key]}" -v b="${r_rps[$peer/$mode]}" 'BEGIN { exit !(a < b) }' && met="NOT met"
			done
			if [ "$met" = met ] && [ "${r_dropped[$key]:-0}" != 0 ]; then
				met="NOT met: faster, but ${r_dropped[$key]} events dropped"
			fi
		fi
		printf '  %-16s sinkd/nginx = %-5s sinkd/nginx+body = %-5s  %s\n' "${mlabel[$mode]}" "$r1" "$r2" "$met"
	done
	if wanted sinkd; then
		echo
		echo "what was recorded (per instance: checks + warm-up + measured run; requests in flight when wrk stops are received, not counted by wrk):"
		for mode in "${modes[@]}"; do
			for id in "${ids[@]}"; do
				wanted "$id" || continue
				key="$id/$mode"
				[ -n "${r_rec[$key]:-}" ] || continue
				printf '  %-16s %-11s %s' "${mlabel[$mode]}" "${label[$id]}" "${r_rec[$key]}"
				if [ "$id" = sinkd ] && [ -n "${r_recv[$key]:-}" ] && [ -n "${r_stored[$key]:-}" ]; then
					if [ "${r_stored[$key]}" -lt "${r_recv[$key]}" ]; then
						printf '  -> STORED LESS THAN RECEIVED (%s%% lost)' \
							"$(awk -v s="${r_stored[$key]}" -v r="${r_recv[$key]}" 'BEGIN { printf "%.1f", 100 * (r - s) / r }')"
					else
						printf '  -> all stored'
					fi
				fi
				printf '\n'
			done
		done
		[ -n "$r_sample_body$r_sample_ua" ] &&
			echo "  sinkd sample row after POST keep-alive ('sinkd events --type http --format json --limit 1'): User-Agent stored: $r_sample_ua; body stored: $r_sample_body"
	fi
	if part memory; then
		echo
		echo "memory per idle connection ($idle_n connections from one python3 client; server RSS, summed over its processes, before and 1 s after):"
		printf '  %-11s %-8s %10s %10s %7s %10s  %s\n' server idle rss_before rss_after held bytes/conn client
		for id in "${ids[@]}"; do
			wanted "$id" || continue
			[ "$id" = nginx-body ] && continue
			for m in connect request; do
				key="$id/$m"
				if [ -n "${m_fail[$key]:-}" ] && [ -z "${m_rss1[$key]:-}" ]; then
					printf '  %-11s %-8s FAILED: %s\n' "${label[$id]}" "$m" "${m_fail[$key]}"
					continue
				fi
				[ -n "${m_rss1[$key]:-}" ] || continue
				printf '  %-11s %-8s %9sK %9sK %7s %10s  %s\n' "${label[$id]}" "$m" $((m_rss0[$key] / 1024)) $((m_rss1[$key] / 1024)) \
					"${m_held[$key]}" "${m_per[$key]:--}" "${m_client[$key]}"
			done
		done
		echo "  connect = connected, nothing sent; request = one keep-alive GET answered, then idle."
		echo "  Kernel socket buffers are not in RSS and are the same for both servers."
	fi
	if part tls; then
		echo
		echo "TLS handshakes/s, self-signed certificate, ssl_protocols TLSv1.2 TLSv1.3, nginx's default ciphers:"
		printf '  %-24s %-8s %7s %6s %6s %8s  %-26s %9s %6s %6s  %s\n' server key full/s srvcpu clicpu per_cpu negotiated wrk_res/s srvcpu wrkcpu "wrk: negotiated"
		for k in $tls_keys; do
			if [ -n "${t_fail[$k]:-}" ]; then
				printf '  %-24s %-8s FAILED: %s\n' "nginx (access log)" "$k" "${t_fail[$k]}"
				continue
			fi
			printf '  %-24s %-8s %7s %5s%% %5s%% %8s  %-26s %9.0f %5s%% %5s%%  %s\n' "nginx (access log)" "$k" "${t_stime[$k]:--}" \
				"${t_ssrv[$k]:--}" "${t_scli[$k]:--}" "$(per_cpu "${t_stime[$k]:-}" "${t_ssrv[$k]:-}")" \
				"${t_sproto[$k]:--}" "${t_wrk[$k]:-0}" \
				"${t_wsrv[$k]:--}" "${t_wcli[$k]:--}" "${t_wproto[$k]:-}"
			[ "${t_err[$k]:-0}" != 0 ] && echo "    wrk errors + non-2xx: ${t_err[$k]}"
			[ -n "${t_note[$k]:-}" ] && echo "    ${t_note[$k]}"
		done
		printf '  %-24s %-8s %s\n' "sinkd (ClientHello cap.)" "-" "not implemented yet: sinkd has no TLS listener${sinkd_tls:+ ($sinkd_tls)}"
		echo "  full/s: $tls_clients parallel 'openssl s_time -new -time $tls_s' (a full handshake per connection, no request);"
		echo "  per_cpu: full/s divided by the server's CPU share, i.e. handshakes per second of one CPU (client-bound runs)."
		echo "  wrk_res/s: wrk -c$conns over https with Connection: close: one request per connection, but wrk resumes"
		echo "  TLS sessions, so these are mostly abbreviated handshakes (share from nginx's \$ssl_session_reused)."
		echo "  nginx logs protocol, cipher, SNI, the client's cipher list and curves (\$ssl_ciphers, \$ssl_curves): the part of a ClientHello it can see."
	fi
	echo
	echo "req/s, p99_ms, errors (wrk socket errors: connect, read, write, timeout), non2xx: the measured wrk run."
	echo "srvcpu: CPU of all the server's processes/threads during it (100% = one CPU); wrkcpu: wrk's."
	echo "        A server well under 100% while wrk is near 100% is client-bound: its req/s is a floor."
	echo "per_cpu: req/s divided by the server's CPU share: requests per second of one server CPU (compare when client-bound)."
	echo "other: all other CPU use meanwhile (other processes, kernel threads); high = noisy run."
	local any=0
	for mode in "${modes[@]}"; do
		for id in "${ids[@]}"; do
			key="$id/$mode"
			[ -n "${r_fail[$key]:-}${r_note[$key]:-}" ] || continue
			((any++ == 0)) && { echo; echo "notes:"; }
			[ -n "${r_fail[$key]:-}" ] && echo "  ${label[$id]}, ${mlabel[$mode]}: FAILED: ${r_fail[$key]}"
			[ -n "${r_note[$key]:-}" ] && echo "  ${label[$id]}, ${mlabel[$mode]}: ${r_note[$key]}"
		done
	done
	return 0
}

mkdir -p "$outdir"
outfile="$outdir/http-$(date +%Y%m%d-%H%M%S).txt"
report | tee "$outfile"
say "bench/http: report written to $outfile"

status=0
for key in "${!r_fail[@]}" "${!m_fail[@]}" "${!t_fail[@]}"; do
	status=1
done
exit "$status"
