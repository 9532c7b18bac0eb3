//! Request conformance: a recording reverse proxy on 127.0.0.1 between everything the tests run
//! (the provider, SDK read-backs, the `pedestal` binary) and moto. Each AWS request is checked by
//! `tests/conformance/check.py` (botocore's service models: required members, types, lengths,
//! ranges, enums, patterns, unknown members) and by `rule_tables.rs` (pedestal's own tables of
//! AWS's documented rules: names, tags, integer ranges) before it is forwarded; a request that
//! breaks a rule is answered as AWS would answer it (400, ValidationException) and kept, and
//! [`assert_conformant`] — called when every test context ends — fails the test with it.
//!
//! The proxy also injects faults for the lost-response and hung-call tests: a [`Fault`] matching
//! an operation (and a marker in its request) either forwards the request and then drops the
//! connection without answering, or holds the connection without forwarding. Seeded chaos for
//! the crash and fault suites (transient errors, drops, latency, a kill at the Nth request)
//! comes from the campaigns of `faults.rs`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::faults::Chaos;

/// Bodies larger than this are not sent to the checker (only blob payloads may be that large).
const MAX_CHECKED_BODY: usize = 512 * 1024;

/// What the proxy does to a request that matches a [`Fault`].
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// Forward the request (AWS acts on it), then close the connection without an answer.
    DropResponse,
    /// Never forward; hold the connection open for this long, then close it unanswered.
    Hang(Duration),
}

/// A fault injected into the next `times` requests for `operation` whose target or body
/// contains `marker`.
#[allow(dead_code)]
#[derive(Clone, Debug)]
pub struct Fault {
    /// The operation name, e.g. `CreateLogGroup`.
    pub operation: String,
    /// A string the request's target or body must contain (a test's unique name).
    pub marker: String,
    pub action: FaultAction,
    pub times: usize,
}

/// One request the proxy saw: service, operation and the checker's violations.
#[allow(dead_code)]
#[derive(Clone, Debug)]
pub struct Seen {
    pub service: Option<String>,
    pub operation: Option<String>,
    pub target: String,
    pub user_agent: String,
    pub violations: Vec<String>,
    /// Set when a fault was applied to this request.
    pub fault: Option<FaultAction>,
    /// A test sent this request to be refused (see [`expect_refusal`]); it fails no test.
    pub expected: bool,
    /// The marker of the test context whose names the request carries, if any.
    pub owner: Option<String>,
    /// Already reported by [`assert_conformant`].
    reported: bool,
}

#[derive(Default)]
struct Shared {
    seen: Vec<Seen>,
    /// Markers of every test context so far (its unique names): requests are attributed by them.
    markers: Vec<String>,
    faults: Vec<Fault>,
    /// Markers of requests tests send on purpose to be refused.
    expected: Vec<String>,
}

fn shared() -> &'static Mutex<Shared> {
    static SHARED: OnceLock<Mutex<Shared>> = OnceLock::new();
    SHARED.get_or_init(|| Mutex::new(Shared::default()))
}

fn lock() -> std::sync::MutexGuard<'static, Shared> {
    shared().lock().unwrap_or_else(|e| e.into_inner())
}

/// Registers a fault for the proxy to inject.
#[allow(dead_code)]
pub fn inject(fault: Fault) {
    lock().faults.push(fault);
}

/// Declares that requests whose target or body contain `marker` are sent to be refused.
#[allow(dead_code)]
pub fn expect_refusal(marker: &str) {
    lock().expected.push(marker.to_string());
}

/// Every request seen so far that carries `marker` (all when empty), in the order they came.
#[allow(dead_code)]
pub fn seen(marker: &str) -> Vec<Seen> {
    lock()
        .seen
        .iter()
        .filter(|s| {
            marker.is_empty() || s.owner.as_deref() == Some(marker) || s.target.contains(marker)
        })
        .cloned()
        .collect()
}

/// Removes the faults still pending for requests carrying `marker`.
#[allow(dead_code)]
pub fn clear_faults(marker: &str) {
    lock().faults.retain(|f| f.marker != marker);
}

