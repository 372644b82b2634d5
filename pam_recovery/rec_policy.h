/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_policy.h: what the system configuration allows a batch to be. */
#ifndef REC_POLICY_H
#define REC_POLICY_H

#include <stdint.h>

#include "rec_config.h"
#include "rec_log.h"
#include "rec_record.h"

/*
 * The lowest entropy, in bits, that cfg allows a batch's code format:
 * code_min_entropy, or when that is 0 (the default) the entropy of cfg's
 * own code format, so that nobody issues codes weaker than the
 * administrator configured.
 */
double rec_policy_min_entropy(const struct rec_config *cfg);

/*
 * Check a stored batch against the policy of cfg at now, before anything
 * is counted or hashed for it: its argon2id cost within kdf_opslimit_min ..
 * kdf_opslimit_max and kdf_memlimit_min .. kdf_memlimit_max (a store cannot
 * make the server pay more, nor accept codes cheaper, than the
 * administrator allows), its format at least rec_policy_min_entropy(), and,
 * when code_expiry_days is set, a creation time not more than a day in the
 * future of now (the lifetime counts from it).  Returns REC_OK or
 * REC_ERR_POLICY, with the broken limit logged at LOG_ERR.
 */
int rec_policy_batch(const struct rec_batch *b, const struct rec_config *cfg,
    uint64_t now, const char *user, const struct rec_log *log);

/*
 * When the batch stops working: its own expiry, or created plus
 * code_expiry_days when that is earlier (or the batch has none).  0 means
 * never.
 */
uint64_t rec_policy_expires(const struct rec_batch *b,
    const struct rec_config *cfg);

/*
 * Make cfg (read from a file the user chose, pam-recovery -c) keep the
 * policy of the system configuration: cost bounds are narrowed to both
 * files' (the user may only tighten them), the entropy floor is the higher
 * of both, and the life-cycle keys take the stricter value: the shorter
 * code_expiry_days (0 = never is the weakest), the longer
 * generate_cooldown, audit and reauth when either says so;
 * notify_command, notify_timeout and reauth_pam_dir are the system's,
 * whatever cfg said.  A weakened life-cycle key
 * that the user's file set is reported with a warning naming origin.
 * Afterwards rec_config_validate(cfg) refuses a cost or format outside the
 * policy.  Returns REC_OK.
 */
int rec_policy_apply(struct rec_config *cfg, const struct rec_config *policy,
    const char *origin, const struct rec_log *log);

#endif
