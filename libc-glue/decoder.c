/*
 * decoder_decode: Zydis' decoder and Intel formatter behind a small neutral description
 * (libc-glue/decoder.h). Every Zydis object lives on the caller's stack for one call, so the
 * function is reentrant: each CPU and the exception handler may call it concurrently.
 */
#include "libc-glue/decoder.h"

#include <string.h>

#include <Zydis/Zydis.h>

#ifndef HVFW_HOST_TEST
#include "kernel/log.h"
#endif

/* Zydis' formatted text may exceed our 96 bytes for long vector forms; format into a roomy
 * stack buffer and keep what fits. */
#define DECODER_FORMAT_BUFFER 256

static bool decoder_zydis_mode(enum decoder_mode mode, ZydisMachineMode *machine,
                               ZydisStackWidth *stack)
{
    switch (mode) {
    case DECODER_MODE_16:
        /* LEGACY_16 rather than REAL_16: 16-bit protected mode guests exist too, and the
         * encodings a real-mode guest can actually execute decode the same in both. */
        *machine = ZYDIS_MACHINE_MODE_LEGACY_16;
        *stack = ZYDIS_STACK_WIDTH_16;
        return true;
    case DECODER_MODE_32:
        *machine = ZYDIS_MACHINE_MODE_LEGACY_32;
        *stack = ZYDIS_STACK_WIDTH_32;
        return true;
    case DECODER_MODE_64:
        *machine = ZYDIS_MACHINE_MODE_LONG_64;
        *stack = ZYDIS_STACK_WIDTH_64;
        return true;
    }
    return false;
}

/* A Zydis general-purpose register as an architectural number (decoder.h, top). Zydis' GPR
 * enums list each width in encoding order; the 8-bit block is AL-BL, AH-BH, SPL-DIL, R8B-R15B
 * (Intel SDM Vol. 2, 3.1.1.1, "Register Codes Associated With +rb"). */
static bool decoder_gpr_from_zydis(ZydisRegister reg, struct decoder_gpr *out)
{
    memset(out, 0, sizeof(*out));
    if (reg >= ZYDIS_REGISTER_AL && reg <= ZYDIS_REGISTER_BL) {
        out->number = (uint8_t)(reg - ZYDIS_REGISTER_AL);
        out->size = 1;
    } else if (reg >= ZYDIS_REGISTER_AH && reg <= ZYDIS_REGISTER_BH) {
        out->number = (uint8_t)(reg - ZYDIS_REGISTER_AH);
        out->size = 1;
        out->high_byte = true;
    } else if (reg >= ZYDIS_REGISTER_SPL && reg <= ZYDIS_REGISTER_R15B) {
        out->number = (uint8_t)(reg - ZYDIS_REGISTER_SPL + 4);
        out->size = 1;
    } else if (reg >= ZYDIS_REGISTER_AX && reg <= ZYDIS_REGISTER_R15W) {
        out->number = (uint8_t)(reg - ZYDIS_REGISTER_AX);
        out->size = 2;
    } else if (reg >= ZYDIS_REGISTER_EAX && reg <= ZYDIS_REGISTER_R15D) {
        out->number = (uint8_t)(reg - ZYDIS_REGISTER_EAX);
        out->size = 4;
    } else if (reg >= ZYDIS_REGISTER_RAX && reg <= ZYDIS_REGISTER_R15) {
        out->number = (uint8_t)(reg - ZYDIS_REGISTER_RAX);
        out->size = 8;
    } else {
        return false;
    }
    return true;
}

static enum decoder_segment decoder_segment_from_zydis(ZydisRegister reg)
{
    switch (reg) {
    case ZYDIS_REGISTER_ES: return DECODER_SEGMENT_ES;
    case ZYDIS_REGISTER_CS: return DECODER_SEGMENT_CS;
    case ZYDIS_REGISTER_SS: return DECODER_SEGMENT_SS;
    case ZYDIS_REGISTER_DS: return DECODER_SEGMENT_DS;
    case ZYDIS_REGISTER_FS: return DECODER_SEGMENT_FS;
    case ZYDIS_REGISTER_GS: return DECODER_SEGMENT_GS;
    default: return DECODER_SEGMENT_NONE;
    }
}

