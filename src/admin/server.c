/* The admin endpoint's listener: access control, routing and the
 * dashboard's static files. Requests are served by libmicrohttpd, one
 * thread per connection (bounded by [admin] max_connections), so a live
 * stream or a slow store query never holds up another request. */
#include "admin/admin_internal.h"

#include "core/error.h"
#include "core/log.h"
#include "net/net.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ADMIN_FILE_MAX (8u * 1024 * 1024) /* a file served or read at start */

/* Read a whole file (at most ADMIN_FILE_MAX bytes) into a NUL-terminated
 * buffer. 0, SINKD_EIO or SINKD_ENOMEM; errno kept for the message. */
static int read_file(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return SINKD_EIO;
	struct stat st;
	int err = 0;
	if (fstat(fd, &st) != 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = EISDIR;
	else if (st.st_size > ADMIN_FILE_MAX)
		err = EFBIG;
	if (err != 0) {
		close(fd);
		errno = err;
		return SINKD_EIO;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return SINKD_ENOMEM;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0) {
			if (n == 0)
				break;
			if (errno == EINTR)
				continue;
			free(buf);
			close(fd);
			return SINKD_EIO;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	if (len != NULL)
		*len = got;
	return 0;
}

/* ---- access ------------------------------------------------------------ */

static int load_token(struct admin *a)
{
	const struct sinkd_config *cfg = &a->cfg;
	char *file = NULL;
	const char *token = cfg->admin_token;
	if (cfg->admin_token_file[0] != '\0') {
		if (read_file(cfg->admin_token_file, &file, NULL) != 0) {
			log_err("[admin] token_file %s: %s", cfg->admin_token_file,
				strerror(errno));
			return SINKD_EINVAL;
		}
		size_t n = strlen(file);
		while (n > 0 && (file[n - 1] == '\n' || file[n - 1] == '\r' || file[n - 1] == ' '))
			file[--n] = '\0';
		if (n == 0) {
			log_err("[admin] token_file %s is empty: put the token on its first line",
				cfg->admin_token_file);
			free(file);
			return SINKD_EINVAL;
		}
		struct stat st;
		if (stat(cfg->admin_token_file, &st) == 0 && (st.st_mode & 0077) != 0)
			log_warn("[admin] token_file %s is readable by other users (chmod 600 it)",
				 cfg->admin_token_file);
		token = file;
	}
	if (token[0] != '\0') {
		SHA256((const unsigned char *)token, strlen(token), a->token_sha256);
		a->has_token = true;
	}
	if (file != NULL) {
		OPENSSL_cleanse(file, strlen(file));
		free(file);
	}
	return 0;
}

static int load_tls(struct admin *a)
{
	const struct sinkd_config *cfg = &a->cfg;
	struct {
		const char *path, *key;
		char **dst;
	} files[] = {{cfg->admin_cert_file, "cert_file", &a->tls_cert},
		     {cfg->admin_key_file, "key_file", &a->tls_key},
		     {cfg->admin_client_ca_file, "client_ca_file", &a->tls_ca}};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (files[i].path[0] == '\0')
			continue;
		if (read_file(files[i].path, files[i].dst, NULL) != 0) {
			log_err("[admin] %s %s: %s", files[i].key, files[i].path, strerror(errno));
			return SINKD_EINVAL;
		}
	}
	if ((a->tls_cert == NULL) != (a->tls_key == NULL) ||
	    (a->tls_ca != NULL && a->tls_cert == NULL)) {
		log_err(
		    "[admin] client_ca_file needs cert_file and key_file, and those go together");
		return SINKD_EINVAL;
	}
	return 0;
}

/* Bearer token, compared as SHA-256 digests in constant time (the length
 * of the token is not revealed either). */
static bool token_ok(struct admin *a, struct MHD_Connection *c)
{
	if (!a->has_token)
		return true;
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	const char *t = h + 7;
	while (*t == ' ')
		t++;
	uint8_t got[32];
	SHA256((const unsigned char *)t, strlen(t), got);
	return CRYPTO_memcmp(got, a->token_sha256, sizeof(got)) == 0;
}

/* With client_ca_file, every request needs a certificate that verifies
 * against it. */
static bool client_cert_ok(struct admin *a, struct MHD_Connection *c)
{
	if (a->tls_ca == NULL)
		return true;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL)
		return false;
	gnutls_session_t s = (gnutls_session_t)ci->tls_session;
	unsigned int n = 0;
	if (gnutls_certificate_get_peers(s, &n) == NULL || n == 0)
		return false;
	unsigned int status = 0;
	return gnutls_certificate_verify_peers2(s, &status) == 0 && status == 0;
}

/* ---- static files -------------------------------------------------------- */

