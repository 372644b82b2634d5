#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_demo.sh: the README's first command does what the README says: make
# demo's script, run as is on the built tree, logs in with a code, refuses
# it the second time, reports a typo without counting it, and locks after
# the fifth failure.  (Issue #15: a demo that nobody ran broke unseen.)
set -u
suite=e2e_demo
. tests/lib.sh

OUT=$(B="$B" sh scripts/demo.sh 2>&1)
RC=$?
check "demo: exits 0 (got $RC)" test "$RC" -eq 0
# The results of the logins, in the order the demo makes them.
results=$(printf '%s\n' "$OUT" | sed -n 's/^ *auth: //p' | tr '\n' ' ')
check "demo: code #1 logs in, then every other login is refused" \
    test "$results" = "PAM_SUCCESS PAM_AUTH_ERR PAM_AUTH_ERR PAM_AUTH_ERR PAM_AUTH_ERR PAM_AUTH_ERR PAM_AUTH_ERR PAM_AUTH_ERR "
check "demo: the login says how many codes are left" has "Recovery code accepted. 9 codes left."
check "demo: the typo is reported as a typo" has "Not a valid recovery code - check for typos."
# 60 s from the fifth failure; on a loaded machine seconds pass before the next login asks.
check "demo: the fifth failure locks for 60 seconds" \
    test "$(printf '%s\n' "$OUT" | grep -Ec 'locked. Try again in (60|5[0-9]) seconds.')" -eq 2
check "demo: while locked there is no prompt" \
    test "$(printf '%s\n' "$OUT" | sed -n 's/^ *prompts: //p' | tail -n 1)" = 0
check "demo: status shows the lock and 9 codes" \
    sh -c 'printf "%s\n" "$0" | grep -q "9 of 10 left" && printf "%s\n" "$0" | grep -q "LOCKED for"' "$OUT"
check "demo: leaves nothing behind" hasnt "No such file"
finish
