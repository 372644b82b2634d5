/* SPDX-License-Identifier: BSD-2-Clause */
/* bench.h: what the parts of the benchmark share: the run, samples, logins. */
/*
 * One file per kind of row: bench.c (settings, heading, main), bench_setup.c
 * (directories, configurations, service files), bench_util.c (clocks,
 * statistics, files, the table's rows), bench_login.c (items 2 and the
 * timing rows), bench_store.c (3), bench_throughput.c (4), bench_versus.c
 * (5), bench_cost.c (1, 6, 8), bench_purge.c (7), bench_spawn.c (9),
 * bench_guess.c (10), bench_ldap.c (11) with bench_ldap_dir.c (its
 * directory, a slapd of bench_slapd.sh).
 */
#ifndef BENCH_H
#define BENCH_H

#include <sys/time.h>
#include <sys/types.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "rec_auth.h"
#include "rec_issue.h"

#define FILL_CODES	10	/* codes per filled user */
#define FILL_CHUNK	5000	/* users per write transaction of a fill */
#define TINY_OPS	1	/* argon2id at its cheapest: filled users' */
#define TINY_MEM	8192	/* batches, and item 5's logins */

#define SVC_USER	"bench-peruser"	/* service using the per-user store */
#define SVC_SYSTEM	"bench-system"	/* service using the system store */
#define SVC_NONE	"bench-none"	/* per-user stores nobody has */
#define SVC_TINY	"bench-tiny"	/* per-user, argon2id at its minimum */
#define SVC_TINY_SHM	"bench-tiny-shm" /* the same on tmpfs */
#define SVC_TINY_SYS	"bench-tiny-system" /* a system store at that cost */
#define SVC_TINY_SYS_SHM "bench-tiny-system-shm" /* the same on tmpfs */
#define SVC_PURGE	"bench-purge"	/* the store full of dead codes */
#define SVC_PURGE_TINY	"bench-purge-tiny" /* the same at the tiny cost */

#define SYS_USER	"bench-user"	/* measured user of the system store */
#define NO_USER		"bench-nosuch"	/* in no passwd and no store */

/* The minimum, median, p95, p99 (nearest rank), maximum of some samples. */
struct stats {
	double min, med, p95, p99, max;
};

#define WORKERS_MAX	8	/* processes of a throughput row, at most */

/* Everything one run holds; owned by main() and released there. */
struct bench {
	uint64_t opslimit, memlimit;
	unsigned reps, users, purge_users;
	unsigned ldap_users;		/* item 11's directory (0: skipped) */
	long cores;
	char module[PATH_MAX];		/* absolute path of pam_recovery.so */
	char helper[PATH_MAX];		/* and of pam-recovery-store */
	char me[REC_USER_MAX];		/* the invoking user */
	char pu[REC_USER_MAX];		/* who logs in to per-user stores */
	uid_t pu_uid;			/* (nobody when me is root) */
	gid_t pu_gid;
	char tmp[512];			/* the mkdtemp directory, "" until made */
	char shm[512];			/* one on tmpfs, or "" */
	char udir[600], shm_udir[600];	/* in each, pu's: per-user stores */
	char confdir[PATH_MAX];		/* its pam.d */
	char user_store[REC_PATH_MAX];	/* the per-user store of pu */
	char tiny_store[REC_PATH_MAX];	/* of pu, at the tiny cost */
	char tiny_shm_store[REC_PATH_MAX];
	char tiny_sys_store[REC_PATH_MAX]; /* system stores at that cost */
	char tiny_sys_shm_store[REC_PATH_MAX];
	char sys_store[REC_PATH_MAX];
	char purge_store[REC_PATH_MAX];	/* purged at the configured cost, */
	char purge_tiny_store[REC_PATH_MAX]; /* and at the tiny one */
	struct rec_config ucfg, scfg;	/* as the module reads them */
	struct rec_config tcfg, tscfg;	/* tiny cost: per-user, system */
	struct rec_config pcfg, ptcfg;	/* the purge stores */
	struct rec_format fmt;		/* the default code format */
	struct rec_log log;
	double floor_ms, floor_cpu;	/* medians of one bare evaluation */
	double *v, *vc;			/* samples (wall, CPU), reps of them */
	double *f, *fc;			/* floor samples taken beside them */
	double *d, *dc;			/* more samples, or differences */
	struct stats ovh;		/* login - paired floor, valid, */
	double ovh_cpu;			/* per-user store, 10 codes; CPU med */
	struct rec_new_batch *nb;	/* the codes in clear; wiped at the end */
	struct stats last_ok;		/* latency()'s last valid logins, */
	double last_floor;		/* the floor's median beside them */
	struct stats sys_ok;		/* item 3 at its largest size, kept */
	double sys_floor;		/* for item 11's side by side */
	unsigned sys_users;		/* (0: not measured) */
	double rate8, bare_rate8;	/* item 4 at 8 workers (0: not run) */
	FILE *data;			/* BENCH_DATA, or NULL */
	const char *data_kind;		/* the block being written to it */
};

