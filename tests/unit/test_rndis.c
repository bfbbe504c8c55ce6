// sources: vsp/rndis.c
/*
 * vsp/rndis.c: the RNDIS control sequence as Linux's rndis_filter.c sends it (INITIALIZE,
 * the queries of rndis_filter_device_add, the offload query and set, the packet filter,
 * the MAC-change config parameter), each reply checked the way Linux checks it; then the
 * data messages with per-packet info; then every truncation, offset and length a hostile
 * child can put in a message.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/rndis_messages.h"
#include "vsp/rndis.h"

static struct rndis_state state;
static struct rndis_device_info device;
static uint8_t reply[RNDIS_REPLY_MAX];
static uint32_t reply_length;
static const char *why;

static void setup(void)
{
    memset(&state, 0, sizeof(state));
    memset(&device, 0, sizeof(device));
    static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
    memcpy(device.mac, mac, 6);
    device.link_speed = 100000000;
    device.connected = true;
    device.nvsp_version = 0x60001;
}

static enum rndis_control_result handle(const uint8_t *m, uint32_t length)
{
    memset(reply, 0xCC, sizeof(reply));
    return rndis_control_handle(&state, &device, m, length, reply, &reply_length, &why);
}

static void initialize(void)
{
    uint8_t m[64];
    ck_assert_int_eq(handle(m, rndis_build_initialize(m, 1)), RNDIS_REPLY);
    ck_assert(state.initialized);
}

/* Linux rndis_filter_query_device's checks; returns the info buffer. */
static const uint8_t *linux_query(uint32_t oid, uint32_t capacity, uint32_t *status,
                                  uint32_t *length)
{
    uint8_t m[256];
    static uint32_t id = 100;
    uint8_t hw[RNDIS_OFFLOAD_SIZE_REV3] = { RNDIS_NDIS_OBJECT_TYPE_OFFLOAD, 3, 156, 0 };
    uint32_t n = oid == RNDIS_OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES
                     ? rndis_build_request(m, RNDIS_MSG_QUERY, ++id, oid, hw, sizeof(hw))
                     : rndis_build_request(m, RNDIS_MSG_QUERY, ++id, oid, NULL, 0);
    ck_assert_int_eq(handle(m, n), RNDIS_REPLY);
    uint32_t msg_len = get32(reply + 4);
    ck_assert_uint_eq(get32(reply), RNDIS_MSG_QUERY | RNDIS_MSG_COMPLETION);
    ck_assert_uint_eq(msg_len, reply_length);
    ck_assert_uint_le(msg_len, RNDIS_REPLY_MAX);
    ck_assert_uint_eq(get32(reply + 8), id);
    ck_assert_uint_ge(msg_len - 8, 16);
    uint32_t info_length = get32(reply + 16), info_offset = get32(reply + 20);
    ck_assert_uint_le(info_length, capacity);
    ck_assert_uint_ge(info_offset, 16);
    ck_assert_uint_ge(msg_len - 8, info_offset);
    ck_assert_uint_ge(msg_len - 8 - info_offset, info_length);
    *status = get32(reply + 12);
    *length = info_length;
    return reply + 8 + info_offset;
}

static uint32_t query_u32(uint32_t oid)
{
    uint32_t status, length;
    const uint8_t *info = linux_query(oid, 4, &status, &length);
    ck_assert_uint_eq(status, RNDIS_STATUS_SUCCESS);
    ck_assert_uint_eq(length, 4);
    return get32(info);
}

static uint32_t set(uint32_t oid, const void *info, uint32_t length)
{
    uint8_t m[512];
    ck_assert_int_eq(handle(m, rndis_build_request(m, RNDIS_MSG_SET, 77, oid, info, length)),
                     RNDIS_REPLY);
    ck_assert_uint_eq(get32(reply), RNDIS_MSG_SET | RNDIS_MSG_COMPLETION);
    ck_assert_uint_eq(get32(reply + 4), 16);
    ck_assert_uint_eq(get32(reply + 8), 77);
    return get32(reply + 12);
}

