// sources: root/mmio.c root/test_device.c libc-glue/decoder.c
// libs: build/host/zydis/libzydis-host.a
/*
 * MMIO emulation against the host CPU: each case's instruction bytes run once natively (an
 * executable page, a trampoline loading and saving every GPR and RFLAGS) with its memory
 * operand in a host buffer, and once through mmio_emulate with the operand in the test
 * device. Registers (pointers compared as offsets into their buffer), the defined flags,
 * the device and the RAM buffer must agree. The forms are mmiotest's (images/guests/
 * mmiotest/cases.S), byte for byte; its 32-bit encodings mean the same in 64-bit mode with
 * these operands, so they are emulated in 32-bit mode against a native 64-bit run too.
 * Forms that cannot run natively here (PUSH/POP, moffs, RIP-relative, 16-bit) and the
 * negative cases have hand-computed expectations.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "root/mmio.h"
#include "root/test_device.h"

/* ---- the native side ------------------------------------------------------------------- */

struct native_state {
    uint64_t gpr[16]; /* rax .. r15; rsp is not loaded */
    uint64_t rflags;
};

void native_run(struct native_state *state, const void *code);

/* rdi = state, rsi = code (the instruction followed by RET). */
__asm__(".text\n"
        ".globl native_run\n"
        ".type native_run, @function\n"
        "native_run:\n"
        "    push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
        "    push %rdi\n"
        "    push %rsi\n"
        "    pushq 128(%rdi)\n"
        "    popfq\n"
        "    mov 0(%rdi), %rax\n mov 8(%rdi), %rcx\n mov 16(%rdi), %rdx\n"
        "    mov 24(%rdi), %rbx\n mov 40(%rdi), %rbp\n mov 48(%rdi), %rsi\n"
        "    mov 64(%rdi), %r8\n mov 72(%rdi), %r9\n mov 80(%rdi), %r10\n"
        "    mov 88(%rdi), %r11\n mov 96(%rdi), %r12\n mov 104(%rdi), %r13\n"
        "    mov 112(%rdi), %r14\n mov 120(%rdi), %r15\n"
        "    mov 56(%rdi), %rdi\n"
        "    call *(%rsp)\n"
        "    pushfq\n"
        "    push %rdi\n"
        "    mov 24(%rsp), %rdi\n"
        "    popq 56(%rdi)\n"
        "    popq 128(%rdi)\n"
        "    cld\n"
        "    mov %rax, 0(%rdi)\n mov %rcx, 8(%rdi)\n mov %rdx, 16(%rdi)\n"
        "    mov %rbx, 24(%rdi)\n mov %rbp, 40(%rdi)\n mov %rsi, 48(%rdi)\n"
        "    mov %r8, 64(%rdi)\n mov %r9, 72(%rdi)\n mov %r10, 80(%rdi)\n"
        "    mov %r11, 88(%rdi)\n mov %r12, 96(%rdi)\n mov %r13, 104(%rdi)\n"
        "    mov %r14, 112(%rdi)\n mov %r15, 120(%rdi)\n"
        "    add $16, %rsp\n"
        "    pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
        "    ret\n"
        ".size native_run, . - native_run\n");

#define RAM_SIZE 256u
/* The device page, a guard page, then RAM: pointers near one are never near the other. */
static uint8_t native_space[3 * 4096] __attribute__((aligned(4096)));
#define native_device (&native_space[0])
#define native_ram (&native_space[2 * 4096])

/* ---- the emulated side: a fake VP with flat segments and paging off ---------------------- */

#define RAM_LINEAR 0x00200000u

struct fake_vp {
    uint64_t gpr[16];
    uint8_t ram[RAM_SIZE];
    bool refuse_memory;
    unsigned device_accesses;
};

static bool fake_read_gpr(void *ctx, unsigned number, uint64_t *value)
{
    struct fake_vp *vp = ctx;
    ck_assert_uint_lt(number, 16);
    *value = vp->gpr[number];
    return true;
}

static bool fake_write_gpr(void *ctx, unsigned number, uint64_t value)
{
    struct fake_vp *vp = ctx;
    ck_assert_uint_lt(number, 16);
    vp->gpr[number] = value;
    return true;
}

static bool fake_ram_range(const struct fake_vp *vp, uint64_t linear, size_t len)
{
    return !vp->refuse_memory && linear >= RAM_LINEAR && linear - RAM_LINEAR <= RAM_SIZE &&
           RAM_SIZE - (linear - RAM_LINEAR) >= len;
}

static bool fake_read_memory(void *ctx, uint64_t linear, void *buf, size_t len)
{
    struct fake_vp *vp = ctx;
    if (!fake_ram_range(vp, linear, len))
        return false;
    memcpy(buf, &vp->ram[linear - RAM_LINEAR], len);
    return true;
}

static bool fake_write_memory(void *ctx, uint64_t linear, const void *buf, size_t len)
{
    struct fake_vp *vp = ctx;
    if (!fake_ram_range(vp, linear, len))
        return false;
    memcpy(&vp->ram[linear - RAM_LINEAR], buf, len);
    return true;
}

static const struct mmio_vcpu_ops fake_ops = {
    .read_gpr = fake_read_gpr,
    .write_gpr = fake_write_gpr,
    .read_memory = fake_read_memory,
    .write_memory = fake_write_memory,
};

/* ---- cases ------------------------------------------------------------------------------- */

/* Register values naming a place: resolved to the native buffer or the emulated address. */
#define TAG_MASK 0xffff000000000000ull
#define DEV_TAG 0xd0de000000000000ull
#define RAM_TAG 0xba5e000000000000ull
#define DEV(offset) (DEV_TAG | (offset))
#define RAM(offset) (RAM_TAG | (offset))

#define CF 0x001u
#define PF 0x004u
#define AF 0x010u
#define ZF 0x040u
#define SF 0x080u
#define DF 0x400u
#define OF 0x800u
#define FLAGS_NONE DF
#define FLAGS_ARITH (CF | PF | AF | ZF | SF | OF | DF)
#define FLAGS_LOGIC (CF | PF | ZF | SF | OF | DF)

struct gpr_set {
    uint8_t number;
    uint64_t value;
};

struct mmio_test_case {
    const char *name;
    const char *bytes;
    unsigned length;
    unsigned gpa_offset;  /* where in the window the intercept says the access is */
    uint32_t flags_mask;  /* flags the instruction defines */
    uint64_t rflags;      /* in (0x2 | ...) */
    struct gpr_set set[4]; /* over the defaults; number 0 with value 0 ends early */
};

#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RSP 4
#define RBP 5
#define RSI 6
#define RDI 7

#define INSN(b) (b), (sizeof(b) - 1)

