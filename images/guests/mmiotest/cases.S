/*
 * images/guests/mmiotest/cases.S: the instruction forms mmiotest runs against the test
 * device window and, identically, against RAM. Each case is a routine ending in RET that
 * mmio_case_run calls with:
 *   EBX = the 256-byte slot under test (device window or RAM)
 *   EBP = a 256-byte RAM scratch buffer (the other side of MOVS/CMPS)
 *   EAX, ECX, EDX, ESI, EDI = fixed data values (mmiotest.c), EFLAGS = 0x2 (CF, DF clear)
 * A case sets ESI/EDI/ECX itself when it uses them as pointers or counts. Encodings are
 * whatever GAS picks for the AT&T form unless given as bytes (Intel SDM vol. 2).
 */
    .text
    .code32

.macro mmio_case name
    .globl case_\name
case_\name:
.endm

/* --- MOV ---------------------------------------------------------------------------------- */
mmio_case mov_store_r8
    movb %dl, 3(%ebx)
    ret
mmio_case mov_store_r8_high
    movb %dh, 5(%ebx)
    ret
mmio_case mov_store_r16
    movw %dx, 6(%ebx)
    ret
mmio_case mov_store_r32
    movl %edx, 8(%ebx)
    ret
mmio_case mov_store_r32_sib
    movl $3, %ecx
    movl %eax, 4(%ebx,%ecx,4)
    ret
mmio_case mov_store_r32_disp32
    movl %eax, 0xc0(%ebx)
    ret
mmio_case mov_store_r32_unaligned
    movl %eax, 0x21(%ebx)
    ret
mmio_case mov_store_r32_other_base
    movl %ebx, %esi
    movl %edx, 0x2c(%esi)
    ret
mmio_case mov_load_r8
    movb 5(%ebx), %dl
    ret
mmio_case mov_load_r8_high
    movb 7(%ebx), %ah
    ret
mmio_case mov_load_r16
    movw 10(%ebx), %dx
    ret
mmio_case mov_load_r32
    movl 12(%ebx), %esi
    ret
mmio_case mov_load_r32_sib
    movl $2, %ecx
    movl 8(%ebx,%ecx,8), %edi
    ret
mmio_case mov_load_r32_disp32
    movl 0xd0(%ebx), %edx
    ret
mmio_case mov_load_r32_unaligned
    movl 0x23(%ebx), %eax
    ret
mmio_case mov_store_imm8
    movb $0x5a, 7(%ebx)
    ret
mmio_case mov_store_imm16
    movw $0xbeef, 14(%ebx)
    ret
mmio_case mov_store_imm32
    movl $0xdeadbeef, 16(%ebx)
    ret

/* --- MOVZX / MOVSX: from the pattern, and from a negative value stored first ------------- */
mmio_case movzx_m8_to_r32
    movzbl 0x11(%ebx), %edx
    ret
mmio_case movzx_m16_to_r32
    movzwl 0x12(%ebx), %edx
    ret
mmio_case movzx_m8_to_r16
    movzbw 0x15(%ebx), %dx
    ret
mmio_case movsx_m8_to_r32
    movsbl 0x13(%ebx), %edx
    ret
mmio_case movsx_m16_to_r32
    movswl 0x14(%ebx), %edx
    ret
mmio_case movsx_m8_to_r16
    movsbw 0x16(%ebx), %dx
    ret
mmio_case movsx_negative_m8_to_r32
    movb $0xf0, 0x17(%ebx)
    movsbl 0x17(%ebx), %edi
    ret
mmio_case movsx_negative_m16_to_r32
    movw $0x8001, 0x18(%ebx)
    movswl 0x18(%ebx), %esi
    ret

/* --- STOS / LODS / MOVS / CMPS / SCAS, with and without REP -------------------------- */
mmio_case stosb
    leal 0x40(%ebx), %edi
    stosb
    ret
mmio_case stosw
    leal 0x42(%ebx), %edi
    stosw
    ret
mmio_case stosl
    leal 0x44(%ebx), %edi
    stosl
    ret
mmio_case rep_stosb
    leal 0x48(%ebx), %edi
    movl $7, %ecx
    rep stosb
    ret
mmio_case rep_stosw
    leal 0x50(%ebx), %edi
    movl $3, %ecx
    rep stosw
    ret
mmio_case rep_stosl
    leal 0x58(%ebx), %edi
    movl $5, %ecx
    rep stosl
    ret
mmio_case rep_stosl_count_zero
    leal 0x70(%ebx), %edi
    xorl %ecx, %ecx
    rep stosl
    ret
