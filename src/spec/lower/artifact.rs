//! Lowering `[artifact.*]` blocks: one S3 object each, its source hashed (a file, or a
//! directory as a manifest of per-file digests).

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::common::{Meta, concat, no_mapping, resource_address};
use crate::resource::Key;
use crate::resource::schema;
use crate::resource::schema::s3_object::{self, Attr as O};
use crate::resource::{ResourceKind, Value};
use crate::spec::artifact_source::{Checked, Confinement, SourceError};
use crate::spec::diag::{ErrorCode, Span};
use crate::spec::digest_cache::{DigestCache, HashError};
use crate::spec::fields::Fields;
use crate::spec::load::{Block, BlockId, BlockKind, Hashed, Loader, normalize, slash};
use crate::spec::resolve::Deps;

/// Keys of an artifact block; `source`, `key` and `content_type` are spelt like the object's
/// attributes they set.
const ARTIFACT_KEYS: &[&str] = &[
    "storage",
    O::Source.as_str(),
    O::Key.as_str(),
    O::ContentType.as_str(),
    O::Retain.as_str(),
    schema::TAGS,
    "depends_on",
    "lifecycle",
];
/// Hashes a checked source: a file, or a directory as a sorted manifest of
/// `relpath\tsha256\n` lines (each file through the digest cache).
fn hash_source(checked: &Checked, cache: &mut DigestCache) -> Result<Hashed, HashError> {
    match checked {
        Checked::File(path) => {
            let (hex, size) = cache.hash_file(path)?;
            Ok((hex, size, None))
        }
        Checked::Dir(files) => {
            let mut manifest = String::new();
            let mut digests = BTreeMap::new();
            let mut total = 0;
            for (rel, p) in files {
                let (hex, size) = cache.hash_file(p)?;
                manifest.push_str(&format!("{rel}\t{hex}\n"));
                total += size;
                digests.insert(rel.clone(), hex);
            }
            Ok((
                hex::encode(Sha256::digest(manifest.as_bytes())),
                total,
                Some(digests),
            ))
        }
    }
}