static const uint64_t default_gpr[16] = {
    0x123456788a9b2c3dull, 0x0000000111223344ull, 0xffff00005566f788ull, DEV(0),
    0, RAM(0), 0x0000cafe0a0b0c0dull, 0x1111222210203040ull,
    0x8888888888888888ull, 0x9999999999999999ull, 0xaaaaaaaaaaaaaaaaull, 0xbbbbbbbbbbbbbbbbull,
    0xccccccccccccccccull, 0xddddddddddddddddull, 0xeeeeeeeeeeeeeeeeull, 0x0f0f0f0f0f0f0f0full,
};

/* mmiotest's forms (cases.S), operands at EBX = device slot, EBP = RAM buffer. */
static const struct mmio_test_case native_cases[] = {
    {"mov_store_r8", INSN("\x88\x53\x03"), 0x03, FLAGS_NONE, 0x2, {{0}}},
    {"mov_store_r8_high", INSN("\x88\x73\x05"), 0x05, FLAGS_NONE, 0x2, {{0}}},
    {"mov_store_r16", INSN("\x66\x89\x53\x06"), 0x06, FLAGS_NONE, 0x2, {{0}}},
    {"mov_store_r32", INSN("\x89\x53\x08"), 0x08, FLAGS_NONE, 0x2, {{0}}},
    {"mov_store_r32_sib", INSN("\x89\x44\x8b\x04"), 0x10, FLAGS_NONE, 0x2, {{RCX, 3}}},
    {"mov_store_r32_disp32", INSN("\x89\x83\xc0\x00\x00\x00"), 0xc0, FLAGS_NONE, 0x2, {{0}}},
    {"mov_store_r32_unaligned", INSN("\x89\x43\x21"), 0x21, FLAGS_NONE, 0x2, {{0}}},
    {"mov_store_r32_other_base", INSN("\x89\x56\x2c"), 0x2c, FLAGS_NONE, 0x2,
     {{RSI, DEV(0)}}},
    {"mov_load_r8", INSN("\x8a\x53\x05"), 0x05, FLAGS_NONE, 0x2, {{0}}},
    {"mov_load_r8_high", INSN("\x8a\x63\x07"), 0x07, FLAGS_NONE, 0x2, {{0}}},
    {"mov_load_r16", INSN("\x66\x8b\x53\x0a"), 0x0a, FLAGS_NONE, 0x2, {{0}}},
    {"mov_load_r32", INSN("\x8b\x73\x0c"), 0x0c, FLAGS_NONE, 0x2, {{0}}},
    {"mov_load_r32_sib", INSN("\x8b\x7c\xcb\x08"), 0x18, FLAGS_NONE, 0x2, {{RCX, 2}}},
    {"mov_load_r32_disp32", INSN("\x8b\x93\xd0\x00\x00\x00"), 0xd0, FLAGS_NONE, 0x2, {{0}}},
    {"mov_load_r32_unaligned", INSN("\x8b\x43\x23"), 0x23, FLAGS_NONE, 0x2, {{0}}},
    {"mov_store_imm8", INSN("\xc6\x43\x07\x5a"), 0x07, FLAGS_NONE, 0x2, {{0}}},
    {"mov_store_imm16", INSN("\x66\xc7\x43\x0e\xef\xbe"), 0x0e, FLAGS_NONE, 0x2, {{0}}},
    {"mov_store_imm32", INSN("\xc7\x43\x10\xef\xbe\xad\xde"), 0x10, FLAGS_NONE, 0x2, {{0}}},
    {"movzx_m8_to_r32", INSN("\x0f\xb6\x53\x11"), 0x11, FLAGS_NONE, 0x2, {{0}}},
    {"movzx_m16_to_r32", INSN("\x0f\xb7\x53\x12"), 0x12, FLAGS_NONE, 0x2, {{0}}},
    {"movzx_m8_to_r16", INSN("\x66\x0f\xb6\x53\x15"), 0x15, FLAGS_NONE, 0x2, {{0}}},
    {"movsx_m8_to_r32", INSN("\x0f\xbe\x53\x13"), 0x13, FLAGS_NONE, 0x2, {{0}}},
    {"movsx_m16_to_r32", INSN("\x0f\xbf\x53\x14"), 0x14, FLAGS_NONE, 0x2, {{0}}},
    {"movsx_m8_to_r16", INSN("\x66\x0f\xbe\x53\x16"), 0x16, FLAGS_NONE, 0x2, {{0}}},
    {"movsx_negative_m8", INSN("\x0f\xbe\x7b\x1f"), 0x1f, FLAGS_NONE, 0x2, {{0}}},
    {"stosb", INSN("\xaa"), 0x40, FLAGS_NONE, 0x2, {{RDI, DEV(0x40)}}},
    {"stosw", INSN("\x66\xab"), 0x42, FLAGS_NONE, 0x2, {{RDI, DEV(0x42)}}},
    {"stosl", INSN("\xab"), 0x44, FLAGS_NONE, 0x2, {{RDI, DEV(0x44)}}},
    {"rep_stosb", INSN("\xf3\xaa"), 0x48, FLAGS_NONE, 0x2, {{RDI, DEV(0x48)}, {RCX, 7}}},
    {"rep_stosw", INSN("\x66\xf3\xab"), 0x50, FLAGS_NONE, 0x2, {{RDI, DEV(0x50)}, {RCX, 3}}},
    {"rep_stosl", INSN("\xf3\xab"), 0x58, FLAGS_NONE, 0x2, {{RDI, DEV(0x58)}, {RCX, 5}}},
    {"rep_stosl_backward", INSN("\xf3\xab"), 0x58, FLAGS_NONE, 0x2 | DF,
     {{RDI, DEV(0x58)}, {RCX, 5}}},
    {"lodsb", INSN("\xac"), 0x61, FLAGS_NONE, 0x2, {{RSI, DEV(0x61)}}},
    {"lodsl", INSN("\xad"), 0x64, FLAGS_NONE, 0x2, {{RSI, DEV(0x64)}}},
    {"movsb_device_to_ram", INSN("\xa4"), 0x68, FLAGS_NONE, 0x2,
     {{RSI, DEV(0x68)}, {RDI, RAM(0)}}},
    {"movsl_device_to_ram", INSN("\xa5"), 0x6c, FLAGS_NONE, 0x2,
     {{RSI, DEV(0x6c)}, {RDI, RAM(4)}}},
    {"movsw_ram_to_device", INSN("\x66\xa5"), 0x72, FLAGS_NONE, 0x2,
     {{RSI, RAM(0x30)}, {RDI, DEV(0x72)}}},
    {"movsl_ram_to_device", INSN("\xa5"), 0x74, FLAGS_NONE, 0x2,
     {{RSI, RAM(0)}, {RDI, DEV(0x74)}}},
    {"movsl_ram_to_device_same_page_offset", INSN("\xa5"), 0x74, FLAGS_NONE, 0x2,
     {{RSI, RAM(0x74)}, {RDI, DEV(0x74)}}},
    {"movsl_device_to_ram_same_page_offset", INSN("\xa5"), 0x10, FLAGS_NONE, 0x2,
     {{RSI, DEV(0x10)}, {RDI, RAM(0x10)}}},
    {"rep_movsb_device_to_ram", INSN("\xf3\xa4"), 0x78, FLAGS_NONE, 0x2,
     {{RSI, DEV(0x78)}, {RDI, RAM(8)}, {RCX, 9}}},
    {"rep_movsl_ram_to_device", INSN("\xf3\xa5"), 0x80, FLAGS_NONE, 0x2,
     {{RSI, RAM(0x10)}, {RDI, DEV(0x80)}, {RCX, 4}}},
    {"movsb_device_to_device", INSN("\xa4"), 0x90, FLAGS_NONE, 0x2,
     {{RSI, DEV(0x90)}, {RDI, DEV(0x98)}}},
    {"rep_movsl_device_to_device", INSN("\xf3\xa5"), 0x90, FLAGS_NONE, 0x2,
     {{RSI, DEV(0x90)}, {RDI, DEV(0xa0)}, {RCX, 3}}},
    {"rep_movsb_backward_ram_to_device", INSN("\xf3\xa4"), 0xb4, FLAGS_NONE, 0x2 | DF,
     {{RSI, RAM(0x24)}, {RDI, DEV(0xb4)}, {RCX, 5}}},
    {"cmpsb", INSN("\xa6"), 0x20, FLAGS_ARITH, 0x2, {{RSI, DEV(0x20)}, {RDI, RAM(0x20)}}},
    {"cmpsl", INSN("\xa7"), 0x10, FLAGS_ARITH, 0x2, {{RSI, DEV(0x10)}, {RDI, RAM(0x14)}}},
    {"repe_cmpsb", INSN("\xf3\xa6"), 0x18, FLAGS_ARITH, 0x2,
     {{RSI, DEV(0x18)}, {RDI, RAM(0x18)}, {RCX, 16}}},
    {"scasb", INSN("\xae"), 0x30, FLAGS_ARITH, 0x2, {{RDI, DEV(0x30)}}},
    {"scasl", INSN("\xaf"), 0x34, FLAGS_ARITH, 0x2, {{RDI, DEV(0x34)}}},
    {"repne_scasb", INSN("\xf2\xae"), 0x30, FLAGS_ARITH, 0x2,
     {{RDI, DEV(0x30)}, {RCX, 16}, {RAX, 0x3b * 0x3b + 0x85}}},
    {"add_r32_to_m32", INSN("\x01\x53\x08"), 0x08, FLAGS_ARITH, 0x2, {{0}}},
    {"add_r8_to_m8", INSN("\x00\x53\x09"), 0x09, FLAGS_ARITH, 0x2, {{0}}},
    {"add_r16_to_m16", INSN("\x66\x01\x53\x0a"), 0x0a, FLAGS_ARITH, 0x2, {{0}}},
    {"add_imm8_to_m32", INSN("\x83\x43\x0c\xfd"), 0x0c, FLAGS_ARITH, 0x2, {{0}}},
    {"add_imm32_to_m32", INSN("\x81\x43\x10\x78\x56\x34\x12"), 0x10, FLAGS_ARITH, 0x2, {{0}}},
    {"add_imm8_to_m8_overflow", INSN("\x80\x43\x14\x7f"), 0x14, FLAGS_ARITH, 0x2, {{0}}},
    {"add_imm16_to_m16", INSN("\x66\x81\x43\x16\x34\x12"), 0x16, FLAGS_ARITH, 0x2, {{0}}},
    {"adc_r32_to_m32", INSN("\x11\x53\x18"), 0x18, FLAGS_ARITH, 0x2 | CF, {{0}}},
    {"sub_r32_from_m32", INSN("\x29\x53\x1c"), 0x1c, FLAGS_ARITH, 0x2, {{0}}},
    {"sub_imm32_from_m32", INSN("\x81\x6b\x20\x00\x01\x00\x00"), 0x20, FLAGS_ARITH, 0x2, {{0}}},
    {"sbb_imm8_from_m8", INSN("\x80\x5b\x24\x01"), 0x24, FLAGS_ARITH, 0x2 | CF, {{0}}},
    {"sub_to_zero", INSN("\x29\x53\x00"), 0x00, FLAGS_ARITH, 0x2,
     {{RDX, 0x85 | 0xc0u << 8 | 0xfbu << 16 | 0x36u << 24}}},
    {"and_r32_to_m32", INSN("\x21\x53\x28"), 0x28, FLAGS_LOGIC, 0x2 | CF | OF, {{0}}},
    {"and_imm16_to_m16", INSN("\x66\x81\x63\x2c\xf0\xf0"), 0x2c, FLAGS_LOGIC, 0x2, {{0}}},
    {"and_r8_high_to_m8", INSN("\x20\x73\x2e"), 0x2e, FLAGS_LOGIC, 0x2, {{0}}},
    {"or_r32_to_m32", INSN("\x09\x43\x30"), 0x30, FLAGS_LOGIC, 0x2, {{0}}},
    {"or_imm8_to_m8", INSN("\x80\x4b\x34\x81"), 0x34, FLAGS_LOGIC, 0x2, {{0}}},
    {"xor_r32_to_m32", INSN("\x31\x53\x38"), 0x38, FLAGS_LOGIC, 0x2, {{0}}},
    {"xor_imm32_to_m32", INSN("\x81\x73\x3c\x00\x00\xff\xff"), 0x3c, FLAGS_LOGIC, 0x2, {{0}}},
    {"inc_m32", INSN("\xff\x43\x44"), 0x44, FLAGS_ARITH, 0x2 | CF, {{0}}},
    {"dec_m8", INSN("\xfe\x4b\x48"), 0x48, FLAGS_ARITH, 0x2, {{0}}},
    {"not_m32", INSN("\xf7\x53\x4c"), 0x4c, FLAGS_NONE, 0x2, {{0}}},
    {"neg_m16", INSN("\x66\xf7\x5b\x50"), 0x50, FLAGS_ARITH, 0x2, {{0}}},
    {"add_m32_to_r32", INSN("\x03\x53\x54"), 0x54, FLAGS_ARITH, 0x2, {{0}}},
    {"sub_m32_from_r32", INSN("\x2b\x53\x58"), 0x58, FLAGS_ARITH, 0x2, {{0}}},
    {"and_m8_to_r8", INSN("\x22\x53\x5c"), 0x5c, FLAGS_LOGIC, 0x2, {{0}}},
    {"or_m16_to_r16", INSN("\x66\x0b\x53\x5e"), 0x5e, FLAGS_LOGIC, 0x2, {{0}}},
    {"xor_m32_to_r32", INSN("\x33\x43\x60"), 0x60, FLAGS_LOGIC, 0x2, {{0}}},
    {"cmove_taken", INSN("\x0f\x44\x93\xb0\x00\x00\x00"), 0xb0, FLAGS_NONE, 0x2 | ZF, {{0}}},
    {"cmove_not_taken", INSN("\x0f\x44\x93\xb0\x00\x00\x00"), 0xb0, FLAGS_NONE, 0x2, {{0}}},
    {"cmp_m32_with_r32", INSN("\x39\x53\x64"), 0x64, FLAGS_ARITH, 0x2, {{0}}},
    {"cmp_r32_with_m32", INSN("\x3b\x53\x64"), 0x64, FLAGS_ARITH, 0x2, {{0}}},
    {"cmp_m8_with_imm8", INSN("\x80\x7b\x68\x80"), 0x68, FLAGS_ARITH, 0x2, {{0}}},
    {"cmp_m32_with_imm32", INSN("\x81\x7b\x6c\x78\x56\x34\x12"), 0x6c, FLAGS_ARITH, 0x2, {{0}}},
    {"cmp_m16_with_imm8", INSN("\x66\x83\x7b\x70\xff"), 0x70, FLAGS_ARITH, 0x2, {{0}}},
    {"test_m32_with_r32", INSN("\x85\x53\x74"), 0x74, FLAGS_LOGIC, 0x2, {{0}}},
    {"test_m8_with_imm8", INSN("\xf6\x43\x78\x81"), 0x78, FLAGS_LOGIC, 0x2, {{0}}},
    {"test_m16_with_imm16", INSN("\x66\xf7\x43\x7a\x01\x80"), 0x7a, FLAGS_LOGIC, 0x2, {{0}}},
    {"xchg_r32_with_m32", INSN("\x87\x53\x7c"), 0x7c, FLAGS_NONE, 0x2, {{0}}},
    {"xchg_r8_with_m8", INSN("\x86\x93\x80\x00\x00\x00"), 0x80, FLAGS_NONE, 0x2, {{0}}},
    {"xchg_r16_with_m16", INSN("\x66\x87\x93\x82\x00\x00\x00"), 0x82, FLAGS_NONE, 0x2, {{0}}},
    {"lock_add_r32_to_m32", INSN("\xf0\x01\x93\x84\x00\x00\x00"), 0x84, FLAGS_ARITH, 0x2,
     {{0}}},
    {"lock_xadd_r32_m32", INSN("\xf0\x0f\xc1\x93\x88\x00\x00\x00"), 0x88, FLAGS_ARITH, 0x2,
     {{0}}},
    {"lock_cmpxchg_m32_not_equal", INSN("\xf0\x0f\xb1\x93\x90\x00\x00\x00"), 0x90,
     FLAGS_ARITH, 0x2, {{0}}},
    {"setc_m8", INSN("\x0f\x92\x83\x9c\x00\x00\x00"), 0x9c, FLAGS_NONE, 0x2 | CF, {{0}}},
    {"setnz_m8", INSN("\x0f\x95\x83\x9d\x00\x00\x00"), 0x9d, FLAGS_NONE, 0x2 | ZF, {{0}}},
    {"setl_m8", INSN("\x0f\x9c\x83\x9e\x00\x00\x00"), 0x9e, FLAGS_NONE, 0x2 | SF, {{0}}},
    {"bt_m32_imm8", INSN("\x0f\xba\xa3\xa0\x00\x00\x00\x05"), 0xa0, CF | DF, 0x2, {{0}}},
    {"bts_m32_imm8", INSN("\x0f\xba\xab\xa4\x00\x00\x00\x1f"), 0xa4, CF | DF, 0x2, {{0}}},
    {"btr_m16_imm8", INSN("\x66\x0f\xba\xb3\xa8\x00\x00\x00\x13"), 0xa8, CF | DF, 0x2, {{0}}},
    {"shl_m32_by_1", INSN("\xd1\xa3\xa8\x00\x00\x00"), 0xa8, FLAGS_LOGIC, 0x2, {{0}}},
    {"shr_m8_by_imm8", INSN("\xc0\xab\xac\x00\x00\x00\x03"), 0xac, CF | PF | ZF | SF | DF,
     0x2, {{0}}},
    {"sar_m32_by_1", INSN("\xd1\xbb\xb0\x00\x00\x00"), 0xb0, FLAGS_LOGIC, 0x2, {{0}}},
    {"rol_m16_by_cl", INSN("\x66\xd3\x83\xae\x00\x00\x00"), 0xae, CF | DF, 0x2, {{RCX, 5}}},
    {"rol_m8_by_4", INSN("\xc0\x83\xb9\x00\x00\x00\x04"), 0xb9, CF | DF, 0x2, {{0}}},
    {"ror_m32_by_cl", INSN("\xd3\x8b\xb4\x00\x00\x00"), 0xb4, CF | DF, 0x2, {{RCX, 9}}},
    {"ror_m8_by_1", INSN("\xd0\x8b\xaf\x00\x00\x00"), 0xaf, CF | OF | DF, 0x2, {{0}}},
};

