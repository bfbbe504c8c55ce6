#include "kernel/format.h"

#include <stdbool.h>
#include <stdint.h>

struct sink {
    char *buf;
    size_t size;
    size_t len; /* characters the output would have */
};

static void put(struct sink *s, char c)
{
    if (s->len + 1 < s->size)
        s->buf[s->len] = c;
    s->len++;
}

static void pad(struct sink *s, char c, int count)
{
    while (count-- > 0)
        put(s, c);
}

struct spec {
    bool left;
    bool zero;
    int width;
};

static void put_string(struct sink *s, const struct spec *sp, const char *str)
{
    if (!str)
        str = "(null)";
    int len = 0;
    while (str[len])
        len++;
    if (!sp->left)
        pad(s, ' ', sp->width - len);
    for (int i = 0; i < len; i++)
        put(s, str[i]);
    if (sp->left)
        pad(s, ' ', sp->width - len);
}

static void put_number(struct sink *s, const struct spec *sp, uint64_t value, bool negative,
                       unsigned base, bool upper, const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = digits[value % base];
        value /= base;
    } while (value);

    int prefix_len = 0;
    while (prefix[prefix_len])
        prefix_len++;
    int body = n + prefix_len + (negative ? 1 : 0);
    int fill = sp->width - body;
    if (!sp->left && !sp->zero)
        pad(s, ' ', fill);
    if (negative)
        put(s, '-');
    for (int i = 0; i < prefix_len; i++)
        put(s, prefix[i]);
    if (!sp->left && sp->zero)
        pad(s, '0', fill);
    while (n)
        put(s, tmp[--n]);
    if (sp->left)
        pad(s, ' ', fill);
}

int format_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sink s = {buf, size, 0};
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put(&s, *p);
            continue;
        }
        p++;
        struct spec sp = {false, false, 0};
        for (;; p++) {
            if (*p == '-')
                sp.left = true;
            else if (*p == '0')
                sp.zero = true;
            else
                break;
        }
        while (*p >= '0' && *p <= '9')
            sp.width = sp.width * 10 + (*p++ - '0');
        int longs = 0;
        bool size_t_arg = false;
        for (;; p++) {
            if (*p == 'l')
                longs++;
            else if (*p == 'z')
                size_t_arg = true;
            else
                break;
        }
        switch (*p) {
        case '\0':
            p--; /* a lone '%' at the end: stop at the NUL */
            break;
        case '%':
            put(&s, '%');
            break;
        case 'c': {
            char c[2] = {(char)va_arg(ap, int), 0};
            put_string(&s, &sp, c);
            break;
        }
        case 's':
            put_string(&s, &sp, va_arg(ap, const char *));
            break;
        case 'd':
        case 'i': {
            int64_t v;
            if (size_t_arg || longs >= 1)
                v = va_arg(ap, int64_t);
            else
                v = va_arg(ap, int);
            bool neg = v < 0;
            uint64_t mag = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            put_number(&s, &sp, mag, neg, 10, false, "");
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v;
            if (size_t_arg || longs >= 1)
                v = va_arg(ap, uint64_t);
            else
                v = va_arg(ap, unsigned int);
            put_number(&s, &sp, v, false, *p == 'u' ? 10 : 16, *p == 'X', "");
            break;
        }
        case 'p':
            put_number(&s, &sp, (uint64_t)(uintptr_t)va_arg(ap, void *), false, 16, false,
                       "0x");
            break;
        default: /* unknown conversion: print it as it stands */
            put(&s, '%');
            put(&s, *p);
            break;
        }
    }
    if (size)
        buf[s.len < size ? s.len : size - 1] = '\0';
    return (int)s.len;
}

int format_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = format_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
