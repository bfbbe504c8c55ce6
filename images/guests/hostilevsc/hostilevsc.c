/*
 * hostilevsc: a hostile VMBus client (VSC) against the root's VMBus host (vmbus/ behind
 * root/vmbus_server.c; issue 5: "a hostile VSC ... gets errors or a closed channel; the root
 * and the other children run on"). Step by step it sends the host malformed control
 * messages, bad GPADLs, bad opens, and, on an open netvsp channel, corrupt ring indices,
 * oversized and malformed packets and floods, and checks that each gets exactly what the
 * host's rules (vmbus/connection.h, channel.h, gpadl.h, ring.h, vsp/netvsp.c) promise:
 *   - a refused control message that has no error reply in the protocol gets no reply:
 *     the next message from the host is the answer to a harmless "barrier" sent after it
 *     (a bad-version INITIATE_CONTACT while disconnected, a one-page GPADL created and torn
 *     down while connected);
 *   - a refused GPADL gets GPADL_CREATED with a failure status, a refused open
 *     OPENCHANNEL_RESULT with one, a refused contact VERSION_RESPONSE "not supported";
 *   - a corrupt ring or packet closes the channel on the host side without a message: the
 *     proof is that an OPENCHANNEL of the same channel (on a second, clean ring) then
 *     succeeds, where on an open channel it fails ("already open"). The open is posted only
 *     once the host has started the poll of the corrupt ring (it masks the ring's interrupt
 *     on entry, and a closing poll never unmasks), and the root handles a message only
 *     after that poll returned, so the order is certain;
 * and finally that the host still serves this child: UNLOAD, a fresh INITIATE_CONTACT, the
 * offers again, an open and an NVSP round trip. Each step prints
 *   hostilevsc: [n] <attempt>
 *   hostilevsc: [n] observed: <what came back>     (or "[n] FAIL ...")
 * and the guest ends with `hostilevsc: PASS` (exit 0) or `hostilevsc: FAIL` (exit 1).
 * Only meaningful under hvfw; one VP.
 */
#include <stdarg.h>
#include <string.h>

#include "images/guests/lib/guest.h"
#include "images/guests/lib/vmbus_client.h"
#include "kernel/format.h"

const char guest_name[] = "hostilevsc";

#define REPLY_TIMEOUT_MS 10000u
#define NOT_SUPPORTED_VERSION 0xFFFF0000u
/* Ring GPADLs: 8 pages per direction, a control page and 7 data pages (28 KiB). */
#define RING_PAGES 16u
#define RING_DOWNSTREAM_OFFSET 8u
/* vmbus/gpadl.h: GPADLs per connection and announced entries per connection. */
#define HOST_GPADL_MAX 128u
#define HOST_GPADL_PAGES_TOTAL 65536u
/* vmbus/ring.h: data pages per ring direction the host takes. */
#define HOST_RING_MAX_DATA_PAGES 512u
/* vsp/netvsp.h NETVSP_MAX_PACKET: the largest packet netvsp reads. */
#define NETVSP_MAX_PACKET 4096u
/* Entries (u64) a GPADL_HEADER and a GPADL_BODY carry in 240 bytes. */
#define HEADER_ENTRIES ((VMBUS_CLIENT_PAYLOAD_MAX - sizeof(struct vmbus_channel_gpadl_header)) / 8)
#define BODY_ENTRIES ((VMBUS_CLIENT_PAYLOAD_MAX - sizeof(struct vmbus_channel_gpadl_body)) / 8)

/* NVSP (Linux drivers/net/hyperv/hyperv_net.h). */
#define NVSP_MSG_TYPE_INIT 1u
#define NVSP_MSG_TYPE_INIT_COMPLETE 2u
#define NVSP_MSG1_TYPE_SEND_NDIS_VER 100u
#define NVSP_MSG4_TYPE_SWITCH_DATA_PATH 129u
#define NVSP_STAT_SUCCESS 1u
#define NVSP_PROTOCOL_VERSION_1 2u
#define NVSP_PROTOCOL_VERSION_61 0x60001u
#define NVSP_MESSAGE_SIZE 40u

/* f8615163-df3e-46c5-913f-f2d2f965ed0e (Linux HV_NIC_GUID), the wire layout. */
static const uint8_t netvsc_guid[16] = {0x63, 0x51, 0x61, 0xF8, 0x3E, 0xDF, 0xC5, 0x46,
                                        0x91, 0x3F, 0xF2, 0xD2, 0xF9, 0x65, 0xED, 0x0E};

/* ba6163d9-04a1-4d29-b605-72e2ffb1dc7f (Linux HV_SCSI_GUID), offered with scsi.NAME=. */
static const uint8_t storvsc_guid[16] = {0xD9, 0x63, 0x61, 0xBA, 0xA1, 0x04, 0x29, 0x4D,
                                         0xB6, 0x05, 0x72, 0xE2, 0xFF, 0xB1, 0xDC, 0x7F};

static uint8_t hypercall_page[4096] __attribute__((aligned(4096)));
static uint8_t message_page[4096] __attribute__((aligned(4096)));
static uint8_t event_page[4096] __attribute__((aligned(4096)));
static uint8_t input_page[4096] __attribute__((aligned(4096)));
static uint8_t scratch_page[4096] __attribute__((aligned(4096)));
/* Two ring GPADLs: the channel moves to the other one whenever the host closed it. */
static uint8_t ring_memory[2][RING_PAGES * 4096] __attribute__((aligned(4096)));
/* The storage channel's ring, when the child has one (a second channel). */
static uint8_t storage_ring_memory[RING_PAGES * 4096] __attribute__((aligned(4096)));

static struct vmbus_client client;
static uint32_t step;
static bool failed;
static bool connected;
static uint32_t ram_pages;
static uint32_t netvsp_relid, netvsp_connection;
static uint32_t storage_relid, storage_connection;
static uint32_t next_handle = 0x100;
static uint32_t next_open_id = 1;
static uint64_t next_transaction = 1;

/* The channel's current ring: which of ring_memory, its GPADL handles and both rings. */
static uint32_t ring_handle[2];
static uint32_t current_ring;
static struct vmbus_client_ring to_host, from_host;

/* ---- reporting --------------------------------------------------------------------- */

static void attempt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void observed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line "[step] <label><text>". */
static void report(bool next_step, const char *label, const char *fmt, va_list ap)
{
    char line[200];
    format_vsnprintf(line, sizeof(line), fmt, ap);
    if (next_step)
        step++;
    guest_printf("[%u] %s%s", step, label, line);
}

static void attempt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(true, "", fmt, ap);
    va_end(ap);
}

static void observed(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(false, "observed: ", fmt, ap);
    va_end(ap);
}

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(false, "FAIL ", fmt, ap);
    va_end(ap);
    failed = true;
}

static const char *message_name(uint32_t type)
{
    static const char *const names[] = {
        [CHANNELMSG_OFFERCHANNEL] = "OFFERCHANNEL",
        [CHANNELMSG_RESCIND_CHANNELOFFER] = "RESCIND_CHANNELOFFER",
        [CHANNELMSG_ALLOFFERS_DELIVERED] = "ALLOFFERS_DELIVERED",
        [CHANNELMSG_OPENCHANNEL_RESULT] = "OPENCHANNEL_RESULT",
        [CHANNELMSG_GPADL_CREATED] = "GPADL_CREATED",
        [CHANNELMSG_GPADL_TORNDOWN] = "GPADL_TORNDOWN",
        [CHANNELMSG_VERSION_RESPONSE] = "VERSION_RESPONSE",
        [CHANNELMSG_UNLOAD_RESPONSE] = "UNLOAD_RESPONSE",
        [CHANNELMSG_MODIFYCHANNEL_RESPONSE] = "MODIFYCHANNEL_RESPONSE",
    };
    if (type < sizeof(names) / sizeof(names[0]) && names[type])
        return names[type];
    return "an unexpected message type";
}

/* ---- control messages -------------------------------------------------------------- */

/* Posts a control message to connection 1 (type 1); the hypervisor must take it. */
static bool send(const void *message, uint32_t size)
{
    uint16_t status = vmbus_client_send(&client, message, size);
    if (status != VMBUS_CLIENT_STATUS_SUCCESS)
        fail("HvPostMessage of %u bytes: status 0x%x", size, status);
    return status == VMBUS_CLIENT_STATUS_SUCCESS;
}

