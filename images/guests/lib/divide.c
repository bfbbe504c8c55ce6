#include "images/guests/lib/divide.h"

#include <stdbool.h>

#include "images/guests/lib/guest.h"

/* Restoring shift-and-subtract division: 64 steps at most, no 64-bit divide needed. */
static uint64_t divide(uint64_t dividend, uint64_t divisor, uint64_t *remainder)
{
    if (divisor == 0) {
        /* The CPU would raise #DE; a guest that divides by zero has a bug worth a FAIL. */
        guest_printf("FAIL 64-bit division by zero");
        guest_exit(GUEST_EXIT_FAIL);
    }
    uint64_t quotient = 0, rest = 0;
    for (int bit = 63; bit >= 0; bit--) {
        /* rest < divisor, so a bit shifted out means the 65-bit value exceeds divisor;
         * the subtraction below then wraps to the right remainder. */
        bool carry = (rest >> 63) != 0;
        rest = (rest << 1) | ((dividend >> bit) & 1);
        if (carry || rest >= divisor) {
            rest -= divisor;
            quotient |= 1ull << bit;
        }
    }
    *remainder = rest;
    return quotient;
}

uint64_t __udivdi3(uint64_t dividend, uint64_t divisor)
{
    uint64_t remainder;
    return divide(dividend, divisor, &remainder);
}

uint64_t __umoddi3(uint64_t dividend, uint64_t divisor)
{
    uint64_t remainder;
    divide(dividend, divisor, &remainder);
    return remainder;
}

uint64_t __udivmoddi4(uint64_t dividend, uint64_t divisor, uint64_t *remainder)
{
    uint64_t rest;
    uint64_t quotient = divide(dividend, divisor, &rest);
    if (remainder)
        *remainder = rest;
    return quotient;
}
