#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_install.sh: "make install" and "make uninstall" into a staging
# directory, checked file by file; and every man page lint-clean.
set -u
suite=e2e_install
. tests/lib.sh

T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP
D=$T/stage
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch 2>/dev/null)
PAMDIR=/lib${MA:+/$MA}/security
DOC=/usr/share/doc/pam-recovery

# Install what the suite has just tested: B as an absolute path, and "-o all"
# so that make never rebuilds into the build directory.  The settings of a
# make that runs this suite (make asan) are not passed on.
inst() {
	OUT=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    make --no-print-directory -o all "$1" DESTDIR="$D" prefix=/usr B="$BIN" 2>&1)
	RC=$?
}
# mode PATH OCTAL: PATH (under the stage) is a regular file of that mode.
mode() { [ -f "$D$1" ] && [ ! -L "$D$1" ] && [ "$(stat -c %a "$D$1")" = "$2" ]; }

inst install
check "make install DESTDIR=... prefix=/usr succeeds" test "$RC" -eq 0
# A failed check below shows the staged tree.
OUT=$(cd "$D" && find . ! -type d | sort)

check "module in $PAMDIR, mode 0644" mode "$PAMDIR/pam_recovery.so" 644
check "the installed module is the one tested" cmp -s "$BIN/pam_recovery.so" "$D$PAMDIR/pam_recovery.so"
check "user helper in /usr/bin, mode 0755" mode /usr/bin/pam-recovery 755
if [ -x "$BIN/pam-recovery-admin" ]; then
	check "admin tool in /usr/sbin, mode 0755" mode /usr/sbin/pam-recovery-admin 755
fi

