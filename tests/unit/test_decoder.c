// sources: libc-glue/decoder.c
// libs: build/host/zydis/libzydis-host.a
/*
 * The decoder wrapper on the host, against the same Zydis sources as the image. Expected
 * texts are Zydis' Intel syntax with forced operand sizes; encodings were cross-checked
 * with GNU as/objdump.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "libc-glue/decoder.h"

/* Decodes a byte string literal ("\x48\x89...") of known length. */
#define DECODE(mode, bytes, insn) \
    decoder_decode((bytes), sizeof(bytes) - 1, (mode), 0x1000, (insn))

static void check_gpr(const struct decoder_gpr *gpr, unsigned number, unsigned size)
{
    ck_assert_uint_eq(gpr->number, number);
    ck_assert_uint_eq(gpr->size, size);
}

START_TEST(mov_register_to_memory_64)
{
    struct decoded_insn d;
    ck_assert(DECODE(DECODER_MODE_64, "\x48\x89\x58\x08", &d));
    ck_assert_uint_eq(d.length, 4);
    ck_assert_str_eq(d.text, "mov qword ptr [rax+0x08], rbx");
    ck_assert_int_eq(d.cls, DECODER_CLASS_MOV);
    ck_assert_uint_eq(d.operand_size, 8);
    ck_assert_uint_eq(d.address_size, 8);
    ck_assert(d.memory.present && d.memory.writes && !d.memory.reads);
    ck_assert_uint_eq(d.memory.size, 8);
    ck_assert_int_eq(d.memory.segment, DECODER_SEGMENT_DS);
    check_gpr(&d.memory.base, 0, 8);
    ck_assert_uint_eq(d.memory.index.size, 0);
    ck_assert_uint_eq(d.memory.scale, 0);
    ck_assert_int_eq(d.memory.displacement, 8);
    check_gpr(&d.reg, 3, 8);
    ck_assert(!d.has_immediate);
    ck_assert(!d.memory_source.present);
}
END_TEST

START_TEST(mov_memory_to_register_32_and_rex_registers)
{
    struct decoded_insn d;
    ck_assert(DECODE(DECODER_MODE_64, "\x8b\x07", &d));
    ck_assert_str_eq(d.text, "mov eax, dword ptr [rdi]");
    ck_assert(d.memory.reads && !d.memory.writes);
    ck_assert_uint_eq(d.memory.size, 4);
    check_gpr(&d.reg, 0, 4);

    /* REX.W+R+B: r8 as the register, r12 as the base (needs a SIB byte). */
    ck_assert(DECODE(DECODER_MODE_64, "\x4d\x89\x44\x24\x10", &d));
    ck_assert_uint_eq(d.length, 5);
    ck_assert_str_eq(d.text, "mov qword ptr [r12+0x10], r8");
    check_gpr(&d.memory.base, 12, 8);
    check_gpr(&d.reg, 8, 8);

    /* REX.X: r9 as the index, scaled by 4. */
    ck_assert(DECODE(DECODER_MODE_64, "\x42\x8b\x04\x8b", &d));
    ck_assert_str_eq(d.text, "mov eax, dword ptr [rbx+r9*4]");
    check_gpr(&d.memory.base, 3, 8);
    check_gpr(&d.memory.index, 9, 8);
    ck_assert_uint_eq(d.memory.scale, 4);
}
END_TEST

