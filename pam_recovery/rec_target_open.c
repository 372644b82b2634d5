/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_target_open.c: open a target's store, LMDB or the directory, for every front end. */
#include "rec_err.h"
#include "rec_store_ldap.h"
#include "rec_target.h"

int
rec_target_open(const struct rec_config *cfg, const struct rec_target *t,
    unsigned flags, const struct rec_log *log, struct rec_store **out)
{
	*out = NULL;
	if (t->directory != rec_config_directory(cfg))
		return REC_ERR_USAGE;	/* t was not resolved under cfg */
	if (t->directory)
		return rec_store_open_ldap(cfg, flags & REC_STORE_RDONLY, log,
		    out);
	return rec_store_open(t->path, t->owner, flags, log, out);
}
