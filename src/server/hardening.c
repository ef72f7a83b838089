/* Process hardening for `sinkd serve` (docs/hardening.md): no core dumps,
 * private file modes, chroot and privilege drop after every socket and
 * file is open, and a seccomp allowlist of what serving needs. */
#include "server/server.h"

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

int server_harden_early(void)
{
	struct rlimit none = {0, 0};
	/* Files we create (store, WAL, shm, exports) are the owner's only. */
	umask(0077);
	/* Captured traffic and keys never land in a core file. */
	if (setrlimit(RLIMIT_CORE, &none) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		log_err("cannot disable core dumps: %s", strerror(errno));
		return SINKD_EIO;
	}
	return 0;
}

/* uid/gid of [server] user and group, looked up before any chroot. */
static int lookup_ids(const struct sinkd_config *cfg, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(cfg->user);
	if (pw == NULL) {
		log_err("[server] user: no such user '%s'", cfg->user);
		return SINKD_EINVAL;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (cfg->group[0] != '\0') {
		struct group *gr = getgrnam(cfg->group);
		if (gr == NULL) {
			log_err("[server] group: no such group '%s'", cfg->group);
			return SINKD_EINVAL;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

int server_lockdown(const struct sinkd_config *cfg)
{
	bool root = geteuid() == 0;
	bool drop = cfg->user[0] != '\0' && root;
	uid_t uid = 0;
	gid_t gid = 0;
	if (!root &&
	    (cfg->chroot_dir[0] != '\0' || cfg->user[0] != '\0' || cfg->group[0] != '\0')) {
		log_warn("[server] user, group, chroot: not root, nothing to drop");
		return 0;
	}
	if (cfg->group[0] != '\0' && cfg->user[0] == '\0') {
		log_err("[server] group needs [server] user");
		return SINKD_EINVAL;
	}
	if (drop && lookup_ids(cfg, &uid, &gid) != 0)
		return SINKD_EINVAL;
	if (cfg->chroot_dir[0] != '\0') {
		if (chroot(cfg->chroot_dir) != 0 || chdir("/") != 0) {
			log_err("[server] chroot %s: %s", cfg->chroot_dir, strerror(errno));
			return SINKD_EIO;
		}
		log_info("chroot to %s (files read on reload are looked up inside it)",
			 cfg->chroot_dir);
	}
	if (drop) {
		if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
			log_err("cannot drop privileges to '%s': %s", cfg->user, strerror(errno));
			return SINKD_EIO;
		}
		if (setuid(0) == 0 || setgid(0) == 0) {
			log_err("privilege drop to '%s' did not stick", cfg->user);
			return SINKD_EIO;
		}
		log_info("dropped privileges to user %s (uid %u, gid %u)", cfg->user, (unsigned)uid,
			 (unsigned)gid);
	}
	/* A credential change resets the dumpable flag: set it again. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}

/* What serving needs once every listener, file and thread is set up:
 * memory, file I/O on open descriptors and files SQLite (re)opens, the
 * reload (open, read, stat), sockets (accept, send, receive, the domain
 * monitor's queries), threads, signals, time, randomness. */
static const char *const allowed[] = {
    "brk",
    "mmap",
    "munmap",
    "mremap",
    "mprotect",
    "madvise",
    "openat",
    "open",
    "read",
    "write",
    "pread64",
    "pwrite64",
    "readv",
    "writev",
    "preadv",
    "pwritev",
    "lseek",
    "close",
    "fstat",
    "newfstatat",
    "stat",
    "lstat",
    "statx",
    "fstatfs",
    "statfs",
    "access",
    "faccessat",
    "faccessat2",
    "fcntl",
    "fsync",
    "fdatasync",
    "ftruncate",
    "fallocate",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "getdents64",
    "readlink",
    "readlinkat",
    "getcwd",
    "dup",
    "dup2",
    "dup3",
    "pipe2",
    "flock",
    "fchown",
    "fchmod",
    "umask",
    "sendfile",
    "socket",
    "bind",
    "listen",
    "accept",
    "accept4",
    "connect",
    "recvfrom",
    "recvmsg",
    "recvmmsg",
    "sendto",
    "sendmsg",
    "sendmmsg",
    "getsockname",
    "getpeername",
    "getsockopt",
    "setsockopt",
    "shutdown",
    "socketpair",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "eventfd2",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    "clone",
    "clone3",
    "futex",
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "set_tid_address",
    "gettid",
    "getpid",
    "getppid",
    "tgkill",
    "exit",
    "exit_group",
    "sched_yield",
    "sched_getaffinity",
    "setpriority",
    "getpriority",
    "prctl",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigtimedwait",
    "sigaltstack",
    "restart_syscall",
    "clock_gettime",
    "clock_getres",
    "clock_nanosleep",
    "nanosleep",
    "gettimeofday",
    "getrandom",
    "uname",
    "sysinfo",
    "prlimit64",
    "getrlimit",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getresuid",
    "getresgid",
    "membarrier",
};

/* Refused outright by killing the process: nothing in sinkd calls them,
 * and an attacker who got code running would. */
static const char *const killed[] = {
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "bpf",
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setgroups",
    "personality",
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    "perf_event_open",
    "open_by_handle_at",
    "unshare",
    "setns",
};

/* Sanitizer builds (make test's ASan+UBSan run): LeakSanitizer stops the
 * world at exit with a ptrace'd helper thread. Allowed there only. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZER_BUILD 1
#else
#define SANITIZER_BUILD 0
#endif
static const char *const sanitizer[] = {"ptrace",   "wait4",	      "process_vm_readv",
					"getdents", "sched_getparam", "sched_setaffinity"};

/* The monitor's on_change hook runs a program: only then may sinkd spawn. */
static const char *const spawn[] = {"execve", "wait4", "vfork"};

static int add_rules(scmp_filter_ctx ctx, const char *const *names, size_t n, uint32_t action)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		if (seccomp_rule_add(ctx, action, nr, 0) != 0) {
			log_err("seccomp: cannot add rule for %s", names[i]);
			return SINKD_EINVAL;
		}
	}
	return 0;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Kill rules, but not for what a sanitizer build allows. */
static int add_kills(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool needed = false;
		for (size_t j = 0; SANITIZER_BUILD && j < N(sanitizer); j++)
			needed |= strcmp(names[i], sanitizer[j]) == 0;
		if (!needed && add_rules(ctx, &names[i], 1, SCMP_ACT_KILL_PROCESS) != 0)
			return SINKD_EINVAL;
	}
	return 0;
}

int server_seccomp(const struct sinkd_config *cfg)
{
	if (!cfg->seccomp)
		return 0;
	/* Anything not listed fails with EPERM rather than killing the
	 * sinkhole: a rare library path fails, answering goes on. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (ctx == NULL) {
		log_err("seccomp: cannot create a filter");
		return SINKD_ENOMEM;
	}
	int ret = add_rules(ctx, allowed, N(allowed), SCMP_ACT_ALLOW);
	if (ret == 0 && SANITIZER_BUILD)
		ret = add_rules(ctx, sanitizer, N(sanitizer), SCMP_ACT_ALLOW);
	if (ret == 0)
		ret = add_kills(ctx, killed, N(killed));
	if (ret == 0 && cfg->monitor_on_change[0] != '\0')
		ret = add_rules(ctx, spawn, N(spawn), SCMP_ACT_ALLOW);
	else if (ret == 0)
		ret = add_kills(ctx, spawn, N(spawn));
	/* Every thread already running gets the filter too. */
	if (ret == 0 && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0)
		ret = SINKD_EINVAL;
	if (ret == 0) {
		int rc = seccomp_load(ctx);
		if (rc != 0) {
			log_err("seccomp: cannot load the filter: %s", strerror(-rc));
			ret = SINKD_EIO;
		}
	}
	seccomp_release(ctx);
	if (ret == 0)
		log_info("seccomp: system-call allowlist active (%zu allowed)", N(allowed));
	return ret;
}
