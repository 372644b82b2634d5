/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_policy.c: the system's limits on a batch: cost, format, lifetime. */
#include <inttypes.h>
#include <string.h>

#include "rec_code.h"
#include "rec_err.h"

#include "rec_policy.h"

#define DAY UINT64_C(86400)

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

double
rec_policy_min_entropy(const struct rec_config *cfg)
{
	struct rec_format fmt;

	if (cfg->code_min_entropy != 0)
		return (double)cfg->code_min_entropy;
	rec_config_format(cfg, &fmt);
	return rec_format_entropy(&fmt);
}

int
rec_policy_batch(const struct rec_batch *b, const struct rec_config *cfg,
    uint64_t now, const char *user, const struct rec_log *log)
{
	double bits = rec_format_entropy(&b->fmt), floor_bits;

	if (b->opslimit < cfg->kdf_opslimit_min ||
	    b->opslimit > cfg->kdf_opslimit_max) {
		rec_logf(log, LOG_ERR, "batch %016" PRIx64 " of user %s: "
		    "opslimit %" PRIu64 " outside kdf_opslimit_min .. "
		    "kdf_opslimit_max (%" PRIu64 " .. %" PRIu64 ")", b->id, user,
		    b->opslimit, cfg->kdf_opslimit_min, cfg->kdf_opslimit_max);
		return REC_ERR_POLICY;
	}
	if (b->memlimit < cfg->kdf_memlimit_min ||
	    b->memlimit > cfg->kdf_memlimit_max) {
		rec_logf(log, LOG_ERR, "batch %016" PRIx64 " of user %s: "
		    "memlimit %" PRIu64 " outside kdf_memlimit_min .. "
		    "kdf_memlimit_max (%" PRIu64 " .. %" PRIu64 ")", b->id, user,
		    b->memlimit, cfg->kdf_memlimit_min, cfg->kdf_memlimit_max);
		return REC_ERR_POLICY;
	}
	/* A little slack, so that the configured format always passes. */
	floor_bits = rec_policy_min_entropy(cfg);
	if (!(bits + 1e-9 >= floor_bits) || !(bits + 1e-9 >= REC_MIN_ENTROPY)) {
		rec_logf(log, LOG_ERR, "batch %016" PRIx64 " of user %s: its "
		    "code format has %.1f bits of entropy, the policy asks for "
		    "%.1f (code_min_entropy)", b->id, user, bits, floor_bits);
		return REC_ERR_POLICY;
	}
	if (cfg->code_expiry_days > 0 && b->created > sat_add(now, DAY)) {
		rec_logf(log, LOG_ERR, "batch %016" PRIx64 " of user %s: "
		    "created in the future, so code_expiry_days cannot be "
		    "applied", b->id, user);
		return REC_ERR_POLICY;
	}
	return REC_OK;
}

uint64_t
rec_policy_expires(const struct rec_batch *b, const struct rec_config *cfg)
{
	uint64_t limit;

	if (cfg->code_expiry_days == 0)
		return b->expires;
	limit = sat_add(b->created, (uint64_t)cfg->code_expiry_days * DAY);
	if (b->expires == 0 || b->expires > limit)
		return limit;
	return b->expires;
}

static uint64_t
max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

int
rec_policy_apply(struct rec_config *cfg, const struct rec_config *policy,
    const char *origin, const struct rec_log *log)
{
	struct rec_config def;
	double floor_bits;
	unsigned days;

	rec_config_defaults(&def);
	/* The user's file cannot silence or replace the notice of changes. */
	memcpy(cfg->notify_command, policy->notify_command,
	    sizeof(cfg->notify_command));
	cfg->notify_timeout = policy->notify_timeout;
	/*
	 * Nor skip the password the system asks before a change, nor name
	 * the PAM stack that checks it: a stack of the user's own would say
	 * yes to anything.
	 */
	if (!cfg->reauth && policy->reauth) {
		rec_logf(log, LOG_WARNING, "%s: reauth = no ignored: the system "
		    "configuration (%s) asks for the password", origin,
		    REC_CONF_DEFAULT);
		cfg->reauth = 1;
	}
	if (cfg->reauth_pam_dir[0] != '\0' &&
	    strcmp(cfg->reauth_pam_dir, policy->reauth_pam_dir) != 0)
		rec_logf(log, LOG_WARNING, "%s: reauth_pam_dir ignored: only "
		    "the system configuration (%s) may set it", origin,
		    REC_CONF_DEFAULT);
	memcpy(cfg->reauth_pam_dir, policy->reauth_pam_dir,
	    sizeof(cfg->reauth_pam_dir));
	cfg->kdf_opslimit_min = max_u64(cfg->kdf_opslimit_min,
	    policy->kdf_opslimit_min);
	cfg->kdf_opslimit_max = min_u64(cfg->kdf_opslimit_max,
	    policy->kdf_opslimit_max);
	cfg->kdf_memlimit_min = max_u64(cfg->kdf_memlimit_min,
	    policy->kdf_memlimit_min);
	cfg->kdf_memlimit_max = min_u64(cfg->kdf_memlimit_max,
	    policy->kdf_memlimit_max);

	/* Whole bits: a floor of 206.7 becomes 206, never above the format. */
	floor_bits = rec_policy_min_entropy(policy);
	if (floor_bits > rec_policy_min_entropy(cfg) && floor_bits < 1e6)
		cfg->code_min_entropy = (unsigned)floor_bits;

	days = cfg->code_expiry_days;
	if (policy->code_expiry_days > 0 && (days == 0 ||
	    days > policy->code_expiry_days)) {
		if (days != def.code_expiry_days)
			rec_logf(log, LOG_WARNING, "%s: code_expiry_days %u "
			    "ignored: the system configuration (%s) allows at "
			    "most %u", origin, days, REC_CONF_DEFAULT,
			    policy->code_expiry_days);
		cfg->code_expiry_days = policy->code_expiry_days;
	}
	if (cfg->generate_cooldown < policy->generate_cooldown) {
		if (cfg->generate_cooldown != def.generate_cooldown)
			rec_logf(log, LOG_WARNING, "%s: generate_cooldown %"
			    PRIu64 " ignored: the system configuration (%s) "
			    "asks for %" PRIu64, origin, cfg->generate_cooldown,
			    REC_CONF_DEFAULT, policy->generate_cooldown);
		cfg->generate_cooldown = policy->generate_cooldown;
	}
	if (!cfg->audit && policy->audit) {
		rec_logf(log, LOG_WARNING, "%s: audit = no ignored: the system "
		    "configuration (%s) keeps the audit trail", origin,
		    REC_CONF_DEFAULT);
		cfg->audit = 1;
	}
	return REC_OK;
}
