#include "vsp/rndis.h"

#include <stddef.h>
#include <string.h>

/* Field offsets inside messages (MS-RNDIS 2.2.2 - 2.2.14), all little-endian u32s. */
#define AT_TYPE 0u
#define AT_LENGTH 4u
#define AT_REQUEST_ID 8u
/* REMOTE_NDIS_QUERY_MSG / SET_MSG: RequestId, Oid, InformationBufferLength,
 * InformationBufferOffset, DeviceVcHandle. */
#define REQUEST_HEADER_SIZE 28u
#define AT_REQUEST_OID 12u
#define AT_REQUEST_INFO_LENGTH 16u
#define AT_REQUEST_INFO_OFFSET 20u
/* InformationBufferOffset counts from RequestId; the buffer may not overlap the fields. */
#define REQUEST_INFO_OFFSET_MIN (REQUEST_HEADER_SIZE - AT_REQUEST_ID)
/* REMOTE_NDIS_INITIALIZE_MSG: RequestId, MajorVersion, MinorVersion, MaxTransferSize. */
#define INITIALIZE_SIZE 24u
/* Completions. */
#define INITIALIZE_COMPLETE_SIZE 52u
#define QUERY_COMPLETE_SIZE 24u
#define QUERY_COMPLETE_INFO_OFFSET 16u /* from RequestId: RequestId..InfoBufferOffset */
#define SHORT_COMPLETE_SIZE 16u        /* SET, RESET, KEEPALIVE */
/* REMOTE_NDIS_PACKET_MSG after the header: DataOffset, DataLength, OOBDataOffset,
 * OOBDataLength, NumOOBDataElements, PerPacketInfoOffset, PerPacketInfoLength, VcHandle,
 * Reserved. Its offsets count from DataOffset (byte 8). */
#define PACKET_BODY_SIZE (RNDIS_PACKET_HEADER_SIZE - RNDIS_HEADER_SIZE)
#define PPI_HEADER_SIZE 12u /* Size, Type (bit 31: Linux's "internal"), PerPacketInfoOffset */
#define ETHERNET_HEADER_SIZE 14u
/* struct rndis_config_parameter_info: name offset/length, type, value offset/length. */
#define CONFIG_PARAMETER_SIZE 20u
#define MULTICAST_LIST_MAX 32u

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof(v));
}

bool rndis_message_header(const uint8_t *message, uint32_t length, uint32_t *type,
                          uint32_t *message_length)
{
    if (length < RNDIS_HEADER_SIZE)
        return false;
    *type = get32(message + AT_TYPE);
    *message_length = get32(message + AT_LENGTH);
    return *message_length >= RNDIS_HEADER_SIZE && *message_length <= length;
}

/* ---- completions ------------------------------------------------------------------- */

static uint32_t complete_short(uint8_t *reply, uint32_t type, uint32_t request_id,
                               uint32_t status)
{
    memset(reply, 0, SHORT_COMPLETE_SIZE);
    put32(reply + AT_TYPE, type | RNDIS_MSG_COMPLETION);
    put32(reply + AT_LENGTH, SHORT_COMPLETE_SIZE);
    put32(reply + 8, request_id);
    put32(reply + 12, status);
    return SHORT_COMPLETE_SIZE;
}

static uint32_t complete_query(uint8_t *reply, uint32_t request_id, uint32_t status,
                               const void *info, uint32_t info_length)
{
    /* Linux (rndis_filter_query_device) wants InfoBufferOffset >= 16 and the buffer inside
     * msg_len; an empty answer still carries the offset. */
    memset(reply, 0, QUERY_COMPLETE_SIZE);
    put32(reply + AT_TYPE, RNDIS_MSG_QUERY | RNDIS_MSG_COMPLETION);
    put32(reply + AT_LENGTH, QUERY_COMPLETE_SIZE + info_length);
    put32(reply + 8, request_id);
    put32(reply + 12, status);
    put32(reply + 16, info_length);
    put32(reply + 20, QUERY_COMPLETE_INFO_OFFSET);
    if (info_length)
        memcpy(reply + QUERY_COMPLETE_SIZE, info, info_length);
    return QUERY_COMPLETE_SIZE + info_length;
}