START_TEST(mov_byte_and_word_forms)
{
    struct decoded_insn d;
    /* AH is register 0 with high_byte; [rbp+disp] defaults to SS (SDM Vol. 1, 3.7.4). */
    ck_assert(DECODE(DECODER_MODE_64, "\x8a\x65\x01", &d));
    ck_assert_str_eq(d.text, "mov ah, byte ptr [rbp+0x01]");
    ck_assert_uint_eq(d.operand_size, 1);
    ck_assert_uint_eq(d.memory.size, 1);
    ck_assert_int_eq(d.memory.segment, DECODER_SEGMENT_SS);
    check_gpr(&d.reg, 0, 1);
    ck_assert(d.reg.high_byte);

    /* With REX, encoding 6 is SIL, not DH. */
    ck_assert(DECODE(DECODER_MODE_64, "\x40\x88\x30", &d));
    ck_assert_str_eq(d.text, "mov byte ptr [rax], sil");
    check_gpr(&d.reg, 6, 1);
    ck_assert(!d.reg.high_byte);

    ck_assert(DECODE(DECODER_MODE_64, "\x66\x89\x08", &d));
    ck_assert_str_eq(d.text, "mov word ptr [rax], cx");
    ck_assert_uint_eq(d.operand_size, 2);
    ck_assert_uint_eq(d.memory.size, 2);
    check_gpr(&d.reg, 1, 2);
}
END_TEST

START_TEST(mov_immediate_to_memory)
{
    struct decoded_insn d;
    ck_assert(DECODE(DECODER_MODE_64, "\x48\xc7\x00\x01\x00\x00\x00", &d));
    ck_assert_uint_eq(d.length, 7);
    ck_assert_str_eq(d.text, "mov qword ptr [rax], 0x01");
    ck_assert(d.has_immediate);
    ck_assert_uint_eq(d.immediate, 1);
    ck_assert_uint_eq(d.immediate_size, 4);
    ck_assert_uint_eq(d.reg.size, 0);
    ck_assert(d.memory.writes);

    /* imm32 sign-extended to the 64-bit operation. */
    ck_assert(DECODE(DECODER_MODE_64, "\x48\xc7\x00\xff\xff\xff\xff", &d));
    ck_assert_uint_eq(d.immediate, UINT64_MAX);

    ck_assert(DECODE(DECODER_MODE_64, "\xc6\x40\x08\x7f", &d));
    ck_assert_str_eq(d.text, "mov byte ptr [rax+0x08], 0x7F");
    ck_assert_uint_eq(d.memory.size, 1);
    ck_assert_uint_eq(d.immediate, 0x7f);
    ck_assert_uint_eq(d.immediate_size, 1);
}
END_TEST

START_TEST(segment_override_and_absolute_forms)
{
    struct decoded_insn d;
    ck_assert(DECODE(DECODER_MODE_64, "\x64\x48\x8b\x04\x25\x28\x00\x00\x00", &d));
    ck_assert_uint_eq(d.length, 9);
    ck_assert_str_eq(d.text, "mov rax, qword ptr fs:[0x0000000000000028]");
    ck_assert_int_eq(d.memory.segment, DECODER_SEGMENT_FS);
    ck_assert_uint_eq(d.memory.base.size, 0);
    ck_assert_int_eq(d.memory.displacement, 0x28);

    /* A1 with a 64-bit moffs (SDM Vol. 2, MOV: "moffs64"). */
    ck_assert(DECODE(DECODER_MODE_64, "\xa1\xef\xcd\xab\x89\x67\x45\x23\x01", &d));
    ck_assert_uint_eq(d.length, 9);
    ck_assert_int_eq(d.memory.displacement, 0x0123456789abcdefll);
    check_gpr(&d.reg, 0, 4);

    /* 32-bit mode: GS override on a write. */
    ck_assert(DECODE(DECODER_MODE_32, "\x65\x89\x03", &d));
    ck_assert_str_eq(d.text, "mov dword ptr gs:[ebx], eax");
    ck_assert_int_eq(d.memory.segment, DECODER_SEGMENT_GS);
    ck_assert_uint_eq(d.memory.address_size, 4);
}
END_TEST