/* 64-bit forms, run natively and emulated in 64-bit mode only. */
static const struct mmio_test_case native_cases_64[] = {
    {"mov_store_r64", INSN("\x48\x89\x43\x08"), 0x08, FLAGS_NONE, 0x2, {{0}}},
    {"mov_load_r64_r9", INSN("\x4c\x8b\x4b\x10"), 0x10, FLAGS_NONE, 0x2, {{0}}},
    {"mov_load_r32_zero_extends", INSN("\x8b\x43\x10"), 0x10, FLAGS_NONE, 0x2, {{0}}},
    {"movsxd_m32", INSN("\x48\x63\x53\x1c"), 0x1c, FLAGS_NONE, 0x2, {{0}}},
    {"add_imm8_to_m64", INSN("\x48\x83\x43\x20\x80"), 0x20, FLAGS_ARITH, 0x2, {{0}}},
    {"cmove_not_taken_zero_extends", INSN("\x0f\x44\x53\x30"), 0x30, FLAGS_NONE, 0x2, {{0}}},
    {"rep_stosq", INSN("\xf3\x48\xab"), 0x40, FLAGS_NONE, 0x2, {{RDI, DEV(0x40)}, {RCX, 3}}},
    {"mov_store_sil", INSN("\x40\x88\x73\x05"), 0x05, FLAGS_NONE, 0x2, {{0}}},
    {"xchg_r15_m64", INSN("\x4c\x87\x7b\x48"), 0x48, FLAGS_NONE, 0x2, {{0}}},
    {"lock_cmpxchg_m64_equal", INSN("\xf0\x48\x0f\xb1\x53\x50"), 0x50, FLAGS_ARITH, 0x2,
     {{RAX, 0}}}, /* RAX patched to the device's value below */
};

