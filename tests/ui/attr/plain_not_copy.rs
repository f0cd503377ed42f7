use pmem::Persistent;

#[derive(Persistent)]
#[repr(C)]
#[pmem(plain)]
struct Point {
    x: f64,
    y: f64,
}

fn main() {}
