/*
 * The x86 instruction decoder: bytes and a processor mode in, one small description out.
 * It wraps Zydis (deps/zydis) so that no Zydis type leaks into hvfw: MMIO emulation and the
 * exception handler see only the neutral enums below.
 *
 * No allocation and no global state: every call works on the caller's stack (about 3 KiB:
 * 2.1 KiB in decoder_decode, the rest in Zydis; measured with -fstack-usage), so any CPU,
 * the exception handler included, may decode at any time. The same file builds on the host
 * for the unit tests (HVFW_HOST_TEST) and for the fuzz target.
 *
 * Register numbers are the architectural ones (Intel SDM Vol. 2, 2.1.5 and 2.2.1.2: the
 * ModRM/SIB field plus REX.R/X/B): 0 rAX, 1 rCX, 2 rDX, 3 rBX, 4 rSP, 5 rBP, 6 rSI, 7 rDI,
 * 8-15 r8-r15. AH, CH, DH and BH are numbers 0-3 with `high_byte` set (bits 15:8).
 */
#ifndef HVFW_LIBC_GLUE_DECODER_H
#define HVFW_LIBC_GLUE_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest legal x86 instruction (Intel SDM Vol. 2, 2.3.11; AMD APM Vol. 3, 1.1). */
#define DECODER_MAX_LENGTH 15

enum decoder_mode {
    DECODER_MODE_16, /* real mode / 16-bit protected mode: 16-bit operands and addresses */
    DECODER_MODE_32, /* 32-bit protected mode or compatibility mode */
    DECODER_MODE_64, /* 64-bit mode (long mode, CS.L = 1) */
};

/* What an instruction does, as far as MMIO emulation cares. Everything else is OTHER. */
enum decoder_class {
    DECODER_CLASS_OTHER,
    DECODER_CLASS_MOV,   /* MOV r/m, r / r, r/m / r/m, imm / moffs forms */
    DECODER_CLASS_MOVZX,
    DECODER_CLASS_MOVSX, /* MOVSX and MOVSXD */
    DECODER_CLASS_STOS,
    DECODER_CLASS_LODS,
    DECODER_CLASS_MOVS,
    DECODER_CLASS_AND,
    DECODER_CLASS_OR,
    DECODER_CLASS_XOR,
    DECODER_CLASS_ADD,
    DECODER_CLASS_SUB,
    DECODER_CLASS_CMP,
    DECODER_CLASS_TEST,
    DECODER_CLASS_XCHG,
};

/* Segment registers in the order of their encoding (Intel SDM Vol. 2, 3.1.1.3, "Sreg"). */
enum decoder_segment {
    DECODER_SEGMENT_ES = 0,
    DECODER_SEGMENT_CS = 1,
    DECODER_SEGMENT_SS = 2,
    DECODER_SEGMENT_DS = 3,
    DECODER_SEGMENT_FS = 4,
    DECODER_SEGMENT_GS = 5,
    DECODER_SEGMENT_NONE = 6,
};

enum decoder_rep {
    DECODER_REP_NONE,
    DECODER_REP_REP,   /* F3 on STOS/LODS/MOVS/INS/OUTS */
    DECODER_REP_REPE,  /* F3 on CMPS/SCAS */
    DECODER_REP_REPNE, /* F2 on CMPS/SCAS */
};

/* A general-purpose register as an operand or an address component. size 0 = absent. */
struct decoder_gpr {
    uint8_t number; /* 0-15, see the top of this file */
    uint8_t size;   /* bytes used: 1, 2, 4 or 8 */
    bool high_byte; /* AH/CH/DH/BH: bits 15:8 of register `number` */
};

/* A memory operand: what it accesses and how its effective address is formed
 * (Intel SDM Vol. 1, 3.7.5: base + index * scale + displacement, in a segment). */
struct decoder_memory {
    bool present;
    bool reads;
    bool writes;
    uint16_t size;                /* bytes accessed (FXSAVE's area is 512) */
    enum decoder_segment segment; /* the effective one: default or override prefix */
    bool base_is_rip;             /* RIP-relative: base is the next instruction's address */
    struct decoder_gpr base;      /* size 0: no base register */
    struct decoder_gpr index;     /* size 0: no index register */
    uint8_t scale;                /* 1, 2, 4 or 8 with an index; 0 without */
    int64_t displacement;         /* sign-extended */
    uint8_t address_size;         /* bytes: 2, 4 or 8 (the wrap-around width) */
};

struct decoded_insn {
    uint8_t length;         /* bytes */
    char text[96];          /* Intel syntax, NUL-terminated */
    enum decoder_class cls; /* DECODER_CLASS_OTHER for anything MMIO emulation ignores */
    uint8_t operand_size;   /* bytes of the effective operand size: 1, 2, 4 or 8 */
    uint8_t address_size;   /* bytes: 2, 4 or 8 */
    enum decoder_rep rep;
    bool lock;
    /* The first memory operand: MOVS's and STOS's destination [ES:rDI], LODS's source. */
    struct decoder_memory memory;
    /* The second memory operand, if any: MOVS's source [seg:rSI] (also CMPS's, and the stack
     * slot of PUSH/POP with a memory operand). */
    struct decoder_memory memory_source;
    /* The general-purpose register operand (MOV's source or destination, STOS's and LODS's
     * accumulator); size 0 if the instruction has none. */
    struct decoder_gpr reg;
    /* The (first) immediate operand. The value is extended to 64 bits the way the
     * instruction uses it (sign-extended where the encoding says so, e.g. 83 /0 ib); only
     * the low operand_size bytes take part in the operation. */
    bool has_immediate;
    uint8_t immediate_size; /* bytes encoded in the instruction (1, 2, 4, 8) */
    uint64_t immediate;
};

/* A runtime_address that prints RIP-relative operands as [rip+disp] instead of absolute. */
#define DECODER_ADDRESS_NONE UINT64_MAX

/*
 * Decodes the one instruction at the start of bytes[0..len) (at most DECODER_MAX_LENGTH bytes
 * are looked at). runtime_address is the instruction's address, used only to print
 * RIP-relative and branch targets as absolute addresses (or DECODER_ADDRESS_NONE). Returns false — and a zeroed *out — for NULL arguments,
 * an unknown mode, an invalid encoding, or input shorter than the instruction.
 */
bool decoder_decode(const void *bytes, size_t len, enum decoder_mode mode,
                    uint64_t runtime_address, struct decoded_insn *out);

/* The name of a class ("mov", "movzx", ...; "other"), for logs. */
const char *decoder_class_name(enum decoder_class cls);

/*
 * Decodes a few known instructions and compares length and text. In the image it logs
 * "selftest: decoder: ok (...)" or "selftest: decoder: FAILED: ..."; on the host it only
 * returns the result.
 */
bool decoder_selftest(void);

#endif