static uint8_t device_pattern(unsigned i)
{
    return (uint8_t)(i * 0x3bu + 0x85u);
}

/* RAM equals the device below 0x20, differs above (for CMPS), like mmiotest's scratch. */
static uint8_t ram_pattern(unsigned i)
{
    return i < 0x20 ? device_pattern(i) : (uint8_t)~device_pattern(i);
}

static uint64_t resolve(uint64_t value, uint64_t device, uint64_t ram)
{
    if ((value & TAG_MASK) == DEV_TAG)
        return device + (value & ~TAG_MASK);
    if ((value & TAG_MASK) == RAM_TAG)
        return ram + (value & ~TAG_MASK);
    return value;
}

/* A register as a tagged offset if it points near one of the buffers. */
static uint64_t normalize(uint64_t value, uint64_t device, uint64_t ram)
{
    if (value - (device - 0x100) < TEST_DEVICE_SIZE + 0x200)
        return DEV_TAG + (value - device);
    if (value - (ram - 0x100) < RAM_SIZE + 0x200)
        return RAM_TAG + (value - ram);
    return value;
}

static void initial_gpr(const struct mmio_test_case *c, uint64_t gpr[16])
{
    memcpy(gpr, default_gpr, sizeof(default_gpr));
    for (unsigned i = 0; i < 4; i++) {
        if (c->set[i].number == 0 && c->set[i].value == 0)
            break;
        gpr[c->set[i].number] = c->set[i].value;
    }
}

