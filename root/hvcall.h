/*
 * The root partition's side of the hypercall ABI (TLFS 3.7, 64-bit convention: RCX control,
 * RDX input GPA, R8 output GPA, RAX result). The root's GPAs equal its addresses (identity
 * page tables), so a pointer into root memory is its GPA.
 */
#ifndef HVFW_ROOT_HVCALL_H
#define HVFW_ROOT_HVCALL_H

#include <stddef.h>
#include <stdint.h>

uint64_t hvcall(uint64_t control, uint64_t input_gpa, uint64_t output_gpa);
/* The status of a result value (bits 15:0). */
uint16_t hvcall_status(uint64_t result);

/* hvfw's private calls (hv/root_abi.h). */
void hvcall_console_write(const char *bytes, size_t length);
void hvcall_root_ready(void);
__attribute__((noreturn)) void hvcall_root_stop(uint64_t code);
/* Ends the appliance's run: 0 powers off, otherwise a failure code (hv/root_abi.h). */
void hvcall_shutdown(uint32_t code);

#endif