/* struct ndis_offload_params as rndis_netdev_set_hwcaps fills it for a host with no
 * offload capabilities (revision 3, 28 bytes). */
static void linux_offload_params(uint8_t *p, uint32_t size, uint8_t revision)
{
    memset(p, 0, 28);
    p[0] = RNDIS_NDIS_OBJECT_TYPE_DEFAULT;
    p[1] = revision;
    p[2] = (uint8_t)size;
    for (int i = 4; i <= 8; i++)
        p[i] = 1; /* TX_RX_DISABLED */
    p[11] = p[12] = 1; /* LSOV2_DISABLED */
    if (size >= 24)
        p[22] = p[23] = 1; /* RSC_DISABLED */
}

START_TEST(linux_control_sequence)
{
    uint8_t m[64];
    ck_assert_int_eq(handle(m, rndis_build_initialize(m, 0x1234)), RNDIS_REPLY);
    ck_assert_ptr_null(why);
    ck_assert_uint_eq(reply_length, 52);
    ck_assert_uint_eq(get32(reply), RNDIS_MSG_INITIALIZE | RNDIS_MSG_COMPLETION);
    ck_assert_uint_eq(get32(reply + 4), 52);
    ck_assert_uint_eq(get32(reply + 8), 0x1234);
    ck_assert_uint_eq(get32(reply + 12), RNDIS_STATUS_SUCCESS);
    ck_assert_uint_eq(get32(reply + 16), 1);
    ck_assert_uint_eq(get32(reply + 28), 0); /* 802.3 */
    ck_assert_uint_eq(get32(reply + 32), RNDIS_MAX_PACKETS_PER_MESSAGE);
    ck_assert_uint_eq(get32(reply + 40), RNDIS_PACKET_ALIGNMENT_SHIFT);
    ck_assert(state.initialized);
    ck_assert_uint_eq(state.max_transfer_size, 0x4000);

    ck_assert_uint_eq(query_u32(RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE), 1500);
    uint32_t status, length;
    const uint8_t *mac = linux_query(RNDIS_OID_802_3_PERMANENT_ADDRESS, 6, &status, &length);
    ck_assert_uint_eq(status, 0);
    ck_assert_uint_eq(length, 6);
    ck_assert_mem_eq(mac, device.mac, 6);
    mac = linux_query(RNDIS_OID_802_3_CURRENT_ADDRESS, 6, &status, &length);
    ck_assert_mem_eq(mac, device.mac, 6);
    ck_assert_uint_eq(query_u32(RNDIS_OID_GEN_MEDIA_CONNECT_STATUS), 0);
    device.connected = false;
    ck_assert_uint_eq(query_u32(RNDIS_OID_GEN_MEDIA_CONNECT_STATUS), 1);
    device.connected = true;
    ck_assert_uint_eq(query_u32(RNDIS_OID_GEN_LINK_SPEED), 100000000);
    ck_assert_uint_eq(query_u32(RNDIS_OID_GEN_MAC_OPTIONS), 0);
    ck_assert_uint_eq(query_u32(RNDIS_OID_GEN_MAXIMUM_TOTAL_SIZE), 1514);
    const uint8_t *list = linux_query(RNDIS_OID_GEN_SUPPORTED_LIST, 256, &status, &length);
    ck_assert_uint_eq(status, 0);
    ck_assert_uint_gt(length, 0);
    ck_assert_uint_eq(length % 4, 0);
    ck_assert_uint_eq(get32(list), RNDIS_OID_GEN_SUPPORTED_LIST);

    /* rndis_query_hwcaps: type 0xA7, revision >= 1, size within what Linux holds and at
     * least NDIS 6.0's; every capability clear. */
    const uint8_t *hw = linux_query(RNDIS_OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, 156, &status,
                                    &length);
    ck_assert_uint_eq(status, 0);
    ck_assert_uint_eq(hw[0], RNDIS_NDIS_OBJECT_TYPE_OFFLOAD);
    ck_assert_uint_eq(hw[1], 3);
    ck_assert_uint_eq(hw[2] | hw[3] << 8, 156);
    ck_assert_uint_eq(length, 156);
    for (uint32_t i = 4; i < length; i++)
        ck_assert_uint_eq(hw[i], 0);
    device.nvsp_version = 0x40000;
    hw = linux_query(RNDIS_OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, 156, &status, &length);
    ck_assert_uint_eq(hw[1], 2);
    ck_assert_uint_eq(length, 144);
    device.nvsp_version = 2;
    hw = linux_query(RNDIS_OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, 156, &status, &length);
    ck_assert_uint_eq(hw[1], 1);
    ck_assert_uint_eq(length, 112);
    device.nvsp_version = 0x60001;

    uint8_t params[28];
    linux_offload_params(params, 28, 3);
    ck_assert_uint_eq(set(RNDIS_OID_TCP_OFFLOAD_PARAMETERS, params, 28), 0);
    linux_offload_params(params, 22, 1); /* NVSP <= 4: VERSION_4_OFFLOAD_SIZE */
    ck_assert_uint_eq(set(RNDIS_OID_TCP_OFFLOAD_PARAMETERS, params, 22), 0);

    /* RSS capabilities: not supported, so Linux stays on one channel. */
    linux_query(RNDIS_OID_GEN_RECEIVE_SCALE_CAPABILITIES, 16, &status, &length);
    ck_assert_uint_eq(status, RNDIS_STATUS_NOT_SUPPORTED);
    ck_assert_uint_eq(length, 0);

    /* rndis_filter_open: BROADCAST | ALL_MULTICAST | DIRECTED. */
    uint32_t filter = 0x0D;
    ck_assert_uint_eq(set(RNDIS_OID_GEN_CURRENT_PACKET_FILTER, &filter, 4), 0);
    ck_assert_uint_eq(state.packet_filter, 0x0D);
    ck_assert_uint_eq(query_u32(RNDIS_OID_GEN_CURRENT_PACKET_FILTER), 0x0D);
    filter = 0;
    ck_assert_uint_eq(set(RNDIS_OID_GEN_CURRENT_PACKET_FILTER, &filter, 4), 0);
    ck_assert_uint_eq(state.packet_filter, 0);
}
END_TEST

