#!/bin/sh
# The shared library exports exactly the jvae_* API: every defined dynamic
# symbol must start with jvae_, and the core entry points must be there.
set -eu
lib=$1
symbols=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort)
[ -n "$symbols" ] || { echo "no exported symbols in $lib"; exit 1; }
stray=$(printf '%s\n' "$symbols" | grep -v '^jvae_' || true)
if [ -n "$stray" ]; then
    echo "symbols exported outside the jvae_ namespace:"
    printf '%s\n' "$stray"
    exit 1
fi
# Internal kernels carry the jvae_ prefix too but must stay hidden.
for hidden in jvae_fail jvae_conv2d_forward jvae_rng_next jvae_tensor_expect; do
    if printf '%s\n' "$symbols" | grep -qx "$hidden"; then
        echo "internal symbol $hidden is exported"; exit 1
    fi
done
for required in jvae_version_number jvae_version_string jvae_status_string jvae_last_error \
                jvae_tensor_create jvae_tensor_free; do
    printf '%s\n' "$symbols" | grep -qx "$required" || { echo "missing export $required"; exit 1; }
done
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
[ "$soname" = "libjointvae.so.0" ] || { echo "SONAME is '$soname', expected libjointvae.so.0"; exit 1; }
echo "$(printf '%s\n' "$symbols" | wc -l) exported symbols, all jvae_*; SONAME $soname"