static bool send_raw(uint32_t connection, uint32_t hv_type, const void *payload, uint32_t size)
{
    uint16_t status = vmbus_client_post(&client, connection, hv_type, payload, size);
    if (status != VMBUS_CLIENT_STATUS_SUCCESS)
        fail("HvPostMessage to connection %u: status 0x%x", connection, status);
    return status == VMBUS_CLIENT_STATUS_SUCCESS;
}

/* The next host message, which must be VMBus message `type`. */
static bool expect(uint32_t type, struct vmbus_client_message *m)
{
    if (!vmbus_client_receive(&client, m, REPLY_TIMEOUT_MS)) {
        fail("no %s from the host within %u ms", message_name(type), REPLY_TIMEOUT_MS);
        return false;
    }
    if (m->type != VMBUS_CLIENT_MESSAGE_TYPE || m->u.header.msgtype != type) {
        fail("expected %s, got message type %u, VMBus type %u (%s), %u bytes",
             message_name(type), m->type, m->u.header.msgtype,
             message_name(m->u.header.msgtype), m->size);
        return false;
    }
    return true;
}

static bool initiate_contact(uint32_t connection, uint32_t version, uint32_t vp, uint32_t sint,
                             struct vmbus_channel_version_response *response)
{
    struct vmbus_channel_initiate_contact c = {
        .header.msgtype = CHANNELMSG_INITIATE_CONTACT,
        .vmbus_version_requested = version,
        .target_vcpu = vp,
        .interrupt_page_or_msg_sint = sint,
    };
    struct vmbus_client_message m;
    if (!send_raw(connection, VMBUS_CLIENT_MESSAGE_TYPE, &c, sizeof(c)) ||
        !expect(CHANNELMSG_VERSION_RESPONSE, &m))
        return false;
    *response = m.u.version_response;
    return true;
}

static bool post_gpadl_header(uint32_t relid, uint32_t handle, uint16_t range_count,
                              uint16_t range_length, const uint64_t *entries, uint32_t count)
{
    uint8_t bytes[VMBUS_CLIENT_PAYLOAD_MAX];
    struct vmbus_channel_gpadl_header h = {
        .header.msgtype = CHANNELMSG_GPADL_HEADER,
        .child_relid = relid,
        .gpadl = handle,
        .range_buflen = range_length,
        .rangecount = range_count,
    };
    memcpy(bytes, &h, sizeof(h));
    memcpy(bytes + sizeof(h), entries, count * 8);
    return send(bytes, sizeof(h) + count * 8);
}

static bool post_gpadl_body(uint32_t handle, uint32_t number, const uint64_t *entries,
                            uint32_t count)
{
    uint8_t bytes[VMBUS_CLIENT_PAYLOAD_MAX];
    struct vmbus_channel_gpadl_body b = {
        .header.msgtype = CHANNELMSG_GPADL_BODY,
        .msgnumber = number,
        .gpadl = handle,
    };
    memcpy(bytes, &b, sizeof(b));
    memcpy(bytes + sizeof(b), entries, count * 8);
    return send(bytes, sizeof(b) + count * 8);
}

/* The whole range buffer `entries` as Linux sends it: a header, then bodies. */
static bool post_gpadl(uint32_t relid, uint32_t handle, uint16_t range_count,
                       const uint64_t *entries, uint32_t count)
{
    uint32_t first = count < HEADER_ENTRIES ? count : HEADER_ENTRIES;
    if (!post_gpadl_header(relid, handle, range_count, (uint16_t)(count * 8), entries, first))
        return false;
    for (uint32_t at = first, number = 1; at < count; number++) {
        uint32_t n = count - at < BODY_ENTRIES ? count - at : BODY_ENTRIES;
        if (!post_gpadl_body(handle, number, entries + at, n))
            return false;
        at += n;
    }
    return true;
}

/* The GPADL_CREATED for `handle` on `relid`, success or not as `success`. */
static bool expect_created(uint32_t relid, uint32_t handle, bool success)
{
    struct vmbus_client_message m;
    if (!expect(CHANNELMSG_GPADL_CREATED, &m))
        return false;
    const struct vmbus_channel_gpadl_created *c = &m.u.gpadl_created;
    if (c->gpadl != handle || c->child_relid != relid ||
        (c->creation_status == 0) != success) {
        fail("GPADL_CREATED relid %u handle 0x%x status 0x%x; expected relid %u handle 0x%x %s",
             c->child_relid, c->gpadl, c->creation_status, relid, handle,
             success ? "success" : "a failure status");
        return false;
    }
    observed("GPADL_CREATED handle 0x%x status 0x%x (%s)", handle, c->creation_status,
             success ? "success" : "refused");
    return true;
}

static bool teardown(uint32_t relid, uint32_t handle)
{
    struct vmbus_channel_gpadl_teardown t = {
        .header.msgtype = CHANNELMSG_GPADL_TEARDOWN,
        .child_relid = relid,
        .gpadl = handle,
    };
    return send(&t, sizeof(t));
}

static bool expect_torndown(uint32_t handle)
{
    struct vmbus_client_message m;
    if (!expect(CHANNELMSG_GPADL_TORNDOWN, &m))
        return false;
    if (m.u.gpadl_torndown.gpadl != handle) {
        fail("GPADL_TORNDOWN of 0x%x, expected 0x%x", m.u.gpadl_torndown.gpadl, handle);
        return false;
    }
    return true;
}

static uint32_t pfn_of(const void *address)
{
    return (uint32_t)(uintptr_t)address / VMBUS_CLIENT_PAGE_SIZE;
}

/* A good GPADL of `pages` pages from `memory` on `relid`: one page-aligned range. */
static bool create_gpadl(uint32_t relid, uint32_t handle, const void *memory, uint32_t pages)
{
    uint64_t entries[1 + RING_PAGES];
    entries[0] = (uint64_t)pages * VMBUS_CLIENT_PAGE_SIZE; /* byte_count, byte_offset 0 */
    for (uint32_t i = 0; i < pages; i++)
        entries[1 + i] = pfn_of(memory) + i;
    return post_gpadl(relid, handle, 1, entries, 1 + pages) &&
           expect_created(relid, handle, true);
}

/* Proves the host took everything sent before and answered none of it: while connected, a
 * one-page GPADL created and torn down; before contact, a contact for a version no host
 * speaks. Its answer must be the next message. */
static bool barrier(void)
{
    struct vmbus_client_message m;
    if (!connected) {
        struct vmbus_channel_version_response r;
        if (!initiate_contact(VMBUS_CLIENT_CONNECTION_ID_4, NOT_SUPPORTED_VERSION, 0,
                              VMBUS_CLIENT_SINT, &r))
            return false;
        if (r.version_supported) {
            fail("barrier: version 0x%x accepted", NOT_SUPPORTED_VERSION);
            return false;
        }
        return true;
    }
    uint32_t handle = next_handle++;
    uint64_t entries[2] = {VMBUS_CLIENT_PAGE_SIZE, pfn_of(scratch_page)};
    if (!post_gpadl(netvsp_relid, handle, 1, entries, 2) ||
        !expect(CHANNELMSG_GPADL_CREATED, &m))
        return false;
    if (m.u.gpadl_created.gpadl != handle || m.u.gpadl_created.creation_status != 0) {
        fail("barrier GPADL 0x%x: created 0x%x status 0x%x", handle, m.u.gpadl_created.gpadl,
             m.u.gpadl_created.creation_status);
        return false;
    }
    return teardown(netvsp_relid, handle) && expect_torndown(handle);
}

/* The message(s) sent just before were refused without a reply. */
static void expect_no_reply(void)
{
    if (barrier())
        observed("no reply (the next message answered the barrier)");
}

static void send_expect_no_reply(const void *message, uint32_t size)
{
    if (send(message, size))
        expect_no_reply();
}

/* ---- 1. malformed control messages ------------------------------------------------- */