mmio_case lodsb
    leal 0x61(%ebx), %esi
    lodsb
    ret
mmio_case lodsl
    leal 0x64(%ebx), %esi
    lodsl
    ret
mmio_case movsb_device_to_ram
    leal 0x68(%ebx), %esi
    movl %ebp, %edi
    movsb
    ret
mmio_case movsl_device_to_ram
    leal 0x6c(%ebx), %esi
    leal 4(%ebp), %edi
    movsl
    ret
mmio_case movsw_ram_to_device
    leal 0x30(%ebp), %esi
    leal 0x72(%ebx), %edi
    movsw
    ret
mmio_case movsl_ram_to_device
    movl %ebp, %esi
    leal 0x74(%ebx), %edi
    movsl
    ret
mmio_case rep_movsb_device_to_ram
    leal 0x78(%ebx), %esi
    leal 8(%ebp), %edi
    movl $9, %ecx
    rep movsb
    ret
mmio_case rep_movsl_ram_to_device
    leal 0x10(%ebp), %esi
    leal 0x80(%ebx), %edi
    movl $4, %ecx
    rep movsl
    ret
mmio_case movsb_device_to_device
    leal 0x90(%ebx), %esi
    leal 0x98(%ebx), %edi
    movsb
    ret
mmio_case rep_movsl_device_to_device
    leal 0x90(%ebx), %esi
    leal 0xa0(%ebx), %edi
    movl $3, %ecx
    rep movsl
    ret
mmio_case rep_movsb_backward_ram_to_device
    leal 0x24(%ebp), %esi
    leal 0xb4(%ebx), %edi
    movl $5, %ecx
    std
    rep movsb
    cld
    ret
mmio_case cmpsb
    leal 0x20(%ebx), %esi
    leal 0x20(%ebp), %edi
    cmpsb
    ret
mmio_case cmpsl
    leal 0x10(%ebx), %esi
    leal 0x10(%ebp), %edi
    cmpsl
    ret
mmio_case repe_cmpsb
    /* The scratch buffer equals the slot below offset 0x20 and differs from there on. */
    leal 0x18(%ebx), %esi
    leal 0x18(%ebp), %edi
    movl $16, %ecx
    repe cmpsb
    ret
mmio_case scasb
    leal 0x30(%ebx), %edi
    scasb
    ret
mmio_case scasl
    leal 0x34(%ebx), %edi
    scasl
    ret
mmio_case repne_scasb
    movb 0x3b(%ebx), %al
    leal 0x30(%ebx), %edi
    movl $16, %ecx
    repne scasb
    ret

/* --- arithmetic and logic with a memory destination --------------------------------- */
mmio_case add_r32_to_m32
    addl %edx, 0x08(%ebx)
    ret
mmio_case add_r8_to_m8
    addb %dl, 0x09(%ebx)
    ret
mmio_case add_r16_to_m16
    addw %dx, 0x0a(%ebx)
    ret
mmio_case add_imm8_to_m32
    addl $-3, 0x0c(%ebx)
    ret
mmio_case add_imm32_to_m32
    addl $0x12345678, 0x10(%ebx)
    ret
mmio_case add_imm8_to_m8
    addb $0x7f, 0x14(%ebx)
    ret
mmio_case add_imm16_to_m16
    addw $0x1234, 0x16(%ebx)
    ret
mmio_case adc_r32_to_m32
    stc
    adcl %edx, 0x18(%ebx)
    ret
mmio_case sub_r32_from_m32
    subl %edx, 0x1c(%ebx)
    ret
mmio_case sub_imm32_from_m32
    subl $0x100, 0x20(%ebx)
    ret
mmio_case sbb_imm8_from_m8
    stc
    sbbb $1, 0x24(%ebx)
    ret
mmio_case and_r32_to_m32
    andl %edx, 0x28(%ebx)
    ret
mmio_case and_imm16_to_m16
    andw $0xf0f0, 0x2c(%ebx)
    ret
mmio_case and_r8_high_to_m8
    andb %dh, 0x2e(%ebx)
    ret
mmio_case or_r32_to_m32
    orl %eax, 0x30(%ebx)
    ret
mmio_case or_imm8_to_m8
    orb $0x81, 0x34(%ebx)
    ret
mmio_case xor_r32_to_m32
    xorl %edx, 0x38(%ebx)
    ret
mmio_case xor_imm32_to_m32
    xorl $0xffff0000, 0x3c(%ebx)
    ret