START_TEST(rip_relative)
{
    struct decoded_insn d;
    /* The target is the next instruction's address plus disp32: 0x1000 + 6 + 0x10. */
    ck_assert(DECODE(DECODER_MODE_64, "\x8b\x05\x10\x00\x00\x00", &d));
    ck_assert_str_eq(d.text, "mov eax, dword ptr [0x0000000000001016]");
    ck_assert(d.memory.base_is_rip);
    ck_assert_uint_eq(d.memory.base.size, 0);
    ck_assert_int_eq(d.memory.displacement, 0x10);

    ck_assert(decoder_decode("\x8b\x05\x10\x00\x00\x00", 6, DECODER_MODE_64,
                             DECODER_ADDRESS_NONE, &d));
    ck_assert_str_eq(d.text, "mov eax, dword ptr [rip+0x10]");
}
END_TEST

START_TEST(movzx_movsx)
{
    struct decoded_insn d;
    ck_assert(DECODE(DECODER_MODE_64, "\x0f\xb6\x00", &d));
    ck_assert_str_eq(d.text, "movzx eax, byte ptr [rax]");
    ck_assert_int_eq(d.cls, DECODER_CLASS_MOVZX);
    ck_assert_uint_eq(d.memory.size, 1);
    check_gpr(&d.reg, 0, 4);

    ck_assert(DECODE(DECODER_MODE_64, "\x0f\xb7\x4f\x02", &d));
    ck_assert_str_eq(d.text, "movzx ecx, word ptr [rdi+0x02]");
    ck_assert_uint_eq(d.memory.size, 2);

    ck_assert(DECODE(DECODER_MODE_64, "\x48\x0f\xbe\x00", &d));
    ck_assert_str_eq(d.text, "movsx rax, byte ptr [rax]");
    ck_assert_int_eq(d.cls, DECODER_CLASS_MOVSX);
    check_gpr(&d.reg, 0, 8);

    ck_assert(DECODE(DECODER_MODE_64, "\x48\x63\x00", &d));
    ck_assert_str_eq(d.text, "movsxd rax, dword ptr [rax]");
    ck_assert_int_eq(d.cls, DECODER_CLASS_MOVSX);
    ck_assert_uint_eq(d.memory.size, 4);
}
END_TEST

START_TEST(string_instructions)
{
    struct decoded_insn d;
    ck_assert(DECODE(DECODER_MODE_64, "\xf3\xaa", &d));
    ck_assert_str_eq(d.text, "rep stosb");
    ck_assert_int_eq(d.cls, DECODER_CLASS_STOS);
    ck_assert_int_eq(d.rep, DECODER_REP_REP);
    ck_assert(d.memory.writes);
    ck_assert_int_eq(d.memory.segment, DECODER_SEGMENT_ES);
    check_gpr(&d.memory.base, 7, 8);
    check_gpr(&d.reg, 0, 1); /* the accumulator, AL */

    ck_assert(DECODE(DECODER_MODE_64, "\x48\xab", &d));
    ck_assert_str_eq(d.text, "stosq");
    ck_assert_int_eq(d.rep, DECODER_REP_NONE);
    ck_assert_uint_eq(d.memory.size, 8);
    check_gpr(&d.reg, 0, 8);

    /* MOVS: destination ES:[rDI] (no override possible), source seg:[rSI] with FS. */
    ck_assert(DECODE(DECODER_MODE_64, "\x64\xf3\x48\xa5", &d));
    ck_assert_str_eq(d.text, "rep movsq");
    ck_assert_int_eq(d.cls, DECODER_CLASS_MOVS);
    ck_assert(d.memory.writes && !d.memory.reads);
    ck_assert_int_eq(d.memory.segment, DECODER_SEGMENT_ES);
    check_gpr(&d.memory.base, 7, 8);
    ck_assert(d.memory_source.present && d.memory_source.reads && !d.memory_source.writes);
    ck_assert_int_eq(d.memory_source.segment, DECODER_SEGMENT_FS);
    check_gpr(&d.memory_source.base, 6, 8);
    ck_assert_uint_eq(d.reg.size, 0);

    /* 32-bit MOVSD is the string op; F2 0F 10 is SSE2's MOVSD, class other. */
    ck_assert(DECODE(DECODER_MODE_32, "\xa5", &d));
    ck_assert_int_eq(d.cls, DECODER_CLASS_MOVS);
    ck_assert_uint_eq(d.memory.address_size, 4);
    ck_assert(DECODE(DECODER_MODE_64, "\xf2\x0f\x10\x00", &d));
    ck_assert_str_eq(d.text, "movsd xmm0, qword ptr [rax]");
    ck_assert_int_eq(d.cls, DECODER_CLASS_OTHER);

    ck_assert(DECODE(DECODER_MODE_64, "\xac", &d));
    ck_assert_int_eq(d.cls, DECODER_CLASS_LODS);
    ck_assert(d.memory.reads);
    check_gpr(&d.memory.base, 6, 8);
    check_gpr(&d.reg, 0, 1);
}
END_TEST