START_TEST(keepalive_reset_halt)
{
    uint8_t m[16] = { 0 };
    put32(m, RNDIS_MSG_KEEPALIVE);
    put32(m + 4, 12);
    put32(m + 8, 9);
    ck_assert_int_eq(handle(m, 12), RNDIS_REPLY);
    ck_assert_uint_eq(get32(reply), RNDIS_MSG_KEEPALIVE | RNDIS_MSG_COMPLETION);
    ck_assert_uint_eq(get32(reply + 8), 9);
    ck_assert_uint_eq(get32(reply + 12), 0);
    put32(m, RNDIS_MSG_RESET);
    ck_assert_int_eq(handle(m, 12), RNDIS_REPLY);
    ck_assert_uint_eq(get32(reply), RNDIS_MSG_RESET | RNDIS_MSG_COMPLETION);
    ck_assert_uint_eq(get32(reply + 8), 0); /* status */
    initialize();
    put32(m, RNDIS_MSG_HALT);
    ck_assert_int_eq(handle(m, 12), RNDIS_NO_REPLY);
    ck_assert_ptr_null(why);
    ck_assert(!state.initialized);
}
END_TEST

START_TEST(refused_requests)
{
    uint8_t m[256];
    uint32_t filter = 0x0D, status, length;
    /* Before INITIALIZE: FAILURE. */
    uint32_t n = rndis_build_request(m, RNDIS_MSG_SET, 5, RNDIS_OID_GEN_CURRENT_PACKET_FILTER,
                                     &filter, 4);
    ck_assert_int_eq(handle(m, n), RNDIS_REPLY);
    ck_assert_uint_eq(get32(reply + 12), RNDIS_STATUS_FAILURE);
    ck_assert_ptr_nonnull(why);
    /* A major version other than 1. */
    rndis_build_initialize(m, 3);
    put32(m + 12, 2);
    ck_assert_int_eq(handle(m, 24), RNDIS_REPLY);
    ck_assert_uint_eq(get32(reply + 12), RNDIS_STATUS_NOT_SUPPORTED);
    ck_assert(!state.initialized);
    initialize();

    filter = 0x40; /* SMT: not ours */
    ck_assert_uint_eq(set(RNDIS_OID_GEN_CURRENT_PACKET_FILTER, &filter, 4),
                      RNDIS_STATUS_NOT_SUPPORTED);
    ck_assert_uint_eq(set(RNDIS_OID_GEN_CURRENT_PACKET_FILTER, &filter, 2),
                      RNDIS_STATUS_INVALID_LENGTH);
    ck_assert_uint_eq(state.packet_filter, 0);
    ck_assert_uint_eq(set(0x12345678, &filter, 4), RNDIS_STATUS_NOT_SUPPORTED);
    linux_query(0x12345678, 0, &status, &length);
    ck_assert_uint_eq(status, RNDIS_STATUS_INVALID_OID);

    /* Offload parameters that enable something, or are malformed. */
    uint8_t params[28];
    linux_offload_params(params, 28, 3);
    params[5] = 4; /* TCP IPv4 checksum TX_RX_ENABLED */
    ck_assert_uint_eq(set(RNDIS_OID_TCP_OFFLOAD_PARAMETERS, params, 28),
                      RNDIS_STATUS_NOT_SUPPORTED);
    linux_offload_params(params, 28, 3);
    params[12] = 2; /* LSOv2 IPv6 enabled */
    ck_assert_uint_eq(set(RNDIS_OID_TCP_OFFLOAD_PARAMETERS, params, 28),
                      RNDIS_STATUS_NOT_SUPPORTED);
    linux_offload_params(params, 28, 3);
    params[0] = 0xA7;
    ck_assert_uint_eq(set(RNDIS_OID_TCP_OFFLOAD_PARAMETERS, params, 28),
                      RNDIS_STATUS_INVALID_DATA);
    linux_offload_params(params, 28, 3);
    params[2] = 200; /* header size beyond the buffer */
    ck_assert_uint_eq(set(RNDIS_OID_TCP_OFFLOAD_PARAMETERS, params, 28),
                      RNDIS_STATUS_INVALID_DATA);
    ck_assert_uint_eq(set(RNDIS_OID_TCP_OFFLOAD_PARAMETERS, params, 21),
                      RNDIS_STATUS_INVALID_LENGTH);

    /* Multicast list: whole addresses only. */
    uint8_t list[12] = { 0x01, 0, 0x5E, 0, 0, 1, 0x33, 0x33, 0, 0, 0, 1 };
    ck_assert_uint_eq(set(RNDIS_OID_802_3_MULTICAST_LIST, list, 12), 0);
    ck_assert_uint_eq(set(RNDIS_OID_802_3_MULTICAST_LIST, list, 7),
                      RNDIS_STATUS_INVALID_LENGTH);
}
END_TEST

