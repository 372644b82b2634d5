#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_ldap_admin.sh: the administrator's operations of the directory store
# against a throw-away slapd (tests/slapd.sh), through the real layer-4
# functions (tests/ldapadmin.c): 1200 users, more than one page of slapd's
# 500, listed all and in name order; purge removes exactly what the
# retention says, in steps of 2 records, and a second run nothing; the
# audit purge deletes exactly the events older than the cutoff (700, more
# than a page); forget leaves nothing a login can use and keeps the
# user's events, with the host of each, and one that stopped half-way
# leaves nothing usable and is finished by the next; check --deep finds
# nothing wrong.
set -u
suite=e2e_ldap_admin
. tests/lib.sh
. tests/slapd.sh
PATH=$PATH:/usr/sbin:/sbin

slapd_suite_skips novalgrind
T=$(mktemp -d) || exit 1
cleanup() {
	slapd_stop "$T/a"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
export LDAPTLS_CACERT="$T/a/ca.pem" LDAPTLS_REQCERT=demand
mkdir "$T/a"
t0=$(date +%s)

# A throw-away database need not reach the disk at every write.
RC=0
{ slapd_pki "$T/a" && slapd_conf "$T/a" && echo dbnosync >>"$T/a/slapd.conf" &&
    slapd_start "$T/a"; } || RC=$?
slapd_started "$RC" "$T/a" "a slapd with the shipped schema and ACLs starts"
H="ldap://127.0.0.1:$SLAPD_PORT/"

# conf NAME BIND-DN PASSWORD HOST: a client configuration.
conf() {
	printf '%s\n' "$3" >"$T/$1.pw"
	chmod 0600 "$T/$1.pw"
	cat >"$T/$1.conf" <<EOF
ldap_uri = $H
ldap_base = $SLAPD_BASE
ldap_bind_dn = $2
ldap_bind_pw_file = $T/$1.pw
ldap_ca_file = $T/a/ca.pem
ldap_timeout = 5
kdf_opslimit = 1
kdf_memlimit = 8K
max_attempts = 1000
host_name = $4
EOF
	chmod 0644 "$T/$1.conf"
}
confs() {
	conf admin "$SLAPD_ADMIN_DN" adminpw adminhost
	conf hosta "$SLAPD_HOST_DN" hostpw host-a
}
confs
# adm ARGS...: ldapadmin with the administrator's configuration.
adm() {
	OUT=$($VG "$BIN/ldapadmin" "$T/admin.conf" "$@" 2>&1)
	RC=$?
	vgcheck ldapadmin
}
drive() {
	n=$1
	shift
	OUT=$("$BIN/ldapdrive" "$T/$n.conf" "$@" 2>&1)
	RC=$?
}
ld() {
	tool=$1
	shift
	OUT=$("$tool" -x -ZZ -H "$H" -D "$SLAPD_ADMIN_DN" -w adminpw "$@" 2>&1)
	RC=$?
}

# ---- 1200 users: more than a page, listed all and in name order -------------
# Added last name first, so that the directory's own order is not the
# names' order.
awk -v base="$SLAPD_BASE" 'BEGIN { for (i = 1200; i >= 1; i--) {
	n = sprintf("u%05d", i)
	printf "dn: uid=%s,%s\nobjectClass: pamRecoveryUser\nuid: %s\npamRecoveryLock: 0 0 0 0 0\n\n", n, base, n
} }' >"$T/users.ldif"
ld ldapadd -f "$T/users.ldif"
check "1200 user entries added" test "$RC" -eq 0
ld ldapsearch -LLL -s one -b "$SLAPD_BASE" "(objectClass=pamRecoveryUser)" 1.1
check "an unpaged search as the administrator stops at slapd's size limit" \
    test "$RC" -eq 4 -a "$(printf '%s\n' "$OUT" | grep -c '^dn:')" -eq 500
adm names
check "without a limit for paged searches, listing them fails (never a short list)" \
    test "$RC" -eq 2 -a -n "$(printf '%s\n' "$OUT" | grep 'Size limit exceeded.*size.prtotal')"
# What conf/ldap/README asks of the administrators' account.
slapd_stop "$T/a"
echo "limits dn.exact=\"$SLAPD_ADMIN_DN\" size.prtotal=unlimited" >>"$T/a/slapd.conf"
RC=0
slapd_start "$T/a" || RC=$?
OUT=$(cat "$T/a/slapd.log")
check "slapd restarts with the administrators' limit" test "$RC" -eq 0
H="ldap://127.0.0.1:$SLAPD_PORT/"
confs
adm names
check "names: all 1200 users, in name order" has "ok names 1200 sorted yes first u00001 last u01200"

