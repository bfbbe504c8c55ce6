/*
 * mmio_emulate: the decoder says where an instruction's operands are; the opcode (Intel SDM
 * Vol. 2, Appendix A "Opcode Map") says what it does. Each form reads its operands, computes,
 * then writes the device, guest memory and registers in that order, so that a refused access
 * leaves the VP as it was.
 *
 * Which operand hit the device: the linear address computed from the registers must equal
 * the reported GVA, or without one have the intercepted GPA's offset in its 4 KiB page.
 * Paging maps whole pages, so every other linear address in that page is the same physical
 * page: that is how REP iterations and MOVS's second operand are told device from RAM.
 */
#include "root/mmio.h"

#include <string.h>

#define MMIO_PAGE_SIZE 4096u
#define MMIO_PAGE_MASK (~(uint64_t)(MMIO_PAGE_SIZE - 1))

/* RFLAGS bits (Intel SDM Vol. 1, 3.4.3). */
#define FLAG_CF (1u << 0)
#define FLAG_PF (1u << 2)
#define FLAG_AF (1u << 4)
#define FLAG_ZF (1u << 6)
#define FLAG_SF (1u << 7)
#define FLAG_DF (1u << 10)
#define FLAG_OF (1u << 11)
#define FLAGS_ARITHMETIC (FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF)

#define GPR_RAX 0
#define GPR_RCX 1
#define GPR_RSP 4
#define GPR_RSI 6
#define GPR_RDI 7

enum mmio_operation {
    OP_NONE,
    OP_MOV_STORE,       /* r/m <- reg or imm */
    OP_MOV_LOAD,        /* reg <- r/m */
    OP_MOVZX,
    OP_MOVSX,
    OP_ALU_TO_MEMORY,   /* r/m <- r/m op reg/imm (CMP: flags only) */
    OP_ALU_TO_REGISTER, /* reg <- reg op r/m */
    OP_TEST,
    OP_XCHG,
    OP_XADD,
    OP_CMPXCHG,
    OP_INC,
    OP_DEC,
    OP_NOT,
    OP_NEG,
    OP_SETCC,
    OP_CMOVCC,
    OP_BIT,   /* BT/BTS/BTR/BTC r/m, imm8 */
    OP_SHIFT, /* ROL/ROR/SHL/SHR/SAR */
    OP_PUSH,
    OP_POP,
    OP_STOS,
    OP_LODS,
    OP_MOVS,
    OP_CMPS,
    OP_SCAS,
};

/* The ALU group in opcode order (00-3F and 80-83 /digit). */
enum alu_kind { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };

/* Shift group 2 (C0/C1/D0-D3 /digit); RCL (2) and RCR (3) are not emulated. */
enum shift_kind { SHIFT_ROL = 0, SHIFT_ROR = 1, SHIFT_SHL = 4, SHIFT_SHR = 5, SHIFT_SAL = 6,
                  SHIFT_SAR = 7 };

/* Group 8 (0F BA /digit). */
enum bit_kind { BIT_TEST = 4, BIT_SET = 5, BIT_RESET = 6, BIT_COMPLEMENT = 7 };

struct mmio_form {
    enum mmio_operation op;
    unsigned sub;   /* ALU kind, condition code, shift or bit kind */
    unsigned count; /* shifts: 0 = from the immediate, 1 = by one, 2 = by CL */
};

/* One emulation in progress. */
struct mmio_run {
    const struct mmio_access *access;
    const struct mmio_device *device;
    const struct mmio_vcpu_ops *vcpu;
    void *ctx;
    struct decoded_insn insn;
    struct mmio_form form;
    bool long_mode;
    uint64_t rflags;
    /* The device's page: its linear address and its GPA (see the top of this file). */
    uint64_t device_linear_page;
    uint64_t device_gpa_page;
    const char *reason;
};

/* ---- operand values and flags ---------------------------------------------------------- */

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? UINT64_MAX : ((uint64_t)1 << (size * 8)) - 1;
}

static uint64_t sign_bit(unsigned size)
{
    return (uint64_t)1 << (size * 8 - 1);
}

static uint64_t sign_extend(uint64_t value, unsigned size)
{
    if (size >= 8)
        return value;
    value &= size_mask(size);
    return (value ^ sign_bit(size)) - sign_bit(size);
}

/* PF, ZF and SF of a result (Intel SDM Vol. 1, 3.4.3.1): PF is the even parity of the low
 * byte only. */
static uint64_t flags_of_result(uint64_t result, unsigned size)
{
    uint64_t flags = 0;
    result &= size_mask(size);
    if (!__builtin_parity((unsigned)(result & 0xff)))
        flags |= FLAG_PF;
    if (result == 0)
        flags |= FLAG_ZF;
    if (result & sign_bit(size))
        flags |= FLAG_SF;
    return flags;
}

/* Carry, auxiliary carry and overflow from the carry chain of a + b (+ carry) = result:
 * bit i of the carries word is the carry out of bit i. */
static uint64_t flags_of_add(uint64_t a, uint64_t b, uint64_t result, unsigned size)
{
    uint64_t carries = (a & b) | ((a | b) & ~result);
    uint64_t flags = flags_of_result(result, size);
    if (carries & sign_bit(size))
        flags |= FLAG_CF;
    if ((a ^ b ^ result) & 0x10)
        flags |= FLAG_AF;
    if ((a ^ result) & (b ^ result) & sign_bit(size))
        flags |= FLAG_OF;
    return flags;
}