struct static_file {
	const char *url;
	bool third_party; /* under [admin] third_party_dir, else dashboard_dir */
	const char *path;
	const char *type;
};

static const struct static_file static_files[] = {
    {"/", false, "index.html", "text/html; charset=utf-8"},
    {"/index.html", false, "index.html", "text/html; charset=utf-8"},
    {"/dashboard.js", false, "dashboard.js", "text/javascript; charset=utf-8"},
    {"/dashboard.css", false, "dashboard.css", "text/css; charset=utf-8"},
    {"/vendor/uplot/uPlot.iife.min.js", true, "uplot/dist/uPlot.iife.min.js",
     "text/javascript; charset=utf-8"},
    {"/vendor/uplot/uPlot.min.css", true, "uplot/dist/uPlot.min.css", "text/css; charset=utf-8"},
};

_Static_assert(sizeof(static_files) / sizeof(static_files[0]) == ADMIN_N_FILES,
	       "ADMIN_N_FILES must match static_files");

/* Read every dashboard file now: requests are served from memory, so the
 * endpoint keeps working after a chroot and opens no file per request. A
 * missing file is logged and answered with 404. */
static void load_static(struct admin *a)
{
	for (size_t i = 0; i < sizeof(static_files) / sizeof(static_files[0]); i++) {
		const struct static_file *f = &static_files[i];
		char path[2 * CONFIG_PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s",
			 f->third_party ? a->cfg.admin_third_party_dir : a->cfg.admin_dashboard_dir,
			 f->path);
		if (read_file(path, &a->files[i].data, &a->files[i].len) != 0 &&
		    strcmp(f->url, "/") != 0) /* "/" is index.html again */
			log_warn("admin: %s: %s (the dashboard will lack it; see [admin] "
				 "dashboard_dir and third_party_dir)",
				 path, strerror(errno));
	}
}

static enum MHD_Result serve_static(struct admin *a, struct MHD_Connection *c, size_t i)
{
	const struct static_file *f = &static_files[i];
	if (a->files[i].data == NULL)
		return admin_reply_error(c, MHD_HTTP_NOT_FOUND, NULL,
					 "%s is not installed (see [admin] dashboard_dir and "
					 "third_party_dir)",
					 f->url);
	struct MHD_Response *r = MHD_create_response_from_buffer(a->files[i].len, a->files[i].data,
								 MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, f->type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- routing --------------------------------------------------------------- */

struct route {
	const char *path;
	bool prefix; /* path is a prefix, the rest goes to the handler */
	admin_handler fn;
};

static const struct route routes[] = {
    {"/health", false, admin_health},
    {"/metrics", false, admin_metrics},
    {"/api/v1/events", false, admin_api_events},
    {"/api/v1/timeline", false, admin_api_timeline},
    {"/api/v1/domains", false, admin_api_domains},
    {"/api/v1/counters", false, admin_api_counters},
    {"/api/v1/live", false, admin_api_live},
    {"/api/v1/report/", true, admin_api_report},
};

static enum MHD_Result dispatch(struct admin *a, struct MHD_Connection *c, const char *url)
{
	for (size_t i = 0; i < sizeof(static_files) / sizeof(static_files[0]); i++) {
		if (strcmp(url, static_files[i].url) == 0)
			return serve_static(a, c, i);
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];
		size_t n = strlen(r->path);
		if (strncmp(url, r->path, n) != 0 || (!r->prefix && url[n] != '\0'))
			continue;
		if (!token_ok(a, c)) {
			struct MHD_Response *resp =
			    MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
			if (resp == NULL)
				return MHD_NO;
			MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
						"Bearer realm=\"sinkd\"");
			enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, resp);
			MHD_destroy_response(resp);
			return ret;
		}
		struct admin_params p;
		admin_params_collect(c, &p);
		return r->fn(a, c, url + n, &p);
	}
	return admin_reply_error(c, MHD_HTTP_NOT_FOUND, NULL, "no such resource: %s", url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req)
{
	static int first;
	struct admin *a = cls;
	(void)version;
	(void)upload;
	if (*req == NULL) { /* headers only: answer on the next call */
		*req = &first;
		return MHD_YES;
	}
	if (*upload_size != 0) { /* a body: ignored, the reply says why */
		*upload_size = 0;
		return MHD_YES;
	}
	if (!client_cert_ok(a, c))
		return admin_reply_error(c, MHD_HTTP_FORBIDDEN, NULL,
					 "a client certificate signed by the configured CA is "
					 "required");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return admin_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL,
					 "%s: only GET and HEAD are served", method);
	return dispatch(a, c, url);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_warn("admin: %s", msg);
}

/* ---- lifecycle --------------------------------------------------------------- */

