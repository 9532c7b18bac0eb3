//! Build script: on Linux with glibc, links the `pedestal` executable at a fixed address and
//! with the unwinder of GCC's support library built in.
//!
//! A position-independent executable is relocated by the dynamic loader at every start: about
//! 100,000 relative relocations here (vtables and static tables of the AWS SDK, clap and our
//! own), which copy 1.3 MB of read-only data into fresh pages and read 2.4 MB of relocation
//! records. That is about 400 page faults and 2 ms of every command, `--version` included,
//! a tenth of a 1,000-resource plan. Linked at a fixed address (as Go links Terraform's
//! binary) the executable needs none of it. Shared libraries, the heap and the stacks are
//! still placed at random.
//!
//! Rust's standard library asks for the unwinder as the shared `libgcc_s.so.1`, whose start-up
//! code queries the processor (`__cpu_indicator_init`, some fifteen `cpuid` instructions, each a
//! trap to the hypervisor on a virtual machine: 6 µs apiece on the project's machine) and which
//! the dynamic loader must find, map and bind. The same unwinder is in GCC's static `libgcc_eh.a`:
//! a `libgcc_s.so` linker script in the build's own directory, searched before the system's,
//! stands for `-lgcc_s` and names it instead. `pedestal --version` went from 1.5 to 1.3 ms and a
//! 1,000-resource plan's median from 6.3 to 5.8 ms (60 interleaved runs each, release build,
//! 2026-12-02). Panics unwind as before (the tests catch them).

#![allow(clippy::print_stdout)] // A build script speaks to cargo on stdout.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo::rustc-link-arg-bins=-no-pie");
        if let Ok(out) = std::env::var("OUT_DIR") {
            let script = std::path::Path::new(&out).join("libgcc_s.so");
            if std::fs::write(&script, "INPUT(-lgcc_eh)\n").is_ok() {
                println!("cargo::rustc-link-search=native={out}");
            }
        }
    }
}
