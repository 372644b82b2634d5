/* SPDX-License-Identifier: BSD-2-Clause */
/* bench_setup.c: the run's temporary directories, configurations and PAM service files. */
#include <sys/stat.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rec_err.h"

#include "bench.h"

#define MAX_ATTEMPTS	"1000"	/* the configuration's maximum */
#define ROOT_PU		"nobody"	/* root's user of per-user stores */

/*
 * Write one configuration file (argon2id at ops and mem) and its service
 * file, then read the file back as the module will, into cfg.
 */
static int
make_service(struct bench *b, const char *name, const char *store,
    uint64_t ops, uint64_t mem, struct rec_config *cfg)
{
	char conf[PATH_MAX + 16], svc[PATH_MAX + 16];
	char text[3 * PATH_MAX];
	int n;

	if ((size_t)snprintf(conf, sizeof(conf), "%s/%s.conf", b->tmp, name) >=
	    sizeof(conf) ||
	    (size_t)snprintf(svc, sizeof(svc), "%s/%s", b->confdir, name) >=
	    sizeof(svc))
		return -1;
	/*
	 * max_attempts is at its maximum and fail_interval at its minimum:
	 * only failures within one second count, and no user of the bench
	 * makes a thousand of them in a second, so the lockout never engages
	 * however long a loop of wrong codes runs.  The arithmetic and the
	 * records written are the same as with the defaults.
	 */
	n = snprintf(text, sizeof(text),
	    "# Written by bench/bench_setup.c for one run.\n"
	    "store = %s\n"
	    "kdf_opslimit = %llu\n"
	    "kdf_memlimit = %llu\n"
	    "max_attempts = " MAX_ATTEMPTS "\n"
	    "fail_interval = 1\n"
	    "store_helper = %s\n",
	    store, (unsigned long long)ops, (unsigned long long)mem, b->helper);
	if (n < 0 || (size_t)n >= sizeof(text) ||
	    write_file(conf, 0600, text) != 0)
		return -1;
	n = snprintf(text, sizeof(text), "auth required %s conf=%s\n",
	    b->module, conf);
	if (n < 0 || (size_t)n >= sizeof(text) ||
	    write_file(svc, 0600, text) != 0)
		return -1;
	rec_config_defaults(cfg);
	if (rec_config_load(cfg, conf, &b->log) != REC_OK ||
	    rec_config_validate(cfg, &b->log) != REC_OK)
		return -1;
	return 0;
}

/*
 * Make dir, in parent, pu's own; when pu is not this process's user, let
 * pu pass through parent to reach it.
 */