/* bench_util.c */

/*
 * Milliseconds of the monotonic clock, and of the CPU time of this thread
 * and of its waited-for children (for differences only); tv_ms converts a
 * struct timeval of getrusage.
 */
double now_ms(void);
double cpu_ms(void);
double tv_ms(const struct timeval *tv);

/* Sort v (n > 0 samples) in place and summarise it. */
struct stats summarise(double *v, unsigned n);

/* Create path (which must not exist) with mode and the text; 0 or -1. */
int write_file(const char *path, mode_t mode, const char *text);

/* rm -rf of dir, a directory of ours, never following a symlink. */
void remove_tree(const char *dir);

/* A name for a statfs f_type. */
const char *fs_name(long type);

/*
 * One line of the table: what, n samples summarised in s; with base (the
 * floor taken beside them), its median and the ratios of the medians in
 * wall time and in CPU time (cpu and cpu_base, medians of CPU time).
 */
void row(const char *what, unsigned n, const struct stats *s,
    const struct stats *base, double cpu, double cpu_base);

/*
 * One line of BENCH_DATA (none when b->data is NULL): x of kind, the
 * valid and wrong codes' statistics and their floors' medians.
 */
void data_row(struct bench *b, const char *kind, unsigned x,
    const struct stats *ok, const struct stats *bad, const struct stats *okf,
    const struct stats *badf);

/* bench_setup.c */

/*
 * Fill in b's paths and configurations from B and TMPDIR: the temporary
 * directories (b->tmp, b->shm; "" when not made, else main removes them),
 * the per-user directories, the configuration and PAM service files of
 * every SVC_*.  Reports what failed; returns 0 or -1.
 */
int setup(struct bench *b);

/* bench_login.c */

/*
 * One login as sshd makes it: a fresh handle for service in b->confdir,
 * code typed at every prompt, pam_authenticate, pam_end.  *ms and *cpu
 * (unless NULL) receive the wall and CPU time of pam_authenticate alone.
 * Returns its PAM result, or -1 when the handle could not be started.
 */
int login(const struct bench *b, const char *service, const char *user,
    const char *code, double *ms, double *cpu);

/*
 * Issue a fresh batch of count codes for user in the store at path (owned
 * by owner: this process's or pu's; created if need be) at cfg's cost into
 * nb, replacing any batch it has; the store is open for this call only.
 * *ms and *cpu (unless NULL) receive the time of rec_issue_generate alone.
 * Returns 0 or -1.
 */
int issue(const struct bench *b, const char *path, uid_t owner,
    const struct rec_config *cfg, const char *user, unsigned count,
    struct rec_new_batch *nb, double *ms, double *cpu);

/*
 * 2, 3: reps wrong then reps valid logins of user through service, whose
 * store at path (owned by owner, at cfg's cost) holds batches of count
 * codes, each after a bare evaluation; prints the rows labelled with what
 * and writes kind at x to BENCH_DATA; with overhead, keeps b->ovh and
 * b->ovh_cpu.  Returns 0 or -1.
 */
int latency(struct bench *b, const char *service, const char *path,
    uid_t owner, const struct rec_config *cfg, const char *user,
    unsigned count, const char *what, const char *kind, unsigned x,
    int overhead);

/*
 * Issue #8: one row of the medians of wrong codes for an unknown user,
 * none_user who has no codes and wrong_user who has, through the three
 * services, and their spread.  Returns 0 or -1.
 */
int timing(struct bench *b, const char *what, const char *svc_unknown,
    const char *svc_none, const char *none_user, const char *svc_wrong,
    const char *wrong_user);

/* bench_cost.c */

/*
 * One bare argon2id evaluation of a fresh code at b's cost; its wall time
 * in *ms and CPU time in *cpu (unless NULL).  Returns 0 or -1.
 */
int bare_eval(const struct bench *b, double *ms, double *cpu);

/*
 * 1: the floor, bare evaluations into b->floor_ms and b->floor_cpu;
 * 6: rec_issue_generate of 10 codes next to 10 floors;
 * 8: peak resident memory of a process making one login.
 * Each prints its rows; returns 0 or -1.
 */
int measure_floor(struct bench *b);
int measure_generate(struct bench *b);
int peak_memory(struct bench *b);

/* bench_store.c */

/*
 * 3: the system store filled to a hundredth, a tenth and all of b->users,
 * with the logins of SYS_USER measured at each size.  Prints its rows;
 * returns 0 or -1.
 */
int system_store(struct bench *b);

/* bench_throughput.c */

/*
 * 4: logins per second in 1, 2, 4 and 8 processes, next to bare argon2id
 * in as many.  Prints its rows; returns 0 or -1.
 */
int throughput(struct bench *b);