static void native_memory_fill(void)
{
    for (unsigned i = 0; i < TEST_DEVICE_SIZE; i++)
        native_device[i] = device_pattern(i);
    for (unsigned i = 0; i < RAM_SIZE; i++)
        native_ram[i] = ram_pattern(i);
}

static void run_native(const struct mmio_test_case *c, const uint64_t gpr[16],
                       struct native_state *out)
{
    uint8_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(code, MAP_FAILED);
    memcpy(code, c->bytes, c->length);
    code[c->length] = 0xc3; /* ret */
    for (unsigned i = 0; i < 16; i++)
        out->gpr[i] = resolve(gpr[i], (uint64_t)(uintptr_t)native_device,
                              (uint64_t)(uintptr_t)native_ram);
    out->rflags = c->rflags;
    native_run(out, code);
    munmap(code, 4096);
}

struct emulated {
    struct test_device device;
    struct fake_vp vp;
    struct mmio_outcome outcome;
    enum mmio_result result;
};

static void emulated_setup(struct emulated *e, const uint64_t gpr[16], enum decoder_mode mode)
{
    memset(e, 0, sizeof(*e));
    test_device_init(&e->device);
    for (unsigned i = 0; i < TEST_DEVICE_SIZE; i++)
        e->device.bytes[i] = device_pattern(i);
    for (unsigned i = 0; i < RAM_SIZE; i++)
        e->vp.ram[i] = ram_pattern(i);
    for (unsigned i = 0; i < 16; i++) {
        e->vp.gpr[i] = resolve(gpr[i], TEST_DEVICE_BASE, RAM_LINEAR);
        bool tagged = (gpr[i] & TAG_MASK) == DEV_TAG || (gpr[i] & TAG_MASK) == RAM_TAG;
        if (mode != DECODER_MODE_64 && tagged)
            e->vp.gpr[i] &= UINT32_MAX;
    }
}

static enum mmio_result emulate_bytes(struct emulated *e, const char *bytes, size_t length,
                                      enum decoder_mode mode, uint64_t rflags, uint64_t gpa)
{
    struct mmio_device device = test_device_mmio(&e->device);
    struct mmio_access access = {
        .bytes = (const uint8_t *)bytes,
        .count = length,
        .mode = mode,
        .rip = 0x1000,
        .rflags = rflags,
        .gpa = gpa,
    };
    e->result = mmio_emulate(&access, &device, &fake_ops, &e->vp, &e->outcome);
    return e->result;
}

static void compare_case(const struct mmio_test_case *c, enum decoder_mode mode)
{
    uint64_t gpr[16];
    initial_gpr(c, gpr);
    native_memory_fill();
    if (strcmp(c->name, "lock_cmpxchg_m64_equal") == 0)
        memcpy(&gpr[RAX], &native_device[c->gpa_offset], 8);
    struct native_state native;
    run_native(c, gpr, &native);

    static struct emulated e;
    emulated_setup(&e, gpr, mode);
    enum mmio_result r = emulate_bytes(&e, c->bytes, c->length, mode, c->rflags,
                                       TEST_DEVICE_BASE + c->gpa_offset);
    ck_assert_msg(r == MMIO_DONE, "%s (mode %d): %s: %s", c->name, mode,
                  mmio_result_name(r), e.outcome.reason);
    ck_assert_msg(e.outcome.rip_advance == c->length, "%s: advance %u", c->name,
                  e.outcome.rip_advance);
    for (unsigned i = 0; i < 16; i++) {
        if (i == RSP)
            continue;
        uint64_t n = normalize(native.gpr[i], (uint64_t)(uintptr_t)native_device,
                               (uint64_t)(uintptr_t)native_ram);
        uint64_t m = normalize(e.vp.gpr[i], TEST_DEVICE_BASE, RAM_LINEAR);
        if (mode != DECODER_MODE_64) {
            /* Outside 64-bit mode the upper halves are invisible (Intel SDM Vol. 1,
             * 3.4.1.1). */
            n = normalize(native.gpr[i] & UINT32_MAX,
                          (uint64_t)(uintptr_t)native_device & UINT32_MAX,
                          (uint64_t)(uintptr_t)native_ram & UINT32_MAX);
            m = normalize(e.vp.gpr[i] & UINT32_MAX, TEST_DEVICE_BASE, RAM_LINEAR);
        }
        ck_assert_msg(n == m, "%s (mode %d): register %u native 0x%llx, emulated 0x%llx",
                      c->name, mode, i, (unsigned long long)native.gpr[i],
                      (unsigned long long)e.vp.gpr[i]);
    }
    uint64_t mask = c->flags_mask;
    ck_assert_msg((native.rflags & mask) == (e.outcome.rflags & mask),
                  "%s (mode %d): rflags native 0x%llx, emulated 0x%llx (mask 0x%llx)",
                  c->name, mode, (unsigned long long)native.rflags,
                  (unsigned long long)e.outcome.rflags, (unsigned long long)mask);
    uint64_t others = ~(uint64_t)(CF | PF | AF | ZF | SF | OF);
    ck_assert_msg((e.outcome.rflags & others) == (c->rflags & others),
                  "%s: non-arithmetic flags changed", c->name);
    for (unsigned i = 0; i < TEST_DEVICE_SIZE; i++)
        ck_assert_msg(native_device[i] == e.device.bytes[i],
                      "%s (mode %d): device byte 0x%x native 0x%02x, emulated 0x%02x",
                      c->name, mode, i, native_device[i], e.device.bytes[i]);
    for (unsigned i = 0; i < RAM_SIZE; i++)
        ck_assert_msg(native_ram[i] == e.vp.ram[i],
                      "%s (mode %d): RAM byte 0x%x native 0x%02x, emulated 0x%02x", c->name,
                      mode, i, native_ram[i], e.vp.ram[i]);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(native_forms_mode_64)
{
    compare_case(&native_cases[_i], DECODER_MODE_64);
}
END_TEST

START_TEST(native_forms_mode_32)
{
    compare_case(&native_cases[_i], DECODER_MODE_32);
}
END_TEST

START_TEST(native_forms_only_64)
{
    compare_case(&native_cases_64[_i], DECODER_MODE_64);
}
END_TEST

/* ---- hand-computed forms ----------------------------------------------------------------- */

static struct emulated hand;

static void hand_setup(enum decoder_mode mode)
{
    emulated_setup(&hand, default_gpr, mode);
}

static uint32_t device_u32(unsigned offset)
{
    uint32_t v;
    memcpy(&v, &hand.device.bytes[offset], 4);
    return v;
}

static uint32_t pattern_u32(unsigned offset)
{
    return (uint32_t)device_pattern(offset) | (uint32_t)device_pattern(offset + 1) << 8 |
           (uint32_t)device_pattern(offset + 2) << 16 | (uint32_t)device_pattern(offset + 3) << 24;
}

START_TEST(push_m32_mode_32)
{
    hand_setup(DECODER_MODE_32);
    hand.vp.gpr[RSP] = RAM_LINEAR + 0x80;
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\xff\xb3\x94\x00\x00\x00"), DECODER_MODE_32,
                                   0x2, TEST_DEVICE_BASE + 0x94), MMIO_DONE);
    ck_assert_uint_eq(hand.outcome.rip_advance, 6);
    ck_assert_uint_eq(hand.vp.gpr[RSP], RAM_LINEAR + 0x7c);
    uint32_t pushed;
    memcpy(&pushed, &hand.vp.ram[0x7c], 4);
    ck_assert_uint_eq(pushed, pattern_u32(0x94));
}
END_TEST