static int open_store(struct admin *a)
{
	int ret = store_open(&a->store, a->cfg.store_path, true);
	if (ret != 0) {
		log_err("admin: cannot open the store %s read-only: %s", a->cfg.store_path,
			sinkd_strerror(ret));
		return ret == SINKD_ENOMEM ? ret : SINKD_ESTORE;
	}
	struct stat st;
	if (stat(a->cfg.store_path, &st) == 0) {
		a->store_dev = st.st_dev;
		a->store_ino = st.st_ino;
	}
	return 0;
}

int admin_new(struct admin **out, const struct sinkd_config *cfg, const struct admin_sources *src)
{
	*out = NULL;
	if (strcmp(cfg->admin_listen, "off") == 0)
		return 0;
	struct config_sockaddr addr;
	if (config_parse_sockaddr(cfg->admin_listen, &addr) != 0) {
		log_err("[admin] listen: '%s' is not address:port or off", cfg->admin_listen);
		return SINKD_EINVAL;
	}
	struct admin *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return SINKD_ENOMEM;
	a->cfg = *cfg;
	a->src = *src;
	a->listen_fd = -1;
	a->proc_stat_fd = -1;
	a->proc_fd_dir = -1;
	a->started_s = (int64_t)time(NULL);
	snprintf(a->address, sizeof(a->address), "%s", addr.text);
	pthread_mutex_init(&a->store_lock, NULL);
	pthread_mutex_init(&a->health_lock, NULL);
	int ret = load_token(a);
	if (ret == 0)
		ret = load_tls(a);
	if (ret == 0 && !config_sockaddr_is_loopback(&addr) && !a->has_token && a->tls_ca == NULL) {
		log_err("[admin] listen %s is not a loopback address and neither a token nor a "
			"client certificate is required: refusing to start (set [admin] token_file "
			"or client_ca_file, or listen on 127.0.0.1)",
			addr.text);
		ret = SINKD_EINVAL;
	}
	if (ret == 0)
		ret = open_store(a);
	if (ret == 0) {
		load_static(a);
		admin_proc_open(a);
	}
	if (ret == 0)
		ret = net_check_free(&addr, NET_TCP);
	if (ret == 0) {
		a->listen_fd = net_bind(&addr, NET_TCP);
		if (a->listen_fd < 0)
			ret = a->listen_fd;
	}
	if (ret != 0) {
		admin_free(a);
		return ret;
	}
	*out = a;
	return 0;
}

int admin_start(struct admin *a)
{
	if (a == NULL)
		return 0;
	unsigned flags =
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (a->tls_cert != NULL)
		flags |= MHD_USE_TLS;
	struct MHD_OptionItem opts[] = {
	    {MHD_OPTION_LISTEN_SOCKET, a->listen_fd, NULL},
	    {MHD_OPTION_CONNECTION_LIMIT, a->cfg.admin_max_connections, NULL},
	    {MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL},
	    {a->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, a->tls_cert},
	    {a->tls_key ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, a->tls_key},
	    {a->tls_ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, a->tls_ca},
	    {MHD_OPTION_END, 0, NULL},
	};
	/* Options after the first MHD_OPTION_END are ignored: move the set
	 * TLS ones up so none is cut off by an unset one before it. */
	size_t w = 3;
	for (size_t r = 3; r < 6; r++) {
		if (opts[r].option != MHD_OPTION_END)
			opts[w++] = opts[r];
	}
	opts[w] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	a->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, a, MHD_OPTION_EXTERNAL_LOGGER,
				  mhd_log, NULL, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (a->mhd == NULL) {
		log_err("admin: cannot start the HTTP%s server on %s (see the line above)",
			a->tls_cert ? "S" : "", a->address);
		return SINKD_ENET;
	}
	a->listen_fd = -1; /* the daemon's now */
	return 0;
}

void admin_set_ready(struct admin *a, bool ready)
{
	if (a != NULL)
		atomic_store(&a->ready, ready);
}

const char *admin_address(const struct admin *a) { return a != NULL ? a->address : ""; }

void admin_free(struct admin *a)
{
	if (a == NULL)
		return;
	atomic_store(&a->stopping, true);
	atomic_store(&a->ready, false);
	if (a->mhd != NULL)
		MHD_stop_daemon(a->mhd);
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	store_close(a->store);
	admin_proc_close(a);
	for (size_t i = 0; i < ADMIN_N_FILES; i++)
		free(a->files[i].data);
	pthread_mutex_destroy(&a->store_lock);
	pthread_mutex_destroy(&a->health_lock);
	if (a->tls_key != NULL)
		OPENSSL_cleanse(a->tls_key, strlen(a->tls_key));
	free(a->tls_cert);
	free(a->tls_key);
	free(a->tls_ca);
	OPENSSL_cleanse(a->token_sha256, sizeof(a->token_sha256));
	free(a);
}
