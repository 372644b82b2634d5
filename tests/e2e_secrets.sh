#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_secrets.sh: codes exist only where the user asked for them.  After
# generating (-o FILE) and logging in every way, no code -- as printed,
# normalised, or in lower case -- appears in any file under the test's
# directory but the -o output: not in the store, not in what the module or
# the helper said (kept in a transcript file here on purpose), and, as
# root, not in syslog even with `debug`.  And the helper cannot be made to
# dump its memory while it holds codes: no core file when it is killed with
# SIGABRT or SIGSEGV, and (as root) its /proc files belong to root.
set -u
suite=e2e_secrets
. tests/lib.sh

T=$(mktemp -d) || exit 1
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
ME=$(id -un)
ROOT=0
if [ "$(id -u)" -eq 0 ]; then ROOT=1; fi
mkdir "$T/pam.d" "$T/out" "$T/olddev"
cat >"$T/conf" <<CONF
store = $T/%u.store
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
CONF
chmod 0644 "$T/conf"
M="$BIN/pam_recovery.so conf=$T/conf"
echo "auth required $M" >"$T/pam.d/rt"
echo "auth required $M debug" >"$T/pam.d/rt-debug"
echo "auth required $M debug any_code" >"$T/pam.d/rt-any"
TR=$T/transcript

# A private /dev/log, as in e2e_faults.sh (root only).
cp tests/syslogcap.sh "$T/cap.sh"
CAP=0
if [ "$ROOT" -eq 1 ] && command -v unshare >/dev/null && command -v perl >/dev/null &&
    unshare -m sh "$T/cap.sh" "$T" logger -t e2e_secrets probe 2>/dev/null &&
    grep -q probe "$T/syslog" 2>/dev/null; then
	CAP=1
fi

# login SERVICE ANSWER: one authentication, syslog captured when possible;
# everything said goes to the transcript.
login() {
	if [ "$CAP" -eq 1 ]; then
		OUT=$(unshare -m sh "$T/cap.sh" "$T" $VG "$BIN/pamdrive" "$T/pam.d" "$1" "$ME" auth -- "$2" 2>&1)
		RC=$?
		vgcheck pamdrive
	else
		pamrun "$1" "$ME" auth -- "$2"
	fi
	printf '%s\n' "$OUT" >>"$TR"
}

# --- generate into a file, then log in every way --------------------------------
helper generate -n 10 --format csv -o "$T/out/asked.csv"
printf '%s\n' "$OUT" >>"$TR"
check "generate -o: exit 0" test "$RC" -eq 0
check "generate -o: the file is 0600" test "$(stat -c %a "$T/out/asked.csv")" = 600
A=$T/out/asked.csv
check "generate -o: 10 codes in the file" test "$(grep -c '^[0-9]*,' "$A")" -eq 10

c1=$(code 1 "$A")
login rt-debug "$c1"
check "valid code with debug: PAM_SUCCESS" has "auth: PAM_SUCCESS"
c2=$(code 2 "$A")
last=$(printf '%s' "$c2" | tail -c 1)
if [ "$last" = 0 ]; then sub=1; else sub=0; fi
typo=$(printf '%s' "$c2" | sed "s/.\$/$sub/")
login rt-debug "$typo"
check "typo with debug: reported as a typo" has "check for typos"
c3=$(code 3 "$A")
login rt-debug "$(printf '%s' "$c3" | tr 'A-Z' 'a-z' | sed 's/-/ /g')"
check "lower case, spaces: PAM_SUCCESS" has "auth: PAM_SUCCESS"
login rt-debug "$c1"
check "reused code with debug: PAM_AUTH_ERR" has "auth: PAM_AUTH_ERR"
login rt "$(code 4 "$A")"
check "valid code without debug: PAM_SUCCESS" has "auth: PAM_SUCCESS"
# any_code: what is handed on (a TOTP code, here 73914062) is never logged
# either, nor is a code typed at the shared prompt.
login rt-any 73914062
check "any_code with debug: a TOTP code is handed on" hasnt "auth: PAM_SUCCESS"
login rt-any "$(code 5 "$A")"
check "any_code with debug: a recovery code logs in" has "auth: PAM_SUCCESS"
helper status --json
printf '%s\n' "$OUT" >>"$TR"
check "status: 6 left" test "$(json_field remaining)" = 6

# --- no code anywhere but the file that was asked for --------------------------
# Every form a code was seen in: printed, normalised, lower case, the typo.
forms=$T/forms
echo 73914062 >"$forms"
for c in $(cut -d, -f2 "$A" | tail -n +2) "$typo"; do
	n=$(printf '%s' "$c" | tr -d -- '-')
	printf '%s\n%s\n' "$c" "$n" >>"$forms"
	printf '%s\n%s\n' "$c" "$n" | tr 'A-Z' 'a-z' >>"$forms"