START_TEST(pop_m32_mode_32)
{
    hand_setup(DECODER_MODE_32);
    hand.vp.gpr[RSP] = RAM_LINEAR + 0x40;
    memcpy(&hand.vp.ram[0x40], "\x11\x22\x33\x44", 4);
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\x8f\x83\x98\x00\x00\x00"), DECODER_MODE_32,
                                   0x2, TEST_DEVICE_BASE + 0x98), MMIO_DONE);
    ck_assert_uint_eq(hand.vp.gpr[RSP], RAM_LINEAR + 0x44);
    ck_assert_uint_eq(device_u32(0x98), 0x44332211u);
}
END_TEST

START_TEST(pop_m32_rsp_based_destination)
{
    /* pop dword [esp]: the destination is computed after ESP += 4. Stack in the device. */
    hand_setup(DECODER_MODE_32);
    hand.vp.gpr[RSP] = TEST_DEVICE_BASE + 0x200;
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\x8f\x04\x24"), DECODER_MODE_32, 0x2,
                                   TEST_DEVICE_BASE + 0x204), MMIO_DONE);
    ck_assert_uint_eq(hand.vp.gpr[RSP], TEST_DEVICE_BASE + 0x204);
    ck_assert_uint_eq(device_u32(0x204), pattern_u32(0x200));
}
END_TEST

START_TEST(moffs_mode_32)
{
    hand_setup(DECODER_MODE_32);
    /* mov eax, [0xFEB000BC] */
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\xa1\xbc\x00\xb0\xfe"), DECODER_MODE_32, 0x2,
                                   TEST_DEVICE_BASE + 0xbc), MMIO_DONE);
    ck_assert_uint_eq(hand.vp.gpr[RAX], pattern_u32(0xbc));
    ck_assert_uint_eq(hand.outcome.rip_advance, 5);
    /* mov [0xFEB000C9], al */
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\xa2\xc9\x00\xb0\xfe"), DECODER_MODE_32, 0x2,
                                   TEST_DEVICE_BASE + 0xc9), MMIO_DONE);
    ck_assert_uint_eq(hand.device.bytes[0xc9], (uint8_t)pattern_u32(0xbc));
    /* mov ax, [0xFEB000BA]: AX only, the upper half of EAX kept */
    hand.vp.gpr[RAX] = 0x12345678;
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\x66\xa1\xba\x00\xb0\xfe"), DECODER_MODE_32,
                                   0x2, TEST_DEVICE_BASE + 0xba), MMIO_DONE);
    ck_assert_uint_eq(hand.vp.gpr[RAX], 0x12340000u | (pattern_u32(0xba) & 0xffff));
}
END_TEST

START_TEST(rip_relative_mode_64)
{
    /* mov edx, [rip + 0x10a] at RIP = window - 0x100: next RIP + 0x10a = window + 0x10; the
     * exact GVA proves the address, not just its page offset. */
    hand_setup(DECODER_MODE_64);
    struct mmio_device device = test_device_mmio(&hand.device);
    struct mmio_access access = {
        .bytes = (const uint8_t *)"\x8b\x15\x0a\x01\x00\x00", .count = 6,
        .mode = DECODER_MODE_64, .rip = TEST_DEVICE_BASE - 0x100, .rflags = 0x2,
        .gpa = TEST_DEVICE_BASE + 0x10, .gva_valid = true, .gva = TEST_DEVICE_BASE + 0x10,
    };
    ck_assert_int_eq(mmio_emulate(&access, &device, &fake_ops, &hand.vp, &hand.outcome),
                     MMIO_DONE);
    ck_assert_uint_eq(hand.vp.gpr[RDX], pattern_u32(0x10));
    ck_assert_uint_eq(hand.outcome.rip_advance, 6);
}
END_TEST

START_TEST(sixteen_bit_addressing)
{
    /* mov [bx+si+4], ax in 16-bit mode, flat DS: the window must sit below 64 KiB. */
    hand_setup(DECODER_MODE_16);
    hand.vp.gpr[RAX] = 0xabcd;
    struct mmio_vcpu_ops ops = fake_ops;
    struct mmio_device device = test_device_mmio(&hand.device);
    device.base = 0x000feb00;
    hand.vp.gpr[RBX] = 0xeb10;
    hand.vp.gpr[RSI] = 0x0100;
    struct mmio_access access = {
        .bytes = (const uint8_t *)"\x89\x40\x04", .count = 3, .mode = DECODER_MODE_16,
        .rflags = 0x2, .gpa = 0x000ec14,
    };
    /* EA = 0xeb10 + 0x100 + 4 = 0xec14; window at 0xfeb00 does not contain it. */
    ck_assert_int_eq(mmio_emulate(&access, &device, &ops, &hand.vp, &hand.outcome),
                     MMIO_BAD_ACCESS);
    device.base = 0xe000;
    ck_assert_int_eq(mmio_emulate(&access, &device, &ops, &hand.vp, &hand.outcome), MMIO_DONE);
    ck_assert_uint_eq(hand.device.bytes[0xc14], 0xcd);
    ck_assert_uint_eq(hand.device.bytes[0xc15], 0xab);
}
END_TEST

