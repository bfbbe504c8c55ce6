// sources: libc-glue/decoder.c
/*
 * libFuzzer target for decoder_decode: the first input byte picks the mode, the rest are the
 * instruction bytes. Whatever the bytes, the decoder must not crash (ASan/UBSan watch) and
 * what it reports must be self-consistent; a violation aborts with the reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libc-glue/decoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                 \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz_decoder: invariant failed: %s (line %d)\n", #cond, \
                    __LINE__);                                                        \
            abort();                                                                  \
        }                                                                             \
    } while (0)

static int is_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

static void check_gpr(const struct decoder_gpr *gpr)
{
    REQUIRE(gpr->size == 0 || gpr->size == 1 || gpr->size == 2 || gpr->size == 4 ||
            gpr->size == 8);
    REQUIRE(gpr->number <= 15);
    REQUIRE(!gpr->high_byte || (gpr->size == 1 && gpr->number <= 3));
}

static void check_memory(const struct decoder_memory *m)
{
    if (!m->present) {
        REQUIRE(is_zero(m, sizeof(*m)));
        return;
    }
    REQUIRE(m->segment <= DECODER_SEGMENT_NONE);
    REQUIRE(m->address_size == 2 || m->address_size == 4 || m->address_size == 8);
    REQUIRE(m->scale == 0 || m->scale == 1 || m->scale == 2 || m->scale == 4 || m->scale == 8);
    REQUIRE((m->scale != 0) == (m->index.size != 0));
    REQUIRE(!(m->base_is_rip && m->base.size != 0));
    check_gpr(&m->base);
    check_gpr(&m->index);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum decoder_mode mode = (enum decoder_mode)(data[0] % 3);
    const uint8_t *bytes = data + 1;
    size_t len = size - 1;
    /* A copy of exactly len bytes on the heap, so ASan sees any read past the end. */
    uint8_t *copy = malloc(len ? len : 1);
    REQUIRE(copy != NULL);
    memcpy(copy, bytes, len);

    struct decoded_insn insn;
    memset(&insn, 0xa5, sizeof(insn));
    int ok = decoder_decode(copy, len, mode, 0xffffffff80001000ull, &insn);
    if (!ok) {
        REQUIRE(is_zero(&insn, sizeof(insn)));
        free(copy);
        return 0;
    }
    REQUIRE(insn.length >= 1 && insn.length <= DECODER_MAX_LENGTH && insn.length <= len);
    REQUIRE(memchr(insn.text, '\0', sizeof(insn.text)) != NULL);
    REQUIRE(insn.text[0] != '\0');
    REQUIRE(strcmp(decoder_class_name(insn.cls), "unknown") != 0);
    REQUIRE(insn.address_size == 2 || insn.address_size == 4 || insn.address_size == 8);
    REQUIRE(insn.rep <= DECODER_REP_REPNE);
    REQUIRE(!insn.memory_source.present || insn.memory.present);
    REQUIRE(insn.has_immediate || (insn.immediate == 0 && insn.immediate_size == 0));
    check_memory(&insn.memory);
    check_memory(&insn.memory_source);
    check_gpr(&insn.reg);

    /* The instruction's own bytes suffice and give the same result; one byte fewer fails. */
    struct decoded_insn again;
    REQUIRE(decoder_decode(copy, insn.length, mode, 0xffffffff80001000ull, &again));
    REQUIRE(again.length == insn.length && again.cls == insn.cls);
    REQUIRE(strcmp(again.text, insn.text) == 0);
    REQUIRE(!decoder_decode(copy, insn.length - 1u, mode, 0, &again));
    free(copy);
    return 0;
}
