//! Listener rules (a routed endpoint's `listener_rule`): path and host conditions, forward
//! actions (weighted over the alternate target group for ECS-managed releases), priorities,
//! create, modify, delete, lookup and batched read-back.

use super::*;

fn conditions(attrs: &Attrs) -> Vec<RuleCondition> {
    let mut out = Vec::new();
    let paths = attr::strings(attrs, RU::PathPatterns);
    if !paths.is_empty() {
        out.push(
            RuleCondition::builder()
                .field("path-pattern")
                .path_pattern_config(
                    PathPatternConditionConfig::builder()
                        .set_values(Some(paths))
                        .build(),
                )
                .build(),
        );
    }
    let hosts = attr::strings(attrs, RU::Hosts);
    if !hosts.is_empty() {
        out.push(
            RuleCondition::builder()
                .field("host-header")
                .host_header_config(
                    HostHeaderConditionConfig::builder()
                        .set_values(Some(hosts))
                        .build(),
                )
                .build(),
        );
    }
    out
}

/// Forward to the target group; with an alternate one, to both weighted 100/0 (ECS shifts
/// the weights during a release).
fn rule_actions(attrs: &Attrs) -> Result<Vec<Action>, ProviderError> {
    let target = attr::req_str(attrs, RU::TargetGroupArn)?;
    let action = match attr::str(attrs, RU::AlternateTargetGroupArn).filter(|s| !s.is_empty()) {
        Some(alt) => Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(
                        TargetGroupTuple::builder()
                            .target_group_arn(target)
                            .weight(100)
                            .build(),
                    )
                    .target_groups(
                        TargetGroupTuple::builder()
                            .target_group_arn(alt)
                            .weight(0)
                            .build(),
                    )
                    .build(),
            )
            .build(),
        None => Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(target)
            .build(),
    };
    Ok(vec![action])
}

/// Creates a listener rule with its conditions, forward action and tags.
pub async fn create_rule(p: &AwsProvider, r: &ApplyResource) -> Result<Applied, ProviderError> {
    let listener = attr::req_str(&r.attrs, RU::ListenerArn)?;
    let priority = attr::int(&r.attrs, RU::Priority).ok_or_else(|| {
        ProviderError::invalid(format!("attribute `{}` is required", RU::Priority))
    })?;
    let out = p
        .clients
        .elb
        .create_rule()
        .listener_arn(listener)
        .priority(priority as i32)
        .set_conditions(Some(conditions(&r.attrs)))
        .set_actions(Some(rule_actions(&r.attrs)?))
        .set_tags(Some(elb_tags(&r.attrs)))
        .send()
        .await
        .map_err(|e| map(&format!("CreateRule {listener} priority {priority}"), e))?;
    let arn = out
        .rules()
        .first()
        .and_then(|x| x.rule_arn())
        .unwrap_or_default()
        .to_string();
    let mut attrs = r.attrs.clone();
    attr::set(&mut attrs, RU::Arn, Value::str(&arn));
    Ok(Applied { id: arn, attrs })
}

/// Changes a rule's priority, conditions, actions and tags where they changed.
pub async fn update_rule(
    p: &AwsProvider,
    id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let a = &after.attrs;
    if attr::changed(before, a, RU::Priority)
        && let Some(priority) = attr::int(a, RU::Priority)
    {
        p.clients
            .elb
            .set_rule_priorities()
            .rule_priorities(
                RulePriorityPair::builder()
                    .rule_arn(id)
                    .priority(priority as i32)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| map(&format!("SetRulePriorities {id}"), e))?;
    }
    if [
        RU::PathPatterns,
        RU::Hosts,
        RU::TargetGroupArn,
        RU::AlternateTargetGroupArn,
    ]
    .into_iter()
    .any(|k| attr::changed(before, a, k))
    {
        p.clients
            .elb
            .modify_rule()
            .rule_arn(id)
            .set_conditions(Some(conditions(a)))
            .set_actions(Some(rule_actions(a)?))
            .send()
            .await
            .map_err(|e| map(&format!("ModifyRule {id}"), e))?;
    }
    retag(p, id, before, a).await?;
    let mut attrs = a.clone();
    attr::set(&mut attrs, RU::Arn, Value::str(id));
    Ok(Applied {
        id: id.to_string(),
        attrs,
    })
}

