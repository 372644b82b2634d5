#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_ldap_pam.sh: store = ldap through the built module, its store helper
# and the real libpam (pam_start_confdir, as tests/e2e_pam.sh), against a
# throw-away slapd of the test's own (tests/slapd.sh), codes written by the
# directory's client (tests/ldapdrive gen).  A code logs in once, fleet-wide
# (host A's use is refused at host B); wrong codes lock as on LMDB; an
# unknown user costs one dummy hash; a stopped, stopped-dead (SIGSTOP),
# unreachable or silent directory is PAM_AUTHINFO_UNAVAIL within
# ldap_timeout, never a success; and the break-glass stack of
# conf/pam.d/recovery-fleet.example lets a local code in only while the
# directory cannot be reached.  The module itself links no libldap: its
# store helper opens the directory.
set -u
suite=e2e_ldap_pam
. tests/lib.sh
. tests/slapd.sh
PATH=$PATH:/usr/sbin:/sbin

slapd_suite_skips
T=$(mktemp -d) || exit 1
SILENT=
cleanup() {
	slapd_stop "$T/a"
	[ -n "$SILENT" ] && kill "$SILENT" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
ME=$(id -un)
ROOT=0
[ "$(id -u)" -eq 0 ] && ROOT=1
D=$BIN/ldapdrive
mkdir "$T/a" "$T/pam.d"
chmod 0755 "$T"

# --- syslog capture (root: a private /dev/log in a mount namespace) --------
cp tests/syslogcap.sh "$T/cap.sh"
mkdir "$T/olddev"
CAP=0
if [ "$ROOT" -eq 1 ] && command -v unshare >/dev/null && command -v perl >/dev/null &&
    unshare -m sh "$T/cap.sh" "$T" logger -t e2e_ldap_pam probe 2>/dev/null &&
    grep -q probe "$T/syslog" 2>/dev/null; then
	CAP=1
fi
skip() { echo "ok - $1 # SKIP $2"; }

# pamlog SERVICE USER STEPS -- ANSWERS: pamrun, with the syslog in $LOG and
# the time it took in $MS (milliseconds).
pamlog() {
	t0=$(date +%s%N)
	if [ "$CAP" -eq 0 ]; then
		pamrun "$@"
		LOG=
	else
		: >"$T/syslog"
		OUT=$(unshare -m sh "$T/cap.sh" "$T" $VG "$BIN/pamdrive" "$T/pam.d" "$@" 2>&1)
		RC=$?
		vgcheck pamdrive
		LOG=$(cat "$T/syslog")
	fi
	MS=$((($(date +%s%N) - t0) / 1000000))
}
# logged NAME PATTERN: the last pamlog logged PATTERN (a fixed string).
logged() {
	if [ "$CAP" -eq 0 ]; then
		skip "$1" "no syslog capture (needs root, unshare and perl)"
	elif printf '%s\n' "$LOG" | grep -qF -- "$2"; then
		pass "$1"
	else
		failed "$1" "$LOG"
	fi
}
notlogged() {
	if [ "$CAP" -eq 0 ]; then
		skip "$1" "no syslog capture (needs root, unshare and perl)"
	elif printf '%s\n' "$LOG" | grep -qF -- "$2"; then
		failed "$1" "$LOG"
	else
		pass "$1"
	fi
}
# within NAME MS: the last pamlog took less than MS milliseconds (4 s more
# under valgrind, which starts pamdrive, libpam and the module slowly).
within() {
	OUT="$OUT
(took $MS ms)"
	lim=$2
	[ -n "$VG" ] && lim=$((lim + 4000))
	check "$1 (${MS} ms)" test "$MS" -lt "$lim"
}

# ---- what links libldap ----------------------------------------------------
# The module opens no store (its store helper does): it needs neither
# libldap nor LMDB, and sshd, login and sudo do not load them.
needed() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
OUT=$(needed "$BIN/pam_recovery.so")
check "pam_recovery.so needs neither libldap nor liblmdb" \
    sh -c '[ -n "$0" ] && ! printf "%s\n" "$0" | grep -qE "^lib(ldap|lber|lmdb)"' "$OUT"
OUT=$(needed "$BIN/pam-recovery-store")
check "pam-recovery-store, which opens the store, needs libldap" has "libldap"

# ---- a directory -----------------------------------------------------------
RC=0
slapd_pki "$T/a" && slapd_conf "$T/a" && slapd_start "$T/a" || RC=$?
slapd_started "$RC" "$T/a" "slapd starts on 127.0.0.1 (StartTLS, ldaps, ldapi)"
H="ldap://127.0.0.1:$SLAPD_PORT/"

# conf NAME BIND-DN PASSWORD [KEY=VALUE...]: a configuration with store =
# ldap; the KEY=VALUE pairs replace the defaults below or add keys.
conf() {
	n=$1 dn=$2 pw=$3
	shift 3
	printf '%s\n' "$pw" >"$T/$n.pw"
	chmod 0600 "$T/$n.pw"
	for kv in store=ldap "ldap_uri=$H" "ldap_base=$SLAPD_BASE" \
	    "ldap_bind_dn=$dn" "ldap_bind_pw_file=$T/$n.pw" \
	    "ldap_ca_file=$T/a/ca.pem" ldap_timeout=2 kdf_opslimit=1 \
	    kdf_memlimit=8K max_attempts=3 "store_helper=$BIN/pam-recovery-store"; do
		k=${kv%%=*}
		case " $* " in *" $k="*) continue ;; esac
		echo "$k = ${kv#*=}"
	done >"$T/$n.conf"
	for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done >>"$T/$n.conf"
	chmod 0644 "$T/$n.conf"
}
conf admin "$SLAPD_ADMIN_DN" adminpw host_name=adminhost
conf hosta "$SLAPD_HOST_DN" hostpw host_name=host-a
conf hostb "$SLAPD_HOST_DN" hostpw host_name=host-b
for h in hosta hostb; do
	echo "auth required $BIN/pam_recovery.so conf=$T/$h.conf" >"$T/pam.d/$h"
