#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_walk.sh: as root, INSTALL's walkthrough (section 4, SSH and sudo on
# one host, with the pepper) as it stands: every "# walk:" block, in order,
# with its names pointed into a temporary directory and at the built tools
# and module; after each one, the logins it promises: a real sshd on a
# loopback port (a key, then a per-user recovery code) and the real sudo
# (the password, else a code from the system store).
set -u
suite=e2e_walk
. tests/lib.sh

skip() { echo "e2e_walk: skipped ($1)"; finish; exit $?; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
for p in "$SSHD" ssh ssh-keygen sudo visudo useradd userdel runuser chpasswd setsid timeout; do
	command -v "$p" >/dev/null || skip "needs $p (openssh-server, openssh-client, sudo, passwd, util-linux)"
done
GA=
for d in /lib/*/security /usr/lib/*/security /lib/security /usr/lib/security; do
	[ -e "$d/pam_google_authenticator.so" ] && GA=$d && break
done
# sshd-recovery.example asks pam_google_authenticator first.
[ -n "$GA" ] || skip "needs pam_google_authenticator.so (libpam-google-authenticator)"
# sudo is setuid: the dynamic linker ignores LD_PRELOAD for it, so a module
# built with the sanitizers cannot be loaded into it (e2e_sudo skips for
# the same reason).  Then the walk goes on without sudo's logins.
NOSUDO=
if ldd "$BIN/pam_recovery.so" 2>/dev/null | grep -q 'lib[at]san'; then
	NOSUDO="ASan+UBSan build: sudo cannot load the module; the plain and valgrind runs try it"
fi

U=prw$$
SVC_SSH=pam-recovery-walk-ssh-$$
SVC_SUDO=pam-recovery-walk-sudo-$$
DROPIN=/etc/sudoers.d/pam-recovery-walk-$$
T=$(mktemp -d) || exit 1
cleanup() {
	sshd_stop
	rm -f "$DROPIN" "/etc/pam.d/$SVC_SSH" "/etc/pam.d/$SVC_SUDO"
	userdel -r "$U" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
chmod 0755 "$T"

# --- the walkthrough's blocks -------------------------------------------------
# block NAME: the lines of INSTALL's block "# walk: NAME" (or "# by hand:
# NAME"), up to the first empty line, without its marker's indentation.
block() {
	awk -v want="$1" '
	    !on && /^ *# (walk|by hand): / {
		name = $0
		sub(/^ *# (walk|by hand): /, "", name)
		if (name != want)
			next
		match($0, /^ */)
		ind = RLENGTH
		on = 1
		next
	    }
	    on && /^[ \t]*$/ { exit }
	    on && substr($0, 1, ind) != sprintf("%" ind "s", "") { bad = 1; exit }
	    on { print substr($0, ind + 1) }
	    END { exit bad }' INSTALL
}
# The blocks, in order: a new one needs its checks here first.
OUT=$(sed -n 's/^ *\(# \(walk\|by hand\): .*\)$/\1/p' INSTALL)
check "INSTALL: the walkthrough's blocks are the ones this test knows, in order" \
    test "$OUT" = "# walk: names
# walk: check first
# walk: ssh codes
# walk: ssh stack
# by hand: sshd
# walk: sudo store
# walk: sudo codes
# walk: sudo stack
# by hand: sudo"
# Every name of the walkthrough is pointed into $T here; a name it gains
# would point at the real system, so nothing runs until this holds.
cat >"$T/names" <<NAMES
CONF=$T/conf
PAMD=$T/pam.d
EX=$T/examples
SSHD_D=$T/sshd_config.d
SSH=$SVC_SSH
SUDO=$SVC_SUDO
STORE=$T/sudo.store
PEPPER=$T/sudo.key
ALICE=$U
PATH=$T/bin:\$PATH
NAMES
OUT=$(block names)
names=$(printf '%s\n' "$OUT" | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' | tr '\n' ' ')
if [ "$names" != "CONF PAMD EX SSHD_D SSH SUDO STORE PEPPER ALICE " ]; then
	failed "INSTALL: the names block sets exactly the names this test points elsewhere" "$names"
	finish
	exit 1
fi
pass "INSTALL: the names block sets exactly the names this test points elsewhere"
sys=""
for b in "check first" "ssh codes" "ssh stack" "sudo store" "sudo codes" "sudo stack"; do
	if ! block "$b" >"$T/b" || [ ! -s "$T/b" ]; then
		failed "INSTALL: block '$b' is there, indented as its marker"
		finish
		exit 1
	fi
	grep -Eq '(^|[^$A-Za-z0-9_{}.-])/(etc|var|usr|lib|home|root|run|srv|opt|boot)' "$T/b" && sys="$sys '$b'"
done
if [ -n "$sys" ]; then
	failed "INSTALL: the walk blocks name system paths only through the names" "$sys"
	finish
	exit 1
fi
pass "INSTALL: the walk blocks name system paths only through the names"

# walk NAME: run block NAME as root with sh -e (a failing command fails
# it), the names first, then ours; output in $OUT.
walk() {
	{ block names; cat "$T/names"; block "$1"; } >"$T/walk.sh"
	OUT=$(sh -e "$T/walk.sh" 2>&1)
	RC=$?
	vgcheck "walk: $1"
}
# codes FILE: the codes of a sheet in $OUT, one a line, into FILE.
codes() { printf '%s\n' "$OUT" | sed -n 's/^ *[0-9][0-9]*\.  *\([0-9A-Z][0-9A-Z-]*\) *$/\1/p' >"$1"; }
nth() { sed -n "${1}p" "$2"; }
failures() { printf '%s\n' "$OUT" | grep -c ', 0 failures$'; }

# --- the host before: what INSTALL section 3 installed, and the old stacks -----
# The built tools on PATH, run under valgrind when the run says so (copies:
# the user runs pam-recovery too).
mkdir "$T/bin" "$T/libexec" "$T/pam.d" "$T/examples" "$T/sshd_config.d"
for p in pam-recovery pam-recovery-admin; do
	cp "$BIN/$p" "$T/libexec/$p"
	printf '#!/bin/sh\nexec %s %s "$@"\n' "$VG" "$T/libexec/$p" >"$T/bin/$p"
	chmod 0755 "$T/libexec/$p" "$T/bin/$p"
done
# The shipped examples, with the built module and the test configuration.
for f in conf/pam.d/*.example; do
	sed "s|^\([a-z]*[[:space:]].*[[:space:]]\)pam_recovery\.so|\1$BIN/pam_recovery.so conf=$T/conf|" \
	    "$f" >"$T/examples/$(basename "$f")"
done
cp conf/sshd_config.recovery.example "$T/examples/"
OUT=$(grep -h '^[a-z].*pam_recovery\.so' "$T/examples/"*.example)
check "the examples' pam_recovery lines use the built module" \
    test "$(printf '%s\n' "$OUT" | grep -c .)" -eq "$(printf '%s\n' "$OUT" | grep -c "$BIN/pam_recovery\.so conf=$T/conf")"
# The installed configuration, as shipped, with what every test
# configuration sets: the built store helper and tiny argon2 limits; and a
# per-user store name of this suite's own, since check reads every user's.
{
	cat conf/pam_recovery.conf
	printf '\n# e2e_walk\nstore = ~/.pam-recovery-walk%s\n' $$
	printf 'store_helper = %s\nkdf_opslimit = 1\nkdf_memlimit = 8K\n' "$BIN/pam-recovery-store"
} >"$T/conf"
chmod 0644 "$T/conf"
# The old stacks: the host's own, under the test's service names, linked
# from /etc/pam.d (sshd and sudo only read services there).
for s in sshd:"$SVC_SSH" sudo:"$SVC_SUDO"; do
	if [ -f "/etc/pam.d/${s%%:*}" ]; then
		cp "/etc/pam.d/${s%%:*}" "$T/pam.d/${s#*:}"
	else
		printf '@include common-auth\n@include common-account\n@include common-session\n' >"$T/pam.d/${s#*:}"
	fi
	ln -s "$T/pam.d/${s#*:}" "/etc/pam.d/${s#*:}"
done

useradd -m -s /bin/sh "$U" || { failed "useradd"; finish; exit 1; }
PW=Walk-Horse-9
printf '%s:%s\n' "$U" "$PW" | chpasswd
H=$(getent passwd "$U" | cut -d: -f6)
ssh-keygen -q -t ed25519 -N '' -f "$T/id" || { failed "ssh-keygen"; finish; exit 1; }
install -d -m 0700 -o "$U" -g "$U" "$H/.ssh"
install -m 0600 -o "$U" -g "$U" "$T/id.pub" "$H/.ssh/authorized_keys"
# sudo's service for this user only, as sudo's PAM service would be.
printf 'Defaults:%s pam_service=%s, passwd_tries=1, timestamp_timeout=0, !lecture\n%s ALL=(root) /usr/bin/id\n' \
    "$U" "$SVC_SUDO" "$U" >"$T/sudoers"
if [ -z "$NOSUDO" ] && ! visudo -qcf "$T/sudoers" >/dev/null 2>&1; then
	NOSUDO="this sudo has no pam_service setting"
fi
[ -n "$NOSUDO" ] || install -m 0440 "$T/sudoers" "$DROPIN"

# sudo_as ANSWER...: the user runs "sudo -S -k id -u", one answer a line.
sudo_as() {
	RC=0 OUT= ERR= PROMPTS=
	[ -z "$NOSUDO" ] || return 0
	printf '%s\n' "$@" | timeout 30 runuser -u "$U" -- sudo -S -k /usr/bin/id -u \
	    >"$T/sudo.out" 2>"$T/sudo.err"
	RC=$?
	OUT=$(cat "$T/sudo.out")
	ERR=$(cat "$T/sudo.err")
	PROMPTS=$ERR
}
# sudo_see NAME COMMAND...: see, or a skip without sudo.
sudo_see() {
	if [ -n "$NOSUDO" ]; then echo "ok - $1 # SKIP $NOSUDO"; else see "$@"; fi
}
sudo_ok() { [ "$RC" -eq 0 ] && [ "$OUT" = 0 ]; }
sudo_refused() { [ "$RC" -ne 0 ] && [ -z "$OUT" ]; }
# sudo with the password, and no recovery prompt: the login every step keeps.
sudo_password() {
	sudo_as "$PW"
	sudo_see "$1: sudo with the password, no recovery prompt" sh -c \
	    '[ "$0" -eq 0 ] && [ "$1" = 0 ] && ! printf "%s" "$2" | grep -q "Recovery code:"' "$RC" "$OUT" "$ERR"
}
# sudo_code CODE: a wrong password, then CODE.
sudo_code() { sudo_as not-the-password "$1"; }

# sshlogin (tests/lib.sh) offers the user's key first, then answers what
# the stack asks through keyboard-interactive.
SSH_OPTS="-i $T/id -o IdentitiesOnly=yes -o PreferredAuthentications=publickey,keyboard-interactive"
ssh_ok() { [ "$RC" -eq 0 ] && in_out logged-in; }
ssh_refused() { [ "$RC" -ne 0 ] && ! in_out logged-in; }
# The test's sshd: Debian's sshd_config, its drop-in directory first.
SSHD_CONF="Include $T/sshd_config.d/*.conf
KbdInteractiveAuthentication no"
sshd_setup "$SVC_SSH" || { failed "sshd setup"; finish; exit 1; }
if ! sshd_start "$SSHD_CONF"; then
	failed "sshd starts on a loopback port" "$(tail -n 5 "$T/sshd.log")"
	finish
	exit 1
fi

sudo_password "before"
sshlogin "$U" unused
see "before: ssh with the key alone" sh -c '[ "$0" -eq 0 ] && [ -z "$1" ]' "$RC" "$PROMPTS"

# --- a: check first ----------------------------------------------------------
walk "check first"
check "a. check first: 0 failures" sh -c '[ "$0" -eq 0 ] && [ "$1" -eq 1 ]' "$RC" "$(failures)"

# --- b: the SSH codes ----------------------------------------------------------
walk "ssh codes"
codes "$T/ssh.codes"
check "b. ssh codes: the user's helper prints 10 codes" \
    sh -c '[ "$0" -eq 0 ] && [ "$(grep -c . "$1")" -eq 10 ]' "$RC" "$T/ssh.codes"
check "b. ssh codes: in the user's own store" \
    test "$(stat -c %U "$H/.pam-recovery-walk$$" 2>/dev/null)" = "$U"
sudo_password "b"
sshlogin "$U" unused
see "b: ssh with the key alone, as before" sh -c '[ "$0" -eq 0 ] && [ -z "$1" ]' "$RC" "$PROMPTS"

# --- c: the SSH stack ------------------------------------------------------------
walk "ssh stack"
check "c. ssh stack: check, 0 failures" sh -c '[ "$0" -eq 0 ] && [ "$1" -eq 1 ]' "$RC" "$(failures)"
check "c. ssh stack: check reads the new stack: per-user stores" \
    has "$T/pam.d/$SVC_SSH:"
check "c. ssh stack: the old stack is saved, and not read by check" \
    sh -c 'test -f "$0~" && ! printf "%s" "$1" | grep -q "$2~"' "$T/pam.d/$SVC_SSH" "$OUT" "$SVC_SSH"
# By hand: "sshd -t", reload.  Ours reads the same drop-in directory.
OUT=$("$SSHD" -t -f "$T/sshd_config" 2>&1)
check "c. by hand: sshd -t accepts the drop-in" test $? -eq 0
sshd_stop
if ! sshd_start "$SSHD_CONF"; then
	failed "c. by hand: sshd restarts" "$(tail -n 5 "$T/sshd.log")"
	finish
	exit 1
fi
sshlogin "$U" "$(nth 1 "$T/ssh.codes")"
see "c: ssh with the key, then a recovery code" ssh_ok
see "c: the code is asked for after the key" in_prompts "Recovery code:"
see "c: 'codes left' is shown" in_err "Recovery code accepted. 9 codes left."
sshlogin "$U" "$(nth 1 "$T/ssh.codes")"
see "c: the same code again is refused" ssh_refused
sshlogin "$U" ""
see "c: the key alone no longer logs in" ssh_refused
sudo_password "c"

# --- d: sudo's store and pepper, before any code -------------------------------
walk "sudo store"
check "d. sudo store: check, 0 failures" sh -c '[ "$0" -eq 0 ] && [ "$1" -eq 1 ]' "$RC" "$(failures)"
check "d. sudo store: check went through both stores" \
    sh -c 'test "$(printf "%s\n" "$0" | grep -c "^OK .*configuration: ")" -eq 2' "$OUT"
check "d. sudo store: root's, mode 0700" test "$(stat -c '%U %a' "$T/sudo.store")" = "root 700"
check "d. sudo store: the pepper, 64 bytes, root's, mode 0600" \
    test "$(stat -c '%U %a %s' "$T/sudo.key")" = "root 600 64"
check "d. sudo store: the section ends the file, with store and pepper" \
    test "$(tail -n 3 "$T/conf")" = "[service $SVC_SUDO]
store = $T/sudo.store
pepper_file = $T/sudo.key"
cp "$T/sudo.key" "$T/key.before"
cp "$T/conf" "$T/conf.before"
# Pasted twice by mistake: the pepper and the section stay as they are.
{ block names; cat "$T/names"; block "sudo store"; } >"$T/walk.sh"
OUT=$(sh "$T/walk.sh" 2>&1)
check "d. sudo store again: the pepper is not overwritten" cmp -s "$T/key.before" "$T/sudo.key"
check "d. sudo store again: no second section" cmp -s "$T/conf.before" "$T/conf"
check "d. sudo store again: check still passes" test "$(failures)" -eq 1
sshlogin "$U" "$(nth 2 "$T/ssh.codes")"
see "d: ssh with a per-user code made before the pepper" ssh_ok
sudo_password "d"

# --- e: sudo's codes ---------------------------------------------------------------
walk "sudo codes"
codes "$T/sudo.codes"
check "e. sudo codes: the administrator issues 10 codes" \
    sh -c '[ "$0" -eq 0 ] && [ "$(grep -c . "$1")" -eq 10 ]' "$RC" "$T/sudo.codes"
OUT=$(runuser -u "$U" -- ls "$T/sudo.store" 2>&1)
check "e. sudo codes: the user cannot read the system store" test $? -ne 0
sudo_password "e"

# --- f: sudo's stack -----------------------------------------------------------------
walk "sudo stack"
check "f. sudo stack: check, 0 failures" sh -c '[ "$0" -eq 0 ] && [ "$1" -eq 1 ]' "$RC" "$(failures)"
check "f. sudo stack: each pam_recovery line of sudo's says: system store" \
    sh -c 'n=$(printf "%s\n" "$0" | grep -c "^OK    $1:[0-9]* (\(auth\|account\|session\)): system store $2")
        [ "$n" -ge 2 ] && [ "$n" -eq "$(grep -c "^[a-z].*pam_recovery\.so" "$3")" ]' \
    "$OUT" "$T/pam.d/$SVC_SUDO" "$T/sudo.store" "$T/pam.d/$SVC_SUDO"
sudo_password "f"
sudo_code "$(nth 1 "$T/sudo.codes")"
sudo_see "f: sudo with a wrong password, then a recovery code" sudo_ok
sudo_see "f: the code is asked for after the password" \
    sh -c 'printf "%s" "$0" | grep -q "password for.*Recovery code:"' "$ERR"
sudo_code "$(nth 1 "$T/sudo.codes")"
sudo_see "f: the same code again is refused" sudo_refused
sudo_code "$(nth 10 "$T/ssh.codes")"
sudo_see "f: a per-user code is no sudo code" sudo_refused
sshlogin "$U" "$(nth 3 "$T/ssh.codes")"
see "f: ssh with a per-user code still" ssh_ok
OUT=$("$T/bin/pam-recovery-admin" -c "$T/conf" --service "$SVC_SUDO" show "$U" --json 2>&1)
check "f: show --service says what the user has left in sudo's store" \
    test "$(json_field remaining)" = "$([ -n "$NOSUDO" ] && echo 10 || echo 9)"

# --- what INSTALL says goes wrong out of order --------------------------------------
# The pepper taken out of sudo's section: check fails, naming the fix; the
# codes made with it are refused; back in, they work again.
cp "$T/conf" "$T/conf.good"
sed "/^pepper_file = /d" "$T/conf.good" >"$T/conf"
OUT=$("$T/bin/pam-recovery-admin" -c "$T/conf" --service "$SVC_SUDO" check --pam-dir "$T/pam.d" 2>&1)
RC=$?
check "no pepper in sudo's section: check fails" test "$RC" -eq 1
check "no pepper in sudo's section: check says which line and why" \
    has "active batch made with a pepper, and this line has no pepper_file"
sudo_code "$(nth 2 "$T/sudo.codes")"
sudo_see "no pepper in sudo's section: a code made with it is refused" sudo_refused
cp "$T/conf.good" "$T/conf"
sudo_code "$(nth 2 "$T/sudo.codes")"
sudo_see "the pepper back: the same code works" sudo_ok
# A global pepper: check fails for the SSH line; SSH recovery logins fail.
{ echo "pepper_file = $T/sudo.key"; cat "$T/conf.good"; } >"$T/conf"
OUT=$("$T/bin/pam-recovery-admin" -c "$T/conf" --service "$SVC_SSH" check --pam-dir "$T/pam.d" 2>&1)
RC=$?
check "a global pepper: check fails" test "$RC" -eq 1
check "a global pepper: check names the per-user store" has "pepper_file with the per-user store"
sshlogin "$U" "$(nth 4 "$T/ssh.codes")"
see "a global pepper: the SSH recovery login fails, as INSTALL says" ssh_refused
cp "$T/conf.good" "$T/conf"
sshlogin "$U" "$(nth 4 "$T/ssh.codes")"
see "the pepper back in sudo's section: the same SSH code works" ssh_ok

found=0
for c in $(cat "$T/ssh.codes" "$T/sudo.codes"); do
	grep -rqF "$c" "$T/sudo.store" "$H/.pam-recovery-walk$$" "$T/sshd.log" "$T/conf" 2>/dev/null && found=1
done
check "no code in clear in the stores, the configuration or sshd's log" test "$found" -eq 0
OUT=$(cat "$T"/asan.* "$T"/ubsan.* 2>/dev/null)
check "no sanitizer report from sshd" test -z "$OUT"

finish
