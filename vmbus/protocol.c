#include "vmbus/protocol.h"

#include <stddef.h>
#include <string.h>

/* The wire layouts of Linux include/linux/hyperv.h (the sizes the guest posts). */
_Static_assert(sizeof(struct vmbus_message_header) == 8, "header");
_Static_assert(sizeof(struct vmbus_offer_message) == 196, "offer");
_Static_assert(offsetof(struct vmbus_offer_message, channel_flags) == 56, "offer flags");
_Static_assert(offsetof(struct vmbus_offer_message, sub_channel_index) == 180, "offer sub");
_Static_assert(offsetof(struct vmbus_offer_message, child_relid) == 184, "offer relid");
_Static_assert(offsetof(struct vmbus_offer_message, monitor_id) == 188, "offer monitor");
_Static_assert(offsetof(struct vmbus_offer_message, connection_id) == 192, "offer conn");
_Static_assert(sizeof(struct vmbus_relid_message) == 12, "relid");
_Static_assert(sizeof(struct vmbus_open_channel_message) == 148, "open");
_Static_assert(offsetof(struct vmbus_open_channel_message, user_data) == 28, "open data");
_Static_assert(sizeof(struct vmbus_open_result_message) == 20, "open result");
_Static_assert(sizeof(struct vmbus_gpadl_header_message) == 20, "gpadl header");
_Static_assert(sizeof(struct vmbus_gpadl_body_message) == 16, "gpadl body");
_Static_assert(sizeof(struct vmbus_gpadl_created_message) == 20, "gpadl created");
_Static_assert(sizeof(struct vmbus_gpadl_teardown_message) == 16, "gpadl teardown");
_Static_assert(sizeof(struct vmbus_gpadl_torndown_message) == 12, "gpadl torndown");
_Static_assert(sizeof(struct vmbus_initiate_contact_message) == 40, "initiate contact");
_Static_assert(sizeof(struct vmbus_version_response_message) == 16, "version response");
_Static_assert(sizeof(struct vmbus_modify_channel_message) == 16, "modify channel");
_Static_assert(sizeof(struct vmbus_modify_channel_response_message) == 16, "modify response");

/* Sizes of the messages a child may send; zero entries are host-to-guest or hv_sock
 * (TL_CONNECT: we offer no hv_sock channels, so a request is refused like an unknown type). */
static const uint32_t child_message_sizes[VMBUS_MSG_TYPE_LIMIT] = {
    [VMBUS_MSG_REQUESTOFFERS] = sizeof(struct vmbus_message_header),
    [VMBUS_MSG_OPENCHANNEL] = sizeof(struct vmbus_open_channel_message),
    [VMBUS_MSG_CLOSECHANNEL] = sizeof(struct vmbus_relid_message),
    [VMBUS_MSG_GPADL_HEADER] = sizeof(struct vmbus_gpadl_header_message),
    [VMBUS_MSG_GPADL_BODY] = sizeof(struct vmbus_gpadl_body_message),
    [VMBUS_MSG_GPADL_TEARDOWN] = sizeof(struct vmbus_gpadl_teardown_message),
    [VMBUS_MSG_RELID_RELEASED] = sizeof(struct vmbus_relid_message),
    [VMBUS_MSG_INITIATE_CONTACT] = sizeof(struct vmbus_initiate_contact_message),
    [VMBUS_MSG_UNLOAD] = sizeof(struct vmbus_message_header),
    [VMBUS_MSG_MODIFYCHANNEL] = sizeof(struct vmbus_modify_channel_message),
};

