/*
 * The root's heartbeat: a periodic synthetic timer (STIMER0, SINT1) whose expirations the
 * worker loop takes between intercepts. It shows the root stays responsive whatever the
 * children do (issue 3: four CPU burners). `root.heartbeat_ms=N` turns it on and prints
 * each beat with how late the root got to it; `test.heartbeats=K` ends the run after K
 * beats: power off if none was later than the bound, failure code 1 otherwise.
 */
#ifndef HVFW_ROOT_HEARTBEAT_H
#define HVFW_ROOT_HEARTBEAT_H

#include <stdbool.h>
#include <stdint.h>

/* The bound a beat must meet: six scheduler time slices (hv/sched.c, 10 ms each). The
 * guest CPUs are QEMU TCG threads that the host itself deschedules when tests run side by
 * side (20+ ms seen on a loaded 2-core host), so the bound leaves room for that. */
#define HEARTBEAT_BOUND_US 60000u
#define HEARTBEAT_SINT 1

/* Arms the timer if the command line asks for it; the SIMP message page must be set. */
void heartbeat_start(const char *cmdline);
/* Takes a beat waiting in SINT1's slot; true if there was one. */
bool heartbeat_poll(void);

#endif
