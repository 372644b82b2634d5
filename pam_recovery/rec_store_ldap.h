/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store_ldap.h: the directory store's backend of the store interface. */
#ifndef REC_STORE_LDAP_H
#define REC_STORE_LDAP_H

#include "rec_config.h"
#include "rec_log.h"
#include "rec_store.h"

/*
 * Open the directory store of cfg (store = ldap, spec 10) as a store
 * handle: reads go over a connection to cfg->ldap_uri, changes over one to
 * cfg->ldap_write_uri (one connection serves both when it is empty), each
 * opened as rec_ldap_open says.  With REC_STORE_RDONLY no connection for
 * writing is opened and every changing operation fails.  The handle holds
 * a copy of cfg (host_name goes with every event and use).
 * Returns REC_OK and *out, or rec_ldap_open's error; a directory that does
 * not answer is never REC_ERR_NOSTORE.
 */
int rec_store_open_ldap(const struct rec_config *cfg, unsigned flags,
    const struct rec_log *log, struct rec_store **out);

/*
 * As rec_store_open_ldap, both connections bound as *as (rec_ldap_open_as:
 * pam-recovery run by a user, bound as the user); as NULL is the hosts'
 * account, exactly rec_store_open_ldap.  *as is not kept: its password
 * may be wiped once this returns.
 */
struct rec_ldap_bind;
int rec_store_open_ldap_as(const struct rec_config *cfg, unsigned flags,
    const struct rec_ldap_bind *as, const struct rec_log *log,
    struct rec_store **out);

#endif