/* rndis_filter_set_device_mac: "NetworkAddress" = 12 UTF-16 hex digits. */
static uint32_t config_parameter(uint8_t *info, const char *name, uint32_t name_shift)
{
    uint32_t name_chars = (uint32_t)strlen(name);
    put32(info, 20 + name_shift);
    put32(info + 4, 2 * name_chars);
    put32(info + 8, 2);
    put32(info + 12, 20 + 2 * name_chars);
    put32(info + 16, 24);
    for (uint32_t i = 0; i < name_chars; i++) {
        info[20 + 2 * i] = (uint8_t)name[i];
        info[21 + 2 * i] = 0;
    }
    for (uint32_t i = 0; i < 12; i++) {
        info[20 + 2 * name_chars + 2 * i] = 'a';
        info[21 + 2 * name_chars + 2 * i] = 0;
    }
    return 20 + 2 * name_chars + 24;
}

START_TEST(mac_change_refused)
{
    initialize();
    uint8_t info[200];
    uint32_t n = config_parameter(info, "NetworkAddress", 0);
    ck_assert_uint_eq(set(RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER, info, n),
                      RNDIS_STATUS_NOT_SUPPORTED);
    n = config_parameter(info, "SomethingElse", 0);
    ck_assert_uint_eq(set(RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER, info, n), 0);
    n = config_parameter(info, "NetworkAddress", 0);
    put32(info, 0xFFFFFFF0); /* name offset wraps */
    ck_assert_uint_eq(set(RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER, info, n),
                      RNDIS_STATUS_INVALID_DATA);
    n = config_parameter(info, "NetworkAddress", 0);
    put32(info + 16, 1000); /* value beyond the buffer */
    ck_assert_uint_eq(set(RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER, info, n),
                      RNDIS_STATUS_INVALID_DATA);
    ck_assert_uint_eq(set(RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER, info, 19),
                      RNDIS_STATUS_INVALID_LENGTH);
}
END_TEST

