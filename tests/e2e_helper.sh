#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# e2e_helper.sh: every command of the user helper pam-recovery, as the
# invoking user, against real stores in a temporary directory: output,
# JSON, exit statuses, files, the PDF and QR codes, and the notify hook.
set -u
suite=e2e_helper
. tests/lib.sh
skip_under_valgrind

# Fontconfig, under cairo, keeps what it parsed until exit in a way leak
# checkers report as lost: its allocations, and only those, are suppressed.
[ -n "$VG" ] && VG="$VG --suppressions=$(pwd)/tests/valgrind.supp"
LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0"
export LSAN_OPTIONS

T=$(mktemp -d) || exit 1
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
ME=$(id -un)
mkconf() {
	cat >"$1" <<CONF
# Tiny argon2 limits, set the way an administrator would.
store = $2
kdf_opslimit = 1
kdf_memlimit = 8K
store_helper = $BIN/pam-recovery-store
site_name = Example Corp
CONF
	chmod 0644 "$1"
}
mkconf "$T/conf" "$T/%u.store"
mkconf "$T/other.conf" "$T/other.%u.store"
STORE="$T/$ME.store"

# run ARGS...: the helper with stdout and stderr kept apart, in $T/out and
# $T/err; OUT holds both, RC the exit status.
run() {
	$VG "$BIN/pam-recovery" -c "$T/conf" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out" "$T/err")
	vgcheck pam-recovery
}
# verify_with INPUT: verify with INPUT as the line on standard input.
verify_with() {
	OUT=$(printf '%s\n' "$1" | $VG "$BIN/pam-recovery" -c "$T/conf" verify 2>&1)
	RC=$?
	vgcheck pam-recovery
}
# json EXPR: evaluate a Python expression on the JSON in $T/out (as d).
json() { python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($1)" "$T/out"; }
jsonok() { json "$1" >/dev/null; }
rc() { test "$RC" -eq "$1"; }
# rc_has N PATTERN: exit status N and PATTERN in the output.
rc_has() { rc "$1" && has "$2"; }
# has_all PATTERN...: every fixed string in the output; has_re REGEX.
has_all() { for p in "$@"; do has "$p" || return 1; done; }
has_re() { printf '%s\n' "$OUT" | grep -q -- "$1"; }
# onpty INPUT DELAY COMMAND: run COMMAND on a pseudo-terminal, typing INPUT
# after DELAY seconds (readpassphrase flushes what was typed before it).
onpty() {
	OUT=$( (sleep "$2"; printf '%s\r' "$1") | script -qec "$3" /dev/null 2>&1)
	RC=$?
}
HAVE_PTY=0
command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1 && HAVE_PTY=1
DELAY=1
[ -n "$VG" ] && DELAY=6
batch_id() { run status --json; json 'd["batch"]'; }

"$BIN/pam-recovery" -c "$T/other.conf" generate -n 20 --format csv >"$T/wrong.csv" 2>/dev/null
wrong() { code "$1" "$T/wrong.csv"; }

# --- usage and help ------------------------------------------------------------
run --help
check "--help: exit 0" rc 0
for c in generate status history verify invalidate; do
	check "--help lists $c" has "pam-recovery [-c conf] $c"
done
VERSION=$(sed -n '1{s/^[^ ]* [(]//;s/[)].*//;p;}' debian/changelog)
run --version
check "--version: exit 0" rc 0
check "--version: name and the version of debian/changelog ($VERSION)" \
    test "$(cat "$T/out")" = "pam-recovery $VERSION"
# Every command answers --help on stdout with its own usage, before it
# would read the configuration or look at the store.
for c in generate status history verify invalidate; do
	$VG "$BIN/pam-recovery" -c "$T/no-such.conf" $c --help >"$T/out" 2>"$T/err"
	RC=$?
	vgcheck pam-recovery
	check "$c --help: exit 0, its usage on stdout, nothing on stderr" \
	    sh -c '[ "$0" -eq 0 ] && head -n 1 "$1" | grep -q "^usage: pam-recovery \[-c conf\] $2" && test ! -s "$3"' "$RC" "$T/out" "$c" "$T/err"
	check "$c --help: only that command" \
	    test "$(grep -c 'pam-recovery \[-c conf\] [a-z]' "$T/out")" -eq 1
done
run invalidate 3 --help
check "invalidate N --help: still help, nothing invalidated" \
    sh -c '[ "$0" -eq 0 ] && grep -q "^usage: pam-recovery \[-c conf\] invalidate" "$1"' "$RC" "$T/out"
run
check "no command: usage, exit 2" rc 2
run frobnicate
check "unknown command: exit 2" rc 2
check "unknown command: named" has "unknown command frobnicate"
cat >"$T/system.conf" <<CONF
store = $T/system-store
CONF
chmod 0644 "$T/system.conf"
OUT=$($VG "$BIN/pam-recovery" -c "$T/system.conf" status 2>&1); RC=$?
check "system store: exit 1" rc 1
# root is sent to pam-recovery-admin; anyone else to the self-service,
# which is not running here.
if [ "$(id -u)" -eq 0 ]; then
	check "system store, as root: codes come from the administrator" has "issued by the administrator"
else
	check "system store: the self-service is not running, the administrator manages the codes" \
	    has "managed by the administrator"
fi

# --- before any code exists ------------------------------------------------------
run status
check "status without codes: exit 0" rc 0
check "status without codes: says how to create them" has "pam-recovery generate"
run status --json
check "status --json without codes: enrolled false" test "$(json 'd["enrolled"]')" = False
run history
check "history without codes: exit 0, says so" rc_has 0 "No recovery codes"
run history --json
check "history --json without codes: empty" test "$(json 'd["total"], d["pages"], d["batches"]')" = "0 0 []"
verify_with "$(wrong 1)"
check "verify without codes: exit 1" rc 1
check "verify without codes: says so" has "no recovery codes for $ME"
run invalidate 1
check "invalidate without codes: exit 1, nothing to invalidate" rc_has 1 "nothing to invalidate"

# --- generate -----------------------------------------------------------------
run generate -n 5 --format json
check "generate json: exit 0" rc 0
check "generate json: 5 codes numbered 1..5" test "$(json '[c["slot"] for c in d["codes"]]')" = "[1, 2, 3, 4, 5]"
check "generate json: site, user, batch" test "$(json 'd["site"], d["user"], len(d["batch"])')" = "Example Corp $ME 16"
run generate -n 5 --format csv
check "live codes are not replaced without -y or a terminal" rc 1
check "... and the message says how" has "use -y"
run generate -y -n 10 --format csv
check "generate -y csv: exit 0" rc 0
cp "$T/out" "$T/codes.csv"
check "csv: header and 10 codes" test "$(grep -c '^[0-9]*,[0-9A-Z-]*$' "$T/codes.csv")" -eq 10
for a in "-n 0" "-n 101" "-n x" "--format xml" "--expires x" "--expires 99999" "extra"; do
	# shellcheck disable=SC2086
	run generate -y $a
	check "generate $a: usage error (2)" rc 2
done
run generate -y --qr --format csv
check "--qr into csv on stdout: usage error" rc 2
check "... and says to use -o" has "-o FILE"
ID=$(batch_id)

# --- -o: new files only, mode 0600 ------------------------------------------------
(umask 000; $VG "$BIN/pam-recovery" -c "$T/conf" generate -y -o "$T/list.txt" >"$T/out" 2>"$T/err"); RC=$?
OUT=$(cat "$T/err")
check "-o: exit 0" rc 0
check "-o with umask 000: mode 0600" test "$(stat -c %a "$T/list.txt")" = 600
check "-o: says where" has "Wrote 10 codes to $T/list.txt"
check "-o txt: header with site and user" grep -q "Recovery codes for $ME on Example Corp" "$T/list.txt"
check "-o txt: 10 numbered codes" test "$(grep -cE '^ +[0-9]+\.  [0-9A-Z-]{23}$' "$T/list.txt")" -eq 10
ID=$(batch_id)
cp "$T/list.txt" "$T/list.copy"
run generate -y -o "$T/list.txt"
check "-o onto an existing file: exit 1" rc 1
check "-o onto an existing file: says it exists" has "already exists"
check "-o onto an existing file: file unchanged" cmp -s "$T/list.txt" "$T/list.copy"
check "-o onto an existing file: codes unchanged" test "$(batch_id)" = "$ID"
ln -s "$T/elsewhere" "$T/link.txt"
run generate -y -o "$T/link.txt"
check "-o onto a symlink: refused" sh -c '[ "$0" -eq 1 ] && [ ! -e "$1" ]' "$RC" "$T/elsewhere"
mkdir "$T/dir"
run generate -y -o "$T/dir"
check "-o DIR: writes DIR/recovery_codes.txt" test -f "$T/dir/recovery_codes.txt"
run generate -y -o "$T/dir/x.json"
check "-o x.json: JSON by the extension" python3 -c 'import json, sys; assert len(json.load(open(sys.argv[1]))["codes"]) == 10' "$T/dir/x.json"
run generate -y -o "$T/dir/x.csv" --format txt
check "--format wins over the extension" grep -q "^Recovery codes for" "$T/dir/x.csv"

# --- PDF ------------------------------------------------------------------------
# pdf_ok FILE N: one A4 page; pdftotext finds N codes; the QR code of a
# 150 dpi rendering decodes to the same numbered list; a code is real.
pdf_ok() {
	pdftotext -layout "$1" "$T/pdf.txt" &&
	grep -oE '[0-9]+\. +[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}' "$T/pdf.txt" |
	    sed 's/\. */. /' | sort >"$T/pdf.codes" &&
	test "$(wc -l <"$T/pdf.codes")" -eq "$2" &&
	pdfinfo "$1" | grep -q '^Pages: *1$' &&
	pdfinfo "$1" | grep -q 'Page size: *595.28 x 841.89 pts (A4)' &&
	rm -f "$T/page-1.png" && pdftoppm -r 150 -png "$1" "$T/page" &&
	zbarimg -q --raw "$T/page-1.png" 2>/dev/null >"$T/qr.txt" &&
	grep -q "^Recovery codes for $ME on Example Corp" "$T/qr.txt" &&
	grep -E '^[0-9]+\. ' "$T/qr.txt" | sort | cmp -s - "$T/pdf.codes"
}
(umask 000; $VG "$BIN/pam-recovery" -c "$T/conf" generate -y -o "$T/codes.pdf" >"$T/out" 2>"$T/err"); RC=$?
OUT=$(cat "$T/err")
vgcheck pam-recovery
check "pdf: exit 0" rc 0
check "pdf: mode 0600 even with umask 000" test "$(stat -c %a "$T/codes.pdf")" = 600
check "pdf: one A4 page, every code as text and in the QR code" pdf_ok "$T/codes.pdf" 10
check "pdf: title, user, batch id" sh -c 'grep -q "Recovery codes" "$0" && grep -q "$1" "$0" && grep -q "$2" "$0"' "$T/pdf.txt" "$ME" "$(batch_id)"
check "pdf: instructions" grep -q "How to use these codes" "$T/pdf.txt"
check "pdf: the QR code's caption says where a copy is safe, not 'to a phone'" \
    sh -c 'grep -q "password" "$0" && grep -q "never the phone you log in with" "$0" && ! grep -q "copy this list to a phone" "$0"' "$T/pdf.txt"
verify_with "$(sed -n 's/^1\. //p' "$T/qr.txt")"
check "pdf: code #1 from the QR code is a real code" has "Code #1 would be accepted"
run generate -y --format pdf
check "pdf to a pipe: exit 0" rc 0
check "pdf to a pipe: a PDF on stdout" sh -c 'head -c 5 "$0" | grep -q "%PDF-"' "$T/out"
cp "$T/out" "$T/stdout.pdf"
check "pdf to a pipe: every code, QR decodes" pdf_ok "$T/stdout.pdf" 10
run generate -y -n 100 -o "$T/hundred.pdf"
check "pdf of 100 codes: still one page, QR decodes" pdf_ok "$T/hundred.pdf" 100
if [ "$HAVE_PTY" = 1 ]; then
	ID=$(batch_id)
	onpty "" 0 "$BIN/pam-recovery -c $T/conf generate -y --format pdf"
	check "pdf to a terminal: usage error" rc 2
	check "pdf to a terminal: says to use -o" has "-o FILE"
	check "pdf to a terminal: no new codes" test "$(batch_id)" = "$ID"
fi

# --- terminal QR code -------------------------------------------------------------
# The half-block picture back into pixels (light blocks on a dark
# terminal), scaled up for zbarimg; checks it is square and sized like a QR
# code with a 4-module quiet zone.
cat >"$T/qr2pgm.py" <<'PY'
import sys
lines = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8")]
qr = [l for l in lines if l and set(l) <= set(" \u2580\u2584\u2588")]
w = len(qr[0])
assert all(len(l) == w for l in qr), "ragged lines"
assert len(qr) == (w + 1) // 2, "not square: %d columns, %d lines" % (w, len(qr))
assert (w - 8 - 21) % 4 == 0 and w - 8 >= 21, "not a QR size: %d" % w
assert set(qr[0]) == {"\u2588"} and set(qr[1]) == {"\u2588"}, "no quiet zone"
px = []
for l in qr:
    px.append([c in "\u2588\u2580" for c in l])
    px.append([c in "\u2588\u2584" for c in l])
s = 6
with open(sys.argv[2], "wb") as f:
    f.write(b"P5\n%d %d\n255\n" % (w * s, len(px) * s))
    for row in px:
        line = b"".join((b"\xff" if light else b"\x00") * s for light in row)
        f.write(line * s)
PY
run generate -y --qr
check "--qr: exit 0" rc 0
check "--qr: the list and the QR code" has "Scan this QR code"
check "--qr: says where a copy is safe, not 'to a phone'" \
    sh -c 'printf "%s" "$0" | grep -q "into a password manager on another device" && ! printf "%s" "$0" | grep -q "copy the list to a phone"' "$OUT"
check "--qr: square, a QR size, quiet zone" python3 "$T/qr2pgm.py" "$T/out" "$T/qr.pgm"
zbarimg -q --raw "$T/qr.pgm" 2>/dev/null >"$T/qr.txt"
grep -E '^ +[0-9]+\.  ' "$T/out" | sed 's/^ *//; s/\.  */. /' >"$T/listed.txt"
check "--qr: decodes to the printed list" sh -c 'grep -E "^[0-9]+\. " "$0" | cmp -s - "$1" && [ "$(wc -l <"$1")" -eq 10 ]' "$T/qr.txt" "$T/listed.txt"
check "--qr: 10 codes fit in 80 columns" test "$(python3 -c 'import sys; print(max(len(l) for l in open(sys.argv[1], encoding="utf-8").read().split("\n")))' "$T/out")" -le 80
# 100 codes of the 213-bit base60 format are more than a QR code holds.
cp "$T/conf" "$T/conf.saved"
printf 'code_alphabet = base60\ncode_length = 36\ncode_group = 6\n' >>"$T/conf"
ID=$(batch_id)
run generate -y -n 100 --qr
check "--qr with 100 long codes: exit 1, too many" rc_has 1 "too many for one QR code"
check "--qr with 100 long codes: no new codes" test "$(batch_id)" = "$ID"
run generate -y -n 40 --qr
check "--qr with 40 long codes: fits, decodes" sh -c 'python3 "$0" "$1" "$2" && zbarimg -q --raw "$2" 2>/dev/null | grep -cE "^[0-9]+\. [A-Za-z2-9]{6}(-[A-Za-z2-9]{6}){5}\$" | grep -qx 40' "$T/qr2pgm.py" "$T/out" "$T/qr.pgm"
mv "$T/conf.saved" "$T/conf"
run generate -y -o "$T/withqr.csv" --qr
check "--qr with -o csv: QR code on stdout" sh -c '[ "$0" -eq 0 ] && grep -q "Scan this QR code" "$1" && ! grep -q "Scan" "$2"' "$RC" "$T/out" "$T/withqr.csv"

# --- verify -------------------------------------------------------------------
run generate -y -n 10 --format csv
cp "$T/out" "$T/codes.csv"
c1=$(code 1 "$T/codes.csv")
verify_with "$c1"
check "verify a good code: exit 0" rc 0
check "verify a good code: would be accepted, not used up" has "Code #1 would be accepted; it was not used up (10 codes left)."
verify_with "$(printf '%s' "$c1" | tr 'A-Z' 'a-z' | tr -d -)"
check "verify: lower case without dashes is the same code" rc 0
run status --json
check "verify: not consumed" test "$(json 'd["remaining"]')" = 10
check "verify: batch marked verified" test "$(json 'd["verified"] > 0')" = True
echo "auth required $BIN/pam_recovery.so conf=$T/conf" >"$T/rt"
mkdir "$T/pam.d" && mv "$T/rt" "$T/pam.d/rt"
pamrun rt "$ME" auth -- "$c1"
check "a verified code still logs in" has "auth: PAM_SUCCESS"
verify_with "$c1"
check "verify a used code: exit 1, already used" rc_has 1 "already used"
c5=$(code 5 "$T/codes.csv")
last=$(printf '%s' "$c5" | tail -c 1)
if [ "$last" = 0 ]; then sub=1; else sub=0; fi
verify_with "$(printf '%s' "$c5" | sed "s/.\$/$sub/")"
check "verify a typo: exit 1, check for typos" rc_has 1 "check for typos"
verify_with ""
check "verify nothing: exit 1, no code entered" rc_has 1 "no code was entered"
run verify "$c5"
check "verify with the code as an argument: usage error" rc 2
run invalidate 6
verify_with "$(code 6 "$T/codes.csv")"
check "verify an invalidated code: exit 1, invalidated" rc_has 1 "invalidated"
verify_with "$c5"
run status --json
check "a good verify clears the failures (typos never count)" test "$(json 'd["failures"]')" = 0
for i in 1 2 3 4; do verify_with "$(wrong "$i")"; done
check "verify a wrong code: exit 1, wrong code" rc_has 1 "wrong code"
run status --json
check "wrong codes in verify count as failed attempts" test "$(json 'd["failures"]')" = 4
verify_with "$(wrong 5)"
check "5th wrong code: now locked, with the wait" has "now locked for 1 minute"
verify_with "$c5"
check "verify while locked: exit 1, says how long" rc_has 1 "locked after too many failed attempts: try again in"
pamrun rt "$ME" auth -- "$c5"
check "the lock from verify holds for logins too" has "auth: PAM_AUTH_ERR"
if [ "$HAVE_PTY" = 1 ]; then
	rm -rf "$STORE"
	run generate -n 3 --format csv
	cp "$T/out" "$T/codes.csv"
	onpty "$(code 2 "$T/codes.csv")" "$DELAY" "$VG $BIN/pam-recovery -c $T/conf verify"
	check "verify on a terminal: prompts, accepts" has_all "Recovery code:" "Code #2 would be accepted"
	check "verify on a terminal: the code is not echoed" hasnt "$(code 2 "$T/codes.csv")"
	# A terminal on stdin but no controlling terminal (su -c): refused,
	# since the code would be echoed.
	onpty "$(code 2 "$T/codes.csv")" "$DELAY" "setsid -w $VG $BIN/pam-recovery -c $T/conf verify"
	check "verify without a controlling terminal: refused" has "no controlling terminal"
	check "verify without a controlling terminal: not echoed" hasnt "$(code 2 "$T/codes.csv")"
fi

# --- invalidate -----------------------------------------------------------------
rm -rf "$STORE"
run generate -n 10 --format csv
cp "$T/out" "$T/codes.csv"
run invalidate 2 '#3' 3
check "invalidate 2 #3 3: exit 0" rc 0
check "invalidate: names what it did" has "Invalidated #2 and #3."
check "invalidate: says what is left" has "8 codes left."
run invalidate 2 4
check "invalidate again: says what was already invalid" has_all "Invalidated #4." "Already invalidated: #2."
pamrun rt "$ME" auth -- "$(code 1 "$T/codes.csv")"
run invalidate 1
check "invalidate a used code: left as it was" has "Already used, left as it was: #1."
for a in 0 11 99999999999999999999; do
	run invalidate 5 "$a"
	check "invalidate $a: exit 1, no such code" rc_has 1 "no code #$a: the current codes are numbered 1 to 10"
done
run status --json
check "a bad number invalidates nothing" test "$(json 'd["remaining"]')" = 6
for a in abc 1x -- "--all 3"; do
	# shellcheck disable=SC2086
	run invalidate $a
	check "invalidate $a: usage error (2)" rc 2
done
verify_with "$(code 2 "$T/codes.csv")"
check "an invalidated slot no longer verifies" has "invalidated"
run invalidate --all
check "invalidate --all without a terminal or -y: exit 1" rc 1
check "... and says how" has "use -y"
if [ "$HAVE_PTY" = 1 ]; then
	onpty n 0 "$VG $BIN/pam-recovery -c $T/conf invalidate --all"
	check "invalidate --all, answered no: kept" rc_has 1 "Invalidate all 6 remaining"
	onpty y 0 "$VG $BIN/pam-recovery -c $T/conf invalidate --all"
	check "invalidate --all, answered yes: done" rc_has 0 "Invalidated all 6 remaining codes"
else
	run invalidate --all -y
fi
run status --json
check "after --all: not enrolled" test "$(json 'd["enrolled"]')" = False
verify_with "$(code 4 "$T/codes.csv")"
check "after --all: verify says there are no codes" rc_has 1 "no recovery codes"
run invalidate --all -y
check "invalidate --all with nothing left: exit 1" rc 1

# --- history ---------------------------------------------------------------------
cat >>"$T/conf" <<CONF
history_max_visible = 7
history_per_page = 3
CONF
rm -rf "$STORE"
i=0
while [ $i -lt 8 ]; do run generate -y -n 4 --format csv; i=$((i + 1)); done
run generate -y -n 4 --expires 30 --qr
run history --json
check "history --json: exit 0" rc 0
check "history: 9 batches, 7 visible, 3 pages of 3" test "$(json 'd["total"], d["visible"], d["pages"], d["per_page"], d["page"]')" = "9 7 3 3 1"
check "history: newest first, the current one on top" test "$(json 'd["batches"][0]["current"], d["batches"][0]["status"], [b["current"] for b in d["batches"][1:]]')" = "True active [False, False]"
check "history: replaced batches are invalidated" test "$(json '{b["status"] for b in d["batches"][1:]}')" = "{'invalidated'}"
check "history: exported as txt and qr" test "$(json 'd["batches"][0]["exported"]')" = "['txt', 'qr']"
check "history: expires 30 days after creation" test "$(json 'd["batches"][0]["expires"] - d["batches"][0]["created"]')" = 2592000
check "history: JSON fields and types" jsonok 'all(set(b) == {"batch", "status", "current", "created", "modified", "expires", "verified", "count", "used", "invalidated", "remaining", "exported"} and len(b["batch"]) == 16 and all(type(b[k]) is int for k in ("created", "modified", "expires", "verified", "count", "used", "invalidated", "remaining")) and b["count"] == b["used"] + b["invalidated"] + b["remaining"] for b in d["batches"]) or sys.exit(1)'
json '[b["batch"] for b in d["batches"]]' >"$T/p1"
run history --json --page 3
check "history: the last page has the 7th batch only" test "$(json 'len(d["batches"])')" = 1
run history --json --page 2 --per-page 5
check "history --per-page 5: page 2 has 2 of the 7" test "$(json 'len(d["batches"]), d["pages"]')" = "2 2"
all=""
for p in 1 2 3; do run history --json --page $p; all="$all $(json '" ".join(b["batch"] for b in d["batches"])')"; done
check "history: pages cover 7 distinct batches, created newest first" sh -c 'printf "%s\n" $0 | sort -u | wc -l | grep -qx 7' "$all"
run history --json --per-page 100
check "history: created times never increase down the list" jsonok 'all(a["created"] >= b["created"] for a, b in zip(d["batches"], d["batches"][1:])) or sys.exit(1)'
check "history: at most history_max_visible even on one page" test "$(json 'len(d["batches"])')" = 7
run history --page 4
check "history --page 4 of 3: exit 1, says so" rc_has 1 "no page 4"
# Issue #15: the count is of batches, and the page size is a page size.
check "history --page 4 of 3: the true counts" has "the history shows 7 batches, on 3 pages of 3"
run history --page 9 --per-page 10
check "history --page 9, 7 batches: one page of 10, not 10 batches" \
    rc_has 1 "no page 9: the history shows 7 batches, on 1 page of 10"
for a in "--page 0" "--page x" "--per-page 0" "extra"; do
	# shellcheck disable=SC2086
	run history $a
	check "history $a: usage error (2)" rc 2
done
run history
check "history card: id, status, current" has "$(batch_id)  active (current)"
check "history card: counts" has "codes     4 issued, 0 used, 0 invalidated, 4 remaining"
check "history card: exported" has "exported  txt, qr"
check "history card: expires" has_re "expires   20[0-9-]* [0-9:]* UTC"
check "history text: page line and what is hidden" has_all "Page 1 of 3: batches 1 to 3 of 7" "2 older not shown"
run status
check "status shows the expiry date" has_re "expires 20[0-9-]* [0-9:]* UTC"

# --- generate_cooldown ----------------------------------------------------------
echo "generate_cooldown = 3600" >>"$T/conf"
rm -rf "$STORE"
run generate -y --format csv
check "cooldown: the first generate works" rc 0
run generate -y --format csv
check "cooldown: a second one is refused, exit 1" rc 1
check "cooldown: says why" has "generate_cooldown"
check "cooldown: says for how long" has_re "again in [0-9]* minutes\|again in 1 hour"

# --- the pam_exec notification hook ------------------------------------------------
mkdir "$T/bin"
cat >"$T/bin/sendmail" <<SH
#!/bin/sh
printf '%s\n' "\$*" >"$T/mail.args"
cat >"$T/mail"
SH
chmod 0755 "$T/bin/sendmail"
notify() { env -i PATH="$T/bin:/usr/bin:/bin" "$@" sh conf/pam-recovery-notify.sh; }
notify PAM_USER="$ME" PAM_SERVICE=sshd PAM_RHOST=203.0.113.5 PAM_TYPE=open_session \
    PAM_RECOVERY_USED=1 PAM_RECOVERY_REMAINING=7
check "notify: exit 0" test $? -eq 0
check "notify: sendmail -t -oi" grep -qx -- "-t -oi" "$T/mail.args"
check "notify: From, To, Subject, Date headers" sh -c 'grep -q "^From: ." "$0" && grep -qx "To: $1" "$0" && grep -q "^Subject: A recovery code was used to log in as $1" "$0" && grep -qE "^Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [+-][0-9]{4}$" "$0"' "$T/mail" "$ME"
check "notify: header lines, an empty line, the body" awk 'h == 0 && /^$/ { h = 1; next } h == 0 && !/^[A-Za-z-]+: [^ ]/ { bad = 1 } END { exit !(h && !bad) }' "$T/mail"
check "notify: body has service, host and codes left" sh -c 'grep -q "Service: sshd" "$0" && grep -q "From:    203.0.113.5" "$0" && grep -q "Left:    7 recovery codes" "$0"' "$T/mail"
rm -f "$T/mail"
notify PAM_USER="$ME" PAM_SERVICE=sshd PAM_TYPE=open_session
check "notify: nothing without PAM_RECOVERY_USED=1" test ! -e "$T/mail"
notify PAM_USER="$ME" PAM_SERVICE=sshd PAM_TYPE=close_session PAM_RECOVERY_USED=1
check "notify: nothing at close_session" test ! -e "$T/mail"
notify PAM_USER="$ME" PAM_SERVICE=sshd PAM_TYPE=open_session PAM_RECOVERY_USED=1 \
    PAM_RHOST="$(printf 'evil.example\nBcc: victim@example.org')" PAM_RECOVERY_REMAINING=0
check "notify: no header injection through PAM_RHOST" sh -c '! grep -q "^Bcc:" "$0"' "$T/mail"
check "notify: the last code is called out" grep -q "LAST" "$T/mail"
printf '#!/bin/sh\ncat >/dev/null\nexit 75\n' >"$T/bin/sendmail"
notify PAM_USER="$ME" PAM_TYPE=open_session PAM_RECOVERY_USED=1
check "notify: a failing sendmail still exits 0" test $? -eq 0
env -i PATH=/usr/bin:/bin PAM_USER="$ME" PAM_TYPE=open_session PAM_RECOVERY_USED=1 \
    sh conf/pam-recovery-notify.sh -s "$T/no-such-sendmail" -c admin@example.org
check "notify: no sendmail at all still exits 0" test $? -eq 0
check "pam.d example points at the installed hook" grep -q "^session *optional *pam_exec.so quiet /usr/share/pam-recovery/pam-recovery-notify.sh" conf/pam.d/sshd-recovery.example

# --- a -c file cannot weaken the system's policy ------------------------------
# No /etc/security/pam_recovery.conf on a test machine: the built-in
# defaults are the policy (ceiling opslimit 4 and 256M, the entropy of the
# default format as the floor, audit on).  The -c file below tries to lift
# each of them.
if [ -e /etc/security/pam_recovery.conf ]; then
	echo "ok - policy of a -c file # SKIP /etc/security/pam_recovery.conf exists"
else
	weak() {
		mkconf "$T/weak.conf" "$T/weak.%u.store"
		# Each key once: a key the base sets is replaced, not repeated.
		for kv in "$@"; do
			sed -i "/^${kv%% =*} =/d" "$T/weak.conf"
		done
		printf '%s\n' "$@" >>"$T/weak.conf"
		$VG "$BIN/pam-recovery" -c "$T/weak.conf" generate -y --format csv >"$T/out" 2>"$T/err"
		RC=$?
		OUT=$(cat "$T/out" "$T/err")
		vgcheck pam-recovery
	}
	weak "kdf_opslimit = 40" "kdf_opslimit_max = 100"
	check "policy: opslimit 40 above the ceiling, even raised by -c: exit 1" test "$RC" -eq 1
	check "policy: says which key" has "kdf_opslimit: 40 is outside kdf_opslimit_min .. kdf_opslimit_max (1 .. 4)"
	check "policy: says whose policy" has "outside the policy of /etc/security/pam_recovery.conf"
	check "policy: no codes printed" test ! -s "$T/out"
	weak "kdf_memlimit = 4G" "kdf_memlimit_max = 4G"
	check "policy: memlimit 4G: exit 1" test "$RC" -eq 1
	weak "code_length = 9" "code_group = 3" "code_min_entropy = 40"
	check "policy: a 40-bit format under the floor: exit 1" test "$RC" -eq 1
	check "policy: names the entropy floor" has "code_min_entropy"
	weak "audit = no"
	check "policy: audit = no still generates" test "$RC" -eq 0
	check "policy: audit = no is reported as ignored" has "audit = no ignored"
	weak "kdf_opslimit = 2" "kdf_opslimit_min = 2"
	check "policy: -c may tighten the floor" test "$RC" -eq 0
	weak "kdf_opslimit = 1" "kdf_opslimit_min = 2"
	check "policy: and is held to it" test "$RC" -eq 1
fi

# --- the directory that should hold the store is missing (issue #15) ------
mkconf "$T/nodir.conf" "$T/missing/%u.store"
OUT=$($VG "$BIN/pam-recovery" -c "$T/nodir.conf" status 2>&1)
RC=$?
check "status, store directory missing: exit status 1 (got $RC)" test "$RC" -eq 1
check "status, store directory missing: names it" has "$T/missing does not exist"
check "status, store directory missing: does not advise generate" hasnt "Create some with"
OUT=$($VG "$BIN/pam-recovery" -c "$T/nodir.conf" generate -y --format csv 2>&1)
RC=$?
check "generate, store directory missing: exit status 1 (got $RC)" test "$RC" -eq 1
check "generate, store directory missing: names it" has "$T/missing does not exist"
check "generate, store directory missing: no input/output error" hasnt "input/output"
check "generate, store directory missing: no code shown" hasnt "slot,code"

# --- status --codes (#17.1): the user's own view of each code --------------------
rm -rf "$STORE"
run generate -y -n 4 --format csv
cp "$T/out" "$T/sc.csv"
pamrun rt "$ME" auth -- "$(code 3 "$T/sc.csv")"
run invalidate -y 1
run status --codes
check "status --codes: exit 0, one line per code" \
    sh -c '[ "$1" -eq 0 ] && test "$(grep -c "^  *[1-4]  " "$0")" -eq 4' "$T/out" "$RC"
check "status --codes: the code used at a login, with service and rhost" \
    sh -c 'grep -q "^    3  used        .* via rt from 127.0.0.1$" "$0"' "$T/out"
check "status --codes: the one invalidated by the user" \
    sh -c 'grep -q "^    1  invalidated .* by the user$" "$0"' "$T/out"
check "status --codes: the others unused" \
    sh -c 'test "$(grep -c "^    [24]  unused" "$0")" -eq 2' "$T/out"
run status --codes --json
check "status --codes --json: JSON with a codes array" \
    sh -c '[ "$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(\",\".join(c[\"state\"] for c in d[\"codes\"]))" "$0")" = "invalidated,unused,used,unused" ]' "$T/out"
run status --json
check "status --json without --codes: no codes array" jsonok "d['remaining'] == 2 and 'codes' not in d"

# A pepper with per-user stores: the module refuses every login of such a
# configuration, so the helper makes no codes for it either.
{ cat "$T/conf"; echo "pepper_file = $T/pep.key"; } >"$T/pep.conf"
head -c 64 /dev/urandom >"$T/pep.key"
chmod 0600 "$T/pep.key"
OUT=$($VG "$BIN/pam-recovery" -c "$T/pep.conf" generate -n 3 --format csv 2>&1)
RC=$?
check "pepper with a per-user store: generate refuses (exit 1)" test "$RC" -eq 1
check "pepper with a per-user store: says why" has "pepper_file needs a system store"
check "pepper with a per-user store: no code printed" sh -c '! printf "%s\n" "$0" | grep -q "^1,"' "$OUT"

finish