done
echo "auth required $BIN/pam_recovery.so conf=$T/hosta.conf debug" >"$T/pam.d/hosta-debug"

# gen USER N FILE: N codes for USER in the directory, one a line in FILE.
gen() {
	OUT=$("$D" "$T/admin.conf" gen "$1" "$2" 2>&1)
	RC=$?
	printf '%s\n' "$OUT" | grep -E '^[0-9A-Z]{20}$' >"$3"
}
nth() { sed -n "$1p" "$2"; }
gen alice 6 "$T/alice.codes"
check "6 codes for alice written to the directory" test "$RC" -eq 0 -a "$(grep -c . "$T/alice.codes")" -eq 6
gen bob 3 "$T/bob.codes"
check "3 codes for bob" test "$RC" -eq 0 -a "$(grep -c . "$T/bob.codes")" -eq 3
# Well-formed codes that are nobody else's: carol's.
gen carol 6 "$T/wrong.codes"
gen "$ME" 2 "$T/me.codes"
check "codes for carol and $ME" test "$RC" -eq 0 -a "$(grep -c . "$T/me.codes")" -eq 2

# ---- configuration: refused when read --------------------------------------
conf nobase "$SLAPD_HOST_DN" hostpw ldap_base=
echo "auth required $BIN/pam_recovery.so conf=$T/nobase.conf" >"$T/pam.d/nobase"
pamlog nobase alice auth -- "$(nth 1 "$T/wrong.codes")"
check "store = ldap without ldap_base: PAM_SERVICE_ERR, no prompt" \
    sh -c 'printf "%s" "$0" | grep -q "auth: PAM_SERVICE_ERR" && printf "%s" "$0" | grep -q "prompts: 0"' "$OUT"
logged "... logged with the key" "ldap_base: must be set with store = ldap"
conf plain "$SLAPD_HOST_DN" hostpw ldap_starttls=no
echo "auth required $BIN/pam_recovery.so conf=$T/plain.conf" >"$T/pam.d/plain"
pamlog plain alice auth -- "$(nth 1 "$T/wrong.codes")"
check "plain ldap:// without StartTLS: PAM_SERVICE_ERR" has "auth: PAM_SERVICE_ERR"
logged "... logged: ldap_insecure is the way" "ldap_insecure = yes"
# store = ldap as a module argument, over a file that names an LMDB store.
printf 'store = %s/unused\nldap_uri = %s\nldap_base = %s\nldap_bind_dn = %s\nldap_bind_pw_file = %s\nldap_ca_file = %s\nkdf_opslimit = 1\nkdf_memlimit = 8K\nstore_helper = %s\n' \
    "$T" "$H" "$SLAPD_BASE" "$SLAPD_HOST_DN" "$T/hosta.pw" "$T/a/ca.pem" "$BIN/pam-recovery-store" >"$T/arg.conf"
