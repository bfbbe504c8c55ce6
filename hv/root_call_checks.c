#include "hv/root_call_checks.h"

#include "hv/slat.h"

enum hv_status root_call_map_access(uint32_t map_flags, unsigned *access)
{
    *access = 0;
    if (map_flags & HV_MAP_GPA_NO_ACCESS)
        return HV_STATUS_SUCCESS;
    uint32_t permissions = map_flags & HV_MAP_GPA_PERMISSIONS_MASK;
    if (permissions == 0)
        return HV_STATUS_SUCCESS;
    if (!(permissions & HV_MAP_GPA_READABLE))
        return HV_STATUS_INVALID_PARAMETER; /* NPT: every present page is readable */
    /* Kernel and user execute are one NPT bit (NX): either grants it. */
    *access = SLAT_READ;
    if (permissions & HV_MAP_GPA_WRITABLE)
        *access |= SLAT_WRITE;
    if (permissions & HV_MAP_GPA_EXECUTABLE)
        *access |= SLAT_EXECUTE;
    return HV_STATUS_SUCCESS;
}

bool root_call_address_canonical(uint64_t address)
{
    uint64_t upper = address >> 47;
    return upper == 0 || upper == 0x1FFFF;
}

/* PAT entries: UC 0, WC 1, WT 4, WP 5, WB 6, UC- 7; 2, 3 and 8+ are reserved (SDM 3A
 * 13.12.2) and make VMRUN fail with nested paging (APM 15.25.8). */
static bool pat_valid(uint64_t pat)
{
    for (int i = 0; i < 8; i++) {
        uint8_t type = (uint8_t)(pat >> (i * 8));
        if (type == 2 || type == 3 || type > 7)
            return false;
    }
    return true;
}

/* RFLAGS bits 3, 5, 15 and 63:22 are reserved (SDM vol. 1 3.4.3). Bit 1 is always one:
 * the backend sets it. */
#define RFLAGS_RESERVED (0xFFFFFFFFFFC00000ull | (1ull << 15) | (1ull << 5) | (1ull << 3))
/* CR3 bits 63:52 are reserved in every mode (APM 15.5.1: "any MBZ bit of CR3 is set"). */
#define CR3_RESERVED 0xFFF0000000000000ull

static enum hv_status check_cr0(uint64_t cr0)
{
    if (cr0 >> 32)
        return HV_STATUS_INVALID_PARAMETER;
    if ((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD))
        return HV_STATUS_INVALID_PARAMETER;
    if ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE))
        return HV_STATUS_INVALID_PARAMETER;
    return HV_STATUS_SUCCESS;
}

static enum hv_status check_segment(uint32_t name, const union hv_register_value *value)
{
    if (name == HV_X64_REGISTER_GDTR || name == HV_X64_REGISTER_IDTR) {
        const struct hv_x64_table_register *t = &value->table;
        if (t->pad[0] || t->pad[1] || t->pad[2] || !root_call_address_canonical(t->base))
            return HV_STATUS_INVALID_PARAMETER;
        return HV_STATUS_SUCCESS;
    }
    const struct hv_x64_segment_register *s = &value->segment;
    if ((s->attributes & HV_SEGMENT_ATTRIBUTES_RESERVED) || !root_call_address_canonical(s->base))
        return HV_STATUS_INVALID_PARAMETER;
    return HV_STATUS_SUCCESS;
}

enum hv_status root_call_check_register_value(uint32_t name, const union hv_register_value *value,
                                              const struct vp_register_limits *limits)
{
    uint64_t v = value->reg64;
    if (name >= HV_X64_REGISTER_RAX && name <= HV_X64_REGISTER_RIP)
        return HV_STATUS_SUCCESS; /* general registers and RIP take any value */
    if ((name >= HV_X64_REGISTER_ES && name <= HV_X64_REGISTER_TR) ||
        name == HV_X64_REGISTER_GDTR || name == HV_X64_REGISTER_IDTR)
        return check_segment(name, value);
    bool valid;
    switch (name) {
    case HV_X64_REGISTER_RFLAGS: valid = !(v & RFLAGS_RESERVED); break;
    case HV_X64_REGISTER_CR0: return check_cr0(v);
    case HV_X64_REGISTER_CR2: valid = true; break;
    case HV_X64_REGISTER_CR3: valid = !(v & CR3_RESERVED); break;
    case HV_X64_REGISTER_CR4: valid = !(v & ~limits->cr4_allowed); break;
    case HV_X64_REGISTER_CR8: valid = v <= 0xF; break;
    /* SVME is the hypervisor's (the backend keeps it set); LMA follows LME and CR0.PG. */
    case HV_X64_REGISTER_EFER:
        valid = !(v & ~(limits->efer_allowed | X86_EFER_SVME | X86_EFER_LMA));
        break;
    case HV_X64_REGISTER_DR6:
    case HV_X64_REGISTER_DR7: valid = !(v >> 32); break; /* APM 15.5.1 */
    case HV_X64_REGISTER_PAT: valid = pat_valid(v); break;
    case HV_X64_REGISTER_KERNEL_GS_BASE:
    case HV_X64_REGISTER_SYSENTER_ESP:
    case HV_X64_REGISTER_SYSENTER_EIP:
    case HV_X64_REGISTER_LSTAR:
    case HV_X64_REGISTER_CSTAR: valid = root_call_address_canonical(v); break;
    case HV_X64_REGISTER_SYSENTER_CS:
    case HV_X64_REGISTER_SFMASK: valid = !(v >> 32); break;
    case HV_X64_REGISTER_STAR: valid = true; break;
    default: valid = false; break; /* not settable here */
    }
    return valid ? HV_STATUS_SUCCESS : HV_STATUS_INVALID_PARAMETER;
}

