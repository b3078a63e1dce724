// refinery embeds the migrations at compile time; a new file in the folder must rebuild this
// crate (an edited one would anyway), or the binary silently lacks the migration.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations/postgres");
}