/* Zydis names the string MOVSD and the SSE2 scalar-double MOVSD alike; the category tells
 * them apart. */
static enum decoder_class decoder_class_from_zydis(const ZydisDecodedInstruction *insn)
{
    bool string_op = insn->meta.category == ZYDIS_CATEGORY_STRINGOP;
    switch (insn->mnemonic) {
    case ZYDIS_MNEMONIC_MOV: return DECODER_CLASS_MOV;
    case ZYDIS_MNEMONIC_MOVZX: return DECODER_CLASS_MOVZX;
    case ZYDIS_MNEMONIC_MOVSX:
    case ZYDIS_MNEMONIC_MOVSXD: return DECODER_CLASS_MOVSX;
    case ZYDIS_MNEMONIC_STOSB:
    case ZYDIS_MNEMONIC_STOSW:
    case ZYDIS_MNEMONIC_STOSD:
    case ZYDIS_MNEMONIC_STOSQ: return DECODER_CLASS_STOS;
    case ZYDIS_MNEMONIC_LODSB:
    case ZYDIS_MNEMONIC_LODSW:
    case ZYDIS_MNEMONIC_LODSD:
    case ZYDIS_MNEMONIC_LODSQ: return DECODER_CLASS_LODS;
    case ZYDIS_MNEMONIC_MOVSB:
    case ZYDIS_MNEMONIC_MOVSW:
    case ZYDIS_MNEMONIC_MOVSQ: return DECODER_CLASS_MOVS;
    case ZYDIS_MNEMONIC_MOVSD: return string_op ? DECODER_CLASS_MOVS : DECODER_CLASS_OTHER;
    case ZYDIS_MNEMONIC_AND: return DECODER_CLASS_AND;
    case ZYDIS_MNEMONIC_OR: return DECODER_CLASS_OR;
    case ZYDIS_MNEMONIC_XOR: return DECODER_CLASS_XOR;
    case ZYDIS_MNEMONIC_ADD: return DECODER_CLASS_ADD;
    case ZYDIS_MNEMONIC_SUB: return DECODER_CLASS_SUB;
    case ZYDIS_MNEMONIC_CMP: return DECODER_CLASS_CMP;
    case ZYDIS_MNEMONIC_TEST: return DECODER_CLASS_TEST;
    case ZYDIS_MNEMONIC_XCHG: return DECODER_CLASS_XCHG;
    default: return DECODER_CLASS_OTHER;
    }
}

static enum decoder_rep decoder_rep_from_zydis(ZydisInstructionAttributes attributes)
{
    if (attributes & ZYDIS_ATTRIB_HAS_REP)
        return DECODER_REP_REP;
    if (attributes & ZYDIS_ATTRIB_HAS_REPE)
        return DECODER_REP_REPE;
    if (attributes & ZYDIS_ATTRIB_HAS_REPNE)
        return DECODER_REP_REPNE;
    return DECODER_REP_NONE;
}

static void decoder_fill_memory(const ZydisDecodedInstruction *insn,
                                const ZydisDecodedOperand *op, struct decoder_memory *out)
{
    out->present = true;
    out->reads = (op->actions & ZYDIS_OPERAND_ACTION_MASK_READ) != 0;
    out->writes = (op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) != 0;
    out->size = (uint16_t)((op->size + 7) / 8);
    out->segment = decoder_segment_from_zydis(op->mem.segment);
    ZydisRegister base = op->mem.base;
    out->base_is_rip = base == ZYDIS_REGISTER_RIP || base == ZYDIS_REGISTER_EIP ||
                       base == ZYDIS_REGISTER_IP;
    if (!out->base_is_rip)
        decoder_gpr_from_zydis(base, &out->base);
    if (decoder_gpr_from_zydis(op->mem.index, &out->index))
        out->scale = op->mem.scale;
    out->displacement = op->mem.disp.has_displacement ? op->mem.disp.value : 0;
    out->address_size = (uint8_t)(insn->address_width / 8);
}

