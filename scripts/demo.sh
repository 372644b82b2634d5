#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# demo.sh: the whole path, with no system changes: a temporary per-user store,
# the built module loaded by the real libpam (pam_start_confdir), the helper.
set -u
B=${B:-build}
BIN=$(cd "$B" && pwd)
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
ME=$(id -un)
mkdir "$T/pam.d"
cat >"$T/pam_recovery.conf" <<CONF
# The demo keeps its store in a temporary directory; everything else is the
# shipped default (argon2id at 64 MiB, 5 attempts, then 60 s, 120 s, ...).
# The store helper is the one just built, not the installed one.
store = $T/%u.store
store_helper = $BIN/pam-recovery-store
CONF
cat >"$T/wrong.conf" <<CONF
store = $T/someone-else.%u.store
store_helper = $BIN/pam-recovery-store
CONF
echo "auth required $BIN/pam_recovery.so conf=$T/pam_recovery.conf" >"$T/pam.d/demo"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
login() {
	printf '$ (log in as %s, typing %s)\n' "$ME" "$1"
	"$BIN/pamdrive" "$T/pam.d" demo "$ME" auth -- "$1" | sed 's/^/    /'
}

say "1. $ME generates ten recovery codes (shown once, stored only as argon2id hashes)"
run "$BIN/pam-recovery" -c "$T/pam_recovery.conf" generate -n 10 | tee "$T/codes.txt"
code() { sed -n "s/^ *$1\.  *//p" "$T/codes.txt"; }
"$BIN/pam-recovery" -c "$T/wrong.conf" generate -n 4 >"$T/wrong.txt"
wrong() { sed -n "s/^ *$1\.  *//p" "$T/wrong.txt"; }

say "2. Logging in with code #1 through the real libpam"
login "$(code 1)"

say "3. The same code again: refused (single use)"
login "$(code 1)"

say "4. A typo: reported as such, not counted, no hash evaluated"
login "$(code 2 | sed 's/.$/!/')"

say "5. Wrong codes: the reused one was failure 1; failure 5 locks for 60 seconds"
for i in 1 2 3 4; do login "$(wrong "$i")"; done

say "6. While locked even a valid code is refused, without a prompt"
login "$(code 2)"

say "7. What the user sees"
run "$BIN/pam-recovery" -c "$T/pam_recovery.conf" status
echo
echo "Demo store was $T (now removed). Nothing outside it was changed."