static void malformed_messages(void)
{
    uint8_t bytes[VMBUS_CLIENT_PAYLOAD_MAX + 8];
    memset(bytes, 0, sizeof(bytes));
    struct vmbus_channel_message_header header = {0};

    attempt("a 4-byte message, shorter than the message header");
    bytes[0] = CHANNELMSG_REQUESTOFFERS;
    send_expect_no_reply(bytes, 4);

    static const uint32_t unknown[] = {0, 18, 25, 99, 0xFFFFFFFFu};
    for (uint32_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        attempt("message of unknown type %u (16 bytes)", unknown[i]);
        memset(bytes, 0, sizeof(bytes));
        memcpy(bytes, &unknown[i], 4);
        send_expect_no_reply(bytes, 16);
    }

    attempt("host-to-guest OFFERCHANNEL sent to the host (196 bytes)");
    struct vmbus_channel_offer_channel offer = {.header.msgtype = CHANNELMSG_OFFERCHANNEL,
                                                .child_relid = 1};
    send_expect_no_reply(&offer, sizeof(offer));

    attempt("TL_CONNECT_REQUEST (hv_sock, not offered) of 48 bytes");
    memset(bytes, 0, sizeof(bytes));
    bytes[0] = CHANNELMSG_TL_CONNECT_REQUEST;
    send_expect_no_reply(bytes, 48);

    attempt("REQUESTOFFERS before INITIATE_CONTACT");
    header.msgtype = CHANNELMSG_REQUESTOFFERS;
    send_expect_no_reply(&header, sizeof(header));

    attempt("OPENCHANNEL of relid 1 before INITIATE_CONTACT");
    struct vmbus_channel_open_channel open = {.header.msgtype = CHANNELMSG_OPENCHANNEL,
                                              .child_relid = 1, .openid = 77};
    send_expect_no_reply(&open, sizeof(open));

    attempt("GPADL_HEADER before INITIATE_CONTACT");
    uint64_t entries[2] = {VMBUS_CLIENT_PAGE_SIZE, pfn_of(scratch_page)};
    if (post_gpadl_header(1, 0x77, 1, 16, entries, 2))
        expect_no_reply();

    attempt("INITIATE_CONTACT of 16 bytes, shorter than its type (40)");
    struct vmbus_channel_initiate_contact contact = {
        .header.msgtype = CHANNELMSG_INITIATE_CONTACT,
        .vmbus_version_requested = VMBUS_CLIENT_VERSION_WIN10_V5_3,
        .interrupt_page_or_msg_sint = VMBUS_CLIENT_SINT,
    };
    if (send_raw(VMBUS_CLIENT_CONNECTION_ID_4, VMBUS_CLIENT_MESSAGE_TYPE, &contact, 16))
        expect_no_reply();

    attempt("a 241-byte payload, past HvPostMessage's 240");
    uint16_t status = vmbus_client_post_once(&client, VMBUS_CLIENT_CONNECTION_ID,
                                             VMBUS_CLIENT_MESSAGE_TYPE, bytes, 241);
    if (status == VMBUS_CLIENT_STATUS_INVALID_PARAMETER)
        observed("HvPostMessage status 0x%x (HV_STATUS_INVALID_PARAMETER)", status);
    else
        fail("HvPostMessage of 241 bytes: status 0x%x, expected 0x5", status);

    attempt("INITIATE_CONTACT 5.3 on connection 3, which is no VMBus message connection");
    if (send_raw(3, VMBUS_CLIENT_MESSAGE_TYPE, &contact, sizeof(contact)))
        expect_no_reply();

    attempt("INITIATE_CONTACT 5.3 as HvPostMessage type 2, not VMBus's type 1");
    if (send_raw(VMBUS_CLIENT_CONNECTION_ID_4, 2, &contact, sizeof(contact)))
        expect_no_reply();

    static const struct {
        uint32_t version, vp, sint;
        const char *what;
    } bad_contacts[] = {
        {0x00010000u, 0, VMBUS_CLIENT_SINT, "version 1.0, which no Linux proposes"},
        {0xFFFFFFFFu, 0, VMBUS_CLIENT_SINT, "version 65535.65535"},
        {VMBUS_CLIENT_VERSION_WIN10_V5_3, 7, VMBUS_CLIENT_SINT, "5.3 for VP 7 (there is 1)"},
        {VMBUS_CLIENT_VERSION_WIN10_V5_3, 0, 16, "5.3 with message SINT 16"},
    };
    for (uint32_t i = 0; i < sizeof(bad_contacts) / sizeof(bad_contacts[0]); i++) {
        attempt("INITIATE_CONTACT %s", bad_contacts[i].what);
        struct vmbus_channel_version_response r;
        if (!initiate_contact(VMBUS_CLIENT_CONNECTION_ID_4, bad_contacts[i].version,
                              bad_contacts[i].vp, bad_contacts[i].sint, &r))
            continue;
        if (r.version_supported)
            fail("the host accepted it");
        else
            observed("VERSION_RESPONSE version_supported=0");
    }
}

/* ---- 2. contact and offers --------------------------------------------------------- */

static bool contact_and_offers(uint32_t version, uint32_t connection)
{
    attempt("INITIATE_CONTACT %u.%u, VP 0, SINT %u, on connection %u", version >> 16,
            version & 0xFFFF, VMBUS_CLIENT_SINT, connection);
    struct vmbus_channel_version_response r;
    if (!initiate_contact(connection, version, 0, VMBUS_CLIENT_SINT, &r))
        return false;
    if (!r.version_supported || r.msg_conn_id != VMBUS_CLIENT_CONNECTION_ID) {
        fail("VERSION_RESPONSE supported=%u msg_conn_id=%u", r.version_supported,
             r.msg_conn_id);
        return false;
    }
    observed("VERSION_RESPONSE version_supported=1 msg_conn_id=%u", r.msg_conn_id);
    connected = true;

    attempt("REQUESTOFFERS");
    struct vmbus_channel_message_header request = {.msgtype = CHANNELMSG_REQUESTOFFERS};
    if (!send(&request, sizeof(request)))
        return false;
    uint32_t offers = 0;
    netvsp_relid = storage_relid = 0;
    for (;;) {
        struct vmbus_client_message m;
        if (!vmbus_client_receive(&client, &m, REPLY_TIMEOUT_MS)) {
            fail("no ALLOFFERS_DELIVERED within %u ms", REPLY_TIMEOUT_MS);
            return false;
        }
        if (m.u.header.msgtype == CHANNELMSG_ALLOFFERS_DELIVERED)
            break;
        if (m.u.header.msgtype != CHANNELMSG_OFFERCHANNEL) {
            fail("%s among the offers", message_name(m.u.header.msgtype));
            return false;
        }
        const struct vmbus_channel_offer_channel *o = &m.u.offer;
        const uint8_t *g = o->if_type;
        bool is_netvsc = memcmp(g, netvsc_guid, 16) == 0;
        bool is_storvsc = memcmp(g, storvsc_guid, 16) == 0;
        observed("offer relid %u connection 0x%x type "
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x%s",
                 o->child_relid, o->connection_id, g[3], g[2], g[1], g[0], g[5], g[4], g[7],
                 g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15],
                 is_netvsc ? " (network)" : is_storvsc ? " (storage)" : "");
        if (is_netvsc) {
            netvsp_relid = o->child_relid;
            netvsp_connection = o->connection_id;
        }
        if (is_storvsc) {
            storage_relid = o->child_relid;
            storage_connection = o->connection_id;
        }
        offers++;
    }
    observed("ALLOFFERS_DELIVERED after %u offers", offers);
    if (!netvsp_relid) {
        fail("no network channel offered");
        return false;
    }
    return true;
}

static void messages_after_contact(void)
{
    struct vmbus_channel_message_header header = {.msgtype = CHANNELMSG_REQUESTOFFERS};
    attempt("REQUESTOFFERS a second time");
    send_expect_no_reply(&header, sizeof(header));

    attempt("OPENCHANNEL of 20 bytes, shorter than its type (148)");
    struct vmbus_channel_open_channel open = {.header.msgtype = CHANNELMSG_OPENCHANNEL,
                                              .child_relid = netvsp_relid};
    send_expect_no_reply(&open, 20);

    attempt("host-to-guest UNLOAD_RESPONSE sent to the host");
    header.msgtype = CHANNELMSG_UNLOAD_RESPONSE;
    send_expect_no_reply(&header, sizeof(header));

    attempt("RELID_RELEASED of the network channel, which was never rescinded");
    struct vmbus_channel_relid_message released = {
        .header.msgtype = CHANNELMSG_RELID_RELEASED, .child_relid = netvsp_relid};
    send_expect_no_reply(&released, sizeof(released));

    attempt("CLOSECHANNEL of the network channel, which is not open");
    struct vmbus_channel_relid_message close = {.header.msgtype = CHANNELMSG_CLOSECHANNEL,
                                                .child_relid = netvsp_relid};
    send_expect_no_reply(&close, sizeof(close));

    attempt("MODIFYCHANNEL of the network channel, which is not open");
    struct vmbus_channel_modifychannel modify = {.header.msgtype = CHANNELMSG_MODIFYCHANNEL,
                                                 .child_relid = netvsp_relid};
    struct vmbus_client_message m;
    if (send(&modify, sizeof(modify)) && expect(CHANNELMSG_MODIFYCHANNEL_RESPONSE, &m)) {
        if (m.u.modify_response.status == 0)
            fail("MODIFYCHANNEL_RESPONSE success");
        else
            observed("MODIFYCHANNEL_RESPONSE status 0x%x", m.u.modify_response.status);
    }

    attempt("a flood of 64 messages of unknown type 99");
    uint32_t flood[4] = {99, 0, 0, 0};
    bool sent = true;
    for (uint32_t i = 0; i < 64 && sent; i++) {
        flood[2] = i;
        sent = send(flood, sizeof(flood));
    }
    if (sent)
        expect_no_reply();
}

