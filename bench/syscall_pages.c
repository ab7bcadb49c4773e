/*
 * Issue 13: why code that runs between system calls costs more on this
 * machine than the same code alone (bench/protocol_cost.ts). After each
 * system call, the loop touches a fixed number of cache lines, laid out in
 * three ways:
 *
 *   - one line in each of that many 4 KiB pages;
 *   - the same number of lines packed together (64 to a page);
 *   - one line per 4 KiB again, inside 2 MiB pages (madvise(MADV_HUGEPAGE)).
 *
 * It prints the time of system call + touches, of the touches alone, of
 * the call alone, and what is left over ("extra"). If a system call only
 * evicted data from the caches, packed and spread lines would cost the same
 * extra. If it throws away address translations (the TLB: page-table
 * isolation without PCID does that on every kernel entry), the extra grows
 * with the number of pages touched, not lines.
 *
 * Measured 2026-12-01 18:43-18:46 UTC, three runs of each, under the bench
 * lock with nothing else running (this 2-CPU PVM guest: `pti` and no `pcid`
 * in /proc/cpuinfo; Linux 6.18): getppid() alone took 0.99-1.10 µs and
 * fstat() 1.23-1.29 µs. After either, each distinct 4 KiB page touched cost
 * 2.6-3.5 ns more than without the call (512 pages: +1.55-1.62 µs; 2,048:
 * +5.3-7.1 µs), while the same number of packed lines cost 0.17-0.32 ns
 * each. Lines one per 4 KiB inside 2 MiB pages cost as much as in 4 KiB
 * pages (2.7-3.1 ns): the guest's huge pages do not spare the translations.
 * With another process running, the spread lines cost up to 8 ns each.
 *
 *   gcc -O2 -o /tmp/syscall_pages bench/syscall_pages.c
 *   /tmp/syscall_pages [LINES] [fstat]
 *
 * LINES defaults to 512; with a second argument the call is fstat(0)
 * instead of getppid(). Not part of `deno task bench`.
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ITERATIONS 200000
#define HUGE_PAGE (2UL << 20)
#define REGION (64UL << 20)

static int use_fstat;
static volatile unsigned long sink;

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static void system_call(void) {
  if (use_fstat) {
    struct stat info;
    fstat(0, &info);
  } else {
    /* getppid() through syscall(): glibc answers some calls without one. */
    syscall(SYS_getppid);
  }
}

/* Nanoseconds per iteration: optionally a system call, then `lines` touches
 * `stride` bytes apart. */
static double loop(char *base, int lines, long stride, int with_call) {
  unsigned long sum = 0;
  double start = now_ns();
  for (int i = 0; i < ITERATIONS; i++) {
    if (with_call) system_call();
    for (int k = 0; k < lines; k++) sum += base[k * stride]++;
  }
  sink = sum;
  return (now_ns() - start) / ITERATIONS;
}

/* A 2 MiB-aligned region of 64 MiB, in huge pages or in 4 KiB ones. */
static char *region(int huge) {
  char *mapped = mmap(NULL, REGION + HUGE_PAGE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) {
    perror("mmap");
    exit(1);
  }
  char *aligned =
      (char *)(((unsigned long)mapped + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
  madvise(aligned, REGION, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  memset(aligned, 1, REGION);
  return aligned;
}

int main(int argc, char **argv) {
  int lines = argc > 1 ? atoi(argv[1]) : 512;
  use_fstat = argc > 2;
  /* 4 KiB + 64: one line per page, without every line in one cache set. */
  long spread = 4096 + 64;
  if (lines < 1 || (long)lines * spread > (long)REGION) {
    fprintf(stderr, "LINES must be 1 to %ld\n", (long)REGION / spread);
    return 2;
  }
  char *small = region(0), *huge = region(1);
  struct {
    const char *name;
    char *base;
    long stride;
  } layouts[] = {
      {"4 KiB pages, one line per page", small, spread},
      {"4 KiB pages, lines packed     ", small, 64},
      {"2 MiB pages, one line per 4KiB", huge, spread},
  };
  printf("%d lines after each %s:\n", lines,
         use_fstat ? "fstat(0)" : "getppid()");
  /* The first round warms up; the second is printed. */
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 3; i++) {
      double both = loop(layouts[i].base, lines, layouts[i].stride, 1);
      double touches = loop(layouts[i].base, lines, layouts[i].stride, 0);
      double call = loop(layouts[i].base, 0, 64, 1);
      if (round == 1) {
        printf("  %s: call + touches %6.0f ns, touches %5.0f, call %5.0f, "
               "extra %5.0f ns (%.2f ns per line)\n",
               layouts[i].name, both, touches, call, both - touches - call,
               (both - touches - call) / lines);
      }
    }
  }
  return 0;
}
