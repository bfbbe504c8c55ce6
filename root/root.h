/*
 * The root partition's entry. For now it is called on the bootstrap processor at the end of
 * boot (kernel/main.c); it will become the first code of the deprivileged root partition.
 */
#ifndef HVFW_ROOT_ROOT_H
#define HVFW_ROOT_ROOT_H

/* Brings up the root's libraries (newlib, lwIP) and runs their self-tests.
 * Returns 0 if every self-test passed, -1 otherwise (each prints its own result line). */
int root_main(void);

#endif
