# SPDX-License-Identifier: BSD-2-Clause
# pam_recovery: one-time recovery codes for Linux logins.
# Settings first; one line per artefact below.

CC       ?= gcc
CFLAGS   ?= -O2 -g
WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes
# The version is defined once, by the first line of debian/changelog.
VERSION  := $(shell sed -n '1{s/^[^ ]* [(]//;s/[)].*//;p;}' debian/changelog 2>/dev/null)
DEFS     := -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -DREC_VERSION='"$(or $(VERSION),unknown)"'
HARDEN   := -fstack-protector-strong -fPIC
B        ?= build
SAN      ?=
PKGS     := libsodium lmdb
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lsodium -llmdb)
# The module opens no store (its store helper does): libsodium alone.
MODULE_LIBS := $(shell pkg-config --libs libsodium 2>/dev/null || echo -lsodium)
# libldap: the directory store's client (rec_ldap*.c); linked by what opens a
# store (rec_target_open): the store helper, the tools, the tests; never the
# module, which opens none.
LDAP_LIBS  := $(shell pkg-config --libs ldap 2>/dev/null || echo -lldap -llber)
# CPPFLAGS, CFLAGS and LDFLAGS from the environment or the command line are
# honoured (dpkg-buildflags); -MMD writes each object's header dependencies.
ALL_CFLAGS  = $(WARN) $(DEFS) -DREC_HELPER_PATH='"$(HELPER_PATH)"' $(CPPFLAGS) $(HARDEN) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -Ipam_recovery -MMD -MP
LDHARDEN = -Wl,-z,relro,-z,now $(LDFLAGS)

prefix   ?= /usr
DESTDIR  ?=
MULTIARCH := $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch 2>/dev/null)
PAMDIR   ?= $(if $(MULTIARCH),/lib/$(MULTIARCH)/security,/lib/security)
SBINDIR  ?= $(prefix)/sbin
BINDIR   ?= $(prefix)/bin
MANDIR   ?= $(prefix)/share/man
SYSCONFDIR ?= /etc
UNITDIR  ?= /lib/systemd/system
LIBEXECDIR ?= $(prefix)/libexec
HELPER_PATH ?= $(LIBEXECDIR)/pam-recovery/pam-recovery-store

# What goes into what, file by file (pam_faillock's Makefile.am shape).  A
# new source file is one more line in its list; a new program, one list and
# one rule below; a new unit test, one name in UNIT_TESTS.
CORE_SRC := \
	pam_recovery/rec_admin.c \
	pam_recovery/rec_auth.c \
	pam_recovery/rec_code.c \
	pam_recovery/rec_deep.c \
	pam_recovery/rec_config.c \
	pam_recovery/rec_err.c \
	pam_recovery/rec_file.c \
	pam_recovery/rec_issue.c \
	pam_recovery/rec_helper.c \
	pam_recovery/rec_child.c \
	pam_recovery/rec_kdf.c \
	pam_recovery/rec_ldap.c \
	pam_recovery/rec_ldap_entry.c \
	pam_recovery/rec_ldap_issue.c \
	pam_recovery/rec_ldap_probe.c \
	pam_recovery/rec_ldap_prune.c \
	pam_recovery/rec_ldap_req.c \
	pam_recovery/rec_ldap_value.c \
	pam_recovery/rec_ldap_walk.c \
	pam_recovery/rec_lockout.c \
	pam_recovery/rec_migrate.c \
	pam_recovery/rec_log.c \
	pam_recovery/rec_notify.c \
	pam_recovery/rec_policy.c \
	pam_recovery/rec_purge.c \
	pam_recovery/rec_record.c \
	pam_recovery/rec_secret.c \
	pam_recovery/rec_self.c \
	pam_recovery/rec_slots.c \
	pam_recovery/rec_store.c \
	pam_recovery/rec_store_lmdb.c \
	pam_recovery/rec_store_lmdb_access.c \
	pam_recovery/rec_store_lmdb_admin.c \
	pam_recovery/rec_store_lmdb_issue.c \
	pam_recovery/rec_store_lmdb_import.c \
	pam_recovery/rec_store_lmdb_ops.c \
	pam_recovery/rec_store_ldap.c \
	pam_recovery/rec_store_ldap_admin.c \
	pam_recovery/rec_store_ldap_issue.c \
	pam_recovery/rec_store_ldap_import.c \
	pam_recovery/rec_ldap_import.c \
	pam_recovery/rec_target.c \
	pam_recovery/rec_target_open.c
