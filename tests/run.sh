#!/bin/sh
# run.sh: run the unit tests and end-to-end scripts; print one closing line.
# Environment: B (build directory, default build), VALGRIND=1 to run every
# program under valgrind (errors and definite/indirect leaks fail the test).
set -u
B=${B:-build}
export B
if [ "${VALGRIND:-}" = 1 ]; then
	VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --track-fds=no"
else
	VG=""
fi
export VG
pass=0
fail=0
log=$(mktemp) || exit 1
trap 'rm -f "$log"' EXIT

for t in "$B"/test_*; do
	[ -x "$t" ] || continue
	$VG "$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		echo "FAILED: $t exited with $rc"
		fail=$((fail + 1))
	fi
done

for s in tests/e2e_*.sh; do
	sh "$s" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(sed -n 's/^e2e[^:]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^e2e[^:]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$log" | tail -n 1)
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		echo "FAILED: $s exited with $rc"
		fail=$((fail + 1))
	fi
done

echo "check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
