#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_stack.sh: pam_recovery stacked with other modules, as administrators
# write it: after another factor (TOTP too, when pam_google_authenticator is
# installed), with use_first_pass / try_first_pass, with nouserok; and, as
# root, console-login stacks with pam_unix through pamtester and the real
# sudo, among them the shipped login and sudo examples as they stand.
set -u
suite=e2e_stack
. tests/lib.sh

T=$(mktemp -d) || exit 1
U=
cleanup() {
	[ -n "$U" ] && rm -f "/etc/pam.d/$SVC" "/etc/pam.d/$SVC-2" \
	    "/etc/pam.d/$SVC-sudo" "/etc/sudoers.d/$SVC"
	[ -n "$U" ] && userdel -r "$U" >/dev/null 2>&1
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
ME=$(id -un)
# has_module NAME: a PAM module of that name is installed.
has_module() {
	for d in /lib/*/security /usr/lib/*/security /lib/security /usr/lib/security; do
		[ -e "$d/$1" ] && return 0
	done
	return 1
}
if ! has_module pam_stress.so; then
	echo "e2e_stack: skipped (needs pam_stress.so from libpam-modules)"
	finish
	exit $?
fi
mkdir "$T/pam.d"
cat >"$T/conf" <<CONF
store = $T/%u.store
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
CONF
chmod 0644 "$T/conf"
M="$BIN/pam_recovery.so conf=$T/conf"
svc() { name=$1; shift; printf '%s\n' "$@" >"$T/pam.d/$name"; }

# pam_stress (Debian's libpam-modules) stands for a first factor that reads
# a password: it prompts "STRESS Password: ", stores the answer as
# PAM_AUTHTOK without checking it, and succeeds.
svc fallback "auth [success=done default=ignore] pam_deny.so" "auth required $M"
svc first-ok "auth [success=done default=ignore] pam_permit.so" "auth required $M"
svc ufp "auth optional pam_stress.so" "auth required $M use_first_pass"
svc ufp-alone "auth required $M use_first_pass"
svc tfp "auth optional pam_stress.so" "auth required $M try_first_pass"
# A recovery code instead of the usual factor (sudo-recovery.example,
# variant 2): users without codes go straight on to the next module.
svc instead "auth sufficient $M nouserok" "auth required pam_stress.so"
svc instead-none "auth sufficient $M nouserok store=$T/none.%u" "auth required pam_stress.so"

cat >"$T/other.conf" <<CONF
store = $T/other.%u.store
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
CONF
chmod 0644 "$T/other.conf"
$VG "$BIN/pam-recovery" -c "$T/other.conf" generate -n 5 --format csv >"$T/wrong.csv" 2>&1
wrong() { code "$1" "$T/wrong.csv"; }
helper generate -n 12 --format csv
printf '%s\n' "$OUT" >"$T/codes.csv"
check "generate: 12 codes" test "$(grep -c '^[0-9]*,' "$T/codes.csv")" -eq 12
c() { code "$1" "$T/codes.csv"; }
# field KEY: KEY of the helper's status --json (in this shell, so that a
# valgrind report counts).
field() { helper status --json; F=$(json_field "$1"); }

# --- after another factor -----------------------------------------------------
pamrun fallback "$ME" auth -- "$(c 1)"
check "fallback after a failed factor: the code logs in" has "auth: PAM_SUCCESS"
check "fallback after a failed factor: one prompt, the recovery code's" \
    sh -c 'printf "%s" "$0" | grep -q "prompts: 1" && printf "%s" "$0" | grep -q "prompt: Recovery code:"' "$OUT"
pamrun fallback "$ME" auth -- "$(c 1)"
check "fallback: the same code again is refused" has "auth: PAM_AUTH_ERR"
pamrun first-ok "$ME" auth -- "$(c 2)"
check "first factor succeeds: PAM_SUCCESS" has "auth: PAM_SUCCESS"
check "first factor succeeds: no recovery prompt" has "prompts: 0"
field remaining
check "first factor succeeds: no code used" test "$F" = 11

# The shipped sshd stack, with the real TOTP module when it is installed.
if has_module pam_google_authenticator.so; then
	printf 'JBSWY3DPEHPK3PXP\n" TOTP_AUTH\n' >"$T/totp"
	chmod 0600 "$T/totp"
	svc totp "auth [success=done default=ignore] pam_google_authenticator.so nullok secret=$T/totp" "auth required $M"
	svc totp-none "auth [success=done default=ignore] pam_google_authenticator.so nullok secret=$T/no-totp" "auth required $M"
	pamrun totp "$ME" auth -- 000000 "$(c 2)"
	check "TOTP wrong, then a recovery code: PAM_SUCCESS" has "auth: PAM_SUCCESS"
	check "TOTP wrong, then a recovery code: both prompts" \
	    sh -c 'printf "%s" "$0" | grep -q "prompt: Verification code:" && printf "%s" "$0" | grep -q "prompt: Recovery code:"' "$OUT"
	pamrun totp-none "$ME" auth -- "$(c 3)"
	check "no TOTP secret (nullok): only the recovery prompt, PAM_SUCCESS" \
	    sh -c 'printf "%s" "$0" | grep -q "auth: PAM_SUCCESS" && printf "%s" "$0" | grep -q "prompts: 1"' "$OUT"
else
	echo "# pam_google_authenticator.so not installed: TOTP stacks not tried"
fi

# --- use_first_pass / try_first_pass --------------------------------------------
pamrun ufp "$ME" auth -- "$(c 4)"
check "use_first_pass: the code typed at the first prompt logs in" has "auth: PAM_SUCCESS"
check "use_first_pass: no recovery prompt" sh -c 'printf "%s" "$0" | grep -q "prompts: 1" && ! printf "%s" "$0" | grep -q "prompt: Recovery"' "$OUT"
field failures
n=$F
pamrun ufp "$ME" auth -- hunter2
check "use_first_pass: a password is refused without a second prompt" \
    sh -c 'printf "%s" "$0" | grep -q "auth: PAM_AUTH_ERR" && printf "%s" "$0" | grep -q "prompts: 1"' "$OUT"
field failures
check "use_first_pass: a password is not counted as a failure" test "$F" = "$n"
pamrun ufp-alone "$ME" auth -- "$(c 5)"
check "use_first_pass without a token: PAM_AUTH_ERR, no prompt" \
    sh -c 'printf "%s" "$0" | grep -q "auth: PAM_AUTH_ERR" && printf "%s" "$0" | grep -q "prompts: 0"' "$OUT"
pamrun tfp "$ME" auth -- "$(c 5)"
check "try_first_pass: a code as the first answer logs in, one prompt" \
    sh -c 'printf "%s" "$0" | grep -q "auth: PAM_SUCCESS" && printf "%s" "$0" | grep -q "prompts: 1"' "$OUT"
pamrun tfp "$ME" auth -- hunter2 "$(c 6)"
check "try_first_pass: after a password, the recovery prompt follows" has "prompt: Recovery code:"
check "try_first_pass: and the code logs in" has "auth: PAM_SUCCESS"
field failures
n=$F
pamrun tfp "$ME" auth -- "$(wrong 1)" "$(c 7)"
check "try_first_pass: a wrong well-formed code is refused without a second prompt" \
    sh -c 'printf "%s" "$0" | grep -q "auth: PAM_AUTH_ERR" && printf "%s" "$0" | grep -q "prompts: 1"' "$OUT"
field failures
check "try_first_pass: and counted as a failure" test "$F" = $((n + 1))

# --- nouserok: a recovery code instead of the usual factor ---------------------
pamrun instead-none "$ME" auth -- "$(c 7)"
check "nouserok, no store: straight on to the next module" \
    sh -c 'printf "%s" "$0" | grep -q "prompt: STRESS Password:" && ! printf "%s" "$0" | grep -q "prompt: Recovery"' "$OUT"
check "nouserok, no store: the next module decides (PAM_SUCCESS)" has "auth: PAM_SUCCESS"
pamrun instead "$ME" auth -- "$(c 7)"
check "nouserok, enrolled: the code is enough (no second prompt)" \
    sh -c 'printf "%s" "$0" | grep -q "auth: PAM_SUCCESS" && printf "%s" "$0" | grep -q "prompts: 1" && printf "%s" "$0" | grep -q "prompt: Recovery code:"' "$OUT"
pamrun instead "$ME" auth -- "$(wrong 2)" anything
check "nouserok, enrolled, wrong code: the usual factor is asked next" has "prompt: STRESS Password:"

# --- as root: a console login stack with pam_unix, through pamtester ---------------
if [ "$(id -u)" -ne 0 ] || ! command -v pamtester >/dev/null || ! command -v useradd >/dev/null; then
	echo "# console login stack: skipped (needs root, pamtester and useradd)"
	finish
	exit $?
fi
U=prk$$
SVC=pam-recovery-login-$$
chmod 0755 "$T"
useradd -m -s /bin/sh "$U" || { failed "useradd"; finish; exit 1; }
cp "$BIN/pam-recovery" "$T/pam-recovery"
cat >"$T/login.conf" <<CONF
# The default store, ~/.pam-recovery.
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
CONF
chmod 0644 "$T/login.conf"
L="$BIN/pam_recovery.so conf=$T/login.conf"
# As conf/pam.d/login-recovery.example, with a nologin file of our own.
# First variant: the code may be typed at the password prompt.
cat >"/etc/pam.d/$SVC" <<PAM
auth     requisite  pam_nologin.so file=$T/nologin
auth     [success=done default=ignore]  pam_unix.so nullok
auth     required   $L try_first_pass
account  required   pam_unix.so
account  optional   $L
PAM
# Second variant: the password, then a recovery prompt of its own.
sed 's/ try_first_pass$//' "/etc/pam.d/$SVC" >"/etc/pam.d/$SVC-2"

OUT=$(runuser -u "$U" -- $VG "$T/pam-recovery" -c "$T/login.conf" generate -n 4 --format csv 2>&1)
RC=$?
vgcheck pam-recovery
printf '%s\n' "$OUT" >"$T/login.csv"
check "root: the user (locked password) generates codes" test "$(grep -c '^[0-9]*,' "$T/login.csv")" -eq 4
lc() { code "$1" "$T/login.csv"; }
# Under ASan, libcrypt is preloaded as well: the runtime's crypt_r
# interceptor finds no real crypt_r when pam_unix brings libcrypt in later
# with dlopen, and pam_unix then jumps to address 0.
PRE=${SAN_PRELOAD:-}
if [ -n "$PRE" ]; then
	for d in /lib/*/security /usr/lib/*/security; do
		[ -e "$d/pam_unix.so" ] || continue
		PRE="$PRE $(ldd "$d/pam_unix.so" | awk '/libcrypt\./ {print $3}')"
		break
	done
fi
login() {
	OUT=$(printf '%s\n' "$2" | LD_PRELOAD="$PRE" $VG pamtester -v "$1" "$U" authenticate acct_mgmt 2>&1)
	RC=$?
	vgcheck pamtester
}

login "$SVC" "$(lc 1)"
check "login stack: a code at the password prompt logs in" test "$RC" -eq 0
check "login stack: one prompt, pam_unix's" \
    sh -c 'printf "%s" "$0" | grep -q "Password:" && ! printf "%s" "$0" | grep -q "Recovery code:"' "$OUT"
check "login stack: 'codes left' is shown" has "Recovery code accepted. 3 codes left."
check "login stack: the account stage does not say it again" \
    sh -c '[ "$(printf "%s\n" "$0" | grep -c "codes left")" -eq 1 ] && ! printf "%s" "$0" | grep -q "Only 3 recovery codes left"' "$OUT"
login "$SVC" "$(lc 1)"
check "login stack: the same code again is refused" test "$RC" -ne 0

# login2 SERVICE FIRST CODE: two prompts through pamtester.  The code is
# written only once the recovery prompt has been shown, since pamtester
# would read both answers at once if they were both there.
login2() {
	rm -f "$T/in"
	mkfifo "$T/in"
	LD_PRELOAD="$PRE" $VG pamtester -v "$1" "$U" authenticate acct_mgmt <"$T/in" >"$T/two" 2>&1 &
	pid=$!
	exec 3>"$T/in"
	printf '%s\n' "$2" >&3
	i=0
	while ! grep -q "Recovery code:" "$T/two" && kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	printf '%s\n' "$3" >&3
	exec 3>&-
	wait "$pid"
	RC=$?
	OUT=$(vgstrip <"$T/two")
	vgcheck pamtester
}
login2 "$SVC-2" not-the-password "$(lc 2)"
check "login stack, two prompts: a wrong password, then a code, logs in" test "$RC" -eq 0
check "login stack, two prompts: the recovery prompt was shown" has "Recovery code:"

: >"$T/nologin"
login "$SVC" "$(lc 3)"
check "login stack with nologin: refused" test "$RC" -ne 0
check "login stack with nologin: no prompt at all" sh -c '! printf "%s" "$0" | grep -q -e "Password:" -e "Recovery code:"' "$OUT"
rm -f "$T/nologin"
login "$SVC" "$(lc 3)"
check "login stack: nologin did not use up the code" test "$RC" -eq 0

printf '%s:%s\n' "$U" 'Correct-Horse-9' | chpasswd
login "$SVC-2" 'Correct-Horse-9'
check "login stack: the password alone still logs in" test "$RC" -eq 0
check "login stack: and no recovery code is asked for" sh -c '! printf "%s" "$0" | grep -q "Recovery code:"' "$OUT"

# The shipped login example as it stands (the built module, our nologin
# file): the password, no TOTP secret (nullok), then a recovery code.
EX=conf/pam.d/login-recovery.example
sed -e "s|^\([a-z]*[[:space:]].*[[:space:]]\)pam_recovery\.so|\1$L|" \
    -e "s|pam_nologin\.so\$|pam_nologin.so file=$T/nologin|" "$EX" >"/etc/pam.d/$SVC"
login2 "$SVC" 'Correct-Horse-9' "$(lc 4)"
check "$EX: password, then a recovery code: logged in" test "$RC" -eq 0
check "$EX: the recovery code was asked for after the password" \
    sh -c 'printf "%s" "$0" | grep -q "Password: *Recovery code:"' "$OUT"
check "$EX: the last code brings the loud warning" has "LAST recovery code"

# --- as root: the real sudo with the shipped stacks -------------------------------
# (e2e_sudo.sh covers the system store itself; here: the example as it
# stands, and how variant 2 falls through to the password.)
# sudo is set-uid: it ignores LD_PRELOAD, so it cannot load a module built
# with a sanitizer, and valgrind cannot follow it.
if [ -n "${SAN_PRELOAD:-}" ] || [ ! -x "$BIN/pam-recovery-admin" ] ||
    ! command -v sudo >/dev/null || ! command -v visudo >/dev/null; then
	echo "# sudo step-up: skipped (needs sudo, visudo, pam-recovery-admin; not under ASan)"
	finish
	exit $?
fi
cat >"$T/sudo.conf" <<CONF
# A system store, as sudo requires.
store = $T/system.store
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
CONF
chmod 0644 "$T/sudo.conf"
# sudo reads its PAM service anew for every run: first the shipped example
# as it stands (variant 1: the password, else a code), then variant 2 (a
# code instead of the password).
EX=conf/pam.d/sudo-recovery.example
sed "s|^\([a-z]*[[:space:]].*[[:space:]]\)pam_recovery\.so|\1$BIN/pam_recovery.so conf=$T/sudo.conf|" \
    "$EX" >"/etc/pam.d/$SVC-sudo"
variant2() {
	cat >"/etc/pam.d/$SVC-sudo" <<PAM
auth     sufficient  $BIN/pam_recovery.so conf=$T/sudo.conf max_attempts=2
auth     required    pam_unix.so
account  required    pam_unix.so
session  required    pam_permit.so
PAM
}
# Only the throw-away user is affected: its own PAM service, one try, no
# cached credentials.  visudo checks the file before sudo ever reads it.
printf 'Defaults:%s pam_service=%s-sudo, passwd_tries=1, timestamp_timeout=0, !lecture\n%s ALL=(root) ALL\n' \
    "$U" "$SVC" "$U" >"$T/sudoers"
if ! visudo -qcf "$T/sudoers" >/dev/null 2>&1; then
	echo "# sudo step-up: skipped (this sudo has no pam_service setting)"
	finish
	exit $?
fi
install -m 0440 "$T/sudoers" "/etc/sudoers.d/$SVC"
OUT=$("$BIN/pam-recovery-admin" -c "$T/sudo.conf" generate "$U" -n 3 --format csv 2>&1)
printf '%s\n' "$OUT" >"$T/sudo.csv"
check "sudo: the administrator issues codes into the system store" test "$(grep -c '^[0-9]*,' "$T/sudo.csv")" -eq 3
sc() { code "$1" "$T/sudo.csv"; }
sudo_as() {
	printf '%s\n' "$@" | timeout 30 runuser -u "$U" -- sudo -S -k id -u \
	    >"$T/sudo.out" 2>"$T/sudo.err"
	RC=$?
	OUT=$(cat "$T/sudo.err" "$T/sudo.out")
}
check "$EX: the recovery line uses the built module and the test store" \
    grep -q "^auth required $BIN/pam_recovery.so conf=$T/sudo.conf\$" "/etc/pam.d/$SVC-sudo"
sudo_as 'Correct-Horse-9'
check "$EX: sudo with the password runs the command" \
    sh -c '[ "$0" -eq 0 ] && [ "$1" = 0 ]' "$RC" "$(cat "$T/sudo.out")"
check "$EX: and asks for no recovery code" hasnt "Recovery code:"
sudo_as 'not-the-password' "$(sc 3)"
check "$EX: sudo with a wrong password, then a recovery code, runs the command" \
    sh -c '[ "$0" -eq 0 ] && [ "$1" = 0 ]' "$RC" "$(cat "$T/sudo.out")"
check "$EX: sudo asked for the password, then for the code" \
    sh -c 'printf "%s" "$0" | grep -q "password for.*Recovery code:"' "$OUT"
variant2
sudo_as "$(sc 1)"
check "sudo: a recovery code instead of the password runs the command as root" \
    sh -c '[ "$0" -eq 0 ] && [ "$1" = 0 ]' "$RC" "$(cat "$T/sudo.out")"
check "sudo: the user was asked for a recovery code" has "Recovery code:"
sudo_as '' 'Correct-Horse-9'
check "sudo: an empty answer to the recovery prompt goes on to the password" \
    sh -c '[ "$0" -eq 0 ] && printf "%s" "$1" | grep -q "password for"' "$RC" "$OUT"
sudo_as "$(sc 1)"
check "sudo: the same code again is refused" test "$RC" -ne 0
check "sudo: then the password is asked for" has "password for $U"
sudo_as "$(wrong 3)"
check "sudo: a second failure locks (max_attempts=2)" test "$RC" -ne 0
sudo_as "$(sc 2)"
check "sudo: while locked, a valid code is refused" test "$RC" -ne 0
check "sudo: while locked, no recovery prompt, straight to the password" \
    sh -c '! printf "%s" "$0" | grep -q "Recovery code:" && printf "%s" "$0" | grep -q "password for"' "$OUT"
sudo_as 'Correct-Horse-9'
check "sudo: the password still works while recovery codes are locked" test "$RC" -eq 0

# Issue #15: PAM_RECOVERY_USED/_REMAINING reach pam_exec in the session
# stack, and pam_recovery's session line after it keeps them out of the
# command's environment.  First without that line: sudo copies the PAM
# environment into the command's (the reason for the line).
"$BIN/pam-recovery-admin" -c "$T/sudo.conf" unlock "$U" >/dev/null 2>&1
OUT=$("$BIN/pam-recovery-admin" -c "$T/sudo.conf" generate "$U" -y -n 3 --format csv 2>&1)
printf '%s\n' "$OUT" >"$T/sudo.csv"
cat >"$T/exec.sh" <<SH
#!/bin/sh
[ "\$PAM_TYPE" = open_session ] || exit 0
env | grep '^PAM_RECOVERY_' | sort >"$T/exec.env"
SH
chmod 0755 "$T/exec.sh"
sudo_env() {
	rm -f "$T/exec.env"
	printf '%s\n' "$1" | timeout 30 runuser -u "$U" -- sudo -S -k env \
	    >"$T/sudo.out" 2>"$T/sudo.err"
	RC=$?
	OUT=$(cat "$T/sudo.out")
}
session_stack() {
	variant2
	# seteuid: sudo's real uid is the user's, who cannot write in $T.
	echo "session  optional    pam_exec.so seteuid $T/exec.sh" >>"/etc/pam.d/$SVC-sudo"
	[ "$1" = strip ] && echo "session  optional    $BIN/pam_recovery.so" >>"/etc/pam.d/$SVC-sudo"
}
session_stack keep
sudo_env "$(sc 1)"
check "sudo, no pam_recovery session line: the command runs" test "$RC" -eq 0
check "sudo, no pam_recovery session line: the command's environment has them (why the line is needed)" \
    has "PAM_RECOVERY_USED=1"
session_stack strip
sudo_env "$(sc 2)"
check "sudo, session line after pam_exec: the command runs" test "$RC" -eq 0
check "sudo, session line after pam_exec: pam_exec gets them" \
    test "$(tr '\n' ' ' <"$T/exec.env" 2>/dev/null)" = "PAM_RECOVERY_REMAINING=1 PAM_RECOVERY_USED=1 "
check "sudo, session line after pam_exec: the command does not" hasnt "PAM_RECOVERY_"

finish