CORE_OBJ := $(CORE_SRC:pam_recovery/%.c=$(B)/%.o)
MODULE_SRC := pam_recovery/pam_recovery.c
STORE_HELPER_SRC := pam_recovery/store_helper.c
# The user's commands, shared by pam-recovery, pam-recovery-admin and
# pam-recovery-selfd.
TOOL_SRC := \
	tools/tool_common.c \
	tools/tool_escape.c \
	tools/tool_generate.c \
	tools/tool_history.c \
	tools/tool_invalidate.c \
	tools/tool_json.c \
	tools/tool_pdf.c \
	tools/tool_qr.c \
	tools/tool_seal.c \
	tools/tool_self.c \
	tools/tool_status.c \
	tools/tool_user.c \
	tools/tool_verify.c
TOOL_OBJ := $(TOOL_SRC:tools/%.c=$(B)/%.o)
USER_TOOL_SRC := tools/pam-recovery.c
# The user helper's own: it alone asks PAM for the password (reauth), and
# binds to the directory store as the user (tool_bind).
USER_SRC := tools/helper_reauth.c tools/tool_bind.c
USER_OBJ := $(USER_SRC:tools/%.c=$(B)/%.o)
ADMIN_TOOL_SRC := tools/pam-recovery-admin.c
ADMIN_SRC := \
	tools/tool_admin_audit.c \
	tools/tool_admin_backup.c \
	tools/tool_admin_calibrate.c \
	tools/tool_admin_check.c \
	tools/tool_admin_check_ldap.c \
	tools/tool_admin_deep.c \
	tools/tool_admin_forget.c \
	tools/tool_admin_list.c \
	tools/tool_admin_migrate.c \
	tools/tool_admin_purge.c \
	tools/tool_admin_stacks.c \
	tools/tool_admin_target.c \
	tools/tool_admin_user.c
ADMIN_OBJ := $(ADMIN_SRC:tools/%.c=$(B)/%.o)
SELFD_SRC := tools/pam-recovery-selfd.c
UNIT_TESTS := \
	test_admin \
	test_auth \
	test_code \
	test_deep \
	test_config \
	test_escape \
	test_file \
	test_faults \
	test_helper \
	test_child \
	test_json \
	test_kdf \
	test_ldap \
	test_lockout \
	test_migrate \
	test_module \
	test_notify \
	test_purge \
	test_record \
	test_self \
	test_slots \
	test_store \
	test_target
UNIT_BIN := $(UNIT_TESTS:%=$(B)/%)
TOOL_PKGS := libqrencode cairo libbsd
TOOL_CFLAGS = $(shell pkg-config --cflags $(TOOL_PKGS) 2>/dev/null)
TOOL_LIBS = $(shell pkg-config --libs $(TOOL_PKGS) 2>/dev/null)
ADMIN_BIN := $(B)/pam-recovery-admin

.PHONY: all tests check test asan asan-build valgrind demo bench install uninstall clean deps-build deps-test bench-plot deps-bench
# What ships: built with the packages of "deps.sh build" only (make demo, a
# nocheck .deb).  The test programs need the "test" packages (cmocka).
all: $(B)/librecovery.a $(B)/pam_recovery.so $(B)/pam-recovery-store $(B)/pam-recovery $(ADMIN_BIN) $(B)/pam-recovery-selfd
tests: $(B)/pamdrive $(B)/storeplant $(B)/ldapdrive $(B)/ldapissue $(B)/ldapadmin $(B)/ldapmigr $(UNIT_BIN)

