#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run.sh: run the unit tests and end-to-end scripts; print one closing line,
# "RUN run: N passed, N failed".
# Environment: B (build directory, default build), VALGRIND=1 to run every
# program under valgrind (errors and definite/indirect leaks fail the test),
# CHECK_RUN (the run's name: plain, asan+ubsan, valgrind), CHECK_TOTALS (a
# file to which "RUN PASSED FAILED" is appended for make check's total).
#
# sh tests/run.sh --total FILE RUN...: after make check's runs, one closing
# line for all of them, "check: N passed, N failed" (CI reads it); a run
# with no line in FILE (its build failed) counts as one failure.  Exit 1 if
# anything failed.
set -u
if [ "${1:-}" = --total ]; then
	file=$2
	shift 2
	pass=0
	fail=0
	for r in "$@"; do
		line=$(grep "^$r " "$file" 2>/dev/null | tail -n 1)
		if [ -z "$line" ]; then
			echo "$r run: did not finish (see its build or package errors above)"
			fail=$((fail + 1))
			continue
		fi
		set -- $line
		pass=$((pass + $2))
		fail=$((fail + $3))
	done
	echo "check: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
fi
RUN=${CHECK_RUN:-plain}
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
skips=$(mktemp) || exit 1
trap 'rm -f "$log" "$skips"' EXIT

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
	grep '^e2e[^:]*: skipped' "$log" >>"$skips"
	p=$(sed -n 's/^e2e[^:]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^e2e[^:]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$log" | tail -n 1)
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		echo "FAILED: $s exited with $rc"
		fail=$((fail + 1))
	fi
done

# Whole suites that did not run in this run, and why, next to its count.
if [ -s "$skips" ]; then
	echo "$RUN run: suites skipped:"
	sed 's/^/  /' "$skips"
fi
[ -n "${CHECK_TOTALS:-}" ] && echo "$RUN $pass $fail" >>"$CHECK_TOTALS"
echo "$RUN run: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