done
leaks=$(grep -rlaF -f "$forms" "$T" | grep -vxF -e "$A" -e "$forms")
OUT=$leaks
check "no code in any file but the -o output" test -z "$leaks"
check "no code in the store's data.mdb" sh -c '! grep -qaF -f "$0" "$1/data.mdb"' "$forms" "$T/$ME.store"
check "no code in the store's lock.mdb" sh -c '! grep -qaF -f "$0" "$1/lock.mdb"' "$forms" "$T/$ME.store"
if [ "$CAP" -eq 1 ]; then
	OUT=$(cat "$T/syslog")
	check "syslog was captured (code_used, code_malformed, handed on logged)" \
	    sh -c 'has() { printf "%s" "$0" | grep -q "$1"; }; has "event=code_used" && has "event=code_malformed" && has "handed on"' "$OUT"
	check "no code in syslog, even with debug" sh -c '! grep -qaF -f "$0" "$1"' "$forms" "$T/syslog"
else
	echo "ok - no code in syslog # SKIP no syslog capture (needs root, unshare and perl)"
fi

# --- no core dump while codes are in memory ------------------------------------
# A generate at a cost high enough to still be hashing (the codes exist,
# not yet stored) when it is killed, right after it created its store.
cat >"$T/heavy.conf" <<CONF
store = $T/heavy.%u
kdf_opslimit = 3
kdf_memlimit = 16M
store_helper = $BIN/pam-recovery-store
CONF
chmod 0644 "$T/heavy.conf"

# killed_while_generating SIGNAL DIR: run the helper in DIR
# with unlimited cores, kill it with SIGNAL once its store exists; $RC is
# its exit status, $PID its process id.
killed_while_generating() {
	sig=$1
	dir=$2
	rm -rf "$T/heavy.$ME"
	mkdir -p "$dir"
	(cd "$dir" && ulimit -c unlimited && exec "$BIN/pam-recovery" \
	    -c "$T/heavy.conf" generate -n 60 --format csv >/dev/null 2>&1) &
	PID=$!
	i=0
	while [ ! -e "$T/heavy.$ME/data.mdb" ] && [ $i -lt 1000 ]; do
		sleep 0.01
		i=$((i + 1))
	done
	kill "-$sig" "$PID" 2>/dev/null
	wait "$PID"
	RC=$?
}

pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
mkdir "$T/ctl"
(cd "$T/ctl" && ulimit -c unlimited && sh -c 'kill -SEGV $$') 2>/dev/null
if [ "${pattern#|}" != "$pattern" ] || [ -z "$(ls "$T/ctl")" ]; then
	echo "ok - no core dump of the helper # SKIP cores do not land in the working directory (core_pattern $pattern)"
else
	for sig in ABRT SEGV; do
		killed_while_generating "$sig" "$T/core.$sig"
		OUT=$(ls -l "$T/core.$sig")
		check "SIG$sig while hashing: the helper was killed (status $RC)" test "$RC" -ne 0
		check "SIG$sig while hashing: no core file" test -z "$(ls "$T/core.$sig")"
	done
fi

# As root: a non-dumpable process's /proc/PID files belong to root, whoever it
# runs as.  The helper runs as nobody; a dumpable process as a control.
if [ "$ROOT" -eq 1 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	chmod 0711 "$T"
	cp "$BIN/pam-recovery" "$T/pam-recovery"
	chmod 0755 "$T/pam-recovery"
	mkdir "$T/n"
	chown nobody "$T/n"
	cat >"$T/heavy.conf" <<CONF
store = $T/n/heavy.%u
kdf_opslimit = 3
kdf_memlimit = 16M
store_helper = $BIN/pam-recovery-store
CONF
	NOBODY="setpriv --reuid=$(id -u nobody) --regid=$(id -g nobody) --clear-groups"
	$NOBODY sleep 5 &
	ctl=$!
	sleep 0.1
	owner=$(stat -c %u "/proc/$ctl/status" 2>/dev/null)
	kill "$ctl"
	wait "$ctl" 2>/dev/null
	if [ "$owner" != "$(id -u nobody)" ]; then
		echo "ok - helper not dumpable # SKIP /proc ownership does not follow the uid here"
	else
		# To a file: the helper refuses to print codes into /dev/null.
		$NOBODY "$T/pam-recovery" -c "$T/heavy.conf" generate -n 60 --format csv -o "$T/n/heavy.csv" >/dev/null 2>&1 &
		PID=$!
		i=0
		while [ ! -e "$T/n/heavy.nobody/data.mdb" ] && [ $i -lt 1000 ]; do
			sleep 0.01
			i=$((i + 1))
		done
		owner=$(stat -c %u "/proc/$PID/status" 2>/dev/null)
		kill "$PID" 2>/dev/null
		wait "$PID"
		RC=$?
		OUT="uid of /proc/$PID/status: $owner"
		check "helper as nobody, while hashing: /proc/PID/status belongs to root (not dumpable)" \
		    test "$owner" = 0
		check "helper as nobody: it was still running when looked at (status $RC)" \
		    test "$RC" -ne 0
	fi
fi

finish
