/*
 * The root's self-test of its management hypercalls (hv/root_calls.h) through the real
 * hypercall path: a throw-away child partition taken through its whole life (create,
 * initialize, map, create a VP, registers, intercepts, finalize, unmap, delete), and every
 * refusal the hypervisor owes the root (wrong state, wrong index, pages it does not own,
 * unknown registers, invalid values, itself as a target, a deleted partition). Prints
 * `selftest: hypercalls: ok (N calls, M refused as expected)` or a FAILED line.
 */
#ifndef HVFW_ROOT_HYPERCALL_SELFTEST_H
#define HVFW_ROOT_HYPERCALL_SELFTEST_H

#include <stdbool.h>

bool hypercall_selftest_run(void);

#endif
