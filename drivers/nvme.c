#include "drivers/nvme.h"

#include <stdio.h>
#include <string.h>

#include "drivers/pci.h"
#include "root/memory.h"
#include "root/platform.h"

#define PAGE 4096u

/* Controller registers (NVMe 1.4, 3.1). */
#define REG_CAP 0x00
#define REG_CC 0x14
#define REG_CSTS 0x1C
#define REG_AQA 0x24
#define REG_ASQ 0x28
#define REG_ACQ 0x30
#define DOORBELL_BASE 0x1000u

#define CAP_MQES(cap) ((uint32_t)((cap)&0xFFFFu)) /* entries - 1 */
#define CAP_TO(cap) ((uint32_t)(((cap) >> 24) & 0xFFu)) /* 500 ms units */
#define CAP_DSTRD(cap) ((uint32_t)(((cap) >> 32) & 0xFu))
#define CAP_CSS_NVM (1ull << 37)
#define CAP_MPSMIN(cap) ((uint32_t)(((cap) >> 48) & 0xFu))

#define CC_ENABLE 1u
#define CC_IOSQES (6u << 16) /* 2^6 = 64-byte submission entries */
#define CC_IOCQES (4u << 20) /* 2^4 = 16-byte completion entries */
#define CSTS_READY 1u
#define CSTS_FATAL 2u

/* PCI class of an NVMe controller (PCI Code and ID Assignment 1.11, 01h/08h/02h). */
#define CLASS_STORAGE 0x01
#define SUBCLASS_NVM 0x08
#define PROG_IF_NVME 0x02

#define QUEUE_ENTRIES 32u
#define ADMIN_QUEUE 0u
#define IO_QUEUE 1u

/* Opcodes: admin (5.1), NVM command set (6.1). */
#define ADMIN_CREATE_IO_SQ 0x01
#define ADMIN_CREATE_IO_CQ 0x05
#define ADMIN_IDENTIFY 0x06
#define NVM_FLUSH 0x00
#define NVM_WRITE 0x01
#define NVM_READ 0x02
#define IDENTIFY_NAMESPACE 0x00
#define IDENTIFY_CONTROLLER 0x01
#define NAMESPACE_ID 1u

/* Identify data offsets (5.15.2: Figures 247 controller, 249 namespace). */
#define ID_CTRL_MODEL 24
#define ID_CTRL_MODEL_BYTES 40
#define ID_CTRL_MDTS 77
#define ID_CTRL_NN 516
#define ID_CTRL_VWC 525
#define ID_NS_NSZE 0
#define ID_NS_NLBAF 25
#define ID_NS_FLBAS 26
#define ID_NS_LBAF 128
#define LBA_DATA_SIZE_512 9 /* LBADS is a power of two */

#define BOUNCE_BYTES (128u * 1024)
#define BOUNCE_PAGES (BOUNCE_BYTES / PAGE)