bool root_call_control_state_valid(const struct vp_control_state *s)
{
    if (check_cr0(s->cr0) != HV_STATUS_SUCCESS)
        return false;
    bool long_mode_paging = (s->efer & X86_EFER_LME) && (s->cr0 & X86_CR0_PG);
    if (!long_mode_paging)
        return true;
    if (!(s->cr4 & X86_CR4_PAE))
        return false;
    /* L and D/B together are reserved in IA-32e mode (SDM 3A 3.4.5). */
    return !((s->cs_attributes & HV_SEGMENT_ATTRIBUTE_L) &&
             (s->cs_attributes & HV_SEGMENT_ATTRIBUTE_DB));
}

uint64_t root_call_efer_with_lma(uint64_t efer, uint64_t cr0)
{
    efer &= ~X86_EFER_LMA;
    if ((efer & X86_EFER_LME) && (cr0 & X86_CR0_PG))
        efer |= X86_EFER_LMA;
    return efer;
}

/* HV_X64_PENDING_INTERRUPTION_REGISTER (TLFS; OpenVMM hvdef): pending 0, type 3:1, deliver
 * error code 4, instruction length 8:5, nested event 9, reserved 15:10, vector 31:16,
 * error code 63:32. */
#define PENDING_PENDING (1ull << 0)
#define PENDING_TYPE_SHIFT 1
#define PENDING_TYPE_MASK 0x7u
#define PENDING_UNSUPPORTED_BITS 0xFFE0ull /* 15:5: length, nested event, reserved */
#define PENDING_TYPE_EXTERNAL 0u
#define PENDING_TYPE_NMI 2u
#define PENDING_TYPE_EXCEPTION 3u
#define PENDING_ERROR_CODE (1ull << 4)
#define PENDING_VECTOR_SHIFT 16
#define PENDING_ERROR_SHIFT 32
#define VECTOR_NMI 2

/* Exceptions that push an error code: #DF 8, #TS 10, #NP 11, #SS 12, #GP 13, #PF 14,
 * #AC 17, #CP 21, #VC 29, #SX 30 (SDM 3A 6.15, APM 8.2). */
#define VECTORS_WITH_ERROR_CODE                                                               \
    ((1u << 8) | (1u << 10) | (1u << 11) | (1u << 12) | (1u << 13) | (1u << 14) | (1u << 17) | \
     (1u << 21) | (1u << 29) | (1u << 30))
/* Reserved vectors: 15, 22-27 and 31 (SDM 3A table 6-1); 28 is #HV, only with SEV-SNP. */
#define VECTORS_RESERVED ((1u << 15) | (0x3Fu << 22) | (1u << 28) | (1u << 31))

enum hv_status root_call_check_pending_interruption(uint64_t value, bool real_mode)
{
    if (!(value & PENDING_PENDING))
        return value == 0 ? HV_STATUS_SUCCESS : HV_STATUS_INVALID_PARAMETER;
    if (value & PENDING_UNSUPPORTED_BITS)
        return HV_STATUS_INVALID_PARAMETER;
    uint32_t type = (uint32_t)(value >> PENDING_TYPE_SHIFT) & PENDING_TYPE_MASK;
    uint32_t vector = (uint32_t)(value >> PENDING_VECTOR_SHIFT) & 0xFFFF;
    bool error_code = value & PENDING_ERROR_CODE;
    uint32_t error_value = (uint32_t)(value >> PENDING_ERROR_SHIFT);
    if (!error_code && error_value != 0)
        return HV_STATUS_INVALID_PARAMETER;
    switch (type) {
    case PENDING_TYPE_EXTERNAL:
        return vector >= 16 && vector <= 255 && !error_code ? HV_STATUS_SUCCESS
                                                            : HV_STATUS_INVALID_PARAMETER;
    case PENDING_TYPE_NMI:
        return vector == VECTOR_NMI && !error_code ? HV_STATUS_SUCCESS
                                                   : HV_STATUS_INVALID_PARAMETER;
    case PENDING_TYPE_EXCEPTION:
        if (vector >= 32 || vector == VECTOR_NMI || (VECTORS_RESERVED & (1u << vector)))
            return HV_STATUS_INVALID_PARAMETER;
        if (error_code != (!real_mode && (VECTORS_WITH_ERROR_CODE & (1u << vector)) != 0))
            return HV_STATUS_INVALID_PARAMETER;
        return HV_STATUS_SUCCESS;
    default:
        return HV_STATUS_INVALID_PARAMETER; /* software interrupts/exceptions: not offered */
    }
}

uint16_t root_call_segment_attributes_to_vendor(uint16_t hv_attributes)
{
    return (uint16_t)((hv_attributes & 0xFFu) | ((hv_attributes >> 4) & 0xF00u));
}

uint16_t root_call_segment_attributes_from_vendor(uint16_t vendor_attributes)
{
    return (uint16_t)((vendor_attributes & 0xFFu) | ((vendor_attributes & 0xF00u) << 4));
}
