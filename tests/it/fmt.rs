//! `pedestal fmt`: canonical form, `--check` with a diff and exit code 3, comments kept.

use assert_cmd::Command;

const MESSY: &str = "# the stack\n[endpoint.api]\ncompute=\"serving\"   # where it runs\n\n\n[stack]\n  name = \"demo\"\ntags={team=\"ml\"}\n";
const CANONICAL: &str = "[stack]\nname = \"demo\"\ntags = { team = \"ml\" }\n\n# the stack\n[endpoint.api]\ncompute = \"serving\" # where it runs\n";

fn stack(contents: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pedestal.toml"), contents).unwrap();
    std::fs::create_dir(dir.path().join("env")).unwrap();
    std::fs::write(dir.path().join("env/dev.toml"), "replicas=2\n").unwrap();
    dir
}

#[test]
fn check_reports_a_diff_and_exits_3_without_writing() {
    let dir = stack(MESSY);
    let out = Command::cargo_bin("pedestal")
        .unwrap()
        .args(["fmt", "--check", "-C"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("+compute = \"serving\" # where it runs"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+replicas = 2"),
        "env files are formatted too: {stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pedestal.toml")).unwrap(),
        MESSY,
        "--check never writes"
    );
}

#[test]
fn fmt_rewrites_into_canonical_form_and_then_checks_clean() {
    let dir = stack(MESSY);
    Command::cargo_bin("pedestal")
        .unwrap()
        .args(["fmt", "-C"])
        .arg(dir.path())
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pedestal.toml")).unwrap(),
        CANONICAL
    );
    Command::cargo_bin("pedestal")
        .unwrap()
        .args(["fmt", "--check", "-C"])
        .arg(dir.path())
        .assert()
        .code(0);
}

#[test]
fn unparsable_file_is_an_error_and_nothing_is_written() {
    let dir = stack("[stack\nname = 1\n");
    let out = Command::cargo_bin("pedestal")
        .unwrap()
        .args(["fmt", "-C"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pedestal.toml"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("env/dev.toml")).unwrap(),
        "replicas=2\n",
        "no file is written when one fails to parse"
    );
}
