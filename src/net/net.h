/* Socket plumbing shared by every listener: binding (SO_REUSEPORT groups,
 * with a check that no other process already holds the address), local
 * address reporting, privilege drop. */
#ifndef SINKD_NET_NET_H
#define SINKD_NET_NET_H

#include <stdbool.h>
#include <sys/socket.h>

#include "core/config.h"

enum net_proto { NET_UDP = 0, NET_TCP = 1 };

/* Fail with a clear log line if another process already listens on addr
 * (bind without SO_REUSEPORT on a probe socket). 0 or SINKD_ENET. */
int net_check_free(const struct config_sockaddr *addr, enum net_proto proto);

/* Create a non-blocking socket bound to addr with SO_REUSEPORT (so each
 * worker gets its own), listening when TCP. UDP sockets get packet-info
 * options so replies leave from the address the query arrived on. Returns
 * the fd, or SINKD_ENET with a log line naming the address and errno. */
int net_bind(const struct config_sockaddr *addr, enum net_proto proto);

/* Drop root to `user` (setgroups, setgid, setuid) when running as root and
 * user is not empty. 0 or SINKD_EINVAL (unknown user) / SINKD_EIO. */
int net_drop_privileges(const char *user);

#endif