/* A child that does not take its messages: the host's answers wait in the hypervisor's
 * queue for the SINT (15 behind the slot, hv/root_abi.h HVFW_CHILD_SINT_QUEUE), then in the
 * connection's outbox (64, vmbus/connection.h); the host retries them once the child frees
 * its slot. */
static void replies_not_taken(void)
{
    const uint32_t count = 40;
    attempt("%u OPENCHANNEL of relid 100 without taking the answers, then all of them",
            count);
    uint32_t first = next_open_id;
    for (uint32_t i = 0; i < count; i++) {
        struct vmbus_channel_open_channel o = {.header.msgtype = CHANNELMSG_OPENCHANNEL,
                                               .child_relid = 100,
                                               .openid = next_open_id++};
        if (!send(&o, sizeof(o)))
            return;
    }
    uint64_t start = vmbus_client_now();
    uint32_t worst = 0;
    for (uint32_t i = 0; i < count; i++) {
        struct vmbus_client_message m;
        uint64_t before = vmbus_client_now();
        if (!expect(CHANNELMSG_OPENCHANNEL_RESULT, &m))
            return;
        uint32_t waited = (uint32_t)((vmbus_client_now() - before) / VMBUS_CLIENT_UNITS_PER_MS);
        if (waited > worst)
            worst = waited;
        if (m.u.open_result.openid != first + i || m.u.open_result.status == 0) {
            fail("answer %u: open id %u status 0x%x", i, m.u.open_result.openid,
                 m.u.open_result.status);
            return;
        }
    }
    observed("%u OPENCHANNEL_RESULT in order in %u ms (longest wait %u ms)", count,
             (uint32_t)((vmbus_client_now() - start) / VMBUS_CLIENT_UNITS_PER_MS), worst);
}

/* ---- 3. bad GPADLs ----------------------------------------------------------------- */

/* A GPADL_HEADER that is complete by itself and must be refused with GPADL_CREATED. */
static void gpadl_refused(const char *what, uint32_t relid, uint16_t range_count,
                          uint16_t range_length, const uint64_t *entries, uint32_t count)
{
    uint32_t handle = next_handle++;
    attempt("GPADL_HEADER 0x%x: %s", handle, what);
    if (post_gpadl_header(relid, handle, range_count, range_length, entries, count))
        expect_created(relid, handle, false);
}

static void bad_gpadls(void)
{
    uint64_t page = pfn_of(scratch_page);
    uint64_t one_page[2] = {VMBUS_CLIENT_PAGE_SIZE, page};
    gpadl_refused("for relid 0", 0, 1, 16, one_page, 2);
    gpadl_refused("for relid 100, never offered", 100, 1, 16, one_page, 2);
    gpadl_refused("range count 0", netvsp_relid, 0, 16, one_page, 2);
    gpadl_refused("range count 2 in 16 bytes", netvsp_relid, 2, 16, one_page, 2);
    gpadl_refused("range count 65535 in 16 bytes", netvsp_relid, 0xFFFF, 16, one_page, 2);
    gpadl_refused("range buffer length 20, not whole entries", netvsp_relid, 1, 20, one_page, 2);

    uint64_t three_pages_one_pfn[2] = {3 * VMBUS_CLIENT_PAGE_SIZE, page};
    gpadl_refused("3 pages of bytes, 1 PFN", netvsp_relid, 1, 16, three_pages_one_pfn, 2);
    uint64_t overflowing[2] = {0x00000FFFFFFFFFFFull, page}; /* offset 0xFFF, 4 GiB - 1 */
    gpadl_refused("byte count 0xFFFFFFFF at offset 0xFFF (a page count past 2^20), 1 PFN",
                  netvsp_relid, 1, 16, overflowing, 2);
    uint64_t one_page_two_pfns[3] = {VMBUS_CLIENT_PAGE_SIZE, page, page};
    gpadl_refused("1 page of bytes, 2 PFNs", netvsp_relid, 1, 24, one_page_two_pfns, 3);
    uint64_t empty[2] = {0, page};
    gpadl_refused("a range of 0 bytes", netvsp_relid, 1, 16, empty, 2);
    uint64_t far_offset[2] = {(4096ull << 32) | 16, page};
    gpadl_refused("a range starting at byte 4096 of its page", netvsp_relid, 1, 16, far_offset,
                  2);

    static const struct {
        uint64_t pfn;
        const char *what;
    } outside[] = {
        {0, "the first page after its RAM"},
        {0xFEB00, "the test device window 0xFEB00000"},
        {0xFEE00, "the LAPIC 0xFEE00000"},
        {0x000FFFFFFFFFFFFFull, "PFN 2^52 - 1"},
        {0x8000000000000000ull, "PFN 2^63"},
    };
    for (uint32_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
        uint64_t entries[2] = {VMBUS_CLIENT_PAGE_SIZE, i == 0 ? ram_pages : outside[i].pfn};
        char what[80];
        format_snprintf(what, sizeof(what), "a PFN outside its RAM: %s", outside[i].what);
        gpadl_refused(what, netvsp_relid, 1, 16, entries, 2);
    }

    attempt("GPADL_BODY for handle 0x7777, which does not exist");
    if (post_gpadl_body(0x7777, 1, one_page + 1, 1))
        expect_no_reply();

    uint32_t handle = next_handle++;
    attempt("GPADL 0x%x: 2 pages announced (24 bytes), a body with 2 PFNs for the last one",
            handle);
    uint64_t two_pages[3] = {2 * VMBUS_CLIENT_PAGE_SIZE, page, page};
    if (post_gpadl_header(netvsp_relid, handle, 1, 24, two_pages, 2) &&
        post_gpadl_body(handle, 1, two_pages + 1, 2))
        expect_created(netvsp_relid, handle, false);
    attempt("GPADL_TEARDOWN of 0x%x, which the host forgot when it refused it", handle);
    if (teardown(netvsp_relid, handle))
        expect_no_reply();

    attempt("GPADL_HEADER whose range part is 12 bytes (not whole u64s)");
    {
        uint8_t bytes[32] = {0};
        struct vmbus_channel_gpadl_header h = {.header.msgtype = CHANNELMSG_GPADL_HEADER,
                                               .child_relid = netvsp_relid,
                                               .gpadl = next_handle++,
                                               .range_buflen = 16,
                                               .rangecount = 1};
        memcpy(bytes, &h, sizeof(h));
        memcpy(bytes + sizeof(h), one_page, 12);
        send_expect_no_reply(bytes, sizeof(h) + 12);
    }

    attempt("GPADL_BODY of 16 bytes, without PFNs");
    {
        struct vmbus_channel_gpadl_body b = {.header.msgtype = CHANNELMSG_GPADL_BODY,
                                             .msgnumber = 1, .gpadl = next_handle};
        send_expect_no_reply(&b, sizeof(b));
    }

    handle = next_handle++;
    attempt("GPADL 0x%x created, then a second GPADL_HEADER with the same handle", handle);
    if (create_gpadl(netvsp_relid, handle, scratch_page, 1) &&
        post_gpadl_header(netvsp_relid, handle, 1, 16, one_page, 2))
        expect_created(netvsp_relid, handle, false);
    attempt("GPADL_BODY for the complete GPADL 0x%x", handle);
    if (post_gpadl_body(handle, 1, one_page + 1, 1))
        expect_no_reply();
    attempt("GPADL_TEARDOWN of 0x%x naming relid %u, not its channel", handle, netvsp_relid + 1);
    if (teardown(netvsp_relid + 1, handle))
        expect_no_reply();
    attempt("GPADL_TEARDOWN of 0x%x: the first one is intact", handle);
    if (teardown(netvsp_relid, handle) && expect_torndown(handle))
        observed("GPADL_TORNDOWN 0x%x", handle);

    handle = next_handle++;
    attempt("GPADL 0x%x in progress (header of 2 pages with 1 PFN), a duplicate header, then "
            "the body", handle);
    if (post_gpadl_header(netvsp_relid, handle, 1, 24, two_pages, 2) &&
        post_gpadl_header(netvsp_relid, handle, 1, 16, one_page, 2) &&
        expect_created(netvsp_relid, handle, false) &&
        post_gpadl_body(handle, 1, two_pages + 2, 1))
        expect_created(netvsp_relid, handle, true);
    if (teardown(netvsp_relid, handle))
        expect_torndown(handle);

    attempt("GPADL_TEARDOWN of handle 0x7777, which does not exist");
    if (teardown(netvsp_relid, 0x7777))
        expect_no_reply();

    /* Too many GPADLs: headers that announce one page and send none stay in progress and
     * get no answer until the table is full. */
    uint32_t first = next_handle;
    next_handle += HOST_GPADL_MAX + 1;
    attempt("%u GPADLs in progress (0x%x..0x%x), then one more", HOST_GPADL_MAX, first,
            first + HOST_GPADL_MAX - 1);
    bool sent = true;
    for (uint32_t i = 0; i < HOST_GPADL_MAX && sent; i++)
        sent = post_gpadl_header(netvsp_relid, first + i, 1, 16, NULL, 0);
    if (sent && post_gpadl_header(netvsp_relid, first + HOST_GPADL_MAX, 1, 16, NULL, 0))
        expect_created(netvsp_relid, first + HOST_GPADL_MAX, false);
    attempt("GPADL_TEARDOWN of the %u GPADLs in progress", HOST_GPADL_MAX);
    uint32_t torn = 0;
    for (uint32_t i = 0; i < HOST_GPADL_MAX; i++)
        if (teardown(netvsp_relid, first + i) && expect_torndown(first + i))
            torn++;
    observed("%u GPADL_TORNDOWN", torn);

    /* Too many pages: 8 GPADLs announcing 8191 entries each (the u16 length's bound) stay in
     * progress; a ninth of 10 entries passes the connection's 65536. */
    first = next_handle;
    next_handle += 9;
    const uint32_t big = 65528;
    attempt("8 GPADLs in progress announcing %u entries each, then one of 10 entries "
            "(%u in all, past %u)", big / 8, 8 * (big / 8) + 10, HOST_GPADL_PAGES_TOTAL);
    sent = true;
    for (uint32_t i = 0; i < 8 && sent; i++)
        sent = post_gpadl_header(netvsp_relid, first + i, 1, (uint16_t)big, NULL, 0);
    if (sent && post_gpadl_header(netvsp_relid, first + 8, 1, 80, NULL, 0))
        expect_created(netvsp_relid, first + 8, false);
    torn = 0;
    for (uint32_t i = 0; i < 8; i++)
        if (teardown(netvsp_relid, first + i) && expect_torndown(first + i))
            torn++;
    observed("the 8 torn down (%u GPADL_TORNDOWN)", torn);
}