$(B)/%.o: pam_recovery/%.c | $(B)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(B)/librecovery.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^
$(B)/pam_recovery.so: $(MODULE_SRC) pam_recovery/pam_recovery.map $(B)/librecovery.a
	$(CC) $(ALL_CFLAGS) -shared -o $@ $< $(B)/librecovery.a -Wl,--version-script=pam_recovery/pam_recovery.map -Wl,-z,defs $(LDHARDEN) -lpam $(MODULE_LIBS)
$(B)/pam-recovery-store: $(STORE_HELPER_SRC) $(B)/librecovery.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/librecovery.a $(LDHARDEN) $(PKG_LIBS) $(LDAP_LIBS)
$(B)/tool_%.o: tools/tool_%.c | $(B)
	$(CC) $(ALL_CFLAGS) $(TOOL_CFLAGS) -Itools -c -o $@ $<
$(B)/helper_%.o: tools/helper_%.c | $(B)
	$(CC) $(ALL_CFLAGS) $(TOOL_CFLAGS) -Itools -c -o $@ $<
# libpam and libpam_misc (misc_conv) for reauth, in pam-recovery only.
$(B)/pam-recovery: $(USER_TOOL_SRC) $(USER_OBJ) $(TOOL_OBJ) $(B)/librecovery.a $(wildcard debian/changelog)
	$(CC) $(ALL_CFLAGS) $(TOOL_CFLAGS) -Itools -o $@ $(filter-out debian/%,$^) $(LDHARDEN) $(TOOL_LIBS) $(PKG_LIBS) $(LDAP_LIBS) -lpam -lpam_misc
$(B)/pam-recovery-admin: $(ADMIN_TOOL_SRC) $(TOOL_OBJ) $(ADMIN_OBJ) $(B)/librecovery.a $(wildcard debian/changelog)
	$(CC) $(ALL_CFLAGS) $(TOOL_CFLAGS) -Itools -o $@ $(filter-out debian/%,$^) $(LDHARDEN) $(TOOL_LIBS) $(PKG_LIBS) $(LDAP_LIBS)
$(B)/pam-recovery-selfd: $(SELFD_SRC) $(TOOL_OBJ) $(B)/librecovery.a $(wildcard debian/changelog)
	$(CC) $(ALL_CFLAGS) $(TOOL_CFLAGS) -Itools -o $@ $(filter-out debian/%,$^) $(LDHARDEN) $(TOOL_LIBS) $(PKG_LIBS) $(LDAP_LIBS) -lpam
$(B)/pamdrive: tests/pamdrive.c
	$(CC) $(ALL_CFLAGS) -o $@ $< -lpam
$(B)/storeplant: tests/storeplant.c $(B)/librecovery.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/librecovery.a $(PKG_LIBS)
$(B)/ldapdrive: tests/ldapdrive.c $(B)/librecovery.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/librecovery.a $(PKG_LIBS) $(LDAP_LIBS)
$(B)/ldapadmin: tests/ldapadmin.c $(B)/librecovery.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/librecovery.a $(PKG_LIBS) $(LDAP_LIBS)
$(B)/ldapissue: tests/ldapissue.c $(B)/librecovery.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/librecovery.a $(PKG_LIBS) $(LDAP_LIBS)
$(B)/ldapmigr: tests/ldapmigr.c $(B)/librecovery.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/librecovery.a $(PKG_LIBS) $(LDAP_LIBS)
$(B)/test_%: tests/test_%.c $(B)/librecovery.a
	$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(B)/librecovery.a $(TEST_LDFLAGS) $(PKG_LIBS) $(LDAP_LIBS) -lcmocka -lpam -ldl
# test_auth counts the reads of a login through the records' readers.
$(B)/test_auth: TEST_LDFLAGS := -Wl,--wrap=rec_user_get -Wl,--wrap=rec_batch_get
$(B)/test_escape: tests/test_escape.c $(B)/tool_escape.o
	$(CC) $(ALL_CFLAGS) -Itests -Itools -o $@ $< $(B)/tool_escape.o $(TOOL_LIBS) -lcmocka
