//! Build script: links the `pedestal` executable at a fixed address on Linux with glibc.
//!
//! A position-independent executable is relocated by the dynamic loader at every start: about
//! 100,000 relative relocations here (vtables and static tables of the AWS SDK, clap and our
//! own), which copy 1.3 MB of read-only data into fresh pages and read 2.4 MB of relocation
//! records. That is about 400 page faults and 2 ms of every command, `--version` included,
//! a tenth of a 1,000-resource plan. Linked at a fixed address (as Go links Terraform's
//! binary) the executable needs none of it. Shared libraries, the heap and the stacks are
//! still placed at random.

#![allow(clippy::print_stdout)] // A build script speaks to cargo on stdout.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
