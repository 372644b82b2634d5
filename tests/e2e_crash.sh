#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_crash.sh: crash consistency (issue #8).  A fixed pseudo-random loop of
# generate, login, invalidate and purge on a system store, about 30% of them
# killed with SIGKILL 0-30 ms in, while a companion user logs in alongside;
# afterwards the store opens, check --deep finds the counters matching the
# codes, no code was consumed twice, and no code ever accepted works again.
#
# CRASH_SEED and CRASH_OPS replay or stretch a run (the seed fixes every
# choice; where the kills land is up to the clock, so ops.log, kept on
# failure, says what happened).  The plain run has 600 operations; the
# ASan+UBSan run, whose every operation costs several times more, 150 (each
# run's memory checks see every kind of operation long before that); under
# valgrind ($VG) 20, and the killed ones run without valgrind: its start-up
# alone outlasts the kill delay, so the kill would only ever hit valgrind.  The
# companion, the bookkeeping reads and the final logins run without it too;
# check --deep, show and audit run under it.
set -u
suite=e2e_crash
. tests/lib.sh

SEED=${CRASH_SEED:-20261123}
if [ -n "$VG" ]; then
	OPS=${CRASH_OPS:-20}
else
	case "${CHECK_RUN:-plain}" in
	asan*)	OPS=${CRASH_OPS:-150} ;;
	*)	OPS=${CRASH_OPS:-600} ;;
	esac
fi

T=$(mktemp -d) || exit 1
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
mkdir "$T/pam.d"
mkdir -m 0700 "$T/sys"
# max_attempts high: the loop tries used codes on purpose, and a lockout
# would refuse every code, hiding what this test looks for.
cat >"$T/conf" <<CONF
store = $T/sys
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
max_attempts = 1000
CONF
chmod 0644 "$T/conf"
echo "auth required $BIN/pam_recovery.so conf=$T/conf" >"$T/pam.d/rt"
: >"$T/problems"
: >"$T/ops.log"
OUT=