/// Deletes a listener rule (already gone counts as deleted).
pub async fn delete_rule(p: &AwsProvider, id: &str) -> Result<(), ProviderError> {
    deleted(
        &format!("DeleteRule {id}"),
        p.clients.elb.delete_rule().rule_arn(id).send().await,
    )
}

/// The rule of this address on its listener (by the `pedestal:address` tag).
pub async fn find_rule(p: &AwsProvider, r: &ApplyResource) -> Result<Option<Found>, ProviderError> {
    let Some(listener) = attr::str(&r.attrs, RU::ListenerArn) else {
        return Ok(None);
    };
    let rules = match p
        .clients
        .elb
        .describe_rules()
        .listener_arn(listener)
        .send()
        .await
    {
        Ok(o) => o.rules().to_vec(),
        Err(e) => {
            let err = map(&format!("DescribeRules {listener}"), e);
            return if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            };
        }
    };
    let arns: Vec<String> = rules
        .iter()
        .filter(|x| !x.is_default().unwrap_or(false))
        .filter_map(|x| x.rule_arn().map(str::to_string))
        .collect();
    let tags = describe_tags(p, &arns).await?;
    // The rule tagged with this address; else one at the wanted priority (someone else's).
    if let Some((arn, t)) = tags
        .iter()
        .find(|(_, t)| t.get(TAG_ADDRESS).map(String::as_str) == Some(r.address.as_str()))
    {
        return Ok(Some(Found {
            id: arn.clone(),
            tags: t.clone(),
        }));
    }
    let priority = attr::int(&r.attrs, RU::Priority).map(|x| x.to_string());
    Ok(rules
        .iter()
        .find(|x| x.priority().map(str::to_string) == priority)
        .and_then(|x| x.rule_arn())
        .map(|arn| Found {
            id: arn.to_string(),
            tags: tags.get(arn).cloned().unwrap_or_default(),
        }))
}

/// Live attributes of listener rules by ARN, in request order.
pub async fn read_rules(
    p: &AwsProvider,
    items: &[(&str, &Attrs)],
) -> Result<Vec<Option<Attrs>>, ProviderError> {
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(BATCH) {
        let ids: Vec<String> = chunk.iter().map(|(id, _)| id.to_string()).collect();
        let found = describe_each(ids, |a| describe_rules(p, a)).await?;
        out.extend(
            read_back_batch(
                p,
                chunk,
                found,
                |x: &Rule| [x.rule_arn(), None],
                read_back_rule,
            )
            .await?,
        );
    }
    Ok(out)
}

async fn describe_rules(p: &AwsProvider, arns: Vec<String>) -> Result<Vec<Rule>, ProviderError> {
    match p
        .clients
        .elb
        .describe_rules()
        .set_rule_arns(Some(arns))
        .send()
        .await
    {
        Ok(o) => Ok(o.rules().to_vec()),
        Err(e) => {
            let err = map("DescribeRules", e);
            if err.is_not_found() {
                Ok(Vec::new())
            } else {
                Err(err)
            }
        }
    }
}

