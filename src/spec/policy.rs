//! Checking the lowered config against the `[policy]` rules (parsed in `load/policy.rs`):
//! each violation is an error at the spec value that breaks the rule (or the block's name when
//! the value is a default), naming the rule and where it was set. `max_monthly_cost_delta` needs
//! the plan and is checked by the planner.

use std::collections::HashMap;
use std::sync::Arc;

use super::diag::{ErrorCode, Span};
use super::load::{Block, Loader};
use crate::resource::schema::scaling_target;
use crate::resource::schema::{ecs_service as svc, ecs_task_definition as td, s3_bucket};
use crate::resource::{Resource, ResourceKind, Value};

impl Loader<'_> {
    /// Every policy rule against every block's resources.
    pub(super) fn check_policy(&mut self) {
        self.check_region_policy();
        let p = self.policy();
        let block_rules = p.require_encryption.is_some()
            || p.deny_public_buckets.is_some()
            || p.max_replicas.is_some()
            || p.allowed_image_registries.is_some()
            || p.require_prevent_destroy_on.is_some();
        if !block_rules {
            return;
        }
        let blocks: Vec<Arc<Block>> = self.blocks_by_id().map(|(_, b)| b.clone()).collect();
        // Each block's resources, grouped in one pass (the checks below only report errors).
        let all = std::mem::take(&mut self.lowered_mut().resources);
        let mut by_block: HashMap<&str, Vec<&Resource>> = HashMap::new();
        for r in all.values() {
            by_block.entry(r.address.block()).or_default().push(r);
        }
        for b in &blocks {
            let resources = by_block.get(b.addr.as_str()).map_or(&[][..], Vec::as_slice);
            self.check_prevent_destroy_policy(b, resources);
            for &r in resources {
                match r.kind {
                    ResourceKind::S3Bucket => self.check_bucket_policy(b, r),
                    ResourceKind::EcsService => {
                        if let Some(Value::Int(n)) = r.attrs.get(svc::Attr::DesiredCount.as_str()) {
                            self.check_replicas(b, *n, &["replicas"], "replicas");
                        }
                    }
                    ResourceKind::ScalingTarget => {
                        if let Some(Value::Int(n)) = r.attrs.get(scaling_target::Attr::Max.as_str())
                        {
                            self.check_replicas(b, *n, &["autoscaling", "max"], "autoscaling.max");
                        }
                    }
                    ResourceKind::EcsTaskDefinition => self.check_image_policy(b, r),
                    _ => {}
                }
            }
        }
        drop(by_block);
        self.lowered_mut().resources = all;
    }

    /// `file:line:col` of a rule, for the help line.
    fn rule_at(&self, span: &Span) -> String {
        self.sources().location(span)
    }

    /// The span of `path` inside a block (`["autoscaling", "max"]`), else the block's name.
    fn block_value_span(b: &Block, path: &[&str]) -> Span {
        let mut node = &b.node;
        for k in path {
            match node.get(k) {
                Some(e) => node = &e.value,
                None => return b.name_span.clone(),
            }
        }
        node.span.clone()
    }

    fn policy_error(&mut self, span: &Span, message: String, label: &str, help: String) {
        self.err(ErrorCode::Policy, span, message, label).help = Some(help);
    }

    fn check_region_policy(&mut self) {
        let Some((allowed, rule)) = self.policy().allowed_regions.clone() else {
            return;
        };
        let region = self.region().to_string();
        if allowed.contains(&region) {
            return;
        }
        let at = self.rule_at(&rule);
        let Some((span, written)) = self.region_span().cloned() else {
            return;
        };
        let label = if written {
            "region not allowed"
        } else {
            "the default region (us-east-1) is not allowed"
        };
        self.policy_error(
            &span,
            format!("region {region} is not in the policy's allowed_regions"),
            label,
            format!(
                "allowed_regions = [{}] (set at {at})",
                allowed
                    .iter()
                    .map(|r| format!("{r:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }

    fn check_bucket_policy(&mut self, b: &Block, r: &Resource) {
        if let Some(rule) = self.policy().require_encryption.clone() {
            let enc = r
                .attrs
                .get(s3_bucket::Attr::Encryption.as_str())
                .and_then(Value::as_str)
                .unwrap_or(s3_bucket::DEFAULT_ENCRYPTION);
            if enc != s3_bucket::ENCRYPTION_KMS {
                let span = Self::block_value_span(b, &[s3_bucket::Attr::Encryption.as_str()]);
                let at = self.rule_at(&rule);
                self.policy_error(
                    &span,
                    format!(
                        "{} is encrypted with {enc}, but the policy requires a KMS key (require_encryption)",
                        b.addr
                    ),
                    "not KMS encryption",
                    format!(
                        "set encryption = \"aws:kms\" and kms_key = \"<key ARN or alias>\" (require_encryption set at {at})"
                    ),
                );
            }
        }
        if let Some(rule) = self.policy().deny_public_buckets.clone()
            && r.attrs.get(s3_bucket::Attr::PublicAccessBlock.as_str()) == Some(&Value::Bool(false))
        {
            let span = Self::block_value_span(b, &[s3_bucket::Attr::PublicAccessBlock.as_str()]);
            let at = self.rule_at(&rule);
            self.policy_error(
                &span,
                format!(
                    "{} turns the public access block off, which the policy denies (deny_public_buckets)",
                    b.addr
                ),
                "public access allowed",
                format!("remove public_access_block = false (deny_public_buckets set at {at})"),
            );
        }
    }

    fn check_replicas(&mut self, b: &Block, n: i64, path: &[&str], what: &str) {
        let Some((max, rule)) = self.policy().max_replicas.clone() else {
            return;
        };
        if n <= max {
            return;
        }
        let span = Self::block_value_span(b, path);
        let at = self.rule_at(&rule);
        self.policy_error(
            &span,
            format!(
                "{} asks for {n} tasks ({what}), more than the policy's max_replicas = {max}",
                b.addr
            ),
            "too many tasks",
            format!("lower {what} to at most {max} (max_replicas set at {at})"),
        );
    }

    fn check_image_policy(&mut self, b: &Block, r: &Resource) {
        let Some((allowed, rule)) = self.policy().allowed_image_registries.clone() else {
            return;
        };
        let Some(image) = r
            .attrs
            .get(td::Attr::Container.as_str())
            .and_then(Value::as_map)
            .and_then(|c| c.get(td::Container::Image.as_str()))
        else {
            return;
        };
        // A sensitive or not-yet-known image cannot be checked here.
        let Some(image) = image.as_str() else { return };
        if allowed.iter().any(|a| registry_allows(a, image)) {
            return;
        }
        let span = Self::block_value_span(b, &[td::Container::Image.as_str()]);
        let at = self.rule_at(&rule);
        self.policy_error(
            &span,
            format!(
                "{} pulls {image:?} from {}, which is not in the policy's allowed_image_registries",
                b.addr,
                registry(image)
            ),
            "registry not allowed",
            format!(
                "allowed_image_registries = [{}] (set at {at})",
                allowed
                    .iter()
                    .map(|r| format!("{r:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }

    fn check_prevent_destroy_policy(&mut self, b: &Block, resources: &[&Resource]) {
        let Some((kinds, rule)) = self.policy().require_prevent_destroy_on.clone() else {
            return;
        };
        if !kinds.contains(&b.kind) || resources.iter().all(|r| r.lifecycle.prevent_destroy) {
            return;
        }
        let span = Self::block_value_span(b, &["lifecycle", "prevent_destroy"]);
        let at = self.rule_at(&rule);
        self.policy_error(
            &span,
            format!(
                "{} does not set lifecycle.prevent_destroy, which the policy requires on {} blocks",
                b.addr,
                b.kind.as_str()
            ),
            "prevent_destroy not set",
            format!(
                "add lifecycle = {{ prevent_destroy = true }} to the block (require_prevent_destroy_on set at {at})"
            ),
        );
    }
}

/// The registry host of an image reference (Docker's rule: the first path component when it
/// has a `.` or `:` or is `localhost`, else Docker Hub).
pub(crate) fn registry(image: &str) -> &str {
    match image.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first,
        _ => "docker.io",
    }
}

/// Whether `allowed` (a registry host, or a host/path prefix) admits `image`.
fn registry_allows(allowed: &str, image: &str) -> bool {
    let allowed = allowed.trim_end_matches('/');
    if allowed.contains('/') {
        image
            .strip_prefix(allowed)
            .is_some_and(|rest| rest.starts_with('/'))
    } else {
        registry(image) == allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_follow_dockers_rule() {
        assert_eq!(registry("repo/api:1"), "docker.io");
        assert_eq!(registry("python:3.12"), "docker.io");
        assert_eq!(
            registry("123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud:1"),
            "123456789012.dkr.ecr.us-east-1.amazonaws.com"
        );
        assert_eq!(registry("localhost:5000/x"), "localhost:5000");
        assert!(registry_allows("ghcr.io/acme", "ghcr.io/acme/api:1"));
        assert!(!registry_allows("ghcr.io/acme", "ghcr.io/acme-evil/api:1"));
        assert!(registry_allows("docker.io", "nginx:1"));
        assert!(!registry_allows("ghcr.io", "nginx:1"));
    }
}
