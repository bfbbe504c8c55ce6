#!/usr/bin/env bash
# Builds newlib (deps/newlib, from Debian's newlib-source) as a freestanding x86-64 C library.
# Its own flags, not ours: newlib is third-party code and is not held to our warnings.
# usage: newlib.sh SRC BUILD_DIR STAMP "TARGET_CFLAGS"
#
# Options beyond the defaults, and why:
#   --enable-newlib-retargetable-locking  stdio/malloc/atexit locks call __retarget_lock_*,
#       which libc-glue/lock.c implements with spinlocks: several CPUs run root code.
#   --enable-newlib-io-c99-formats, --enable-newlib-io-long-long  printf understands %zu,
#       %jd, %lld and %hhu; gcc's format checking assumes it does, so without them such a
#       format would compile cleanly and print garbage.
#   --disable-newlib-nano-malloc  nano-malloc aligns blocks to 8 bytes only; the x86-64 psABI
#       (3.1.2: max_align_t, long double, __int128, SSE vectors) needs 16, and gcc emits
#       aligned SSE moves on that assumption. newlib's dlmalloc aligns to 16 (and bins its
#       free lists instead of nano-malloc's single first-fit list).
set -euo pipefail
src=$(realpath "$1"); out=$2; stamp=$(realpath -m "$3"); cflags=$4
mkdir -p "$out"
out=$(realpath "$out")
cd "$out"
# Several builds may share one build directory (e.g. two ninja runs): one at a time.
exec 9>"$out/.lock"
flock 9
options=(--host=x86_64-elf --prefix="$out/install"
    --disable-multilib --disable-newlib-supplied-syscalls
    --enable-newlib-reent-small --disable-newlib-fvwrite-in-streamio
    --disable-newlib-nano-malloc --disable-newlib-unbuf-stream-opt
    --enable-newlib-retargetable-locking
    --enable-newlib-io-c99-formats --enable-newlib-io-long-long)
# Reconfigure from scratch when the options or flags change (the old install stays in place
# until `make install` overwrites it, so other targets keep compiling meanwhile).
signature="${options[*]} CFLAGS=$cflags"
if [ ! -f obj/Makefile ] || [ "$(cat obj/hvfw-configure.txt 2>/dev/null)" != "$signature" ]; then
    rm -rf obj
    mkdir -p obj
    (cd obj && "$src/newlib/configure" "${options[@]}" \
        CC="gcc" CFLAGS="$cflags -w -Wno-error" AR=ar RANLIB=ranlib AS=as LD=ld \
        >"$out/configure.log" 2>&1) || { tail -30 "$out/configure.log"; exit 1; }
    printf '%s' "$signature" >obj/hvfw-configure.txt
fi
make -C obj -j"$(nproc)" >"$out/make.log" 2>&1 || { tail -40 "$out/make.log"; exit 1; }
make -C obj install >>"$out/make.log" 2>&1 || { tail -40 "$out/make.log"; exit 1; }
touch "$stamp"
