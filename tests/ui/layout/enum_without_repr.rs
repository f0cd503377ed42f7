use pmem::Persistent;

#[derive(Persistent)]
enum Status {
    Active,
    Closed { reason: u32 },
}

fn main() {}
