//! The IAM roles pedestal makes for an endpoint, least privilege:
//! - the execution role ECS uses to start the task: pull its image (when it lives in a private
//!   ECR repository), write to its own log group, read its own secrets;
//! - the task role the container runs as: read its model artifact's prefix, plus the spec's
//!   `task_policy` statements (made only when there is something to grant).
//!
//! An `execution_role` / `task_role` ARN in the spec uses that role instead, and none is made.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::LazyLock;

use super::{Endpoint, EndpointDeps, TASK_POLICY, TASK_ROLE};
use crate::addr::Address;
use crate::resource::rules;
use crate::resource::schema::{iam_role, log_group, s3_object};
use crate::resource::{ResourceKind, Value};
use crate::spec::diag::{ErrorCode, Span};
use crate::spec::fields::{Fields, Src};
use crate::spec::load::Loader;
use crate::spec::lower::common::{Meta, concat, resource_address};
use crate::spec::resolve::Deps;

/// Keys of one `task_policy` statement.
const STATEMENT_KEYS: &[&str] = &["effect", "actions", "resources", "condition"];

/// Addresses and names an endpoint's roles are made with.
pub(super) struct RoleNames<'a> {
    /// The module prefix of the endpoint's addresses.
    pub(super) prefix: &'a str,
    /// The endpoint block's name.
    pub(super) block: &'a str,
    /// The endpoint's default physical name (the roles' names start with it).
    pub(super) base: &'a str,
    /// The endpoint's log group.
    pub(super) log_group: &'a Address,
    /// Where dependencies found only through references point in the spec.
    pub(super) span: &'a Span,
    /// Where the task role's statements are written (`task_policy`, else the endpoint).
    pub(super) policy_span: &'a Span,
}

/// The partition of an AWS region (`aws`, `aws-cn`, `aws-us-gov`).
pub(crate) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The ARN of the private ECR repository an image lives in (`None` for any other registry).
pub(crate) fn ecr_repository_arn(image: &str) -> Option<String> {
    let (host, rest) = image.split_once('/')?;
    let mut parts = host.split('.');
    let account = parts.next()?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if parts.next()? != "dkr" || !parts.next()?.starts_with("ecr") {
        return None;
    }
    let region = parts.next()?;
    if parts.next()? != "amazonaws" {
        return None;
    }
    let repo = rest.split('@').next().unwrap_or(rest);
    let repo = match repo.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r,
        _ => repo,
    };
    if repo.is_empty() {
        return None;
    }
    Some(format!(
        "arn:{}:ecr:{region}:{account}:repository/{repo}",
        partition(region)
    ))
}

/// Which secret store an ARN (or bare parameter name) given in `secrets` points at, and the
/// resource ARN to grant read access on.
#[derive(Debug, PartialEq)]
pub(crate) enum SecretSource {
    /// An SSM parameter: `ssm:GetParameters`.
    Parameter(Value),
    /// A Secrets Manager secret: `secretsmanager:GetSecretValue`.
    Secret(Value),
}

/// Classifies one `secrets` value; a JSON-key or version suffix of a Secrets Manager ARN is cut
/// off (the grant is on the secret), and a bare parameter name is granted in the stack's region.
pub(crate) fn secret_source(v: &Value, region: &str) -> SecretSource {
    let Some(s) = v.as_str() else {
        // Known only after apply: a parameter pedestal makes (its ARN).
        return SecretSource::Parameter(v.clone());
    };
    let parts: Vec<&str> = s.split(':').collect();
    if s.starts_with("arn:") && parts.len() >= 6 {
        if parts[2] == "secretsmanager" {
            return SecretSource::Secret(Value::str(parts[..7.min(parts.len())].join(":")));
        }
        return SecretSource::Parameter(Value::str(s));
    }
    let name = if s.starts_with('/') {
        s.to_string()
    } else {
        format!("/{s}")
    };
    SecretSource::Parameter(Value::str(format!(
        "arn:{}:ssm:{region}:*:parameter{name}",
        partition(region)
    )))
}

/// The part of an artifact key a task role may read: the artifact's own prefix (every release
/// of it, so a rollback still reads its object), else the key itself.
pub(crate) fn artifact_prefix(key: &str) -> String {
    match key.find("/sha256-") {
        Some(i) => key[..=i].to_string(),
        None => key.to_string(),
    }
}