chmod 0644 "$T/arg.conf"
echo "auth required $BIN/pam_recovery.so conf=$T/arg.conf store=ldap host_name=host-arg" >"$T/pam.d/arg"

# ---- logins ----------------------------------------------------------------
pamlog hosta alice auth -- "$(nth 1 "$T/alice.codes")"
check "host A: a directory code logs in (PAM_SUCCESS)" has "auth: PAM_SUCCESS"
check "... 5 codes left" has "Recovery code accepted. 5 codes left."
pamlog hosta alice auth -- "$(nth 1 "$T/alice.codes")"
check "host A: the same code again is refused" has "auth: PAM_AUTH_ERR"
check "... nothing accepted" hasnt "accepted"
pamlog hostb alice auth -- "$(nth 1 "$T/alice.codes")"
check "host B: the code host A used is refused" has "auth: PAM_AUTH_ERR"
logged "... as used" "reason=used"
pamlog hostb alice auth -- "$(nth 2 "$T/alice.codes")"
check "host B: an unused code logs in" has "auth: PAM_SUCCESS"
check "... 4 codes left, counted fleet-wide" has "Recovery code accepted. 4 codes left."
pamlog hosta alice auth -- "$(nth 2 "$T/alice.codes")"
check "host A: the code host B used is refused" has "auth: PAM_AUTH_ERR"
"$D" "$T/admin.conf" events alice >"$T/events" 2>&1
OUT=$(cat "$T/events")
check "the directory recorded host A's use and host B's" \
    sh -c 'grep -q "host-a" "$0" && grep -q "host-b" "$0"' "$T/events"
pamlog arg alice auth -- "$(nth 3 "$T/alice.codes")"
check "store=ldap as a module argument: the directory's code logs in" has "auth: PAM_SUCCESS"

# ---- lockout, as on LMDB: max_attempts = 3 --------------------------------
pamlog hosta bob auth -- "$(nth 1 "$T/wrong.codes")"
pamlog hostb bob auth -- "$(nth 2 "$T/wrong.codes")"
check "2 wrong codes (hosts A and B): not locked yet" hasnt "Try again in"
pamlog hosta bob auth -- "$(nth 3 "$T/wrong.codes")"
check "3rd wrong code: PAM_AUTH_ERR" has "auth: PAM_AUTH_ERR"
check "... locks (counted over both hosts)" has "Try again in 60 seconds"
pamlog hostb bob auth -- "$(nth 1 "$T/bob.codes")"
check "while locked, at host B: even a valid code is refused" has "auth: PAM_AUTH_ERR"
check "... without a prompt" has "prompts: 0"
check "... the wait is shown" has "Try again in"

# ---- an unknown user: the same answer, one dummy hash ----------------------
pamlog hosta-debug nobody-e2e-ldap auth -- "$(nth 4 "$T/wrong.codes")"
check "unknown user: same prompt, PAM_AUTH_ERR" \
    sh -c 'printf "%s" "$0" | grep -q "auth: PAM_AUTH_ERR" && printf "%s" "$0" | grep -q "prompts: 1"' "$OUT"
logged "unknown user: not enrolled, as on LMDB" "reason=not_enrolled"
logged "... one argon2id evaluation (a dummy)" ", 1 argon2id evaluation"
pamlog hosta-debug alice auth -- "$(nth 4 "$T/wrong.codes")"
logged "a known user's wrong code: one argon2id evaluation too" "argon2id evaluation"
logged "... one" ", 1 argon2id evaluation"

# ---- break-glass: the directory first, a small local store second ----------
# The auth lines of pam_recovery in conf/pam.d/recovery-fleet.example (one
# after the other there), with this test's paths.
mkdir -m 0700 "$T/local"
printf 'store = %s/local\nkdf_opslimit = 1\nkdf_memlimit = 8K\nstore_helper = %s\n' \
    "$T" "$BIN/pam-recovery-store" >"$T/local.conf"
