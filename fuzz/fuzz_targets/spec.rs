//! Fuzzes the spec pipeline: parsing, module instantiation, resolution, validation and lowering
//! (`spec::load`), then the dependency graph and a plan from empty state, and the rendering of
//! every diagnostic with its source excerpt. The input is up to three files separated by NUL
//! bytes: `pedestal.toml`, `env/dev.toml` and `modules/m/module.toml` (which a spec reaches as
//! `source = "modules/m"`). Nothing may panic; a spec that loads must plan or be refused with
//! a typed error.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pedestal::plan::{PlanOptions, plan};
use pedestal::spec::{self, LoadOptions};
use pedestal::state::State;

/// A scratch stack directory with artifact files for sources to name; files are rewritten per
/// input.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("scratch directory").keep();
        for sub in ["env", "modules/m", "artifacts"] {
            std::fs::create_dir_all(dir.join(sub)).expect("scratch directory");
        }
        for file in ["model.onnx", "fraud.onnx", "churn.onnx"] {
            std::fs::write(dir.join("artifacts").join(file), b"weights").expect("artifact");
        }
        std::fs::write(dir.join("model.bin"), b"weights").expect("artifact");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = dir();
    let mut parts = data.splitn(3, |b| *b == 0);
    let files = ["pedestal.toml", "env/dev.toml", "modules/m/module.toml"];
    for file in files {
        let path = dir.join(file);
        match parts.next() {
            Some(bytes) => std::fs::write(&path, bytes).expect("writing the input"),
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    match spec::load(dir, &LoadOptions::env("dev")) {
        Ok(config) => {
            let _ = pedestal::graph::to_dot(&config);
            let _ = plan(&config, &State::new(&config.stack, &config.env), &PlanOptions::default());
        }
        Err(diags) => {
            let _ = diags.render(false, 100);
        }
    }
});
