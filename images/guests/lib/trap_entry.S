/*
 * images/guests/lib/trap_entry.S: the 32 exception entry points of the test guests. The
 * CPU pushes an error code only for vectors 8, 10-14, 17, 21, 29 and 30 (Intel SDM vol. 3,
 * table 6-1 and 6.13 "Error Code"; AMD APM vol. 2, 8.2 for #VC 29 and #SX 30); the others
 * push a 0 so that every frame has the same shape (struct trap_frame).
 */
    .text
    .code32

.macro trap_stub vector, has_error
trap_stub_\vector:
    .if \has_error == 0
    pushl $0
    .endif
    pushl $\vector
    jmp trap_common
.endm

trap_stub 0, 0
trap_stub 1, 0
trap_stub 2, 0
trap_stub 3, 0
trap_stub 4, 0
trap_stub 5, 0
trap_stub 6, 0
trap_stub 7, 0
trap_stub 8, 1
trap_stub 9, 0
trap_stub 10, 1
trap_stub 11, 1
trap_stub 12, 1
trap_stub 13, 1
trap_stub 14, 1
trap_stub 15, 0
trap_stub 16, 0
trap_stub 17, 1
trap_stub 18, 0
trap_stub 19, 0
trap_stub 20, 0
trap_stub 21, 1
trap_stub 22, 0
trap_stub 23, 0
trap_stub 24, 0
trap_stub 25, 0
trap_stub 26, 0
trap_stub 27, 0
trap_stub 28, 0
trap_stub 29, 1
trap_stub 30, 1
trap_stub 31, 0

trap_common:
    pushal
    cld
    pushl %esp                            /* struct trap_frame * */
    call trap_dispatch
    addl $4, %esp
    popal
    addl $8, %esp                         /* vector and error code */
    iret

    .section .rodata
    .balign 4
    .globl trap_stubs
trap_stubs:
    .irp vector, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,\
                 16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .long trap_stub_\vector
    .endr
