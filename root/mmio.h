/*
 * MMIO emulation in the root worker: one intercepted child access to an emulated device
 * (a GPA the child's NPT leaves unmapped) is carried out from the faulting instruction's bytes.
 * The instruction is decoded (libc-glue/decoder.h), its memory operand is checked against the
 * intercepted GPA and the device window, and the instruction's whole effect is applied:
 * device reads/writes through the device's callbacks, registers and other guest memory through
 * the VP callbacks, arithmetic flags as the CPU computes them. The worker then writes RFLAGS,
 * advances RIP and resumes the VP.
 *
 * Forms carried out (Intel SDM Vol. 2; AMD APM Vol. 3), 8/16/32-bit operands and 64-bit in
 * long mode, any addressing form incl. moffs and RIP-relative, LOCK accepted:
 *   MOV load/store (register, immediate, moffs), MOVZX, MOVSX, MOVSXD;
 *   ADD OR ADC SBB AND SUB XOR with a memory destination or a memory source, CMP, TEST;
 *   INC DEC NOT NEG; XCHG, XADD, CMPXCHG; SETcc, CMOVcc; BT/BTS/BTR/BTC with an immediate;
 *   ROL ROR SHL SHR SAR by 1, CL or an immediate; PUSH and POP with a memory operand;
 *   STOS LODS MOVS CMPS SCAS with and without REP/REPE/REPNE, either direction (EFLAGS.DF),
 *   MOVS and CMPS between guest RAM and the device or within the device.
 * Everything else (RCL/RCR, MUL/DIV, BT with a register bit offset, FPU/SSE, ...) is
 * MMIO_UNSUPPORTED, never an approximation.
 *
 * The emulator has no state and no allocation; it never touches guest memory except
 * through the callbacks, and the device only inside [base, base + size).
 */
#ifndef HVFW_ROOT_MMIO_H
#define HVFW_ROOT_MMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libc-glue/decoder.h"

/* The intercepted VP's state, through the worker. Register numbers are the architectural
 * ones (decoder.h: 0 rAX .. 15 r15), always the full 64-bit register. */
struct mmio_vcpu_ops {
    bool (*read_gpr)(void *ctx, unsigned number, uint64_t *value);
    bool (*write_gpr)(void *ctx, unsigned number, uint64_t value);
    /* Guest memory (RAM only) at a linear address: segment base already added, the worker
     * translates it (paging) and refuses what is not the child's RAM. Used for MOVS/CMPS's
     * other side and PUSH/POP's stack slot. */
    bool (*read_memory)(void *ctx, uint64_t linear, void *buf, size_t len);
    bool (*write_memory)(void *ctx, uint64_t linear, const void *buf, size_t len);
    /* Optional: a segment's base. NULL = flat segments (every base 0). In 64-bit mode only
     * FS and GS are asked (Intel SDM Vol. 3, 3.2.4). */
    bool (*segment_base)(void *ctx, enum decoder_segment segment, uint64_t *base);
};

/* The emulated device: a window of `size` bytes at GPA `base`. read/write get an offset
 * inside the window and a size of 1, 2, 4 or 8 bytes (any alignment), never beyond it; they
 * return false if the device refuses the access (MMIO_BAD_ACCESS). */
struct mmio_device {
    uint64_t base, size;
    bool (*read)(void *dev, uint64_t offset, unsigned size, uint64_t *value);
    bool (*write)(void *dev, uint64_t offset, unsigned size, uint64_t value);
    void *dev;
};

/* One intercepted access, as the memory intercept message reports it (hv/intercept_abi.h). */
struct mmio_access {
    const uint8_t *bytes; /* the instruction's bytes at RIP */
    size_t count;         /* how many are valid (at most 16; fewer than the length fails) */
    enum decoder_mode mode;
    uint64_t rip;    /* the faulting instruction's address (for RIP-relative operands) */
    uint64_t rflags; /* at the fault */
    uint64_t gpa;    /* the intercepted guest physical address */
    /* The linear address that faulted, if the hypervisor knows it (decode assists). Without
     * it the operand is matched by page offset: the linear address computed from the
     * registers must have the GPA's offset in its 4 KiB page (paging maps whole pages). */
    bool gva_valid;
    uint64_t gva;
};

enum mmio_result {
    MMIO_DONE,        /* carried out: set RFLAGS, advance RIP by rip_advance, resume */
    MMIO_UNSUPPORTED, /* not an instruction form emulated here: inject #UD */
    MMIO_BAD_ACCESS,  /* decoded, but the access does not fit (misses the intercepted GPA,
                         crosses the window end, guest memory or device refused): inject
                         #GP(0) */
};

struct mmio_outcome {
    uint64_t rflags;     /* RFLAGS to write back (only arithmetic flags ever change) */
    uint8_t rip_advance; /* the instruction's length; 0 when a REP string instruction
                            stopped before rCX reached 0 (it left the window or hit the
                            per-exit iteration bound): RIP stays and the child re-executes
                            it, rCX/rSI/rDI already updated (Intel SDM Vol. 2, REP:
                            "interrupted between iterations") */
    uint8_t length;      /* the decoded length, 0 if decoding failed */
    const char *reason;  /* why not MMIO_DONE: a fixed text for the worker's log */
};

/* Registers and guest memory are written only when the result is MMIO_DONE, except that a
 * device or guest-memory failure in the middle of a REP string instruction leaves the
 * iterations already done in place (as the CPU would on a fault). */
enum mmio_result mmio_emulate(const struct mmio_access *access, const struct mmio_device *device,
                              const struct mmio_vcpu_ops *vcpu, void *ctx,
                              struct mmio_outcome *outcome);

/* At most this many iterations of a REP string instruction per intercept. */
#define MMIO_REP_LIMIT 4096u

/* The name of a result, for logs. */
const char *mmio_result_name(enum mmio_result result);

#endif