/// Panics with every request not reported yet that broke a rule and carries `marker` (or no
/// test's marker at all): each violation fails the test that caused it, once.
pub fn assert_conformant(marker: &str) {
    let mut s = lock();
    let mut bad = Vec::new();
    for r in s.seen.iter_mut() {
        let mine = r.owner.as_deref().is_none_or(|o| o == marker);
        if r.violations.is_empty() || r.expected || r.reported || !mine {
            continue;
        }
        r.reported = true;
        bad.push(r.clone());
    }
    drop(s);
    let bad: Vec<String> = bad
        .iter()
        .map(|r| {
            format!(
                "{} {} ({}; {}):\n    {}",
                r.service.as_deref().unwrap_or("?"),
                r.operation.as_deref().unwrap_or("?"),
                r.target,
                r.user_agent,
                r.violations.join("\n    ")
            )
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} AWS request(s) break the service models:\n  {}",
        bad.len(),
        bad.join("\n  ")
    );
}

/// Fails the test, when dropped, with the violations of the requests that carry its marker
/// (a unique name of the test), unless the test is already failing.
pub struct ConformanceGuard(String);

impl ConformanceGuard {
    /// Attributes requests whose target or body contains `marker` to this guard's test.
    pub fn new(marker: &str) -> ConformanceGuard {
        lock().markers.push(marker.to_string());
        ConformanceGuard(marker.to_string())
    }
}

impl Drop for ConformanceGuard {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert_conformant(&self.0);
        }
    }
}

/// The checker process: `check.py --serve` under the venv's python.
struct Checker {
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

#[derive(serde::Deserialize)]
struct Verdict {
    service: Option<String>,
    operation: Option<String>,
    protocol: Option<String>,
    violations: Vec<String>,
    /// The request's parsed members (checked against the rule tables here).
    #[serde(default)]
    params: serde_json::Value,
}

fn checker(python: &Path) -> &'static Mutex<Checker> {
    static CHECKER: OnceLock<Mutex<Checker>> = OnceLock::new();
    CHECKER.get_or_init(|| {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/check.py");
        let mut child = Command::new(python)
            .arg(&script)
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {} {}: {e}", python.display(), script.display()));
        let stdin = child.stdin.take().expect("checker stdin");
        let stdout = BufReader::new(child.stdout.take().expect("checker stdout"));
        Mutex::new(Checker {
            _child: child,
            stdin,
            stdout,
        })
    })
}

fn check(python: &Path, req: &Request) -> Verdict {
    let headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let omitted = req.body.len() > MAX_CHECKED_BODY;
    let line = serde_json::json!({
        "method": req.method,
        "target": req.target,
        "headers": headers,
        "body_hex": if omitted { String::new() } else { hex::encode(&req.body) },
        "body_omitted": omitted,
    })
    .to_string();
    let mut c = checker(python).lock().unwrap_or_else(|e| e.into_inner());
    writeln!(c.stdin, "{line}").expect("writing to the conformance checker");
    c.stdin.flush().expect("flushing the conformance checker");
    let mut out = String::new();
    c.stdout
        .read_line(&mut out)
        .expect("reading the conformance checker");
    assert!(!out.is_empty(), "the conformance checker exited");
    let mut v: Verdict =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("checker verdict {out:?}: {e}"));
    let broken =
        super::rule_tables::violations(v.service.as_deref(), v.operation.as_deref(), &v.params);
    v.violations.extend(broken);
    v
}

/// A request read off the wire, its body de-chunked.
struct Request {
    method: String,
    target: String,
    version: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_line(r: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}

fn read_request(r: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let Some(first) = read_line(r)? else {
        return Ok(None);
    };
    let mut parts = first.splitn(3, ' ');
    let (method, target, version) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("HTTP/1.1").to_string(),
    );
    let mut headers = Vec::new();
    while let Some(line) = read_line(r)? {
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut req = Request {
        method,
        target,
        version,
        headers,
        body: Vec::new(),
    };
    if req
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        r.get_mut().write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    if req
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        loop {
            let size = read_line(r)?.unwrap_or_default();
            let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            if size == 0 {
                while let Some(l) = read_line(r)? {
                    if l.is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; size];
            r.read_exact(&mut chunk)?;
            req.body.extend_from_slice(&chunk);
            read_line(r)?;
        }
    } else if let Some(len) = req.header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        req.body = vec![0; len];
        r.read_exact(&mut req.body)?;
    }
    Ok(Some(req))
}

/// The request as forwarded to moto: one request per connection, the body by length.
fn forwarded(req: &Request) -> Vec<u8> {
    let mut out = format!("{} {} {}\r\n", req.method, req.target, req.version).into_bytes();
    for (k, v) in &req.headers {
        let lower = k.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "connection" | "keep-alive" | "expect" | "transfer-encoding" | "content-length"
        ) {
            continue;
        }
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            req.body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&req.body);
    out
}