/* The same for a - b (- borrow) = result: bit i of borrows is the borrow out of bit i. */
static uint64_t flags_of_sub(uint64_t a, uint64_t b, uint64_t result, unsigned size)
{
    uint64_t borrows = (~a & b) | ((~a | b) & result);
    uint64_t flags = flags_of_result(result, size);
    if (borrows & sign_bit(size))
        flags |= FLAG_CF;
    if ((a ^ b ^ result) & 0x10)
        flags |= FLAG_AF;
    if ((a ^ b) & (a ^ result) & sign_bit(size))
        flags |= FLAG_OF;
    return flags;
}

static void flags_set(struct mmio_run *run, uint64_t which, uint64_t values)
{
    run->rflags = (run->rflags & ~which) | (values & which);
}

/* The ALU group on size-byte operands; updates the arithmetic flags as the CPU does. AF is
 * undefined after AND/OR/XOR (Intel SDM Vol. 2); it is cleared, as current CPUs do. */
static uint64_t alu_compute(struct mmio_run *run, enum alu_kind kind, uint64_t a, uint64_t b,
                            unsigned size)
{
    uint64_t mask = size_mask(size), carry = run->rflags & FLAG_CF ? 1 : 0, result;
    a &= mask;
    b &= mask;
    switch (kind) {
    case ALU_ADD:
    case ALU_ADC:
        if (kind == ALU_ADD)
            carry = 0;
        result = (a + b + carry) & mask;
        flags_set(run, FLAGS_ARITHMETIC, flags_of_add(a, b, result, size));
        return result;
    case ALU_SUB:
    case ALU_SBB:
    case ALU_CMP:
        if (kind != ALU_SBB)
            carry = 0;
        result = (a - b - carry) & mask;
        flags_set(run, FLAGS_ARITHMETIC, flags_of_sub(a, b, result, size));
        return result;
    case ALU_AND:
    case ALU_OR:
    case ALU_XOR:
        result = kind == ALU_AND ? a & b : kind == ALU_OR ? a | b : a ^ b;
        flags_set(run, FLAGS_ARITHMETIC, flags_of_result(result, size));
        return result;
    }
    return 0;
}

/* Condition codes tttn (Intel SDM Vol. 2, Appendix B.1.4.7): pairs, odd = negated. */
static bool condition_holds(uint64_t rflags, unsigned condition)
{
    bool cf = rflags & FLAG_CF, zf = rflags & FLAG_ZF, sf = rflags & FLAG_SF;
    bool of = rflags & FLAG_OF, pf = rflags & FLAG_PF;
    bool holds;
    switch (condition >> 1) {
    case 0: holds = of; break;
    case 1: holds = cf; break;
    case 2: holds = zf; break;
    case 3: holds = cf || zf; break;
    case 4: holds = sf; break;
    case 5: holds = pf; break;
    case 6: holds = sf != of; break;
    default: holds = zf || sf != of; break;
    }
    return (condition & 1) ? !holds : holds;
}

/* Shift group 2 (Intel SDM Vol. 2, "SAL/SAR/SHL/SHR" and "RCL/RCR/ROL/ROR"). The count is
 * masked to 5 bits (6 with a 64-bit operand); a masked count of 0 changes nothing, flags
 * included. Flags the SDM leaves undefined (OF for counts above 1, AF) get what the
 * formulas for count 1 give, and AF is left alone. Returns false if nothing changes. */
static bool shift_compute(struct mmio_run *run, enum shift_kind kind, uint64_t a,
                          unsigned count, unsigned size, uint64_t *result)
{
    unsigned bits = size * 8;
    uint64_t mask = size_mask(size), msb = sign_bit(size), r;
    count &= size == 8 ? 0x3f : 0x1f;
    if (count == 0)
        return false;
    a &= mask;
    bool cf, of;
    switch (kind) {
    case SHIFT_ROL:
    case SHIFT_ROR: {
        unsigned by = count % bits;
        if (kind == SHIFT_ROR)
            by = (bits - by) % bits;
        r = by ? ((a << by) | (a >> (bits - by))) & mask : a;
        cf = kind == SHIFT_ROL ? (r & 1) : (r & msb) != 0;
        of = kind == SHIFT_ROL ? ((r & msb) != 0) != cf
                               : ((r & msb) != 0) != ((r & (msb >> 1)) != 0);
        flags_set(run, FLAG_CF | FLAG_OF, (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0));
        *result = r;
        return true;
    }
    case SHIFT_SHL:
    case SHIFT_SAL:
        cf = count <= bits && ((a >> (bits - count)) & 1);
        r = count < 64 ? (a << count) & mask : 0;
        of = ((r & msb) != 0) != cf;
        break;
    case SHIFT_SHR:
        cf = count - 1 < 64 && ((a >> (count - 1)) & 1);
        r = a >> count;
        of = (a & msb) != 0;
        break;
    default: { /* SAR */
        uint64_t signed_a = sign_extend(a, size);
        unsigned by = count < bits ? count : bits - 1;
        cf = count <= bits ? (signed_a >> (count - 1)) & 1 : (signed_a & msb) != 0;
        /* Arithmetic shift of a two's-complement value without relying on >> of a
         * negative signed integer. */
        r = ((signed_a >> by) | (signed_a & msb ? ~(UINT64_MAX >> by) : 0)) & mask;
        of = false;
        break;
    }
    }
    flags_set(run, FLAG_CF | FLAG_OF | FLAG_PF | FLAG_ZF | FLAG_SF,
              flags_of_result(r, size) | (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0));
    *result = r;
    return true;
}