/// The size IAM would count for `doc` once applied, at least: references (ARNs known after
/// apply) count as empty.
fn known_policy_size(doc: &Value) -> usize {
    let known = doc.substitute(&|_| Some(Value::str("")));
    rules::iam::policy_size(&serde_json::to_string(&known).unwrap_or_default())
}

/// Every reference inside `v`, as dependencies at `span`.
fn ref_deps(v: &Value, span: &Span, deps: &mut Deps) {
    // An address is copied only when it is new.
    for r in v.refs() {
        if !deps.contains_key(&r.address) {
            deps.insert(r.address.clone(), span.clone());
        }
    }
}

/// The statements letting an execution role pull `image` from its private ECR repository
/// (none for any other registry).
fn pull_statements(image: &str) -> Vec<Value> {
    let Some(repo) = ecr_repository_arn(image) else {
        return Vec::new();
    };
    // GetAuthorizationToken is not tied to a repository (one statement, shared).
    static ECR_TOKEN: LazyLock<Value> = LazyLock::new(|| {
        iam_role::allow(
            "EcrToken",
            &["ecr:GetAuthorizationToken"],
            vec![Value::str("*")],
            None,
        )
    });
    vec![
        iam_role::allow(
            "PullImage",
            &[
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ],
            vec![Value::String(repo)],
            None,
        ),
        ECR_TOKEN.clone(),
    ]
}

/// The execution role's statements: pull the image from its private ECR repository (`pull`,
/// from [`pull_statements`]), write to the endpoint's log group, read the secrets the
/// container names.
fn execution_statements(
    e: &Endpoint,
    pull: &[Value],
    log_group_addr: &Address,
    region: &str,
) -> Vec<Value> {
    let c = &e.container;
    let mut st = pull.to_vec();
    let lg_arn = Loader::reference(log_group_addr, log_group::Attr::Arn.as_str());
    st.push(iam_role::allow(
        "WriteLogs",
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        vec![
            lg_arn.clone(),
            concat(&[lg_arn, Value::str(":log-stream:*")]),
        ],
        None,
    ));
    let (mut params, mut secrets) = (Vec::new(), Vec::new());
    for v in c.secrets.values().filter(|v| !v.is_sensitive()) {
        match secret_source(v, region) {
            SecretSource::Parameter(a) if !params.contains(&a) => params.push(a),
            SecretSource::Secret(a) if !secrets.contains(&a) => secrets.push(a),
            _ => {}
        }
    }
    if !params.is_empty() {
        st.push(iam_role::allow(
            "ReadParameters",
            &["ssm:GetParameters"],
            params,
            None,
        ));
    }
    if !secrets.is_empty() {
        st.push(iam_role::allow(
            "ReadSecrets",
            &["secretsmanager:GetSecretValue"],
            secrets,
            None,
        ));
    }
    st
}

/// The task role's statements for its artifacts: read each artifact's prefix, list its bucket
/// under that prefix.
fn artifact_statements(artifacts: &[(Value, Value)], part: &str) -> Vec<Value> {
    let mut st = Vec::new();
    let mut objects = Vec::new();
    let mut buckets = Vec::new();
    let mut prefixes = Vec::new();
    for (bucket, key) in artifacts {
        let prefix = match key {
            Value::String(k) => Value::String(artifact_prefix(k)),
            other => other.clone(),
        };
        let bucket_arn = concat(&[Value::String(format!("arn:{part}:s3:::")), bucket.clone()]);
        let object = concat(&[
            bucket_arn.clone(),
            Value::str("/"),
            prefix.clone(),
            Value::str("*"),
        ]);
        if !objects.contains(&object) {
            objects.push(object);
        }
        if !buckets.contains(&bucket_arn) {
            buckets.push(bucket_arn);
        }
        let p = concat(&[prefix, Value::str("*")]);
        if !prefixes.contains(&p) {
            prefixes.push(p);
        }
    }
    if !objects.is_empty() {
        st.push(iam_role::allow(
            "ReadArtifact",
            &["s3:GetObject", "s3:GetObjectVersion"],
            objects,
            None,
        ));
        let condition = Value::Map(
            BTreeMap::from([(
                "StringLike".to_string(),
                Value::Map(
                    BTreeMap::from([("s3:prefix".to_string(), Value::List(prefixes))]).into(),
                ),
            )])
            .into(),
        );
        st.push(iam_role::allow(
            "ListArtifact",
            &["s3:ListBucket"],
            buckets,
            Some(condition),
        ));
    }
    st
}

