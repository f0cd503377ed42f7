#!/usr/bin/env bash
# Runs a subset of the test suite under valgrind memcheck; exits non-zero on any error.
#   scripts/valgrind.sh            # engine tests: transactions, pool files, crash states (reduced)
# Needs valgrind (Debian: apt-get install valgrind). Slow: a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
export PMEM_CORRUPT_CASES=2000
for t in transactions pool_files crash_states corrupt_files; do
    bin=$(cargo test -q -p pmem-core --all-features --no-run --message-format=json --test "$t" 2>/dev/null \
        | grep -o '"executable":"[^"]*"' | tail -1 | cut -d'"' -f4)
    echo "== $t ($bin)"
    # The concurrency and process-kill tests are timing-based: too slow under valgrind.
    valgrind --quiet --error-exitcode=1 --leak-check=no --track-origins=no "$bin" --test-threads=1 \
        --skip readers_never_observe --skip concurrent_durable
done
echo "valgrind memcheck: clean"
