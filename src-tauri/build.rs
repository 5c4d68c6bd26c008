fn main() {
    // The popup's bundle is embedded when the crate compiles: a rebuilt bundle must rebuild
    // the app, even when no Rust changed.
    println!("cargo:rerun-if-changed=../ui/dist");
    tauri_build::build()
}