# ---- purge: exactly what the retention says --------------------------------
adm plant pa 100 invalidated 3 3
check "pa: an invalidated batch of 3, 100 days old, its codes invalidated then" test "$RC" -eq 0
adm plant pa 100 active 4 2
check "pa: an active batch of 4, 2 used 100 days ago" test "$RC" -eq 0
printf '%s\n' "$OUT" | grep -E '^[0-9A-Z]{20}$' >"$T/pa.codes"
adm plant pb 1 active 3 0
check "pb: an active batch of 3, a day old, unused" test "$RC" -eq 0
adm plant pc 100 active 2 2
check "pc: an active batch of 2, both used 100 days ago" test "$RC" -eq 0
adm names batches
check "names with batches: 1203 users, in name order" has "ok names 1203 sorted yes first pa last u01200"
adm deep
check "check --deep before the purge: nothing wrong" has "findings 0"
check "... 1203 users, 4 batches, 12 codes" has "ok users 1203 batches 4 codes 12"
adm purge 30 2 dry
check "purge --dry-run: 7 codes, 2 batches would go" has "ok codes 7 purged 2 deleted 0"
adm purge 30 2
check "purge (retention 30 days, steps of 2): 7 codes, 2 batches purged, nothing more" \
    has "ok codes 7 purged 2 deleted 0"
check "... in more than one step" test "$(printf '%s\n' "$OUT" | sed -n 's/.* txns \([0-9]*\) .*/\1/p')" -ge 4
check "... reported per user" has "user pa codes 5 batches 1"
check "... pc's batch too" has "user pc codes 2 batches 1"
check "... 4 batches left, the 7 codes of the 2 live ones counted" has "left 4 codes_left 7"
adm purge 30 2
check "a second purge finds nothing" has "ok codes 0 purged 0 deleted 0"
adm deep
check "check --deep after the purge: nothing wrong" has "findings 0"
check "... 2 unused codes of pa, 3 of pb left" has "batches 4 codes 5"
adm batches pa
check "pa: the purged batch and the live one (2 used, purged, count as used)" \
    has "status 3 used 3 invalidated 0 count 3"
check "... the live batch" has "status 1 used 2 invalidated 0 count 4"
check "... one live batch" has "ok live 1"
adm purge 30 2 31
check "31 days on: the 2 purged cards go, nothing else" has "ok codes 0 purged 0 deleted 2"
adm deep
check "check --deep then: nothing wrong, 2 batches" has "batches 2 codes 5 findings 0"
# The login side agrees with the walks: pa's 2 used codes, whose values
# purge removed, still count as used (rec_store.h), as on LMDB.
drive hosta view pa
check "a host's view of pa: 2 codes left, both unused, and 2 counted used" \
    has "ok batch 1 codes 2 unused 2 used 0 invalid 0"
check "... the batch counts the purged 2 as used" has "counted used 2 invalid 0"
drive hosta mark pa 1 used
check "marking a purged slot: used, and 2 unused left" has "outcome used remaining 2"
drive hosta auth pa "$(sed -n 3p "$T/pa.codes")"
check "a login with pa's third code: 1 left, not 3" has "ok slot 3 remaining 1"

# ---- the audit purge: exactly the events older than the cutoff -------------
adm events-old u00001 700 100
check "700 events of 100 days ago" test "$RC" -eq 0
adm events-old u00002 5 1
check "5 events of a day ago" test "$RC" -eq 0
adm counts
before=$(printf '%s\n' "$OUT" | sed -n 's/.* events \([0-9]*\)$/\1/p')
check "the trail holds them (more than a page)" test "${before:-0}" -ge 705
adm audit-purge 30 250 dry
check "audit --purge --dry-run: would delete the 700" has "ok deleted 700"
adm audit-purge 30 250
check "audit --purge (30 days, steps of 250): deleted the 700" has "ok deleted 700"
adm counts
check "... and no other event" test "$(printf '%s\n' "$OUT" | sed -n 's/.* events \([0-9]*\)$/\1/p')" -eq $((before - 700))
adm audit-purge 30 250
check "a second audit purge deletes nothing" has "ok deleted 0"
adm events u00002
check "one user's events: read alone, oldest first, each with its host" \
    has "ok events 5 ordered yes"
check "... the host that recorded them" has "admin u00002 adminhost"

# ---- forget: nothing a login can use, the events stay ----------------------
drive admin gen fz 3
printf '%s\n' "$OUT" | grep -E '^[0-9A-Z]{20}$' >"$T/fz.codes"
check "fz has 3 codes" test "$RC" -eq 0 -a "$(grep -c . "$T/fz.codes")" -eq 3
drive hosta login fz "$(sed -n 1p "$T/fz.codes")"
check "a host logs fz in with the first" test "$RC" -eq 0
drive hosta audit fz code_used sshd
check "host-a records it" test "$RC" -eq 0
adm forget fz dry
check "forget --dry-run: 5 records (3 codes, the batch, the user)" has "ok removed 5"
adm forget fz
check "forget: the same 5" has "ok removed 5"
ld ldapsearch -LLL -b "uid=fz,$SLAPD_BASE" "(objectClass=pamRecoveryBatch)" 1.1
check "fz's batch entries are gone" test "$RC" -eq 0 -a -z "$(printf '%s\n' "$OUT" | grep '^dn:')"
ld ldapsearch -LLL -o ldif-wrap=no -b "uid=fz,$SLAPD_BASE" -s base
check "fz's entry stays, a holder without active batch or lockout" \
    test "$RC" -eq 0 -a -z "$(printf '%s\n' "$OUT" | grep -E '^pamRecovery(ActiveBatch|Lock|GenLock|LastUsed|LastGenerated):')"