START_TEST(modes_32_and_16)
{
    struct decoded_insn d;
    ck_assert(DECODE(DECODER_MODE_32, "\x66\x89\x07", &d));
    ck_assert_str_eq(d.text, "mov word ptr [edi], ax");
    ck_assert_uint_eq(d.operand_size, 2);
    ck_assert_uint_eq(d.address_size, 4);

    /* In 16-bit mode the same 89 07 is a word store through [bx] (SDM Vol. 2, Table 2-1). */
    ck_assert(DECODE(DECODER_MODE_16, "\x89\x07", &d));
    ck_assert_str_eq(d.text, "mov word ptr [bx], ax");
    ck_assert_uint_eq(d.operand_size, 2);
    ck_assert_uint_eq(d.memory.address_size, 2);
    check_gpr(&d.memory.base, 3, 2);

    ck_assert(DECODE(DECODER_MODE_16, "\x66\x67\x89\x07", &d));
    ck_assert_str_eq(d.text, "mov dword ptr [edi], eax");
    ck_assert_uint_eq(d.operand_size, 4);
    ck_assert_uint_eq(d.address_size, 4);

    /* [bp+si+disp8] in 16-bit mode: base bp, index si, default segment SS. */
    ck_assert(DECODE(DECODER_MODE_16, "\x8b\x42\x04", &d));
    ck_assert_str_eq(d.text, "mov ax, word ptr [bp+si*1+0x04]"); /* Zydis shows the scale */
    check_gpr(&d.memory.base, 5, 2);
    check_gpr(&d.memory.index, 6, 2);
    ck_assert_uint_eq(d.memory.scale, 1);
    ck_assert_int_eq(d.memory.segment, DECODER_SEGMENT_SS);

    /* 06 is PUSH ES outside 64-bit mode and invalid in it. */
    ck_assert(DECODE(DECODER_MODE_32, "\x06", &d));
    ck_assert_str_eq(d.text, "push es");
    ck_assert(!DECODE(DECODER_MODE_64, "\x06", &d));
}
END_TEST

