#!/usr/bin/env bash
# Builds newlib (deps/newlib, from Debian's newlib-source) as a freestanding x86-64 C library.
# Its own flags, not ours: newlib is third-party code and is not held to our warnings.
# usage: newlib.sh SRC BUILD_DIR STAMP "TARGET_CFLAGS"
set -euo pipefail
src=$(realpath "$1"); out=$2; stamp=$(realpath -m "$3"); cflags=$4
mkdir -p "$out"
out=$(realpath "$out")
cd "$out"
if [ ! -f obj/Makefile ]; then
    rm -rf obj install
    mkdir -p obj
    (cd obj && "$src/newlib/configure" --host=x86_64-elf --prefix="$out/install" \
        --disable-multilib --disable-newlib-supplied-syscalls \
        --enable-newlib-reent-small --disable-newlib-fvwrite-in-streamio \
        --enable-newlib-nano-malloc --disable-newlib-unbuf-stream-opt \
        CC="gcc" CFLAGS="$cflags -w -Wno-error" AR=ar RANLIB=ranlib AS=as LD=ld \
        >"$out/configure.log" 2>&1) || { tail -30 "$out/configure.log"; exit 1; }
fi
make -C obj -j"$(nproc)" >"$out/make.log" 2>&1 || { tail -40 "$out/make.log"; exit 1; }
make -C obj install >>"$out/make.log" 2>&1 || { tail -40 "$out/make.log"; exit 1; }
touch "$stamp"
