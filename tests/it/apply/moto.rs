//! The moto harness: installs moto with `scripts/setup-moto`, starts one `moto_server` per test
//! process on a socket bound to a free 127.0.0.1 port before the server starts (with
//! `MOTO_ECS_SERVICE_RUNNING=1`, so services created with one task complete their rollout),
//! waits for `/moto-api/`, and fails — never skips — when it cannot. A watchdog shell kills the
//! server when the test process exits. Everything reaches moto through the conformance proxy
//! (`conformance.rs`), which checks each request against AWS's service models.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pedestal::provider::aws::{AwsOptions, AwsProvider};

pub struct Moto {
    /// The conformance proxy in front of moto (see `conformance.rs`): what everything talks to.
    pub endpoint: String,
    /// moto's own port, for requests that must bypass the proxy.
    #[allow(dead_code)]
    pub port: u16,
    pub subnets: Vec<String>,
    pub security_group: String,
    /// The venv's python, which runs the conformance checker.
    pub python: PathBuf,
    /// The watchdog shell owning moto_server; it exits with this process.
    _watchdog: std::sync::Mutex<std::process::Child>,
}

static MOTO: OnceLock<Moto> = OnceLock::new();

/// Binds 127.0.0.1:0, writes the port to the file named by argv[2] (atomically), and execs
/// moto_server (argv[1]) serving that very socket (werkzeug's inherited-socket path).
const SERVE_ON_BOUND_SOCKET: &str = r#"
import os, socket, sys
server, port_file = sys.argv[1], sys.argv[2]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(128)
s.set_inheritable(True)
port = s.getsockname()[1]
os.environ["WERKZEUG_RUN_MAIN"] = "true"
os.environ["WERKZEUG_SERVER_FD"] = str(s.fileno())
with open(port_file + ".tmp", "w") as f:
    f.write(str(port))
os.rename(port_file + ".tmp", port_file)
os.execv(server, [server, "-H", "127.0.0.1", "-p", str(port)])
"#;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared moto server, started on first use.
pub fn moto() -> &'static Moto {
    MOTO.get_or_init(start)
}

fn start() -> Moto {
    // scripts/test installs moto first and says where; otherwise install it now.
    let server = match std::env::var("PEDESTAL_MOTO_SERVER") {
        Ok(s) if !s.is_empty() => s,
        _ => {
            let setup = Command::new(repo_root().join("scripts/setup-moto"))
                .stderr(Stdio::inherit())
                .output()
                .expect("running scripts/setup-moto");
            assert!(setup.status.success(), "scripts/setup-moto failed");
            String::from_utf8_lossy(&setup.stdout).trim().to_string()
        }
    };
    assert!(
        std::path::Path::new(&server).exists(),
        "setup-moto printed {server:?}, which does not exist"
    );
    // The port comes from a listener bound before moto starts and handed to it (werkzeug
    // serves an inherited socket), so no other process can take the port in between.
    let files = std::env::temp_dir().join(format!("pedestal-moto-{}", std::process::id()));
    let log = files.with_extension("log");
    let port_file = files.with_extension("port");
    let _ = std::fs::remove_file(&port_file);
    let script = format!(
        "python3 -c \"$1\" \"$0\" \"$2\" >'{log}' 2>&1 & m=$!; trap 'kill $m 2>/dev/null' EXIT; \
         while kill -0 {parent} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 0.3; done",
        log = log.display(),
        parent = std::process::id()
    );
    let watchdog = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .arg(&server)
        .arg(SERVE_ON_BOUND_SOCKET)
        .arg(&port_file)
        .env("MOTO_ECS_SERVICE_RUNNING", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting moto_server");
    let deadline = Instant::now() + Duration::from_secs(90);
    let port = loop {
        let port = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|p| p.trim().parse::<u16>().ok());
        if let Some(port) = port
            && let Ok((200, _)) = http(port, "GET", "/moto-api/", &[], "")
        {
            break port;
        }
        assert!(
            Instant::now() < deadline,
            "moto_server did not answer within 90s; log: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let subnets = ec2_ids(port, "DescribeSubnets", "subnetId");
    let sgs = ec2_ids(
        port,
        "DescribeSecurityGroups&Filter.1.Name=group-name&Filter.1.Value.1=default",
        "groupId",
    );
    assert!(!subnets.is_empty(), "moto has no default subnets");
    // The venv's python (beside moto_server) has botocore, whose models the proxy checks against.
    let python = std::path::Path::new(&server).with_file_name("python");
    let proxy = super::conformance::start(port, python.clone());
    Moto {
        endpoint: format!("http://127.0.0.1:{proxy}"),
        port,
        subnets: subnets.into_iter().take(2).collect(),
        security_group: sgs
            .into_iter()
            .next()
            .expect("moto has no default security group"),
        python,
        _watchdog: std::sync::Mutex::new(watchdog),
    }
}

/// A raw HTTP/1.0 request to moto (status, body).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Ids from an EC2 query call (moto routes by the credential scope; it checks no signature).
fn ec2_ids(port: u16, action: &str, tag: &str) -> Vec<String> {
    let body = format!("Action={action}&Version=2016-11-15");
    let (status, xml) = http(
        port,
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0",
            ),
        ],
        &body,
    )
    .expect("EC2 query to moto");
    assert_eq!(status, 200, "EC2 {action}: {xml}");
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut ids: Vec<String> = xml
        .split(&open)
        .skip(1)
        .filter_map(|s| s.split(&close).next().map(str::to_string))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// SDK configuration for moto: static credentials, fixed region, the moto endpoint.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "static",
        ))
        .endpoint_url(&moto().endpoint)
        .retry_config(pedestal::provider::aws::retry_config())
        .load()
        .await
}

/// The AWS provider pointed at moto, with fast polls.
pub async fn provider(root: &std::path::Path) -> AwsProvider {
    provider_with(root, |_| {}).await
}

/// The AWS provider pointed at moto, with fast polls and options changed by `change`.
pub async fn provider_with(
    root: &std::path::Path,
    change: impl FnOnce(&mut AwsOptions),
) -> AwsProvider {
    let conf = sdk_config().await;
    let mut opts = AwsOptions {
        poll_interval: Duration::from_millis(50),
        inactive_timeout: Duration::from_secs(20),
        root: root.to_path_buf(),
        ..AwsOptions::default()
    };
    change(&mut opts);
    AwsProvider::from_sdk_config(&conf, opts)
}

/// Environment for a `pedestal` subprocess talking to moto.
pub fn env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_ENDPOINT_URL", moto().endpoint.clone()),
    ]
}

/// A name no other test in this process (or an earlier run against the same server) uses.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    format!(
        "{prefix}-{}-{n}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() % 1_000_000)
            .unwrap_or(0)
    )
}