/* ---- 4. opens ---------------------------------------------------------------------- */

/* OPENCHANNEL and its OPENCHANNEL_RESULT, which must name the same relid and open id. */
static bool post_open(uint32_t relid, uint32_t handle, uint32_t offset, uint32_t vp,
                      uint32_t *status)
{
    uint32_t id = next_open_id++;
    struct vmbus_channel_open_channel o = {
        .header.msgtype = CHANNELMSG_OPENCHANNEL,
        .child_relid = relid,
        .openid = id,
        .ringbuffer_gpadlhandle = handle,
        .target_vp = vp,
        .downstream_ringbuffer_pageoffset = offset,
    };
    struct vmbus_client_message m;
    if (!send(&o, sizeof(o)) || !expect(CHANNELMSG_OPENCHANNEL_RESULT, &m))
        return false;
    const struct vmbus_channel_open_result *r = &m.u.open_result;
    if (r->child_relid != relid || r->openid != id) {
        fail("OPENCHANNEL_RESULT for relid %u open id %u; expected relid %u id %u",
             r->child_relid, r->openid, relid, id);
        return false;
    }
    *status = r->status;
    return true;
}

static bool open_channel(uint32_t relid, uint32_t handle, uint32_t offset, uint32_t vp,
                         bool success)
{
    uint32_t status;
    if (!post_open(relid, handle, offset, vp, &status))
        return false;
    if ((status == 0) != success) {
        fail("OPENCHANNEL_RESULT status 0x%x; expected %s", status,
             success ? "success" : "a failure status");
        return false;
    }
    observed("OPENCHANNEL_RESULT status 0x%x (%s)", status, success ? "open" : "refused");
    return true;
}

static void use_ring(uint32_t which)
{
    current_ring = which;
    vmbus_client_ring_attach(&to_host, ring_memory[which], RING_DOWNSTREAM_OFFSET);
    vmbus_client_ring_attach(&from_host, ring_memory[which] + RING_DOWNSTREAM_OFFSET * 4096,
                             RING_PAGES - RING_DOWNSTREAM_OFFSET);
}

static void bad_opens(void)
{
    uint32_t good = ring_handle[0];
    attempt("OPENCHANNEL of relid 100, never offered");
    open_channel(100, good, RING_DOWNSTREAM_OFFSET, 0, false);
    attempt("OPENCHANNEL of relid 0");
    open_channel(0, good, RING_DOWNSTREAM_OFFSET, 0, false);
    attempt("OPENCHANNEL with ring GPADL 0x7777, which does not exist");
    open_channel(netvsp_relid, 0x7777, RING_DOWNSTREAM_OFFSET, 0, false);
    attempt("OPENCHANNEL for VP 7 (there is 1)");
    open_channel(netvsp_relid, good, RING_DOWNSTREAM_OFFSET, 7, false);

    static const uint32_t offsets[] = {0, 1, RING_PAGES - 1, RING_PAGES, RING_PAGES + 1,
                                       0xFFFFFFFFu};
    for (uint32_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        attempt("OPENCHANNEL with downstream ring offset %u of a %u-page GPADL", offsets[i],
                RING_PAGES);
        open_channel(netvsp_relid, good, offsets[i], 0, false);
    }

    uint32_t handle = next_handle++;
    attempt("OPENCHANNEL on GPADL 0x%x, still in progress", handle);
    uint64_t two_pages[2] = {2 * VMBUS_CLIENT_PAGE_SIZE, pfn_of(scratch_page)};
    if (post_gpadl_header(netvsp_relid, handle, 1, 24, two_pages, 2))
        open_channel(netvsp_relid, handle, 1, 0, false);
    if (teardown(netvsp_relid, handle))
        expect_torndown(handle);

    /* Ring GPADLs that are valid GPADLs but not whole pages. */
    static const struct {
        uint32_t offset, bytes;
        const char *what;
    } unaligned[] = {
        {8, RING_PAGES * 4096 - 8, "starting at byte 8 of its first page"},
        {0, RING_PAGES * 4096 - 8, "8 bytes short of whole pages"},
    };
    for (uint32_t i = 0; i < 2; i++) {
        uint64_t entries[1 + RING_PAGES];
        entries[0] = ((uint64_t)unaligned[i].offset << 32) | unaligned[i].bytes;
        for (uint32_t p = 0; p < RING_PAGES; p++)
            entries[1 + p] = pfn_of(ring_memory[1]) + p;
        handle = next_handle++;
        attempt("OPENCHANNEL on a ring GPADL 0x%x %s", handle, unaligned[i].what);
        if (post_gpadl(netvsp_relid, handle, 1, entries, 1 + RING_PAGES) &&
            expect_created(netvsp_relid, handle, true))
            open_channel(netvsp_relid, handle, RING_DOWNSTREAM_OFFSET, 0, false);
        if (teardown(netvsp_relid, handle))
            expect_torndown(handle);
    }

    /* More data pages than the host maps per direction: the same page over and over. */
    static uint64_t many[1 + 2 * (HOST_RING_MAX_DATA_PAGES + 2)];
    uint32_t pages = 2 * (HOST_RING_MAX_DATA_PAGES + 2);
    many[0] = (uint64_t)pages * VMBUS_CLIENT_PAGE_SIZE;
    for (uint32_t p = 0; p < pages; p++)
        many[1 + p] = pfn_of(scratch_page);
    handle = next_handle++;
    attempt("OPENCHANNEL on a %u-page ring GPADL 0x%x (%u data pages each way, past %u)", pages,
            handle, pages / 2 - 1, HOST_RING_MAX_DATA_PAGES);
    if (post_gpadl(netvsp_relid, handle, 1, many, 1 + pages) &&
        expect_created(netvsp_relid, handle, true))
        open_channel(netvsp_relid, handle, pages / 2, 0, false);
    if (teardown(netvsp_relid, handle))
        expect_torndown(handle);

    /* The host starts at its own index as the control page holds it (vmbus/ring.h). */
    use_ring(0);
    attempt("OPENCHANNEL with the host's read index of the inbound ring at 12 (unaligned)");
    to_host.control->read_index = 12;
    open_channel(netvsp_relid, good, RING_DOWNSTREAM_OFFSET, 0, false);
    to_host.control->read_index = 0;
    attempt("OPENCHANNEL with the host's write index of the outbound ring at %u (its size)",
            from_host.data_size);
    from_host.control->write_index = from_host.data_size;
    open_channel(netvsp_relid, good, RING_DOWNSTREAM_OFFSET, 0, false);
    from_host.control->write_index = 0;
}