chmod 0644 "$T/local.conf"
OUT=$("$BIN/pam-recovery-admin" -c "$T/local.conf" generate "$ME" -n 3 --format csv 2>&1)
printf '%s\n' "$OUT" >"$T/local.csv"
check "break-glass: 3 local codes for $ME" test "$(grep -c '^[0-9]*,' "$T/local.csv")" -eq 3
fleet() {
	grep '^auth.*pam_recovery\.so' conf/pam.d/recovery-fleet.example |
	    sed "s|pam_recovery.so conf=/etc/security/pam_recovery.conf|$BIN/pam_recovery.so conf=$T/$1.conf|;
		 s|pam_recovery.so conf=/etc/security/pam_recovery-local.conf|$BIN/pam_recovery.so conf=$T/local.conf|"
}
fleet hosta >"$T/pam.d/fleet"
OUT=$(cat "$T/pam.d/fleet")
check "the example's stack: two pam_recovery lines, the directory first" \
    test "$(grep -c "pam_recovery.so conf=$T/hosta.conf" "$T/pam.d/fleet")" -eq 1 -a \
    "$(grep -c "pam_recovery.so conf=$T/local.conf" "$T/pam.d/fleet")" -eq 1 -a \
    "$(grep -n "hosta.conf" "$T/pam.d/fleet" | cut -d: -f1)" -lt "$(grep -n "local.conf" "$T/pam.d/fleet" | cut -d: -f1)"
pamlog fleet "$ME" auth -- "$(code 1 "$T/local.csv")"
check "directory up: a local code is refused (the directory said wrong)" has "auth: PAM_AUTH_ERR"
check "... one prompt: the directory's line decided" has "prompts: 1"
pamlog fleet "$ME" auth -- "$(nth 1 "$T/me.codes")"
check "directory up: the directory's code logs in" has "auth: PAM_SUCCESS"
check "... one prompt" has "prompts: 1"

# A directory that answers but refuses the hosts' bind: a broken setup,
# PAM_SERVICE_ERR (default=die in the stack: no fallback), never a success.
conf badpw "$SLAPD_HOST_DN" wrongpw host_name=host-a
echo "auth required $BIN/pam_recovery.so conf=$T/badpw.conf" >"$T/pam.d/badpw"
pamlog badpw alice auth -- "$(nth 5 "$T/alice.codes")"
check "the hosts' bind refused: PAM_SERVICE_ERR, no prompt" \
    sh -c 'printf "%s" "$0" | grep -q "auth: PAM_SERVICE_ERR" && printf "%s" "$0" | grep -q "prompts: 0"' "$OUT"
logged "... logged: the bind was refused" "bind as $SLAPD_HOST_DN refused"

# ---- a directory that cannot answer ---------------------------------------
# A listener that accepts and never answers.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64); s.settimeout(0.2)
print(s.getsockname()[1]); sys.stdout.flush()
held = []
for _ in range(3000):
    try: held.append(s.accept()[0])
    except socket.timeout: pass
