#!/usr/bin/env bash
# Builds the decoder benchmark's C baseline (rans_baseline.c) into build/librans_baseline.so with the machine's gcc.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p build
gcc -O3 -std=c11 -Wall -Wextra -shared -fPIC -o build/librans_baseline.so rans_baseline.c
echo "built $(pwd)/build/librans_baseline.so ($(gcc --version | head -1))"