/// Rewrites the response head so the client closes the connection after it.
fn closing(resp: Vec<u8>) -> Vec<u8> {
    let Some(end) = resp.windows(4).position(|w| w == b"\r\n\r\n") else {
        return resp;
    };
    let head = String::from_utf8_lossy(&resp[..end]);
    let mut out = String::new();
    for (i, line) in head.split("\r\n").enumerate() {
        let lower = line.to_ascii_lowercase();
        if i > 0 && (lower.starts_with("connection:") || lower.starts_with("keep-alive:")) {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&resp[end + 4..]);
    bytes
}

/// The answer AWS gives a request that breaks a rule, in the request's protocol.
fn rejection(protocol: Option<&str>, message: &str) -> Vec<u8> {
    let code = match protocol {
        Some("json") => "ValidationException",
        Some("query") => "ValidationError",
        _ => "InvalidArgument",
    };
    error_response(protocol, 400, code, message)
}

/// An error answer in the request's protocol: awsJson (`__type`, `x-amzn-ErrorType`), awsQuery
/// (`ErrorResponse`) or S3's rest-xml (`Error`).
pub fn error_response(protocol: Option<&str>, status: u16, code: &str, message: &str) -> Vec<u8> {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let (ctype, extra, body) = match protocol {
        Some("json") => (
            "application/x-amz-json-1.1",
            format!("x-amzn-ErrorType: {code}\r\n"),
            serde_json::json!({"__type": code, "message": message}).to_string(),
        ),
        Some("query") => (
            "text/xml",
            String::new(),
            format!(
                "<ErrorResponse><Error><Type>{}</Type><Code>{code}</Code>\
                 <Message>{}</Message></Error><RequestId>conformance</RequestId></ErrorResponse>",
                if status < 500 { "Sender" } else { "Receiver" },
                esc(message)
            ),
        ),
        _ => (
            "application/xml",
            String::new(),
            format!(
                "<Error><Code>{code}</Code><Message>{}</Message>\
                 <RequestId>conformance</RequestId></Error>",
                esc(message)
            ),
        ),
    };
    let reason = match status {
        400 => "Bad Request",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn take_fault(operation: Option<&str>, req: &Request) -> Option<FaultAction> {
    let op = operation?;
    let mut s = lock();
    let body = String::from_utf8_lossy(&req.body);
    let i = s.faults.iter().position(|f| {
        f.operation == op && (req.target.contains(&f.marker) || body.contains(&f.marker))
    })?;
    let action = s.faults[i].action;
    s.faults[i].times -= 1;
    if s.faults[i].times == 0 {
        s.faults.remove(i);
    }
    Some(action)
}

fn serve(client: TcpStream, upstream: u16, python: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let Some(req) = read_request(&mut reader)? else {
        return Ok(());
    };
    let mut client = client;
    if req.target.starts_with("/moto-api") {
        let resp = exchange(upstream, &req)?;
        return client.write_all(&closing(resp));
    }
    let verdict = check(python, &req);
    let fault = if verdict.violations.is_empty() {
        take_fault(verdict.operation.as_deref(), &req)
    } else {
        None
    };
    let body = String::from_utf8_lossy(&req.body);
    let mut shared = lock();
    let carries = |m: &String| req.target.contains(m.as_str()) || body.contains(m.as_str());
    let expected = shared.expected.iter().any(carries);
    // The longest marker carried: a test's names may extend another's prefix.
    let owner = shared
        .markers
        .iter()
        .filter(|m| carries(m))
        .max_by_key(|m| m.len())
        .cloned();
    shared.seen.push(Seen {
        service: verdict.service.clone(),
        operation: verdict.operation.clone(),
        target: req.target.clone(),
        user_agent: req.header("user-agent").unwrap_or("").to_string(),
        violations: verdict.violations.clone(),
        fault,
        expected,
        owner,
        reported: false,
    });
    drop(shared);
    if !verdict.violations.is_empty() {
        let message = format!("request conformance: {}", verdict.violations.join("; "));
        return client.write_all(&rejection(verdict.protocol.as_deref(), &message));
    }
    let chaos = match fault {
        Some(_) => None,
        None => super::faults::decide(
            verdict.operation.as_deref(),
            &req.target,
            &body,
            req.header("amz-sdk-request"),
        ),
    };
    match chaos {
        None => {}
        Some(Chaos::Error(error)) => {
            let (status, code) = super::faults::code_for(verdict.protocol.as_deref(), error);
            let message = format!("injected fault: {code}");
            return client.write_all(&error_response(
                verdict.protocol.as_deref(),
                status,
                code,
                &message,
            ));
        }
        Some(Chaos::Drop) => return client.shutdown(Shutdown::Both),
        Some(Chaos::Delay(d)) => std::thread::sleep(d),
        Some(Chaos::Kill { forward, pid }) => {
            if forward {
                exchange(upstream, &req)?;
            }
            super::faults::kill(pid);
            return client.shutdown(Shutdown::Both);
        }
    }
    match fault {
        Some(FaultAction::DropResponse) => {
            exchange(upstream, &req)?;
            client.shutdown(Shutdown::Both)
        }
        Some(FaultAction::Hang(d)) => {
            std::thread::sleep(d);
            client.shutdown(Shutdown::Both)
        }
        None => {
            let resp = exchange(upstream, &req)?;
            client.write_all(&closing(resp))
        }
    }
}

/// Sends `req` to moto on a fresh connection and reads the whole answer.
fn exchange(upstream: u16, req: &Request) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    up.write_all(&forwarded(req))?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp)?;
    Ok(resp)
}

/// Starts the proxy in front of moto's `upstream` port; returns the proxy's port.
pub fn start(upstream: u16, python: PathBuf) -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("binding the conformance proxy");
    let port = listener.local_addr().expect("proxy address").port();
    std::thread::Builder::new()
        .name("conformance-proxy".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let python = python.clone();
                let _ = std::thread::Builder::new()
                    .name("conformance-conn".into())
                    .spawn(move || {
                        let _ = serve(conn, upstream, &python);
                    });
            }
        })
        .expect("starting the conformance proxy");
    port
}