/// The values of a rule's condition on `field`, sorted.
fn condition_values(x: &Rule, field: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in x.conditions().iter().filter(|c| c.field() == Some(field)) {
        out.extend(c.values().iter().cloned());
        if let Some(pp) = c.path_pattern_config() {
            out.extend(pp.values().iter().cloned());
        }
        if let Some(h) = c.host_header_config() {
            out.extend(h.values().iter().cloned());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The target group a rule forwards to (the weighted one, or the only one) and the alternate.
fn forward_targets(x: &Rule) -> (Option<String>, Option<String>) {
    let Some(a) = x
        .actions()
        .iter()
        .find(|a| a.r#type() == Some(&ActionTypeEnum::Forward))
    else {
        return (None, None);
    };
    let tuples = a
        .forward_config()
        .map(|f| f.target_groups())
        .unwrap_or_default();
    if tuples.len() >= 2 {
        return (
            tuples[0].target_group_arn().map(str::to_string),
            tuples[1].target_group_arn().map(str::to_string),
        );
    }
    let one = a
        .target_group_arn()
        .or_else(|| tuples.first().and_then(|t| t.target_group_arn()))
        .map(str::to_string);
    (one, None)
}

fn read_back_rule(x: &Rule, tags: Option<&BTreeMap<String, String>>, recorded: &Attrs) -> Attrs {
    let mut a = recorded.clone();
    let (target, alt) = forward_targets(x);
    for &k in RU::ALL {
        match k {
            RU::Priority => {
                if let Some(n) = x.priority().and_then(|s| s.parse::<i64>().ok()) {
                    attr::set(&mut a, k, Value::Int(n));
                }
            }
            RU::PathPatterns | RU::Hosts => {
                let field = if k == RU::PathPatterns {
                    "path-pattern"
                } else {
                    "host-header"
                };
                let live = condition_values(x, field);
                if live != sorted_strings(recorded, k) {
                    attr::set(&mut a, k, strs(&live));
                }
            }
            // ECS shifts traffic between the two target groups of a blue/green, canary or
            // linear release: which one holds the weight is its business, the pair is what
            // pedestal set. A pair that is still the recorded pair is no drift.
            RU::TargetGroupArn | RU::AlternateTargetGroupArn => {
                let rec_pair = {
                    let mut v: Vec<String> = [RU::TargetGroupArn, RU::AlternateTargetGroupArn]
                        .iter()
                        .filter_map(|&r| attr::str(recorded, r).map(str::to_string))
                        .collect();
                    v.sort();
                    v
                };
                let mut live_pair: Vec<String> = target.iter().chain(alt.iter()).cloned().collect();
                live_pair.sort();
                if live_pair != rec_pair {
                    let v = if k == RU::TargetGroupArn {
                        &target
                    } else {
                        &alt
                    };
                    attr::set(&mut a, k, v.as_deref().map_or(Value::Null, Value::str));
                }
            }
            RU::Tags => {
                if let Some(t) = tags {
                    attr::set(&mut a, k, tags_value(t));
                }
            }
            RU::Arn => {
                if let Some(v) = x.rule_arn() {
                    attr::set(&mut a, k, Value::str(v));
                }
            }
            // A rule's ARN names its listener (an imported rule has no recorded one).
            RU::ListenerArn => {
                if let Some(l) = x.rule_arn().and_then(listener_of_rule) {
                    attr::set(&mut a, k, Value::String(l));
                }
            }
            // pedestal's own name.
            RU::Name => {}
        }
    }
    a
}

/// The listener ARN a rule ARN names: `…:listener-rule/app/LB/LB-ID/LISTENER-ID/RULE-ID` is
/// a rule of `…:listener/app/LB/LB-ID/LISTENER-ID`.
fn listener_of_rule(rule_arn: &str) -> Option<String> {
    let (head, path) = rule_arn.split_once(":listener-rule/")?;
    let (listener, rule_id) = path.rsplit_once('/')?;
    (!rule_id.is_empty() && listener.split('/').count() == 4)
        .then(|| format!("{head}:listener/{listener}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_arn_names_its_listener() {
        assert_eq!(
            listener_of_rule(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/lb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
            )
            .as_deref(),
            Some(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/lb/50dc6c495c0c9188/f2f7dc8efc522ab2"
            )
        );
        assert_eq!(
            listener_of_rule("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/lb/a/b"),
            None
        );
        assert_eq!(
            listener_of_rule("arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/lb/a/"),
            None
        );
    }
}