/* ---- registers --------------------------------------------------------------------------- */

static bool gpr_read(struct mmio_run *run, const struct decoder_gpr *gpr, uint64_t *value)
{
    uint64_t full;
    if (gpr->number > 15 || !run->vcpu->read_gpr(run->ctx, gpr->number, &full)) {
        run->reason = "register read refused";
        return false;
    }
    *value = gpr->high_byte ? (full >> 8) & 0xff : full & size_mask(gpr->size);
    return true;
}

/* Partial writes follow Intel SDM Vol. 1, 3.4.1.1: 8- and 16-bit writes keep the other
 * bits, 32-bit writes zero-extend (outside 64-bit mode the upper half is not visible). */
static bool gpr_write(struct mmio_run *run, const struct decoder_gpr *gpr, uint64_t value)
{
    uint64_t full = 0;
    if (gpr->number > 15) {
        run->reason = "register write refused";
        return false;
    }
    if (gpr->size < 4 && !run->vcpu->read_gpr(run->ctx, gpr->number, &full)) {
        run->reason = "register read refused";
        return false;
    }
    if (gpr->high_byte)
        full = (full & ~(uint64_t)0xff00) | ((value & 0xff) << 8);
    else if (gpr->size < 4)
        full = (full & ~size_mask(gpr->size)) | (value & size_mask(gpr->size));
    else
        full = value & size_mask(gpr->size);
    if (!run->vcpu->write_gpr(run->ctx, gpr->number, full)) {
        run->reason = "register write refused";
        return false;
    }
    return true;
}

static struct decoder_gpr gpr_of(unsigned number, unsigned size)
{
    return (struct decoder_gpr){.number = (uint8_t)number, .size = (uint8_t)size};
}

/* ---- addresses --------------------------------------------------------------------------- */

static bool segment_base(struct mmio_run *run, enum decoder_segment segment, uint64_t *base)
{
    *base = 0;
    if (run->vcpu->segment_base == NULL || segment == DECODER_SEGMENT_NONE)
        return true;
    /* In 64-bit mode CS, DS, ES and SS have base 0 whatever they hold (Intel SDM Vol. 3,
     * 3.2.4). */
    if (run->long_mode && segment != DECODER_SEGMENT_FS && segment != DECODER_SEGMENT_GS)
        return true;
    if (!run->vcpu->segment_base(run->ctx, segment, base)) {
        run->reason = "segment base refused";
        return false;
    }
    return true;
}

/* Segment base + effective address; 32 bits wide outside 64-bit mode. */
static bool linear_of(struct mmio_run *run, enum decoder_segment segment, uint64_t offset,
                      uint64_t *linear)
{
    uint64_t base;
    if (!segment_base(run, segment, &base))
        return false;
    *linear = base + offset;
    if (!run->long_mode)
        *linear &= UINT32_MAX;
    return true;
}

/* The linear address of a decoded memory operand (Intel SDM Vol. 1, 3.7.5): base + index *
 * scale + displacement, wrapped at the address size. `rsp_bias` is added to rSP as a base
 * (POP computes its destination after incrementing rSP). */
static bool operand_linear(struct mmio_run *run, const struct decoder_memory *memory,
                           uint64_t rsp_bias, uint64_t *linear)
{
    uint64_t offset = (uint64_t)memory->displacement, value;
    if (memory->base_is_rip)
        offset += run->access->rip + run->insn.length;
    if (memory->base.size) {
        if (!gpr_read(run, &memory->base, &value))
            return false;
        offset += value + (memory->base.number == GPR_RSP ? rsp_bias : 0);
    }
    if (memory->index.size) {
        if (!gpr_read(run, &memory->index, &value))
            return false;
        offset += value * memory->scale;
    }
    offset &= size_mask(memory->address_size);
    return linear_of(run, memory->segment, offset, linear);
}

/* ---- the device and guest memory --------------------------------------------------------- */

static bool in_device_page(const struct mmio_run *run, uint64_t linear)
{
    return (linear & MMIO_PAGE_MASK) == run->device_linear_page;
}

/* Reads or writes `size` bytes at a linear address: the device if the address is in the
 * device's page, guest RAM otherwise. */
static enum mmio_result location_access(struct mmio_run *run, uint64_t linear, unsigned size,
                                        bool write, uint64_t *value)
{
    if (in_device_page(run, linear)) {
        uint64_t page_offset = linear & (MMIO_PAGE_SIZE - 1);
        uint64_t gpa = run->device_gpa_page + page_offset;
        const struct mmio_device *device = run->device;
        if (page_offset + size > MMIO_PAGE_SIZE || gpa < device->base ||
            gpa - device->base > device->size || device->size - (gpa - device->base) < size) {
            run->reason = "device access crosses the window or its page";
            return MMIO_BAD_ACCESS;
        }
        bool ok = write ? device->write(device->dev, gpa - device->base, size, *value)
                        : device->read(device->dev, gpa - device->base, size, value);
        if (!ok) {
            run->reason = "device refused the access";
            return MMIO_BAD_ACCESS;
        }
        if (!write)
            *value &= size_mask(size);
        return MMIO_DONE;
    }
    uint8_t bytes[8] = {0};
    bool ok;
    if (write) {
        memcpy(bytes, value, sizeof(bytes)); /* little-endian, as the guest */
        ok = run->vcpu->write_memory(run->ctx, linear, bytes, size);
    } else {
        ok = run->vcpu->read_memory(run->ctx, linear, bytes, size);
        *value = 0;
        memcpy(value, bytes, size);
    }
    if (!ok) {
        run->reason = "guest memory access refused";
        return MMIO_BAD_ACCESS;
    }
    return MMIO_DONE;
}

