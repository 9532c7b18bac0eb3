//! Lowering `[artifact.*]` blocks: one S3 object each, its source hashed (a file, or a
//! directory as a manifest of per-file digests).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::common::{Meta, concat, no_mapping};
use crate::addr::Address;
use crate::resource::schema;
use crate::resource::schema::s3_object::{self, Attr as O};
use crate::resource::{ResourceKind, Value};
use crate::spec::diag::{ErrorCode, Span};
use crate::spec::digest_cache::DigestCache;
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

/// Hashes a file, or a directory as a sorted manifest of `relpath\tsha256\n` lines (each file
/// through the digest cache).
fn hash_source(path: &Path, cache: &mut DigestCache) -> std::io::Result<Hashed> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        let mut files = BTreeMap::new();
        walk(path, "", &mut files)?;
        let mut manifest = String::new();
        let mut digests = BTreeMap::new();
        let mut total = 0;
        for (rel, p) in files {
            let (hex, size) = cache.hash_file(&p)?;
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
        let (hex, size) = cache.hash_file(path)?;
        Ok((hex, size, None))
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
        let addr = Address::resource(&self.scope(b.scope).prefix, "artifact", &b.name, "object");
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
                        .map(|(k, v)| (k, Value::String(v)))
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
                                for d in &e.deps {
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

    /// Hashes an artifact source (once per path in a load); reports a missing one.
    fn artifact_hash(&mut self, src: &str, span: &Span) -> Option<Hashed> {
        let path = self.root().join(src);
        let cached = self.lowered().hash_cache.get(&path).cloned();
        let result = match cached {
            Some(r) => r,
            None => {
                let r = hash_source(&path, &mut self.lowered_mut().digests).ok();
                self.lowered_mut()
                    .hash_cache
                    .insert(path.clone(), r.clone());
                r
            }
        };
        if result.is_none() {
            let shown = slash(&normalize(&path));
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
    }
}