# Three users for the loop, a fourth for the companion.
ME=$(id -un)
set -- "$ME" $(getent passwd | cut -d: -f1 | grep -vx "$ME" | head -n 3)
if [ $# -lt 4 ]; then
	echo "# e2e_crash: needs four users in the password database"
	finish
	exit
fi
U1=$1 U2=$2 U3=$3 C=$4
for k in 1 2 3; do : >"$T/codes.$k"; : >"$T/spent.$k"; : >"$T/dead.$k"; echo none >"$T/batch.$k"; done

# rand N: the next number of a 31-bit LCG, in 0..N-1, into R.
rnd=$SEED
rand() {
	rnd=$(((rnd * 1103515245 + 12345) % 2147483648))
	R=$(((rnd / 65536) % $1))
}
problem() { printf 'op %s: %s\n' "$i" "$(printf '%s' "$1" | tr '\n' ' ')" >>"$T/problems"; }
admin() { "$BIN/pam-recovery-admin" -c "$T/conf" "$@"; }
vadmin() {
	OUT=$($VG "$BIN/pam-recovery-admin" -c "$T/conf" "$@" 2>"$T/err")
	RC=$?
	vgcheck pam-recovery-admin
	sancheck "$T/err"
}
sancheck() {
	if grep -qE 'Sanitizer|runtime error:' "$1"; then
		failed "sanitizers clean" "$(cat "$1")"
	fi
}

# Each operation lives 2-5 ms here (longer under the sanitizers), and
# sleep(1) alone takes 2 ms to start, so the delay D (0..30) is spent
# spinning in the shell for D <= 20, spread over the first 5 ms, and in
# sleep(1) for 3-30 ms above.
j=0
t0=$(date +%s%N)
while [ "$j" -lt 20000 ]; do j=$((j + 1)); done
SPIN=$((20000 * 1000000 / ($(date +%s%N) - t0 + 1)))	# iterations per ms
pause() {
	if [ "$1" -le 20 ]; then
		j=$(($1 * SPIN / 4))
		while [ "$j" -gt 0 ]; do j=$((j - 1)); done
	else
		sleep "$(printf '0.%03d' $((($1 - 20) * 3)))"
	fi
}

# run KILL D CMD...: CMD in the background, killed with SIGKILL after
# pause D when KILL is 1.  Output in $T/op.out, status in RC, KILLED=1 when
# the kill came first.
run() {
	if [ "$1" -eq 1 ]; then
		shift
		d=$1
		shift
		"$@" >"$T/op.out" 2>&1 &
		pid=$!
		pause "$d"
		kill -9 "$pid" 2>/dev/null
	else
		shift 2
		$VG "$@" >"$T/op.out" 2>&1 &
		pid=$!
	fi
	# The shell's own "Killed" notice goes nowhere.
	{ wait "$pid"; } 2>/dev/null
	RC=$?
	KILLED=0
	[ "$RC" -eq 137 ] && KILLED=1
	if [ "$KILLED" -eq 0 ]; then
		[ -n "$VG" ] && [ "$RC" -eq 99 ] && problem "valgrind: $(cat "$T/op.out")"
		grep -qE 'Sanitizer|runtime error:' "$T/op.out" && problem "sanitizer: $(cat "$T/op.out")"
	fi
	return 0
}

# Per loop user k: codes.$k holds the codes of the batch last generated,
# as "S|M batch slot code": S (sure) when unused, M (maybe) when a killed
# operation may have used or invalidated it; spent.$k the codes seen
# accepted and dead.$k those seen refused or invalidated ("batch slot code"):
# neither may ever work again.
demote() {	# demote k [slot]: S codes of k (or only slot) become M
	awk -v s="${2:-}" '$1 == "S" && (s == "" || $3 == s) { $1 = "M" } { print }' \
	    "$T/codes.$1" >"$T/tmp" && mv "$T/tmp" "$T/codes.$1"
}
bury() {	# bury k [slot]: codes of k (or only slot) go to dead.$k
	awk -v s="${2:-}" 's == "" || $3 == s { print $2, $3, $4 }' "$T/codes.$1" >>"$T/dead.$1"
	awk -v s="${2:-}" '!(s == "" || $3 == s)' "$T/codes.$1" >"$T/tmp" && mv "$T/tmp" "$T/codes.$1"
}
accepted() { [ "$RC" -eq 0 ] && grep -q "auth: PAM_SUCCESS" "$T/op.out"; }

op_generate() {
	run "$dokill" "$delay" "$BIN/pam-recovery-admin" -c "$T/conf" generate "$u" -n 5 -y --format csv
	if [ "$KILLED" -eq 1 ]; then
		demote "$k"
	elif [ "$RC" -ne 0 ]; then
		problem "generate $u failed ($RC): $(cat "$T/op.out")"
		demote "$k"
	else
		bury "$k"
		b=$(admin show "$u" --json | sed -n 's/.*"batch":"\([0-9a-f]*\)".*/\1/p')
		echo "${b:-none}" >"$T/batch.$k"
		grep '^[0-9]*,' "$T/op.out" | awk -F, -v b="${b:-none}" '{ print "S", b, $1, $2 }' >"$T/codes.$k"
	fi
}

# login_fresh: a code that may be unused, removed from the list for now.
op_login_fresh() {
	n=$(wc -l <"$T/codes.$k")
	line=$(sed -n "$((pick % n + 1))p" "$T/codes.$k")
	sed "$((pick % n + 1))d" "$T/codes.$k" >"$T/tmp" && mv "$T/tmp" "$T/codes.$k"
	set -- $line
	run "$dokill" "$delay" "$BIN/pamdrive" "$T/pam.d" rt "$u" auth -- "$4"
	if [ "$KILLED" -eq 1 ]; then
		echo "M $2 $3 $4" >>"$T/codes.$k"
	elif accepted; then
		grep -qF " $4" "$T/spent.$k" "$T/dead.$k" &&
		    problem "$u: code $2 #$3 accepted again"
		echo "$2 $3 $4" >>"$T/spent.$k"
	elif [ "$RC" -eq 7 ]; then
		[ "$1" = S ] && problem "$u: unused code $2 #$3 refused: $(cat "$T/op.out")"
		echo "$2 $3 $4" >>"$T/dead.$k"
	else
		problem "$u: login failed ($RC): $(cat "$T/op.out")"
		echo "M $2 $3 $4" >>"$T/codes.$k"
	fi
	RESULT="$1 #$3"
}

# login_used: a code seen accepted or refused; it must be refused again.
op_login_used() {
	cat "$T/spent.$k" "$T/dead.$k" >"$T/tmp"
	n=$(wc -l <"$T/tmp")
	set -- $(sed -n "$((pick % n + 1))p" "$T/tmp")
	run "$dokill" "$delay" "$BIN/pamdrive" "$T/pam.d" rt "$u" auth -- "$3"
	if [ "$KILLED" -eq 0 ] && accepted; then
		problem "$u: used or invalidated code $1 #$2 accepted again"
	elif [ "$KILLED" -eq 0 ] && [ "$RC" -ne 7 ]; then
		problem "$u: login failed ($RC): $(cat "$T/op.out")"
	fi
	RESULT="#$2"
}

op_invalidate() {
	if [ $((pick % 8)) -eq 0 ]; then
		run "$dokill" "$delay" "$BIN/pam-recovery-admin" -c "$T/conf" invalidate "$u" --all -y
		slot=
	else
		slot=$((pick % 5 + 1))
		run "$dokill" "$delay" "$BIN/pam-recovery-admin" -c "$T/conf" invalidate "$u" "$slot"
	fi
	if [ "$KILLED" -eq 1 ]; then
		demote "$k" "$slot"
	elif [ "$RC" -eq 0 ]; then
		bury "$k" "$slot"
	elif grep -q "no active recovery codes" "$T/op.out"; then
		# Only a killed operation can have ended the batch unseen.
		grep -q '^S' "$T/codes.$k" &&
		    problem "invalidate $u: no active batch, but $(grep -c '^S' "$T/codes.$k") sure codes"
		bury "$k"
	else
		problem "invalidate $u ${slot:---all} failed ($RC): $(cat "$T/op.out")"
		demote "$k" "$slot"
	fi
	RESULT=${slot:---all}
}

op_purge() {
	run "$dokill" "$delay" "$BIN/pam-recovery-admin" -c "$T/conf" purge --retention-days 0 --batch-size $((pick % 3 + 1))
	[ "$KILLED" -eq 0 ] && [ "$RC" -ne 0 ] && problem "purge failed ($RC): $(cat "$T/op.out")"
	RESULT=
}

# The companion logs in with fresh codes of its own the whole time, never
# killed: every one must work, whatever the kills around it did.  It also
# keeps the store open in a second process now and then, so that a kill
# does not always leave the next opener alone with the lock file (which
# resets LMDB's reader table); it cannot hold it open for good with the
# shipped programs, so a table filled by stale readers is out of reach.
companion() {
	n=0
	while [ ! -e "$T/stop" ]; do
		if [ $((n % 100)) -eq 0 ] && ! admin generate "$C" -n 100 -y --format csv >"$T/comp.csv" 2>"$T/comp.err"; then
			echo "generate: $(cat "$T/comp.err")" >>"$T/comp.bad"
			break
		fi
		out=$("$BIN/pamdrive" "$T/pam.d" rt "$C" auth -- "$(code $((n % 100 + 1)) "$T/comp.csv")" 2>&1)
		case $out in
		*Sanitizer* | *"runtime error:"*) printf 'login %s: %s\n' "$n" "$out" >>"$T/comp.bad" ;;
		*"auth: PAM_SUCCESS"*) ;;
		*) printf 'login %s: %s\n' "$n" "$out" >>"$T/comp.bad" ;;
		esac
		n=$((n + 1))
	done
	echo "$n" >"$T/comp.n"
}