/* 4.2 Figure 105 and 4.6 Figure 121. */
struct submission_entry {
    uint32_t cdw0; /* opcode 7:0, PRP data pointers (PSDT 0), command id 31:16 */
    uint32_t nsid;
    uint64_t reserved;
    uint64_t metadata;
    uint64_t prp1, prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
_Static_assert(sizeof(struct submission_entry) == 64, "NVMe submission queue entry");

struct completion_entry {
    uint32_t dw0, dw1;
    uint16_t sq_head, sq_id;
    uint16_t command_id;
    uint16_t status; /* phase tag in bit 0, status field in 15:1 */
};
_Static_assert(sizeof(struct completion_entry) == 16, "NVMe completion queue entry");

struct queue {
    volatile struct submission_entry *submissions;
    volatile struct completion_entry *completions;
    uint64_t submissions_address, completions_address;
    uint16_t tail, head;
    uint16_t phase; /* the phase tag of entries not yet consumed */
    uint16_t next_command_id;
    uint32_t submission_doorbell, completion_doorbell; /* register offsets */
};

enum command_result { COMMAND_DONE, COMMAND_FAILED, COMMAND_BROKEN };

static struct {
    volatile uint8_t *registers;
    uint64_t register_bytes;
    uint64_t cap;
    struct queue queues[2];
    uint8_t *bounce;    /* BOUNCE_BYTES, page aligned: every data transfer goes through it */
    uint64_t prp_list;  /* one page: the bounce buffer's pages after the first */
    struct nvme_info info;
    bool running;
} nvme;

static uint32_t read32(uint32_t offset)
{
    return *(volatile uint32_t *)(nvme.registers + offset);
}

static void write32(uint32_t offset, uint32_t value)
{
    *(volatile uint32_t *)(nvme.registers + offset) = value;
}

/* 64-bit registers as two dwords, low first (3.1: 32-bit accesses are always allowed). */
static uint64_t read64(uint32_t offset)
{
    uint64_t low = read32(offset);
    return low | (uint64_t)read32(offset + 4) << 32;
}

static void write64(uint32_t offset, uint64_t value)
{
    write32(offset, (uint32_t)value);
    write32(offset + 4, (uint32_t)(value >> 32));
}

static bool refuse(const char *why)
{
    printf("nvme: %s; not used\n", why);
    return false;
}

static enum command_result stop(const char *why)
{
    printf("nvme: %s; the disk is stopped\n", why);
    if (nvme.registers)
        write32(REG_CC, 0);
    nvme.running = false;
    return COMMAND_BROKEN;
}

static uint64_t page_alloc_zeroed_dma(uint64_t bytes)
{
    uint64_t address = root_memory_alloc(bytes, PAGE);
    if (address)
        memset((void *)(uintptr_t)address, 0, bytes);
    return address;
}

static bool queue_init(struct queue *q, unsigned id)
{
    q->submissions_address = page_alloc_zeroed_dma(PAGE);
    q->completions_address = page_alloc_zeroed_dma(PAGE);
    if (!q->submissions_address || !q->completions_address)
        return false;
    q->submissions = (volatile struct submission_entry *)(uintptr_t)q->submissions_address;
    q->completions = (volatile struct completion_entry *)(uintptr_t)q->completions_address;
    q->tail = q->head = 0;
    q->phase = 1; /* the controller writes phase 1 on its first pass (4.6) */
    uint32_t stride = 4u << CAP_DSTRD(nvme.cap);
    q->submission_doorbell = DOORBELL_BASE + (2 * id) * stride;
    q->completion_doorbell = DOORBELL_BASE + (2 * id + 1) * stride;
    return true;
}

/* Submits one command and waits for its completion. A completion that is not this
 * command's, or silence past the bound, means the controller cannot be trusted. */
static enum command_result execute(unsigned id, struct submission_entry *command,
                                   uint64_t timeout_ms)
{
    struct queue *q = &nvme.queues[id];
    uint16_t command_id = q->next_command_id++;
    command->cdw0 = (command->cdw0 & 0xFFu) | (uint32_t)command_id << 16;
    memcpy((void *)(uintptr_t)&q->submissions[q->tail], command, sizeof(*command));
    q->tail = (uint16_t)((q->tail + 1) % QUEUE_ENTRIES);
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* the entry before the doorbell */
    write32(q->submission_doorbell, q->tail);

    uint64_t deadline = root_time_ns() + timeout_ms * 1000000ull;
    for (;;) {
        volatile struct completion_entry *slot = &q->completions[q->head];
        if ((slot->status & 1u) == q->phase) {
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            struct completion_entry done;
            memcpy(&done, (const void *)(uintptr_t)slot, sizeof(done));
            if (done.command_id != command_id || done.sq_id != id ||
                done.sq_head >= QUEUE_ENTRIES)
                return stop("a completion for a command that is not in flight");
            q->head = (uint16_t)((q->head + 1) % QUEUE_ENTRIES);
            if (q->head == 0)
                q->phase ^= 1u;
            write32(q->completion_doorbell, q->head);
            uint16_t status = done.status >> 1;
            if (status != 0) {
                printf("nvme: command %#x failed: status code type %u, code %#x\n",
                       command->cdw0 & 0xFFu, (status >> 8) & 7u, status & 0xFFu);
                return COMMAND_FAILED;
            }
            return COMMAND_DONE;
        }
        if (read32(REG_CSTS) & CSTS_FATAL)
            return stop("the controller reports a fatal status (CSTS.CFS)");
        if (root_time_ns() > deadline)
            return stop("no completion in time");
        __asm__ volatile("pause");
    }
}

static bool wait_ready(bool ready, uint64_t timeout_ms)
{
    uint64_t deadline = root_time_ns() + timeout_ms * 1000000ull;
    while (((read32(REG_CSTS) & CSTS_READY) != 0) != ready) {
        if (read32(REG_CSTS) & CSTS_FATAL)
            return false;
        if (root_time_ns() > deadline)
            return false;
        __asm__ volatile("pause");
    }
    return true;
}

static const struct pci_device *find_controller(void)
{
    for (size_t i = 0; i < pci_device_count(); i++) {
        const struct pci_device *d = pci_device_at(i);
        if (d->class_code == CLASS_STORAGE && d->subclass == SUBCLASS_NVM &&
            d->prog_if == PROG_IF_NVME)
            return d;
    }
    return NULL;
}

static enum command_result identify(uint32_t cns, uint32_t nsid)
{
    struct submission_entry command = {.cdw0 = ADMIN_IDENTIFY, .nsid = nsid,
                                       .prp1 = (uint64_t)(uintptr_t)nvme.bounce,
                                       .cdw10 = cns};
    return execute(ADMIN_QUEUE, &command, NVME_TIMEOUT_MS);
}

static bool read_identity(void)
{
    if (identify(IDENTIFY_CONTROLLER, 0) != COMMAND_DONE)
        return refuse("Identify Controller failed");
    const uint8_t *id = nvme.bounce;
    uint32_t namespaces;
    memcpy(&namespaces, id + ID_CTRL_NN, sizeof(namespaces));
    if (namespaces < NAMESPACE_ID)
        return refuse("the controller has no namespace");
    memcpy(nvme.info.model, id + ID_CTRL_MODEL, ID_CTRL_MODEL_BYTES);
    nvme.info.model[ID_CTRL_MODEL_BYTES] = '\0';
    for (int i = ID_CTRL_MODEL_BYTES - 1; i >= 0 && (nvme.info.model[i] == ' ' ||
                                                     nvme.info.model[i] == '\0'); i--)
        nvme.info.model[i] = '\0';
    for (char *c = nvme.info.model; *c; c++)
        if (*c < 0x20 || *c > 0x7E)
            *c = '?';
    nvme.info.volatile_cache = id[ID_CTRL_VWC] & 1u;
    /* MDTS: 2^n units of the minimum page size (4 KiB here); 0 means no limit. */
    uint8_t mdts = id[ID_CTRL_MDTS];
    nvme.info.request_bytes = BOUNCE_BYTES;
    if (mdts != 0 && mdts < 5 && (PAGE << mdts) < BOUNCE_BYTES)
        nvme.info.request_bytes = PAGE << mdts;

    if (identify(IDENTIFY_NAMESPACE, NAMESPACE_ID) != COMMAND_DONE)
        return refuse("Identify Namespace 1 failed");
    uint64_t size;
    memcpy(&size, id + ID_NS_NSZE, sizeof(size));
    unsigned format = id[ID_NS_FLBAS] & 0xFu;
    if (format > id[ID_NS_NLBAF])
        return refuse("namespace 1 names a format it does not list");
    uint8_t lba_data_size = id[ID_NS_LBAF + 4 * format + 2];
    if (lba_data_size != LBA_DATA_SIZE_512)
        return refuse("namespace 1 is not formatted with 512-byte blocks");
    if (size == 0 || size > (UINT64_MAX >> 10))
        return refuse("namespace 1 has an impossible size");
    nvme.info.sector_count = size;
    return true;
}

static bool create_io_queues(void)
{
    struct queue *q = &nvme.queues[IO_QUEUE];
    uint32_t size_and_id = (QUEUE_ENTRIES - 1) << 16 | IO_QUEUE;
    struct submission_entry cq = {.cdw0 = ADMIN_CREATE_IO_CQ, .prp1 = q->completions_address,
                                  .cdw10 = size_and_id, .cdw11 = 1u /* contiguous, polled */};
    if (execute(ADMIN_QUEUE, &cq, NVME_TIMEOUT_MS) != COMMAND_DONE)
        return refuse("Create I/O Completion Queue failed");
    struct submission_entry sq = {.cdw0 = ADMIN_CREATE_IO_SQ, .prp1 = q->submissions_address,
                                  .cdw10 = size_and_id,
                                  .cdw11 = IO_QUEUE << 16 | 1u /* its CQ, contiguous */};
    if (execute(ADMIN_QUEUE, &sq, NVME_TIMEOUT_MS) != COMMAND_DONE)
        return refuse("Create I/O Submission Queue failed");
    return true;
}

bool nvme_start(void)
{
    const struct pci_device *d = find_controller();
    if (!d)
        return false;
    printf("nvme: %02x:%02x.%u device %04x:%04x\n", d->address.bus, d->address.slot,
           d->address.function, d->vendor, d->device);
    const struct pci_bar *bar = &d->bars[0];
    if (bar->io || bar->base == 0 || bar->size < DOORBELL_BASE + 16)
        return refuse("BAR0 is not a memory BAR holding the registers and doorbells");
    pci_enable(d, true, false, true);
    nvme.registers = (volatile uint8_t *)(uintptr_t)bar->base;
    nvme.register_bytes = bar->size;
    nvme.cap = read64(REG_CAP);
    if (!(nvme.cap & CAP_CSS_NVM))
        return refuse("the controller does not support the NVM command set");
    if (CAP_MPSMIN(nvme.cap) != 0)
        return refuse("the controller's smallest page is above 4 KiB");
    if (CAP_MQES(nvme.cap) + 1 < QUEUE_ENTRIES)
        return refuse("the controller's queues are too short");
    if (DOORBELL_BASE + 4ull * (4u << CAP_DSTRD(nvme.cap)) > nvme.register_bytes)
        return refuse("the doorbells lie outside BAR0");
    /* CAP.TO bounds how long enabling and disabling may take (3.1.1). */
    uint64_t ready_ms = CAP_TO(nvme.cap) ? CAP_TO(nvme.cap) * 500ull : 500;

    write32(REG_CC, 0);
    if (!wait_ready(false, ready_ms))
        return refuse("the controller did not finish its reset");
    if (!nvme.bounce) {
        nvme.bounce = (uint8_t *)(uintptr_t)page_alloc_zeroed_dma(BOUNCE_BYTES);
        nvme.prp_list = page_alloc_zeroed_dma(PAGE);
        if (!nvme.bounce || !nvme.prp_list || !queue_init(&nvme.queues[ADMIN_QUEUE], 0) ||
            !queue_init(&nvme.queues[IO_QUEUE], 1))
            return refuse("no memory for its queues");
        uint64_t *list = (uint64_t *)(uintptr_t)nvme.prp_list;
        for (unsigned i = 1; i < BOUNCE_PAGES; i++)
            list[i - 1] = (uint64_t)(uintptr_t)nvme.bounce + (uint64_t)i * PAGE;
    }
    write32(REG_AQA, (QUEUE_ENTRIES - 1) << 16 | (QUEUE_ENTRIES - 1));
    write64(REG_ASQ, nvme.queues[ADMIN_QUEUE].submissions_address);
    write64(REG_ACQ, nvme.queues[ADMIN_QUEUE].completions_address);
    write32(REG_CC, CC_ENABLE | CC_IOSQES | CC_IOCQES); /* NVM set, 4 KiB pages, round robin */
    if (!wait_ready(true, ready_ms))
        return refuse("the controller did not become ready");
    nvme.running = true;
    if (!read_identity() || !create_io_queues()) {
        write32(REG_CC, 0);
        nvme.running = false;
        return false;
    }
    printf("nvme: \"%s\": %lu MiB, 512-byte blocks, requests of up to %u KiB, %s\n",
           nvme.info.model, (unsigned long)(nvme.info.sector_count >> 11),
           nvme.info.request_bytes / 1024,
           nvme.info.volatile_cache ? "volatile write cache (flushed)" : "no volatile write cache");
    return true;
}

const struct nvme_info *nvme_info(void)
{
    return nvme.running ? &nvme.info : NULL;
}

static bool in_range(uint64_t sector, uint32_t count)
{
    return nvme.running && count > 0 && sector < nvme.info.sector_count &&
           count <= nvme.info.sector_count - sector;
}

static bool transfer(uint8_t opcode, uint64_t sector, uint32_t count, void *into,
                     const void *from)
{
    if (!in_range(sector, count))
        return false;
    uint32_t per_command = nvme.info.request_bytes / NVME_SECTOR_SIZE;
    while (count > 0) {
        uint32_t n = count < per_command ? count : per_command;
        size_t bytes = (size_t)n * NVME_SECTOR_SIZE;
        if (from) {
            memcpy(nvme.bounce, from, bytes);
            from = (const uint8_t *)from + bytes;
        }
        /* PRP1 the first page, PRP2 the second or the list of the rest (4.3). */
        uint64_t base = (uint64_t)(uintptr_t)nvme.bounce;
        uint64_t prp2 = bytes <= PAGE ? 0 : bytes <= 2 * PAGE ? base + PAGE : nvme.prp_list;
        struct submission_entry command = {.cdw0 = opcode, .nsid = NAMESPACE_ID, .prp1 = base,
                                           .prp2 = prp2, .cdw10 = (uint32_t)sector,
                                           .cdw11 = (uint32_t)(sector >> 32), .cdw12 = n - 1};
        if (execute(IO_QUEUE, &command, NVME_TIMEOUT_MS) != COMMAND_DONE)
            return false;
        if (into) {
            memcpy(into, nvme.bounce, bytes);
            into = (uint8_t *)into + bytes;
        }
        sector += n;
        count -= n;
    }
    return true;
}

bool nvme_read(uint64_t sector, uint32_t count, void *buffer)
{
    return transfer(NVM_READ, sector, count, buffer, NULL);
}

bool nvme_write(uint64_t sector, uint32_t count, const void *buffer)
{
    return transfer(NVM_WRITE, sector, count, NULL, buffer);
}

bool nvme_flush(void)
{
    if (!nvme.running)
        return false;
    if (!nvme.info.volatile_cache)
        return true;
    struct submission_entry command = {.cdw0 = NVM_FLUSH, .nsid = NAMESPACE_ID};
    return execute(IO_QUEUE, &command, NVME_TIMEOUT_MS) == COMMAND_DONE;
}
