# Sourced by bench/http/run.sh: the report (stdout and bench/out/http-<date>.txt).
# Uses run.sh's variables (work, ids, modes, r_*, m_*, t_*, ...).
# shellcheck shell=bash

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
	local src=${BENCH_SINKD_SOURCE:-}	# what the binary was built from, when not this tree
	[ -n "$src" ] || src="tree $(git -C "$repo" rev-parse --short HEAD 2>/dev/null)$(git -C "$repo" diff --quiet HEAD -- src 2>/dev/null || echo "+uncommitted src changes")"
	echo "sinkd:    $sinkd_arg ($("$sinkd_bin" --version 2>/dev/null | head -1 || echo "not runnable"); $src)"
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
			if [ -n "${r_recv[$key]:-}" ] && [ "${r_recv[$key]}" -gt 0 ] && [ -n "${r_stored[$key]:-}" ] &&
				[ "${r_stored[$key]}" -lt "${r_recv[$key]}" ]; then
				st+="${st:+, }$(awk -v s="${r_stored[$key]}" -v r="${r_recv[$key]}" 'BEGIN { printf "%.0f", 100 * (r - s) / r }')% of requests not stored"
			fi
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
		# Client-bound (wrk saturated, a server with CPU to spare): req/s
		# says little; the requests per server CPU second do.
		for peer in nginx nginx-body; do
			[ -n "${r_clicpu[$peer/$mode]:-}" ] && [ -n "${r_clicpu[$key]:-}" ] || continue
			if ((r_clicpu[$key] >= 90 && r_srvcpu[$key] < 90)) || ((r_clicpu[$peer/$mode] >= 90 && r_srvcpu[$peer/$mode] < 90)); then
				printf '  %-16s   client-bound (wrk near 100%%, server not): per server CPU sinkd/%s = %s\n' "" "${label[$peer]}" \
					"$(ratio "$(per_cpu "${r_rps[$key]}" "${r_srvcpu[$key]}")" "$(per_cpu "${r_rps[$peer/$mode]}" "${r_srvcpu[$peer/$mode]}")")"
			fi
		done
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
		printf '  %-11s %-8s %10s %10s %7s %10s %10s %10s  %s\n' server idle rss_before rss_after held delta/conn slot/conn total/conn client
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
				printf '  %-11s %-8s %9sK %9sK %7s %10s %10s %10s  %s\n' "${label[$id]}" "$m" $((m_rss0[$key] / 1024)) $((m_rss1[$key] / 1024)) \
					"${m_held[$key]}" "${m_per[$key]:--}" "${m_slot[$id]:--}" \
					"$([ -n "${m_per[$key]:-}" ] && [ -n "${m_slot[$id]:-}" ] && echo $((m_per[$key] + m_slot[$id])) || echo -)" "${m_client[$key]}"
			done
		done
		echo "  Each instance is warmed by 1 s of keep-alive GETs first; connect = connected, nothing sent;"
		echo "  request = one keep-alive GET answered, then idle. delta/conn = (rss_after - rss_before) / held."
		echo "  slot/conn: both servers allocate and touch their whole connection pool at start (nginx worker_connections"
		echo "  = ${m_slots[nginx]:-?}, sinkd [capture] max_connections = ${m_slots[sinkd]:-?}), so it is in rss_before, used or not:"
		echo "  RSS at start with that pool against one of 16 slots, per slot (nginx ${m_pool[nginx]:+$((m_pool[nginx] / 1024)) KiB}, sinkd ${m_pool[sinkd]:+$((m_pool[sinkd] / 1024)) KiB} in all)."
		echo "  total/conn = delta + slot: what one more idle connection costs when the pool is sized for it."
		echo "  Kernel socket buffers are not in RSS and are the same for both servers."
	fi
	if part tls; then
		echo
		echo "TLS handshakes/s, the same self-signed certificate for both; nginx: ssl_protocols TLSv1.2 TLSv1.3, default ciphers:"
		printf '  %-11s %-8s %7s %6s %6s %8s %-28s %7s %9s %6s %6s %8s\n' server key full/s srvcpu clicpu per_cpu negotiated resumes wrk_cl/s srvcpu wrkcpu vs_nginx
		for k in $tls_keys; do
			[ -n "${cert_fail[$k]:-}" ] && { printf '  %-11s %-8s certificate FAILED: %s\n' - "$k" "${cert_fail[$k]}"; continue; }
			for id in nginx sinkd; do
				wanted "$id" || continue
				key="$id/$k"
				if [ "$id" = sinkd ] && ! has_section tls; then
					printf '  %-11s %-8s %s\n' sinkd "$k" "not implemented yet: this sinkd has no TLS listener ([tls])"
					continue
				fi
				if [ -n "${t_fail[$key]:-}" ] && [ -z "${t_stime[$key]:-}" ]; then
					printf '  %-11s %-8s FAILED: %s\n' "${label[$id]}" "$k" "${t_fail[$key]}"
					continue
				fi
				[ -n "${t_wrk[$key]:-}${t_stime[$key]:-}" ] || continue
				printf '  %-11s %-8s %7s %5s%% %5s%% %8s %-28s %7s %9.0f %5s%% %5s%% %8s\n' "${label[$id]}" "$k" "${t_stime[$key]:--}" \
					"${t_ssrv[$key]:--}" "${t_scli[$key]:--}" "$(per_cpu "${t_stime[$key]:-}" "${t_ssrv[$key]:-}")" \
					"${t_sproto[$key]:--}" "${t_resume[$key]:--}" "${t_wrk[$key]:-0}" \
					"${t_wsrv[$key]:--}" "${t_wcli[$key]:--}" \
					"$(ratio "$(per_cpu "${t_stime[$key]:-}" "${t_ssrv[$key]:-}")" "$(per_cpu "${t_stime[nginx/$k]:-}" "${t_ssrv[nginx/$k]:-}")")"
				[ -n "${t_wproto[$key]:-}" ] && echo "    wrk connections as nginx logged them: ${t_wproto[$key]}"
				[ -n "${t_rec[$key]:-}" ] && echo "    sinkd recorded: ${t_rec[$key]}"
				[ "${t_err[$key]:-0}" != 0 ] && echo "    wrk errors + non-2xx: ${t_err[$key]}"
				[ -n "${t_fail[$key]:-}" ] && echo "    FAILED: ${t_fail[$key]}"
				[ -n "${t_note[$key]:-}" ] && echo "    ${t_note[$key]}"
			done
		done
		echo "  full/s: $tls_clients parallel 'openssl s_time -new -time $tls_s' on the client CPU (full handshakes, no request);"
		echo "  per_cpu: full/s divided by the server's CPU share (handshakes per second of one server CPU); vs_nginx compares"
		echo "  per_cpu, because these runs are client-bound (openssl's client side costs about as much as the server's)."
		echo "  resumes: a second s_client with the first one's session is resumed. wrk_cl/s: wrk -c$conns over https with"
		echo "  Connection: close, one request per connection; wrk resumes TLS sessions where the server allows it."
		echo "  nginx logs protocol, cipher, SNI, the client's cipher list and curves (\$ssl_ciphers, \$ssl_curves): what of a"
		echo "  ClientHello it can log; sinkd records one tls event per connection with SNI, JA3, JA4 and a ClientHello summary."
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