static uint32_t complete_initialize(uint8_t *reply, uint32_t request_id, uint32_t status)
{
    memset(reply, 0, INITIALIZE_COMPLETE_SIZE);
    put32(reply + AT_TYPE, RNDIS_MSG_INITIALIZE | RNDIS_MSG_COMPLETION);
    put32(reply + AT_LENGTH, INITIALIZE_COMPLETE_SIZE);
    put32(reply + 8, request_id);
    put32(reply + 12, status);
    put32(reply + 16, 1); /* RNDIS 1.0 */
    put32(reply + 20, 0);
    put32(reply + 24, 1); /* DeviceFlags: RNDIS_DF_CONNECTIONLESS */
    put32(reply + 28, 0); /* Medium: 802.3 */
    put32(reply + 32, RNDIS_MAX_PACKETS_PER_MESSAGE);
    put32(reply + 36, RNDIS_MAX_TRANSFER_SIZE);
    put32(reply + 40, RNDIS_PACKET_ALIGNMENT_SHIFT);
    /* AfListOffset / AfListSize: 0, no call manager. */
    return INITIALIZE_COMPLETE_SIZE;
}

/* ---- QUERY ------------------------------------------------------------------------- */

static const uint32_t supported_oids[] = {
    RNDIS_OID_GEN_SUPPORTED_LIST,        RNDIS_OID_GEN_HARDWARE_STATUS,
    RNDIS_OID_GEN_MEDIA_SUPPORTED,       RNDIS_OID_GEN_MEDIA_IN_USE,
    RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE,    RNDIS_OID_GEN_LINK_SPEED,
    RNDIS_OID_GEN_CURRENT_PACKET_FILTER, RNDIS_OID_GEN_MAXIMUM_TOTAL_SIZE,
    RNDIS_OID_GEN_MAC_OPTIONS,           RNDIS_OID_GEN_MEDIA_CONNECT_STATUS,
    RNDIS_OID_802_3_PERMANENT_ADDRESS,   RNDIS_OID_802_3_CURRENT_ADDRESS,
    RNDIS_OID_802_3_MULTICAST_LIST,      RNDIS_OID_802_3_MAXIMUM_LIST_SIZE,
    RNDIS_OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES,
};

/* OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES: an NDIS_OFFLOAD with every capability clear (no
 * checksum, LSO, IPsec or RSC offload: the switch forwards frames as they are, and Linux
 * then computes checksums itself). The revision and size are the ones Linux asks for at
 * its NVSP version (rndis_filter_query_device: >= 5 rev 3, 4 rev 2, else rev 1), which
 * rndis_query_hwcaps checks against what it can hold. */
static uint32_t offload_capabilities(const struct rndis_device_info *device, uint8_t *out)
{
    uint8_t revision;
    uint16_t size;
    if (device->nvsp_version >= 0x50000u) {
        revision = 3;
        size = RNDIS_OFFLOAD_SIZE_REV3;
    } else if (device->nvsp_version >= 0x40000u) {
        revision = 2;
        size = RNDIS_OFFLOAD_SIZE_REV2;
    } else {
        revision = 1;
        size = RNDIS_OFFLOAD_SIZE_REV1;
    }
    memset(out, 0, size);
    out[0] = RNDIS_NDIS_OBJECT_TYPE_OFFLOAD;
    out[1] = revision;
    memcpy(out + 2, &size, sizeof(size));
    return size;
}

