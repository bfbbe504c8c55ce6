/*
 * mmiotest's cases: instruction forms run once against the test device window and once
 * against RAM (cases.S), and the runner that calls them with a fixed register state
 * (runner.S). A case passes when registers, the flags it defines, the slot and the RAM
 * scratch buffer all come out the same both times.
 */
#ifndef HVFW_GUESTS_MMIOTEST_H
#define HVFW_GUESTS_MMIOTEST_H

#include <stdint.h>

/* Register state in and out of a case; runner.S uses these offsets. */
struct mmio_registers {
    uint32_t eax, ebx, ecx, edx, esi, edi, ebp, eflags;
};

_Static_assert(sizeof(struct mmio_registers) == 32, "runner.S offsets");

void mmio_case_run(struct mmio_registers *regs, void (*op)(void));

/* EFLAGS bits a case defines (Intel SDM vol. 1, 3.4.3 "EFLAGS Register"; vol. 2 lists the
 * flags each instruction leaves undefined, which are not compared). DF is always
 * compared: every case must leave it clear. */
#define MMIO_FLAG_CF 0x001u
#define MMIO_FLAG_PF 0x004u
#define MMIO_FLAG_AF 0x010u
#define MMIO_FLAG_ZF 0x040u
#define MMIO_FLAG_SF 0x080u
#define MMIO_FLAG_DF 0x400u
#define MMIO_FLAG_OF 0x800u
#define MMIO_FLAGS_NONE MMIO_FLAG_DF
#define MMIO_FLAGS_CARRY (MMIO_FLAG_DF | MMIO_FLAG_CF)
/* Logic ops and SHL by 1: AF undefined. Shifts by more than 1: OF undefined too. */
#define MMIO_FLAGS_SHIFT (MMIO_FLAGS_CARRY | MMIO_FLAG_PF | MMIO_FLAG_ZF | MMIO_FLAG_SF)
#define MMIO_FLAGS_LOGIC (MMIO_FLAGS_SHIFT | MMIO_FLAG_OF)
#define MMIO_FLAGS_ARITH (MMIO_FLAGS_LOGIC | MMIO_FLAG_AF)