static int
make_udir(const struct bench *b, const char *parent, const char *dir)
{
	if ((b->pu_uid != geteuid() && chmod(parent, 0711) == -1) ||
	    mkdir(dir, 0700) == -1 || chown(dir, b->pu_uid, b->pu_gid) == -1) {
		fprintf(stderr, "bench: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* The temporary directory, configuration and service files. */
int
setup(struct bench *b)
{
	const char *bdir = getenv("B"), *base = getenv("TMPDIR");
	char path[PATH_MAX];
	const struct passwd *pw;
	char store[REC_PATH_MAX], home[PATH_MAX];
	struct rec_config other;	/* read back to check, not kept */
	int ret = -1;

	if (bdir == NULL || *bdir == '\0')
		bdir = "build";
	if (base == NULL || *base == '\0')
		base = "/tmp";
	if ((size_t)snprintf(path, sizeof(path), "%s/pam-recovery-store",
	    bdir) >= sizeof(path) || realpath(path, b->helper) == NULL) {
		fprintf(stderr, "bench: %s/pam-recovery-store: %s (set B to the "
		    "build directory)\n", bdir, strerror(errno));
		goto out;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/pam_recovery.so", bdir) >=
	    sizeof(path) || realpath(path, b->module) == NULL) {
		fprintf(stderr, "bench: %s/pam_recovery.so: %s (set B to the "
		    "build directory)\n", bdir, strerror(errno));
		goto out;
	}
	if ((pw = getpwuid(getuid())) == NULL ||
	    strlen(pw->pw_name) >= sizeof(b->me)) {
		fprintf(stderr, "bench: who am I? uid %u\n", (unsigned)getuid());
		goto out;
	}
	snprintf(b->me, sizeof(b->me), "%s", pw->pw_name);
	snprintf(b->pu, sizeof(b->pu), "%s", pw->pw_name);
	snprintf(home, sizeof(home), "%s", pw->pw_dir);
	b->pu_uid = pw->pw_uid;
	b->pu_gid = pw->pw_gid;
	/*
	 * As root, the module reads another user's per-user store in a child
	 * that is that user, which a login as root would leave out: root logs
	 * in as nobody instead, a user every system has, and makes nobody's
	 * stores with nobody's file-system identity.
	 */
	if (geteuid() == 0 && (pw = getpwnam(ROOT_PU)) != NULL &&
	    pw->pw_uid != 0) {
		snprintf(b->pu, sizeof(b->pu), "%s", pw->pw_name);
		snprintf(home, sizeof(home), "%s", pw->pw_dir);
		b->pu_uid = pw->pw_uid;
		b->pu_gid = pw->pw_gid;
	}
	if ((size_t)snprintf(b->tmp, sizeof(b->tmp), "%s/pam_recovery-bench."
	    "XXXXXX", base) >= sizeof(b->tmp) || mkdtemp(b->tmp) == NULL) {
		fprintf(stderr, "bench: mkdtemp in %s: %s\n", base,
		    strerror(errno));
		b->tmp[0] = '\0';
		goto out;
	}
	/* The service files are split on blanks. */
	if (strpbrk(b->tmp, " \t\n") != NULL ||
	    strpbrk(b->module, " \t\n") != NULL) {
		fprintf(stderr, "bench: paths with blanks do not fit a PAM "
		    "service file: %s, %s\n", b->tmp, b->module);
		goto out;
	}
	snprintf(b->confdir, sizeof(b->confdir), "%s/pam.d", b->tmp);
	if (mkdir(b->confdir, 0700) == -1) {
		fprintf(stderr, "bench: %s: %s\n", b->confdir, strerror(errno));
		goto out;
	}
	/* The same on tmpfs, where a sync costs nothing; optional. */
	snprintf(b->shm, sizeof(b->shm), "/dev/shm/pam_recovery-bench.XXXXXX");
	if (mkdtemp(b->shm) == NULL) {
		fprintf(stderr, "bench: no tmpfs rows: /dev/shm: %s\n",
		    strerror(errno));
		b->shm[0] = '\0';
	}
	/*
	 * pu's per-user stores (and secret files) live in a directory of its
	 * own, as in a home directory; pu may pass through the rest.
	 */
	snprintf(b->udir, sizeof(b->udir), "%s/users", b->tmp);
	snprintf(b->shm_udir, sizeof(b->shm_udir), "%s/users", b->shm);
	if (make_udir(b, b->tmp, b->udir) != 0 || (b->shm[0] != '\0' &&
	    make_udir(b, b->shm, b->shm_udir) != 0))
		goto out;
	snprintf(b->sys_store, sizeof(b->sys_store), "%s/system", b->tmp);
	snprintf(b->purge_store, sizeof(b->purge_store), "%s/purge", b->tmp);
	snprintf(b->purge_tiny_store, sizeof(b->purge_tiny_store),
	    "%s/purge-tiny", b->tmp);
	snprintf(store, sizeof(store), "%s/%%u.store", b->udir);
	if (make_service(b, SVC_USER, store, b->opslimit, b->memlimit,
	    &b->ucfg) != 0 ||
	    make_service(b, SVC_SYSTEM, b->sys_store, b->opslimit, b->memlimit,
	    &b->scfg) != 0 ||
	    make_service(b, SVC_PURGE, b->purge_store, b->opslimit,
	    b->memlimit, &b->pcfg) != 0 ||
	    make_service(b, SVC_PURGE_TINY, b->purge_tiny_store, TINY_OPS,
	    TINY_MEM, &b->ptcfg) != 0)
		goto out;
	if (!rec_config_per_user(&b->ucfg) || rec_config_per_user(&b->scfg) ||
	    rec_config_store_path(&b->ucfg, b->pu, home, b->user_store,
	    sizeof(b->user_store)) != REC_OK) {
		fprintf(stderr, "bench: the store patterns are not understood "
		    "as expected\n");
		goto out;
	}
	snprintf(store, sizeof(store), "%s/none.%%u.store", b->udir);
	if (make_service(b, SVC_NONE, store, b->opslimit, b->memlimit,
	    &other) != 0)
		goto out;
	snprintf(store, sizeof(store), "%s/tiny.%%u.store", b->udir);
	snprintf(b->tiny_sys_store, sizeof(b->tiny_sys_store), "%s/tiny-system",
	    b->tmp);
	if (make_service(b, SVC_TINY, store, TINY_OPS, TINY_MEM, &b->tcfg) !=
	    0 || rec_config_store_path(&b->tcfg, b->pu, home, b->tiny_store,
	    sizeof(b->tiny_store)) != REC_OK ||
	    make_service(b, SVC_TINY_SYS, b->tiny_sys_store, TINY_OPS, TINY_MEM,
	    &b->tscfg) != 0)
		goto out;
	snprintf(store, sizeof(store), "%s/tiny.%%u.store", b->shm_udir);
	snprintf(b->tiny_sys_shm_store, sizeof(b->tiny_sys_shm_store),
	    "%s/tiny-system", b->shm);
	if (b->shm[0] != '\0' && (make_service(b, SVC_TINY_SHM, store,
	    TINY_OPS, TINY_MEM, &other) != 0 || rec_config_store_path(&other,
	    b->pu, home, b->tiny_shm_store, sizeof(b->tiny_shm_store)) !=
	    REC_OK || make_service(b, SVC_TINY_SYS_SHM, b->tiny_sys_shm_store,
	    TINY_OPS, TINY_MEM, &other) != 0))
		goto out;
	rec_config_format(&b->scfg, &b->fmt);
	ret = 0;
out:
	return ret;
}
