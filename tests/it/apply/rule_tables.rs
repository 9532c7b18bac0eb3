//! The rule-table half of request conformance: the names, tags and integer members of each
//! captured request (as `tests/conformance/check.py` parsed them from the wire) checked with
//! `pedestal::resource::rules::request`, the tables `pedestal validate` enforces — the rules
//! AWS documents beyond its service models (S3 objects carry 10 tags, `aws:` keys are reserved,
//! a desired count is at most 10,000, ...).

use pedestal::resource::ResourceKind;
use pedestal::resource::rules::request::{RequestValues, problems};
use serde_json::Value;

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Tags sent as a list of `{key, value}` objects (member names `key`/`Key`).
fn tag_list(v: Option<&Value>, key: &str, value: &str) -> Vec<(String, String)> {
    v.and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .map(|t| {
                    (
                        text(t, key).unwrap_or_default(),
                        text(t, value).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Tags sent as a map.
fn tag_map(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Tags sent as a URL query string (`x-amz-tagging`).
fn tag_query(v: Option<&Value>) -> Vec<(String, String)> {
    let Some(q) = v.and_then(Value::as_str).filter(|q| !q.is_empty()) else {
        return Vec::new();
    };
    let decode = |s: &str| {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
                (b'%', Some(byte)) => {
                    out.push(byte);
                    i += 3;
                }
                (b'+', _) => {
                    out.push(b' ');
                    i += 1;
                }
                (c, _) => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    q.split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The integers named `names` anywhere in `v`.
fn ints(v: &Value, names: &[&str], out: &mut Vec<(String, i64)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match x.as_i64() {
                    Some(n) if names.contains(&k.as_str()) => out.push((k.clone(), n)),
                    _ => ints(x, names, out),
                }
            }
        }
        Value::Array(l) => l.iter().for_each(|x| ints(x, names, out)),
        _ => {}
    }
}

/// The kind a request acts on and the values of it the rule tables govern (`None`: the
/// request sets nothing they govern).
fn governed(service: &str, operation: &str, p: &Value) -> Option<(ResourceKind, RequestValues)> {
    use ResourceKind as K;
    let mut v = RequestValues::default();
    let kind = match (service, operation) {
        ("s3", "CreateBucket") => {
            v.name = text(p, "Bucket");
            K::S3Bucket
        }
        ("s3", "PutBucketTagging") => {
            let set = p.get("Tagging").and_then(|t| t.get("TagSet"));
            v.tags = tag_list(set, "Key", "Value");
            K::S3Bucket
        }
        ("s3", "PutObject" | "CreateMultipartUpload") => {
            v.name = text(p, "Key");
            v.tags = tag_query(p.get("Tagging"));
            K::S3Object
        }
        ("s3", "PutObjectTagging") => {
            let set = p.get("Tagging").and_then(|t| t.get("TagSet"));
            v.tags = tag_list(set, "Key", "Value");
            K::S3Object
        }
        ("ecs", "CreateCluster") => {
            v.name = text(p, "clusterName");
            v.tags = tag_list(p.get("tags"), "key", "value");
            K::EcsCluster
        }
        ("ecs", "CreateService" | "UpdateService") => {
            v.name = text(p, "serviceName");
            v.tags = tag_list(p.get("tags"), "key", "value");
            let names = ["desiredCount", "minimumHealthyPercent", "maximumPercent"];
            ints(p, &names, &mut v.ints);
            K::EcsService
        }
        ("ecs", "RegisterTaskDefinition") => {
            v.name = text(p, "family");
            v.tags = tag_list(p.get("tags"), "key", "value");
            let names = ["interval", "timeout", "retries", "startPeriod", "sizeInGiB"];
            ints(p, &names, &mut v.ints);
            K::EcsTaskDefinition
        }
        // ECS tags follow one table whatever they are put on.
        ("ecs", "TagResource") => {
            v.tags = tag_list(p.get("tags"), "key", "value");
            K::EcsCluster
        }
        ("logs", "CreateLogGroup" | "TagLogGroup") => {
            v.name = text(p, "logGroupName").filter(|_| operation == "CreateLogGroup");
            v.tags = tag_map(p.get("tags"));
            K::LogGroup
        }
        ("logs", "TagResource") => {
            v.tags = tag_map(p.get("tags"));
            K::LogGroup
        }
        ("cloudwatch", "PutMetricAlarm" | "TagResource") => {
            v.name = text(p, "AlarmName");
            v.tags = tag_list(p.get("Tags"), "Key", "Value");
            K::CloudwatchAlarm
        }
        ("elbv2", "CreateLoadBalancer") => {
            v.name = text(p, "Name");
            v.tags = tag_list(p.get("Tags"), "Key", "Value");
            K::LoadBalancer
        }
        ("elbv2", "CreateTargetGroup") => {
            v.name = text(p, "Name");
            v.tags = tag_list(p.get("Tags"), "Key", "Value");
            K::TargetGroup
        }
        ("elbv2", "CreateRule" | "SetRulePriorities") => {
            v.tags = tag_list(p.get("Tags"), "Key", "Value");
            ints(p, &["Priority"], &mut v.ints);
            K::ListenerRule
        }
        ("elbv2", "AddTags") => {
            v.tags = tag_list(p.get("Tags"), "Key", "Value");
            K::LoadBalancer
        }
        ("iam", "CreateRole") => {
            v.name = text(p, "RoleName");
            v.tags = tag_list(p.get("Tags"), "Key", "Value");
            K::IamRole
        }
        ("iam", "TagRole") => {
            v.tags = tag_list(p.get("Tags"), "Key", "Value");
            K::IamRole
        }
        ("ssm", "PutParameter") => {
            v.name = text(p, "Name");
            v.tags = tag_list(p.get("Tags"), "Key", "Value");
            K::SsmParameter
        }
        ("ssm", "AddTagsToResource") => {
            v.tags = tag_list(p.get("Tags"), "Key", "Value");
            K::SsmParameter
        }
        ("application-autoscaling", "RegisterScalableTarget") => {
            ints(p, &["MinCapacity", "MaxCapacity"], &mut v.ints);
            K::ScalingTarget
        }
        _ => return None,
    };
    Some((kind, v))
}

/// Every rule-table violation of one parsed request, prefixed `rule table:`.
pub fn violations(service: Option<&str>, operation: Option<&str>, params: &Value) -> Vec<String> {
    let (Some(service), Some(operation)) = (service, operation) else {
        return Vec::new();
    };
    let Some((kind, values)) = governed(service, operation, params) else {
        return Vec::new();
    };
    problems(kind, &values)
        .into_iter()
        .map(|p| format!("rule table ({kind}): {p}"))
        .collect()
}

#[cfg(test)]
mod tests {
    //! The rule-table check itself: conforming requests pass; each deliberately violating one
    //! is caught, both from parsed members and through the checker from the wire.

    use serde_json::json;

    use super::*;

    #[test]
    fn conforming_requests_pass() {
        let p = json!({"clusterName": "s-dev-serving", "tags": [{"key": "pedestal:stack", "value": "s"}]});
        assert_eq!(
            violations(Some("ecs"), Some("CreateCluster"), &p),
            Vec::<String>::new()
        );
        let p = json!({"Bucket": "b", "Key": "model/sha256-ab/model.onnx", "Tagging": "pedestal%3Astack=s&team=ml"});
        assert_eq!(
            violations(Some("s3"), Some("PutObject"), &p),
            Vec::<String>::new()
        );
        let p = json!({"RoleName": "s-dev-fraud-exec", "Tags": [{"Key": "pedestal:stack", "Value": "s"}]});
        assert_eq!(
            violations(Some("iam"), Some("CreateRole"), &p),
            Vec::<String>::new()
        );
        let p =
            json!({"Name": "/pedestal/s/dev/API_TOKEN", "Tags": [{"Key": "team", "Value": "ml"}]});
        assert_eq!(
            violations(Some("ssm"), Some("PutParameter"), &p),
            Vec::<String>::new()
        );
        // Operations the tables do not govern.
        assert_eq!(
            violations(Some("s3"), Some("HeadObject"), &p),
            Vec::<String>::new()
        );
        assert_eq!(violations(None, None, &p), Vec::<String>::new());
    }

    #[test]
    fn violating_requests_fail() {
        let tagging: Vec<String> = (0..11).map(|i| format!("k{i}=v")).collect();
        let p = json!({"Bucket": "b", "Key": "k", "Tagging": tagging.join("&")});
        assert_eq!(
            violations(Some("s3"), Some("PutObject"), &p),
            ["rule table (s3_object): 11 tags: S3 objects carry at most 10"]
        );
        let p = json!({
            "serviceName": "svc",
            "desiredCount": 4_294_967_296i64,
            "tags": [{"key": "aws:owner", "value": "x"}]
        });
        let v = violations(Some("ecs"), Some("CreateService"), &p);
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].contains("tag \"aws:owner\""), "{v:?}");
        assert!(
            v[1].contains("desiredCount: AWS accepts a desiredCount from 0 to 10000"),
            "{v:?}"
        );
        let p = json!({
            "family": "f",
            "containerDefinitions": [{"name": "c", "healthCheck": {"command": ["CMD"], "interval": 1, "retries": 0}}]
        });
        let v = violations(Some("ecs"), Some("RegisterTaskDefinition"), &p);
        assert_eq!(v.len(), 2, "{v:?}");
        let p = json!({"logGroupName": "/lg", "tags": {"team": "x".repeat(257)}});
        let v = violations(Some("logs"), Some("CreateLogGroup"), &p);
        assert_eq!(v.len(), 1, "{v:?}");
        let p = json!({"Bucket": "Not_A_Bucket"});
        let v = violations(Some("s3"), Some("CreateBucket"), &p);
        assert_eq!(v.len(), 1, "{v:?}");
        let p = json!({"RoleName": "r".repeat(65), "Tags": [{"Key": "aws:x", "Value": "v"}]});
        let v = violations(Some("iam"), Some("CreateRole"), &p);
        assert_eq!(v.len(), 2, "{v:?}");
        let p = json!({"Name": "/aws/reserved", "Type": "SecureString"});
        let v = violations(Some("ssm"), Some("PutParameter"), &p);
        assert_eq!(v.len(), 1, "{v:?}");
    }

    #[test]
    fn a_violating_request_on_the_wire_fails_the_check() {
        let python = crate::apply::moto::moto().python.clone();
        let tagging: Vec<String> = (0..11).map(|i| format!("k{i}=v")).collect();
        let tagging = tagging.join("&");
        let (op, v) = super::super::conformance::check_raw(
            &python,
            "PUT",
            "/bucket/model.bin?x-id=PutObject",
            &[
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0",
                ),
                ("x-amz-tagging", &tagging),
            ],
            b"bytes",
        );
        assert_eq!(op.as_deref(), Some("PutObject"));
        assert_eq!(
            v,
            ["rule table (s3_object): 11 tags: S3 objects carry at most 10"],
            "botocore's model allows it; the rule table does not"
        );
    }
}