static uint32_t handle_query(struct rndis_state *state, const struct rndis_device_info *device,
                             uint32_t request_id, uint32_t oid, uint8_t *reply,
                             const char **why)
{
    uint8_t info[RNDIS_OFFLOAD_SIZE_REV3];
    uint32_t n = 4, status = RNDIS_STATUS_SUCCESS, value = 0;
    state->queries++;
    switch (oid) {
    case RNDIS_OID_GEN_SUPPORTED_LIST:
        n = sizeof(supported_oids);
        memcpy(info, supported_oids, n);
        return complete_query(reply, request_id, status, info, n);
    case RNDIS_OID_GEN_HARDWARE_STATUS:   /* NdisHardwareStatusReady */
    case RNDIS_OID_GEN_MEDIA_SUPPORTED:   /* NdisMedium802_3 */
    case RNDIS_OID_GEN_MEDIA_IN_USE:
    case RNDIS_OID_GEN_MAC_OPTIONS:       /* no NDIS_MAC_OPTION_* flags */
        value = 0;
        break;
    case RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE: /* Linux takes it as the MTU */
        value = RNDIS_ETHERNET_MTU;
        break;
    case RNDIS_OID_GEN_MAXIMUM_TOTAL_SIZE:
        value = RNDIS_ETHERNET_MTU + ETHERNET_HEADER_SIZE;
        break;
    case RNDIS_OID_GEN_LINK_SPEED:
        value = device->link_speed;
        break;
    case RNDIS_OID_GEN_MEDIA_CONNECT_STATUS: /* NdisMediaStateConnected = 0 */
        value = device->connected ? 0 : 1;
        break;
    case RNDIS_OID_GEN_CURRENT_PACKET_FILTER:
        value = state->packet_filter;
        break;
    case RNDIS_OID_802_3_MAXIMUM_LIST_SIZE:
        value = MULTICAST_LIST_MAX;
        break;
    case RNDIS_OID_802_3_MULTICAST_LIST: /* the switch floods multicast: nothing kept */
        return complete_query(reply, request_id, status, NULL, 0);
    case RNDIS_OID_802_3_PERMANENT_ADDRESS:
    case RNDIS_OID_802_3_CURRENT_ADDRESS:
        return complete_query(reply, request_id, status, device->mac, 6);
    case RNDIS_OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES:
        n = offload_capabilities(device, info);
        return complete_query(reply, request_id, status, info, n);
    case RNDIS_OID_GEN_RECEIVE_SCALE_CAPABILITIES:
        /* One queue: Linux (rndis_filter_device_add) then stays on the primary channel. */
        return complete_query(reply, request_id, RNDIS_STATUS_NOT_SUPPORTED, NULL, 0);
    default:
        *why = "rndis: query of an unknown OID";
        return complete_query(reply, request_id, RNDIS_STATUS_INVALID_OID, NULL, 0);
    }
    memcpy(info, &value, sizeof(value));
    return complete_query(reply, request_id, status, info, n);
}

/* ---- SET --------------------------------------------------------------------------- */

/* OID_TCP_OFFLOAD_PARAMETERS (struct ndis_offload_params): we offer no offload, so every
 * field must be "no change" (0) or "disabled" (1); enabling anything is refused. */
static uint32_t set_offload(const uint8_t *info, uint32_t length, const char **why)
{
    uint16_t size;
    if (length < RNDIS_OFFLOAD_PARAMS_SIZE_V4) {
        *why = "rndis: offload parameters shorter than NDIS 6.0's";
        return RNDIS_STATUS_INVALID_LENGTH;
    }
    memcpy(&size, info + 2, sizeof(size));
    if (info[0] != RNDIS_NDIS_OBJECT_TYPE_DEFAULT || size < RNDIS_OFFLOAD_PARAMS_SIZE_V4 ||
        size > length) {
        *why = "rndis: offload parameters with a bad NDIS object header";
        return RNDIS_STATUS_INVALID_DATA;
    }
    /* Bytes 4..14: checksum (5), LSOv1, IPsecv1, LSOv2 (2), TCP connection (2); 20..21:
     * IPsecv2; 22..23: RSC (revision 3 only). */
    static const uint8_t fields[] = { 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 20, 21, 22, 23 };
    for (size_t i = 0; i < sizeof(fields); i++) {
        if (fields[i] < size && info[fields[i]] > 1) {
            *why = "rndis: offload parameters enable an offload we do not offer";
            return RNDIS_STATUS_NOT_SUPPORTED;
        }
    }
    return RNDIS_STATUS_SUCCESS;
}

/* OID_GEN_RNDIS_CONFIG_PARAMETER: a named (UTF-16) value. "NetworkAddress" would change the
 * MAC; the switch pins each port's MAC (Hyper-V's default: MAC spoofing off), so it is
 * refused. Other names are accepted and ignored. */