START_TEST(alu_with_memory)
{
    struct decoded_insn d;
    ck_assert(DECODE(DECODER_MODE_64, "\x83\x08\x01", &d));
    ck_assert_str_eq(d.text, "or dword ptr [rax], 0x01");
    ck_assert_int_eq(d.cls, DECODER_CLASS_OR);
    ck_assert(d.memory.reads && d.memory.writes);

    ck_assert(DECODE(DECODER_MODE_64, "\x48\x83\x00\xff", &d));
    ck_assert_int_eq(d.cls, DECODER_CLASS_ADD);
    ck_assert_uint_eq(d.immediate, UINT64_MAX); /* imm8 sign-extended */
    ck_assert_uint_eq(d.immediate_size, 1);

    ck_assert(DECODE(DECODER_MODE_64, "\x21\x07", &d));
    ck_assert_int_eq(d.cls, DECODER_CLASS_AND);
    ck_assert(DECODE(DECODER_MODE_64, "\x31\x07", &d));
    ck_assert_int_eq(d.cls, DECODER_CLASS_XOR);
    ck_assert(DECODE(DECODER_MODE_64, "\x29\x07", &d));
    ck_assert_int_eq(d.cls, DECODER_CLASS_SUB);

    /* CMP and TEST only read memory. */
    ck_assert(DECODE(DECODER_MODE_64, "\x39\x07", &d));
    ck_assert_int_eq(d.cls, DECODER_CLASS_CMP);
    ck_assert(d.memory.reads && !d.memory.writes);
    ck_assert(DECODE(DECODER_MODE_64, "\xf6\x00\x0f", &d));
    ck_assert_str_eq(d.text, "test byte ptr [rax], 0x0F");
    ck_assert_int_eq(d.cls, DECODER_CLASS_TEST);
    ck_assert(d.memory.reads && !d.memory.writes);

    ck_assert(DECODE(DECODER_MODE_64, "\xf0\x09\x07", &d));
    ck_assert_str_eq(d.text, "lock or dword ptr [rdi], eax");
    ck_assert(d.lock);

    ck_assert(DECODE(DECODER_MODE_64, "\x87\x00", &d));
    ck_assert_str_eq(d.text, "xchg dword ptr [rax], eax");
    ck_assert_int_eq(d.cls, DECODER_CLASS_XCHG);
    ck_assert(d.memory.reads && d.memory.writes);
    check_gpr(&d.reg, 0, 4);
}
END_TEST

START_TEST(non_gpr_moves_are_other)
{
    struct decoded_insn d;
    ck_assert(DECODE(DECODER_MODE_64, "\x8e\x18", &d));
    ck_assert_str_eq(d.text, "mov ds, word ptr [rax]");
    ck_assert_int_eq(d.cls, DECODER_CLASS_OTHER);
    ck_assert(DECODE(DECODER_MODE_64, "\x0f\x20\xc0", &d));
    ck_assert_str_eq(d.text, "mov rax, cr0");
    ck_assert_int_eq(d.cls, DECODER_CLASS_OTHER);
    /* LEA computes an address and touches no memory. */
    ck_assert(DECODE(DECODER_MODE_64, "\x48\x8d\x04\x88", &d));
    ck_assert_str_eq(d.text, "lea rax, [rax+rcx*4]");
    ck_assert(!d.memory.present);
}
END_TEST

START_TEST(truncated_input_fails)
{
    static const uint8_t full[] = { 0x48, 0xc7, 0x80, 0x00, 0x01, 0x00, 0x00, 0x78, 0x56, 0x34,
                                    0x12 };
    struct decoded_insn d;
    ck_assert(decoder_decode(full, sizeof(full), DECODER_MODE_64, 0, &d));
    ck_assert_uint_eq(d.length, sizeof(full));
    for (size_t len = 1; len < sizeof(full); len++) {
        memset(&d, 0x5a, sizeof(d));
        ck_assert_msg(!decoder_decode(full, len, DECODER_MODE_64, 0, &d), "len %zu", len);
        ck_assert_uint_eq(d.length, 0);
        ck_assert_str_eq(d.text, ""); /* a failure leaves a zeroed result */
    }
}
END_TEST

START_TEST(invalid_encodings_fail)
{
    struct decoded_insn d;
    ck_assert(!DECODE(DECODER_MODE_64, "\x0f\x04", &d));     /* undefined opcode */
    ck_assert(!DECODE(DECODER_MODE_64, "\xf0\x89\x07", &d)); /* LOCK on MOV: #UD */
    ck_assert(!DECODE(DECODER_MODE_64, "\xf0\x90", &d));     /* LOCK NOP */
    ck_assert(DECODE(DECODER_MODE_64, "\x0f\x0b", &d));      /* UD2 is an instruction */
    ck_assert_str_eq(d.text, "ud2");
}
END_TEST

