#include "drivers/e1000e.h"

#include <stdio.h>
#include <string.h>

#include "drivers/pci.h"
#include "root/memory.h"

#define VENDOR_INTEL 0x8086

/*
 * The models driven, in the order looked for. They share the registers below and the
 * legacy descriptors; only EERD's layout differs: the 82574 has DONE at bit 1 and the word
 * address at bit 2 (82574 datasheet 10.2.2.5), the 8254x DONE at bit 4 and the address at
 * bit 8 (PCI/PCI-X Family of Gigabit Ethernet Controllers SDM, 13.4.4). QEMU's `-device
 * e1000` is an 82540EM: the NIC that its iPXE ROM network-boots from (docs/boot.md), which
 * the appliance then uses itself.
 */
struct model {
    uint16_t device;
    const char *name;
    uint32_t eerd_done;
    uint32_t eerd_address_shift;
};

static const struct model models[] = {
    {0x10D3, "82574L", 1u << 1, 2},
    {0x100E, "82540EM", 1u << 4, 8},
};

/* Registers (82574 datasheet, 10.2; the same offsets in the 8254x SDM, 13.4) */
#define CTRL 0x0000
#define STATUS 0x0008
#define EERD 0x0014
#define ICR 0x00C0
#define IMC 0x00D8
#define IMS 0x00D0
/* Interrupt causes (82574 datasheet 10.2.4.1): link status change, receive descriptor
 * minimum threshold, receiver overrun, receiver timer (a frame written back). */
#define ICR_LSC (1u << 2)
#define ICR_RXDMT0 (1u << 4)
#define ICR_RXO (1u << 6)
#define ICR_RXT0 (1u << 7)
#define RCTL 0x0100
#define TCTL 0x0400
#define TIPG 0x0410
#define RDBAL 0x2800
#define RDBAH 0x2804
#define RDLEN 0x2808
#define RDH 0x2810
#define RDT 0x2818
#define TDBAL 0x3800
#define TDBAH 0x3804
#define TDLEN 0x3808
#define TDH 0x3810
#define TDT 0x3818
#define MTA 0x5200
#define MTA_COUNT 128
#define RAL0 0x5400
#define RAH0 0x5404
#define REGISTERS_MIN 0x20000u /* BAR0 is 128 KiB */

#define CTRL_SLU (1u << 6)
#define CTRL_RST (1u << 26)
#define RAH_AV (1u << 31)
#define EERD_START (1u << 0)
#define EERD_DATA_SHIFT 16
#define RCTL_EN (1u << 1)
/* Unicast and multicast promiscuous (82574 datasheet 10.2.5.1): the NIC is the virtual
 * switch's external port, and the children's MACs are not in its address filter. */
#define RCTL_UPE (1u << 3)
#define RCTL_MPE (1u << 4)
#define RCTL_BAM (1u << 15)  /* accept broadcast: ARP and DHCP need it */
#define RCTL_SECRC (1u << 26) /* strip the FCS */
#define TCTL_EN (1u << 1)
#define TCTL_PSP (1u << 3)
#define TCTL_CT (0x0Fu << 4)
#define TCTL_COLD (0x3Fu << 12)
#define TIPG_DEFAULT (8u | 8u << 10 | 6u << 20) /* IPGT 8, IPGR1 8, IPGR2 6 (10.2.6.3) */

#define DESC_DD (1u << 0)
#define DESC_EOP (1u << 1)
#define TX_CMD_EOP (1u << 0)
#define TX_CMD_IFCS (1u << 1)
#define TX_CMD_RS (1u << 3)

#define RING_SIZE 128 /* a multiple of 8: the ring length must be 128-byte aligned */
#define BUFFER_SIZE 2048u /* RCTL.BSIZE 00b */
#define ETHERNET_HEADER 14u
#define WAIT_LOOPS 1000000

struct rx_desc { /* 7.1.4 legacy receive descriptor */
    uint64_t address;
    uint16_t length;
    uint16_t checksum;
    uint8_t status;
    uint8_t errors;
    uint16_t special;
};

struct tx_desc { /* 7.2.10.1 legacy transmit descriptor */
    uint64_t address;
    uint16_t length;
    uint8_t cso;
    uint8_t command;
    uint8_t status;
    uint8_t css;
    uint16_t special;
};

_Static_assert(sizeof(struct rx_desc) == 16, "legacy rx descriptor");
_Static_assert(sizeof(struct tx_desc) == 16, "legacy tx descriptor");

static struct {
    const struct model *model;
    volatile uint8_t *registers;
    volatile struct rx_desc *rx;
    volatile struct tx_desc *tx;
    uint8_t *rx_buffers, *tx_buffers;
    uint32_t rx_next;               /* the next descriptor the device fills */
    uint32_t tx_next, tx_clean;     /* our tail, and the oldest not yet reclaimed */
    uint32_t tx_in_flight;
    bool running;
    bool interrupts;                /* causes unmasked: ICR is read to acknowledge them */
    const struct pci_device *pci;
} nic;

