#include "root/mgmt_tls.h"

#include <stdio.h>
#include <string.h>

#include "libc-glue/random.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/pk.h"
#include "mbedtls/sha256.h"
#include "mbedtls/x509_crt.h"

/* mbedtls/entropy.h's MBEDTLS_ERR_ENTROPY_SOURCE_FAILED. */
#define ENTROPY_SOURCE_FAILED (-0x003C)
#define SUBJECT_MAX 80

int mbedtls_hardware_poll(void *data, unsigned char *output, size_t length, size_t *olength)
{
    (void)data;
    *olength = 0;
    while (*olength < length) {
        uint64_t value;
        if (!random_hardware_u64(&value))
            return ENTROPY_SOURCE_FAILED; /* no RDRAND, or it kept failing (SDM 7.3.17.1) */
        size_t n = length - *olength < sizeof(value) ? length - *olength : sizeof(value);
        memcpy(output + *olength, &value, n);
        *olength += n;
    }
    return 0;
}

static bool name_acceptable(const char *name)
{
    size_t length = strlen(name);
    if (length == 0 || length > 64)
        return false;
    for (size_t i = 0; i < length; i++)
        if (name[i] < 0x20 || name[i] >= 0x7F || name[i] == ',' || name[i] == '=' ||
            name[i] == '\\' || name[i] == '+' || name[i] == '"')
            return false;
    return true;
}

/* The certificate, written at the end of `buffer` by mbedTLS, moved into `out`. */
static int write_certificate(const char *subject, mbedtls_pk_context *key,
                             mbedtls_ctr_drbg_context *drbg, struct mgmt_tls_identity *out)
{
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
    mbedtls_x509write_crt_init(&crt);
    mbedtls_mpi_init(&serial);
    unsigned char serial_bytes[16];
    int ret = mbedtls_ctr_drbg_random(drbg, serial_bytes, sizeof(serial_bytes));
    serial_bytes[0] &= 0x7F; /* positive, at most 20 octets (RFC 5280 4.1.2.2) */
    serial_bytes[0] |= 0x40; /* and not zero */
    if (ret == 0)
        ret = mbedtls_mpi_read_binary(&serial, serial_bytes, sizeof(serial_bytes));
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, key);
    mbedtls_x509write_crt_set_issuer_key(&crt, key);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_serial(&crt, &serial);
    /* The root has no trusted clock to check validity against; clients pin the
     * fingerprint instead. A wide fixed window (GeneralizedTime from 2050, RFC 5280). */
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_validity(&crt, "20250101000000", "20491231235959");
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_subject_name(&crt, subject);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_issuer_name(&crt, subject);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1);
    static unsigned char buffer[MGMT_TLS_CERTIFICATE_MAX];
    int length = ret == 0 ? mbedtls_x509write_crt_der(&crt, buffer, sizeof(buffer),
                                                      mbedtls_ctr_drbg_random, drbg)
                          : ret;
    if (length > 0) {
        memcpy(out->certificate, buffer + sizeof(buffer) - (size_t)length, (size_t)length);
        out->certificate_length = (size_t)length;
    }
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
    return length > 0 ? 0 : length;
}

bool mgmt_tls_identity_create(const char *common_name, struct mgmt_tls_identity *out,
                              char *why, size_t why_size)
{
    memset(out, 0, sizeof(*out));
    if (!name_acceptable(common_name)) {
        snprintf(why, why_size, "the common name must be 1 to 64 printable characters "
                                "without , = + \\ or \"");
        return false;
    }
    char subject[SUBJECT_MAX];
    snprintf(subject, sizeof(subject), "CN=%s", common_name);
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context key;
    mbedtls_entropy_init(&entropy); /* its only source: mbedtls_hardware_poll */
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_pk_init(&key);
    static const unsigned char personalization[] = "hvfw management TLS identity";
    const char *step = "seeding the DRBG from RDRAND";
    int ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, personalization,
                                    sizeof(personalization) - 1);
    if (ret == 0) {
        step = "generating the P-256 key";
        ret = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
        if (ret == 0)
            ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key),
                                      mbedtls_ctr_drbg_random, &drbg);
    }
    if (ret == 0) {
        step = "writing the private key";
        static unsigned char buffer[MGMT_TLS_KEY_MAX];
        int length = mbedtls_pk_write_key_der(&key, buffer, sizeof(buffer));
        if (length > 0) {
            memcpy(out->key, buffer + sizeof(buffer) - (size_t)length, (size_t)length);
            out->key_length = (size_t)length;
        }
        memset(buffer, 0, sizeof(buffer));
        ret = length > 0 ? 0 : length;
    }
    if (ret == 0) {
        step = "writing the certificate";
        ret = write_certificate(subject, &key, &drbg, out);
    }
    mbedtls_pk_free(&key);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    if (ret != 0) {
        memset(out, 0, sizeof(*out)); /* no half identity, no key bytes left behind */
        snprintf(why, why_size, "%s: mbedTLS error -0x%04x", step, (unsigned)-ret);
        return false;
    }
    mbedtls_sha256_ret(out->certificate, out->certificate_length, out->fingerprint, 0);
    for (size_t i = 0; i < sizeof(out->fingerprint); i++)
        snprintf(out->fingerprint_text + 3 * i, 4, i + 1 < sizeof(out->fingerprint) ? "%02X:"
                                                                                   : "%02X",
                 out->fingerprint[i]);
    return true;
}
