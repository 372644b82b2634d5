/* SPDX-License-Identifier: BSD-2-Clause */
/* bench_util.c: what every part of the benchmark uses: clocks, statistics, files, table rows. */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define TARGET_RATIO	1.1	/* a login / the floor, in wall and CPU time */

static double
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double
now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

double
tv_ms(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e3 + (double)tv->tv_usec / 1e3;
}

/*
 * CPU time of this thread and of the children it has waited for (the
 * module does its store work and hashing in a child of its own): unlike the
 * wall clock, it does not count the time other processes on a busy machine
 * take from us.  Only differences of it mean anything.
 */
double
cpu_ms(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_CHILDREN, &ru) == -1)
		memset(&ru, 0, sizeof(ru));
	return clock_ms(CLOCK_THREAD_CPUTIME_ID) + tv_ms(&ru.ru_utime) +
	    tv_ms(&ru.ru_stime);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* p95 and p99 are the nearest rank: the maximum below 20 and 100 samples. */
struct stats
summarise(double *v, unsigned n)
{
	struct stats s;
	size_t rank = ((size_t)n * 99 + 99) / 100;
	size_t rank95 = ((size_t)n * 95 + 99) / 100;

	qsort(v, n, sizeof(*v), cmp_double);
	s.min = v[0];
	s.med = n % 2 != 0 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s.p95 = v[rank95 - 1];
	s.p99 = v[rank - 1];
	s.max = v[n - 1];
	return s;
}

int
write_file(const char *path, mode_t mode, const char *text)
{
	size_t len = strlen(text), done = 0;
	ssize_t n;
	int fd, ret = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) == -1) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		goto out;
	}
	while (done < len) {
		if ((n = write(fd, text + done, len - done)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
			goto out;
		}
		done += (size_t)n;
	}
	ret = 0;
out:
	if (fd != -1 && close(fd) == -1 && ret == 0) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		ret = -1;
	}
	return ret;
}

static int
remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	if (remove(path) == -1)
		fprintf(stderr, "bench: cannot remove %s: %s\n", path,
		    strerror(errno));
	return 0;
}

/* rm -rf of our own mkdtemp directory, never following a symlink. */
void
remove_tree(const char *dir)
{
	if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == -1)
		fprintf(stderr, "bench: cannot remove %s: %s\n", dir,
		    strerror(errno));
}

const char *
fs_name(long type)
{
	switch (type) {
	case 0xEF53:		return "ext2/3/4";
	case 0x01021994:	return "tmpfs";
	case 0x58465342:	return "xfs";
	case 0x9123683E:	return "btrfs";
	case 0x794c7630:	return "overlayfs";
	case 0x2fc12fc1:	return "zfs";
	}
	return "other";
}

/*
 * One line of the table.  With a floor (the bare evaluations made beside
 * these samples), its median and the ratio of the medians follow, in wall
 * time and in CPU time (cpu and cpu_base: medians of CPU time).
 */
void
row(const char *what, unsigned n, const struct stats *s,
    const struct stats *base, double cpu, double cpu_base)
{
	printf("   %-40s %3u %7.2f %7.2f %7.2f", what, n, s->min, s->med, s->p99);
	if (base != NULL)
		printf(" %7.2f %6.3f %6.3f  <= %.2f %s", base->med,
		    s->med / base->med, cpu / cpu_base, TARGET_RATIO,
		    s->med / base->med <= TARGET_RATIO &&
		    cpu / cpu_base <= TARGET_RATIO ? "ok" : "MISSED");
	printf("\n");
	fflush(stdout);
}

/*
 * One line of BENCH_DATA: x (codes or users, as kind says), then median,
 * minimum and p99 of valid and of wrong codes, and the medians of the
 * floors taken beside each.  Gnuplot's `index` tells the kinds apart by
 * the two blank lines between.
 */
void
data_row(struct bench *b, const char *kind, unsigned x, const struct stats *ok,
    const struct stats *bad, const struct stats *okf, const struct stats *badf)
{
	if (b->data == NULL)
		return;
	if (b->data_kind != NULL && strcmp(b->data_kind, kind) != 0)
		fprintf(b->data, "\n\n");
	if (b->data_kind == NULL || strcmp(b->data_kind, kind) != 0)
		fprintf(b->data, "# %s ok_med ok_min ok_p99 bad_med bad_min "
		    "bad_p99 ok_floor bad_floor\n", kind);
	b->data_kind = kind;
	fprintf(b->data, "%u %.3f %.3f %.3f %.3f %.3f %.3f %.3f %.3f\n", x,
	    ok->med, ok->min, ok->p99, bad->med, bad->min, bad->p99, okf->med,
	    badf->med);
	fflush(b->data);
}