static const char *const message_names[VMBUS_MSG_TYPE_LIMIT] = {
    [VMBUS_MSG_OFFERCHANNEL] = "OFFERCHANNEL",
    [VMBUS_MSG_RESCIND_CHANNELOFFER] = "RESCIND_CHANNELOFFER",
    [VMBUS_MSG_REQUESTOFFERS] = "REQUESTOFFERS",
    [VMBUS_MSG_ALLOFFERS_DELIVERED] = "ALLOFFERS_DELIVERED",
    [VMBUS_MSG_OPENCHANNEL] = "OPENCHANNEL",
    [VMBUS_MSG_OPENCHANNEL_RESULT] = "OPENCHANNEL_RESULT",
    [VMBUS_MSG_CLOSECHANNEL] = "CLOSECHANNEL",
    [VMBUS_MSG_GPADL_HEADER] = "GPADL_HEADER",
    [VMBUS_MSG_GPADL_BODY] = "GPADL_BODY",
    [VMBUS_MSG_GPADL_CREATED] = "GPADL_CREATED",
    [VMBUS_MSG_GPADL_TEARDOWN] = "GPADL_TEARDOWN",
    [VMBUS_MSG_GPADL_TORNDOWN] = "GPADL_TORNDOWN",
    [VMBUS_MSG_RELID_RELEASED] = "RELID_RELEASED",
    [VMBUS_MSG_INITIATE_CONTACT] = "INITIATE_CONTACT",
    [VMBUS_MSG_VERSION_RESPONSE] = "VERSION_RESPONSE",
    [VMBUS_MSG_UNLOAD] = "UNLOAD",
    [VMBUS_MSG_UNLOAD_RESPONSE] = "UNLOAD_RESPONSE",
    [VMBUS_MSG_TL_CONNECT_REQUEST] = "TL_CONNECT_REQUEST",
    [VMBUS_MSG_MODIFYCHANNEL] = "MODIFYCHANNEL",
    [VMBUS_MSG_TL_CONNECT_RESULT] = "TL_CONNECT_RESULT",
    [VMBUS_MSG_MODIFYCHANNEL_RESPONSE] = "MODIFYCHANNEL_RESPONSE",
};

uint32_t vmbus_message_min_size(uint32_t type)
{
    return type < VMBUS_MSG_TYPE_LIMIT ? child_message_sizes[type] : 0;
}

const char *vmbus_message_name(uint32_t type)
{
    if (type < VMBUS_MSG_TYPE_LIMIT && message_names[type])
        return message_names[type];
    return "<unknown>";
}

bool vmbus_version_supported(uint32_t version)
{
    switch (version) {
    case VMBUS_VERSION_WIN10_V5_3:
    case VMBUS_VERSION_WIN10_V5_2:
    case VMBUS_VERSION_WIN10_V5_1:
    case VMBUS_VERSION_WIN10_V5:
    case VMBUS_VERSION_WIN10_V4_1:
    case VMBUS_VERSION_WIN10:
    case VMBUS_VERSION_WIN8_1:
    case VMBUS_VERSION_WIN8:
        return true;
    default:
        return false;
    }
}

/* The part of a GPADL message after its fixed fields is u64 PFNs (and, in the header,
 * the 8-byte range heads); Linux posts exactly whole entries. */
static bool parse_range_part(struct vmbus_message *m, uint32_t fixed, const char **why)
{
    uint32_t rest = m->size - fixed;
    if (rest % 8 != 0) {
        *why = "GPADL range data is not whole 8-byte entries";
        return false;
    }
    m->range_data = m->u.bytes + fixed;
    m->range_data_size = rest;
    return true;
}

bool vmbus_message_parse(const void *payload, uint32_t size, struct vmbus_message *out,
                         const char **why)
{
    memset(out, 0, sizeof(*out));
    if (size > VMBUS_MESSAGE_MAX) {
        *why = "longer than an HvPostMessage payload";
        return false;
    }
    if (size < sizeof(struct vmbus_message_header)) {
        *why = "shorter than the message header";
        return false;
    }
    /* Copy first: everything below reads the copy, never the child's buffer. */
    memcpy(out->u.bytes, payload, size);
    out->size = size;
    out->type = out->u.header.type;
    uint32_t min = vmbus_message_min_size(out->type);
    if (min == 0) {
        *why = "not a message type a child sends";
        return false;
    }
    if (size < min) {
        *why = "shorter than its type requires";
        return false;
    }
    if (out->type == VMBUS_MSG_GPADL_HEADER)
        return parse_range_part(out, sizeof(struct vmbus_gpadl_header_message), why);
    if (out->type == VMBUS_MSG_GPADL_BODY) {
        if (size == sizeof(struct vmbus_gpadl_body_message)) {
            *why = "GPADL_BODY without PFNs";
            return false;
        }
        return parse_range_part(out, sizeof(struct vmbus_gpadl_body_message), why);
    }
    return true;
}