/* Every message cut short, as a buffer shorter than msg_len and as a smaller msg_len. */
START_TEST(truncated_control_messages)
{
    uint8_t full[4][128], m[128];
    uint32_t sizes[4], filter = 0x0D, tries = 0, replies = 0;
    sizes[0] = rndis_build_initialize(full[0], 1);
    sizes[1] = rndis_build_request(full[1], RNDIS_MSG_QUERY, 2, RNDIS_OID_802_3_PERMANENT_ADDRESS,
                                   NULL, 0);
    sizes[2] = rndis_build_request(full[2], RNDIS_MSG_SET, 3, RNDIS_OID_GEN_CURRENT_PACKET_FILTER,
                                   &filter, 4);
    memset(full[3], 0, 12);
    put32(full[3], RNDIS_MSG_KEEPALIVE);
    put32(full[3] + 4, 12);
    put32(full[3] + 8, 4);
    sizes[3] = 12;
    for (int k = 0; k < 4; k++) {
        for (uint32_t cut = 0; cut < sizes[k]; cut++) {
            initialize();
            /* The buffer ends before msg_len: nothing to answer. */
            ck_assert_int_eq(handle(full[k], cut), RNDIS_NO_REPLY);
            ck_assert_ptr_nonnull(why);
            /* msg_len says the message is short: an error completion or nothing. */
            memcpy(m, full[k], sizes[k]);
            put32(m + 4, cut);
            enum rndis_control_result r = handle(m, sizes[k]);
            tries++;
            if (cut < 12 && get32(m) != RNDIS_MSG_RESET) {
                ck_assert_int_eq(r, RNDIS_NO_REPLY);
                continue;
            }
            if (r == RNDIS_REPLY) {
                replies++;
                ck_assert_uint_le(reply_length, RNDIS_REPLY_MAX);
                ck_assert_uint_eq(get32(reply), get32(m) | RNDIS_MSG_COMPLETION);
                ck_assert_uint_eq(get32(reply + 4), reply_length);
                ck_assert_uint_ne(get32(reply + 12), RNDIS_STATUS_SUCCESS);
                ck_assert_ptr_nonnull(why);
            }
        }
    }
    ck_assert_uint_gt(tries, 60);
    ck_assert_uint_gt(replies, 20);
}
END_TEST

START_TEST(information_buffer_outside)
{
    initialize();
    uint8_t m[64];
    uint32_t filter = 0x0D;
    uint32_t n = rndis_build_request(m, RNDIS_MSG_SET, 8, RNDIS_OID_GEN_CURRENT_PACKET_FILTER,
                                     &filter, 4);
    static const uint32_t offsets[] = { 0, 4, 19, 21, 0x7FFFFFFF, 0xFFFFFFFC };
    for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        put32(m + 20, offsets[i]);
        ck_assert_int_eq(handle(m, n), RNDIS_REPLY);
        ck_assert_uint_eq(get32(reply + 12), RNDIS_STATUS_INVALID_DATA);
    }
    put32(m + 20, 20);
    put32(m + 16, 0xFFFFFFFF); /* length wraps */
    ck_assert_int_eq(handle(m, n), RNDIS_REPLY);
    ck_assert_uint_eq(get32(reply + 12), RNDIS_STATUS_INVALID_DATA);
    ck_assert_uint_eq(state.packet_filter, 0);
    /* Unexpected types get no answer. */
    put32(m, RNDIS_MSG_INDICATE_STATUS);
    ck_assert_int_eq(handle(m, n), RNDIS_NO_REPLY);
    put32(m, RNDIS_MSG_QUERY | RNDIS_MSG_COMPLETION);
    ck_assert_int_eq(handle(m, n), RNDIS_NO_REPLY);
    ck_assert_ptr_nonnull(why);
}
END_TEST