/*
 * What one worker process runs: its number w, k of whatever it does;
 * returns its exit status (0: it all worked).  workers_run runs `workers`
 * of them (at most WORKERS_MAX), released at once, and returns the wall
 * time from the release to the last exit in ms, or -1 when one could not
 * start or failed; *cpu receives the CPU time they used.
 */
typedef int worker_fn(const struct bench *b, unsigned w, unsigned k,
    void *arg);
double workers_run(const struct bench *b, unsigned workers, unsigned k,
    worker_fn *fn, void *arg, double *cpu);

/*
 * 5 (bench_versus.c): the non-hash part of a login next to a whole login
 * of pam_google_authenticator, in a process of its own.  Prints its rows;
 * returns 0, or -1 when it could not be measured.
 */
int versus_apart(struct bench *b);

/*
 * 7 (bench_purge.c): purge throughput over b->purge_users users of dead
 * codes, and a concurrent login's latency.  Prints its rows; 0 or -1.
 */
int measure_purge(struct bench *b);

/*
 * 9 (bench_spawn.c): a fork of a small and a 256 MiB host next to a spawn
 * of the store helper, and a login in a fresh process next to a fresh
 * bare argon2id.  Prints its rows; 0 or -1.  bench_one_hash() is what the
 * fresh hash process runs (BENCH_ONE_HASH set): two hashes, timed.
 */
int measure_spawn(struct bench *b);
int bench_one_hash(void);

/*
 * 10 (bench_guess.c): the hashed guesses per day an attacker gets against
 * one user under the default lockout, greedy and paced, simulated through
 * the real lockout functions.  Prints its rows; returns 0.
 */
int guess_rate(struct bench *b);

/*
 * 11 (bench_ldap.c): the directory store, on a slapd of its own
 * (bench/bench_slapd.sh) holding b->ldap_users users: one login over
 * StartTLS on loopback next to its floor (one argon2id and the round
 * trips it makes), 8 workers' logins per second, a wrong code and an
 * unknown user, and the LMDB store's rows 3 and 4 beside them.  Prints
 * its rows, or why it is skipped (no slapd); returns 0 or -1.
 */
int measure_ldap(struct bench *b);

/* bench_ldap_dir.c */

/*
 * What the directory client asks libldap for, counted in this process
 * (the bench is linked with --wrap of each call): a TCP connect, a
 * StartTLS request, a TLS handshake, a bind, a search, a modify, an add;
 * each one round trip on the wire.  ldap_ops copies the counts so far.
 */
enum ldap_op {
	LOP_CONNECT, LOP_STARTTLS, LOP_HANDSHAKE, LOP_BIND, LOP_SEARCH,
	LOP_MODIFY, LOP_ADD, LOP_N
};
extern const char *const ldap_op_name[LOP_N];
void ldap_ops(unsigned long out[LOP_N]);

/* The codes in clear of one user of the directory. */
struct ldap_pool {
	char user[32];
	unsigned next, n;		/* the next unused of n */
	char codes[FILL_CODES][REC_CODE_MAX + 1];
};

struct rec_ldap;

/* Item 11's directory: a slapd of the bench's own (bench_slapd.sh). */
struct ldap_dir {
	char path[600];			/* b->tmp/ldap: its files and socket */
	int running;			/* to be stopped by its pidfile */
	unsigned port;			/* ldap:// (StartTLS) on 127.0.0.1 */
	char version[32];		/* slapd's */
	double ldif_bytes, ldif_s, slapadd_s;	/* the filler users' load */
	unsigned held;			/* user entries after it (ldapsearch) */
	struct rec_config host, admin;	/* the two accounts', b's cost */
	struct rec_ldap *adm;		/* the administrators' connection */
};

/*
 * dir_missing: 1 with the reason in why when the bench cannot run a
 * slapd (a program or module missing), else 0.
 * dir_start: make and start the server in b->tmp/ldap, the accounts'
 * configurations and the administrators' connection; a watcher stops
 * the server should the bench die first.  0 or -1.
 * dir_fill: stop it, copy the entries of user tmpl to `users` filler
 * users with slapadd -q (d->ldif_*, d->slapadd_s), start it again.
 * dir_stop: stop it (by its PID) and close the connection; always safe.
 * dir_seed: a fresh active batch of FILL_CODES codes for p->user at
 * (ops, mem), written with rec_ldap_write_batch; codes in clear to p.
 * dir_code: p's next code, seeding a fresh batch at b's cost when p's
 * are used up; NULL when that failed.
 */
int dir_missing(char *why, size_t len);
int dir_start(struct bench *b, struct ldap_dir *d);
int dir_fill(struct bench *b, struct ldap_dir *d, unsigned users,
    const char *tmpl);
void dir_stop(struct ldap_dir *d);
int dir_seed(struct bench *b, struct ldap_dir *d, struct ldap_pool *p,
    uint64_t ops, uint64_t mem);
const char *dir_code(struct bench *b, struct ldap_dir *d,
    struct ldap_pool *p);

#endif