static enum mmio_result location_read(struct mmio_run *run, uint64_t linear, unsigned size,
                                      uint64_t *value)
{
    return location_access(run, linear, size, false, value);
}

static enum mmio_result location_write(struct mmio_run *run, uint64_t linear, unsigned size,
                                       uint64_t value)
{
    return location_access(run, linear, size, true, &value);
}

/* Does an operand at `linear` start at the intercepted access? */
static bool matches_intercept(const struct mmio_run *run, uint64_t linear)
{
    if (run->access->gva_valid)
        return linear == run->access->gva;
    return (linear & (MMIO_PAGE_SIZE - 1)) == (run->access->gpa & (MMIO_PAGE_SIZE - 1));
}

/* Picks which of up to two candidate operands is the device. Two matches on different
 * pages (MOVS/CMPS with equal page offsets) are told apart by probing the first candidate
 * as guest RAM: a read the worker serves is RAM, hence not the device. */
static enum mmio_result device_locate(struct mmio_run *run, const uint64_t *candidates,
                                      const unsigned *sizes, unsigned count)
{
    int chosen = -1;
    for (unsigned i = 0; i < count; i++) {
        if (!matches_intercept(run, candidates[i]))
            continue;
        if (chosen >= 0 && (candidates[chosen] & MMIO_PAGE_MASK) !=
                           (candidates[i] & MMIO_PAGE_MASK)) {
            uint8_t probe[8];
            if (run->vcpu->read_memory(run->ctx, candidates[chosen], probe, sizes[chosen]))
                chosen = (int)i;
            continue;
        }
        if (chosen < 0)
            chosen = (int)i;
    }
    if (chosen < 0) {
        run->reason = "no memory operand matches the intercepted address";
        return MMIO_BAD_ACCESS;
    }
    run->device_linear_page = candidates[chosen] & MMIO_PAGE_MASK;
    run->device_gpa_page = run->access->gpa & MMIO_PAGE_MASK;
    return MMIO_DONE;
}

/* ---- forms ------------------------------------------------------------------------------- */

/* Skips legacy prefixes (Intel SDM Vol. 2, 2.1.1) and, in 64-bit mode, a REX prefix, and
 * returns the opcode (0x0Fxx for the two-byte map) and ModRM's reg field. */
static bool opcode_find(const uint8_t *bytes, size_t length, bool long_mode, unsigned *opcode,
                        unsigned *modrm_reg)
{
    size_t i = 0;
    while (i < length) {
        uint8_t b = bytes[i];
        bool prefix = b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e || b == 0x36 ||
                      b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65 || b == 0x66 ||
                      b == 0x67;
        /* A REX prefix counts only right before the opcode; one followed by a legacy
         * prefix is ignored (Intel SDM Vol. 2, 2.2.1), so skipping both is the same. */
        bool rex = long_mode && (b & 0xf0) == 0x40;
        if (!prefix && !rex)
            break;
        i++;
    }
    if (i >= length)
        return false;
    *opcode = bytes[i++];
    if (*opcode == 0x0f) {
        if (i >= length)
            return false;
        *opcode = 0x0f00u | bytes[i++];
    }
    *modrm_reg = i < length ? (bytes[i] >> 3) & 7 : 0;
    return true;
}

static struct mmio_form form_of(unsigned opcode, unsigned reg, bool long_mode)
{
    struct mmio_form none = {OP_NONE, 0, 0};
    if (opcode < 0x40 && (opcode & 7) < 4) {
        enum mmio_operation op = (opcode & 2) ? OP_ALU_TO_REGISTER : OP_ALU_TO_MEMORY;
        return (struct mmio_form){op, opcode >> 3, 0};
    }
    if (opcode >= 0x80 && opcode <= 0x83)
        return (opcode == 0x82 && long_mode) ? none : (struct mmio_form){OP_ALU_TO_MEMORY, reg, 0};
    if (opcode >= 0x0f40 && opcode <= 0x0f4f)
        return (struct mmio_form){OP_CMOVCC, opcode & 0xf, 0};
    if (opcode >= 0x0f90 && opcode <= 0x0f9f)
        return (struct mmio_form){OP_SETCC, opcode & 0xf, 0};
    switch (opcode) {
    case 0x63: return long_mode ? (struct mmio_form){OP_MOVSX, 0, 0} : none; /* MOVSXD */
    case 0x84: case 0x85: return (struct mmio_form){OP_TEST, 0, 0};
    case 0x86: case 0x87: return (struct mmio_form){OP_XCHG, 0, 0};
    case 0x88: case 0x89: case 0xa2: case 0xa3: return (struct mmio_form){OP_MOV_STORE, 0, 0};
    case 0x8a: case 0x8b: case 0xa0: case 0xa1: return (struct mmio_form){OP_MOV_LOAD, 0, 0};
    case 0xc6: case 0xc7: return reg == 0 ? (struct mmio_form){OP_MOV_STORE, 0, 0} : none;
    case 0x8f: return reg == 0 ? (struct mmio_form){OP_POP, 0, 0} : none;
    case 0xa4: case 0xa5: return (struct mmio_form){OP_MOVS, 0, 0};
    case 0xa6: case 0xa7: return (struct mmio_form){OP_CMPS, 0, 0};
    case 0xaa: case 0xab: return (struct mmio_form){OP_STOS, 0, 0};
    case 0xac: case 0xad: return (struct mmio_form){OP_LODS, 0, 0};
    case 0xae: case 0xaf: return (struct mmio_form){OP_SCAS, 0, 0};
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        if (reg == 2 || reg == 3)
            return none; /* RCL, RCR */
        unsigned count = opcode >= 0xd2 ? 2 : opcode >= 0xd0 ? 1 : 0;
        return (struct mmio_form){OP_SHIFT, reg, count};
    }
    case 0xf6: case 0xf7:
        switch (reg) {
        case 0: case 1: return (struct mmio_form){OP_TEST, 0, 0};
        case 2: return (struct mmio_form){OP_NOT, 0, 0};
        case 3: return (struct mmio_form){OP_NEG, 0, 0};
        default: return none; /* MUL, IMUL, DIV, IDIV */
        }
    case 0xfe: case 0xff:
        if (reg == 0)
            return (struct mmio_form){OP_INC, 0, 0};
        if (reg == 1)
            return (struct mmio_form){OP_DEC, 0, 0};
        return opcode == 0xff && reg == 6 ? (struct mmio_form){OP_PUSH, 0, 0} : none;
    case 0x0fb0: case 0x0fb1: return (struct mmio_form){OP_CMPXCHG, 0, 0};
    case 0x0fc0: case 0x0fc1: return (struct mmio_form){OP_XADD, 0, 0};
    case 0x0fb6: case 0x0fb7: return (struct mmio_form){OP_MOVZX, 0, 0};
    case 0x0fbe: case 0x0fbf: return (struct mmio_form){OP_MOVSX, 0, 0};
    case 0x0fba: return reg >= 4 ? (struct mmio_form){OP_BIT, reg, 0} : none;
    default: return none;
    }
}

