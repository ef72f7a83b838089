/* The ClickHouse HTTP interface through libcurl: one request per call,
 * query in the URL, data in the POST body. */
#include "cluster/cluster_internal.h"

#include "core/error.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

void ch_server_from_config(struct ch_server *s, const struct sinkd_config *cfg, unsigned i)
{
	const struct config_sockaddr *a = &cfg->cluster_shard[i];
	char host[INET6_ADDRSTRLEN] = "";
	unsigned port = 8123;
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		if (in->sin_port != 0)
			port = ntohs(in->sin_port);
		snprintf(s->url, sizeof(s->url), "http://%s:%u/", host, port);
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		if (in6->sin6_port != 0)
			port = ntohs(in6->sin6_port);
		snprintf(s->url, sizeof(s->url), "http://[%s]:%u/", host, port);
	}
	snprintf(s->user, sizeof(s->user), "%s", cfg->cluster_user);
	snprintf(s->password, sizeof(s->password), "%s", cfg->cluster_password);
	snprintf(s->database, sizeof(s->database), "%s", cfg->cluster_database);
	s->timeout_ms = cfg->cluster_timeout_ms;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct ch_response *r = arg;
	size_t n = size * nmemb, keep = n;
	if (r->len + keep > CH_RESPONSE_MAX)
		keep = CH_RESPONSE_MAX - r->len;
	if (keep > 0) {
		char *p = realloc(r->body, r->len + keep + 1);
		if (p == NULL)
			return 0; /* curl reports a write error */
		r->body = p;
		memcpy(r->body + r->len, ptr, keep);
		r->len += keep;
		r->body[r->len] = '\0';
	}
	return n;
}

static int perform(const struct ch_server *s, const char *query, const void *body, size_t len,
		   bool gzip, const char *settings, ch_write_fn write_fn, void *write_arg,
		   struct ch_response *r)
{
	memset(r, 0, sizeof(*r));
	CURL *h = curl_easy_init();
	if (h == NULL) {
		snprintf(r->error, sizeof(r->error), "curl_easy_init failed");
		return SINKD_EIO;
	}
	char *q = curl_easy_escape(h, query, 0);
	char *user = curl_easy_escape(h, s->user, 0);
	char *pass = curl_easy_escape(h, s->password, 0);
	char *db = curl_easy_escape(h, s->database, 0);
	size_t url_len =
	    strlen(s->url) + (q ? strlen(q) : 0) + 512 + (settings ? strlen(settings) : 0);
	char *url = malloc(url_len);
	struct curl_slist *headers = NULL;
	int ret = SINKD_EIO;
	if (q == NULL || user == NULL || pass == NULL || db == NULL || url == NULL) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		goto out;
	}
	/* A query without data goes in the POST body: ClickHouse runs GET
	 * requests read-only. */
	if (body != NULL)
		snprintf(url, url_len, "%s?database=%s&user=%s&password=%s&query=%s%s%s", s->url,
			 db, user, pass, q, settings ? "&" : "", settings ? settings : "");
	else
		snprintf(url, url_len, "%s?database=%s&user=%s&password=%s%s%s", s->url, db, user,
			 pass, settings ? "&" : "", settings ? settings : "");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(s->timeout_ms < 3000 ? s->timeout_ms : 3000));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_fn ? write_fn : on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, write_fn ? write_arg : r);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (body == NULL) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, query);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(query));
		headers = curl_slist_append(headers, "Expect:");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	} else {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		headers = curl_slist_append(headers, "Content-Type: text/tab-separated-values");
		if (gzip)
			headers = curl_slist_append(headers, "Content-Encoding: gzip");
		headers = curl_slist_append(headers, "Expect:");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	}
	CURLcode rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		snprintf(r->error, sizeof(r->error), "%s", curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->status == 200)
		ret = 0;
	else
		snprintf(r->error, sizeof(r->error), "HTTP %ld: %.200s", r->status,
			 r->body ? r->body : "");
out:
	curl_slist_free_all(headers);
	free(url);
	curl_free(q);
	curl_free(user);
	curl_free(pass);
	curl_free(db);
	curl_easy_cleanup(h);
	return ret;
}

int ch_request(const struct ch_server *s, const char *query, const void *body, size_t len,
	       bool gzip, const char *settings, struct ch_response *r)
{
	return perform(s, query, body, len, gzip, settings, NULL, NULL, r);
}

int ch_stream(const struct ch_server *s, const char *query, const char *settings, ch_write_fn fn,
	      void *arg, struct ch_response *r)
{
	return perform(s, query, NULL, 0, false, settings, fn, arg, r);
}

void ch_response_free(struct ch_response *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

int ch_server_from_url(struct ch_server *s, const char *url, const struct sinkd_config *cfg,
		       char *err, size_t errlen)
{
	const char *p = url;
	if (strncmp(p, "clickhouse://", 13) != 0) {
		snprintf(err, errlen, "expected clickhouse://HOST:PORT/DB");
		return SINKD_EINVAL;
	}
	p += 13;
	const char *slash = strchr(p, '/');
	size_t hostlen = slash ? (size_t)(slash - p) : strlen(p);
	if (hostlen == 0 || hostlen > 100 || memchr(p, '@', hostlen) != NULL) {
		snprintf(err, errlen,
			 "expected clickhouse://HOST:PORT/DB (no host, or credentials "
			 "in the URL: set [cluster] user and password)");
		return SINKD_EINVAL;
	}
	const char *db = slash && slash[1] ? slash + 1 : cfg->cluster_database;
	if (strlen(db) >= sizeof(s->database) ||
	    strspn(db, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(db)) {
		snprintf(err, errlen, "database '%s' is not a plain identifier ([a-z0-9_])", db);
		return SINKD_EINVAL;
	}
	memset(s, 0, sizeof(*s));
	bool has_port = p[0] == '[' ? memchr(p, ']', hostlen) != NULL &&
					  ((const char *)memchr(p, ']', hostlen))[1] == ':'
				    : memchr(p, ':', hostlen) != NULL;
	snprintf(s->url, sizeof(s->url), has_port ? "http://%.*s/" : "http://%.*s:8123/",
		 (int)hostlen, p);
	snprintf(s->database, sizeof(s->database), "%s", db);
	snprintf(s->user, sizeof(s->user), "%s", cfg->cluster_user);
	snprintf(s->password, sizeof(s->password), "%s", cfg->cluster_password);
	s->timeout_ms = cfg->cluster_timeout_ms;
	return 0;
}
