//! The `pedestal` binary against moto: examples copied into a temporary directory, pointed at
//! moto through `AWS_ENDPOINT_URL`, with moto's default subnets and security group and a unique
//! stack name per test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::conformance::ConformanceGuard;
use super::moto;

pub struct Stack {
    _tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub name: String,
    /// Fails the test, when it ends, with any request that broke AWS's service models.
    _conformance: ConformanceGuard,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            if e.file_name() == "state" {
                continue;
            }
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

impl Stack {
    /// Copies `examples/<example>` (and `modules/`) and renames the stack to a unique name.
    pub fn example(example: &str, original_name: &str) -> Stack {
        let m = moto::moto();
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&root.join("modules"), &tmp.path().join("modules"));
        let dir = tmp.path().join("examples").join(example);
        copy_dir(&root.join("examples").join(example), &dir);
        let name = moto::unique(&original_name[..2]);
        let toml = dir.join("pedestal.toml");
        let mut text = std::fs::read_to_string(&toml).unwrap();
        text = text.replacen(
            &format!("name = \"{original_name}\""),
            &format!("name = \"{name}\""),
            1,
        );
        text = text.replace("fraud-models-", &format!("{name}-models-"));
        text = text.replace(
            "subnets = [\"subnet-0a1b2c3d4e5f60001\", \"subnet-0a1b2c3d4e5f60002\"]",
            &format!("subnets = [\"{}\", \"{}\"]", m.subnets[0], m.subnets[1]),
        );
        text = text.replace("subnet-0a1b2c3d4e5f60001", &m.subnets[0]);
        text = text.replace("sg-0a1b2c3d4e5f60001", &m.security_group);
        std::fs::write(&toml, text).unwrap();
        Stack {
            _tmp: tmp,
            dir,
            _conformance: ConformanceGuard::new(&name),
            name,
        }
    }

    pub fn edit(&self, f: impl FnOnce(String) -> String) {
        let toml = self.dir.join("pedestal.toml");
        let text = std::fs::read_to_string(&toml).unwrap();
        std::fs::write(&toml, f(text)).unwrap();
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_pedestal"));
        c.arg("-C").arg(&self.dir).args(args);
        for (k, v) in moto::env() {
            c.env(k, v);
        }
        // The stack's secret key file lives beside the copy, never in the home directory.
        c.env_remove(pedestal::resource::secret_key::ENV_PASSPHRASE)
            .env(
                pedestal::resource::secret_key::ENV_KEY_DIR,
                self._tmp.path().join("keys"),
            );
        c.env("NO_COLOR", "1").stdin(Stdio::null());
        c
    }

    /// Runs `pedestal ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.command(args).output().unwrap();
        Run(out)
    }
}

pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).to_string()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).to_string()
    }
    /// Asserts exit code `code`, showing both streams otherwise.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code(),
            code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

/// Forwards each line of `from` to the channel as it arrives; the thread returns them all.
pub fn stream_lines(
    from: impl std::io::Read + Send + 'static,
) -> (
    std::sync::mpsc::Receiver<String>,
    std::thread::JoinHandle<String>,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    let all = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut all = String::new();
        for line in std::io::BufReader::new(from).lines().map_while(Result::ok) {
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    (rx, all)
}

/// Blocks until a line containing `needle` arrives (failing after a minute, or when the
/// stream ends first).
pub fn wait_for_line(lines: &std::sync::mpsc::Receiver<String>, needle: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(l) if l.contains(needle) => return,
            Ok(_) => {}
            Err(e) => panic!("no line with {needle:?}: {e}"),
        }
    }
}

/// The lock id a refused run tells the user to `pedestal force-unlock`.
pub fn lock_id(stderr: &str) -> String {
    stderr
        .split("pedestal force-unlock ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no lock id in: {stderr}"))
        .to_string()
}
