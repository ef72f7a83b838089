/* bench_cluster: the shipper's path, measured. Builds realistic HTTP
 * check-in events in memory, serialises them as the spool does (TSV, gzip)
 * and posts them to a ClickHouse server in batches, as one node does.
 *
 *   bench_cluster --encode-only [--events N]
 *       serialise + gzip only, one core: events/s, bytes per event
 *   bench_cluster --shard HOST:PORT --node NAME [--events N] [--batch B]
 *       the same, then POST each batch (insert_distributed_sync=1):
 *       events/s end to end
 *
 * Driven by bench/cluster/run.py, which starts the two-shard cluster. */
#include "cluster/cluster_internal.h"
#include "core/config.h"
#include "core/event.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One check-in of a Waledac-like population: 200,000 bots, 20 countries. */
static void make_event(struct sinkd_event *ev, uint8_t *payload, uint64_t i, uint64_t ts0)
{
	static const char *const cc[] = {"US", "DE", "CN", "RU", "BR", "IN", "FR", "GB", "JP",
					 "KR", "IT", "ES", "PL", "TR", "VN", "UA", "NL", "MX",
					 "ID", "AR"};
	uint64_t bot = (i * 2654435761u) % 200000;
	memset(ev, 0, sizeof(*ev));
	ev->ts_ns = ts0 + i * 1000000;
	ev->kind = EVENT_HTTP;
	ev->transport = TRANSPORT_TCP;
	ev->src.ip[10] = ev->src.ip[11] = 0xff;
	ev->src.ip[12] = (uint8_t)(10 + bot % 200);
	ev->src.ip[13] = (uint8_t)(bot >> 8);
	ev->src.ip[14] = (uint8_t)bot;
	ev->src.ip[15] = (uint8_t)(bot * 7);
	ev->src.port = (uint16_t)(1024 + i % 60000);
	ev->dst.ip[10] = ev->dst.ip[11] = 0xff;
	ev->dst.ip[12] = 192;
	ev->dst.ip[15] = 1;
	ev->dst.port = 80;
	snprintf(ev->qname, sizeof(ev->qname), "www.bestchristmascard.com");
	snprintf(ev->zone, sizeof(ev->zone), "bestchristmascard.com");
	snprintf(ev->family, sizeof(ev->family), "waledac");
	snprintf(ev->rule_id, sizeof(ev->rule_id), "waledac-checkin");
	snprintf(ev->tag, sizeof(ev->tag), "c2-checkin");
	snprintf(ev->msg_type, sizeof(ev->msg_type), i % 5 ? "notify" : "getkey");
	snprintf(ev->proto_version, sizeof(ev->proto_version), "2");
	snprintf(ev->bot_id, sizeof(ev->bot_id), "%032" PRIx64, (uint64_t)(bot * 0x9e3779b97f4a7c15ull));
	snprintf(ev->decode_status, sizeof(ev->decode_status), "ok");
	snprintf(ev->country, sizeof(ev->country), "%s", cc[bot % 20]);
	ev->asn = (uint32_t)(3000 + bot % 5000);
	ev->conn_id = i;
	snprintf(ev->http_method, sizeof(ev->http_method), "POST");
	ev->http_version = 11;
	ev->http_status = 200;
	ev->body_len = 612;
	uint32_t used = 0;
	char target[64];
	int n = snprintf(target, sizeof(target), "/%c%c%c%c%c.png", 'a' + (int)(bot % 26),
			 'a' + (int)(bot / 26 % 26), 'a' + (int)(i % 26), 'a' + (int)(i / 7 % 26),
			 'a' + (int)(bot / 676 % 26));
	event_payload_add(payload, 512, &used, EVP_TARGET, target, (size_t)n);
	event_payload_add(payload, 512, &used, EVP_USER_AGENT, "Mozilla", 7);
	event_payload_add(payload, 512, &used, EVP_REFERER, "Mozilla", 7);
	ev->payload_len = used;
	ev->payload = payload;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"shard", required_argument, NULL, 's'},
					     {"node", required_argument, NULL, 'n'},
					     {"events", required_argument, NULL, 'e'},
					     {"batch", required_argument, NULL, 'b'},
					     {"encode-only", no_argument, NULL, 'x'},
					     {NULL, 0, NULL, 0}};
	const char *shard = NULL, *node = "bench";
	uint64_t total = 1000000, batch = 10000;
	bool encode_only = false;
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			shard = optarg;
			break;
		case 'n':
			node = optarg;
			break;
		case 'e':
			total = strtoull(optarg, NULL, 10);
			break;
		case 'b':
			batch = strtoull(optarg, NULL, 10);
			break;
		case 'x':
			encode_only = true;
			break;
		default:
			fprintf(stderr, "usage: see the comment at the top of bench_cluster.c\n");
			return 2;
		}
	}
	if ((!encode_only && shard == NULL) || batch == 0 || total == 0) {
		fprintf(stderr, "bench_cluster: --shard HOST:PORT or --encode-only\n");
		return 2;
	}
	struct sinkd_config cfg;
	config_defaults(&cfg);
	struct ch_server srv = {0};
	if (!encode_only) {
		if (config_parse_server(shard, &cfg.cluster_shard[0]) != 0) {
			fprintf(stderr, "bench_cluster: --shard %s: not HOST:PORT\n", shard);
			return 2;
		}
		cfg.n_cluster_shard = 1;
		cfg.cluster_timeout_ms = 60000;
		ch_server_from_config(&srv, &cfg, 0);
	}
	struct sinkd_event *ev = calloc(batch, sizeof(*ev));
	uint8_t *payload = calloc(batch, 512);
	int64_t *ids = calloc(batch, sizeof(*ids));
	struct tsv_buf tsv = {0};
	if (ev == NULL || payload == NULL || ids == NULL)
		return 1;
	uint64_t ts0 = (uint64_t)time(NULL) * 1000000000ull - total * 1000000ull;
	double t_encode = 0, t_post = 0;
	uint64_t tsv_bytes = 0, gz_bytes = 0;
	for (uint64_t done = 0; done < total; done += batch) {
		uint64_t n = total - done < batch ? total - done : batch;
		for (uint64_t i = 0; i < n; i++) {
			make_event(&ev[i], payload + i * 512, done + i, ts0);
			ids[i] = (int64_t)(ev[i].ts_ns);
		}
		double t0 = now_s();
		uint8_t *gz;
		size_t gz_len;
		tsv.len = 0;
		if (cluster_tsv_events(&tsv, node, ev, ids, n) != 0 ||
		    cluster_gzip(tsv.p, tsv.len, &gz, &gz_len) != 0)
			return 1;
		double t1 = now_s();
		t_encode += t1 - t0;
		tsv_bytes += tsv.len;
		gz_bytes += gz_len;
		if (!encode_only) {
			struct ch_response r;
			if (ch_request(&srv, "INSERT INTO events FORMAT TabSeparated", gz, gz_len, true,
				       "insert_distributed_sync=1", &r) != 0) {
				fprintf(stderr, "bench_cluster: post failed: %s\n", r.error);
				return 1;
			}
			ch_response_free(&r);
			t_post += now_s() - t1;
		}
		free(gz);
	}
	printf("node=%s events=%" PRIu64 " encode_s=%.3f encode_eps=%.0f tsv_bytes_per_event=%.1f "
	       "gzip_bytes_per_event=%.1f",
	       node, total, t_encode, (double)total / t_encode, (double)tsv_bytes / (double)total,
	       (double)gz_bytes / (double)total);
	if (!encode_only)
		printf(" post_s=%.3f end_to_end_eps=%.0f", t_post,
		       (double)total / (t_encode + t_post));
	printf("\n");
	tsv_buf_free(&tsv);
	free(ev);
	free(payload);
	free(ids);
	return 0;
}