# --- the loop ---------------------------------------------------------------------
echo "# seed $SEED, $OPS operations"
start=$(date +%s)
companion &
cpid=$!
kills=0
: >"$T/killed"
i=0
while [ "$i" -lt "$OPS" ]; do
	i=$((i + 1))
	# The same five draws for every operation, whatever it turns out to be.
	rand 100; what=$R
	rand 3; k=$((R + 1))
	rand 1000; pick=$R
	rand 100; dokill=0; [ "$R" -lt 30 ] && dokill=1
	rand 31; delay=$R
	eval "u=\$U$k"
	if [ "$what" -lt 15 ]; then
		op=generate
	elif [ "$what" -lt 50 ]; then
		op=login_fresh
	elif [ "$what" -lt 65 ]; then
		op=login_used
	elif [ "$what" -lt 80 ]; then
		op=invalidate
	else
		op=purge
	fi
	# Without the codes it needs, a login becomes the other kind, or a
	# generate.
	if [ "$op" = login_used ] && [ ! -s "$T/spent.$k" ] && [ ! -s "$T/dead.$k" ]; then
		op=login_fresh
	fi
	if [ "$op" = login_fresh ] && [ ! -s "$T/codes.$k" ]; then
		op=generate
	fi
	RESULT=
	"op_$op"
	[ "$KILLED" -eq 1 ] && kills=$((kills + 1)) && echo "$op" >>"$T/killed"
	printf '%s %s %s %s kill=%s/%s rc=%s\n' "$i" "$op" "$u" "$RESULT" "$dokill" "$delay" "$RC" >>"$T/ops.log"
done
touch "$T/stop"
wait "$cpid"
loop_s=$(($(date +%s) - start))
echo "# $OPS operations, $kills killed before they ended, in ${loop_s}s; companion logins: $(cat "$T/comp.n" 2>/dev/null)"
OUT=$(head -n 20 "$T/problems")
check "every operation not killed did what it should" test ! -s "$T/problems"
check "the kills hit (some operations died before they ended)" test "$kills" -gt 0
OUT=$(head -n 5 "$T/comp.bad" 2>/dev/null)
check "the companion's logins all worked alongside the kills" \
    sh -c 'test ! -e "$0/comp.bad" && test "$(cat "$0/comp.n")" -gt 0' "$T"