impl Loader<'_> {
    /// `task_policy = [{ effect, actions, resources, condition }]`: statements added to the
    /// task role pedestal makes (an error next to a `task_role` ARN, which pedestal does not
    /// change).
    pub(super) fn endpoint_task_policy(
        &mut self,
        f: &Fields<'_>,
        what: &str,
        task_role: &Value,
        deps: &mut Deps,
    ) -> Vec<Value> {
        let Some((v, span)) = self.value(f, TASK_POLICY, deps) else {
            return Vec::new();
        };
        let items = match v {
            Value::List(items) => items,
            other => {
                let found = match other {
                    Value::Map(_) => "a table",
                    Value::String(_) | Value::Template(_) => "a string",
                    _ => "another value",
                };
                self.err(
                    ErrorCode::WrongType,
                    &span,
                    format!("`{TASK_POLICY}` in {what} must be a list of statements, found {found}"),
                    "expected a list of tables",
                )
                .help = Some(
                    "task_policy = [{ actions = [\"dynamodb:GetItem\"], resources = [\"arn:aws:dynamodb:...\"] }]"
                        .into(),
                );
                return Vec::new();
            }
        };
        if !matches!(task_role, Value::Null) && !items.is_empty() {
            let role_span = f.src(TASK_ROLE).map(|s| s.span().clone());
            let e = self.err(
                ErrorCode::InvalidValue,
                &span,
                format!("{what} sets both `{TASK_POLICY}` and `{TASK_ROLE}`"),
                "statements for the role pedestal makes",
            );
            if let Some(rs) = &role_span {
                e.label(rs, "an existing role, which pedestal does not change");
            }
            e.help = Some(
                "drop task_role to let pedestal make the role with these statements, or grant them on your role"
                    .into(),
            );
            return Vec::new();
        }
        // Each statement's own span when written inline.
        let item_spans: Vec<Span> = match f.src(TASK_POLICY) {
            Some(Src::Node(n)) => match &n.kind {
                crate::spec::raw::NodeKind::Array(nodes) => {
                    nodes.iter().map(|x| x.span.clone()).collect()
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        let mut out = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let label = format!("{what}.{TASK_POLICY}[{i}]");
            let span = item_spans.get(i).cloned().unwrap_or_else(|| span.clone());
            if let Some(st) = self.task_policy_statement(f.scope, item, &span, i, &label, deps) {
                out.push(st);
            }
        }
        out
    }

    /// One `task_policy` statement (number `i`, written at `span`) as an IAM statement, or
    /// `None` after reporting what is wrong with it.
    fn task_policy_statement(
        &mut self,
        scope: crate::spec::load::ScopeId,
        item: Value,
        span: &Span,
        i: usize,
        label: &str,
        deps: &mut Deps,
    ) -> Option<Value> {
        let st = self.fields(
            scope,
            &Src::Val(item, span.clone()),
            span,
            label,
            STATEMENT_KEYS,
            deps,
        )?;
        let effect = match self.v_plain_str(&st, "effect", deps) {
            None => "Allow".to_string(),
            Some((e, _)) if e == "Allow" || e == "Deny" => e,
            Some((e, s)) => {
                self.err(
                    ErrorCode::InvalidValue,
                    &s,
                    format!("`effect` in {label} must be \"Allow\" or \"Deny\", found {e:?}"),
                    "not an IAM effect",
                );
                return None;
            }
        };
        let mut lists = Vec::new();
        for key in ["actions", "resources"] {
            match self.v_str_list(&st, key, deps) {
                Some((l, s)) if l.is_empty() => {
                    self.err(
                        ErrorCode::InvalidValue,
                        &s,
                        format!("`{key}` in {label} must not be empty"),
                        "empty list",
                    );
                }
                Some((l, _)) => lists.push(l),
                None if !st.has(key) => self.missing(
                    &st,
                    key,
                    "a statement names its actions and resources: { actions = [\"s3:GetObject\"], resources = [\"arn:aws:s3:::bucket/*\"] }",
                ),
                None => {}
            }
        }
        let [actions, resources] = <[Vec<Value>; 2]>::try_from(lists).ok()?;
        if let Some((a, s)) = actions
            .iter()
            .filter_map(Value::as_str)
            .find(|a| !a.contains(':') && *a != "*")
            .map(|a| (a.to_string(), span.clone()))
        {
            self.err(
                ErrorCode::InvalidValue,
                &s,
                format!("action {a:?} in {label} is not `service:Action`"),
                "not an IAM action",
            )
            .help = Some("for example \"s3:GetObject\" or \"dynamodb:Query\"".into());
            return None;
        }
        let mut m = BTreeMap::from([
            ("Sid".to_string(), Value::str(format!("TaskPolicy{i}"))),
            ("Effect".to_string(), Value::String(effect)),
            ("Action".to_string(), Value::List(actions)),
            ("Resource".to_string(), Value::List(resources)),
        ]);
        if let Some((c, s)) = self.value(&st, "condition", deps) {
            match c {
                Value::Map(_) => {
                    m.insert("Condition".to_string(), c);
                }
                _ => {
                    self.err(
                        ErrorCode::WrongType,
                        &s,
                        format!("`condition` in {label} must be a table"),
                        "expected a table",
                    )
                    .help = Some(
                        "condition = { StringEquals = { \"aws:SourceVpc\" = \"vpc-...\" } }".into(),
                    );
                    return None;
                }
            }
        }
        Some(Value::Map(m.into()))
    }

    /// Refuses an inline policy longer than IAM accepts for one role (pointing at the
    /// `task_policy` that makes it so long, else the endpoint).
    fn check_policy_size(&mut self, addr: &Address, policy: &Value, span: &Span) {
        let size = known_policy_size(policy);
        if let Some(problem) = rules::iam::policy_size_problem(
            "role's inline policy",
            size,
            rules::iam::INLINE_POLICIES_MAX,
        ) {
            self.err(
                ErrorCode::InvalidValue,
                span,
                format!("the policy of {addr} is too long: {problem}"),
                "policy too long",
            )
            .help = Some(format!(
                "merge statements, use wildcards in resources, or attach a managed policy to a role of your own and name it in `task_role` ({})",
                rules::iam::QUOTAS_SOURCE
            ));
        }
    }

    /// `(bucket, key)` of each artifact object the model artifact refers to; for a literal
    /// `s3://bucket/key`, that location.
    pub(super) fn artifact_locations(
        &self,
        model_deps: &Deps,
        artifact: &Value,
    ) -> Vec<(Value, Value)> {
        let objects: Vec<(Value, Value)> = model_deps
            .keys()
            .filter_map(|a| self.lowered().objects.get(a))
            .filter_map(|attrs| {
                Some((
                    attrs.get(s3_object::Attr::Bucket.as_str())?.clone(),
                    attrs.get(s3_object::Attr::Key.as_str())?.clone(),
                ))
            })
            .collect();
        if !objects.is_empty() {
            return objects;
        }
        artifact
            .as_str()
            .and_then(|u| u.strip_prefix("s3://"))
            .and_then(|rest| rest.split_once('/'))
            .map(|(b, k)| vec![(Value::str(b), Value::str(k))])
            .unwrap_or_default()
    }

    /// [`pull_statements`] of `image`, made once per image.
    fn cached_pull_statements(&mut self, image: &str) -> Arc<[Value]> {
        if let Some(st) = self.lowered().pull_statements.get(image) {
            return st.clone();
        }
        let st: Arc<[Value]> = pull_statements(image).into();
        self.lowered_mut()
            .pull_statements
            .insert(image.to_string(), st.clone());
        st
    }

    /// Adds the roles pedestal makes for an endpoint; returns the `execution_role` and
    /// `task_role` the task definition names (an ARN given in the spec, a reference to a role
    /// made here, or null).
    pub(super) fn endpoint_roles(
        &mut self,
        n: &RoleNames<'_>,
        e: &Endpoint,
        deps: &EndpointDeps,
        meta: &Meta<'_>,
    ) -> (Value, Value) {
        let c = &e.container;
        let region = self.region().to_string();
        let part = partition(&region);
        let exec = if matches!(c.execution_role, Value::Null) {
            let addr = resource_address(n.prefix, "endpoint", n.block, "execution_role");
            let pull = match e.image.as_str() {
                Some(image) => self.cached_pull_statements(image),
                None => Arc::from([]),
            };
            let st = execution_statements(e, &pull, n.log_group, &region);
            let attrs = iam_role::Desired {
                name: Value::String(iam_role::role_name(n.base, "-exec")),
                assume_role_policy: iam_role::ecs_tasks_trust(),
                policy: iam_role::document(st),
            }
            .into_attrs();
            let mut d = deps.common.clone();
            // Only the inline policy can hold references (the name is text, the trust fixed).
            if let Some(policy) = attrs.get(iam_role::Attr::Policy.as_str()) {
                ref_deps(policy, n.span, &mut d);
            }
            d.entry(n.log_group.clone())
                .or_insert_with(|| n.span.clone());
            self.add_resource(addr.clone(), ResourceKind::IamRole, attrs, d, meta);
            Self::reference(&addr, iam_role::Attr::Arn.as_str())
        } else {
            c.execution_role.clone()
        };
        let task = if matches!(c.task_role, Value::Null) {
            let mut st = artifact_statements(&e.artifacts, part);
            st.extend(c.task_policy.iter().cloned());
            if st.is_empty() {
                Value::Null
            } else {
                let addr = resource_address(n.prefix, "endpoint", n.block, "task_role");
                let policy = iam_role::document(st);
                self.check_policy_size(&addr, &policy, n.policy_span);
                let attrs = iam_role::Desired {
                    name: Value::String(iam_role::role_name(n.base, "-task")),
                    assume_role_policy: iam_role::ecs_tasks_trust(),
                    policy,
                }
                .into_attrs();
                let mut d = deps.common.clone();
                d.extend(deps.role.clone());
                if let Some(policy) = attrs.get(iam_role::Attr::Policy.as_str()) {
                    ref_deps(policy, n.span, &mut d);
                }
                self.add_resource(addr.clone(), ResourceKind::IamRole, attrs, d, meta);
                Self::reference(&addr, iam_role::Attr::Arn.as_str())
            }
        } else {
            c.task_role.clone()
        };
        (exec, task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_images_name_their_repository() {
        assert_eq!(
            ecr_repository_arn("123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud-serve:2.4.1")
                .as_deref(),
            Some("arn:aws:ecr:us-east-1:123456789012:repository/fraud-serve")
        );
        assert_eq!(
            ecr_repository_arn("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api@sha256:ab")
                .as_deref(),
            Some("arn:aws:ecr:eu-west-1:123456789012:repository/team/api")
        );
        assert_eq!(
            ecr_repository_arn("public.ecr.aws/docker/library/python:3.12"),
            None
        );
        assert_eq!(ecr_repository_arn("repo/api:1"), None);
        assert_eq!(ecr_repository_arn("nginx"), None);
    }

    #[test]
    fn secrets_are_granted_on_their_store() {
        let sm = secret_source(
            &Value::str("arn:aws:secretsmanager:us-east-1:123456789012:secret:tok-AbC:password::"),
            "us-east-1",
        );
        assert_eq!(
            sm,
            SecretSource::Secret(Value::str(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:tok-AbC"
            ))
        );
        assert_eq!(
            secret_source(&Value::str("/shop/db-password"), "eu-west-1"),
            SecretSource::Parameter(Value::str(
                "arn:aws:ssm:eu-west-1:*:parameter/shop/db-password"
            ))
        );
        assert_eq!(
            secret_source(
                &Value::str("arn:aws:ssm:us-east-1:1:parameter/x"),
                "us-east-1"
            ),
            SecretSource::Parameter(Value::str("arn:aws:ssm:us-east-1:1:parameter/x"))
        );
    }

    #[test]
    fn artifact_prefixes_cover_every_release() {
        assert_eq!(
            artifact_prefix("fraud-model/sha256-ab12/fraud.onnx"),
            "fraud-model/"
        );
        assert_eq!(artifact_prefix("models/fixed.bin"), "models/fixed.bin");
        assert_eq!(partition("cn-north-1"), "aws-cn");
    }
}
