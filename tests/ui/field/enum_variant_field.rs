use pmem::Persistent;

#[derive(Persistent)]
#[repr(u8)]
enum Message {
    Ping,
    Text(String),
}

fn main() {}
