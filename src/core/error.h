/* sinkd project-wide error codes.
 *
 * Functions return int: 0 on success or one of the negative codes below.
 * sinkd_strerror() gives a short human text for any of them.
 */
#ifndef SINKD_CORE_ERROR_H
#define SINKD_CORE_ERROR_H

enum sinkd_err {
	SINKD_OK = 0,
	SINKD_ENOMEM = -1000,	/* out of memory */
	SINKD_EINVAL = -1001,	/* invalid argument or input */
	SINKD_EIO = -1002,	/* I/O error (see errno/log for detail) */
	SINKD_ENOENT = -1003,	/* no such item */
	SINKD_EEXIST = -1004,	/* item already exists */
	SINKD_EFULL = -1005,	/* bounded container is full */
	SINKD_EPARSE = -1006,	/* syntax error in a user file */
	SINKD_ESTORE = -1007,	/* storage engine error */
	SINKD_ENET = -1008,	/* socket / network error */
	SINKD_ERANGE = -1009,	/* value out of range */
	SINKD_EAGAIN = -1010,	/* try again later (nothing available) */
	SINKD_EMALF = -1011,	/* malformed wire input */
};

/* Short static text for a sinkd error code (or "unknown error"). */
const char *sinkd_strerror(int err);

#endif