/* ---- 5. the data path ---------------------------------------------------------------- */

static bool kick(void)
{
    uint16_t status = vmbus_client_signal(&client, netvsp_connection);
    if (status != VMBUS_CLIENT_STATUS_SUCCESS)
        fail("HvSignalEvent 0x%x: status 0x%x", netvsp_connection, status);
    return status == VMBUS_CLIENT_STATUS_SUCCESS;
}

/* Sends an NVSP INIT and takes the host's completion: the channel is open and served. */
static bool nvsp_round_trip_with(void (*before_kick)(void))
{
    uint32_t init[NVSP_MESSAGE_SIZE / 4] = {NVSP_MSG_TYPE_INIT, NVSP_PROTOCOL_VERSION_1,
                                            NVSP_PROTOCOL_VERSION_61};
    uint64_t id = next_transaction++;
    if (!vmbus_client_ring_send(&to_host, VM_PKT_DATA_INBAND,
                                VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED, id, init,
                                sizeof(init))) {
        fail("no room for NVSP INIT in the ring");
        return false;
    }
    if (before_kick)
        before_kick();
    if (!kick())
        return false;
    uint64_t give_up = vmbus_client_now() + REPLY_TIMEOUT_MS * VMBUS_CLIENT_UNITS_PER_MS;
    struct vmpacket_descriptor d;
    uint32_t reply[NVSP_MESSAGE_SIZE / 4], length;
    const char *why = NULL;
    while (!vmbus_client_ring_receive(&from_host, &d, reply, sizeof(reply), &length, &why)) {
        if (why) {
            fail("the host's ring: %s", why);
            return false;
        }
        if (vmbus_client_now() > give_up) {
            fail("no completion of NVSP INIT within %u ms", REPLY_TIMEOUT_MS);
            return false;
        }
        __asm__ volatile("pause");
    }
    if (d.type != VM_PKT_COMP || d.trans_id != id || length < 16 ||
        reply[0] != NVSP_MSG_TYPE_INIT_COMPLETE || reply[3] != NVSP_STAT_SUCCESS) {
        fail("NVSP INIT answered by packet type %u id %llu, %u bytes, NVSP type %u status %u",
             d.type, (unsigned long long)d.trans_id, length, reply[0], reply[3]);
        return false;
    }
    observed("NVSP INIT completed: version 0x%x, status %u", reply[1], reply[3]);
    return true;
}

static bool nvsp_round_trip(void)
{
    return nvsp_round_trip_with(NULL);
}

/* The host keeps its own read index of the inbound ring and only publishes it
 * (vmbus/ring.h): what the child writes there is overwritten, not followed. */
static void scribble_host_read_index(void)
{
    to_host.control->read_index = 12344;
}

/* Waits until the host has read everything written and unmasked the ring again: the poll
 * ran to its end with the channel open. */
static bool wait_consumed(uint32_t timeout_ms)
{
    uint64_t give_up = vmbus_client_now() + timeout_ms * VMBUS_CLIENT_UNITS_PER_MS;
    while (!(to_host.control->read_index == to_host.control->write_index &&
             to_host.control->interrupt_mask == 0)) {
        if (vmbus_client_now() > give_up)
            return false;
        __asm__ volatile("pause");
    }
    return true;
}

/* Waits until the host has begun polling the ring (it masks it first). */
static bool wait_polled(void)
{
    uint64_t give_up = vmbus_client_now() + REPLY_TIMEOUT_MS * VMBUS_CLIENT_UNITS_PER_MS;
    while (to_host.control->interrupt_mask == 0) {
        if (vmbus_client_now() > give_up) {
            fail("the host did not poll the ring within %u ms", REPLY_TIMEOUT_MS);
            return false;
        }
        __asm__ volatile("pause");
    }
    return true;
}

/* The channel is open on the current ring; open it on the other, clean one, which succeeds
 * only if the host closed it. */
static bool reopen_on_other_ring(bool closed_expected)
{
    uint32_t other = 1 - current_ring;
    memset(ring_memory[other], 0, sizeof(ring_memory[other]));
    if (!open_channel(netvsp_relid, ring_handle[other], RING_DOWNSTREAM_OFFSET, 0,
                      closed_expected))
        return false;
    if (closed_expected)
        use_ring(other);
    return true;
}

/* A corruption of the open channel that the host must answer by closing it: written by
 * `corrupt`, one kick, then the proof (a reopen on the other ring) and a round trip. */
static void closes_channel(const char *what, void (*corrupt)(void))
{
    attempt("%s", what);
    corrupt();
    if (!kick() || !wait_polled())
        return;
    if (reopen_on_other_ring(true)) {
        observed("the host closed the channel; reopened on ring %u", current_ring);
        nvsp_round_trip();
    }
}

/* A descriptor (and what follows it) written raw at the write index and published. */
static void put_packet(uint16_t type, uint16_t offset8, uint16_t len8, const void *body,
                       uint32_t body_length, uint32_t publish_bytes)
{
    uint8_t bytes[64];
    struct vmpacket_descriptor d = {.type = type, .offset8 = offset8, .len8 = len8,
                                    .flags = VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED,
                                    .trans_id = next_transaction++};
    memset(bytes, 0, sizeof(bytes));
    memcpy(bytes, &d, sizeof(d));
    memcpy(bytes + sizeof(d), body, body_length);
    uint32_t start = to_host.control->write_index;
    vmbus_client_ring_put(&to_host, start, bytes, sizeof(d) + body_length);
    vmbus_client_ring_publish(&to_host, (start + publish_bytes) % to_host.data_size);
}

static const uint32_t init_message[NVSP_MESSAGE_SIZE / 4] = {
    NVSP_MSG_TYPE_INIT, NVSP_PROTOCOL_VERSION_1, NVSP_PROTOCOL_VERSION_61};

static void write_index_past_ring(void)
{
    vmbus_client_ring_publish(&to_host, to_host.data_size);
}

static void write_index_unaligned(void)
{
    vmbus_client_ring_publish(&to_host, 4);
}

static void write_index_short(void)
{
    put_packet(VM_PKT_DATA_INBAND, 2, 7, init_message, sizeof(init_message), 8);
}

static void host_read_index_past_ring(void)
{
    from_host.control->read_index = from_host.data_size + 4096;
    put_packet(VM_PKT_DATA_INBAND, 2, 7, init_message, sizeof(init_message), 64);
}

static void host_read_index_unaligned(void)
{
    from_host.control->read_index = 4;
    put_packet(VM_PKT_DATA_INBAND, 2, 7, init_message, sizeof(init_message), 64);
}

static void oversized_packet(void)
{
    /* 4104 bytes: fits the 28 KiB ring, past netvsp's 4096 (the rest is zero). */
    uint16_t len8 = (NETVSP_MAX_PACKET + 8) / 8;
    put_packet(VM_PKT_DATA_INBAND, 2, len8, init_message, sizeof(init_message),
               len8 * 8u + VMBUS_CLIENT_PACKET_TRAILER);
}

