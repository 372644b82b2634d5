# pam_recovery: one-time recovery codes for Linux logins.
# Settings first; one line per artefact below.

CC       ?= gcc
CFLAGS   ?= -O2 -g
WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes
DEFS     := -D_GNU_SOURCE -D_FORTIFY_SOURCE=2
HARDEN   := -fstack-protector-strong -fPIC
B        ?= build
SAN      ?=
PKGS     := libsodium lmdb
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lsodium -llmdb)
ALL_CFLAGS  = $(WARN) $(DEFS) -DREC_HELPER_PATH='"$(HELPER_PATH)"' $(HARDEN) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -Ipam_recovery
LDHARDEN := -Wl,-z,relro,-z,now

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

CORE_SRC := $(sort $(wildcard pam_recovery/rec_*.c))
CORE_OBJ := $(CORE_SRC:pam_recovery/%.c=$(B)/%.o)
UNIT_SRC := $(sort $(wildcard tests/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/%.c=$(B)/%)
TOOL_ALL    := $(patsubst tools/%.c,$(B)/%.o,$(wildcard tools/tool_*.c))
ADMIN_OBJ   := $(filter $(B)/tool_admin_%.o,$(TOOL_ALL))
TOOL_SHARED := $(filter-out $(ADMIN_OBJ),$(TOOL_ALL))
TOOL_PKGS := libqrencode cairo libbsd
TOOL_CFLAGS = $(shell pkg-config --cflags $(TOOL_PKGS) 2>/dev/null)
TOOL_LIBS = $(shell pkg-config --libs $(TOOL_PKGS) 2>/dev/null)
ADMIN_BIN := $(if $(wildcard tools/pam-recovery-admin.c),$(B)/pam-recovery-admin)

.PHONY: all check test asan valgrind demo bench install uninstall clean deps-build deps-test bench-plot deps-bench
all: $(B)/librecovery.a $(B)/pam_recovery.so $(B)/pam-recovery-store $(B)/pam-recovery $(ADMIN_BIN) $(B)/pamdrive $(UNIT_BIN)

$(B)/%.o: pam_recovery/%.c $(wildcard pam_recovery/*.h) | $(B)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(B)/librecovery.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^
$(B)/pam_recovery.so: pam_recovery/pam_recovery.c pam_recovery/pam_recovery.map $(B)/librecovery.a
	$(CC) $(ALL_CFLAGS) -shared -o $@ $< $(B)/librecovery.a -Wl,--version-script=pam_recovery/pam_recovery.map -Wl,-z,defs $(LDHARDEN) -lpam $(PKG_LIBS)
$(B)/pam-recovery-store: pam_recovery/store_helper.c $(B)/librecovery.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/librecovery.a $(LDHARDEN) $(PKG_LIBS)
$(B)/tool_%.o: tools/tool_%.c $(wildcard tools/*.h) $(wildcard pam_recovery/*.h) | $(B)
	$(CC) $(ALL_CFLAGS) $(TOOL_CFLAGS) -Itools -c -o $@ $<
$(B)/pam-recovery: tools/pam-recovery.c $(TOOL_SHARED) $(B)/librecovery.a
	$(CC) $(ALL_CFLAGS) $(TOOL_CFLAGS) -Itools -o $@ $^ $(LDHARDEN) $(TOOL_LIBS) $(PKG_LIBS)
$(B)/pam-recovery-admin: tools/pam-recovery-admin.c $(TOOL_SHARED) $(ADMIN_OBJ) $(B)/librecovery.a
	$(CC) $(ALL_CFLAGS) $(TOOL_CFLAGS) -Itools -o $@ $^ $(LDHARDEN) $(TOOL_LIBS) $(PKG_LIBS)
$(B)/pamdrive: tests/pamdrive.c
	$(CC) $(ALL_CFLAGS) -o $@ $< -lpam
$(B)/test_%: tests/test_%.c $(wildcard tests/*.h) $(B)/librecovery.a
	$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(B)/librecovery.a $(PKG_LIBS) -lcmocka -lpam -ldl
BENCH_SRC := $(sort $(wildcard bench/*.c))
$(B)/bench: $(BENCH_SRC) bench/bench.h $(B)/librecovery.a $(B)/pam_recovery.so
	$(CC) $(ALL_CFLAGS) -o $@ $(BENCH_SRC) $(B)/librecovery.a $(PKG_LIBS) -lpam -lpthread
$(B):
	mkdir -p $@

deps-build:
	@sh scripts/deps.sh build
deps-test:
	@sh scripts/deps.sh test
deps-bench:
	@sh scripts/deps.sh bench

test: deps-test all
	@B=$(B) SAN_PRELOAD="$(SAN_PRELOAD)" sh tests/run.sh

# System programs (pamtester) that load the instrumented module get the
# sanitizer runtimes preloaded.
asan:
	$(MAKE) B=build-asan CC=gcc SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" CFLAGS="-O1 -g" \
	    SAN_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" test

valgrind: deps-test all
	@B=$(B) VALGRIND=1 sh tests/run.sh

check: test
	$(MAKE) asan
	$(MAKE) valgrind

bench: deps-bench all $(B)/bench
	@B=$(B) $(B)/bench

# The table of `make bench` and bench/login-latency.png from the same run.
bench-plot: deps-bench all $(B)/bench
	@B=$(B) BENCH_DATA=$(B)/bench.dat $(B)/bench
	gnuplot -e "data='$(B)/bench.dat'; out='bench/login-latency.png'" bench/plot.gp

demo: deps-build all
	@B=$(B) sh scripts/demo.sh

DOCDIR ?= $(prefix)/share/doc/pam-recovery
MANPAGES := $(wildcard conf/man/*.[1-8] tools/*.[1-8])
DATADIR  ?= $(prefix)/share/pam-recovery
EXAMPLES := $(wildcard conf/pam.d/*.example conf/sshd_config.recovery.example)
HOOKS    := $(wildcard conf/*.sh)
UNITS    := $(wildcard conf/systemd/*.service conf/systemd/*.timer)
install: all
	install -d $(DESTDIR)$(PAMDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/security $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 $(B)/pam_recovery.so $(DESTDIR)$(PAMDIR)/pam_recovery.so
	install -d $(DESTDIR)$(dir $(HELPER_PATH))
	install -m 0755 $(B)/pam-recovery-store $(DESTDIR)$(HELPER_PATH)
	install -m 0755 $(B)/pam-recovery $(DESTDIR)$(BINDIR)/pam-recovery
	$(if $(ADMIN_BIN),install -m 0755 $(ADMIN_BIN) $(DESTDIR)$(SBINDIR)/pam-recovery-admin)
	for p in $(MANPAGES); do s=$${p##*.}; \
	    install -d $(DESTDIR)$(MANDIR)/man$$s && \
	    install -m 0644 $$p $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; done
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	$(if $(HOOKS),install -d $(DESTDIR)$(DATADIR) && install -m 0755 $(HOOKS) $(DESTDIR)$(DATADIR)/)
	$(if $(UNITS),install -d $(DESTDIR)$(UNITDIR) && install -m 0644 $(UNITS) $(DESTDIR)$(UNITDIR)/)
	@# An administrator's configuration is never overwritten.
	test -e $(DESTDIR)$(SYSCONFDIR)/security/pam_recovery.conf || \
	    install -m 0644 conf/pam_recovery.conf $(DESTDIR)$(SYSCONFDIR)/security/pam_recovery.conf

uninstall:
	rm -f $(DESTDIR)$(PAMDIR)/pam_recovery.so $(DESTDIR)$(HELPER_PATH) \
	    $(DESTDIR)$(BINDIR)/pam-recovery \
	    $(DESTDIR)$(SBINDIR)/pam-recovery-admin \
	    $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(UNITS)))
	for p in $(notdir $(MANPAGES)); do rm -f $(DESTDIR)$(MANDIR)/man$${p##*.}/$$p; done
	rm -rf $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR)
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/security/pam_recovery.conf and users' stores"

clean:
	rm -rf build build-asan

# Fuzzing targets (libFuzzer, clang) live beside their sources.
-include fuzz/fuzz.mk
