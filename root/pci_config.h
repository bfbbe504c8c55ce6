/*
 * PCI configuration mechanism #1 of a child partition (PCI Local Bus Specification 3.0,
 * 3.2.2.3.2 "Software Generation of Configuration Transactions"): CONFIG_ADDRESS is the
 * dword at 0xCF8 (bit 31 enable, 23:16 bus, 15:11 device, 10:8 function, 7:2 register;
 * bits 30:24 and 1:0 read as 0), CONFIG_DATA the dword at 0xCFC-0xCFF.
 *
 * The bus is empty: no device answers, so every configuration read returns all ones (a
 * master abort) and writes go nowhere. Linux's type 1 probe (it writes 0x80000000 and
 * reads it back) finds the mechanism and then no device. Byte and word accesses to
 * 0xCF8-0xCFB are not CONFIG_ADDRESS (they pass to the bus, where nothing answers: all
 * ones), except the byte at 0xCF9, the reset control register (root/pm.h), which the
 * worker gives to the PM module first.
 *
 * Pure and host-testable.
 */
#ifndef HVFW_ROOT_PCI_CONFIG_H
#define HVFW_ROOT_PCI_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_CONFIG_ADDRESS_PORT 0xCF8u
#define PCI_CONFIG_DATA_PORT 0xCFCu
#define PCI_CONFIG_ADDRESS_WRITABLE 0x80FFFFFCu

struct pci_config {
    uint32_t address;
};

void pci_config_init(struct pci_config *pci);
/* True for 0xCF8-0xCFF. */
bool pci_config_owns_port(uint32_t port);
uint32_t pci_config_read(struct pci_config *pci, uint32_t port, unsigned size);
void pci_config_write(struct pci_config *pci, uint32_t port, unsigned size, uint32_t value);

#endif
