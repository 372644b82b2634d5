# SPDX-License-Identifier: BSD-2-Clause
# fuzz.mk: libFuzzer targets (clang) for the code that reads untrusted bytes:
# the configuration parser, code normalisation, the store record decoders,
# the store helper's messages and the directory store's values.
#
#   make fuzz [FUZZ_SECONDS=60]   each target for FUZZ_SECONDS, on a copy of
#                                 its seed corpus; fails on any crash
#                                 (make -j fuzz: side by side)
#   make fuzz-short               the same, 6 s each, side by side (CI)
#   make fuzz-build               only build the targets
#
# The core is compiled again here with clang, ASan, UBSan and the fuzzer's
# coverage instrumentation into $(FUZZ_B); the gcc objects of $(B) are never
# reused.  Crashes are saved as $(FUZZ_B)/crashes/TARGET-crash-SHA1 (keep a
# reproducer in fuzz/crashes/); replay one with $(FUZZ_B)/fuzz_TARGET FILE.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_B       ?= $(B)-fuzz
FUZZ_TARGETS := config normalise record helper self ldapvalue
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS   = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -D_GNU_SOURCE -O1 -g \
    $(FUZZ_SAN) $(PKG_CFLAGS) -Ipam_recovery
FUZZ_CORE_OBJ := $(CORE_SRC:pam_recovery/%.c=$(FUZZ_B)/%.o)
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz_%)
FUZZ_FLAGS   := -timeout=10 -max_len=8192 -print_final_stats=1

.PHONY: fuzz fuzz-short fuzz-build fuzz-clean fuzz-seeds
fuzz-build: $(FUZZ_BIN)

$(FUZZ_B)/%.o: pam_recovery/%.c $(wildcard pam_recovery/*.h) | $(FUZZ_B)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
$(FUZZ_B)/librecovery.a: $(FUZZ_CORE_OBJ)
	rm -f $@ && ar rcs $@ $^
$(FUZZ_B)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_B)/librecovery.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -fsanitize=fuzzer -o $@ $< $(FUZZ_B)/librecovery.a $(PKG_LIBS)
$(FUZZ_B):
	mkdir -p $@

# One line of statistics per target; the whole libFuzzer log on a failure.
# Each target is a job of its own: make -j runs them side by side (libFuzzer
# uses one CPU), -O keeps each target's lines together.
fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-run-%: $(FUZZ_B)/fuzz_%
	@set -e; t=$*; mkdir -p $(FUZZ_B)/crashes $(FUZZ_B)/tmp/$$t $(FUZZ_B)/log; \
	run=$(FUZZ_B)/run/$$t; rm -rf $$run; mkdir -p $$run; \
	cp fuzz/corpus/$$t/* $$run/; \
	dict=; if [ -f fuzz/$$t.dict ]; then dict=-dict=fuzz/$$t.dict; fi; \
	log=$(FUZZ_B)/log/$$t.log; \
	echo "fuzz_$$t: $(FUZZ_SECONDS) s on a copy of fuzz/corpus/$$t"; \
	if ! FUZZ_TMPDIR=$(FUZZ_B)/tmp/$$t $(FUZZ_B)/fuzz_$$t $(FUZZ_FLAGS) \
	    -max_total_time=$(FUZZ_SECONDS) $$dict \
	    -artifact_prefix=$(FUZZ_B)/crashes/$$t- $$run >$$log 2>&1; then \
		tail -n 60 $$log; \
		echo "fuzz_$$t: FAILED (log $$log, reproducer in $(FUZZ_B)/crashes/)"; \
		exit 1; \
	fi; \
	sed -n 's/^stat::number_of_executed_units: */  runs: /p; s/^stat::peak_rss_mb: */  peak rss MB: /p' $$log; \
	grep '^#[0-9]*.*DONE' $$log | sed 's/^/  /' || true

fuzz-short:
	@$(MAKE) --no-print-directory -O -j$$(nproc) fuzz FUZZ_SECONDS=6

fuzz-clean:
	rm -rf $(FUZZ_B)

clean: fuzz-clean

# Regenerate the committed seeds of fuzz_normalise and fuzz_record (codes
# and keys are random: only run this when a record layout changes).
fuzz-seeds: $(FUZZ_B)/librecovery.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -o $(FUZZ_B)/mkseeds fuzz/mkseeds.c $(FUZZ_B)/librecovery.a $(PKG_LIBS)
	$(FUZZ_B)/mkseeds fuzz/corpus/normalise fuzz/corpus/record