START_TEST(fifteen_byte_limit)
{
    uint8_t bytes[32];
    struct decoded_insn d;
    /* 14 operand-size prefixes + NOP = 15 bytes: legal. */
    memset(bytes, 0x66, sizeof(bytes));
    bytes[14] = 0x90;
    ck_assert(decoder_decode(bytes, sizeof(bytes), DECODER_MODE_64, 0, &d));
    ck_assert_uint_eq(d.length, 15);
    /* 15 prefixes + NOP = 16 bytes: #GP on hardware, an error here. */
    bytes[14] = 0x66;
    bytes[15] = 0x90;
    ck_assert(!decoder_decode(bytes, sizeof(bytes), DECODER_MODE_64, 0, &d));
    /* A long buffer holding a short instruction: only its own bytes count. */
    memset(bytes, 0x90, sizeof(bytes));
    ck_assert(decoder_decode(bytes, sizeof(bytes), DECODER_MODE_64, 0, &d));
    ck_assert_uint_eq(d.length, 1);
    ck_assert_str_eq(d.text, "nop");
}
END_TEST

START_TEST(bad_arguments_fail)
{
    struct decoded_insn d;
    ck_assert(!decoder_decode(NULL, 4, DECODER_MODE_64, 0, &d));
    ck_assert(!decoder_decode("\x90", 0, DECODER_MODE_64, 0, &d));
    ck_assert(!decoder_decode("\x90", 1, DECODER_MODE_64, 0, NULL));
    ck_assert(!decoder_decode("\x90", 1, (enum decoder_mode)7, 0, &d));
}
END_TEST

START_TEST(long_text_fits)
{
    /* EVEX with masking, zeroing, SIB, disp32, broadcast and an immediate. */
    static const uint8_t evex[] = { 0x62, 0xb3, 0xed, 0xd9, 0x25, 0x8c, 0xf8, 0x78, 0x56, 0x34,
                                    0x12, 0xff };
    struct decoded_insn d;
    ck_assert(decoder_decode(evex, sizeof(evex), DECODER_MODE_64, 0, &d));
    ck_assert_uint_eq(d.length, 12);
    ck_assert_str_eq(d.text, "vpternlogq zmm1 {k1} {z}, zmm2, qword ptr [rax+r15*8+0x12345678] "
                             "{1to8}, 0xFF");
    ck_assert_int_eq(d.cls, DECODER_CLASS_OTHER);
    ck_assert_uint_lt(strlen(d.text), sizeof(d.text));
}
END_TEST

START_TEST(selftest_and_names)
{
    ck_assert(decoder_selftest());
    ck_assert_str_eq(decoder_class_name(DECODER_CLASS_MOVZX), "movzx");
    ck_assert_str_eq(decoder_class_name(DECODER_CLASS_XCHG), "xchg");
    ck_assert_str_eq(decoder_class_name((enum decoder_class)99), "unknown");
}
END_TEST

Suite *decoder_suite(void)
{
    Suite *s = suite_create("decoder");
    TCase *tc = tcase_create("decode");
    tcase_add_test(tc, mov_register_to_memory_64);
    tcase_add_test(tc, mov_memory_to_register_32_and_rex_registers);
    tcase_add_test(tc, mov_byte_and_word_forms);
    tcase_add_test(tc, mov_immediate_to_memory);
    tcase_add_test(tc, segment_override_and_absolute_forms);
    tcase_add_test(tc, rip_relative);
    tcase_add_test(tc, movzx_movsx);
    tcase_add_test(tc, string_instructions);
    tcase_add_test(tc, modes_32_and_16);
    tcase_add_test(tc, alu_with_memory);
    tcase_add_test(tc, non_gpr_moves_are_other);
    tcase_add_test(tc, truncated_input_fails);
    tcase_add_test(tc, invalid_encodings_fail);
    tcase_add_test(tc, fifteen_byte_limit);
    tcase_add_test(tc, bad_arguments_fail);
    tcase_add_test(tc, long_text_fits);
    tcase_add_test(tc, selftest_and_names);
    suite_add_tcase(s, tc);
    return s;
}