$(B)/test_json: tests/test_json.c $(B)/tool_json.o
	$(CC) $(ALL_CFLAGS) -Itests -Itools -o $@ $< $(B)/tool_json.o -lcmocka
BENCH_SRC := \
	bench/bench.c \
	bench/bench_cost.c \
	bench/bench_guess.c \
	bench/bench_ldap.c \
	bench/bench_ldap_dir.c \
	bench/bench_login.c \
	bench/bench_purge.c \
	bench/bench_setup.c \
	bench/bench_spawn.c \
	bench/bench_store.c \
	bench/bench_throughput.c \
	bench/bench_util.c \
	bench/bench_versus.c
# Item 11 counts the directory client's requests through these wraps.
BENCH_WRAP := $(foreach f,connect start_tls install_tls sasl_bind search_ext modify_ext add_ext,-Wl,--wrap=ldap_$(f))
$(B)/bench: $(BENCH_SRC) bench/bench.h $(B)/librecovery.a $(B)/pam_recovery.so
	$(CC) $(ALL_CFLAGS) -o $@ $(BENCH_SRC) $(B)/librecovery.a $(BENCH_WRAP) $(PKG_LIBS) $(LDAP_LIBS) -lpam -lpthread
$(B):
	mkdir -p $@

deps-build:
	@sh scripts/deps.sh build
deps-test:
	@sh scripts/deps.sh test
deps-bench:
	@sh scripts/deps.sh bench

# One run of the suite; its closing line names the run (CHECK_RUN).  The
# packages first, then the build on every CPU, then the suites.
CHECK_RUN ?= plain
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
test: deps-test
	@$(MAKE) --no-print-directory -j$(JOBS) all tests
	@B=$(B) SAN_PRELOAD="$(SAN_PRELOAD)" CHECK_RUN="$(CHECK_RUN)" CHECK_TOTALS="$(CHECK_TOTALS)" sh tests/run.sh

# System programs (pamtester) that load the instrumented module get the
# sanitizer runtimes preloaded.
ASAN_VARS = B=build-asan CC=gcc SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" CFLAGS="-O1 -g"
asan:
	$(MAKE) $(ASAN_VARS) \
	    SAN_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" CHECK_RUN=asan+ubsan test
asan-build:
	$(MAKE) --no-print-directory $(ASAN_VARS) -j$(JOBS) all tests

valgrind: deps-test
	@$(MAKE) --no-print-directory -j$(JOBS) all tests
	@B=$(B) VALGRIND=1 CHECK_RUN=valgrind CHECK_TOTALS="$(CHECK_TOTALS)" sh tests/run.sh

# The three runs, each to its end even when one fails, then one closing line
# for all three, "check: N passed, N failed" (the last line; CI reads it).
CHECK_RUNS = $(abspath $(B))/check.runs
# The ASan+UBSan build runs beside the plain run, whose suites wait on
# disks, servers and clocks more than on the CPUs; its log follows the run.
check:
	@mkdir -p $(B) && rm -f $(CHECK_RUNS)
	@$(MAKE) --no-print-directory deps-test
	@l=$(abspath $(B))/asan-build.log; \
	    ($(MAKE) asan-build >$$l 2>&1) & bp=$$!; \
	    for t in test asan valgrind; do s=$$(date +%s); \
	    if [ $$t = asan ]; then wait $$bp; cat $$l; fi; \
	    $(MAKE) $$t CHECK_TOTALS=$(CHECK_RUNS); \
	    echo "(make $$t: $$(($$(date +%s) - s)) s)"; done; true
	@sh tests/run.sh --total $(CHECK_RUNS) plain asan+ubsan valgrind

# Item 9 runs pamdrive (libpam only) for its fresh-process login.
bench: deps-bench all $(B)/bench $(B)/pamdrive
	@B=$(B) $(B)/bench

# The table of `make bench` and bench/login-latency.png from the same run.
bench-plot: deps-bench all $(B)/bench $(B)/pamdrive
	@B=$(B) BENCH_DATA=$(B)/bench.dat $(B)/bench
	gnuplot -e "data='$(B)/bench.dat'; out='bench/login-latency.png'" bench/plot.gp

