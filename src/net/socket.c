#include "net/net.h"

#include "core/error.h"
#include "core/log.h"

#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

static const char *proto_name(enum net_proto p)
{
	return p == NET_UDP ? "udp" : "tcp";
}

static int new_socket(const struct config_sockaddr *addr, enum net_proto proto, bool reuseport)
{
	int type = (proto == NET_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
	int fd = socket(addr->ss.ss_family, type, 0);
	if (fd < 0)
		return -errno;
	int on = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0)
		goto fail;
	if (addr->ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0)
		goto fail;
	return fd;
fail:;
	int err = errno;
	close(fd);
	return -err;
}

int net_check_free(const struct config_sockaddr *addr, enum net_proto proto)
{
	int fd = new_socket(addr, proto, false);
	if (fd < 0) {
		log_err("cannot listen on %s/%s: %s", addr->text, proto_name(proto),
			fd == -EADDRINUSE ? "address already in use (another sinkd or DNS server?)"
					  : strerror(-fd));
		return SINKD_ENET;
	}
	close(fd);
	return 0;
}

int net_bind(const struct config_sockaddr *addr, enum net_proto proto)
{
	int fd = new_socket(addr, proto, true);
	if (fd < 0) {
		log_err("cannot listen on %s/%s: %s", addr->text, proto_name(proto), strerror(-fd));
		return SINKD_ENET;
	}
	int on = 1;
	if (proto == NET_UDP) {
		if (addr->ss.ss_family == AF_INET)
			setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
		else
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
		int rcvbuf = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	} else if (listen(fd, 1024) != 0) {
		log_err("cannot listen on %s/tcp: %s", addr->text, strerror(errno));
		close(fd);
		return SINKD_ENET;
	}
	return fd;
}

int net_drop_privileges(const char *user)
{
	if (user[0] == '\0' || geteuid() != 0)
		return 0;
	struct passwd *pw = getpwnam(user);
	if (pw == NULL) {
		log_err("[server] user: no such user '%s'", user);
		return SINKD_EINVAL;
	}
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		log_err("cannot drop privileges to '%s': %s", user, strerror(errno));
		return SINKD_EIO;
	}
	if (setuid(0) == 0) {
		log_err("privilege drop to '%s' did not stick", user);
		return SINKD_EIO;
	}
	log_info("dropped privileges to user %s (uid %u)", user, (unsigned)pw->pw_uid);
	return 0;
}
