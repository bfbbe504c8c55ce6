#include "hv/msr.h"

#include "hv/partition.h"
#include "hv/vendor.h"
#include "kernel/log.h"
#include "kernel/x86.h"

#define MSR_TSC 0x10u
#define MSR_UCODE_REVISION 0x8Bu     /* Intel BIOS_SIGN_ID, AMD PATCH_LEVEL */
#define MSR_MTRR_CAP 0xFEu
#define MSR_DEBUGCTL 0x1D9u
#define MSR_PAT 0x277u
#define MSR_MTRR_DEF_TYPE 0x2FFu
#define MSR_AMD_HWCR 0xC0010015u
#define MSR_AMD_NB_CFG 0xC001001Fu
#define MSR_AMD_DE_CFG 0xC0011029u

/* HWCR bit 24 TscFreqSel: the TSC counts at the P0 frequency (AMD BKDG/PPR); Linux warns
 * "TSC doesn't count with P0 frequency" without it. */
#define HWCR_TSC_FREQ_SEL (1ull << 24)
/* DE_CFG bit 1: LFENCE is dispatch-serializing, which Linux reads back after setting it. */
#define DE_CFG_LFENCE_SERIALIZE (1ull << 1)
#define VECTOR_GP 13
#define RDMSR_WRMSR_BYTES 2

static void complete_read(struct vp *vp, const struct hv_exit *exit, uint64_t value)
{
    vp->registers.rax = value & 0xFFFFFFFFu;
    vp->registers.rdx = value >> 32;
    uint8_t length = exit->instruction_length ? exit->instruction_length : RDMSR_WRMSR_BYTES;
    hv_vendor->vp_set(vp, VP_REGISTER_RIP, exit->rip + length);
}

static void complete_write(struct vp *vp, const struct hv_exit *exit)
{
    uint8_t length = exit->instruction_length ? exit->instruction_length : RDMSR_WRMSR_BYTES;
    hv_vendor->vp_set(vp, VP_REGISTER_RIP, exit->rip + length);
}

static bool refuse(struct vp *vp, const struct hv_exit *exit, const char *why)
{
    log_debug("partition %lu (%s) VP %u: WRMSR %x <- %lx at rip %lx: %s: #GP", vp->partition->id,
              vp->partition->name, vp->index, exit->msr.index, exit->msr.value, exit->rip, why);
    hv_vendor->vp_inject_exception(vp, VECTOR_GP, true, 0);
    return true;
}

static bool child_read(struct vp *vp, const struct hv_exit *exit)
{
    switch (exit->msr.index) {
    case MSR_TSC:
        /* Children run with a zero TSC offset (hv/svm/): the guest's TSC is the host's. */
        complete_read(vp, exit, rdtsc());
        return true;
    case MSR_UCODE_REVISION:
        complete_read(vp, exit, 0); /* no microcode to speak of */
        return true;
    case MSR_MTRR_CAP:
        complete_read(vp, exit, 0); /* no variable or fixed ranges, no WC, no SMRR */
        return true;
    case MSR_MTRR_DEF_TYPE:
        complete_read(vp, exit, vp->mtrr_def_type);
        return true;
    case MSR_PAT:
        complete_read(vp, exit, hv_vendor->vp_get(vp, VP_REGISTER_PAT));
        return true;
    case MSR_DEBUGCTL:
        complete_read(vp, exit, 0);
        return true;
    case MSR_AMD_HWCR:
        complete_read(vp, exit, HWCR_TSC_FREQ_SEL);
        return true;
    case MSR_AMD_DE_CFG:
        complete_read(vp, exit, DE_CFG_LFENCE_SERIALIZE);
        return true;
    case MSR_AMD_NB_CFG:
        /* Linux's amd_bus code reads it on every CPU to enable extended CF8 configuration
         * access; the child's PCI configuration space is the root's emulation. */
        complete_read(vp, exit, 0);
        return true;
    default:
        return false;
    }
}

static bool child_write(struct vp *vp, const struct hv_exit *exit)
{
    uint64_t value = exit->msr.value;
    switch (exit->msr.index) {
    case MSR_UCODE_REVISION:
        /* Intel's "write 0, CPUID, read" microcode query; nothing to load. */
        complete_write(vp, exit);
        return true;
    case MSR_MTRR_DEF_TYPE:
        if (!msr_mtrr_def_type_valid(value))
            return refuse(vp, exit, "invalid MTRR default type");
        /* Kept per VP so the disable/enable sequence of an MTRR update reads back; the
         * memory type itself comes from the host (NPT) and the guest PAT. */
        vp->mtrr_def_type = value;
        complete_write(vp, exit);
        return true;
    case MSR_PAT:
        if (!msr_pat_valid(value))
            return refuse(vp, exit, "invalid PAT");
        hv_vendor->vp_set(vp, VP_REGISTER_PAT, value);
        complete_write(vp, exit);
        return true;
    case MSR_DEBUGCTL:
        if (value != 0)
            return refuse(vp, exit, "branch tracing is not virtualized");
        complete_write(vp, exit);
        return true;
    case MSR_AMD_HWCR:
    case MSR_AMD_DE_CFG:
    case MSR_AMD_NB_CFG:
        /* Model-specific tuning of a processor the child does not own: accepted and
         * ignored, as firmware-locked bits are on real parts. */
        complete_write(vp, exit);
        return true;
    default:
        return false;
    }
}

bool msr_child_access(struct vp *vp, const struct hv_exit *exit)
{
    return exit->reason == HV_EXIT_MSR_READ ? child_read(vp, exit) : child_write(vp, exit);
}