/* X(name, flags) for every `mmio_case name` in cases.S. */
#define MMIO_CASES(X) \
    X(mov_store_r8, MMIO_FLAGS_NONE) \
    X(mov_store_r8_high, MMIO_FLAGS_NONE) \
    X(mov_store_r16, MMIO_FLAGS_NONE) \
    X(mov_store_r32, MMIO_FLAGS_NONE) \
    X(mov_store_r32_sib, MMIO_FLAGS_NONE) \
    X(mov_store_r32_disp32, MMIO_FLAGS_NONE) \
    X(mov_store_r32_unaligned, MMIO_FLAGS_NONE) \
    X(mov_store_r32_other_base, MMIO_FLAGS_NONE) \
    X(mov_load_r8, MMIO_FLAGS_NONE) \
    X(mov_load_r8_high, MMIO_FLAGS_NONE) \
    X(mov_load_r16, MMIO_FLAGS_NONE) \
    X(mov_load_r32, MMIO_FLAGS_NONE) \
    X(mov_load_r32_sib, MMIO_FLAGS_NONE) \
    X(mov_load_r32_disp32, MMIO_FLAGS_NONE) \
    X(mov_load_r32_unaligned, MMIO_FLAGS_NONE) \
    X(mov_store_imm8, MMIO_FLAGS_NONE) \
    X(mov_store_imm16, MMIO_FLAGS_NONE) \
    X(mov_store_imm32, MMIO_FLAGS_NONE) \
    X(movzx_m8_to_r32, MMIO_FLAGS_NONE) \
    X(movzx_m16_to_r32, MMIO_FLAGS_NONE) \
    X(movzx_m8_to_r16, MMIO_FLAGS_NONE) \
    X(movsx_m8_to_r32, MMIO_FLAGS_NONE) \
    X(movsx_m16_to_r32, MMIO_FLAGS_NONE) \
    X(movsx_m8_to_r16, MMIO_FLAGS_NONE) \
    X(movsx_negative_m8_to_r32, MMIO_FLAGS_NONE) \
    X(movsx_negative_m16_to_r32, MMIO_FLAGS_NONE) \
    X(stosb, MMIO_FLAGS_NONE) \
    X(stosw, MMIO_FLAGS_NONE) \
    X(stosl, MMIO_FLAGS_NONE) \
    X(rep_stosb, MMIO_FLAGS_NONE) \
    X(rep_stosw, MMIO_FLAGS_NONE) \
    X(rep_stosl, MMIO_FLAGS_NONE) \
    X(rep_stosl_count_zero, MMIO_FLAGS_NONE) \
    X(lodsb, MMIO_FLAGS_NONE) \
    X(lodsl, MMIO_FLAGS_NONE) \
    X(movsb_device_to_ram, MMIO_FLAGS_NONE) \
    X(movsl_device_to_ram, MMIO_FLAGS_NONE) \
    X(movsw_ram_to_device, MMIO_FLAGS_NONE) \
    X(movsl_ram_to_device, MMIO_FLAGS_NONE) \
    X(rep_movsb_device_to_ram, MMIO_FLAGS_NONE) \
    X(rep_movsl_ram_to_device, MMIO_FLAGS_NONE) \
    X(movsb_device_to_device, MMIO_FLAGS_NONE) \
    X(rep_movsl_device_to_device, MMIO_FLAGS_NONE) \
    X(rep_movsb_backward_ram_to_device, MMIO_FLAGS_NONE) \
    X(cmpsb, MMIO_FLAGS_ARITH) \
    X(cmpsl, MMIO_FLAGS_ARITH) \
    X(repe_cmpsb, MMIO_FLAGS_ARITH) \
    X(scasb, MMIO_FLAGS_ARITH) \
    X(scasl, MMIO_FLAGS_ARITH) \
    X(repne_scasb, MMIO_FLAGS_ARITH) \
    X(add_r32_to_m32, MMIO_FLAGS_ARITH) \
    X(add_r8_to_m8, MMIO_FLAGS_ARITH) \
    X(add_r16_to_m16, MMIO_FLAGS_ARITH) \
    X(add_imm8_to_m32, MMIO_FLAGS_ARITH) \
    X(add_imm32_to_m32, MMIO_FLAGS_ARITH) \
    X(add_imm8_to_m8, MMIO_FLAGS_ARITH) \
    X(add_imm16_to_m16, MMIO_FLAGS_ARITH) \
    X(adc_r32_to_m32, MMIO_FLAGS_ARITH) \
    X(sub_r32_from_m32, MMIO_FLAGS_ARITH) \
    X(sub_imm32_from_m32, MMIO_FLAGS_ARITH) \
    X(sbb_imm8_from_m8, MMIO_FLAGS_ARITH) \
    X(and_r32_to_m32, MMIO_FLAGS_LOGIC) \
    X(and_imm16_to_m16, MMIO_FLAGS_LOGIC) \
    X(and_r8_high_to_m8, MMIO_FLAGS_LOGIC) \
    X(or_r32_to_m32, MMIO_FLAGS_LOGIC) \
    X(or_imm8_to_m8, MMIO_FLAGS_LOGIC) \
    X(xor_r32_to_m32, MMIO_FLAGS_LOGIC) \
    X(xor_imm32_to_m32, MMIO_FLAGS_LOGIC) \
    X(xor_m32_with_itself, MMIO_FLAGS_LOGIC) \
    X(inc_m32, MMIO_FLAGS_ARITH) \
    X(dec_m8, MMIO_FLAGS_ARITH) \
    X(not_m32, MMIO_FLAGS_NONE) \
    X(neg_m16, MMIO_FLAGS_ARITH) \
    X(add_m32_to_r32, MMIO_FLAGS_ARITH) \
    X(sub_m32_from_r32, MMIO_FLAGS_ARITH) \
    X(and_m8_to_r8, MMIO_FLAGS_LOGIC) \
    X(or_m16_to_r16, MMIO_FLAGS_LOGIC) \
    X(xor_m32_to_r32, MMIO_FLAGS_LOGIC) \
    X(cmove_m32_to_r32, MMIO_FLAGS_NONE) \
    X(cmp_m32_with_r32, MMIO_FLAGS_ARITH) \
    X(cmp_r32_with_m32, MMIO_FLAGS_ARITH) \
    X(cmp_m8_with_imm8, MMIO_FLAGS_ARITH) \
    X(cmp_m32_with_imm32, MMIO_FLAGS_ARITH) \
    X(cmp_m16_with_imm8, MMIO_FLAGS_ARITH) \
    X(test_m32_with_r32, MMIO_FLAGS_LOGIC) \
    X(test_m8_with_imm8, MMIO_FLAGS_LOGIC) \
    X(test_m16_with_imm16, MMIO_FLAGS_LOGIC) \
    X(xchg_r32_with_m32, MMIO_FLAGS_NONE) \
    X(xchg_r8_with_m8, MMIO_FLAGS_NONE) \
    X(xchg_r16_with_m16, MMIO_FLAGS_NONE) \
    X(lock_add_r32_to_m32, MMIO_FLAGS_ARITH) \
    X(lock_xadd_r32_m32, MMIO_FLAGS_ARITH) \
    X(lock_cmpxchg_m32_equal, MMIO_FLAGS_ARITH) \
    X(lock_cmpxchg_m32_not_equal, MMIO_FLAGS_ARITH) \
    X(push_m32, MMIO_FLAGS_NONE) \
    X(pop_m32, MMIO_FLAGS_NONE) \
    X(setc_m8, MMIO_FLAGS_NONE) \
    X(setnz_m8, MMIO_FLAGS_NONE) \
    X(bt_m32_imm8, MMIO_FLAGS_CARRY) \
    X(bts_m32_imm8, MMIO_FLAGS_CARRY) \
    X(shl_m32_by_1, MMIO_FLAGS_LOGIC) \
    X(shr_m8_by_imm8, MMIO_FLAGS_SHIFT) \
    X(rol_m16_by_cl, MMIO_FLAGS_CARRY)

/* X(name, slot offset) for the moffs templates in cases.S, each followed by a 4-byte
 * address field case_<name>_address that is patched to slot + offset before a run. */
#define MMIO_MOFFS_CASES(X) \
    X(moffs_load8, 0xb8) \
    X(moffs_load16, 0xba) \
    X(moffs_load32, 0xbc) \
    X(moffs_store8, 0xc9) \
    X(moffs_store32, 0xcc)

#define MMIO_DECLARE_CASE(name, unused) void case_##name(void);
MMIO_CASES(MMIO_DECLARE_CASE)
MMIO_MOFFS_CASES(MMIO_DECLARE_CASE)
#undef MMIO_DECLARE_CASE

#define MMIO_DECLARE_ADDRESS_FIELD(name, unused) extern uint8_t case_##name##_address[4];
MMIO_MOFFS_CASES(MMIO_DECLARE_ADDRESS_FIELD)
#undef MMIO_DECLARE_ADDRESS_FIELD

#endif
