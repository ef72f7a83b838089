# Generate benchmark inputs from the seized-domain list (one name a line,
# '#' comments). Used by bench/dns/run.sh; portable awk (mawk, gawk).
#
#   awk -v mode=zones  -v dir=DIR -f gen.awk DOMAINS   one DIR/<zone>.zone each,
#                                                      prints the zone names
#   awk -v mode=queries -v n=N -v seed=S -v aaaa=PCT -f gen.awk DOMAINS
#                                                      dnsperf input on stdout
#
# The zones give NSD and Knot the same answers sinkd gives: SOA, NS ns1/ns2
# (glue 127.0.0.1 / ::1), apex A 127.0.0.1 and AAAA ::1, and a wildcard with
# the same A/AAAA, so a random name under a seized zone is answered from
# the wildcard, as a sinkhole answers it.
{
	sub(/#.*/, "")
	gsub(/[ \t\r]/, "")
	if ($0 == "")
		next
	name = tolower($0)
	sub(/\.$/, "", name)
	zones[nz++] = name
}

END {
	if (nz == 0) {
		print "gen.awk: no domains in input" > "/dev/stderr"
		exit 1
	}
	if (mode == "zones")
		write_zones()
	else if (mode == "queries")
		write_queries()
	else {
		print "gen.awk: mode must be zones or queries" > "/dev/stderr"
		exit 1
	}
}

function write_zones(   i, z, f) {
	for (i = 0; i < nz; i++) {
		z = zones[i]
		f = dir "/" z ".zone"
		print "$ORIGIN " z "." > f
		print "$TTL 300" > f
		print "@\tIN SOA ns1 hostmaster 1 3600 900 604800 300" > f
		print "@\tIN NS ns1" > f
		print "@\tIN NS ns2" > f
		print "ns1\tIN A 127.0.0.1" > f
		print "ns1\tIN AAAA ::1" > f
		print "ns2\tIN A 127.0.0.1" > f
		print "ns2\tIN AAAA ::1" > f
		print "@\tIN A 127.0.0.1" > f
		print "@\tIN AAAA ::1" > f
		print "*\tIN A 127.0.0.1" > f
		print "*\tIN AAAA ::1" > f
		close(f)
		print z
	}
}

function write_queries(   alphabet, i, j, len, label) {
	alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	srand(seed + 0)
	for (i = 0; i < n; i++) {
		len = 8 + int(rand() * 9)	# 8..16
		label = ""
		for (j = 0; j < len; j++)
			label = label substr(alphabet, 1 + int(rand() * 36), 1)
		print label "." zones[int(rand() * nz)] \
		    (rand() * 100 < aaaa ? " AAAA" : " A")
	}
}
