#include "root/pm.h"

#include <string.h>

#define NS_PER_SECOND 1000000000ull
#define TIMER_MSB (1ull << 31)

void pm_init(struct pm *pm, uint64_t now_ns)
{
    memset(pm, 0, sizeof(*pm));
    pm->start_ns = now_ns;
    pm->control = PM1_CONTROL_SCI_EN;
}

bool pm_owns_port(uint32_t port)
{
    return (port >= PM_EVENT_PORT && port < PM_TIMER_PORT + 4) || port == PM_RESET_PORT;
}

uint64_t pm_timer_ticks(uint64_t elapsed_ns)
{
    /* Whole seconds and the rest apart: elapsed * f does not fit 64 bits, and the root has
     * no 128-bit division. Both parts are exact, so the sum is floor(elapsed * f / 10^9). */
    uint64_t seconds = elapsed_ns / NS_PER_SECOND, rest = elapsed_ns % NS_PER_SECOND;
    return seconds * PM_TIMER_HZ + rest * PM_TIMER_HZ / NS_PER_SECOND;
}

static uint64_t ticks_now(const struct pm *pm, uint64_t now_ns)
{
    /* The root's clock is monotonic; a time before the start reads as the start. */
    return pm_timer_ticks(now_ns > pm->start_ns ? now_ns - pm->start_ns : 0);
}

/* TMR_STS: bit 31 of the count changed since the last look (ACPI 6.5 4.8.3.1.1: set "when
 * the MSB of the timer toggles"; looking at each access is enough, since the bit toggles
 * every 2^31 ticks, 10 minutes). */
static void update_timer_status(struct pm *pm, uint64_t now_ns)
{
    uint64_t now = ticks_now(pm, now_ns);
    if ((now / TIMER_MSB) != (pm->timer_seen / TIMER_MSB))
        pm->status |= PM1_STATUS_TIMER;
    pm->timer_seen = now;
}

static uint32_t all_ones(unsigned size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

uint32_t pm_read(struct pm *pm, uint32_t port, unsigned size, uint64_t now_ns)
{
    update_timer_status(pm, now_ns);
    if (port == PM_EVENT_PORT && size == 2)
        return pm->status;
    if (port == PM_EVENT_PORT + 2 && size == 2)
        return pm->enable;
    if (port == PM_CONTROL_PORT && size == 2)
        return (uint32_t)(pm->control | PM1_CONTROL_SCI_EN) & ~PM1_CONTROL_SLP_EN;
    if (port == PM_TIMER_PORT && size == 4)
        return (uint32_t)ticks_now(pm, now_ns);
    if (port == PM_RESET_PORT && size == 1)
        return pm->reset_control;
    return all_ones(size);
}

enum pm_action pm_write(struct pm *pm, uint32_t port, unsigned size, uint32_t value,
                        uint64_t now_ns)
{
    update_timer_status(pm, now_ns);
    if (port == PM_EVENT_PORT && size == 2) {
        pm->status &= (uint16_t)~value; /* write 1 to clear */
    } else if (port == PM_EVENT_PORT + 2 && size == 2) {
        pm->enable = (uint16_t)(value & PM1_ENABLE_TIMER);
    } else if (port == PM_CONTROL_PORT && size == 2) {
        pm->control = (uint16_t)((value & ~PM1_CONTROL_SLP_EN) | PM1_CONTROL_SCI_EN);
        if ((value & PM1_CONTROL_SLP_EN) && (value & PM1_CONTROL_SLP_TYP) == 0)
            return PM_ACTION_POWER_OFF;
    } else if (port == PM_RESET_PORT && size == 1) {
        pm->reset_control = (uint8_t)value;
        if ((value & 0xFFu) == PM_RESET_VALUE)
            return PM_ACTION_RESET;
    }
    return PM_ACTION_NONE;
}

bool pm_sci_active(const struct pm *pm)
{
    return (pm->status & pm->enable) != 0;
}