# --- afterwards -------------------------------------------------------------------
vadmin check --deep
check "check --deep: exit 0" test "$RC" -eq 0
check "check --deep: every invariant holds" sh -c 'printf "%s\n" "$0" | grep -q "(deep): .*the counters match the codes" && printf "%s\n" "$0" | grep -q " 0 failures"' "$OUT"
vadmin check --deep --json
check "check --deep --json: no violations" sh -c 'printf "%s" "$0" | grep -q "\"deep\":{\"stores\":1,\"violations\":0}"' "$OUT"

# No code was consumed twice, and each one seen accepted was consumed once.
admin audit | sed -n 's/.* code_used user=\([^ ]*\) .* batch=\([0-9a-f]*\) slot=\([0-9]*\) .*/\1 \2 \3/p' | sort >"$T/used.ev"
check "audit: no code was consumed twice" test -z "$(uniq -d "$T/used.ev")"
ok=1
for k in 1 2 3; do
	eval "u=\$U$k"
	while read -r b s c; do
		[ "$(grep -cx "$u $b $s" "$T/used.ev")" -eq 1 ] || { ok=0; echo "# $u $b #$s: accepted, but not one code_used event"; }
	done <"$T/spent.$k"
done
check "audit: every code seen accepted has its one code_used event" test "$ok" -eq 1
# Where the kills landed: before the work, or after a commit.
echo "# killed:" $(sort "$T/killed" | uniq -c | awk '{ print $2 "=" $1 }') \
    "; codes used by killed logins: $(($(awk -v c="$C" '$1 != c' "$T/used.ev" | wc -l) - $(cat "$T"/spent.* | wc -l)))"

# Every code seen accepted or refused is refused now.
nold=0
ok=1
for k in 1 2 3; do
	eval "u=\$U$k"
	admin unlock "$u" >/dev/null 2>&1
	cat "$T/spent.$k" "$T/dead.$k" >"$T/tmp"
	while read -r b s c; do
		nold=$((nold + 1))
		out=$("$BIN/pamdrive" "$T/pam.d" rt "$u" auth -- "$c" 2>&1)
		case $out in
		*Sanitizer* | *"runtime error:"*)
			ok=0; echo "# $u: $out" ;;
		*"auth: PAM_AUTH_ERR"*"Try again"* | *"Try again"*"auth: PAM_AUTH_ERR"*)
			ok=0; echo "# $u: locked out, the check means nothing" ;;
		*"auth: PAM_AUTH_ERR"*) ;;
		*) ok=0; echo "# $u $b #$s works again: $out" ;;
		esac
	done <"$T/tmp"
done
check "no code used or invalidated works again ($nold tried)" test "$ok" -eq 1

# show's counters against the codes: of the batch this test last saw made,
# exactly `remaining` codes work, the sure ones among them.
ok=1
for k in 1 2 3; do
	eval "u=\$U$k"
	vadmin show "$u" --json
	b=$(json_field batch | tr -d '"')
	cnt=$(json_field count) used=$(json_field used) inv=$(json_field invalidated) left=$(json_field remaining)
	if [ "$(json_field enrolled)" = true ] && [ $((used + inv + left)) -ne "$cnt" ]; then
		ok=0; echo "# $u: $used used + $inv invalidated + $left left != $cnt"
	fi
	nsure=$(grep -c '^S' "$T/codes.$k")
	if [ "$b" != "$(cat "$T/batch.$k")" ]; then
		[ "$nsure" -eq 0 ] || { ok=0; echo "# $u: active batch $b, but $nsure sure codes of $(cat "$T/batch.$k")"; }
		continue
	fi
	works=0
	while read -r st bb s c; do
		if "$BIN/pamdrive" "$T/pam.d" rt "$u" auth -- "$c" 2>&1 | grep -q "auth: PAM_SUCCESS"; then
			works=$((works + 1))
		elif [ "$st" = S ]; then
			ok=0; echo "# $u $bb #$s: unused, refused"
		fi
	done <"$T/codes.$k"
	[ "$works" -eq "$left" ] || { ok=0; echo "# $u: $left remaining, $works of the batch's codes work"; }
	vadmin show "$u" --json
	[ "$(json_field remaining)/$(json_field used)" = "0/$((used + works))" ] ||
	    { ok=0; echo "# $u: after using them all: $OUT"; }
done
check "show: the counters match the codes that work" test "$ok" -eq 1

vadmin check --deep
check "check --deep after the last logins: exit 0" test "$RC" -eq 0
echo "# total $(($(date +%s) - start))s"

if [ "$nfail" -gt 0 ]; then
	K=$(mktemp -d /tmp/e2e_crash.XXXXXX) && cp -r "$T/ops.log" "$T/problems" "$T/sys" "$K" &&
	    echo "# seed $SEED: operation log and store kept in $K"
fi
finish
