use pmem::Persistent;

#[derive(Persistent)]
#[repr(u8)]
enum Never {}

fn main() {}