# Every man page of the tree, in the section its name says.
pages=$(ls conf/man/*.[1-8] tools/*.[1-8] man/*.[1-8] 2>/dev/null)
for p in $pages; do
	n=$(basename "$p")
	s=${n##*.}
	check "man page $n in /usr/share/man/man$s, mode 0644" mode "/usr/share/man/man$s/$n" 644
done
# The contract's man pages: pam-recovery(1), pam-recovery-admin(8),
# pam_recovery.conf(5), pam_recovery(8).
for n in pam_recovery.8 pam_recovery.conf.5; do
	check "the contract's man page $n is shipped" sh -c 'printf "%s\n" "$0" | grep -q "/$1\$"' "$pages" "$n"
done

# Examples, hook scripts (named by their path in the pam.d examples) and
# systemd units from conf/.
for f in conf/pam.d/*.example conf/sshd_config.recovery.example; do
	n=$(basename "$f")
	check "example $n in $DOC/examples" test -f "$D$DOC/examples/$n"
done
for n in README.md INSTALL SECURITY.md LICENSE; do
	check "$n in $DOC, mode 0644" mode "$DOC/$n" 644
done
for f in conf/*.sh; do
	[ -e "$f" ] || continue
	n=$(basename "$f")
	check "hook script $n in /usr/share/pam-recovery, mode 0755" mode "/usr/share/pam-recovery/$n" 755
done
for f in conf/*.service conf/*.timer conf/systemd/*.service conf/systemd/*.timer; do
	[ -e "$f" ] || continue
	n=$(basename "$f")
	check "systemd unit $n in /lib/systemd/system, mode 0644" mode "/lib/systemd/system/$n" 644
done
# systemd-analyze verify, where it exists: only the installed tool's path
# (absent here, it is in the stage) and man: references may be missing.
if command -v systemd-analyze >/dev/null; then
	OUT=$(systemd-analyze verify conf/systemd/*.service conf/systemd/*.timer 2>&1 |
	    grep -v -e "is not executable" -e "man " -e "^$")
	check "systemd-analyze verify: the purge units are clean" test -z "$OUT"
fi

# --- the purge unit's sandbox lets sendmail deliver the report ---------------------
# systemd is not PID 1 where the tests run, so the unit cannot be started
# (systemd-run) and verify only checks the syntax: what the sandbox does to
# sendmail is checked on the unit's text.  Not shown here: that the MTA at
# hand delivers (see INSTALL, "Keeping it tidy", for the check by hand).
U=conf/systemd/pam-recovery-purge.service
# prop KEY: the values of every KEY= line of the unit, one a line.
prop() { sed -n "s/^\\($1\\)=//p" "$U"; }
OUT=$(cat "$U")
check "purge unit: Type=oneshot" test "$(prop Type)" = oneshot
to=$(prop TimeoutStartSec | tail -n 1)
check "purge unit: a start timeout, so a stalled store cannot stop every later purge ($to)" \
    sh -c 'case "$0" in "" | 0 | infinity) exit 1 ;; esac' "$to"
paths=$(prop 'ReadWritePaths\|ReadOnlyPaths\|InaccessiblePaths\|ExecPaths\|NoExecPaths\|BindPaths\|BindReadOnlyPaths')
check "purge unit: every listed path may be missing (- prefix): $(echo $paths)" \
    sh -c 'for p in $0; do case "$p" in -*) ;; *) exit 1 ;; esac; done' "$paths"
check "purge unit: the MTA's queue under /var is writable (no ProtectSystem=strict without -/var)" \
    sh -c 'test "$0" != strict || printf "%s\n" $1 | grep -qx -e -/var -e -/var/spool' \
    "$(prop ProtectSystem)" "$paths"
check "purge unit: NoNewPrivileges=no, as root without DynamicUser or PrivateUsers (setgid postdrop)" \
    sh -c 'test "$0" = no && case "$1" in "" | root) ;; *) exit 1 ;; esac &&
        ! printf "%s\n" "$2" | grep -qi "yes"' \
    "$(prop NoNewPrivileges | tail -n 1)" "$(prop User | tail -n 1)" "$(prop 'DynamicUser\|PrivateUsers')"
check "purge unit: setrlimit allowed (Postfix's sendmail and exim call it)" \
    sh -c '! printf "%s\n" "$0" | grep -q "^~.*\(@resources\|setrlimit\|prlimit\)"' "$(prop SystemCallFilter)"
af=$(prop RestrictAddressFamilies)
check "purge unit: sockets for local and relaying MTAs (AF_UNIX, AF_INET, AF_INET6): ${af:-any}" \
    sh -c 'test -z "$0" || { for f in AF_UNIX AF_INET AF_INET6; do
        printf "%s\n" $0 | grep -qx "$f" || exit 1; done; }' "$af"
check "purge unit: network not private" sh -c '! printf "%s\n" "$0" | grep -qi yes' "$(prop PrivateNetwork)"

# --- the Debian packages ship what make install stages, where it stages it ----------
# debian/rules installs with "make install" into debian/tmp; each staged file
# must go to exactly one package (dh_missing fails the build otherwise), and
# the documentation stays in the paths INSTALL and the man pages give.
if [ -d debian ]; then
	bad=""
	for f in $(cd "$D" && find . ! -type d | sed 's|^\./||' | sort); do
		n=0
		for inst in debian/*.install; do
			while read -r pat; do
				[ -n "$pat" ] || continue
				# shellcheck disable=SC2254
				case "$f" in $pat | $pat/*) n=$((n + 1)) ;; esac
			done <"$inst"
		done
		[ "$n" -eq 1 ] || bad="$bad $f:$n"
	done
	OUT="files in no or several packages (file:count):$bad"
	check "debian/*.install: every staged file in exactly one package" test -z "$bad"
	OUT=$(cat debian/rules)
	check "debian/rules: no DOCDIR of its own (docs in $DOC, as INSTALL says)" \
	    sh -c '! grep -q "DOCDIR" debian/rules'
	check "debian/rules: the purge timer is neither enabled nor started, as with make install" \
	    sh -c 'grep -q "dh_installsystemd.*--no-enable" debian/rules &&
	        grep -q "dh_installsystemd.*--no-start" debian/rules'
	OUT=$(cat debian/*.docs)
	check "debian/*.docs: each listed file exists" \
	    sh -c 'for f in $(cat debian/*.docs); do test -f "$f" || exit 1; done'
	check "INSTALL lists debhelper for dpkg-buildpackage" grep -q 'debhelper' INSTALL
fi

# INSTALL's walkthrough (section 4) names its paths once, in its "names"
# block; those that make install provides must be where it puts them.
walkname() { sed -n "/^ *# walk: names\$/,/^ *\$/s/^ *$1=\([^ ]*\).*/\1/p" INSTALL; }
EX=$(walkname EX)
CONF=$(walkname CONF)
check "INSTALL's walkthrough: the configuration (CONF=$CONF) is installed" \
    test -n "$CONF" -a -f "$D$CONF"
check "INSTALL's walkthrough: the examples (EX=$EX) are installed there" \
    test -n "$EX" -a -d "$D$EX"
for f in $(sed -n 's/.*"\$EX\/\([^"]*\)".*/\1/p' INSTALL); do
	check "INSTALL's walkthrough: \$EX/$f is installed" test -f "$D$EX/$f"
done

C=/etc/security/pam_recovery.conf
OUT=$(cd "$D" && find . ! -type d | sort)
check "configuration in $C, mode 0644" mode "$C" 644
check "the installed configuration is the shipped one" cmp -s conf/pam_recovery.conf "$D$C"
printf 'max_attempts = 3\n' >>"$D$C"
cp "$D$C" "$T/edited.conf"
inst install
check "a second make install succeeds" test "$RC" -eq 0
check "a second make install keeps the administrator's configuration" cmp -s "$T/edited.conf" "$D$C"

check "make install puts the self-service's PAM service in /etc/pam.d" \
    cmp -s conf/pam.d/pam-recovery-self "$D/etc/pam.d/pam-recovery-self"
inst uninstall
check "make uninstall succeeds" test "$RC" -eq 0
left=$(cd "$D" && find . ! -type d | sort)
check "make uninstall removes everything but the configuration and the PAM service" \
    test "$left" = "$(printf './etc/pam.d/pam-recovery-self\n./etc/security/pam_recovery.conf')"
check "make uninstall keeps the configuration as edited" cmp -s "$T/edited.conf" "$D$C"

# --- the shipped configuration documents every key -----------------------------
# The key table of the configuration parser, one name a line.
keys=$(sed -n 's/^[[:space:]]*\(NUM\|STR\|ENUM\|BOOL\)(\([a-z_]*\),.*/\2/p' pam_recovery/rec_config.c)
check "the configuration parser's key table is found ($(printf '%s\n' "$keys" | grep -c .) keys)" \
    test "$(printf '%s\n' "$keys" | grep -c .)" -ge 20
for k in $keys; do
	check "key $k: in pam_recovery.conf with its default, and in pam_recovery.conf(5)" \
	    sh -c 'grep -q "^#$0 = " conf/pam_recovery.conf && grep -q "^# $0 (" conf/pam_recovery.conf &&
	        grep -q "^\.It Cm $0 " conf/man/pam_recovery.conf.5' "$k"
done
# Every value shown in the file is accepted by the module (pepper_file
# only goes with a system store).
sed -n 's/^#\([a-z_]* = \)/\1/p' conf/pam_recovery.conf | grep -v '^pepper_file ' >"$T/all.conf"
chmod 0644 "$T/all.conf"
mkdir "$T/pam.d"
printf 'auth [ignore=1 default=die] %s conf=%s nouserok store=%s store_helper=%s\nauth required pam_deny.so\nauth required pam_permit.so\n' \
    "$BIN/pam_recovery.so" "$T/all.conf" "$T/none.%u" "$BIN/pam-recovery-store" >"$T/pam.d/all"
OUT=$($VG "$BIN/pamdrive" "$T/pam.d" all "$(id -un)" auth 2>&1)
RC=$?
vgcheck pamdrive
check "every value shown in pam_recovery.conf is accepted by the module" has "auth: PAM_SUCCESS"

# --- licence: BSD-2-Clause, said once in LICENSE and by every source file ----------
check "LICENSE is the BSD 2-Clause licence" grep -q '^BSD 2-Clause License$' LICENSE
check "debian/copyright names BSD-2-Clause for every file" \
    sh -c '! grep "^License:" debian/copyright | grep -qv "BSD-2-Clause"'
OUT=$(find pam_recovery tools tests fuzz bench scripts conf .ci Makefile -type f \
    \( -name '*.[ch]' -o -name '*.sh' -o -name '*.map' -o -name '*.mk' -o -name '*.gp' \
    -o -name '*.[158]' -o -name Makefile -o -path .ci/run \) |
    while read -r f; do head -n 3 "$f" | grep -q 'SPDX-License-Identifier: BSD-2-Clause' || echo "$f"; done)
check "every source file has an SPDX line in its first lines" test -z "$OUT"

# --- man pages: mandoc -Tlint -Wall -------------------------------------------------
# Cross-references to pages that are not installed on this machine, and
# mandoc's complaints about its own database, depend on the machine, not on
# the page.
if command -v mandoc >/dev/null; then
	for p in $pages; do
		OUT=$(mandoc -Tlint -Wall "$p" 2>&1 |
		    grep -v -e 'STYLE: referenced manual not found' -e 'outdated mandoc.db')
		check "mandoc -Tlint -Wall $p: clean" test -z "$OUT"
	done
else
	echo "# mandoc not installed: man pages not linted"
fi

finish
