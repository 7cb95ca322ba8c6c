#!/usr/bin/env bash
# Installs the build tree into a scratch prefix, then builds and runs a small
# program against it twice: through find_package(hcm) (shared and static)
# and through pkg-config; runs the installed hcm tool. Usage: run.sh BUILD_DIR SOURCE_DIR GENERATOR
set -euo pipefail
build=$1 src=$2 gen=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HCM_DOMAIN=pkg$$
cmake --install "$build" --prefix "$work/prefix" >/dev/null
libdir=$(ls -d "$work"/prefix/lib*/ | head -n1)

cmake -S "$src/cmake/package-test/consumer" -B "$work/cbuild" -G "$gen" \
      -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cbuild" >/dev/null
LD_LIBRARY_PATH="$libdir" "$work/cbuild/consumer"
"$work/cbuild/consumer_static"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
cc -std=c11 -o "$work/consumer_pc" "$src/cmake/package-test/consumer/main.c" \
   $(pkg-config --cflags --libs hcm)
LD_LIBRARY_PATH="$libdir" "$work/consumer_pc"

# The hcm tool is installed with the library and runs from the prefix alone.
if [[ -f "$build/tools/hcm" ]]; then
    "$work/prefix/bin/hcm" --version
    "$work/prefix/bin/hcm" list >/dev/null
fi
if ls /dev/shm | grep -q "^hcm\.$HCM_DOMAIN\."; then
    echo "left behind in /dev/shm:"; ls /dev/shm | grep "^hcm\.$HCM_DOMAIN\."; exit 1
fi
echo "package test: find_package(hcm) shared+static, pkg-config and bin/hcm all work"
