use pmem::PVec;

fn main() {
    // A collection outside a pool has no view, so it cannot be changed (or grow memory
    // that would belong to no pool): build a `Vec` and move it in with `set_`.
    let mut history: PVec<i64> = PVec::default();
    history.push(1);
}
