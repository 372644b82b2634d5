#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_ldap_issue.sh: generate and invalidate of the directory store, through
# layer 4 (rec_issue.c) over rec_store_open_ldap (tests/ldapissue.c),
# against a throw-away slapd (tests/slapd.sh): a batch generated is active
# and its codes verify by their hashes; a second one replaces it and the
# old batch is out of force on the server (status 2, its codes marked
# invalidated, a host holding a stale copy cannot consume one); a
# generate stopped after its first step leaves no usable code and the
# next one goes on from there; of 10 generates at once with
# generate_cooldown one succeeds, and 10 racing replaces leave one active
# batch; one, several and all codes invalidated; export marks; a staged
# batch discarded; the edge returns of stage and activate.  Everything is read back through the view
# and, as the administrator, with ldapsearch.
set -u
suite=e2e_ldap_issue
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
D=$BIN/ldapissue
export LDAPTLS_CACERT="$T/a/ca.pem" LDAPTLS_REQCERT=demand
mkdir "$T/a"

RC=0
{ slapd_pki "$T/a" && slapd_conf "$T/a" && slapd_start "$T/a"; } || RC=$?
slapd_started "$RC" "$T/a" "a throw-away slapd with the shipped schema and ACLs starts"
H="ldap://127.0.0.1:$SLAPD_PORT/"
printf 'adminpw\n' >"$T/admin.pw"
chmod 0600 "$T/admin.pw"
# conf NAME [KEY=VALUE...]: the administrator's configuration.
conf() {
	n=$1
	shift
	{
		echo "ldap_uri = $H"
		echo "ldap_base = $SLAPD_BASE"
		echo "ldap_bind_dn = $SLAPD_ADMIN_DN"
		echo "ldap_bind_pw_file = $T/admin.pw"
		echo "ldap_ca_file = $T/a/ca.pem"
		echo "ldap_timeout = 5"
		echo "kdf_opslimit = 1"
		echo "kdf_memlimit = 8K"
		echo "host_name = adminhost"
		for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
	} >"$T/$n.conf"
	chmod 0644 "$T/$n.conf"
}
conf admin generate_cooldown=0
conf cool generate_cooldown=3600
# drive CONF ARGS...: ldapissue; output in OUT (stderr after it), status RC.
drive() {
	n=$1
	shift
	OUT=$($VG "$D" "$T/$n.conf" "$@" 2>"$T/drive.err")
	RC=$?
	OUT="$OUT
$(cat "$T/drive.err")"
	vgcheck ldapissue
}
# dir ARGS...: ldapsearch as the administrator below the recovery subtree.
dir() {
	ldapsearch -o ldif-wrap=no -x -ZZ -H "$H" -D "$SLAPD_ADMIN_DN" -w adminpw \
	    -LLL -b "$SLAPD_BASE" "$@" 2>&1
}
# attr BATCH ATTR: the values of ATTR of batch BATCH (any user), one a line.
attr() { dir "(pamRecoveryBatchId=$1)" "$2" | sed -n "s/^$2: //p"; }
count_vals() { attr "$1" "$2" | grep -c .; }

# ---- Generate: an active batch whose codes verify -------------------------
drive admin gen alice 5
B1=$(printf '%s\n' "$OUT" | sed -n 's/^ok batch //p')
printf '%s\n' "$OUT" | grep -E '^[0-9A-Z]{20}$' >"$T/alice1.codes"
check "generate: alice gets a batch of 5 codes" test "$RC" -eq 0 -a -n "$B1" -a "$(grep -c . "$T/alice1.codes")" -eq 5
drive admin view alice
check "view: the batch is alice's active one, 5 unused" has "ok batch $B1 have 1 status 1 count 5 used 0 invalid 0 exported 0 codes uuuuu last_generated set"
OUT=$($VG "$D" "$T/admin.conf" verify alice <"$T/alice1.codes" 2>&1)
check "each of the 5 codes verifies against its stored hash" has "verified 5 of 5"
OUT=$(dir "(pamRecoveryBatchId=$B1)" pamRecoveryBatchStatus)
check "directory: the batch entry has status 1 (active)" has "pamRecoveryBatchStatus: 1"
OUT=$(dir "(uid=alice)" pamRecoveryActiveBatch pamRecoveryGenLock)
check "directory: alice's entry names it" has "pamRecoveryActiveBatch: $B1"
drive admin gen alice 5
check "generate again without replace: refused, codes are left" has "error exists"