/* Memory operands, the GPR operand and the immediate, in Zydis' operand order (Intel
 * syntax: destination first). Hidden operands count for memory (a string instruction's
 * [rDI]/[rSI]) but a hidden register only as a string instruction's accumulator: the other
 * hidden registers (rCX, rSI, rDI, flags) are implied by the class. */
static void decoder_fill_operands(const ZydisDecodedInstruction *insn,
                                  const ZydisDecodedOperand *ops, struct decoded_insn *out)
{
    bool string_acc = out->cls == DECODER_CLASS_STOS || out->cls == DECODER_CLASS_LODS;
    for (uint8_t i = 0; i < insn->operand_count && i < ZYDIS_MAX_OPERAND_COUNT; i++) {
        const ZydisDecodedOperand *op = &ops[i];
        bool visible = op->visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT ||
                       op->visibility == ZYDIS_OPERAND_VISIBILITY_IMPLICIT;
        switch (op->type) {
        case ZYDIS_OPERAND_TYPE_MEMORY:
            /* LEA's address generation, MPX's MIB and gathers' VSIB access no single
             * location (or none at all). */
            if (op->mem.type != ZYDIS_MEMOP_TYPE_MEM)
                break;
            if (!out->memory.present)
                decoder_fill_memory(insn, op, &out->memory);
            else if (!out->memory_source.present)
                decoder_fill_memory(insn, op, &out->memory_source);
            break;
        case ZYDIS_OPERAND_TYPE_REGISTER: {
            struct decoder_gpr gpr;
            bool is_gpr = decoder_gpr_from_zydis(op->reg.value, &gpr);
            if (visible && !is_gpr && out->cls != DECODER_CLASS_OTHER) {
                /* MOV to a segment or control register, XMM forms: not something the
                 * class-based emulation may treat as a GPR transfer. */
                out->cls = DECODER_CLASS_OTHER;
            }
            bool wanted = visible || (string_acc && gpr.number == 0 && !gpr.high_byte);
            if (is_gpr && wanted && out->reg.size == 0)
                out->reg = gpr;
            break;
        }
        case ZYDIS_OPERAND_TYPE_IMMEDIATE:
            if (!out->has_immediate) {
                out->has_immediate = true;
                out->immediate_size = (uint8_t)((op->size + 7) / 8);
                out->immediate = op->imm.value.u;
            }
            break;
        default:
            break;
        }
    }
}

/* Copies the formatted text, cutting at a character boundary that fits (ASCII only). */
static void decoder_copy_text(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

bool decoder_decode(const void *bytes, size_t len, enum decoder_mode mode,
                    uint64_t runtime_address, struct decoded_insn *out)
{
    if (out == NULL)
        return false;
    memset(out, 0, sizeof(*out));
    ZydisMachineMode machine;
    ZydisStackWidth stack;
    if (bytes == NULL || len == 0 || !decoder_zydis_mode(mode, &machine, &stack))
        return false;
    if (len > DECODER_MAX_LENGTH)
        len = DECODER_MAX_LENGTH;

    ZydisDecoder decoder;
    if (!ZYAN_SUCCESS(ZydisDecoderInit(&decoder, machine, stack)))
        return false;
    ZydisDecodedInstruction insn;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, bytes, len, &insn, ops)))
        return false;
    if (insn.length == 0 || insn.length > len)
        return false;

    ZydisFormatter formatter;
    char text[DECODER_FORMAT_BUFFER];
    /* FORCE_SIZE: always print "qword ptr" and the like, so that a log line alone tells
     * the access width even where a register operand implies it. */
    if (!ZYAN_SUCCESS(ZydisFormatterInit(&formatter, ZYDIS_FORMATTER_STYLE_INTEL)) ||
        !ZYAN_SUCCESS(ZydisFormatterSetProperty(&formatter, ZYDIS_FORMATTER_PROP_FORCE_SIZE,
                                                ZYAN_TRUE)) ||
        !ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&formatter, &insn, ops,
                                                      insn.operand_count_visible, text,
                                                      sizeof(text), runtime_address, NULL))) {
        memset(out, 0, sizeof(*out));
        return false;
    }
    text[sizeof(text) - 1] = '\0';
    decoder_copy_text(out->text, sizeof(out->text), text);

    out->length = insn.length;
    out->cls = decoder_class_from_zydis(&insn);
    out->operand_size = (uint8_t)(insn.operand_width / 8);
    out->address_size = (uint8_t)(insn.address_width / 8);
    out->rep = decoder_rep_from_zydis(insn.attributes);
    out->lock = (insn.attributes & ZYDIS_ATTRIB_HAS_LOCK) != 0;
    decoder_fill_operands(&insn, ops, out);
    return true;
}