static uint32_t set_config_parameter(const uint8_t *info, uint32_t length, const char **why)
{
    if (length < CONFIG_PARAMETER_SIZE) {
        *why = "rndis: config parameter shorter than its header";
        return RNDIS_STATUS_INVALID_LENGTH;
    }
    uint32_t name_offset = get32(info), name_length = get32(info + 4);
    uint32_t type = get32(info + 8);
    uint32_t value_offset = get32(info + 12), value_length = get32(info + 16);
    if (name_offset < CONFIG_PARAMETER_SIZE || name_offset > length ||
        name_length > length - name_offset || value_offset > length ||
        value_length > length - value_offset || (name_length & 1) ||
        (type != 0 && type != 2)) {
        *why = "rndis: config parameter name or value outside its buffer";
        return RNDIS_STATUS_INVALID_DATA;
    }
    static const char network_address[] = "NetworkAddress";
    uint32_t chars = name_length / 2;
    if (chars == sizeof(network_address) - 1) {
        bool same = true;
        for (uint32_t i = 0; i < chars; i++) {
            uint16_t c;
            memcpy(&c, info + name_offset + 2 * i, sizeof(c));
            same = same && c == (uint8_t)network_address[i];
        }
        if (same) {
            *why = "rndis: the child asked to change its MAC address (refused)";
            return RNDIS_STATUS_NOT_SUPPORTED;
        }
    }
    return RNDIS_STATUS_SUCCESS;
}

static uint32_t handle_set(struct rndis_state *state, uint32_t oid, const uint8_t *info,
                           uint32_t length, const char **why)
{
    state->sets++;
    switch (oid) {
    case RNDIS_OID_GEN_CURRENT_PACKET_FILTER: {
        if (length < 4) {
            *why = "rndis: packet filter shorter than 4 bytes";
            return RNDIS_STATUS_INVALID_LENGTH;
        }
        uint32_t filter = get32(info);
        if (filter & ~RNDIS_FILTER_SUPPORTED) {
            *why = "rndis: packet filter with unsupported bits";
            return RNDIS_STATUS_NOT_SUPPORTED;
        }
        state->packet_filter = filter;
        return RNDIS_STATUS_SUCCESS;
    }
    case RNDIS_OID_TCP_OFFLOAD_PARAMETERS:
        return set_offload(info, length, why);
    case RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER:
        return set_config_parameter(info, length, why);
    case RNDIS_OID_802_3_MULTICAST_LIST:
        if (length % 6 || length / 6 > MULTICAST_LIST_MAX) {
            *why = "rndis: multicast list not whole addresses or too long";
            return RNDIS_STATUS_INVALID_LENGTH;
        }
        return RNDIS_STATUS_SUCCESS;
    default:
        *why = "rndis: set of an unknown or read-only OID";
        return RNDIS_STATUS_NOT_SUPPORTED;
    }
}

/* ---- dispatch ---------------------------------------------------------------------- */

/* The information buffer of a QUERY/SET: inside the message, not over its fields. */
static bool request_info(const uint8_t *message, uint32_t length, const uint8_t **info,
                         uint32_t *info_length)
{
    uint32_t n = get32(message + AT_REQUEST_INFO_LENGTH);
    uint32_t offset = get32(message + AT_REQUEST_INFO_OFFSET);
    *info = NULL;
    *info_length = n;
    if (n == 0)
        return true;
    if (offset < REQUEST_INFO_OFFSET_MIN || (uint64_t)AT_REQUEST_ID + offset + n > length)
        return false;
    *info = message + AT_REQUEST_ID + offset;
    return true;
}