# pamdrive (libpam only) is the demo's login: a build package suffices.
demo: deps-build all $(B)/pamdrive
	@B=$(B) sh scripts/demo.sh

DOCDIR ?= $(prefix)/share/doc/pam-recovery
MANPAGES := $(wildcard conf/man/*.[1-8] tools/*.[1-8])
DATADIR  ?= $(prefix)/share/pam-recovery
EXAMPLES := $(wildcard conf/pam.d/*.example conf/sshd_config.recovery.example)
DOCS     := README.md INSTALL SECURITY.md LICENSE
HOOKS    := $(wildcard conf/*.sh)
LDAPDOCS := $(wildcard conf/ldap/*)
UNITS    := $(wildcard conf/systemd/*.service conf/systemd/*.timer conf/systemd/*.socket)
install: all
	install -d $(DESTDIR)$(PAMDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/security $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 $(B)/pam_recovery.so $(DESTDIR)$(PAMDIR)/pam_recovery.so
	install -d $(DESTDIR)$(dir $(HELPER_PATH))
	install -m 0755 $(B)/pam-recovery-store $(DESTDIR)$(HELPER_PATH)
	install -m 0755 $(B)/pam-recovery $(DESTDIR)$(BINDIR)/pam-recovery
	$(if $(ADMIN_BIN),install -m 0755 $(ADMIN_BIN) $(DESTDIR)$(SBINDIR)/pam-recovery-admin)
	install -m 0755 $(B)/pam-recovery-selfd $(DESTDIR)$(SBINDIR)/pam-recovery-selfd
	for p in $(MANPAGES); do s=$${p##*.}; \
	    install -d $(DESTDIR)$(MANDIR)/man$$s && \
	    install -m 0644 $$p $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; done
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	$(if $(LDAPDOCS),install -d $(DESTDIR)$(DOCDIR)/ldap && install -m 0644 $(LDAPDOCS) $(DESTDIR)$(DOCDIR)/ldap/)
	$(if $(HOOKS),install -d $(DESTDIR)$(DATADIR) && install -m 0755 $(HOOKS) $(DESTDIR)$(DATADIR)/)
	$(if $(UNITS),install -d $(DESTDIR)$(UNITDIR) && install -m 0644 $(UNITS) $(DESTDIR)$(UNITDIR)/)
	@# An administrator's configuration is never overwritten.
	test -e $(DESTDIR)$(SYSCONFDIR)/security/pam_recovery.conf || \
	    install -m 0644 conf/pam_recovery.conf $(DESTDIR)$(SYSCONFDIR)/security/pam_recovery.conf
	install -d $(DESTDIR)$(SYSCONFDIR)/pam.d
	test -e $(DESTDIR)$(SYSCONFDIR)/pam.d/pam-recovery-self || \
	    install -m 0644 conf/pam.d/pam-recovery-self $(DESTDIR)$(SYSCONFDIR)/pam.d/pam-recovery-self

uninstall:
	rm -f $(DESTDIR)$(PAMDIR)/pam_recovery.so $(DESTDIR)$(HELPER_PATH) \
	    $(DESTDIR)$(BINDIR)/pam-recovery \
	    $(DESTDIR)$(SBINDIR)/pam-recovery-admin \
	    $(DESTDIR)$(SBINDIR)/pam-recovery-selfd \
	    $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(UNITS)))
	for p in $(notdir $(MANPAGES)); do rm -f $(DESTDIR)$(MANDIR)/man$${p##*.}/$$p; done
	rm -rf $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR)
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/security/pam_recovery.conf, $(DESTDIR)$(SYSCONFDIR)/pam.d/pam-recovery-self and users' stores"

clean:
	rm -rf build build-asan

# Fuzzing targets (libFuzzer, clang) live beside their sources.
-include fuzz/fuzz.mk

# Header dependencies written by -MMD.
-include $(wildcard $(B)/*.d)
