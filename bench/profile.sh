#!/usr/bin/env bash
# Instruction profiles (valgrind --tool=callgrind) of pmem's rows, one child run each,
# collecting only inside the measured operation. Instruction counts are reliable on a
# shared machine where wall time is not. Prints, per profile, instructions per op and
# the top functions (inclusive, then self); keeps the callgrind files in $OUT.
#
#   bash bench/profile.sh [OUT_DIR]        # needs valgrind and callgrind_annotate
set -eu   # no pipefail: `head` closes pipes early on purpose
cd "$(dirname "$0")"
OUT=${1:-/tmp/pmem-profiles}
mkdir -p "$OUT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release -q
BIN=$CARGO_TARGET_DIR/release/pmem-bench

# name | ops | toggle-collect pattern | child arguments
PROFILES=(
  "w1.bulk_load|200000|*PmemKv*as*Kv*::insert|w1 pmem DIR n=200000 individual=0 batches=0 batch_size=1000 ranges=10 seed=3"
  "w1.remove_half|100000|*PmemKv*as*Kv*::remove|w1 pmem DIR n=200000 individual=0 batches=0 batch_size=1000 ranges=10 seed=3"
  "w1.random_reads|200000|*PmemKv*as*Kv*::get_many|w1 pmem DIR n=200000 individual=0 batches=0 batch_size=1000 ranges=10 seed=3"
  "w1.range_reads|100000|*::ranges|w1 pmem DIR n=200000 individual=0 batches=0 batch_size=1000 ranges=100000 seed=3"
  "w2.update3_hand.process|20000|*Hand*as*Objects*::update3|w2 pmem DIR dur=process groups=update3 records=100000 ops=20000 reps=1 prefill=0 lookups=0 seed=3 max_secs=1000"
  "w2.alloc_link.process|20000|*Hand*as*Objects*::push_node|w2 pmem DIR dur=process groups=alloc_link records=100000 ops=20000 reps=1 prefill=0 lookups=0 seed=3 max_secs=1000"
  "w2.hash_insert.process|100000|*Hash*as*Objects*::hash_insert|w2 pmem DIR dur=process groups=hash records=100000 ops=100000 reps=1 prefill=100000 lookups=1000 seed=3 max_secs=1000"
  "w2.hash_lookup.process|200000|*Hash*as*Objects*::hash_lookups|w2 pmem DIR dur=process groups=hash records=100000 ops=10 reps=1 prefill=100000 lookups=200000 seed=3 max_secs=1000"
)

for p in "${PROFILES[@]}"; do
  IFS='|' read -r name ops pattern args <<<"$p"
  dir="$OUT/data-$name"
  rm -rf "$dir"
  # shellcheck disable=SC2086
  valgrind --tool=callgrind --callgrind-out-file="$OUT/$name.cg" --toggle-collect="$pattern" \
    "$BIN" --child ${args/DIR/$dir} >/dev/null 2>"$OUT/$name.log"
  total=$(grep -E '^summary:|^totals:' "$OUT/$name.cg" | awk '{print $2}' | head -1)
  echo "== $name: $((total / ops)) instructions per op ($total over $ops ops)"
  echo "-- inclusive"
  callgrind_annotate --inclusive=yes "$OUT/$name.cg" 2>/dev/null | sed -n '/file:function/,$p' \
    | grep -E 'pmem_core|pmem_collections|memcpy|memcmp|crc32c' | grep -v 'rustc/' | head -12 \
    | sed -E 's#/[^ ]*/(pmem-core|pmem-collections|bench)/#\1/#; s# \[[^]]*\]$##' | cut -c1-150
  echo "-- self"
  callgrind_annotate "$OUT/$name.cg" 2>/dev/null | sed -n '/file:function/,$p' | sed -n '3,12p' \
    | sed -E 's#/[^ ]*/(pmem-core|pmem-collections|bench)/#\1/#; s#/rustc/[0-9a-f]*/library/#std:#; s# \[[^]]*\]$##' | cut -c1-150
  echo
done
