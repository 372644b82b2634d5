# SPDX-License-Identifier: BSD-2-Clause
# plot.gp: login latency against codes and users, from a BENCH_DATA file.
# usage: gnuplot -e "data='build/bench.dat'; out='bench/login-latency.png'" bench/plot.gp
# Block 0 of the data is the per-user store by number of codes, block 1 the
# system store by number of users.  Columns: x; median, minimum and p99 of
# valid codes; the same of wrong codes; the medians of the bare argon2id
# evaluations (the floor) made beside the valid and beside the wrong ones.

if (!exists("data")) data = 'build/bench.dat'
if (!exists("out")) out = 'bench/login-latency.png'

# The y axis stops at 1.5 x the largest median, so that one slow sample
# (a p99 of 15 is their maximum) cannot flatten the rest; such a bar runs
# off the top.
stats data using 2 nooutput
top = STATS_max
stats data using 5 nooutput
top = STATS_max > top ? STATS_max : top
stats data using 8 nooutput
top = STATS_max > top ? STATS_max : top
stats data using 9 nooutput
top = 1.5 * (STATS_max > top ? STATS_max : top)

set terminal pngcairo size 1200,520 font "DejaVu Sans,10"
set output out
set multiplot layout 1,2 title "pam\\_recovery: latency of one login through libpam (median; bar: min to p99) and of one bare argon2id beside it (floor)"

set logscale x
set grid ytics
set ylabel "ms"
set yrange [0:top]
set key bottom right
set errorbars small

set title "per-user store, by codes in the batch"
set xlabel "codes"
set xrange [5:200]
set xtics (10, 100)
plot data index 0 using ($1*0.95):2:3:4 with yerrorlines lw 2 pt 7 lc 1 title "valid code", \
     '' index 0 using ($1*1.05):5:6:7 with yerrorlines lw 2 pt 5 lc 2 title "wrong code", \
     '' index 0 using ($1*0.95):8 with linespoints dt 2 pt 1 lc 1 title "floor beside valid", \
     '' index 0 using ($1*1.05):9 with linespoints dt 2 pt 1 lc 2 title "floor beside wrong"

set title "system store, by users in it (10 codes each)"
set xlabel "users"
set xrange [*:*]
set xtics auto
set format x "%.0s%c"
set offsets graph 0.1, graph 0.1, 0, 0
plot data index 1 using ($1*0.95):2:3:4 with yerrorlines lw 2 pt 7 lc 1 title "valid code", \
     '' index 1 using ($1*1.05):5:6:7 with yerrorlines lw 2 pt 5 lc 2 title "wrong code", \
     '' index 1 using ($1*0.95):8 with linespoints dt 2 pt 1 lc 1 title "floor beside valid", \
     '' index 1 using ($1*1.05):9 with linespoints dt 2 pt 1 lc 2 title "floor beside wrong"

unset multiplot