impl Loader<'_> {
    pub(super) fn lower_artifact(&mut self, id: BlockId) {
        let b = self.block(id).clone();
        let mut deps = Deps::new();
        let Some(f) = self.open(id, &b.node, ARTIFACT_KEYS, &mut deps) else {
            return;
        };
        let (tags, lc) = self.common(id, &f, ARTIFACT_KEYS, &mut deps);
        let bucket = self.artifact_bucket(&b, &f, &mut deps);
        let source = match self.v_plain_str(&f, O::Source.as_str(), &mut deps) {
            Some(s) => Some(s),
            None => {
                if !f.has(O::Source.as_str()) {
                    self.missing(
                        &f,
                        O::Source.as_str(),
                        "set `source` to a file or directory, relative to the stack directory",
                    );
                }
                None
            }
        };
        let hashed = source
            .as_ref()
            .and_then(|(src, span)| self.artifact_hash(src, span));
        let content_type = self
            .v_str(&f, O::ContentType.as_str(), &mut deps)
            .map(|x| x.0)
            .unwrap_or_else(|| Value::str("application/octet-stream"));
        let given_key = self.v_str(&f, O::Key.as_str(), &mut deps).map(|x| x.0);
        let retain = match self.v_int(&f, O::Retain.as_str(), &mut deps) {
            None => Some(s3_object::DEFAULT_RETAIN),
            Some((n, _)) if n >= 1 => Some(n),
            Some((n, span)) => {
                self.err(
                    ErrorCode::InvalidValue,
                    &span,
                    format!("retain = {n}: an artifact keeps at least the object it serves"),
                    "must be at least 1",
                )
                .help = Some(
                    "retain counts releases per endpoint whose objects are kept for rollback; the default is 5"
                        .into(),
                );
                None
            }
        };
        let (Some(bucket), Some((src, _)), Some((hex, size, files)), Some(retain)) =
            (bucket, source, hashed, retain)
        else {
            return;
        };
        let qual = {
            let mut q = self.scope(b.scope).qual.clone();
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
        let addr = resource_address(&self.scope(b.scope).prefix, "artifact", &b.name, "object");
        let attrs = s3_object::Desired {
            bucket: bucket.clone(),
            key: key.clone(),
            source: Value::String(slash(&normalize(Path::new(&src)))),
            sha256: Value::String(hex.clone()),
            size: Value::Int(size as i64),
            content_type,
            files: files.map(|files| {
                Value::Map(
                    files
                        .into_iter()
                        .map(|(k, v)| (Key::from(k), Value::String(v)))
                        .collect(),
                )
            }),
            retain: Value::Int(retain),
        }
        .into_attrs();
        self.add_resource(
            addr.clone(),
            ResourceKind::S3Object,
            attrs,
            deps,
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
                (
                    "version_id",
                    Self::reference(&addr, s3_object::Attr::VersionId.as_str()),
                ),
            ],
        );
    }

    /// `storage`: a storage block of this scope by name, or any string expression (the bucket
    /// name itself).
    fn artifact_bucket(&mut self, b: &Block, f: &Fields<'_>, deps: &mut Deps) -> Option<Value> {
        match f.src("storage").cloned() {
            None => {
                self.missing(
                    f,
                    "storage",
                    "name the storage block holding the artifact: storage = \"models\"",
                );
                None
            }
            Some(src) => match src.literal_str() {
                Some(name) => {
                    let key = (BlockKind::Storage, name.to_string());
                    match self.scope(b.scope).blocks.get(&key).copied() {
                        Some(sid) => self
                            .lowered()
                            .exports
                            .get(&sid)
                            .and_then(|e| e.get("bucket"))
                            .map(|e| {
                                for d in e.deps.iter() {
                                    deps.entry(d.clone()).or_insert_with(|| src.span().clone());
                                }
                                e.value.clone()
                            }),
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
                None => self.v_str(f, "storage", deps).map(|x| x.0),
            },
        }
    }

    /// What artifact sources may read, made once per load.
    fn confinement(&mut self) -> Confinement {
        if let Some(c) = &self.lowered().confinement {
            return c.clone();
        }
        let mut c = Confinement::new(
            self.root(),
            &self.lowered().artifact_roots,
            &self.spec_files(),
        );
        if let Some(state) = self.local_state_path().map(Path::to_path_buf) {
            c.protect(&state, "state");
        }
        self.lowered_mut().confinement = Some(c.clone());
        c
    }

    /// Checks an artifact source (a regular file or directory under the stack directory or an
    /// allowed root, not the stack's own files) and hashes it, once per path in a load;
    /// reports why one is refused at `span`.
    fn artifact_hash(&mut self, src: &str, span: &Span) -> Option<Hashed> {
        let path = self.root().join(src);
        if let Some(r) = self.lowered().hash_cache.get(&path).cloned() {
            return r;
        }
        let confinement = self.confinement();
        let result = confinement.check(src).and_then(|checked| {
            hash_source(&checked, &mut self.lowered_mut().digests).map_err(SourceError::from)
        });
        let hashed = match result {
            Ok(h) => Some(h),
            Err(e) => {
                self.source_error(src, span, &path, e);
                None
            }
        };
        self.lowered_mut()
            .hash_cache
            .insert(path.clone(), hashed.clone());
        hashed
    }

    fn source_error(&mut self, src: &str, span: &Span, path: &Path, e: SourceError) {
        if let SourceError::Cancelled = e {
            // Once cancelled, every later hash stops too: one error says so.
            if !self.cancelled() {
                self.err(
                    ErrorCode::Cancelled,
                    span,
                    format!("hashing artifact source {src:?} was cancelled"),
                    "interrupted here",
                )
                .help = Some("nothing was changed; run the command again to hash it".into());
            }
            return;
        }
        let shown = slash(&normalize(path));
        let (message, label, help) = match &e {
            SourceError::NotFound => (
                format!("artifact source {src:?} does not exist"),
                "no such file or directory",
                format!("looked for {shown}; sources are relative to the stack directory"),
            ),
            SourceError::Escapes { .. } => (
                format!("artifact source {src:?} is outside the stack directory"),
                "outside the stack",
                format!(
                    "{e}; keep artifacts under the stack directory, or allow a directory with `artifact_roots = [\"/abs/path\"]` in [provider.aws]"
                ),
            ),
            SourceError::Protected { .. } => (
                format!("artifact source {src:?} would upload the stack's own files"),
                "holds spec, environment or state files",
                format!(
                    "{e}; point `source` at the model file or a directory that holds only artifacts"
                ),
            ),
            SourceError::NotRegular { .. } => (
                format!("artifact source {src:?} is not a regular file or directory"),
                "not a regular file",
                format!("{e}; artifacts are regular files or directories of them"),
            ),
            SourceError::Io(_) | SourceError::Cancelled => (
                format!("artifact source {src:?} cannot be read"),
                "unreadable",
                format!("{e}"),
            ),
        };
        self.err(ErrorCode::ArtifactSource, span, message, label)
            .help = Some(help);
    }
}
