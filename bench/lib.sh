# Shell helpers shared by bench/dns/run.sh and bench/http/run.sh: output,
# ports, the server process group, CPU pinning and accounting, waiting for a
# quiet machine. Sourced; they use the caller's globals (work, server_pg,
# server_cpu, pin_server, next_port, only, ...).

say() { printf '%s\n' "$*" >&2; }

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

# The server's first process (its pid is the group id). Checked by pid, not
# group: right after the fork setsid may not have created the group yet.
alive() { kill -0 "$server_pg" 2>/dev/null; }

# Pids of every process in the server's process group.
server_pids() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v pg="$server_pg" '
		{ s = $0; sub(/.*\) /, "", s); split(s, a, " "); if (a[3] == pg) print $1 }'
}

# repin: move every thread of the server to the server CPU. Needed because
# some servers set their own affinity (Knot pins UDP worker N to CPU N,
# which would put its only worker on dnsperf's CPU). Counts in $repinned.
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
# in the main shell (not in $(...)): `times` there covers dnsperf.
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
# under 10% of the machine, so a shared machine does not skew a run.
# Sets quiet_note when it never got quiet.
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

wanted() { [ -z "$only" ] || [[ " $only " == *" $1 "* ]]; }