enum rndis_control_result rndis_control_handle(struct rndis_state *state,
                                               const struct rndis_device_info *device,
                                               const uint8_t *message, uint32_t length,
                                               uint8_t *reply, uint32_t *reply_length,
                                               const char **why)
{
    uint32_t type, n;
    *why = NULL;
    *reply_length = 0;
    if (!rndis_message_header(message, length, &type, &n)) {
        *why = "rndis: control message shorter than its header or its msg_len";
        return RNDIS_NO_REPLY;
    }
    /* Every request but HALT and RESET starts with a RequestId that the completion must
     * echo; without one there is nothing to answer. */
    if (type != RNDIS_MSG_RESET && n < AT_REQUEST_ID + 4) {
        *why = "rndis: control message without a request id";
        return RNDIS_NO_REPLY;
    }
    uint32_t id = type == RNDIS_MSG_RESET ? 0 : get32(message + AT_REQUEST_ID);
    switch (type) {
    case RNDIS_MSG_INITIALIZE:
        if (n < INITIALIZE_SIZE) {
            *why = "rndis: INITIALIZE too short";
            *reply_length = complete_initialize(reply, id, RNDIS_STATUS_INVALID_LENGTH);
            return RNDIS_REPLY;
        }
        if (get32(message + 12) != 1) {
            *why = "rndis: INITIALIZE for a major version other than 1";
            *reply_length = complete_initialize(reply, id, RNDIS_STATUS_NOT_SUPPORTED);
            return RNDIS_REPLY;
        }
        state->initialized = true;
        state->packet_filter = 0;
        state->max_transfer_size = get32(message + 20);
        *reply_length = complete_initialize(reply, id, RNDIS_STATUS_SUCCESS);
        return RNDIS_REPLY;
    case RNDIS_MSG_HALT:
        state->initialized = false;
        state->packet_filter = 0;
        return RNDIS_NO_REPLY;
    case RNDIS_MSG_QUERY:
    case RNDIS_MSG_SET: {
        const uint8_t *info;
        uint32_t info_length, status;
        if (n < REQUEST_HEADER_SIZE || !request_info(message, n, &info, &info_length)) {
            *why = n < REQUEST_HEADER_SIZE ? "rndis: QUERY/SET too short"
                                           : "rndis: information buffer outside the message";
            status = n < REQUEST_HEADER_SIZE ? RNDIS_STATUS_INVALID_LENGTH
                                             : RNDIS_STATUS_INVALID_DATA;
        } else if (!state->initialized) {
            *why = "rndis: QUERY/SET before INITIALIZE";
            status = RNDIS_STATUS_FAILURE;
        } else if (type == RNDIS_MSG_QUERY) {
            *reply_length = handle_query(state, device, id, get32(message + AT_REQUEST_OID),
                                         reply, why);
            return RNDIS_REPLY;
        } else {
            status = handle_set(state, get32(message + AT_REQUEST_OID), info, info_length, why);
        }
        *reply_length = type == RNDIS_MSG_QUERY
                            ? complete_query(reply, id, status, NULL, 0)
                            : complete_short(reply, RNDIS_MSG_SET, id, status);
        return RNDIS_REPLY;
    }
    case RNDIS_MSG_RESET:
        /* REMOTE_NDIS_RESET_CMPLT: Status, AddressingReset = 0 (filter and addresses kept). */
        *reply_length = complete_short(reply, RNDIS_MSG_RESET, RNDIS_STATUS_SUCCESS, 0);
        return RNDIS_REPLY;
    case RNDIS_MSG_KEEPALIVE:
        *reply_length = complete_short(reply, RNDIS_MSG_KEEPALIVE, id, RNDIS_STATUS_SUCCESS);
        return RNDIS_REPLY;
    default:
        *why = "rndis: unexpected message type on the control path";
        return RNDIS_NO_REPLY;
    }
}

/* ---- data -------------------------------------------------------------------------- */

static void packet_info(uint32_t type, uint32_t value, struct rndis_packet *out)
{
    switch (type) {
    case RNDIS_PPI_CHECKSUM:
        /* Transmit view: bit 0 IPv4, 1 IPv6, 2 TCP, 3 UDP, 4 IP header checksum. */
        out->wants_checksum = (value & 0x1Cu) != 0;
        break;
    case RNDIS_PPI_LSO:
        out->wants_lso = value != 0;
        break;
    case RNDIS_PPI_VLAN: {
        /* struct ndis_pkt_8021q_info: priority bits 0-2, CFI bit 3, VLAN id bits 4-15. */
        uint16_t priority = (uint16_t)(value & 7u), vlan = (uint16_t)((value >> 4) & 0xFFFu);
        out->has_vlan = priority || vlan;
        out->vlan_tci = (uint16_t)(priority << 13 | vlan);
        break;
    }
    default: /* hash values, Linux's internal packet id: nothing to do */
        break;
    }
}