static bool segment_base_fs(void *ctx, enum decoder_segment segment, uint64_t *base)
{
    (void)ctx;
    *base = segment == DECODER_SEGMENT_FS ? TEST_DEVICE_BASE - 0x1000 : 0;
    return true;
}

START_TEST(segment_override_fs)
{
    /* mov eax, fs:[rbx+0x1010] in 64-bit mode with FS base = window - 4 KiB */
    hand_setup(DECODER_MODE_64);
    hand.vp.gpr[RBX] = 0;
    struct mmio_vcpu_ops ops = fake_ops;
    ops.segment_base = segment_base_fs;
    struct mmio_device device = test_device_mmio(&hand.device);
    struct mmio_access access = {
        .bytes = (const uint8_t *)"\x64\x8b\x83\x10\x10\x00\x00", .count = 7,
        .mode = DECODER_MODE_64, .rflags = 0x2, .gpa = TEST_DEVICE_BASE + 0x10,
    };
    ck_assert_int_eq(mmio_emulate(&access, &device, &ops, &hand.vp, &hand.outcome), MMIO_DONE);
    ck_assert_uint_eq(hand.vp.gpr[RAX], pattern_u32(0x10));
}
END_TEST

START_TEST(gva_selects_operand)
{
    hand_setup(DECODER_MODE_32);
    struct mmio_device device = test_device_mmio(&hand.device);
    struct mmio_access access = {
        .bytes = (const uint8_t *)"\x89\x53\x08", .count = 3, .mode = DECODER_MODE_32,
        .rflags = 0x2, .gpa = TEST_DEVICE_BASE + 0x08, .gva_valid = true,
        .gva = TEST_DEVICE_BASE + 0x1008,
    };
    /* The GVA says another page: refused although the page offset matches. */
    ck_assert_int_eq(mmio_emulate(&access, &device, &fake_ops, &hand.vp, &hand.outcome),
                     MMIO_BAD_ACCESS);
    access.gva = TEST_DEVICE_BASE + 0x08;
    ck_assert_int_eq(mmio_emulate(&access, &device, &fake_ops, &hand.vp, &hand.outcome),
                     MMIO_DONE);
    ck_assert_uint_eq(device_u32(0x08), 0x5566f788u);
}
END_TEST

/* ---- negative cases ---------------------------------------------------------------------- */

/* Nothing at all changed: device, registers, RAM. */
static void assert_untouched(void)
{
    for (unsigned i = 0; i < TEST_DEVICE_SIZE; i++)
        ck_assert_uint_eq(hand.device.bytes[i], device_pattern(i));
    for (unsigned i = 0; i < RAM_SIZE; i++)
        ck_assert_uint_eq(hand.vp.ram[i], ram_pattern(i));
    uint64_t expected[16];
    for (unsigned i = 0; i < 16; i++)
        expected[i] = resolve(default_gpr[i], TEST_DEVICE_BASE, RAM_LINEAR);
    ck_assert_mem_eq(hand.vp.gpr, expected, sizeof(expected));
}

START_TEST(truncated_bytes_unsupported)
{
    hand_setup(DECODER_MODE_64);
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\x89\x53"), DECODER_MODE_64, 0x2,
                                   TEST_DEVICE_BASE + 8), MMIO_UNSUPPORTED);
    ck_assert_ptr_nonnull(hand.outcome.reason);
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\x0f\xba\xa3\xa0\x00\x00\x00"), DECODER_MODE_64,
                                   0x2, TEST_DEVICE_BASE + 0xa0), MMIO_UNSUPPORTED);
    ck_assert_int_eq(emulate_bytes(&hand, "", 0, DECODER_MODE_64, 0x2, TEST_DEVICE_BASE),
                     MMIO_UNSUPPORTED);
    assert_untouched();
}
END_TEST

START_TEST(unsupported_forms)
{
    static const struct {
        const char *bytes;
        size_t length;
    } forms[] = {
        {INSN("\xf7\x63\x04")},             /* mul dword [rbx+4] */
        {INSN("\xd1\x53\x04")},             /* rcl dword [rbx+4], 1 */
        {INSN("\x0f\xa3\x53\x04")},         /* bt [rbx+4], edx: offset reaches beyond */
        {INSN("\xd9\x43\x04")},             /* fld dword [rbx+4] */
        {INSN("\x0f\x10\x43\x04")},         /* movups xmm0, [rbx+4] */
        {INSN("\x89\xd0")},                 /* mov eax, edx: no memory operand */
        {INSN("\x8d\x43\x04")},             /* lea eax, [rbx+4]: no access */
        {INSN("\x8e\x5b\x04")},             /* mov ds, [rbx+4] */
        {INSN("\xff\x53\x04")},             /* call [rbx+4] */
        {INSN("\x0f\x0b")},                 /* ud2 */
        {INSN("\x6c")},                     /* insb */
    };
    for (unsigned i = 0; i < COUNT(forms); i++) {
        hand_setup(DECODER_MODE_64);
        enum mmio_result r = emulate_bytes(&hand, forms[i].bytes, forms[i].length,
                                           DECODER_MODE_64, 0x2, TEST_DEVICE_BASE + 4);
        ck_assert_msg(r == MMIO_UNSUPPORTED, "form %u: %s", i, mmio_result_name(r));
        assert_untouched();
    }
}
END_TEST

START_TEST(access_not_matching_gpa)
{
    hand_setup(DECODER_MODE_32);
    /* mov [ebx+3], dl reported at offset 4 */
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\x88\x53\x03"), DECODER_MODE_32, 0x2,
                                   TEST_DEVICE_BASE + 4), MMIO_BAD_ACCESS);
    ck_assert_ptr_nonnull(hand.outcome.reason);
    assert_untouched();
    /* The right page offset outside the window (the device is at another GPA). */
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\x88\x53\x03"), DECODER_MODE_32, 0x2,
                                   TEST_DEVICE_BASE + 0x1003), MMIO_BAD_ACCESS);
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\x88\x53\x03"), DECODER_MODE_32, 0x2,
                                   TEST_DEVICE_BASE - 0x1000 + 3), MMIO_BAD_ACCESS);
    assert_untouched();
}
END_TEST

START_TEST(access_crossing_window_end)
{
    hand_setup(DECODER_MODE_32);
    /* mov [ebx+0xffe], edx: 2 of 4 bytes beyond the window */
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\x89\x93\xfe\x0f\x00\x00"), DECODER_MODE_32,
                                   0x2, TEST_DEVICE_BASE + 0xffe), MMIO_BAD_ACCESS);
    /* add dword [ebx+0xffd], 1 */
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\x83\x83\xfd\x0f\x00\x00\x01"),
                                   DECODER_MODE_32, 0x2, TEST_DEVICE_BASE + 0xffd),
                     MMIO_BAD_ACCESS);
    assert_untouched();
    /* The last dword still fits. */
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\x89\x93\xfc\x0f\x00\x00"), DECODER_MODE_32,
                                   0x2, TEST_DEVICE_BASE + 0xffc), MMIO_DONE);
    ck_assert_uint_eq(device_u32(0xffc), 0x5566f788u);
}
END_TEST

