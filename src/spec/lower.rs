//! Lowering: each user block becomes provider [`Resource`]s with their own addresses and the
//! attribute names of [`ResourceKind`]'s contract, defaults filled in and values validated
//! (bucket names, Fargate sizes, GPU placement, autoscaling bounds, artifact files). Each block
//! also publishes the attributes other blocks may reference (`exports`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::diag::{ErrorCode, Span, did_you_mean};
use super::fields::{Fields, Src};
use super::load::{BlockKind, Exported, Hashed, Loader, slash};
use super::resolve::Deps;
use crate::addr::Address;
use crate::resource::{Attrs, Lifecycle, Resource, ResourceKind, TemplatePart, Value};

const STORAGE_KEYS: &[&str] = &[
    "bucket",
    "versioning",
    "encryption",
    "kms_key",
    "public_access_block",
    "lifecycle",
    "force_destroy",
    "tags",
    "depends_on",
];
const ARTIFACT_KEYS: &[&str] = &[
    "storage",
    "source",
    "key",
    "content_type",
    "tags",
    "depends_on",
    "lifecycle",
];
const COMPUTE_KEYS: &[&str] = &[
    "name",
    "container_insights",
    "capacity_providers",
    "tags",
    "depends_on",
    "lifecycle",
];
const ENDPOINT_KEYS: &[&str] = &[
    "compute",
    "model",
    "image",
    "cpu",
    "memory",
    "gpu",
    "replicas",
    "port",
    "environment",
    "secrets",
    "health_check",
    "execution_role",
    "task_role",
    "network",
    "deployment",
    "autoscaling",
    "logs",
    "tags",
    "depends_on",
    "lifecycle",
];
const LIFECYCLE_KEYS: &[&str] = &["prevent_destroy", "ignore_changes", "create_before_destroy"];

/// Fargate's valid task sizes: cpu units → allowed memory (MiB).
pub fn fargate_memory(cpu: i64) -> Option<Vec<i64>> {
    let range = |from: i64, to: i64, step: i64| {
        (0..)
            .map(move |i| from + i * step)
            .take_while(move |m| *m <= to)
    };
    Some(match cpu {
        256 => vec![512, 1024, 2048],
        512 => range(1024, 4096, 1024).collect(),
        1024 => range(2048, 8192, 1024).collect(),
        2048 => range(4096, 16384, 1024).collect(),
        4096 => range(8192, 30720, 1024).collect(),
        8192 => range(16384, 61440, 4096).collect(),
        16384 => range(32768, 122880, 8192).collect(),
        _ => return None,
    })
}

/// Why a bucket name is invalid, if it is.
pub fn bucket_name_problem(name: &str) -> Option<&'static str> {
    let b = name.as_bytes();
    if b.len() < 3 || b.len() > 63 {
        return Some("bucket names are 3 to 63 characters long");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    {
        return Some("bucket names use only lowercase letters, digits, `.` and `-`");
    }
    if !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return Some("bucket names begin and end with a letter or digit");
    }
    if name.contains("..") {
        return Some("bucket names have no two adjacent periods");
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return Some("bucket names are not formatted as IP addresses");
    }
    if name.starts_with("xn--") || name.starts_with("sthree-") {
        return Some("bucket names do not start with `xn--` or `sthree-`");
    }
    if name.ends_with("-s3alias") || name.ends_with("--ol-s3") {
        return Some("bucket names do not end with `-s3alias` or `--ol-s3`");
    }
    None
}

const LOG_RETENTION: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Joins strings and references into one value (a template when anything is unknown).
fn concat(parts: &[Value]) -> Value {
    let mut out: Vec<TemplatePart> = Vec::new();
    let push = |out: &mut Vec<TemplatePart>, s: &str| {
        if let Some(TemplatePart::Lit(l)) = out.last_mut() {
            l.push_str(s);
        } else {
            out.push(TemplatePart::Lit(s.to_string()));
        }
    };
    for p in parts {
        match p {
            Value::Ref(r) => out.push(TemplatePart::Ref(r.clone())),
            Value::Template(t) => {
                for x in t {
                    match x {
                        TemplatePart::Lit(s) => push(&mut out, s),
                        r => out.push(r.clone()),
                    }
                }
            }
            Value::Sensitive(inner) => push(&mut out, &inner.to_plain_string()),
            v => push(&mut out, &v.to_plain_string()),
        }
    }
    match out.as_slice() {
        [] => Value::String(String::new()),
        [TemplatePart::Lit(s)] => Value::String(s.clone()),
        _ => Value::Template(out),
    }
}

/// Streams a file through SHA-256.
fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((hex::encode(h.finalize()), size))
}

fn walk(dir: &Path, rel: &str, out: &mut BTreeMap<String, PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let rel_name = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let meta = std::fs::symlink_metadata(e.path())?;
        if meta.is_dir() {
            walk(&e.path(), &rel_name, out)?;
        } else if meta.is_file() || std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()) {
            out.insert(rel_name, e.path());
        }
    }
    Ok(())
}

/// Hashes a file, or a directory as a sorted manifest of `relpath\tsha256\n` lines.
fn hash_source(path: &Path) -> std::io::Result<Hashed> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        let mut files = BTreeMap::new();
        walk(path, "", &mut files)?;
        let mut manifest = String::new();
        let mut digests = BTreeMap::new();
        let mut total = 0;
        for (rel, p) in files {
            let (hex, size) = hash_file(&p)?;
            manifest.push_str(&format!("{rel}\t{hex}\n"));
            total += size;
            digests.insert(rel, hex);
        }
        Ok((
            hex::encode(Sha256::digest(manifest.as_bytes())),
            total,
            Some(digests),
        ))
    } else {
        let (hex, size) = hash_file(path)?;
        Ok((hex, size, None))
    }
}

/// What every resource of one block shares.
struct Meta<'a> {
    lifecycle: &'a Lifecycle,
    /// Maps a spec key named in `ignore_changes` to resource attributes.
    ignore: &'a dyn Fn(&str) -> Vec<&'static str>,
    tags: &'a BTreeMap<String, Value>,
}

fn no_mapping(_: &str) -> Vec<&'static str> {
    Vec::new()
}

