use pmem::Persistent;

// Every bad field is reported at once, not one per compile.
#[derive(Persistent)]
#[repr(C)]
struct Customer {
    name: String,
    orders: Vec<u64>,
    id: u64,
    referrer: &'static Customer,
}

fn main() {}