' >"$T/silent.port" &
SILENT=$!
i=0
while [ ! -s "$T/silent.port" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
SP=$(cat "$T/silent.port")
conf silent "$SLAPD_HOST_DN" hostpw "ldap_uri=ldap://127.0.0.1:$SP/" host_name=host-a
echo "auth required $BIN/pam_recovery.so conf=$T/silent.conf" >"$T/pam.d/silent"
pamlog silent alice auth -- "$(nth 5 "$T/alice.codes")"
check "silent directory (accepts, never answers): PAM_AUTHINFO_UNAVAIL" has "auth: PAM_AUTHINFO_UNAVAIL"
check "... no prompt" has "prompts: 0"
within "... within ldap_timeout (2 s) and slack" 5000
logged "... logged: a store error, timeout" "event=store_error"
logged "... the reason" "reason=timeout"
logged "... the helper says which directory" "directory ldap://127.0.0.1:$SP/"
# The account stage (the reminder, for key logins too) waits at most 1 s per
# URI, whatever ldap_timeout says (here 10 s), and decides nothing.
conf silenta "$SLAPD_HOST_DN" hostpw "ldap_uri=ldap://127.0.0.1:$SP/" ldap_timeout=10 host_name=host-a
printf 'account optional %s conf=%s\naccount required pam_permit.so\n' \
    "$BIN/pam_recovery.so" "$T/silenta.conf" >"$T/pam.d/silenta"
pamlog silenta alice account
check "account stage on a silent directory, ldap_timeout = 10: the login goes on" has "account: PAM_SUCCESS"
within "... the reminder gave up after 1 s, not ldap_timeout" 3000
logged "... logged: the helper waited 1 s" "no answer within 1 s"
# Two silent URIs: ldap_timeout (here 1 s) each, still the helper's own
# answer though store_timeout alone (1 s) is shorter.
conf silent2 "$SLAPD_HOST_DN" hostpw "ldap_uri=ldap://127.0.0.1:$SP/ ldaps://127.0.0.1:$SP/" \
    store_timeout=1 ldap_timeout=1 host_name=host-a
echo "auth required $BIN/pam_recovery.so conf=$T/silent2.conf" >"$T/pam.d/silent2"
pamlog silent2 alice auth -- "$(nth 5 "$T/alice.codes")"
check "two silent URIs, store_timeout = 1: PAM_AUTHINFO_UNAVAIL" has "auth: PAM_AUTHINFO_UNAVAIL"
within "... within 2 x ldap_timeout and slack" 5000
logged "... the helper tried the first URI" "directory ldap://127.0.0.1:$SP/"
logged "... and the second" "directory ldaps://127.0.0.1:$SP/"
notlogged "... and answered itself: not stopped at store_timeout" "(store_timeout)"
kill "$SILENT" 2>/dev/null
SILENT=

# An address that is never routed (TEST-NET-1, RFC 5737): the connect gets
# no answer (or, without a route, fails at once).
conf unreach "$SLAPD_HOST_DN" hostpw "ldap_uri=ldaps://192.0.2.1/" host_name=host-a
echo "auth required $BIN/pam_recovery.so conf=$T/unreach.conf" >"$T/pam.d/unreach"
pamlog unreach alice auth -- "$(nth 5 "$T/alice.codes")"
check "unreachable directory (192.0.2.1): PAM_AUTHINFO_UNAVAIL" has "auth: PAM_AUTHINFO_UNAVAIL"
within "... within ldap_timeout (2 s) and slack" 5000

# slapd stopped dead (SIGSTOP): the kernel still accepts, nobody answers.
kill -STOP "$(cat "$T/a/slapd.pid")"
pamlog hosta alice auth -- "$(nth 5 "$T/alice.codes")"
kill -CONT "$(cat "$T/a/slapd.pid")"
check "slapd stopped (SIGSTOP): PAM_AUTHINFO_UNAVAIL" has "auth: PAM_AUTHINFO_UNAVAIL"
within "... within ldap_timeout (2 s) and slack" 5000

# slapd gone: connection refused.
slapd_stop "$T/a"
pamlog hosta alice auth -- "$(nth 5 "$T/alice.codes")"
check "slapd down: PAM_AUTHINFO_UNAVAIL" has "auth: PAM_AUTHINFO_UNAVAIL"
check "... no prompt" has "prompts: 0"
within "... at once" 2000
logged "... logged: reason=io" "reason=io"
pamlog hostb alice auth -- "$(nth 6 "$T/alice.codes")"
check "slapd down, host B: PAM_AUTHINFO_UNAVAIL, never a success" has "auth: PAM_AUTHINFO_UNAVAIL"

pamlog fleet "$ME" auth -- "$(nth 2 "$T/me.codes")"
check "break-glass, directory down: a directory code is refused" has "auth: PAM_AUTH_ERR"
check "... asked once, by the local line" has "prompts: 1"
pamlog fleet "$ME" auth -- "$(code 1 "$T/local.csv")"
check "break-glass, directory down: the local code logs in" has "auth: PAM_SUCCESS"
pamlog fleet "$ME" auth -- "$(code 1 "$T/local.csv")"
check "... once" has "auth: PAM_AUTH_ERR"
pamlog fleet alice auth -- "$(code 2 "$T/local.csv")"
check "... and only for its own user" has "auth: PAM_AUTH_ERR"

finish