const char *decoder_class_name(enum decoder_class cls)
{
    static const char *const names[] = {
        [DECODER_CLASS_OTHER] = "other", [DECODER_CLASS_MOV] = "mov",
        [DECODER_CLASS_MOVZX] = "movzx", [DECODER_CLASS_MOVSX] = "movsx",
        [DECODER_CLASS_STOS] = "stos",   [DECODER_CLASS_LODS] = "lods",
        [DECODER_CLASS_MOVS] = "movs",   [DECODER_CLASS_AND] = "and",
        [DECODER_CLASS_OR] = "or",       [DECODER_CLASS_XOR] = "xor",
        [DECODER_CLASS_ADD] = "add",     [DECODER_CLASS_SUB] = "sub",
        [DECODER_CLASS_CMP] = "cmp",     [DECODER_CLASS_TEST] = "test",
        [DECODER_CLASS_XCHG] = "xchg",
    };
    if ((unsigned)cls >= sizeof(names) / sizeof(names[0]) || names[cls] == NULL)
        return "unknown";
    return names[cls];
}

/* ---- boot-time self-test ------------------------------------------------------------------ */

struct decoder_selftest_case {
    uint8_t bytes[DECODER_MAX_LENGTH];
    uint8_t len;
    enum decoder_mode mode;
    uint8_t length;   /* expected; 0 = must fail */
    const char *text; /* expected */
};

static const struct decoder_selftest_case decoder_selftest_cases[] = {
    { { 0x48, 0x89, 0x58, 0x08 }, 4, DECODER_MODE_64, 4, "mov qword ptr [rax+0x08], rbx" },
    { { 0x0f, 0x0b }, 2, DECODER_MODE_64, 2, "ud2" },
    { { 0x8b, 0x07 }, 2, DECODER_MODE_32, 2, "mov eax, dword ptr [edi]" },
    { { 0xf3, 0xaa }, 2, DECODER_MODE_64, 2, "rep stosb" },
    { { 0x48, 0x89, 0x58 }, 3, DECODER_MODE_64, 0, "" }, /* truncated */
};

/* Returns the index of the first failing case, or -1; *got and *decoded describe it. */
static int decoder_selftest_run(struct decoded_insn *got, bool *decoded)
{
    int count = (int)(sizeof(decoder_selftest_cases) / sizeof(decoder_selftest_cases[0]));
    for (int i = 0; i < count; i++) {
        const struct decoder_selftest_case *c = &decoder_selftest_cases[i];
        *decoded = decoder_decode(c->bytes, c->len, c->mode, 0, got);
        if (*decoded != (c->length != 0))
            return i;
        if (*decoded && (got->length != c->length || strcmp(got->text, c->text) != 0))
            return i;
    }
    return -1;
}

bool decoder_selftest(void)
{
    struct decoded_insn got;
    bool decoded;
    int failed = decoder_selftest_run(&got, &decoded);
#ifndef HVFW_HOST_TEST
    if (failed >= 0) {
        const struct decoder_selftest_case *c = &decoder_selftest_cases[failed];
        log_error("selftest: decoder: FAILED: case %d: want %u bytes '%s', got %s%u bytes '%s'",
                  failed, c->length, c->text, decoded ? "" : "failure, ", got.length, got.text);
    } else {
        log_info("selftest: decoder: ok (%s)", decoder_selftest_cases[0].text);
    }
#endif
    return failed < 0;
}