static void length_past_ring(void)
{
    put_packet(VM_PKT_DATA_INBAND, 2, 0xFFFF, init_message, sizeof(init_message), 64);
}

static void offset_past_length(void)
{
    put_packet(VM_PKT_DATA_INBAND, 9, 7, init_message, sizeof(init_message), 64);
}

static void offset_inside_descriptor(void)
{
    put_packet(VM_PKT_DATA_INBAND, 1, 7, init_message, sizeof(init_message), 64);
}

static void unknown_packet_type(void)
{
    put_packet(0x55, 2, 7, init_message, sizeof(init_message), 64);
}

static void gpa_direct_without_ranges(void)
{
    /* GPA_DIRECT: u32 reserved, u32 range count (0), then the NVSP message at offset 24. */
    uint32_t body[2 + NVSP_MESSAGE_SIZE / 4] = {0, 0, NVSP_MSG_TYPE_INIT};
    put_packet(VM_PKT_DATA_USING_GPA_DIRECT, 3, 8, body, 48, 72);
}

/* Writes packets of `length` bytes of `message` until `count` are in or the ring is full;
 * returns how many it wrote (published once). */
static uint32_t fill(const void *message, uint32_t length, uint16_t flags, uint32_t count)
{
    uint32_t total = (uint32_t)((sizeof(struct vmpacket_descriptor) + length + 7) & ~7u);
    uint8_t packet[64];
    uint32_t at = to_host.control->write_index, written = 0;
    while (written < count) {
        uint32_t used = at >= to_host.control->read_index
                            ? at - to_host.control->read_index
                            : to_host.data_size - to_host.control->read_index + at;
        if (to_host.data_size - used <= total + VMBUS_CLIENT_PACKET_TRAILER)
            break;
        struct vmpacket_descriptor d = {.type = VM_PKT_DATA_INBAND, .offset8 = 2,
                                        .len8 = (uint16_t)(total / 8), .flags = flags,
                                        .trans_id = next_transaction++};
        memset(packet, 0, sizeof(packet));
        memcpy(packet, &d, sizeof(d));
        memcpy(packet + sizeof(d), message, length);
        at = vmbus_client_ring_put(&to_host, at, packet, total);
        written++;
    }
    vmbus_client_ring_publish(&to_host, at);
    return written;
}

static void floods(void)
{
    attempt("a flood of 1000 kicks of the open channel and 1000 of connection 0x%x (no "
            "channel)", netvsp_connection + 15);
    uint32_t refused = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        if (vmbus_client_signal(&client, netvsp_connection) != VMBUS_CLIENT_STATUS_SUCCESS)
            refused++;
        if (vmbus_client_signal(&client, netvsp_connection + 15) != VMBUS_CLIENT_STATUS_SUCCESS)
            refused++;
    }
    if (refused)
        fail("%u kicks refused", refused);
    nvsp_round_trip();

    attempt("a flood of NVSP SEND_NDIS_VER packets, as many as the ring holds, one kick");
    uint32_t ndis[3] = {NVSP_MSG1_TYPE_SEND_NDIS_VER, 6, 30};
    uint32_t written = fill(ndis, sizeof(ndis), 0, 100000);
    if (kick()) {
        if (wait_consumed(REPLY_TIMEOUT_MS)) {
            observed("all %u packets read, the channel still open", written);
            nvsp_round_trip();
        } else {
            fail("the host did not read the %u packets within %u ms (read %u write %u mask "
                 "%u)", written, REPLY_TIMEOUT_MS, to_host.control->read_index,
                 to_host.control->write_index, to_host.control->interrupt_mask);
        }
    }

    /* Requests that each want a completion, never read: the host's ring fills, then its
     * queue of pending completions (NETVSP_PENDING_COMPLETIONS), then it closes. */
    attempt("a flood of NVSP SWITCH_DATA_PATH requests wanting completions, none read, in "
            "batches of 100");
    uint32_t switch_path[2] = {NVSP_MSG4_TYPE_SWITCH_DATA_PATH, 0};
    for (uint32_t batch = 1; batch <= 30; batch++) {
        written = fill(switch_path, sizeof(switch_path),
                       VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED, 100);
        if (!kick())
            return;
        /* A batch the host reads to its end leaves the channel open; one it stops in
         * leaves the ring masked: then a reopen on the other ring must succeed (a poll
         * still running would make it fail "already open": try again). */
        for (uint32_t tries = 0; !wait_consumed(200); tries++) {
            if (tries == 50) {
                fail("the host neither read nor closed batch %u", batch);
                return;
            }
            if (to_host.control->interrupt_mask == 0)
                continue; /* not polled yet */
            uint32_t status;
            memset(ring_memory[1 - current_ring], 0, sizeof(ring_memory[0]));
            if (!post_open(netvsp_relid, ring_handle[1 - current_ring], RING_DOWNSTREAM_OFFSET,
                           0, &status))
                return;
            if (status == 0) {
                use_ring(1 - current_ring);
                observed("the host closed the channel in batch %u (requests %u..%u); "
                         "reopened on ring %u", batch, (batch - 1) * 100 + 1,
                         (batch - 1) * 100 + written, current_ring);
                nvsp_round_trip();
                return;
            }
        }
    }
    fail("3000 requests whose completions were never read, and the channel stayed open");
}

static void data_path(void)
{
    use_ring(0);
    memset(ring_memory, 0, sizeof(ring_memory));
    attempt("OPENCHANNEL of the network channel on ring GPADL 0x%x (%u pages, downstream at "
            "%u)", ring_handle[0], RING_PAGES, RING_DOWNSTREAM_OFFSET);
    if (!open_channel(netvsp_relid, ring_handle[0], RING_DOWNSTREAM_OFFSET, 0, true))
        return;
    attempt("NVSP INIT on the open channel");
    if (!nvsp_round_trip())
        return;
    uint64_t give_up = vmbus_client_now() + REPLY_TIMEOUT_MS * VMBUS_CLIENT_UNITS_PER_MS;
    bool flagged;
    while (!(flagged = vmbus_client_event_take(&client, netvsp_relid)) &&
           vmbus_client_now() < give_up)
        __asm__ volatile("pause");
    if (flagged)
        observed("the host signalled event flag %u of SINT %u", netvsp_relid,
                 VMBUS_CLIENT_SINT);
    else
        fail("no event flag %u for the completion", netvsp_relid);

    attempt("OPENCHANNEL of the open channel again (ring GPADL 0x%x)", ring_handle[1]);
    if (reopen_on_other_ring(false))
        nvsp_round_trip();

    struct vmbus_channel_modifychannel modify = {.header.msgtype = CHANNELMSG_MODIFYCHANNEL,
                                                 .child_relid = netvsp_relid};
    struct vmbus_client_message m;
    for (uint32_t vp = 0; vp <= 9; vp += 9) {
        attempt("MODIFYCHANNEL of the open channel to VP %u", vp);
        modify.target_vp = vp;
        if (send(&modify, sizeof(modify)) && expect(CHANNELMSG_MODIFYCHANNEL_RESPONSE, &m)) {
            if ((m.u.modify_response.status == 0) != (vp == 0))
                fail("MODIFYCHANNEL_RESPONSE status 0x%x", m.u.modify_response.status);
            else
                observed("MODIFYCHANNEL_RESPONSE status 0x%x", m.u.modify_response.status);
        }
    }

    attempt("the host's own read index of the inbound ring overwritten (12344), then NVSP "
            "INIT");
    if (nvsp_round_trip_with(scribble_host_read_index)) {
        if (to_host.control->read_index != to_host.control->write_index)
            fail("read index %u after the host's read, write index %u",
                 to_host.control->read_index, to_host.control->write_index);
        else
            observed("the host read at its own index and published it over the scribble");
    }

    floods();

    closes_channel("the ring's write index past its end", write_index_past_ring);
    closes_channel("the ring's write index unaligned (4)", write_index_unaligned);
    closes_channel("the write index 8 bytes on: less than a descriptor", write_index_short);
    closes_channel("the read index of the host's ring past its end, then a request",
                   host_read_index_past_ring);
    closes_channel("the read index of the host's ring unaligned (4), then a request",
                   host_read_index_unaligned);
    closes_channel("an oversized packet: 4104 bytes, past netvsp's 4096", oversized_packet);
    closes_channel("a packet whose length (len8 0xFFFF) runs past the ring data",
                   length_past_ring);
    closes_channel("a packet whose data offset (offset8 9) is past its length (len8 7)",
                   offset_past_length);
    closes_channel("a packet whose data offset (offset8 1) is inside its descriptor",
                   offset_inside_descriptor);
    closes_channel("a packet of unknown type 0x55", unknown_packet_type);
    closes_channel("a GPA_DIRECT packet with no ranges", gpa_direct_without_ranges);

    attempt("GPADL_TEARDOWN of the open channel's ring GPADL 0x%x", ring_handle[current_ring]);
    uint32_t handle = ring_handle[current_ring];
    if (teardown(netvsp_relid, handle) && expect_torndown(handle)) {
        observed("GPADL_TORNDOWN");
        if (reopen_on_other_ring(true)) {
            observed("the channel was closed with it; reopened on ring %u", current_ring);
            nvsp_round_trip();
        }
        /* The torn-down ring gets a new GPADL for what follows. */
        uint32_t fresh = next_handle++;
        if (create_gpadl(netvsp_relid, fresh, ring_memory[1 - current_ring], RING_PAGES))
            ring_handle[1 - current_ring] = fresh;
    }

    attempt("CLOSECHANNEL, then CLOSECHANNEL again");
    struct vmbus_channel_relid_message close = {.header.msgtype = CHANNELMSG_CLOSECHANNEL,
                                                .child_relid = netvsp_relid};
    if (send(&close, sizeof(close)) && send(&close, sizeof(close)))
        expect_no_reply();
    attempt("OPENCHANNEL after the close");
    if (reopen_on_other_ring(true))
        nvsp_round_trip();
}

