use pmem::Persistent;

#[derive(Persistent, Clone, Copy)]
#[repr(C)]
#[pmem(plain, view = PointView)]
struct Point {
    x: f64,
    y: f64,
}

fn main() {}