START_TEST(rep_stos_stops_at_window_end)
{
    hand_setup(DECODER_MODE_32);
    hand.vp.gpr[RDI] = TEST_DEVICE_BASE + 0xff8;
    hand.vp.gpr[RCX] = 10;
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\xf3\xab"), DECODER_MODE_32, 0x2,
                                   TEST_DEVICE_BASE + 0xff8), MMIO_DONE);
    /* Two dwords done; RIP stays so the child re-executes for the other eight. */
    ck_assert_uint_eq(hand.outcome.rip_advance, 0);
    ck_assert_uint_eq(hand.vp.gpr[RCX], 8);
    ck_assert_uint_eq(hand.vp.gpr[RDI], TEST_DEVICE_BASE + 0x1000);
    ck_assert_uint_eq(device_u32(0xff8), 0x8a9b2c3du);
    ck_assert_uint_eq(device_u32(0xffc), 0x8a9b2c3du);
}
END_TEST

START_TEST(rep_stos_count_zero_and_32_bit_counter)
{
    hand_setup(DECODER_MODE_64);
    hand.vp.gpr[RDI] = TEST_DEVICE_BASE + 0x70;
    hand.vp.gpr[RCX] = 0;
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\xf3\xab"), DECODER_MODE_64, 0x2,
                                   TEST_DEVICE_BASE + 0x70), MMIO_DONE);
    ck_assert_uint_eq(hand.outcome.rip_advance, 2);
    ck_assert_uint_eq(hand.vp.gpr[RDI], TEST_DEVICE_BASE + 0x70);
    /* addr32 rep stosb: ECX counts, RCX's upper half is not the count */
    hand.vp.gpr[RCX] = 0xffffffff00000002ull;
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\x67\xf3\xaa"), DECODER_MODE_64, 0x2,
                                   TEST_DEVICE_BASE + 0x70), MMIO_DONE);
    ck_assert_uint_eq(hand.outcome.rip_advance, 3);
    ck_assert_uint_eq(hand.vp.gpr[RCX], 0);
    ck_assert_uint_eq(hand.vp.gpr[RDI], TEST_DEVICE_BASE + 0x72);
}
END_TEST

START_TEST(movs_from_unreadable_ram)
{
    hand_setup(DECODER_MODE_32);
    hand.vp.gpr[RSI] = 0x00500000; /* not the fake VP's RAM */
    hand.vp.gpr[RDI] = TEST_DEVICE_BASE + 0x74;
    ck_assert_int_eq(emulate_bytes(&hand, INSN("\xa5"), DECODER_MODE_32, 0x2,
                                   TEST_DEVICE_BASE + 0x74), MMIO_BAD_ACCESS);
    for (unsigned i = 0; i < TEST_DEVICE_SIZE; i++)
        ck_assert_uint_eq(hand.device.bytes[i], device_pattern(i));
    ck_assert_uint_eq(hand.vp.gpr[RDI], TEST_DEVICE_BASE + 0x74);
}
END_TEST

START_TEST(device_refusal_and_bad_arguments)
{
    hand_setup(DECODER_MODE_32);
    struct mmio_device device = test_device_mmio(&hand.device);
    device.size = 0x10; /* a 16-byte device: offset 0x20 of the page is not it */
    struct mmio_access access = {
        .bytes = (const uint8_t *)"\x89\x53\x20", .count = 3, .mode = DECODER_MODE_32,
        .rflags = 0x2, .gpa = TEST_DEVICE_BASE + 0x20,
    };
    ck_assert_int_eq(mmio_emulate(&access, &device, &fake_ops, &hand.vp, &hand.outcome),
                     MMIO_BAD_ACCESS);
    ck_assert_int_eq(mmio_emulate(NULL, &device, &fake_ops, &hand.vp, &hand.outcome),
                     MMIO_BAD_ACCESS);
    ck_assert_int_eq(mmio_emulate(&access, &device, &fake_ops, &hand.vp, NULL),
                     MMIO_BAD_ACCESS);
    struct mmio_vcpu_ops ops = fake_ops;
    ops.read_memory = NULL;
    ck_assert_int_eq(mmio_emulate(&access, &device, &ops, &hand.vp, &hand.outcome),
                     MMIO_BAD_ACCESS);
    assert_untouched();
    ck_assert_str_eq(mmio_result_name(MMIO_DONE), "done");
    ck_assert_str_eq(mmio_result_name((enum mmio_result)7), "unknown");
}
END_TEST

START_TEST(test_device_bounds)
{
    static struct test_device device;
    test_device_init(&device);
    uint64_t v = 1;
    ck_assert(test_device_read(&device, 0xff8, 8, &v));
    ck_assert_uint_eq(v, 0);
    ck_assert(test_device_write(&device, 0xffd, 2, 0xbeef));
    ck_assert(test_device_read(&device, 0xffd, 2, &v));
    ck_assert_uint_eq(v, 0xbeef);
    ck_assert(!test_device_read(&device, 0xffd, 4, &v));
    ck_assert(!test_device_write(&device, 0x1000, 1, 0));
    ck_assert(!test_device_write(&device, UINT64_MAX, 2, 0));
    ck_assert(!test_device_read(&device, 0, 3, &v));
}
END_TEST

Suite *mmio_suite(void)
{
    Suite *s = suite_create("mmio");
    TCase *tc = tcase_create("emulate");
    tcase_add_loop_test(tc, native_forms_mode_64, 0, (int)COUNT(native_cases));
    tcase_add_loop_test(tc, native_forms_mode_32, 0, (int)COUNT(native_cases));
    tcase_add_loop_test(tc, native_forms_only_64, 0, (int)COUNT(native_cases_64));
    tcase_add_test(tc, push_m32_mode_32);
    tcase_add_test(tc, pop_m32_mode_32);
    tcase_add_test(tc, pop_m32_rsp_based_destination);
    tcase_add_test(tc, moffs_mode_32);
    tcase_add_test(tc, rip_relative_mode_64);
    tcase_add_test(tc, sixteen_bit_addressing);
    tcase_add_test(tc, segment_override_fs);
    tcase_add_test(tc, gva_selects_operand);
    tcase_add_test(tc, truncated_bytes_unsupported);
    tcase_add_test(tc, unsupported_forms);
    tcase_add_test(tc, access_not_matching_gpa);
    tcase_add_test(tc, access_crossing_window_end);
    tcase_add_test(tc, rep_stos_stops_at_window_end);
    tcase_add_test(tc, rep_stos_count_zero_and_32_bit_counter);
    tcase_add_test(tc, movs_from_unreadable_ram);
    tcase_add_test(tc, device_refusal_and_bad_arguments);
    tcase_add_test(tc, test_device_bounds);
    suite_add_tcase(s, tc);
    return s;
}