/// Runs the checker over one request given as raw parts (for the checker's own tests).
#[allow(dead_code)]
pub fn check_raw(
    python: &Path,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (Option<String>, Vec<String>) {
    let req = Request {
        method: method.into(),
        target: target.into(),
        version: "HTTP/1.1".into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.to_vec(),
    };
    let v = check(python, &req);
    (v.operation, v.violations)
}

/// Operations seen so far, by name, with how many times each was sent.
#[allow(dead_code)]
pub fn operations() -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for s in lock().seen.iter() {
        if let Some(op) = &s.operation {
            *out.entry(format!("{}:{op}", s.service.as_deref().unwrap_or("?")))
                .or_insert(0) += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    //! The checker itself: requests that break each kind of rule are caught, a well-formed one
    //! of each protocol passes, and a request broken on the wire is refused by the proxy.

    use super::*;

    fn python() -> PathBuf {
        crate::apply::moto::moto().python.clone()
    }

    fn auth(service: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
        )
    }

    fn json(service: &str, target: &str, body: &str) -> (Option<String>, Vec<String>) {
        check_raw(
            &python(),
            "POST",
            "/",
            &[
                ("Authorization", &auth(service)),
                ("X-Amz-Target", target),
                ("Content-Type", "application/x-amz-json-1.1"),
            ],
            body.as_bytes(),
        )
    }

    fn query(service: &str, body: &str) -> (Option<String>, Vec<String>) {
        check_raw(
            &python(),
            "POST",
            "/",
            &[
                ("Authorization", &auth(service)),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        )
    }

    fn has(v: &[String], needle: &str) -> bool {
        v.iter().any(|x| x.contains(needle))
    }

    #[test]
    fn json_requests_are_checked_member_by_member() {
        let (op, v) = json(
            "logs",
            "Logs_20140328.CreateLogGroup",
            r#"{"logGroupName":"ok/name-1","tags":{"pedestal:stack":"s"}}"#,
        );
        assert_eq!((op.as_deref(), v), (Some("CreateLogGroup"), vec![]));

        let long = "a".repeat(513);
        let (_, v) = json(
            "logs",
            "Logs_20140328.CreateLogGroup",
            &format!(r#"{{"logGroupName":"{long}","extra":1}}"#),
        );
        assert!(
            has(&v, "logGroupName: length 513 is over the maximum 512"),
            "{v:?}"
        );
        assert!(has(&v, "extra: not a member"), "{v:?}");

        let (_, v) = json(
            "logs",
            "Logs_20140328.CreateLogGroup",
            r#"{"logGroupName":"has space"}"#,
        );
        assert!(has(&v, "does not match"), "{v:?}");

        let (_, v) = json(
            "ecs",
            "AmazonEC2ContainerServiceV20141113.CreateService",
            r#"{"cluster":"c","launchType":"FARGATEE","desiredCount":"2"}"#,
        );
        assert!(
            has(&v, "Missing required parameter in input: \"serviceName\""),
            "{v:?}"
        );
        assert!(has(&v, "launchType: 'FARGATEE' is not one of"), "{v:?}");
        assert!(has(&v, "Invalid type for parameter desiredCount"), "{v:?}");

        let (_, v) = json(
            "ecs",
            "AmazonEC2ContainerServiceV20141113.CreateService",
            r#"{"serviceName":"s","desiredCount":4294967296}"#,
        );
        assert!(has(&v, "does not fit a 32-bit integer"), "{v:?}");
    }

    #[test]
    fn query_requests_are_parsed_back_into_members() {
        let (op, v) = query(
            "monitoring",
            "Action=PutMetricAlarm&Version=2010-08-01&AlarmName=a&EvaluationPeriods=1\
             &ComparisonOperator=GreaterThanThreshold&Threshold=80&Dimensions.member.1.Name=ClusterName\
             &Dimensions.member.1.Value=c&Tags.member.1.Key=pedestal%3Astack&Tags.member.1.Value=s",
        );
        assert_eq!((op.as_deref(), v), (Some("PutMetricAlarm"), vec![]));

        let (_, v) = query(
            "monitoring",
            "Action=PutMetricAlarm&Version=2010-08-01&AlarmName=a&EvaluationPeriods=0\
             &ComparisonOperator=Above&Threshold=x&Bogus=1",
        );
        assert!(
            has(&v, "EvaluationPeriods, value: 0, valid min value: 1"),
            "{v:?}"
        );
        assert!(
            has(&v, "ComparisonOperator: 'Above' is not one of"),
            "{v:?}"
        );
        assert!(has(&v, "Threshold: 'x' is not a valid double"), "{v:?}");
        assert!(has(&v, "Bogus: not a member"), "{v:?}");

        let (op, v) = query("monitoring", "Action=NoSuchThing&Version=2010-08-01");
        assert_eq!(op, None);
        assert!(has(&v, "no operation 'NoSuchThing'"), "{v:?}");
    }

    #[test]
    fn rest_xml_requests_are_matched_and_their_bodies_checked() {
        let s3 = |method: &str, target: &str, body: &str| {
            check_raw(
                &python(),
                method,
                target,
                &[("Authorization", &auth("s3"))],
                body.as_bytes(),
            )
        };
        let ok = "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>\
                  <Tag><Key>pedestal:stack</Key><Value>s</Value></Tag></TagSet></Tagging>";
        assert_eq!(
            s3("PUT", "/bucket?tagging", ok),
            (Some("PutBucketTagging".into()), vec![])
        );
        let (op, v) = s3(
            "PUT",
            "/bucket?tagging",
            "<Tagging><TagSet><Tag><Key>k</Key></Tag><Tagg/></TagSet></Tagging>",
        );
        assert_eq!(op.as_deref(), Some("PutBucketTagging"));
        assert!(
            has(
                &v,
                "Missing required parameter in Tagging.TagSet[0]: \"Value\""
            ),
            "{v:?}"
        );
        assert!(has(&v, "unexpected element <Tagg>"), "{v:?}");
        assert_eq!(
            s3("GET", "/bucket?list-type=2&prefix=a%2F", ""),
            (Some("ListObjectsV2".into()), vec![])
        );
        assert_eq!(
            s3("PUT", "/bucket/some/key?x-id=PutObject", "bytes"),
            (Some("PutObject".into()), vec![])
        );
        let (op, v) = s3("GET", "/bucket?list-type=2&max-keys=ten", "");
        assert_eq!(op.as_deref(), Some("ListObjectsV2"));
        assert!(has(&v, "'ten' is not a valid integer"), "{v:?}");
    }

    #[tokio::test]
    async fn the_proxy_refuses_a_broken_request_as_aws_would() {
        let conf = crate::apply::moto::sdk_config().await;
        let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
        let marker = crate::apply::moto::unique("conformance");
        expect_refusal(&marker);
        let name = format!("{marker} space");
        let err = logs
            .create_log_group()
            .log_group_name(&name)
            .send()
            .await
            .expect_err("a log group name with a space is refused");
        let err = err.into_service_error();
        assert_eq!(err.meta().code(), Some("ValidationException"), "{err:?}");
        let seen = seen("");
        let mine: Vec<&Seen> = seen
            .iter()
            .filter(|s| s.operation.as_deref() == Some("CreateLogGroup") && s.expected)
            .collect();
        assert_eq!(mine.len(), 1, "{seen:?}");
        assert!(
            mine[0]
                .violations
                .iter()
                .any(|v| v.contains("does not match")),
            "{mine:?}"
        );
    }
}
