#!/usr/bin/env bash
# Runs the adversarial probe suite (tests/probes.rs, safe code only) under valgrind
# memcheck: exits non-zero on any invalid read, write or use of uninitialised memory.
#   scripts/probes.sh
# Installs valgrind with apt-get when it is missing (root on Debian), else says how.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && apt-get install -y -qq valgrind >/dev/null
    else
        echo "valgrind is not installed (Debian: apt-get install valgrind)" >&2
        exit 2
    fi
fi
bin=$(cargo test -q --test probes --no-run --message-format=json 2>/dev/null \
    | grep -o '"executable":"[^"]*"' | tail -1 | cut -d'"' -f4)
echo "== probes ($bin)"
# PMEM_SLOT_SHIFT=32: a 4 GiB address-space slot per pool, which valgrind can map.
PMEM_SLOT_SHIFT=32 valgrind --quiet --error-exitcode=1 --leak-check=no "$bin" --test-threads=1
echo "probes under valgrind memcheck: clean"
