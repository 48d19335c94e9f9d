#!/bin/sh
# The whole test suite: a release build with -Werror, then the same suite
# under AddressSanitizer + UndefinedBehaviorSanitizer.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
# OpenBLAS's AVX2 kernels, as on the machines we run on: older OpenBLAS builds
# misbehave with their AVX-512 ones, and test_nn_linear's same-bits-for-any-
# thread-count check holds for kernels whose tiles are a divisor of 24 rows.
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}

cmake -S "$top" -B "$top/build/release" -DCMAKE_BUILD_TYPE=Release -DJVAE_WERROR=ON
cmake --build "$top/build/release" -j "$jobs"
ctest --test-dir "$top/build/release" --output-on-failure -j "$jobs"

cmake -S "$top" -B "$top/build/sanitize" -DCMAKE_BUILD_TYPE=Debug -DJVAE_WERROR=ON \
      -DJVAE_SANITIZE=ON
cmake --build "$top/build/sanitize" -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$top/build/sanitize" --output-on-failure -j "$jobs"
