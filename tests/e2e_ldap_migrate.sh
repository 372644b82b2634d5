#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_ldap_migrate.sh: pam-recovery-admin migrate --from STORE copies a
# local system store, made and used with the real tools and module, into a
# throw-away slapd of the test's own (tests/slapd.sh): a dry run writes
# nothing, the printed codes then log in through the directory, the code
# used locally is refused, the lockout count comes along, a second run
# skips users already there, and the copy is audited in the directory.
# As root, also per-user stores (a pattern), each read as its owner.
set -u
suite=e2e_ldap_migrate
. tests/lib.sh
. tests/slapd.sh
PATH=$PATH:/usr/sbin:/sbin

slapd_suite_skips novalgrind
T=$(mktemp -d) || exit 1
chmod 0755 "$T"
cleanup() {
	slapd_stop "$T/a"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
D=$BIN/ldapdrive
export LDAPTLS_CACERT="$T/a/ca.pem" LDAPTLS_REQCERT=demand
mkdir "$T/a" "$T/pam.d"
mkdir -m 0700 "$T/sys"
ME=$(id -un)
U2=$(getent passwd | cut -d: -f1 | grep -vx "$ME" | head -n 1)

RC=0
slapd_pki "$T/a" && slapd_conf "$T/a" && slapd_start "$T/a" || RC=$?
slapd_started "$RC" "$T/a" "a throw-away slapd with the shipped schema and ACLs"
H="ldap://127.0.0.1:$SLAPD_PORT/"

# The local store: the system store of a host before the directory.
cat >"$T/local.conf" <<CONF
store = $T/sys
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
CONF
# conf NAME BIND-DN PASSWORD: the same settings with the directory store.
conf() {
	printf '%s\n' "$3" >"$T/$1.pw"
	chmod 0600 "$T/$1.pw"
	cat >"$T/$1.conf" <<CONF
store = ldap
kdf_opslimit = 1
kdf_memlimit = 8K
max_attempts = 5
store_helper = $BIN/pam-recovery-store
ldap_uri = $H
ldap_base = $SLAPD_BASE
ldap_bind_dn = $2
ldap_bind_pw_file = $T/$1.pw
ldap_ca_file = $T/a/ca.pem
ldap_timeout = 5
host_name = $1
CONF
}
conf dir "$SLAPD_ADMIN_DN" adminpw
conf host "$SLAPD_HOST_DN" hostpw
chmod 0644 "$T"/*.conf
echo "auth required $BIN/pam_recovery.so conf=$T/local.conf" >"$T/pam.d/rt"
echo "auth required $BIN/pam_recovery.so conf=$T/local2.conf" >"$T/pam.d/rt2"

# admin CONF ARGS...: the admin tool; stdout in OUT, stderr in ERR.
admin() {
	c=$1
	shift
	OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/$c.conf" "$@" 2>"$T/err")
	RC=$?
	ERR=$(cat "$T/err")
	vgcheck pam-recovery-admin
}
# migr ARGS...: a login through the directory store (tests/ldapmigr.c).
migr() {
	OUT=$($VG "$BIN/ldapmigr" "$T/host.conf" "$@" 2>"$T/migr.err")
	RC=$?
	[ "$RC" -eq 2 ] && OUT="$OUT
$(cat "$T/migr.err")"
	vgcheck ldapmigr
}
# drive ARGS...: ldapdrive as a host of the directory.
drive() {
	OUT=$($VG "$D" "$T/host.conf" "$@" 2>"$T/drive.err")
	RC=$?
	vgcheck ldapdrive
}

admin local generate "$ME" -n 5 --format csv -o "$T/me.csv" -y
check "local: 5 codes for $ME" test "$RC" -eq 0
admin local generate "$U2" -n 3 --format csv -o "$T/u2.csv" -y
check "local: 3 codes for $U2" test "$RC" -eq 0
pamrun rt "$ME" auth -- "$(code 1 "$T/me.csv")"
check "local: code 1 of $ME logs in" has "auth: PAM_SUCCESS"
pamrun rt "$ME" auth -- "$(code 1 "$T/u2.csv")"
check "local: a code of $U2's for $ME fails (one failure counted)" hasnt "auth: PAM_SUCCESS"

admin dir migrate
check "migrate without --from: a usage error" test "$RC" -eq 2
admin dir migrate --from ldap
check "migrate --from the directory: refused" test "$RC" -eq 1
admin local migrate --from "$T/sys"
check "migrate --from the configured store itself: refused" test "$RC" -ne 0

admin dir migrate --from "$T/sys" --dry-run
check "dry run: says what it would copy" has "$ME: would copy 1 batches, 4 codes unused, 1 used, 0 invalidated"
drive status "$ME"
check "dry run: the directory has nothing of $ME" has "no recovery codes set up"

admin dir migrate --from "$T/sys"
check "migrate: exit 0" test "$RC" -eq 0
check "migrate: $ME copied" has "$ME: copied 1 batches, 4 codes unused, 1 used, 0 invalidated"
check "migrate: $U2 copied" has "$U2: copied 1 batches, 3 codes unused, 0 used, 0 invalidated"
check "migrate: a total" has "migrate: 2 copied, 0 skipped (already there), 0 with nothing to copy, 0 failed"
drive status "$ME"
check "directory: $ME's batch, the used code and the failure as in the local store" \
    has "ok batch 1 count 5 unused 4 used 1 invalid 0 failures 1 locked_until 0 last_used set"

drive login "$ME" "$(code 2 "$T/me.csv")"
check "directory: a printed code logs in" has "ok slot 2"
drive login "$ME" "$(code 2 "$T/me.csv")"
check "directory: ... once" test "$RC" -eq 3
check "... refused as used" test "$OUT" = used
drive login "$ME" "$(code 1 "$T/me.csv")"
check "directory: the code used locally is refused" test "$RC" -eq 3
check "... as used" test "$OUT" = used
drive login "$U2" "$(code 3 "$T/u2.csv")"
check "directory: $U2's printed code logs in" has "ok slot 3"
# The login itself, through the directory store's operations as the
# module makes it (rec_auth_attempt over the directory backend).
migr view "$ME"
check "directory store: $ME's view, as a login reads it" \
    has "ok batch 1 count 5 unused 3 used 2 invalid 0 failures 2"
migr attempt "$ME" "$(code 3 "$T/me.csv")"
check "directory store: a printed code logs in (rec_auth_attempt)" has "ok slot 3 remaining 2"
migr attempt "$ME" "$(code 1 "$T/me.csv")"
check "directory store: the code used locally is refused as used" test "$RC" -eq 3 -a "$OUT" = used
migr attempt "$ME" "$(code 3 "$T/me.csv")"
check "directory store: ... and so is the one just used" test "$RC" -eq 3 -a "$OUT" = used
drive events "$ME"
check "directory: the copy is audited, by the admin tool" has "event admin host=dir service=pam-recovery-admin"

admin dir migrate --from "$T/sys" --user "$ME"
check "a second run: $ME skipped, exit 0" test "$RC" -eq 0
check "... said so" has "$ME: skipped: already in the destination"
drive status "$ME"
check "... and nothing of the directory changed" has "unused 2 used 3"
admin dir migrate --from "$T/sys" --user nosuchuser
check "a user without codes: nothing to copy" has "nosuchuser: nothing to copy"

# ---- Users the directory has already: never overwritten --------------------
U4=$(getent passwd | cut -d: -f1 | grep -vx -e "$ME" -e "$U2" | sed -n 2p)
U5=$(getent passwd | cut -d: -f1 | grep -vx -e "$ME" -e "$U2" | sed -n 3p)
U6=$(getent passwd | cut -d: -f1 | grep -vx -e "$ME" -e "$U2" | sed -n 4p)
for u in "$U4" "$U5" "$U6"; do
	admin local generate "$u" -n 2 --format csv -o "$T/$u.csv" -y
done
OUT=$($VG "$D" "$T/dir.conf" gen "$U4" 2 2>/dev/null)
printf '%s\n' "$OUT" | grep -E '^[0-9A-Z]{20}$' >"$T/$U4.dir"
check "directory: $U4 has codes of the directory's own" test "$(grep -c . "$T/$U4.dir")" -eq 2
# A bare entry (what a copy's first step leaves), then one with a count.
for u in "$U5" "$U6"; do
	printf 'dn: uid=%s,%s\nobjectClass: pamRecoveryUser\nuid: %s\npamRecoveryLock: 0 0 0 0 0\n' \
	    "$u" "$SLAPD_BASE" "$u" >"$T/bare.ldif"
	OUT=$(ldapadd -x -ZZ -H "$H" -D "$SLAPD_ADMIN_DN" -w adminpw -f "$T/bare.ldif" 2>&1)
	check "directory: a bare entry for $u" test $? -eq 0
done
drive count "$U6"
check "directory: an attempt counted on $U6's bare entry" test "$RC" -eq 0
admin dir migrate --from "$T/sys" --user "$U4" --user "$U5" --user "$U6"
check "migrate: exit 0" test "$RC" -eq 0
check "... $U4, generated in the directory, skipped" has "$U4: skipped: already in the destination"
check "... $U5's bare entry taken as no record: copied" has "$U5: copied 1 batches, 2 codes unused"
check "... $U6's entry, written to since, skipped" has "$U6: skipped: already in the destination"
drive login "$U4" "$(code 1 "$T/$U4.csv")"
check "directory: $U4's local code matches nothing there" test "$RC" -eq 3
drive login "$U4" "$(head -n 1 "$T/$U4.dir")"
check "... the directory's own code works" has "ok slot"
drive login "$U5" "$(code 2 "$T/$U5.csv")"
check "directory: $U5's printed code logs in" has "ok slot 2"

# ---- A lockout and a pepper come along --------------------------------------
UL=$(getent passwd | cut -d: -f1 | grep -vx -e "$ME" -e "$U2" | sed -n 5p)
admin local generate "$UL" -n 2 --format csv -o "$T/ul.csv" -y
for i in 1 2 3 4 5; do
	pamrun rt "$UL" auth -- "$(code 1 "$T/me.csv")"
done
pamrun rt "$UL" auth -- "$(code 1 "$T/ul.csv")"
check "local: $UL locked after 5 wrong codes" hasnt "auth: PAM_SUCCESS"
admin dir migrate --from "$T/sys" --user "$UL"
check "migrate: $UL copied" has "$UL: copied 1 batches, 2 codes unused"
migr attempt "$UL" "$(code 1 "$T/ul.csv")"
check "directory store: $UL's good code waits for the lock carried over" test "$RC" -eq 3 -a "$OUT" = locked
if [ "$(id -u)" -eq 0 ]; then
	UP=$(getent passwd | cut -d: -f1 | grep -vx -e "$ME" -e "$U2" | sed -n 6p)
	mkdir -m 0700 "$T/pep"
	(umask 077; head -c 64 /dev/urandom >"$T/pepper")
	sed "s,^store = .*,store = $T/pep," "$T/local.conf" >"$T/pep.conf"
	echo "pepper_file = $T/pepper" >>"$T/pep.conf"
	admin pep generate "$UP" -n 2 --format csv -o "$T/up.csv" -y
	check "local: 2 peppered codes for $UP" test "$RC" -eq 0
	admin dir migrate --from "$T/pep" --user "$UP"
	check "migrate: $UP copied" has "$UP: copied 1 batches, 2 codes unused"
	check "... with a word on the pepper" has "$UP: 1 batches need the pepper: every host using the destination needs the same pepper_file (this configuration has none)"
	migr attempt "$UP" "$(code 1 "$T/up.csv")"
	check "directory store: a host without the pepper refuses, a configuration error" test "$RC" -eq 2
	check "... saying why" has "generated with a pepper, but pepper_file is not set"
	cp "$T/host.conf" "$T/host.nopep"
	echo "pepper_file = $T/pepper" >>"$T/host.conf"
	migr attempt "$UP" "$(code 1 "$T/up.csv")"
	check "directory store: with the same pepper_file, it logs in" has "ok slot 1"
	cp "$T/host.nopep" "$T/host.conf"
fi

# ---- Another local store as the destination (no directory) -----------------
mkdir -m 0700 "$T/sys2"
sed "s,^store = .*,store = $T/sys2," "$T/local.conf" >"$T/local2.conf"
chmod 0644 "$T/local2.conf"
admin local2 migrate --from "$T/sys"
check "local to local: every user of the store copied, exit 0" test "$RC" -eq 0
check "... $ME with the code used and the failure" has "$ME: copied 1 batches, 4 codes unused, 1 used, 0 invalidated"
admin local2 check --deep
check "... check --deep: the copy's counters match its codes" test "$RC" -eq 0
pamrun rt2 "$ME" auth -- "$(code 4 "$T/me.csv")"
check "... a printed code logs in through the module there" has "auth: PAM_SUCCESS"
pamrun rt2 "$ME" auth -- "$(code 1 "$T/me.csv")"
check "... the used one does not" hasnt "auth: PAM_SUCCESS"

# ---- Per-user stores: a pattern, each store read as its owner --------------
U3=$(getent passwd | cut -d: -f1 | grep -vx -e "$ME" -e "$U2" | head -n 1)
if [ "$(id -u)" -eq 0 ] && [ -n "$U3" ]; then
	mkdir -m 1777 "$T/pu"
	sed "s,^store = .*,store = $T/pu/%u," "$T/local.conf" >"$T/pu.conf"
	chmod 0644 "$T/pu.conf"
	admin pu generate "$U3" -n 4 --format csv -o "$T/u3.csv" -y
	check "per-user: 4 codes for $U3 in $T/pu/$U3" test "$RC" -eq 0 -a -d "$T/pu/$U3"
	check "... a store $U3 owns" test "$(stat -c %U "$T/pu/$U3")" = "$U3"
	admin dir migrate --from "$T/pu/%u"
	check "per-user: every user with a store, exit 0" test "$RC" -eq 0
	check "... $U3 copied" has "$U3: copied 1 batches, 4 codes unused, 0 used, 0 invalidated"
	drive login "$U3" "$(code 4 "$T/u3.csv")"
	check "directory: $U3's printed code logs in" has "ok slot 4"
	admin dir migrate --from "$T/pu/%u" --user "$U3" --user "$ME"
	check "per-user, named: $U3 skipped" has "$U3: skipped: already in the destination"
	check "... $ME has no per-user store: nothing to copy" has "$ME: nothing to copy"
else
	echo "# per-user stores: skipped (not root)"
fi

finish
