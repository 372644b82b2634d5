/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_target.c: a user's store, its path and its owner, for every front end. */
#include <string.h>
#include <unistd.h>

#include "rec_err.h"
#include "rec_record.h"
#include "rec_target.h"

int
rec_target_check_pepper(const struct rec_config *cfg,
    const struct rec_log *log)
{
	if (!rec_config_per_user(cfg) || cfg->pepper_file[0] == '\0')
		return REC_OK;
	rec_logf(log, LOG_ERR, "pepper_file needs a system store (store = %s "
	    "is per user)", cfg->store);
	return REC_ERR_CONFIG;
}

int
rec_target_resolve(const struct rec_config *cfg, const char *user,
    const struct passwd *pw, unsigned flags, struct rec_target *t)
{
	int r = REC_ERR_INTERNAL;

	memset(t, 0, sizeof(*t));
	t->per_user = rec_config_per_user(cfg);
	t->directory = rec_config_directory(cfg);
	if (user == NULL) {
		if (t->per_user)
			return REC_ERR_CONFIG;
		user = "";
	} else if (*user == '\0' || strlen(user) >= REC_USER_MAX)
		return REC_ERR_USAGE;
	else if (pw == NULL && (t->per_user || (flags & REC_TARGET_KNOWN)))
		return REC_ERR_NOUSER;
	if (!t->directory && (r = rec_config_store_path(cfg, user,
	    pw != NULL ? pw->pw_dir : "", t->path, sizeof(t->path))) != REC_OK)
		return r;
	if (t->per_user) {
		t->owner = pw->pw_uid;
		t->owner_gid = pw->pw_gid;
	} else {
		t->owner = geteuid();
		t->owner_gid = getegid();
		t->pepper = cfg->pepper_file[0] != '\0';
	}
	return REC_OK;
}

int
rec_target_start(const struct rec_target *t, unsigned timeout,
    rec_child_fn *fn, void *arg, const struct rec_log *log,
    struct rec_child *c)
{
	return rec_child_start(c, t->owner, t->owner_gid, timeout, fn, arg,
	    log);
}

int
rec_target_spawn(const struct rec_target *t, int exe, unsigned timeout,
    const struct rec_log *log, struct rec_child *c)
{
	return rec_child_spawn(c, t->owner, exe, timeout, log);
}