static bool valid_size(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

/* What each form needs from the decoder besides a memory operand. */
static bool operands_complete(const struct mmio_run *run)
{
    const struct decoded_insn *insn = &run->insn;
    bool reg = valid_size(insn->reg.size), imm = insn->has_immediate;
    switch (run->form.op) {
    case OP_MOV_STORE:
    case OP_ALU_TO_MEMORY:
    case OP_TEST:
        return reg != imm;
    case OP_MOV_LOAD:
    case OP_MOVZX:
    case OP_MOVSX:
    case OP_ALU_TO_REGISTER:
    case OP_XCHG:
    case OP_XADD:
    case OP_CMPXCHG:
    case OP_CMOVCC:
        return reg && !imm;
    case OP_BIT:
        return imm;
    case OP_SHIFT:
        return run->form.count != 0 || imm;
    default:
        return true;
    }
}

/* The immediate or the register operand, as the second source of a form. */
static bool source_value(struct mmio_run *run, uint64_t *value)
{
    if (run->insn.has_immediate) {
        *value = run->insn.immediate;
        return true;
    }
    return gpr_read(run, &run->insn.reg, value);
}

/* The explicit memory operand is the device: locate it there and read it. */
static enum mmio_result explicit_operand(struct mmio_run *run, uint64_t rsp_bias,
                                         uint64_t *linear)
{
    unsigned size = run->insn.memory.size;
    if (!operand_linear(run, &run->insn.memory, rsp_bias, linear))
        return MMIO_BAD_ACCESS;
    return device_locate(run, linear, &size, 1);
}

/* MOV, MOVZX/MOVSX/MOVSXD, the ALU group, TEST, XCHG, XADD, CMPXCHG, INC/DEC/NOT/NEG,
 * SETcc, CMOVcc, BTx, shifts: one memory operand, on the device. */
static enum mmio_result emulate_one_operand(struct mmio_run *run)
{
    const struct decoded_insn *insn = &run->insn;
    unsigned size = insn->memory.size;
    uint64_t linear, value = 0, source = 0, result;
    enum mmio_result r = explicit_operand(run, 0, &linear);
    if (r != MMIO_DONE)
        return r;
    /* Read the operand unless the form only writes it (MOV store, SETcc). */
    if (run->form.op != OP_MOV_STORE && run->form.op != OP_SETCC) {
        r = location_read(run, linear, size, &value);
        if (r != MMIO_DONE)
            return r;
    }
    switch (run->form.op) {
    case OP_MOV_STORE:
        if (!source_value(run, &source))
            return MMIO_BAD_ACCESS;
        return location_write(run, linear, size, source);
    case OP_MOV_LOAD:
    case OP_MOVZX:
        return gpr_write(run, &insn->reg, value) ? MMIO_DONE : MMIO_BAD_ACCESS;
    case OP_MOVSX:
        return gpr_write(run, &insn->reg, sign_extend(value, size)) ? MMIO_DONE
                                                                    : MMIO_BAD_ACCESS;
    case OP_ALU_TO_MEMORY:
        if (!source_value(run, &source))
            return MMIO_BAD_ACCESS;
        result = alu_compute(run, run->form.sub, value, source, size);
        return run->form.sub == ALU_CMP ? MMIO_DONE : location_write(run, linear, size, result);
    case OP_ALU_TO_REGISTER:
        if (!gpr_read(run, &insn->reg, &source))
            return MMIO_BAD_ACCESS;
        result = alu_compute(run, run->form.sub, source, value, size);
        if (run->form.sub == ALU_CMP)
            return MMIO_DONE;
        return gpr_write(run, &insn->reg, result) ? MMIO_DONE : MMIO_BAD_ACCESS;
    case OP_TEST:
        if (!source_value(run, &source))
            return MMIO_BAD_ACCESS;
        alu_compute(run, ALU_AND, value, source, size);
        return MMIO_DONE;
    case OP_XCHG:
        if (!gpr_read(run, &insn->reg, &source))
            return MMIO_BAD_ACCESS;
        r = location_write(run, linear, size, source);
        if (r != MMIO_DONE)
            return r;
        return gpr_write(run, &insn->reg, value) ? MMIO_DONE : MMIO_BAD_ACCESS;
    case OP_XADD:
        if (!gpr_read(run, &insn->reg, &source))
            return MMIO_BAD_ACCESS;
        result = alu_compute(run, ALU_ADD, value, source, size);
        r = location_write(run, linear, size, result);
        if (r != MMIO_DONE)
            return r;
        return gpr_write(run, &insn->reg, value) ? MMIO_DONE : MMIO_BAD_ACCESS;
    case OP_CMPXCHG: {
        /* Intel SDM Vol. 2, CMPXCHG: compare rAX with the destination; equal: destination
         * = source; else rAX = destination, and the destination is written back as is. */
        struct decoder_gpr accumulator = gpr_of(GPR_RAX, size);
        uint64_t expected;
        if (!gpr_read(run, &insn->reg, &source) || !gpr_read(run, &accumulator, &expected))
            return MMIO_BAD_ACCESS;
        alu_compute(run, ALU_CMP, expected, value, size);
        bool equal = run->rflags & FLAG_ZF;
        r = location_write(run, linear, size, equal ? source : value);
        if (r != MMIO_DONE || equal)
            return r;
        return gpr_write(run, &accumulator, value) ? MMIO_DONE : MMIO_BAD_ACCESS;
    }
    case OP_INC:
    case OP_DEC: {
        uint64_t carry = run->rflags & FLAG_CF; /* INC and DEC keep CF */
        result = alu_compute(run, run->form.op == OP_INC ? ALU_ADD : ALU_SUB, value, 1, size);
        flags_set(run, FLAG_CF, carry);
        return location_write(run, linear, size, result);
    }
    case OP_NOT:
        return location_write(run, linear, size, ~value);
    case OP_NEG:
        result = alu_compute(run, ALU_SUB, 0, value, size);
        return location_write(run, linear, size, result);
    case OP_SETCC:
        return location_write(run, linear, 1, condition_holds(run->rflags, run->form.sub));
    case OP_CMOVCC:
        /* The source is read whatever the condition; a 32-bit destination in 64-bit mode
         * is zero-extended even when the move does not happen (Intel SDM Vol. 2, CMOVcc). */
        if (!condition_holds(run->rflags, run->form.sub)) {
            if (insn->reg.size != 4 || !run->long_mode)
                return MMIO_DONE;
            if (!gpr_read(run, &insn->reg, &value))
                return MMIO_BAD_ACCESS;
        }
        return gpr_write(run, &insn->reg, value) ? MMIO_DONE : MMIO_BAD_ACCESS;
    case OP_BIT: {
        /* The immediate bit offset is taken modulo the operand width (Intel SDM Vol. 2,
         * BT); CF = the bit; the other arithmetic flags are undefined and left alone. */
        uint64_t bit = (uint64_t)1 << (insn->immediate & (size * 8 - 1));
        flags_set(run, FLAG_CF, (value & bit) ? FLAG_CF : 0);
        if (run->form.sub == BIT_TEST)
            return MMIO_DONE;
        result = run->form.sub == BIT_SET ? value | bit
                 : run->form.sub == BIT_RESET ? value & ~bit : value ^ bit;
        return location_write(run, linear, size, result);
    }
    case OP_SHIFT: {
        uint64_t count = insn->immediate;
        if (run->form.count == 1) {
            count = 1;
        } else if (run->form.count == 2) {
            struct decoder_gpr cl = gpr_of(GPR_RCX, 1);
            if (!gpr_read(run, &cl, &count))
                return MMIO_BAD_ACCESS;
        }
        if (!shift_compute(run, run->form.sub, value, (unsigned)(count & 0xff), size, &result))
            return MMIO_DONE;
        return location_write(run, linear, size, result);
    }
    default:
        run->reason = "internal: form without a handler";
        return MMIO_UNSUPPORTED;
    }
}

/* The stack's address width: 64-bit mode, or the mode's default (a 32-bit child's SS is
 * flat and big, B = 1, per the child platform contract). */
static unsigned stack_address_size(const struct mmio_run *run)
{
    return run->access->mode == DECODER_MODE_64 ? 8 : run->access->mode == DECODER_MODE_32 ? 4
                                                                                          : 2;
}

/* PUSH r/m (FF /6) and POP r/m (8F /0): the explicit operand is the device, the stack slot
 * is wherever SS:rSP points. */
static enum mmio_result emulate_stack(struct mmio_run *run)
{
    unsigned size = run->insn.memory.size, width = stack_address_size(run);
    struct decoder_gpr rsp_gpr = gpr_of(GPR_RSP, width);
    uint64_t rsp, linear, slot, value;
    if (!gpr_read(run, &rsp_gpr, &rsp))
        return MMIO_BAD_ACCESS;
    bool push = run->form.op == OP_PUSH;
    uint64_t new_rsp = (push ? rsp - size : rsp + size) & size_mask(width);
    if (!linear_of(run, DECODER_SEGMENT_SS, push ? new_rsp : rsp, &slot))
        return MMIO_BAD_ACCESS;
    /* POP computes a rSP-based destination after the increment (Intel SDM Vol. 2, POP). */
    enum mmio_result r = explicit_operand(run, push ? 0 : size, &linear);
    if (r != MMIO_DONE)
        return r;
    if (push) {
        r = location_read(run, linear, size, &value);
        if (r == MMIO_DONE)
            r = location_write(run, slot, size, value);
    } else {
        r = location_read(run, slot, size, &value);
        if (r == MMIO_DONE)
            r = location_write(run, linear, size, value);
    }
    if (r != MMIO_DONE)
        return r;
    return gpr_write(run, &rsp_gpr, new_rsp) ? MMIO_DONE : MMIO_BAD_ACCESS;
}

/* ---- string instructions ----------------------------------------------------------------- */

/* The source segment of MOVS/CMPS/LODS: DS or an override, as the decoder reports it on the
 * operand based on rSI. The destination is always ES (Intel SDM Vol. 1, 3.7.4.1). */
static enum decoder_segment string_source_segment(const struct decoded_insn *insn)
{
    if (insn->memory.present && insn->memory.base.size && insn->memory.base.number == GPR_RSI)
        return insn->memory.segment;
    if (insn->memory_source.present && insn->memory_source.base.size &&
        insn->memory_source.base.number == GPR_RSI)
        return insn->memory_source.segment;
    return DECODER_SEGMENT_DS;
}

struct string_state {
    unsigned size, address_size;
    bool reads_source, uses_destination;
    enum decoder_segment source_segment;
    uint64_t rsi, rdi, rcx;
};

static bool string_linear(struct mmio_run *run, const struct string_state *s, uint64_t *source,
                          uint64_t *destination)
{
    uint64_t mask = size_mask(s->address_size);
    return linear_of(run, s->source_segment, s->rsi & mask, source) &&
           linear_of(run, DECODER_SEGMENT_ES, s->rdi & mask, destination);
}

/* One iteration. Returns MMIO_DONE with *outside set when neither operand is in the
 * device's page any more (the REP loop then stops and the child re-executes). */
static enum mmio_result string_step(struct mmio_run *run, struct string_state *s, bool *outside)
{
    uint64_t source, destination, a = 0, b = 0;
    if (!string_linear(run, s, &source, &destination))
        return MMIO_BAD_ACCESS;
    bool device = (s->reads_source && in_device_page(run, source)) ||
                  (s->uses_destination && in_device_page(run, destination));
    *outside = !device;
    if (!device)
        return MMIO_DONE;
    struct decoder_gpr accumulator = gpr_of(GPR_RAX, s->size);
    enum mmio_result r = MMIO_DONE;
    switch (run->form.op) {
    case OP_STOS:
        if (!gpr_read(run, &accumulator, &a))
            return MMIO_BAD_ACCESS;
        r = location_write(run, destination, s->size, a);
        break;
    case OP_LODS:
        r = location_read(run, source, s->size, &a);
        if (r == MMIO_DONE && !gpr_write(run, &accumulator, a))
            r = MMIO_BAD_ACCESS;
        break;
    case OP_MOVS:
        r = location_read(run, source, s->size, &a);
        if (r == MMIO_DONE)
            r = location_write(run, destination, s->size, a);
        break;
    case OP_CMPS: /* [rSI] - [rDI] */
        r = location_read(run, source, s->size, &a);
        if (r == MMIO_DONE)
            r = location_read(run, destination, s->size, &b);
        if (r == MMIO_DONE)
            alu_compute(run, ALU_CMP, a, b, s->size);
        break;
    default: /* SCAS: rAX - [rDI] */
        if (!gpr_read(run, &accumulator, &a))
            return MMIO_BAD_ACCESS;
        r = location_read(run, destination, s->size, &b);
        if (r == MMIO_DONE)
            alu_compute(run, ALU_CMP, a, b, s->size);
        break;
    }
    if (r != MMIO_DONE)
        return r;
    uint64_t step = run->rflags & FLAG_DF ? (uint64_t)0 - s->size : s->size;
    if (s->reads_source)
        s->rsi += step;
    if (s->uses_destination)
        s->rdi += step;
    return MMIO_DONE;
}

/* STOS LODS MOVS CMPS SCAS, REP-prefixed or not (Intel SDM Vol. 2, "REP/REPE/REPZ/REPNE/
 * REPNZ"): rCX counts at the address size; REPE/REPNE end CMPS and SCAS on ZF. */
static enum mmio_result emulate_string(struct mmio_run *run, bool *stopped_early)
{
    const struct decoded_insn *insn = &run->insn;
    enum mmio_operation op = run->form.op;
    struct string_state s = {
        .size = insn->memory.size,
        .address_size = insn->address_size,
        .reads_source = op == OP_LODS || op == OP_MOVS || op == OP_CMPS,
        .uses_destination = op != OP_LODS,
        .source_segment = string_source_segment(insn),
    };
    struct decoder_gpr rsi = gpr_of(GPR_RSI, s.address_size), rdi = gpr_of(GPR_RDI, s.address_size);
    struct decoder_gpr rcx = gpr_of(GPR_RCX, s.address_size);
    if (!valid_size(s.size) || !gpr_read(run, &rsi, &s.rsi) || !gpr_read(run, &rdi, &s.rdi) ||
        !gpr_read(run, &rcx, &s.rcx))
        return MMIO_BAD_ACCESS;
    bool rep = insn->rep != DECODER_REP_NONE;
    uint64_t remaining = rep ? s.rcx : 1;
    *stopped_early = false;
    if (remaining == 0)
        return MMIO_DONE; /* REP with rCX = 0 does nothing (and cannot have faulted) */

    uint64_t source, destination;
    if (!string_linear(run, &s, &source, &destination))
        return MMIO_BAD_ACCESS;
    uint64_t candidates[2];
    unsigned sizes[2] = {s.size, s.size}, count = 0;
    if (s.reads_source)
        candidates[count++] = source;
    if (s.uses_destination)
        candidates[count++] = destination;
    enum mmio_result r = device_locate(run, candidates, sizes, count);
    if (r != MMIO_DONE)
        return r;

    for (uint64_t done = 0; remaining != 0; done++) {
        if (done == MMIO_REP_LIMIT) {
            *stopped_early = true;
            break;
        }
        bool outside;
        r = string_step(run, &s, &outside);
        if (r != MMIO_DONE)
            break;
        if (outside) {
            *stopped_early = true;
            break;
        }
        remaining--;
        if (rep)
            s.rcx--;
        bool zf = run->rflags & FLAG_ZF;
        if ((op == OP_CMPS || op == OP_SCAS) &&
            ((insn->rep == DECODER_REP_REPE && !zf) || (insn->rep == DECODER_REP_REPNE && zf)))
            break;
    }
    /* rSI/rDI/rCX reflect the iterations done, also when one failed (as after a fault). */
    bool written = gpr_write(run, &rsi, s.rsi) && gpr_write(run, &rdi, s.rdi) &&
                   (!rep || gpr_write(run, &rcx, s.rcx));
    if (!written)
        return MMIO_BAD_ACCESS;
    if (r == MMIO_DONE && *stopped_early && (!rep || s.rcx == 0))
        *stopped_early = false;
    return r;
}

/* ---- entry ------------------------------------------------------------------------------- */

static bool is_string(enum mmio_operation op)
{
    return op == OP_STOS || op == OP_LODS || op == OP_MOVS || op == OP_CMPS || op == OP_SCAS;
}

static enum mmio_result emulate_prepare(struct mmio_run *run)
{
    const struct mmio_access *access = run->access;
    if (access->bytes == NULL || access->count == 0) {
        run->reason = "no instruction bytes";
        return MMIO_UNSUPPORTED;
    }
    size_t count = access->count > 16 ? 16 : access->count;
    if (!decoder_decode(access->bytes, count, access->mode, access->rip, &run->insn)) {
        run->reason = "instruction bytes do not decode (invalid or truncated)";
        return MMIO_UNSUPPORTED;
    }
    unsigned opcode, reg;
    if (!opcode_find(access->bytes, run->insn.length, run->long_mode, &opcode, &reg)) {
        run->reason = "no opcode";
        return MMIO_UNSUPPORTED;
    }
    run->form = form_of(opcode, reg, run->long_mode);
    if (run->form.op == OP_NONE) {
        run->reason = "instruction form not emulated";
        return MMIO_UNSUPPORTED;
    }
    const struct decoder_memory *memory = &run->insn.memory;
    if (!memory->present || !valid_size(memory->size) || !operands_complete(run)) {
        run->reason = "instruction has no memory operand of 1, 2, 4 or 8 bytes";
        return MMIO_UNSUPPORTED;
    }
    return MMIO_DONE;
}

enum mmio_result mmio_emulate(const struct mmio_access *access, const struct mmio_device *device,
                              const struct mmio_vcpu_ops *vcpu, void *ctx,
                              struct mmio_outcome *outcome)
{
    if (outcome == NULL)
        return MMIO_BAD_ACCESS;
    memset(outcome, 0, sizeof(*outcome));
    if (access == NULL || device == NULL || vcpu == NULL || device->read == NULL ||
        device->write == NULL || vcpu->read_gpr == NULL || vcpu->write_gpr == NULL ||
        vcpu->read_memory == NULL || vcpu->write_memory == NULL) {
        outcome->reason = "missing argument or callback";
        return MMIO_BAD_ACCESS;
    }
    outcome->rflags = access->rflags;
    struct mmio_run run = {
        .access = access,
        .device = device,
        .vcpu = vcpu,
        .ctx = ctx,
        .long_mode = access->mode == DECODER_MODE_64,
        .rflags = access->rflags,
    };
    enum mmio_result r = emulate_prepare(&run);
    outcome->length = run.insn.length;
    if (r != MMIO_DONE) {
        outcome->reason = run.reason;
        return r;
    }
    bool stopped_early = false;
    if (is_string(run.form.op))
        r = emulate_string(&run, &stopped_early);
    else if (run.form.op == OP_PUSH || run.form.op == OP_POP)
        r = emulate_stack(&run);
    else
        r = emulate_one_operand(&run);
    if (r != MMIO_DONE) {
        outcome->reason = run.reason ? run.reason : "access refused";
        return r;
    }
    outcome->rflags = run.rflags;
    outcome->rip_advance = stopped_early ? 0 : run.insn.length;
    return MMIO_DONE;
}

const char *mmio_result_name(enum mmio_result result)
{
    switch (result) {
    case MMIO_DONE: return "done";
    case MMIO_UNSUPPORTED: return "unsupported";
    case MMIO_BAD_ACCESS: return "bad access";
    }
    return "unknown";
}