/* ---- 6. a second channel -------------------------------------------------------------- */

/* With a storage channel offered too (scsi.NAME=VOLUME): a corrupt ring closes that channel
 * only; the open network channel runs on. */
static void second_channel(void)
{
    if (!storage_relid) {
        guest_printf("no storage channel offered: the second-channel steps are left out");
        return;
    }
    uint32_t handle = next_handle++;
    attempt("OPENCHANNEL of the storage channel (relid %u) on the network channel's ring "
            "GPADL 0x%x", storage_relid, ring_handle[current_ring]);
    open_channel(storage_relid, ring_handle[current_ring], RING_DOWNSTREAM_OFFSET, 0, false);

    attempt("OPENCHANNEL of the storage channel on its own ring GPADL 0x%x, beside the open "
            "network channel", handle);
    memset(storage_ring_memory, 0, sizeof(storage_ring_memory));
    if (!create_gpadl(storage_relid, handle, storage_ring_memory, RING_PAGES) ||
        !open_channel(storage_relid, handle, RING_DOWNSTREAM_OFFSET, 0, true))
        return;

    attempt("the storage channel's write index past its end");
    struct vmbus_client_ring storage_to_host;
    vmbus_client_ring_attach(&storage_to_host, storage_ring_memory, RING_DOWNSTREAM_OFFSET);
    vmbus_client_ring_publish(&storage_to_host, storage_to_host.data_size);
    uint16_t status = vmbus_client_signal(&client, storage_connection);
    if (status != VMBUS_CLIENT_STATUS_SUCCESS) {
        fail("HvSignalEvent 0x%x: status 0x%x", storage_connection, status);
        return;
    }
    uint64_t give_up = vmbus_client_now() + REPLY_TIMEOUT_MS * VMBUS_CLIENT_UNITS_PER_MS;
    while (storage_to_host.control->interrupt_mask == 0) {
        if (vmbus_client_now() > give_up) {
            fail("the host did not poll the storage ring within %u ms", REPLY_TIMEOUT_MS);
            return;
        }
        __asm__ volatile("pause");
    }
    attempt("the network channel still serves");
    nvsp_round_trip();
    attempt("OPENCHANNEL of the storage channel again on its cleaned ring");
    memset(storage_ring_memory, 0, sizeof(storage_ring_memory));
    if (open_channel(storage_relid, handle, RING_DOWNSTREAM_OFFSET, 0, true))
        observed("the host had closed the storage channel only");
    struct vmbus_channel_relid_message close = {.header.msgtype = CHANNELMSG_CLOSECHANNEL,
                                                .child_relid = storage_relid};
    attempt("CLOSECHANNEL of the storage channel, GPADL_TEARDOWN of its ring");
    if (send(&close, sizeof(close)) && teardown(storage_relid, handle) &&
        expect_torndown(handle))
        observed("GPADL_TORNDOWN 0x%x", handle);
}

/* ---- 7. the host still serves this child ------------------------------------------- */

static void serves_after_unload(void)
{
    attempt("UNLOAD");
    struct vmbus_channel_message_header header = {.msgtype = CHANNELMSG_UNLOAD};
    struct vmbus_client_message m;
    if (!send(&header, sizeof(header)) || !expect(CHANNELMSG_UNLOAD_RESPONSE, &m))
        return;
    observed("UNLOAD_RESPONSE");
    connected = false;

    attempt("REQUESTOFFERS after UNLOAD");
    header.msgtype = CHANNELMSG_REQUESTOFFERS;
    send_expect_no_reply(&header, sizeof(header));

    /* A pre-5.0 contact this time: connection 1, SINT 2 fixed. */
    if (!contact_and_offers(VMBUS_CLIENT_VERSION_WIN10, VMBUS_CLIENT_CONNECTION_ID))
        return;
    attempt("the ring GPADLs again with their old handles (UNLOAD forgot them)");
    memset(ring_memory, 0, sizeof(ring_memory));
    if (!create_gpadl(netvsp_relid, ring_handle[0], ring_memory[0], RING_PAGES))
        return;
    use_ring(0);
    attempt("OPENCHANNEL of the network channel and NVSP INIT");
    if (!open_channel(netvsp_relid, ring_handle[0], RING_DOWNSTREAM_OFFSET, 0, true) ||
        !nvsp_round_trip())
        return;
    attempt("CLOSECHANNEL, GPADL_TEARDOWN, UNLOAD");
    struct vmbus_channel_relid_message close = {.header.msgtype = CHANNELMSG_CLOSECHANNEL,
                                                .child_relid = netvsp_relid};
    header.msgtype = CHANNELMSG_UNLOAD;
    if (send(&close, sizeof(close)) && teardown(netvsp_relid, ring_handle[0]) &&
        expect_torndown(ring_handle[0]) && send(&header, sizeof(header)) &&
        expect(CHANNELMSG_UNLOAD_RESPONSE, &m))
        observed("GPADL_TORNDOWN, UNLOAD_RESPONSE");
    connected = false;
}

int guest_main(const struct guest_boot *boot)
{
    if (boot->loader != GUEST_LOADER_HVFW) {
        guest_printf("FAIL not started by hvfw: there is no VMBus host here");
        return GUEST_EXIT_FAIL;
    }
    ram_pages = (uint32_t)(boot->ram_bytes / VMBUS_CLIENT_PAGE_SIZE);
    vmbus_client_init(&client, hypercall_page, message_page, event_page, input_page);
    guest_printf("SynIC on, SINT %u polled; RAM %u pages", VMBUS_CLIENT_SINT, ram_pages);

    malformed_messages();
    if (!failed && contact_and_offers(VMBUS_CLIENT_VERSION_WIN10_V5_3,
                                      VMBUS_CLIENT_CONNECTION_ID_4)) {
        messages_after_contact();
        replies_not_taken();
        bad_gpadls();
        ring_handle[0] = next_handle++;
        ring_handle[1] = next_handle++;
        attempt("ring GPADLs 0x%x and 0x%x of %u pages each", ring_handle[0], ring_handle[1],
                RING_PAGES);
        memset(ring_memory, 0, sizeof(ring_memory));
        if (create_gpadl(netvsp_relid, ring_handle[0], ring_memory[0], RING_PAGES) &&
            create_gpadl(netvsp_relid, ring_handle[1], ring_memory[1], RING_PAGES)) {
            bad_opens();
            data_path();
            second_channel();
        }
        serves_after_unload();
    }
    if (failed) {
        guest_printf("FAIL");
        return GUEST_EXIT_FAIL;
    }
    guest_printf("PASS");
    return GUEST_EXIT_PASS;
}
