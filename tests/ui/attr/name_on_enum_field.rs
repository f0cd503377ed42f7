use pmem::Persistent;

#[derive(Persistent)]
#[repr(u8)]
enum Shape {
    Circle(#[pmem(name = radius)] f64),
}

fn main() {}