mmio_case xor_m32_with_itself
    movl 0x40(%ebx), %eax
    xorl %eax, 0x40(%ebx)
    ret
mmio_case inc_m32
    incl 0x44(%ebx)
    ret
mmio_case dec_m8
    decb 0x48(%ebx)
    ret
mmio_case not_m32
    notl 0x4c(%ebx)
    ret
mmio_case neg_m16
    negw 0x50(%ebx)
    ret

/* --- arithmetic and logic with a memory source -------------------------------------- */
mmio_case add_m32_to_r32
    addl 0x54(%ebx), %edx
    ret
mmio_case sub_m32_from_r32
    subl 0x58(%ebx), %edx
    ret
mmio_case and_m8_to_r8
    andb 0x5c(%ebx), %dl
    ret
mmio_case or_m16_to_r16
    orw 0x5e(%ebx), %dx
    ret
mmio_case xor_m32_to_r32
    xorl 0x60(%ebx), %eax
    ret
mmio_case cmove_m32_to_r32
    cmpl %eax, %eax
    cmovel 0xb0(%ebx), %edx
    ret

/* --- CMP / TEST with memory -------------------------------------------------------------- */
mmio_case cmp_m32_with_r32
    cmpl %edx, 0x64(%ebx)
    ret
mmio_case cmp_r32_with_m32
    cmpl 0x64(%ebx), %edx
    ret
mmio_case cmp_m8_with_imm8
    cmpb $0x80, 0x68(%ebx)
    ret
mmio_case cmp_m32_with_imm32
    cmpl $0x12345678, 0x6c(%ebx)
    ret
mmio_case cmp_m16_with_imm8
    cmpw $-1, 0x70(%ebx)
    ret
mmio_case test_m32_with_r32
    testl %edx, 0x74(%ebx)
    ret
mmio_case test_m8_with_imm8
    testb $0x81, 0x78(%ebx)
    ret
mmio_case test_m16_with_imm16
    testw $0x8001, 0x7a(%ebx)
    ret

/* --- XCHG, locked read-modify-write, stack, SETcc, bit tests, shifts ---------------- */
mmio_case xchg_r32_with_m32
    xchgl %edx, 0x7c(%ebx)
    ret
mmio_case xchg_r8_with_m8
    xchgb %dl, 0x80(%ebx)
    ret
mmio_case xchg_r16_with_m16
    xchgw %dx, 0x82(%ebx)
    ret
mmio_case lock_add_r32_to_m32
    lock addl %edx, 0x84(%ebx)
    ret
mmio_case lock_xadd_r32_m32
    lock xaddl %edx, 0x88(%ebx)
    ret
mmio_case lock_cmpxchg_m32_equal
    movl 0x8c(%ebx), %eax
    lock cmpxchgl %edx, 0x8c(%ebx)
    ret
mmio_case lock_cmpxchg_m32_not_equal
    lock cmpxchgl %edx, 0x90(%ebx)
    ret
mmio_case push_m32
    pushl 0x94(%ebx)
    popl %edx
    ret
mmio_case pop_m32
    pushl %edx
    popl 0x98(%ebx)
    ret
mmio_case setc_m8
    stc
    setc 0x9c(%ebx)
    ret
mmio_case setnz_m8
    cmpl %eax, %eax
    setnz 0x9d(%ebx)
    ret
mmio_case bt_m32_imm8
    btl $5, 0xa0(%ebx)
    ret
mmio_case bts_m32_imm8
    btsl $31, 0xa4(%ebx)
    ret
mmio_case shl_m32_by_1
    shll 0xa8(%ebx)
    ret
mmio_case shr_m8_by_imm8
    shrb $3, 0xac(%ebx)
    ret
mmio_case rol_m16_by_cl
    movb $5, %cl
    rolw %cl, 0xae(%ebx)
    ret

/* --- MOV with a moffs operand (A0-A3): the address is in the instruction, so these live
 * in .data and mmiotest.c patches the 32-bit address field before each run. ---------- */
    .data
.macro moffs_case name, opcode:vararg
    .globl case_\name, case_\name\()_address
case_\name:
    .byte \opcode
case_\name\()_address:
    .long 0
    ret
.endm

moffs_case moffs_load8, 0xa0              /* mov al, moffs8 */
moffs_case moffs_load16, 0x66, 0xa1       /* mov ax, moffs16 */
moffs_case moffs_load32, 0xa1             /* mov eax, moffs32 */
moffs_case moffs_store8, 0xa2             /* mov moffs8, al */
moffs_case moffs_store32, 0xa3            /* mov moffs32, eax */