static uint32_t reg_read(uint32_t offset)
{
    return *(volatile uint32_t *)(nic.registers + offset);
}

static void reg_write(uint32_t offset, uint32_t value)
{
    *(volatile uint32_t *)(nic.registers + offset) = value;
}

static bool usable_mac(const uint8_t mac[6])
{
    static const uint8_t zero[6];
    return memcmp(mac, zero, 6) != 0 && !(mac[0] & 1);
}

/* EERD (82574 10.2.2.5, 8254x 13.4.4): a word of the NVM, bounded wait. */
static bool nvm_read(uint32_t word, uint16_t *value)
{
    reg_write(EERD, (word << nic.model->eerd_address_shift) | EERD_START);
    for (int i = 0; i < WAIT_LOOPS; i++) {
        uint32_t v = reg_read(EERD);
        if (v & nic.model->eerd_done) {
            *value = (uint16_t)(v >> EERD_DATA_SHIFT);
            return true;
        }
    }
    return false;
}

static void read_mac(uint8_t mac[6])
{
    uint32_t low = reg_read(RAL0), high = reg_read(RAH0);
    for (int i = 0; i < 4; i++)
        mac[i] = (uint8_t)(low >> (8 * i));
    mac[4] = (uint8_t)high;
    mac[5] = (uint8_t)(high >> 8);
    if ((high & RAH_AV) && usable_mac(mac))
        return;
    uint16_t words[3];
    bool ok = true;
    for (uint32_t w = 0; w < 3 && ok; w++)
        ok = nvm_read(w, &words[w]);
    for (int i = 0; ok && i < 3; i++) {
        mac[2 * i] = (uint8_t)words[i];
        mac[2 * i + 1] = (uint8_t)(words[i] >> 8);
    }
    if (!ok || !usable_mac(mac)) {
        /* A locally administered unicast address (IEEE 802, bit 1 of the first octet). */
        for (int i = 0; i < 6; i++)
            mac[i] = (uint8_t)(root_memory_free_bytes() >> (i * 5)) ^ (uint8_t)(i * 41);
        mac[0] = (uint8_t)((mac[0] & 0xFE) | 0x02);
        printf("e1000e: no usable MAC in RAL0/RAH0 or the NVM; using a local one\n");
    }
    /* Receive address 0 filters unicast frames for us (10.2.5.12). */
    reg_write(RAL0, (uint32_t)mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 |
                        (uint32_t)mac[3] << 24);
    reg_write(RAH0, (uint32_t)mac[4] | (uint32_t)mac[5] << 8 | RAH_AV);
}

bool e1000e_start(uint8_t mac[6])
{
    const struct pci_device *d = NULL;
    for (size_t i = 0; !d && i < sizeof(models) / sizeof(models[0]); i++) {
        d = pci_find(VENDOR_INTEL, models[i].device, NULL);
        nic.model = &models[i];
    }
    if (!d)
        return false;
    printf("e1000e: %02x:%02x.%u device %04x (%s)\n", d->address.bus, d->address.slot,
           d->address.function, d->device, nic.model->name);
    const struct pci_bar *bar = &d->bars[0];
    if (bar->io || bar->base == 0 || bar->size < REGISTERS_MIN) {
        printf("e1000e: BAR0 is not a %u KiB memory BAR; not used\n", REGISTERS_MIN >> 10);
        return false;
    }
    pci_enable(d, true, false, true);
    nic.registers = (volatile uint8_t *)(uintptr_t)bar->base;

    /* Reset with interrupts masked (they stay masked: polled). */
    reg_write(IMC, 0xFFFFFFFFu);
    reg_write(CTRL, reg_read(CTRL) | CTRL_RST);
    int loops = 0;
    while ((reg_read(CTRL) & CTRL_RST) && ++loops < WAIT_LOOPS)
        __asm__ volatile("pause");
    if (loops == WAIT_LOOPS) {
        printf("e1000e: the device does not finish its reset; not used\n");
        return false;
    }
    reg_write(IMC, 0xFFFFFFFFu);
    (void)reg_read(ICR);
    reg_write(CTRL, reg_read(CTRL) | CTRL_SLU);
    read_mac(mac);
    for (uint32_t i = 0; i < MTA_COUNT; i++)
        reg_write(MTA + 4 * i, 0);

    nic.rx = root_memory_alloc_zeroed(RING_SIZE * sizeof(struct rx_desc));
    nic.tx = root_memory_alloc_zeroed(RING_SIZE * sizeof(struct tx_desc));
    nic.rx_buffers = root_memory_alloc_zeroed((size_t)RING_SIZE * BUFFER_SIZE);
    nic.tx_buffers = root_memory_alloc_zeroed((size_t)RING_SIZE * BUFFER_SIZE);
    if (!nic.rx || !nic.tx || !nic.rx_buffers || !nic.tx_buffers) {
        printf("e1000e: no memory for the rings; not used\n");
        return false;
    }
    for (uint32_t i = 0; i < RING_SIZE; i++)
        nic.rx[i].address = (uint64_t)(uintptr_t)(nic.rx_buffers + (size_t)i * BUFFER_SIZE);
    uint64_t rx = (uint64_t)(uintptr_t)nic.rx, tx = (uint64_t)(uintptr_t)nic.tx;
    reg_write(RDBAL, (uint32_t)rx);
    reg_write(RDBAH, (uint32_t)(rx >> 32));
    reg_write(RDLEN, RING_SIZE * sizeof(struct rx_desc));
    reg_write(RDH, 0);
    reg_write(RDT, RING_SIZE - 1); /* head == tail means empty: one stays ours */
    reg_write(TDBAL, (uint32_t)tx);
    reg_write(TDBAH, (uint32_t)(tx >> 32));
    reg_write(TDLEN, RING_SIZE * sizeof(struct tx_desc));
    reg_write(TDH, 0);
    reg_write(TDT, 0);
    reg_write(TIPG, TIPG_DEFAULT);
    reg_write(TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD);
    reg_write(RCTL, RCTL_EN | RCTL_UPE | RCTL_MPE | RCTL_BAM | RCTL_SECRC);
    nic.pci = d;
    nic.running = true;
    return true;
}

