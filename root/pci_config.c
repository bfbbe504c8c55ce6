#include "root/pci_config.h"

void pci_config_init(struct pci_config *pci)
{
    pci->address = 0;
}

bool pci_config_owns_port(uint32_t port)
{
    return port >= PCI_CONFIG_ADDRESS_PORT && port < PCI_CONFIG_DATA_PORT + 4;
}

uint32_t pci_config_read(struct pci_config *pci, uint32_t port, unsigned size)
{
    if (port == PCI_CONFIG_ADDRESS_PORT && size == 4)
        return pci->address;
    /* CONFIG_DATA: no device on the bus answers (master abort); anything else here is an
     * I/O cycle nobody claims. Both read as all ones. */
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

void pci_config_write(struct pci_config *pci, uint32_t port, unsigned size, uint32_t value)
{
    if (port == PCI_CONFIG_ADDRESS_PORT && size == 4)
        pci->address = value & PCI_CONFIG_ADDRESS_WRITABLE;
    /* CONFIG_DATA writes: no device takes them. */
}
