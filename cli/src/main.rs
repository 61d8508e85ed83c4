fn main() {
    println!("dsvmpool {}", dsvmpool::VERSION);
}