static void reclaim_transmitted(void)
{
    while (nic.tx_in_flight && (nic.tx[nic.tx_clean].status & DESC_DD)) {
        nic.tx[nic.tx_clean].status = 0;
        nic.tx_clean = (nic.tx_clean + 1) % RING_SIZE;
        nic.tx_in_flight--;
    }
}

bool e1000e_transmit(const void *frame, size_t length)
{
    if (!nic.running || length < ETHERNET_HEADER || length > E1000E_FRAME_MAX)
        return false;
    reclaim_transmitted();
    if (nic.tx_in_flight == RING_SIZE - 1)
        return false; /* full: tail would meet head */
    uint32_t i = nic.tx_next;
    uint8_t *buffer = nic.tx_buffers + (size_t)i * BUFFER_SIZE;
    memcpy(buffer, frame, length);
    nic.tx[i].address = (uint64_t)(uintptr_t)buffer;
    nic.tx[i].length = (uint16_t)length;
    nic.tx[i].cso = 0;
    nic.tx[i].css = 0;
    nic.tx[i].special = 0;
    nic.tx[i].status = 0;
    nic.tx[i].command = TX_CMD_EOP | TX_CMD_IFCS | TX_CMD_RS;
    nic.tx_next = (i + 1) % RING_SIZE;
    nic.tx_in_flight++;
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* the descriptor before the tail */
    reg_write(TDT, nic.tx_next);
    return true;
}

bool e1000e_enable_interrupt(uint64_t msi_address, uint32_t msi_data)
{
    char why[96];
    if (!nic.running)
        return false;
    if (!pci_msi_enable(nic.pci, msi_address, msi_data, why, sizeof(why))) {
        printf("e1000e: %s; receive stays polled\n", why);
        return false;
    }
    nic.interrupts = true;
    (void)reg_read(ICR);
    reg_write(IMS, ICR_LSC | ICR_RXDMT0 | ICR_RXO | ICR_RXT0);
    return true;
}

size_t e1000e_receive(void *out, size_t size)
{
    if (!nic.running)
        return 0;
    for (;;) {
        volatile struct rx_desc *desc = &nic.rx[nic.rx_next];
        uint8_t status = desc->status;
        if (!(status & DESC_DD)) {
            /* Caught up: acknowledge the causes (reading ICR clears them with MSI, 10.2.4.1)
             * so the next frame sends a fresh message. */
            if (nic.interrupts)
                (void)reg_read(ICR);
            return 0;
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE); /* the data after the status */
        size_t length = desc->length;
        bool keep = (status & DESC_EOP) && desc->errors == 0 && length >= ETHERNET_HEADER &&
                    length <= BUFFER_SIZE && length <= size;
        if (keep)
            memcpy(out, nic.rx_buffers + (size_t)nic.rx_next * BUFFER_SIZE, length);
        /* The buffer goes back: its address rewritten (the device never gets to choose
         * where we read from), status cleared, then the tail moves onto it. */
        desc->address = (uint64_t)(uintptr_t)(nic.rx_buffers + (size_t)nic.rx_next * BUFFER_SIZE);
        desc->status = 0;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        reg_write(RDT, nic.rx_next);
        nic.rx_next = (nic.rx_next + 1) % RING_SIZE;
        if (keep)
            return length;
    }
}
