/* `sinkd serve`: wires config, seized domains, DNS listeners, the pipeline
 * and the store together; handles SIGHUP (reload), SIGTERM/SIGINT (drain and
 * stop) and the privilege drop. */
#ifndef SINKD_SERVER_SERVER_H
#define SINKD_SERVER_SERVER_H

struct sinkd_config;

/* `sinkd serve [-c FILE]`. Returns the process exit status. */
int server_cli(int argc, char **argv);

/* Hardening (hardening.c, docs/hardening.md). Before anything is opened:
 * umask 077, no core dumps (RLIMIT_CORE 0, not dumpable). 0 or SINKD_EIO. */
int server_harden_early(void);

/* After every socket and file is open, before threads start: chroot to
 * [server] chroot, then drop to [server] user / group (root only; checked
 * to stick). 0, SINKD_EINVAL (unknown user or group) or SINKD_EIO. */
int server_lockdown(const struct sinkd_config *cfg);

/* With [server] seccomp = on, load the system-call allowlist into every
 * running thread (TSYNC): a call outside it fails with EPERM, a
 * dangerous one (ptrace, mount, execve without an on_change hook, ...)
 * kills the process. 0 or a negative SINKD_E* code (logged). */
int server_seccomp(const struct sinkd_config *cfg);

#endif