# ---- Replace: the old batch is out of force on the server -----------------
# A host that read alice's batch before the replace, and consumes after.
mkfifo "$T/stale.in"
$VG "$D" "$T/admin.conf" stale alice <"$T/stale.in" >"$T/stale.out" 2>&1 &
SPID=$!
exec 3>"$T/stale.in"
i=0
while ! grep -q '^ready' "$T/stale.out" 2>/dev/null && [ "$i" -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
drive admin gen alice 4 replace
B2=$(printf '%s\n' "$OUT" | sed -n 's/^ok batch //p')
printf '%s\n' "$OUT" | grep -E '^[0-9A-Z]{20}$' >"$T/alice2.codes"
check "generate --replace: a new batch of 4" test "$RC" -eq 0 -a -n "$B2" -a "$B2" != "$B1"
echo go >&3
exec 3>&-
wait "$SPID"
OUT=$(cat "$T/stale.out")
check "a host holding the old batch, read before the replace, cannot consume its code" has "refused invalidated"
check "... and had read it while it was active" has "ready $B1"
check "directory: the old batch has status 2 (invalidated)" test "$(attr "$B1" pamRecoveryBatchStatus)" = 2
check "directory: its 5 codes are marked invalidated, none unused" \
    test "$(count_vals "$B1" pamRecoveryInvalidCode)" -eq 5 -a "$(count_vals "$B1" pamRecoveryCode)" -eq 0
check "directory: the new batch has status 1" test "$(attr "$B2" pamRecoveryBatchStatus)" = 1
OUT=$(dir "(uid=alice)" pamRecoveryActiveBatch)
check "directory: alice's entry names the new batch" has "pamRecoveryActiveBatch: $B2"
drive admin view alice
check "view: the new batch, 4 unused" has "ok batch $B2 have 1 status 1 count 4 used 0 invalid 0 exported 0 codes uuuu"
OUT=$($VG "$D" "$T/admin.conf" verify alice <"$T/alice1.codes" 2>&1)
check "the old codes match nothing in force" has "verified 0 of 5"
OUT=$($VG "$D" "$T/admin.conf" verify alice <"$T/alice2.codes" 2>&1)
check "the new codes verify" has "verified 4 of 4"
OUT=$(dir "(&(objectClass=pamRecoveryEvent)(pamRecoveryEventType=generated))" pamRecoveryEventBatch)
check "audit: a generated event for each batch" has "pamRecoveryEventBatch: $B1" && has "pamRecoveryEventBatch: $B2"

# ---- A generate that stopped after its first step fails closed -----------
drive admin gen henry 3
H1=$(printf '%s\n' "$OUT" | sed -n 's/^ok batch //p')
printf '%s\n' "$OUT" | grep -E '^[0-9A-Z]{20}$' >"$T/henry1.codes"
drive admin stop-after-1 henry
check "an activation stopped after step 1 (old batch invalidated, user not switched)" test "$RC" -eq 0
drive admin view henry
check "view: henry still names the old batch, now status 2, every code invalidated" \
    has "ok batch $H1 have 1 status 2 count 3 used 0 invalid 3"
OUT=$($VG "$D" "$T/admin.conf" verify henry <"$T/henry1.codes" 2>&1)
check "... none of its codes is usable any more" has "verified 0 of 3"
check "directory: no unused code value left to consume" test "$(count_vals "$H1" pamRecoveryCode)" -eq 0
drive admin gen henry 3
H2=$(printf '%s\n' "$OUT" | sed -n 's/^ok batch //p')
check "the next generate goes on from there (no replace needed)" test "$RC" -eq 0 -a -n "$H2"
drive admin view henry
check "view: henry's new batch active" has "ok batch $H2 have 1 status 1 count 3 used 0 invalid 0"

# ---- generate_cooldown holds over parallel generates ----------------------
i=0
while [ "$i" -lt 10 ]; do
	"$D" "$T/cool.conf" gen carol 3 replace >"$T/par.$i" 2>&1 &
	i=$((i + 1))
done
wait
OUT=$(cat "$T"/par.*)
check "10 generates at once for carol, generate_cooldown set: exactly 1 succeeds" \
    test "$(cat "$T"/par.* | grep -c '^ok batch')" -eq 1
check "... the 9 others are told to wait" test "$(cat "$T"/par.* | grep -c '^error cooldown')" -eq 9
OUT=$(dir "(&(objectClass=pamRecoveryBatch)(pamRecoveryBatchStatus=1))" pamRecoveryBatchId | grep -c "uid=carol")
check "directory: carol has exactly one active batch" test "$OUT" -eq 1
OUT=$(dir "(&(objectClass=pamRecoveryBatch)(pamRecoveryBatchStatus=4))" dn | grep -c "uid=carol")
check "directory: no staged batch of the losers is left behind" test "$OUT" -eq 0
drive admin view carol
check "view: carol's batch, 3 unused" has "status 1 count 3 used 0 invalid 0"
# par CONF USER: 10 generates with replace at once; their outputs in $T/par.*.
par() {
	rm -f "$T"/par.*
	i=0
	while [ "$i" -lt 10 ]; do
		"$D" "$T/$1.conf" gen "$2" 3 replace >"$T/par.$i" 2>&1 &
		i=$((i + 1))
	done
	wait
	OUT=$(cat "$T"/par.*)
}
# batches USER STATUS: how many batches of USER have STATUS.
batches() {
	dir "(&(objectClass=pamRecoveryBatch)(pamRecoveryBatchStatus=$2))" dn | grep -c "uid=$1,"
}
drive admin gen frank 3
F1=$(printf '%s\n' "$OUT" | sed -n 's/^ok batch //p')
par cool frank
check "frank has a batch; 10 replacing generates at once with the cooldown: 1 succeeds" \
    test "$(cat "$T"/par.* | grep -c '^ok batch')" -eq 1 -a "$(cat "$T"/par.* | grep -c '^error cooldown')" -eq 9
check "directory: frank's old batch is invalidated, one active, none staged" \
    test "$(attr "$F1" pamRecoveryBatchStatus)" = 2 -a "$(batches frank 1)" -eq 1 -a "$(batches frank 4)" -eq 0
par admin gina
N=$(cat "$T"/par.* | grep -c '^ok batch')
check "10 replacing generates at once without a cooldown: each ends ok or lost, none half-done ($N ok)" \
    test "$N" -ge 1 -a "$(cat "$T"/par.* | grep -c '^ok batch\|^error')" -eq 10
A=$(dir "(uid=gina)" pamRecoveryActiveBatch | sed -n 's/^pamRecoveryActiveBatch: //p')
check "directory: gina has one active batch, the one her entry names; the rest invalidated, none staged" \
    test "$(batches gina 1)" -eq 1 -a "$(attr "$A" pamRecoveryBatchStatus)" = 1 -a \
    "$(batches gina 2)" -eq $((N - 1)) -a "$(batches gina 4)" -eq 0
cat "$T"/par.* | grep '^ok batch\|^error' | sed 's/^ok batch .*/ok/' | sort | uniq -c | sed 's/^/# gina: /'

# ---- Invalidate: one, several, all ----------------------------------------
drive admin inval alice 2
check "invalidate slot 2" test "$RC" -eq 0
drive admin view alice
check "view: slot 2 invalidated, the others unused" has "count 4 used 0 invalid 1 exported 0 codes uiuu"
check "directory: one invalid mark, 3 unused values" \
    test "$(count_vals "$B2" pamRecoveryInvalidCode)" -eq 1 -a "$(count_vals "$B2" pamRecoveryCode)" -eq 3
drive admin inval alice 1 3 3 2
check "invalidate slots 1, 3 (twice) and 2 (already invalid)" test "$RC" -eq 0
drive admin view alice
check "view: slots 1-3 invalidated, 4 unused, batch still active" has "status 1 count 4 used 0 invalid 3 exported 0 codes iiiu"
drive admin inval alice 5
check "invalidate slot 5 of a batch of 4: not found, nothing written" has "error notfound"
drive admin view alice
check "... slot 4 still unused" has "codes iiiu"
drive admin inval alice 2
check "invalidate a code already invalidated: nothing to do, ok" test "$RC" -eq 0
N=$(dir "(&(objectClass=pamRecoveryEvent)(pamRecoveryEventType=invalidated))" dn | grep -c "uid=alice")
check "audit: 2 invalidated events (the no-op wrote none)" test "$N" -eq 2
drive admin inval alice
check "invalidate the whole batch" test "$RC" -eq 0
check "directory: the batch has status 2" test "$(attr "$B2" pamRecoveryBatchStatus)" = 2
check "directory: all 4 codes marked invalidated" test "$(count_vals "$B2" pamRecoveryInvalidCode)" -eq 4
OUT=$(dir "(uid=alice)" pamRecoveryActiveBatch)
check "directory: alice names no active batch" hasnt "pamRecoveryActiveBatch:"
drive admin view alice
check "view: no active batch" has "ok batch 0 have 0"
drive admin inval alice
check "invalidate with no active batch: nostore" has "error nostore"
drive admin inval nobody 1
check "invalidate for a user without entry: nostore" has "error nostore"

# ---- Export marks ----------------------------------------------------------
drive admin gen alice 3
B3=$(printf '%s\n' "$OUT" | sed -n 's/^ok batch //p')
check "generate after the whole batch went: no replace needed" test "$RC" -eq 0 -a -n "$B3"
drive admin export alice "$B3" 4
check "export mark csv (4)" test "$RC" -eq 0
drive admin export alice "$B3" 17
check "export mark terminal+pdf (17)" test "$RC" -eq 0
drive admin view alice
check "view: the marks are or'ed: 21" has "exported 21"
check "directory: one pamRecoveryExported value, 21" test "$(attr "$B3" pamRecoveryExported)" = 21
drive admin export alice 12345 1
check "export mark of no such batch: notfound" has "error notfound"
drive admin export alice "$B1" 2
check "an old batch can be marked too" test "$RC" -eq 0 -a "$(attr "$B1" pamRecoveryExported)" = 2

# ---- Stage, discard, and the edges of activate ----------------------------
drive admin stage alice 2
S=$(printf '%s\n' "$OUT" | sed -n 's/^ok staged //p')
check "stage a batch of 2" test "$RC" -eq 0 -a -n "$S"
check "directory: staged with status 4 and its 2 code values" \
    test "$(attr "$S" pamRecoveryBatchStatus)" = 4 -a "$(count_vals "$S" pamRecoveryCode)" -eq 2
drive admin view alice
check "view: the staged batch is not in force, B3 still is" has "ok batch $B3 have 1 status 1 count 3"
drive admin discard alice "$S"
check "discard the staged batch" test "$RC" -eq 0
check "directory: its entry is gone" test -z "$(attr "$S" pamRecoveryBatchStatus)"
drive admin discard alice "$S"
check "discard again: ok (nothing there)" test "$RC" -eq 0
drive admin discard alice "$B3"
check "discard of the active batch: ok, and it stays" test "$RC" -eq 0 -a "$(attr "$B3" pamRecoveryBatchStatus)" = 1
drive admin activate alice "$S"
check "activate a batch that is not there: corrupt" has "error corrupt"
drive admin edges dave
OUT=$(printf '%s\n' "$OUT" | grep -v '^ldapissue:')
check "edges: stage ok; the same id again: internal" has "stage ok" && has "stage-again internal"
check "edges: activate ok; again (not staged): internal" has "activate ok" && has "activate-again internal"
check "edges: discard of the active batch ok; activate no batch: corrupt" has "discard-active ok" && has "activate-none corrupt"
check "edges: export mark of no batch: notfound" has "export-none notfound"
drive admin view dave
check "view: dave's batch of 2 active" has "status 1 count 2 used 0 invalid 0"
drive admin stage erin 2
check "stage for a user without an entry creates it" test "$RC" -eq 0 -a -n "$(dir "(uid=erin)" dn | grep uid=erin)"
drive admin view erin
check "view: erin has an entry and no active batch" has "ok batch 0 have 0"

finish
