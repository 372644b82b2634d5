/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_target_open.c: open a target's store, LMDB or the directory, for every front end. */
#include "rec_err.h"
#include "rec_store_ldap.h"
#include "rec_target.h"

int
rec_target_open(const struct rec_config *cfg, const struct rec_target *t,
    unsigned flags, const struct rec_log *log, struct rec_store **out)
{
	return rec_target_open_as(cfg, t, flags, NULL, log, out);
}

int
rec_target_open_as(const struct rec_config *cfg, const struct rec_target *t,
    unsigned flags, const struct rec_ldap_bind *as, const struct rec_log *log,
    struct rec_store **out)
{
	*out = NULL;
	if (t->directory != rec_config_directory(cfg))
		return REC_ERR_USAGE;	/* t was not resolved under cfg */
	if (t->directory)
		return rec_store_open_ldap_as(cfg, flags & REC_STORE_RDONLY,
		    as, log, out);
	if (as != NULL)
		return REC_ERR_USAGE;	/* an LMDB store has no bind */
	return rec_store_open(t->path, t->owner, flags, log, out);
}
