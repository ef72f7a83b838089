#include "core/error.h"

const char *sinkd_strerror(int err)
{
	switch (err) {
	case SINKD_OK: return "success";
	case SINKD_ENOMEM: return "out of memory";
	case SINKD_EINVAL: return "invalid argument";
	case SINKD_EIO: return "input/output error";
	case SINKD_ENOENT: return "not found";
	case SINKD_EEXIST: return "already exists";
	case SINKD_EFULL: return "queue or table full";
	case SINKD_EPARSE: return "parse error";
	case SINKD_ESTORE: return "storage error";
	case SINKD_ENET: return "network error";
	case SINKD_ERANGE: return "value out of range";
	case SINKD_EAGAIN: return "try again";
	case SINKD_EMALF: return "malformed input";
	default: return "unknown error";
	}
}