impl Loader<'_> {
    /// Reports `storage = "x"` / `compute = "x"` naming a block of `kind` that the scope lacks,
    /// with a "did you mean" or the list of blocks declared.
    fn unknown_named_block(
        &mut self,
        scope: usize,
        kind: BlockKind,
        (owner_kind, owner): (&str, &str),
        name: &str,
        span: &Span,
    ) {
        let kind_name = kind.as_str();
        let mut names: Vec<String> = self.scopes[scope]
            .blocks
            .keys()
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| n.clone())
            .collect();
        names.sort();
        let help = did_you_mean(name, names.iter().map(String::as_str))
            .unwrap_or_else(|| format!("declared {kind_name} blocks: {}", names.join(", ")));
        self.err(
            ErrorCode::UnknownReference,
            span,
            format!("{owner_kind} `{owner}` names {kind_name} `{name}`, which is not declared"),
            format!("no such {kind_name} block"),
        )
        .help = Some(help);
    }

    /// Default physical name: `<stack>-<env>-<module…>-<name>`, `_` → `-`.
    fn default_name(&self, scope: usize, name: &str) -> String {
        let mut parts = vec![self.stack.clone(), self.env.clone()];
        parts.extend(self.scopes[scope].qual.iter().cloned());
        parts.push(name.to_string());
        parts.join("-").replace('_', "-")
    }

    /// Stack tags, then block tags, then the `pedestal:*` ones.
    fn tags_for(&self, block_tags: &BTreeMap<String, Value>, address: &Address) -> Value {
        let mut m: BTreeMap<String, Value> = self
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        m.extend(block_tags.clone());
        m.insert("pedestal:stack".into(), Value::str(&self.stack));
        m.insert("pedestal:env".into(), Value::str(&self.env));
        m.insert("pedestal:address".into(), Value::str(address.as_str()));
        Value::Map(m)
    }

    fn add_resource(
        &mut self,
        address: Address,
        kind: ResourceKind,
        mut attrs: Attrs,
        deps: &Deps,
        meta: &Meta<'_>,
    ) {
        let (lifecycle, ignore_map, block_tags) = (meta.lifecycle, meta.ignore, meta.tags);
        if kind.taggable() {
            attrs.insert("tags".into(), self.tags_for(block_tags, &address));
        }
        let mut depends_on = BTreeSet::new();
        for (d, span) in deps {
            if *d != address {
                depends_on.insert(d.clone());
                self.dep_origin
                    .entry((address.clone(), d.clone()))
                    .or_insert_with(|| span.clone());
            }
        }
        let mut lc = lifecycle.clone();
        let mut ignore: Vec<String> = Vec::new();
        for name in &lifecycle.ignore_changes {
            let mapped = ignore_map(name);
            let names: Vec<String> = if mapped.is_empty() {
                vec![name.clone()]
            } else {
                mapped.iter().map(|s| s.to_string()).collect()
            };
            for n in names {
                if attrs.contains_key(&n) && !ignore.contains(&n) {
                    ignore.push(n);
                }
            }
        }
        ignore.sort();
        lc.ignore_changes = ignore;
        self.resources.insert(
            address.clone(),
            Resource {
                address,
                kind,
                attrs,
                depends_on,
                lifecycle: lc,
            },
        );
    }

    /// Reads the keys every block shares: tags, depends_on, lifecycle.
    fn common(
        &mut self,
        block: usize,
        f: &Fields<'_>,
        allowed: &[&str],
        deps: &mut Deps,
    ) -> (BTreeMap<String, Value>, Lifecycle) {
        let b = self.blocks[block].clone();
        let tags = self
            .v_str_map(f, "tags", deps)
            .map(|(m, _)| m)
            .unwrap_or_default();
        let mut lc = Lifecycle::default();
        let meta = f
            .src("lifecycle")
            .is_some_and(|s| !(b.kind == BlockKind::Storage && s.is_array()));
        if meta {
            let mut d = Deps::new();
            if let Some(l) = self.sub(f, "lifecycle", LIFECYCLE_KEYS, &mut d) {
                lc.prevent_destroy = self
                    .v_bool(&l, "prevent_destroy", &mut d)
                    .is_some_and(|x| x.0);
                lc.create_before_destroy = self
                    .v_bool(&l, "create_before_destroy", &mut d)
                    .is_some_and(|x| x.0);
                if let Some((names, span)) = self.v_plain_str_list(&l, "ignore_changes", &mut d) {
                    let keys: Vec<&str> = allowed
                        .iter()
                        .copied()
                        .filter(|k| !["depends_on", "lifecycle"].contains(k))
                        .collect();
                    for n in names {
                        if keys.contains(&n.as_str()) {
                            lc.ignore_changes.push(n);
                        } else {
                            let help =
                                did_you_mean(&n, keys.iter().copied()).unwrap_or_else(|| {
                                    format!("keys of {}: {}", b.addr, keys.join(", "))
                                });
                            self.err(
                                ErrorCode::InvalidValue,
                                &span,
                                format!(
                                    "ignore_changes names `{n}`, which is not a key of {}",
                                    b.addr
                                ),
                                "unknown key",
                            )
                            .help = Some(help);
                        }
                    }
                }
            }
        }
        let src = f.src("depends_on").cloned();
        self.depends_on(block, src);
        (tags, lc)
    }

    /// Reads `depends_on = ["kind.name", "module.name"]` of a block (or module call): each
    /// target must be declared in the same scope.
    pub fn depends_on(&mut self, block: usize, src: Option<Src<'_>>) {
        let b = self.blocks[block].clone();
        if let Some(src) = src {
            let list: Option<Vec<(String, Span)>> = match &src {
                Src::Node(n) => match &n.kind {
                    super::raw::NodeKind::Array(items) => items
                        .iter()
                        .map(|i| i.literal_str().map(|s| (s.to_string(), i.span.clone())))
                        .collect(),
                    _ => None,
                },
                Src::Val(..) => None,
            };
            match list {
                Some(items) => {
                    for (t, span) in items {
                        if self.depends_on_target_exists(b.scope, &t) {
                            self.explicit_deps.push((block, t, span));
                        } else {
                            let sc = self.scopes[b.scope].clone();
                            let mut known: Vec<String> = sc
                                .blocks
                                .keys()
                                .map(|(k, n)| format!("{}.{n}", k.as_str()))
                                .collect();
                            known.sort();
                            let help = did_you_mean(&t, known.iter().map(String::as_str))
                                .unwrap_or_else(|| {
                                    "depends_on lists block addresses such as \"storage.models\" or \"module.churn\"".into()
                                });
                            self.err(
                                ErrorCode::DependsOn,
                                &span,
                                format!("depends_on names `{t}`, which is not declared"),
                                "unknown block",
                            )
                            .help = Some(help);
                        }
                    }
                }
                None => {
                    let span = src.span().clone();
                    self.err(
                        ErrorCode::WrongType,
                        &span,
                        format!(
                            "`depends_on` in {} must be a list of block addresses",
                            b.addr
                        ),
                        "expected a list of strings",
                    )
                    .help = Some("for example: depends_on = [\"storage.models\"]".into());
                }
            }
        }
    }

    fn depends_on_target_exists(&self, scope: usize, t: &str) -> bool {
        let parts: Vec<&str> = t.split('.').collect();
        if parts.len() < 2 {
            return false;
        }
        let Some(kind) = BlockKind::parse(parts[0]) else {
            return false;
        };
        self.scopes[scope]
            .blocks
            .contains_key(&(kind, parts[1].to_string()))
    }

    /// Lowers one block and records its exports.
    pub fn lower_block(&mut self, id: usize) {
        let b = self.blocks[id].clone();
        match b.kind {
            BlockKind::Storage => self.lower_storage(id),
            BlockKind::Artifact => self.lower_artifact(id),
            BlockKind::Compute => self.lower_compute(id),
            BlockKind::Endpoint => self.lower_endpoint(id),
            BlockKind::Module => {}
        }
    }

    fn open<'n>(
        &mut self,
        id: usize,
        node: &'n super::raw::Node,
        allowed: &[&str],
        deps: &mut Deps,
    ) -> Option<Fields<'n>> {
        let b = self.blocks[id].clone();
        self.fields(
            b.scope,
            &Src::Node(node),
            &b.name_span,
            &b.addr,
            allowed,
            deps,
        )
    }

    fn export(&mut self, id: usize, producer: &Address, values: Vec<(&str, Value)>) {
        let deps = BTreeSet::from([producer.clone()]);
        self.exports.insert(
            id,
            values
                .into_iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        Exported {
                            value: v,
                            deps: deps.clone(),
                        },
                    )
                })
                .collect(),
        );
    }

    fn lower_storage(&mut self, id: usize) {
        let b = self.blocks[id].clone();
        let mut deps = Deps::new();
        let Some(f) = self.open(id, &b.node, STORAGE_KEYS, &mut deps) else {
            return;
        };
        let (tags, lc) = self.common(id, &f, STORAGE_KEYS, &mut deps);
        let bucket = match self.v_str(&f, "bucket", &mut deps) {
            Some((v, span)) => {
                if let Value::String(s) = &v {
                    self.check_bucket(s, &span);
                }
                v
            }
            None if f.has("bucket") => return,
            None => {
                let name = self.default_name(b.scope, &b.name).to_lowercase();
                let span = b.name_span.clone();
                if bucket_name_problem(&name).is_some() {
                    self.check_bucket(&name, &span);
                    if let Some(e) = self.diags.errors.last_mut() {
                        e.help = Some(format!(
                            "{} (the default name is <stack>-<env>-<name>); set `bucket = \"...\"`",
                            e.help.clone().unwrap_or_default()
                        ));
                    }
                }
                Value::String(name)
            }
        };
        let versioning = self.v_bool(&f, "versioning", &mut deps).is_none_or(|x| x.0);
        let encryption = self
            .v_plain_str(&f, "encryption", &mut deps)
            .map(|(e, span)| {
                if e != "AES256" && e != "aws:kms" {
                    let help = did_you_mean(&e, ["AES256", "aws:kms"])
                        .unwrap_or_else(|| "use \"AES256\" or \"aws:kms\"".into());
                    self.err(
                        ErrorCode::InvalidValue,
                        &span,
                        format!("unknown encryption {e:?}"),
                        "not an encryption mode",
                    )
                    .help = Some(help);
                }
                e
            })
            .unwrap_or_else(|| "AES256".into());
        let kms_key = self.v_str(&f, "kms_key", &mut deps).map(|x| x.0);
        if encryption == "aws:kms" && kms_key.is_none() && !f.has("kms_key") {
            self.missing(
                &f,
                "kms_key",
                "encryption = \"aws:kms\" needs `kms_key = \"<key ARN or alias>\"`",
            );
        }
        let public_access_block = self
            .v_bool(&f, "public_access_block", &mut deps)
            .is_none_or(|x| x.0);
        let force_destroy = self
            .v_bool(&f, "force_destroy", &mut deps)
            .is_some_and(|x| x.0);
        let mut rules = Vec::new();
        if f.src("lifecycle").is_some_and(|s| s.is_array())
            && let Some((Value::List(items), span)) = self.value(&f, "lifecycle", &mut deps)
        {
            for item in items {
                let Value::Map(m) = item else {
                    self.err(
                        ErrorCode::WrongType,
                        &span,
                        "each lifecycle rule must be a table",
                        "expected tables",
                    );
                    continue;
                };
                let mut rule = BTreeMap::new();
                for (k, v) in m {
                    match (k.as_str(), &v) {
                        ("prefix", Value::String(_)) => {}
                        ("expire_days" | "noncurrent_days", Value::Int(n)) if *n > 0 => {}
                        ("prefix" | "expire_days" | "noncurrent_days", _) => {
                            let what = if k == "prefix" {
                                "a string"
                            } else {
                                "a positive integer"
                            };
                            self.err(
                                ErrorCode::WrongType,
                                &span,
                                format!("lifecycle rule key `{k}` must be {what}"),
                                format!("`{k}` here"),
                            );
                            continue;
                        }
                        _ => {
                            let help =
                                did_you_mean(&k, ["prefix", "expire_days", "noncurrent_days"])
                                    .unwrap_or_else(|| {
                                        "rules take prefix, expire_days and noncurrent_days".into()
                                    });
                            self.err(
                                ErrorCode::UnknownKey,
                                &span,
                                format!("unknown key `{k}` in a lifecycle rule"),
                                "in this list",
                            )
                            .help = Some(help);
                            continue;
                        }
                    }
                    rule.insert(k, v);
                }
                rules.push(Value::Map(rule));
            }
        }
        let addr = Address::resource(&self.scopes[b.scope].prefix, "storage", &b.name, "bucket");
        let attrs = Attrs::from([
            ("bucket".into(), bucket.clone()),
            ("versioning".into(), Value::Bool(versioning)),
            ("encryption".into(), Value::String(encryption)),
            ("kms_key".into(), kms_key.unwrap_or(Value::Null)),
            (
                "public_access_block".into(),
                Value::Bool(public_access_block),
            ),
            ("lifecycle".into(), Value::List(rules)),
            ("force_destroy".into(), Value::Bool(force_destroy)),
        ]);
        self.add_resource(
            addr.clone(),
            ResourceKind::S3Bucket,
            attrs,
            &deps,
            &Meta {
                lifecycle: &lc,
                ignore: &no_mapping,
                tags: &tags,
            },
        );
        self.export(
            id,
            &addr,
            vec![
                ("name", Value::str(&b.name)),
                ("bucket", bucket),
                ("arn", Self::reference(&addr, "arn")),
            ],
        );
    }

    fn check_bucket(&mut self, name: &str, span: &Span) {
        if let Some(problem) = bucket_name_problem(name) {
            self.err(
                ErrorCode::InvalidBucketName,
                span,
                format!("invalid S3 bucket name {name:?}"),
                "not a valid bucket name",
            )
            .help = Some(problem.to_string());
        }
    }

    fn lower_artifact(&mut self, id: usize) {
        let b = self.blocks[id].clone();
        let mut deps = Deps::new();
        let Some(f) = self.open(id, &b.node, ARTIFACT_KEYS, &mut deps) else {
            return;
        };
        let (tags, lc) = self.common(id, &f, ARTIFACT_KEYS, &mut deps);
        // The bucket: a storage block of this scope by name, or any string expression.
        let bucket = match f.src("storage").cloned() {
            None => {
                self.missing(
                    &f,
                    "storage",
                    "name the storage block holding the artifact: storage = \"models\"",
                );
                None
            }
            Some(src) => match src.literal_str() {
                Some(name) => {
                    let key = (BlockKind::Storage, name.to_string());
                    match self.scopes[b.scope].blocks.get(&key).copied() {
                        Some(sid) => {
                            self.exports
                                .get(&sid)
                                .and_then(|e| e.get("bucket"))
                                .map(|e| {
                                    for d in &e.deps {
                                        deps.entry(d.clone()).or_insert_with(|| src.span().clone());
                                    }
                                    e.value.clone()
                                })
                        }
                        None => {
                            self.unknown_named_block(
                                b.scope,
                                BlockKind::Storage,
                                ("artifact", &b.name),
                                name,
                                src.span(),
                            );
                            None
                        }
                    }
                }
                None => self.v_str(&f, "storage", &mut deps).map(|x| x.0),
            },
        };
        let source = match self.v_plain_str(&f, "source", &mut deps) {
            Some(s) => Some(s),
            None => {
                if !f.has("source") {
                    self.missing(
                        &f,
                        "source",
                        "set `source` to a file or directory, relative to the stack directory",
                    );
                }
                None
            }
        };
        let hashed = source.as_ref().and_then(|(src, span)| {
            let path = self.root.join(src);
            let cached = self.hash_cache.get(&path).cloned();
            let result = match cached {
                Some(r) => r,
                None => {
                    let r = hash_source(&path).ok();
                    self.hash_cache.insert(path.clone(), r.clone());
                    r
                }
            };
            if result.is_none() {
                let shown = slash(&super::load::normalize(&path));
                self.err(
                    ErrorCode::ArtifactSource,
                    span,
                    format!("artifact source {src:?} does not exist"),
                    "no such file or directory",
                )
                .help = Some(format!(
                    "looked for {shown}; sources are relative to the stack directory"
                ));
            }
            result
        });
        let content_type = self
            .v_str(&f, "content_type", &mut deps)
            .map(|x| x.0)
            .unwrap_or_else(|| Value::str("application/octet-stream"));
        let given_key = self.v_str(&f, "key", &mut deps).map(|x| x.0);
        let (Some(bucket), Some((src, _)), Some((hex, size, files))) = (bucket, source, hashed)
        else {
            return;
        };
        let qual = {
            let mut q = self.scopes[b.scope].qual.clone();
            q.push(b.name.clone());
            q.join("-")
        };
        let file_name = Path::new(&src)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let key = given_key.unwrap_or_else(|| {
            if files.is_some() {
                Value::String(format!("{qual}/sha256-{hex}/"))
            } else {
                Value::String(format!("{qual}/sha256-{hex}/{file_name}"))
            }
        });
        let addr = Address::resource(&self.scopes[b.scope].prefix, "artifact", &b.name, "object");
        let mut attrs = Attrs::from([
            ("bucket".into(), bucket.clone()),
            ("key".into(), key.clone()),
            (
                "source".into(),
                Value::String(slash(&super::load::normalize(Path::new(&src)))),
            ),
            ("sha256".into(), Value::String(hex.clone())),
            ("size".into(), Value::Int(size as i64)),
            ("content_type".into(), content_type),
        ]);
        if let Some(files) = files {
            attrs.insert(
                "files".into(),
                Value::Map(
                    files
                        .into_iter()
                        .map(|(k, v)| (k, Value::String(v)))
                        .collect(),
                ),
            );
        }
        self.add_resource(
            addr.clone(),
            ResourceKind::S3Object,
            attrs,
            &deps,
            &Meta {
                lifecycle: &lc,
                ignore: &no_mapping,
                tags: &tags,
            },
        );
        let uri = concat(&[
            Value::str("s3://"),
            bucket.clone(),
            Value::str("/"),
            key.clone(),
        ]);
        self.export(
            id,
            &addr,
            vec![
                ("uri", uri),
                ("sha256", Value::String(hex)),
                ("key", key),
                ("bucket", bucket),
                ("version_id", Self::reference(&addr, "version_id")),
            ],
        );
    }

    fn lower_compute(&mut self, id: usize) {
        let b = self.blocks[id].clone();
        let mut deps = Deps::new();
        let Some(f) = self.open(id, &b.node, COMPUTE_KEYS, &mut deps) else {
            return;
        };
        let (tags, lc) = self.common(id, &f, COMPUTE_KEYS, &mut deps);
        let name = self
            .v_str(&f, "name", &mut deps)
            .map(|x| x.0)
            .unwrap_or_else(|| Value::String(self.default_name(b.scope, &b.name)));
        let insights = self
            .v_bool(&f, "container_insights", &mut deps)
            .is_some_and(|x| x.0);
        let providers = match self.v_plain_str_list(&f, "capacity_providers", &mut deps) {
            Some((p, span)) => {
                if p.is_empty() {
                    self.err(
                        ErrorCode::InvalidValue,
                        &span,
                        "capacity_providers must not be empty",
                        "empty list",
                    )
                    .help = Some("for example: [\"FARGATE\", \"FARGATE_SPOT\"]".into());
                }
                p
            }
            None => vec!["FARGATE".to_string()],
        };
        self.compute_providers.insert(id, providers.clone());
        let addr = Address::resource(&self.scopes[b.scope].prefix, "compute", &b.name, "cluster");
        let attrs = Attrs::from([
            ("name".into(), name.clone()),
            ("container_insights".into(), Value::Bool(insights)),
            (
                "capacity_providers".into(),
                Value::List(providers.into_iter().map(Value::String).collect()),
            ),
        ]);
        self.add_resource(
            addr.clone(),
            ResourceKind::EcsCluster,
            attrs,
            &deps,
            &Meta {
                lifecycle: &lc,
                ignore: &no_mapping,
                tags: &tags,
            },
        );
        self.export(
            id,
            &addr,
            vec![("name", name), ("arn", Self::reference(&addr, "arn"))],
        );
    }

    fn non_negative(&mut self, v: Option<(i64, Span)>, key: &str, what: &str) -> Option<i64> {
        let (n, span) = v?;
        if n < 0 {
            self.err(
                ErrorCode::InvalidValue,
                &span,
                format!("`{key}` in {what} must not be negative"),
                "negative",
            );
            return None;
        }
        Some(n)
    }

    fn lower_endpoint(&mut self, id: usize) {
        let b = self.blocks[id].clone();
        let prefix = self.scopes[b.scope].prefix.clone();
        let mut td_deps = Deps::new();
        let mut svc_deps = Deps::new();
        let mut lg_deps = Deps::new();
        let Some(f) = self.open(id, &b.node, ENDPOINT_KEYS, &mut td_deps) else {
            return;
        };
        let mut common_deps = Deps::new();
        let (tags, lc) = self.common(id, &f, ENDPOINT_KEYS, &mut common_deps);
        let what = b.addr.clone();

        // Compute: a compute block of this scope by name, or a cluster name expression.
        let mut providers: Option<(Vec<String>, Span)> = None;
        let cluster = match f.src("compute").cloned() {
            None => {
                self.missing(
                    &f,
                    "compute",
                    "name the compute block to run on: compute = \"serving\"",
                );
                None
            }
            Some(src) => match src.literal_str() {
                Some(name) => {
                    let key = (BlockKind::Compute, name.to_string());
                    match self.scopes[b.scope].blocks.get(&key).copied() {
                        Some(cid) => {
                            if let Some(p) = self.compute_providers.get(&cid) {
                                providers = Some((p.clone(), src.span().clone()));
                            }
                            self.exports.get(&cid).and_then(|e| e.get("name")).map(|e| {
                                for d in &e.deps {
                                    svc_deps
                                        .entry(d.clone())
                                        .or_insert_with(|| src.span().clone());
                                }
                                e.value.clone()
                            })
                        }
                        None => {
                            self.unknown_named_block(
                                b.scope,
                                BlockKind::Compute,
                                ("endpoint", &b.name),
                                name,
                                src.span(),
                            );
                            None
                        }
                    }
                }
                None => self.v_str(&f, "compute", &mut svc_deps).map(|x| x.0),
            },
        };

        let image = self.v_str(&f, "image", &mut td_deps).map(|x| x.0);
        if image.is_none() && !f.has("image") {
            self.missing(
                &f,
                "image",
                "set the container image: image = \"<registry>/<repo>:<tag>\"",
            );
        }
        let cpu = self.v_int(&f, "cpu", &mut td_deps);
        let memory = self.v_int(&f, "memory", &mut td_deps);
        let gpu_v = self.v_int(&f, "gpu", &mut td_deps);
        let gpu_span = gpu_v.as_ref().map(|x| x.1.clone());
        let gpu = self.non_negative(gpu_v, "gpu", &what).unwrap_or(0);
        let port_v = self.v_int(&f, "port", &mut td_deps);
        let port = match port_v {
            Some((p, span)) if !(1..=65535).contains(&p) => {
                self.err(
                    ErrorCode::InvalidValue,
                    &span,
                    format!("`port` in {what} must be between 1 and 65535"),
                    "not a port",
                );
                8080
            }
            Some((p, _)) => p,
            None => 8080,
        };
        let replicas_v = self.v_int(&f, "replicas", &mut svc_deps);
        let replicas = self
            .non_negative(replicas_v, "replicas", &what)
            .unwrap_or(1);
        let mut environment = self
            .v_str_map(&f, "environment", &mut td_deps)
            .map(|x| x.0)
            .unwrap_or_default();
        let secrets = self
            .v_str_map(&f, "secrets", &mut td_deps)
            .map(|x| x.0)
            .unwrap_or_default();
        let execution_role = self
            .v_str(&f, "execution_role", &mut td_deps)
            .map_or(Value::Null, |x| x.0);
        let task_role = self
            .v_str(&f, "task_role", &mut td_deps)
            .map_or(Value::Null, |x| x.0);
        if !secrets.is_empty()
            && !f.has("execution_role")
            && let Some(span) = f.src("secrets").map(|s| s.span().clone())
        {
            self.err(
                ErrorCode::MissingKey,
                &span,
                format!("{what} injects secrets but has no `execution_role`"),
                "ECS reads these secrets with the task execution role",
            )
            .help = Some(
                "add execution_role = \"arn:aws:iam::<account>:role/<role>\" with access to the secrets".into(),
            );
        }

        // Fargate or EC2.
        let fargate = gpu == 0;
        if gpu > 0
            && let (Some((p, cspan)), Some(gspan)) = (&providers, &gpu_span)
            && p.iter().all(|x| x.starts_with("FARGATE"))
        {
            let (cspan, gspan) = (cspan.clone(), gspan.clone());
            self.err(
                ErrorCode::GpuOnFargate,
                &gspan,
                format!("{what} asks for {gpu} GPU(s), but its compute only has Fargate capacity"),
                "Fargate cannot run GPU tasks",
            )
            .label(&cspan, "this compute uses only FARGATE capacity providers")
            .help = Some(
                "add an EC2 capacity provider to the compute's capacity_providers, or set gpu = 0"
                    .into(),
            );
        }
        let cpu_n = cpu.as_ref().map_or(256, |x| x.0);
        let mem_n = memory.as_ref().map_or(512, |x| x.0);
        if fargate {
            match fargate_memory(cpu_n) {
                None => {
                    let span = cpu
                        .as_ref()
                        .map(|x| x.1.clone())
                        .unwrap_or_else(|| b.name_span.clone());
                    self.err(
                        ErrorCode::FargateSize,
                        &span,
                        format!("{cpu_n} is not a valid Fargate cpu value"),
                        "invalid cpu",
                    )
                    .help =
                        Some("Fargate cpu units: 256, 512, 1024, 2048, 4096, 8192, 16384".into());
                }
                Some(allowed) if !allowed.contains(&mem_n) => {
                    let span = memory
                        .as_ref()
                        .map(|x| x.1.clone())
                        .unwrap_or_else(|| b.name_span.clone());
                    let list: Vec<String> = allowed.iter().map(|m| m.to_string()).collect();
                    let cpu_span = cpu.as_ref().map(|x| x.1.clone());
                    let e = self.err(
                        ErrorCode::FargateSize,
                        &span,
                        format!("Fargate does not offer {mem_n} MiB of memory with cpu = {cpu_n}"),
                        "invalid memory for this cpu",
                    );
                    if let Some(cs) = &cpu_span {
                        e.label(cs, format!("cpu = {cpu_n}"));
                    }
                    e.help = Some(format!(
                        "with cpu = {cpu_n}, memory must be one of: {}",
                        list.join(", ")
                    ));
                }
                Some(_) => {}
            }
        } else {
            for (v, key) in [(&cpu, "cpu"), (&memory, "memory")] {
                if let Some((n, span)) = v
                    && *n <= 0
                {
                    self.err(
                        ErrorCode::InvalidValue,
                        span,
                        format!("`{key}` in {what} must be positive"),
                        "not positive",
                    );
                }
            }
        }

        // Model.
        let mut model = BTreeMap::new();
        let mut model_td_deps = Deps::new();
        if f.has("model") {
            if let Some(m) = self.sub(
                &f,
                "model",
                &["name", "version", "artifact", "sha256"],
                &mut td_deps,
            ) {
                let name = self
                    .v_str(&m, "name", &mut td_deps)
                    .map_or_else(|| Value::str(&b.name), |x| x.0);
                let version = self.v_str(&m, "version", &mut td_deps).map(|x| x.0);
                if version.is_none() && !m.has("version") {
                    self.missing(
                        &m,
                        "version",
                        "every endpoint serves a model release: version = \"1.2.0\"",
                    );
                }
                // An empty string (a module's default) means no artifact.
                let artifact = self
                    .v_str(&m, "artifact", &mut model_td_deps)
                    .map_or(Value::Null, |x| x.0);
                let artifact = if artifact.as_str() == Some("") {
                    Value::Null
                } else {
                    artifact
                };
                let sha = match self.v_str(&m, "sha256", &mut td_deps) {
                    Some((v, _)) => v,
                    None => {
                        let objects: Vec<&Address> = model_td_deps
                            .keys()
                            .filter(|a| {
                                self.resources
                                    .get(*a)
                                    .is_some_and(|r| r.kind == ResourceKind::S3Object)
                            })
                            .collect();
                        match objects.as_slice() {
                            [one] => self.resources[*one]
                                .attrs
                                .get("sha256")
                                .cloned()
                                .unwrap_or(Value::Null),
                            _ => Value::Null,
                        }
                    }
                };
                model.insert("name".to_string(), name);
                model.insert("version".to_string(), version.unwrap_or(Value::Null));
                model.insert("artifact".to_string(), artifact);
                model.insert("sha256".to_string(), sha);
            }
        } else {
            self.missing(&f, "model", "describe the release: model = { name = \"...\", version = \"...\", artifact = \"${artifact.x.uri}\" }");
        }
        td_deps.extend(model_td_deps);
        for (env_key, model_key) in [
            ("MODEL_NAME", "name"),
            ("MODEL_VERSION", "version"),
            ("MODEL_URI", "artifact"),
            ("MODEL_SHA256", "sha256"),
        ] {
            if let Some(v) = model.get(model_key)
                && !matches!(v, Value::Null)
            {
                environment.insert(env_key.to_string(), v.clone());
            }
        }

        // Health check.
        let mut health = Value::Null;
        let mut grace = Value::Null;
        if f.has("health_check")
            && let Some(h) = self.sub(
                &f,
                "health_check",
                &["path", "interval", "retries", "timeout", "grace_period"],
                &mut td_deps,
            )
        {
            let path = self
                .v_plain_str(&h, "path", &mut td_deps)
                .map_or_else(|| "/".to_string(), |x| x.0);
            let interval = self.v_int(&h, "interval", &mut td_deps);
            let interval = self
                .non_negative(interval, "interval", &h.what.clone())
                .unwrap_or(30);
            let retries = self.v_int(&h, "retries", &mut td_deps);
            let retries = self
                .non_negative(retries, "retries", &h.what.clone())
                .unwrap_or(3);
            let timeout = self.v_int(&h, "timeout", &mut td_deps);
            let timeout = self
                .non_negative(timeout, "timeout", &h.what.clone())
                .unwrap_or(5);
            let g = self.v_int(&h, "grace_period", &mut svc_deps);
            let g = self.non_negative(g, "grace_period", &h.what.clone());
            let mut hm = BTreeMap::from([
                (
                    "command".to_string(),
                    Value::List(vec![
                        Value::str("CMD-SHELL"),
                        Value::String(format!("curl -fsS http://localhost:{port}{path} || exit 1")),
                    ]),
                ),
                ("interval".to_string(), Value::Int(interval)),
                ("retries".to_string(), Value::Int(retries)),
                ("timeout".to_string(), Value::Int(timeout)),
            ]);
            hm.insert(
                "start_period".to_string(),
                g.map_or(Value::Null, Value::Int),
            );
            grace = g.map_or(Value::Null, Value::Int);
            health = Value::Map(hm);
        }

        // Logs.
        let mut retention = 30;
        if f.has("logs")
            && let Some(l) = self.sub(&f, "logs", &["retention_days"], &mut lg_deps)
            && let Some((r, span)) = self.v_int(&l, "retention_days", &mut lg_deps)
        {
            if LOG_RETENTION.contains(&r) {
                retention = r;
            } else {
                let list: Vec<String> = LOG_RETENTION.iter().map(|x| x.to_string()).collect();
                self.err(
                    ErrorCode::InvalidValue,
                    &span,
                    format!("CloudWatch Logs does not offer a retention of {r} days"),
                    "invalid retention",
                )
                .help = Some(format!("allowed: {}", list.join(", ")));
            }
        }

        // Network: the endpoint's own, or the stack-wide default.
        let mut network = None;
        let net_keys = ["subnets", "security_groups", "public_ip"];
        // An empty table (a module's default input) also means "the stack-wide default".
        let empty = f.has("network")
            && {
                let mut scratch = Deps::new();
                matches!(self.value(&f, "network", &mut scratch), Some((Value::Map(m), _)) if m.is_empty())
            };
        let net_fields = if f.has("network") && !(empty && self.network_default.is_some()) {
            self.sub(&f, "network", &net_keys, &mut svc_deps)
        } else if let Some((v, span)) = self.network_default.clone() {
            self.fields(
                0,
                &Src::Val(v, span.clone()),
                &span,
                "[provider.aws] network",
                &net_keys,
                &mut svc_deps,
            )
        } else {
            self.missing(
                &f,
                "network",
                "Fargate tasks use awsvpc networking: set network = { subnets = [...], security_groups = [...] } here or under [provider.aws]",
            );
            None
        };
        if let Some(n) = net_fields {
            let subnets = self.v_str_list(&n, "subnets", &mut svc_deps).map(|x| x.0);
            if subnets.is_none() && !n.has("subnets") {
                self.missing(
                    &n,
                    "subnets",
                    "list the subnet ids: subnets = [\"subnet-...\"]",
                );
            }
            let sgs = self
                .v_str_list(&n, "security_groups", &mut svc_deps)
                .map_or_else(Vec::new, |x| x.0);
            let public_ip = self
                .v_bool(&n, "public_ip", &mut svc_deps)
                .is_some_and(|x| x.0);
            if let Some(subnets) = subnets {
                network = Some(Value::Map(BTreeMap::from([
                    ("subnets".to_string(), Value::List(subnets)),
                    ("security_groups".to_string(), Value::List(sgs)),
                    ("public_ip".to_string(), Value::Bool(public_ip)),
                ])));
            }
        }

        // Deployment.
        let mut deployment = BTreeMap::from([
            ("min_healthy_percent".to_string(), Value::Int(100)),
            ("max_percent".to_string(), Value::Int(200)),
            ("circuit_breaker".to_string(), Value::Bool(true)),
            ("wait".to_string(), Value::Bool(true)),
            ("timeout_seconds".to_string(), Value::Int(900)),
        ]);
        if f.has("deployment") {
            let keys = [
                "min_healthy_percent",
                "max_percent",
                "circuit_breaker",
                "wait",
                "timeout",
            ];
            if let Some(d) = self.sub(&f, "deployment", &keys, &mut svc_deps) {
                for k in ["min_healthy_percent", "max_percent"] {
                    let v = self.v_int(&d, k, &mut svc_deps);
                    if let Some(n) = self.non_negative(v, k, &d.what.clone()) {
                        deployment.insert(k.to_string(), Value::Int(n));
                    }
                }
                for k in ["circuit_breaker", "wait"] {
                    if let Some((x, _)) = self.v_bool(&d, k, &mut svc_deps) {
                        deployment.insert(k.to_string(), Value::Bool(x));
                    }
                }
                if let Some((v, span)) = self.value(&d, "timeout", &mut svc_deps) {
                    let secs = match &v {
                        Value::Int(n) if *n > 0 => Some(*n),
                        Value::String(s) => humantime::parse_duration(s)
                            .ok()
                            .map(|d| d.as_secs() as i64)
                            .filter(|n| *n > 0),
                        _ => None,
                    };
                    match secs {
                        Some(s) => {
                            deployment.insert("timeout_seconds".to_string(), Value::Int(s));
                        }
                        None => {
                            self.err(
                                ErrorCode::InvalidValue,
                                &span,
                                format!("`timeout` in {} must be a duration", d.what),
                                "not a duration",
                            )
                            .help = Some("for example \"15m\", \"90s\" or 600 (seconds)".into());
                        }
                    }
                }
            }
        }

        // Autoscaling.
        let mut scaling = None;
        if f.has("autoscaling")
            && let Some(a) = self.sub(
                &f,
                "autoscaling",
                &["min", "max", "target_cpu"],
                &mut svc_deps,
            )
        {
            let amin = self.v_int(&a, "min", &mut svc_deps);
            let amax = self.v_int(&a, "max", &mut svc_deps);
            for (k, v) in [("min", &amin), ("max", &amax)] {
                if v.is_none() && !a.has(k) {
                    self.missing(&a, k, "autoscaling = { min = 1, max = 4, target_cpu = 60 }");
                }
            }
            let what_a = a.what.clone();
            let min_s = amin.as_ref().map(|x| x.1.clone());
            let max_s = amax.as_ref().map(|x| x.1.clone());
            let mn = self.non_negative(amin, "min", &what_a);
            let mx = self.non_negative(amax, "max", &what_a);
            let target = match self.v_int(&a, "target_cpu", &mut svc_deps) {
                Some((t, span)) if !(1..=100).contains(&t) => {
                    self.err(
                        ErrorCode::Autoscaling,
                        &span,
                        "`target_cpu` must be a percentage between 1 and 100",
                        "out of range",
                    );
                    None
                }
                Some((t, _)) => Some(t),
                None if a.has("target_cpu") => None,
                None => Some(60),
            };
            if let (Some(mn), Some(mx)) = (mn, mx) {
                if mn > mx {
                    if let (Some(ms), Some(xs)) = (min_s, max_s) {
                        self.err(
                            ErrorCode::Autoscaling,
                            &ms,
                            format!("autoscaling min ({mn}) is greater than max ({mx})"),
                            format!("min = {mn}"),
                        )
                        .label(&xs, format!("max = {mx}"))
                        .help = Some("min must be less than or equal to max".into());
                    }
                } else if let Some(t) = target {
                    scaling = Some((mn, mx, t));
                }
            }
        }

        let (Some(cluster), Some(image)) = (cluster, image) else {
            return;
        };
        let Some(network) = network else { return };

        let name = Value::String(self.default_name(b.scope, &b.name));
        let log_name = {
            let mut p = vec![
                "".to_string(),
                "pedestal".into(),
                self.stack.clone(),
                self.env.clone(),
            ];
            p.extend(self.scopes[b.scope].qual.iter().cloned());
            p.push(b.name.clone());
            p.join("/")
        };
        let lg = Address::resource(&prefix, "endpoint", &b.name, "log_group");
        let td = Address::resource(&prefix, "endpoint", &b.name, "task_definition");
        let svc = Address::resource(&prefix, "endpoint", &b.name, "service");
        let sc = Address::resource(&prefix, "endpoint", &b.name, "scaling");
        let ignore = |n: &str| -> Vec<&'static str> {
            match n {
                "replicas" => vec!["desired_count"],
                "image" | "port" | "environment" | "secrets" | "health_check" => vec!["container"],
                "autoscaling" => vec!["min", "max", "target_cpu"],
                "logs" => vec!["retention_days"],
                _ => vec![],
            }
        };
        let meta = Meta {
            lifecycle: &lc,
            ignore: &ignore,
            tags: &tags,
        };
        let mut lg_all = lg_deps.clone();
        lg_all.extend(common_deps.clone());
        self.add_resource(
            lg.clone(),
            ResourceKind::LogGroup,
            Attrs::from([
                ("name".into(), Value::String(log_name.clone())),
                ("retention_days".into(), Value::Int(retention)),
            ]),
            &lg_all,
            &meta,
        );
        let container = BTreeMap::from([
            ("name".to_string(), Value::str(&b.name)),
            ("image".to_string(), image),
            ("port".to_string(), Value::Int(port)),
            ("environment".to_string(), Value::Map(environment)),
            ("secrets".to_string(), Value::Map(secrets)),
            ("health_check".to_string(), health),
            ("log_group".to_string(), Value::String(log_name.clone())),
            ("region".to_string(), Value::String(self.region.clone())),
        ]);
        let mut td_all = td_deps.clone();
        td_all.extend(common_deps.clone());
        td_all
            .entry(lg.clone())
            .or_insert_with(|| b.name_span.clone());
        let compat = if fargate { "FARGATE" } else { "EC2" };
        self.add_resource(
            td.clone(),
            ResourceKind::EcsTaskDefinition,
            Attrs::from([
                ("family".into(), name.clone()),
                ("cpu".into(), Value::Int(cpu_n)),
                ("memory".into(), Value::Int(mem_n)),
                ("gpu".into(), Value::Int(gpu)),
                ("network_mode".into(), Value::str("awsvpc")),
                (
                    "requires_compatibilities".into(),
                    Value::List(vec![Value::str(compat)]),
                ),
                ("execution_role".into(), execution_role),
                ("task_role".into(), task_role),
                ("container".into(), Value::Map(container)),
                ("model".into(), Value::Map(model)),
            ]),
            &td_all,
            &meta,
        );
        let mut svc_all = svc_deps.clone();
        svc_all.extend(common_deps.clone());
        svc_all
            .entry(td.clone())
            .or_insert_with(|| b.name_span.clone());
        self.add_resource(
            svc.clone(),
            ResourceKind::EcsService,
            Attrs::from([
                ("name".into(), name.clone()),
                ("cluster".into(), cluster.clone()),
                ("launch_type".into(), Value::str(compat)),
                ("capacity_provider_strategy".into(), Value::Null),
                ("task_definition".into(), Self::reference(&td, "arn")),
                (
                    "desired_count".into(),
                    if scaling.is_some() {
                        Value::Null
                    } else {
                        Value::Int(replicas)
                    },
                ),
                ("network".into(), network),
                ("deployment".into(), Value::Map(deployment)),
                ("health_check_grace_period".into(), grace),
            ]),
            &svc_all,
            &meta,
        );
        if let Some((mn, mx, t)) = scaling {
            let mut sc_deps = common_deps.clone();
            sc_deps.insert(svc.clone(), b.name_span.clone());
            let resource_id = concat(&[
                Value::str("service/"),
                cluster.clone(),
                Value::str("/"),
                name.clone(),
            ]);
            let policy = concat(&[name.clone(), Value::str("-cpu")]);
            self.add_resource(
                sc.clone(),
                ResourceKind::ScalingTarget,
                Attrs::from([
                    ("resource_id".into(), resource_id),
                    ("cluster".into(), cluster),
                    ("service".into(), name.clone()),
                    ("min".into(), Value::Int(mn)),
                    ("max".into(), Value::Int(mx)),
                    ("target_cpu".into(), Value::Int(t)),
                    ("policy_name".into(), policy),
                ]),
                &sc_deps,
                &meta,
            );
        }
        self.export(
            id,
            &svc,
            vec![
                ("service_arn", Self::reference(&svc, "arn")),
                ("service_name", name),
                ("task_definition_arn", Self::reference(&td, "arn")),
                ("log_group", Value::String(log_name)),
                ("name", Value::str(&b.name)),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fargate_table() {
        assert_eq!(fargate_memory(256), Some(vec![512, 1024, 2048]));
        assert_eq!(fargate_memory(1024).map(|v| v.len()), Some(7));
        assert!(fargate_memory(8192).is_some_and(|v| v.contains(&61440) && !v.contains(&18432)));
        assert_eq!(fargate_memory(300), None);
    }

    #[test]
    fn bucket_names() {
        assert_eq!(bucket_name_problem("fraud-models-dev"), None);
        assert!(bucket_name_problem("Fraud").is_some());
        assert!(bucket_name_problem("ab").is_some());
        assert!(bucket_name_problem("a..b").is_some());
        assert!(bucket_name_problem("192.168.1.1").is_some());
        assert!(bucket_name_problem("-abc").is_some());
        assert!(bucket_name_problem(&"a".repeat(64)).is_some());
    }

    #[test]
    fn concat_keeps_references() {
        let r = Value::Ref(crate::resource::Ref {
            address: Address::new("a.b.c"),
            attr: "arn".into(),
        });
        assert_eq!(
            concat(&[Value::str("x"), Value::str("y")]),
            Value::str("xy")
        );
        assert!(matches!(concat(&[Value::str("x"), r]), Value::Template(_)));
    }
}