/* ---- data -------------------------------------------------------------------------- */

static uint8_t frame[60];

/* A PACKET_MSG as netvsc_xmit builds it, with optional per-packet info (each 12 + 4). */
static uint32_t build_packet(uint8_t *m, const uint32_t *types, const uint32_t *values,
                             uint32_t ppi_count, uint32_t frame_length)
{
    uint32_t ppi_length = ppi_count * 16;
    memset(m, 0, 44);
    put32(m, RNDIS_MSG_PACKET);
    put32(m + 4, 44 + ppi_length + frame_length);
    put32(m + 8, 36 + ppi_length);
    put32(m + 12, frame_length);
    put32(m + 28, ppi_count ? 36 : 0);
    put32(m + 32, ppi_length);
    for (uint32_t i = 0; i < ppi_count; i++) {
        uint8_t *p = m + 44 + 16 * i;
        put32(p, 16);
        put32(p + 4, types[i]);
        put32(p + 8, 12);
        put32(p + 12, values[i]);
    }
    memcpy(m + 44 + ppi_length, frame, frame_length);
    return 44 + ppi_length + frame_length;
}

START_TEST(packets_and_per_packet_info)
{
    for (uint32_t i = 0; i < sizeof(frame); i++)
        frame[i] = (uint8_t)(i * 7);
    uint8_t m[2048];
    struct rndis_packet p;
    uint32_t used;
    uint32_t n = build_packet(m, NULL, NULL, 0, 60);
    ck_assert(rndis_packet_parse(m, n, &p, &used, &why));
    ck_assert_uint_eq(used, n);
    ck_assert_uint_eq(p.frame_length, 60);
    ck_assert_mem_eq(p.frame, frame, 60);
    ck_assert(!p.has_vlan && !p.wants_checksum && !p.wants_lso);

    /* VLAN 100 priority 5 (pri bits 0-2, VLAN id bits 4-15), a hash value, Linux's internal
     * packet id (bit 31), then checksum and LSO requests. */
    uint32_t types[3] = { RNDIS_PPI_VLAN, RNDIS_PPI_HASH_VALUE, 0x80000001u };
    uint32_t values[3] = { 5u | 100u << 4, 0xDEADBEEF, 0x77 };
    n = build_packet(m, types, values, 3, 60);
    ck_assert(rndis_packet_parse(m, n, &p, &used, &why));
    ck_assert(p.has_vlan);
    ck_assert_uint_eq(p.vlan_tci, 5u << 13 | 100u);
    ck_assert(!p.wants_checksum);
    types[0] = RNDIS_PPI_CHECKSUM;
    values[0] = 1u | 4u; /* IPv4 + TCP checksum */
    n = build_packet(m, types, values, 1, 60);
    ck_assert(rndis_packet_parse(m, n, &p, &used, &why));
    ck_assert(p.wants_checksum);
    types[0] = RNDIS_PPI_LSO;
    values[0] = 1460;
    n = build_packet(m, types, values, 1, 60);
    ck_assert(rndis_packet_parse(m, n, &p, &used, &why));
    ck_assert(p.wants_lso);

    /* Two messages back to back, the first padded to 8 as Linux batches them. */
    uint32_t first = build_packet(m, NULL, NULL, 0, 60);
    put32(m + 4, 112);
    uint32_t second = build_packet(m + 112, NULL, NULL, 0, 42);
    ck_assert(rndis_packet_parse(m, 112 + second, &p, &used, &why));
    ck_assert_uint_eq(used, 112);
    ck_assert(rndis_packet_parse(m + used, second, &p, &used, &why));
    ck_assert_uint_eq(p.frame_length, 42);
    (void)first;

    /* The builder's output parses back. */
    uint8_t out[2048];
    n = rndis_packet_build(out, sizeof(out), frame, 60);
    ck_assert_uint_eq(n, 104);
    ck_assert(rndis_packet_parse(out, n, &p, &used, &why));
    ck_assert_mem_eq(p.frame, frame, 60);
    ck_assert_uint_eq(rndis_packet_build(out, 103, frame, 60), 0);
    ck_assert_uint_eq(rndis_packet_build(out, sizeof(out), frame, 0), 0);
    ck_assert_uint_eq(rndis_packet_build(out, sizeof(out), m, RNDIS_FRAME_MAX + 1), 0);
    ck_assert_uint_eq(rndis_indicate_status_build(out, sizeof(out), RNDIS_STATUS_MEDIA_CONNECT),
                      20);
    ck_assert_uint_eq(get32(out), RNDIS_MSG_INDICATE_STATUS);
    ck_assert_uint_eq(get32(out + 8), RNDIS_STATUS_MEDIA_CONNECT);
    ck_assert_uint_eq(rndis_indicate_status_build(out, 19, 0), 0);
}
END_TEST