static bool parse_packet_info(const uint8_t *p, uint32_t length, struct rndis_packet *out,
                              const char **why)
{
    while (length > 0) {
        if (length < PPI_HEADER_SIZE) {
            *why = "rndis: per-packet info shorter than its header";
            return false;
        }
        uint32_t size = get32(p), type = get32(p + 4), offset = get32(p + 8);
        if (size < PPI_HEADER_SIZE || size > length || offset < PPI_HEADER_SIZE ||
            offset > size) {
            *why = "rndis: per-packet info size or offset out of range";
            return false;
        }
        /* Bit 31 marks Linux's internal types (RNDIS_PKTINFO_ID): not an NDIS request. */
        if (!(type & 0x80000000u) && size - offset >= 4)
            packet_info(type, get32(p + offset), out);
        p += size;
        length -= size;
    }
    return true;
}

bool rndis_packet_parse(const uint8_t *message, uint32_t length, struct rndis_packet *out,
                        uint32_t *consumed, const char **why)
{
    uint32_t type, n;
    memset(out, 0, sizeof(*out));
    *consumed = 0;
    if (!rndis_message_header(message, length, &type, &n) || type != RNDIS_MSG_PACKET) {
        *why = "rndis: not a PACKET_MSG, or its msg_len is outside the buffer";
        return false;
    }
    *consumed = n;
    if (n < RNDIS_PACKET_HEADER_SIZE) {
        *why = "rndis: PACKET_MSG shorter than its header";
        return false;
    }
    const uint8_t *body = message + RNDIS_HEADER_SIZE;
    uint32_t room = n - RNDIS_HEADER_SIZE;
    uint32_t data_offset = get32(body), data_length = get32(body + 4);
    uint32_t oob_offset = get32(body + 8), oob_length = get32(body + 12);
    uint32_t ppi_offset = get32(body + 20), ppi_length = get32(body + 24);
    if (data_offset < PACKET_BODY_SIZE || data_offset > room || data_length > room - data_offset) {
        *why = "rndis: PACKET_MSG data outside the message";
        return false;
    }
    if (oob_length && (oob_offset < PACKET_BODY_SIZE || oob_offset > room ||
                       oob_length > room - oob_offset)) {
        *why = "rndis: PACKET_MSG out-of-band data outside the message";
        return false;
    }
    if (ppi_length && (ppi_offset < PACKET_BODY_SIZE || ppi_offset > room ||
                       ppi_length > room - ppi_offset)) {
        *why = "rndis: PACKET_MSG per-packet info outside the message";
        return false;
    }
    if (data_length < ETHERNET_HEADER_SIZE || data_length > RNDIS_FRAME_MAX) {
        *why = "rndis: PACKET_MSG frame shorter than an Ethernet header or too long";
        return false;
    }
    if (ppi_length && !parse_packet_info(body + ppi_offset, ppi_length, out, why))
        return false;
    out->frame = body + data_offset;
    out->frame_length = data_length;
    return true;
}

uint32_t rndis_packet_build(uint8_t *out, uint32_t capacity, const uint8_t *frame,
                            uint32_t frame_length)
{
    if (frame_length == 0 || frame_length > RNDIS_FRAME_MAX ||
        capacity < RNDIS_PACKET_HEADER_SIZE + frame_length)
        return 0;
    memset(out, 0, RNDIS_PACKET_HEADER_SIZE);
    put32(out + AT_TYPE, RNDIS_MSG_PACKET);
    put32(out + AT_LENGTH, RNDIS_PACKET_HEADER_SIZE + frame_length);
    put32(out + 8, PACKET_BODY_SIZE); /* DataOffset: right after the header */
    put32(out + 12, frame_length);
    memcpy(out + RNDIS_PACKET_HEADER_SIZE, frame, frame_length);
    return RNDIS_PACKET_HEADER_SIZE + frame_length;
}

uint32_t rndis_indicate_status_build(uint8_t *out, uint32_t capacity, uint32_t status)
{
    const uint32_t size = 20;
    if (capacity < size)
        return 0;
    memset(out, 0, size);
    put32(out + AT_TYPE, RNDIS_MSG_INDICATE_STATUS);
    put32(out + AT_LENGTH, size);
    put32(out + 8, status);
    /* StatusBufferLength 0, StatusBufferOffset 0. */
    return size;
}
