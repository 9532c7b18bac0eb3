//! Lowering `[storage.*]` blocks: one S3 bucket each (name checks, encryption, lifecycle
//! rules).

use std::collections::BTreeMap;

use super::common::{Meta, no_mapping, resource_address};
use crate::resource::rules;
use crate::resource::schema;
use crate::resource::schema::s3_bucket::{
    self, Attr as A, ENCRYPTION_AES256, ENCRYPTION_KMS, LifecycleRule as LR,
};
use crate::resource::{ResourceKind, Value};
use crate::spec::diag::{ErrorCode, Span, did_you_mean};
use crate::spec::fields::Fields;
use crate::spec::load::{Block, BlockId, Loader};
use crate::spec::resolve::Deps;

/// Keys of a storage block: the bucket's attributes, spelt the same, plus the shared ones.
const STORAGE_KEYS: &[&str] = &[
    A::Bucket.as_str(),
    A::Versioning.as_str(),
    A::Encryption.as_str(),
    A::KmsKey.as_str(),
    A::PublicAccessBlock.as_str(),
    A::Lifecycle.as_str(),
    A::ForceDestroy.as_str(),
    schema::TAGS,
    "depends_on",
];
/// Why a bucket name is invalid, if it is (S3's rules, from the rule table).
pub use crate::resource::rules::s3::bucket_name_problem;

impl Loader<'_> {
    pub(super) fn lower_storage(&mut self, id: BlockId) {
        let b = self.block(id).clone();
        let mut deps = Deps::new();
        let Some(f) = self.open(id, &b.node, STORAGE_KEYS, &mut deps) else {
            return;
        };
        let (tags, lc) = self.common(id, &f, STORAGE_KEYS, &mut deps);
        let Some(bucket) = self.storage_bucket(&b, &f, &mut deps) else {
            return;
        };
        let versioning = self
            .v_bool(&f, A::Versioning.as_str(), &mut deps)
            .map_or(s3_bucket::DEFAULT_VERSIONING, |x| x.0);
        let encryption = self.storage_encryption(&f, &mut deps);
        let kms_key = self.v_str(&f, A::KmsKey.as_str(), &mut deps).map(|x| x.0);
        if encryption == ENCRYPTION_KMS && kms_key.is_none() && !f.has(A::KmsKey.as_str()) {
            self.missing(
                &f,
                A::KmsKey.as_str(),
                "encryption = \"aws:kms\" needs `kms_key = \"<key ARN or alias>\"`",
            );
        }
        let public_access_block = self
            .v_bool(&f, A::PublicAccessBlock.as_str(), &mut deps)
            .map_or(s3_bucket::DEFAULT_PUBLIC_ACCESS_BLOCK, |x| x.0);
        let force_destroy = self
            .v_bool(&f, A::ForceDestroy.as_str(), &mut deps)
            .map_or(s3_bucket::DEFAULT_FORCE_DESTROY, |x| x.0);
        let rules = self.storage_lifecycle_rules(&f, &mut deps);
        let addr = resource_address(&self.scope(b.scope).prefix, "storage", &b.name, "bucket");
        let attrs = s3_bucket::Desired {
            bucket: bucket.clone(),
            versioning: Value::Bool(versioning),
            encryption: Value::String(encryption),
            kms_key: kms_key.unwrap_or(Value::Null),
            public_access_block: Value::Bool(public_access_block),
            lifecycle: Value::List(rules),
            force_destroy: Value::Bool(force_destroy),
        }
        .into_attrs();
        self.add_resource(
            addr.clone(),
            ResourceKind::S3Bucket,
            attrs,
            deps,
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
                ("arn", Self::reference(&addr, s3_bucket::Attr::Arn.as_str())),
            ],
        );
    }

    /// `bucket`, checked, or the default `<stack>-<env>-<name>` (lowercased); `None` when
    /// written but unusable.
    fn storage_bucket(&mut self, b: &Block, f: &Fields<'_>, deps: &mut Deps) -> Option<Value> {
        Some(match self.v_str(f, A::Bucket.as_str(), deps) {
            Some((v, span)) => {
                if let Value::String(s) = &v {
                    self.check_bucket(s, &span);
                }
                v
            }
            None if f.has(A::Bucket.as_str()) => return None,
            None => {
                let name = self.default_name(b.scope, &b.name).to_lowercase();
                let span = b.name_span.clone();
                if bucket_name_problem(&name).is_some() {
                    self.check_bucket(&name, &span);
                    if let Some(e) = self.last_error_mut() {
                        e.help = Some(format!(
                            "{} (the default name is <stack>-<env>-<name>); set `bucket = \"...\"`",
                            e.help.clone().unwrap_or_default()
                        ));
                    }
                }
                Value::String(name)
            }
        })
    }

    /// `encryption`: `AES256` (the default) or `aws:kms`.
    fn storage_encryption(&mut self, f: &Fields<'_>, deps: &mut Deps) -> String {
        self.v_plain_str(f, A::Encryption.as_str(), deps)
            .map(|(e, span)| {
                if e != ENCRYPTION_AES256 && e != ENCRYPTION_KMS {
                    let help = did_you_mean(&e, [ENCRYPTION_AES256, ENCRYPTION_KMS])
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
            .unwrap_or_else(|| s3_bucket::DEFAULT_ENCRYPTION.into())
    }

    /// `lifecycle = [{ prefix, expire_days, noncurrent_days }, ...]`: the S3 rule list (a
    /// table is the lifecycle meta-argument instead).
    fn storage_lifecycle_rules(&mut self, f: &Fields<'_>, deps: &mut Deps) -> Vec<Value> {
        let mut rules = Vec::new();
        if f.src(A::Lifecycle.as_str()).is_some_and(|s| s.is_array())
            && let Some((Value::List(items), span)) = self.value(f, A::Lifecycle.as_str(), deps)
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
                    match (LR::parse(&k), &v) {
                        (Some(LR::Prefix), Value::String(_)) => {}
                        (Some(LR::ExpireDays | LR::NoncurrentDays), Value::Int(n)) if *n > 0 => {}
                        (Some(key), _) => {
                            let what = if key == LR::Prefix {
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
                            let help = did_you_mean(&k, LR::ALL.iter().map(|k| k.as_str()))
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
                rules.push(Value::Map(rule.into_iter().collect()));
            }
        }
        rules
    }

    fn check_bucket(&mut self, name: &str, span: &Span) {
        if let Some(problem) = bucket_name_problem(name) {
            self.err(
                ErrorCode::InvalidBucketName,
                span,
                format!("invalid S3 bucket name {name:?}"),
                "not a valid bucket name",
            )
            .help = Some(format!("{problem} ({})", rules::s3::BUCKET_NAMING_SOURCE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