START_TEST(bad_packets)
{
    uint8_t m[2048], good[2048];
    struct rndis_packet p;
    uint32_t used, types[1] = { RNDIS_PPI_VLAN }, values[1] = { 0x10 };
    uint32_t n = build_packet(good, types, values, 1, 60);
    /* Truncated anywhere: never a frame outside the bytes given. */
    for (uint32_t cut = 0; cut < n; cut++)
        ck_assert(!rndis_packet_parse(good, cut, &p, &used, &why));
    for (uint32_t cut = 0; cut < n; cut++) {
        memcpy(m, good, n);
        put32(m + 4, cut);
        ck_assert(!rndis_packet_parse(m, n, &p, &used, &why));
    }
    /* Each field out of range. */
    struct {
        uint32_t at, value;
    } bad[] = {
        { 0, RNDIS_MSG_QUERY },      /* not a packet */
        { 8, 0 },                    /* data over the header */
        { 8, 35 },
        { 8, 0xFFFFFFF0 },           /* data offset wraps */
        { 12, 0xFFFFFFFF },          /* data length wraps */
        { 12, 13 },                  /* shorter than an Ethernet header */
        { 12, 1519 },                /* longer than a tagged frame (and the message) */
        { 20, 4 }, { 20, 0x10000 }, /* out-of-band data over the header, beyond */
        { 28, 8 },                   /* per-packet info over the header */
        { 28, 0xFFFFFFF8 },
        { 32, 0xFFFFFFFF },
        { 44, 0 },                   /* a PPI of size 0 (would never advance) */
        { 44, 11 },
        { 44, 17 },                  /* beyond the PPI area */
        { 52, 17 },                  /* PPI offset beyond its size */
        { 52, 4 },                   /* PPI offset over its header */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(m, good, n);
        put32(m + bad[i].at, bad[i].value);
        why = NULL;
        ck_assert_msg(!rndis_packet_parse(m, n, &p, &used, &why), "case %zu", i);
        ck_assert_ptr_nonnull(why);
    }
    /* A frame of 1518 with room for it passes; 1519 would not fit anyway. */
    static uint8_t big[44 + RNDIS_FRAME_MAX], tagged[RNDIS_FRAME_MAX];
    uint32_t size = rndis_packet_build(big, sizeof(big), tagged, RNDIS_FRAME_MAX);
    ck_assert_uint_eq(size, sizeof(big));
    ck_assert(rndis_packet_parse(big, size, &p, &used, &why));
}
END_TEST

Suite *rndis_suite(void)
{
    Suite *s = suite_create("rndis");
    TCase *tc = tcase_create("rndis");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, linux_control_sequence);
    tcase_add_test(tc, keepalive_reset_halt);
    tcase_add_test(tc, refused_requests);
    tcase_add_test(tc, mac_change_refused);
    tcase_add_test(tc, truncated_control_messages);
    tcase_add_test(tc, information_buffer_outside);
    tcase_add_test(tc, packets_and_per_packet_info);
    tcase_add_test(tc, bad_packets);
    suite_add_tcase(s, tc);
    return s;
}
