#!/bin/sh
# An outside program, built against the INSTALLED package, once through
# find_package(jointvae) and once through pkg-config, links and runs.
set -eu
source_dir=$1
build_dir=$2
work=$3
rm -rf "$work"
mkdir -p "$work"
prefix="$work/prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$work/install.log"

pcdir=$(dirname "$(find "$prefix" -name jointvae.pc | head -n 1)")
libdir=$(PKG_CONFIG_PATH="$pcdir" pkg-config --variable=libdir jointvae)
export LD_LIBRARY_PATH="$libdir:${LD_LIBRARY_PATH:-}"

# find_package
cmake -S "$source_dir/tests/consumer" -B "$work/cmake-build" \
      -DCMAKE_PREFIX_PATH="$prefix" >"$work/configure.log"
cmake --build "$work/cmake-build" >"$work/build.log"
"$work/cmake-build/consumer"

# pkg-config
cflags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags jointvae)
libs=$(PKG_CONFIG_PATH="$pcdir" pkg-config --libs jointvae)
# shellcheck disable=SC2086
cc -std=c99 -Wall -Werror $cflags "$source_dir/tests/consumer/consumer.c" $libs -o "$work/consumer-pc"
"$work/consumer-pc"
echo "installed package consumed through find_package and pkg-config"