adm names batches
check "fz is no longer listed" has "ok names 1203 sorted yes"
adm events fz
check "fz's events stay: the use and the forget" has "forgotten fz adminhost"
check "... with the host of each" has "code_used fz host-a"
adm forget fz
check "a second forget finds nothing" has "ok removed 0"
# A holder is no user record, as a forgotten user has none on LMDB: the
# login side sees no user, and a failed login writes nothing that would
# make fz a user again (LMDB's pre-count does not create a record).
drive hosta view fz
check "the store's view of fz: no record (missing), as LMDB's" has "error missing"
drive hosta auth fz "$(sed -n 2p "$T/fz.codes")"
check "a login with one of fz's codes fails, as a user not enrolled" \
    has "notenrolled"
drive hosta lock fz login
check "a lockout update of fz finds no record" has "error missing"
ld ldapsearch -LLL -o ldif-wrap=no -b "uid=fz,$SLAPD_BASE" -s base
check "... and fz's entry is still a bare holder" \
    test "$RC" -eq 0 -a -z "$(printf '%s\n' "$OUT" | grep -E '^pamRecovery(ActiveBatch|Lock|GenLock|LastUsed|LastGenerated):')"
adm names
check "... so fz is not listed again" has "ok names 1203 sorted yes"
adm deep
check "check --deep after all: nothing wrong" has "findings 0"

# ---- a forget that stopped half-way: closed, and the next one finishes ----
adm plant hz 1 active 2 0
hzb=$(printf '%s\n' "$OUT" | sed -n 's/^ok batch //p')
check "hz has a batch of 2" test "$RC" -eq 0 -a -n "$hzb"
# What forget's first two steps leave: the batch invalidated, the user's
# entry a holder; the crash comes before the batch is deleted.
printf 'dn: pamRecoveryBatchId=%s,uid=hz,%s\nchangetype: modify\nreplace: pamRecoveryBatchStatus\npamRecoveryBatchStatus: 2\n\ndn: uid=hz,%s\nchangetype: modify\nreplace: pamRecoveryActiveBatch\n-\nreplace: pamRecoveryLock\n-\nreplace: pamRecoveryLastGenerated\n' \
    "$hzb" "$SLAPD_BASE" "$SLAPD_BASE" >"$T/half.ldif"
ld ldapmodify -f "$T/half.ldif"
check "forget stopped after its second step" test "$RC" -eq 0
drive hosta view hz
check "a host finds no record for hz" has "error missing"
adm names
check "hz is no user record" hasnt "last hz"
adm names batches
check "but its batch is found under its name, after the users'" has "ok names 1204 sorted no first pa last hz"
adm deep
check "check --deep: a batch without its user" has "batch of a user the store has no record of"
adm forget hz
check "forget again: the 2 codes and the batch" has "ok removed 3"
adm deep
check "check --deep then: nothing wrong" has "findings 0"

# A record given to a holder (REC_WRITE_CREATE, as LMDB's create): the
# states are added to the entry that is there, and the user is back.
drive hosta lock fz login create
check "a lockout update with create on fz's holder writes a record" \
    has "ok login 1 gen 0"
adm names
check "... and fz is a user again" has "first fz"

# ---- events of no user: purge's run, through the admin tool ----------------
# They go directly below ldap_base (conf/ldap/README), which the shipped
# ACLs let the administrators write and the hosts not.
adm plant pd 100 active 2 1
check "pd: an active batch of 2, 1 used 100 days ago" test "$RC" -eq 0
{ echo "store = ldap"; cat "$T/admin.conf"; } >"$T/tool.conf"
chmod 0644 "$T/tool.conf"
OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/tool.conf" purge 2>&1)
RC=$?
vgcheck pam-recovery-admin
check "pam-recovery-admin purge on the directory store: pd's used code" \
    test "$RC" -eq 0
OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/tool.conf" audit 2>&1)
RC=$?
vgcheck pam-recovery-admin
check "audit shows the purge's run, with no user, by this host" \
    has "purged user=- host=adminhost service=pam-recovery-admin rhost=- tty=- batch=- actor="
ld ldapsearch -LLL -s one -b "$SLAPD_BASE" "(objectClass=pamRecoveryEvent)" pamRecoveryEventType
check "... recorded directly below ldap_base" \
    test "$RC" -eq 0 -a -n "$(printf '%s\n' "$OUT" | grep '^pamRecoveryEventType: purged')"
printf 'dn: pamRecoveryEventId=0-0,%s\nobjectClass: pamRecoveryEvent\npamRecoveryEventId: 0-0\npamRecoveryEventTime: 1\npamRecoveryEventType: purged\npamRecoveryHost: host-a\n' \
    "$SLAPD_BASE" >"$T/topev.ldif"
OUT=$(ldapadd -x -ZZ -H "$H" -D "$SLAPD_HOST_DN" -w hostpw -f "$T/topev.ldif" 2>&1)
RC=$?
check "a host cannot add an event there" test "$RC" -eq 50

echo "# the suite took $(($(date +%s) - t0)) s"
finish
