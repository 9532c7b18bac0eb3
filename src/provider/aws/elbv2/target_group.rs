//! Target groups (a routed endpoint's `target_group` and `target_group_alt`): health checks,
//! the deregistration delay, create, modify, delete (retried while ECS still uses the group),
//! lookup and batched read-back.

use super::*;

fn health(attrs: &Attrs) -> Attrs {
    attr::map(attrs, TG::HealthCheck)
        .cloned()
        .unwrap_or_default()
}

/// Creates a target group with its health check, tags and deregistration delay.
pub async fn create_target_group(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let name = attr::req_str(&r.attrs, TG::Name)?;
    let h = health(&r.attrs);
    let port = attr::int(&r.attrs, TG::Port)
        .ok_or_else(|| ProviderError::invalid(format!("attribute `{}` is required", TG::Port)))?;
    let out = p
        .clients
        .elb
        .create_target_group()
        .name(name)
        .protocol(ProtocolEnum::from(
            attr::str(&r.attrs, TG::Protocol).unwrap_or(tg::PROTOCOL_HTTP),
        ))
        .port(port as i32)
        .target_type(TargetTypeEnum::from(
            attr::str(&r.attrs, TG::TargetType).unwrap_or(tg::TARGET_TYPE_IP),
        ))
        .set_vpc_id(attr::str(&r.attrs, TG::VpcId).map(str::to_string))
        .health_check_enabled(true)
        .set_health_check_path(attr::str(&h, HC::Path).map(str::to_string))
        .set_health_check_interval_seconds(attr::int(&h, HC::Interval).map(|x| x as i32))
        .set_health_check_timeout_seconds(attr::int(&h, HC::Timeout).map(|x| x as i32))
        .set_healthy_threshold_count(attr::int(&h, HC::HealthyThreshold).map(|x| x as i32))
        .set_unhealthy_threshold_count(attr::int(&h, HC::UnhealthyThreshold).map(|x| x as i32))
        .set_matcher(attr::str(&h, HC::Matcher).map(|m| Matcher::builder().http_code(m).build()))
        .set_tags(Some(elb_tags(&r.attrs)))
        .send()
        .await
        .map_err(|e| map(&format!("CreateTargetGroup {name}"), e))?;
    let arn = out
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .unwrap_or_default()
        .to_string();
    let mut attrs = r.attrs.clone();
    set_arn(&mut attrs, &arn);
    let applied = Applied {
        id: arn.clone(),
        attrs,
    };
    set_deregistration_delay(p, &arn, &r.attrs)
        .await
        .map_err(|e| e.leaving(LeftBehind::Resource(applied.clone())))?;
    Ok(applied)
}

async fn set_deregistration_delay(
    p: &AwsProvider,
    arn: &str,
    attrs: &Attrs,
) -> Result<(), ProviderError> {
    let delay =
        attr::int(attrs, TG::DeregistrationDelay).unwrap_or(tg::DEFAULT_DEREGISTRATION_DELAY);
    p.clients
        .elb
        .modify_target_group_attributes()
        .target_group_arn(arn)
        .attributes(
            TargetGroupAttribute::builder()
                .key(tg::ATTR_DEREGISTRATION_DELAY)
                .value(delay.to_string())
                .build(),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| map(&format!("ModifyTargetGroupAttributes {arn}"), e))
}

/// Changes a target group's health check, deregistration delay and tags where they changed.
pub async fn update_target_group(
    p: &AwsProvider,
    id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let a = &after.attrs;
    if attr::changed(before, a, TG::HealthCheck) {
        let h = health(a);
        p.clients
            .elb
            .modify_target_group()
            .target_group_arn(id)
            .health_check_enabled(true)
            .set_health_check_path(attr::str(&h, HC::Path).map(str::to_string))
            .set_health_check_interval_seconds(attr::int(&h, HC::Interval).map(|x| x as i32))
            .set_health_check_timeout_seconds(attr::int(&h, HC::Timeout).map(|x| x as i32))
            .set_healthy_threshold_count(attr::int(&h, HC::HealthyThreshold).map(|x| x as i32))
            .set_unhealthy_threshold_count(attr::int(&h, HC::UnhealthyThreshold).map(|x| x as i32))
            .set_matcher(
                attr::str(&h, HC::Matcher).map(|m| Matcher::builder().http_code(m).build()),
            )
            .send()
            .await
            .map_err(|e| map(&format!("ModifyTargetGroup {id}"), e))?;
    }
    if attr::changed(before, a, TG::DeregistrationDelay) {
        set_deregistration_delay(p, id, a).await?;
    }
    retag(p, id, before, a).await?;
    let mut attrs = a.clone();
    set_arn(&mut attrs, id);
    Ok(Applied {
        id: id.to_string(),
        attrs,
    })
}

/// Deletes a target group, retrying while it is still in use (a listener rule or a service
/// being deleted still holds it).
pub async fn delete_target_group(p: &AwsProvider, id: &str) -> Result<(), ProviderError> {
    let started = Instant::now();
    loop {
        let r = deleted(
            &format!("DeleteTargetGroup {id}"),
            p.clients
                .elb
                .delete_target_group()
                .target_group_arn(id)
                .send()
                .await,
        );
        match r {
            Err(e) if e.kind == ErrorKind::Conflict && started.elapsed() < IN_USE_TIMEOUT => {
                tokio::time::sleep(p.opts.poll_interval.min(Duration::from_secs(5))).await;
            }
            other => return other,
        }
    }
}

async fn describe_target_groups(
    p: &AwsProvider,
    arns: Option<Vec<String>>,
    names: Option<Vec<String>>,
) -> Result<Vec<TargetGroup>, ProviderError> {
    match p
        .clients
        .elb
        .describe_target_groups()
        .set_target_group_arns(arns)
        .set_names(names)
        .send()
        .await
    {
        Ok(o) => Ok(o.target_groups().to_vec()),
        Err(e) => {
            let err = map("DescribeTargetGroups", e);
            if err.is_not_found() {
                Ok(Vec::new())
            } else {
                Err(err)
            }
        }
    }
}

/// The target group the desired name names, with its tags.
pub async fn find_target_group(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Option<Found>, ProviderError> {
    let name = attr::req_str(&r.attrs, TG::Name)?;
    let groups = describe_target_groups(p, None, Some(vec![name.to_string()])).await?;
    found(p, groups.first().and_then(|t| t.target_group_arn())).await
}

/// Live attributes of target groups by ARN (or name, for imports), in request order.
pub async fn read_target_groups(
    p: &AwsProvider,
    items: &[(&str, &Attrs)],
) -> Result<Vec<Option<Attrs>>, ProviderError> {
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(BATCH) {
        let found = describe_by_arn_or_name(chunk, |a, n| describe_target_groups(p, a, n)).await?;
        out.extend(
            read_back_batch(
                p,
                chunk,
                found,
                |l: &TargetGroup| [l.target_group_arn(), l.target_group_name()],
                read_back_tg,
            )
            .await?,
        );
    }
    Ok(out)
}

fn read_back_tg(
    t: &TargetGroup,
    tags: Option<&BTreeMap<String, String>>,
    recorded: &Attrs,
) -> Attrs {
    let mut a = recorded.clone();
    for &k in TG::ALL {
        match k {
            TG::Name => {
                if let Some(v) = t.target_group_name() {
                    attr::set(&mut a, k, Value::str(v));
                }
            }
            TG::Port => {
                if let Some(v) = t.port() {
                    attr::set(&mut a, k, Value::Int(i64::from(v)));
                }
            }
            TG::Protocol => {
                if let Some(v) = t.protocol() {
                    attr::set(&mut a, k, Value::str(v.as_str()));
                }
            }
            TG::TargetType => {
                if let Some(v) = t.target_type() {
                    attr::set(&mut a, k, Value::str(v.as_str()));
                }
            }
            TG::VpcId => {
                if let Some(v) = t.vpc_id() {
                    attr::set(&mut a, k, Value::str(v));
                }
            }
            TG::HealthCheck => {
                let mut h = health(recorded);
                for &hk in HC::ALL {
                    let v = match hk {
                        HC::Path => t.health_check_path().map(Value::str),
                        HC::Interval => t
                            .health_check_interval_seconds()
                            .map(|x| Value::Int(x.into())),
                        HC::Timeout => t
                            .health_check_timeout_seconds()
                            .map(|x| Value::Int(x.into())),
                        HC::HealthyThreshold => {
                            t.healthy_threshold_count().map(|x| Value::Int(x.into()))
                        }
                        HC::UnhealthyThreshold => {
                            t.unhealthy_threshold_count().map(|x| Value::Int(x.into()))
                        }
                        HC::Matcher => t.matcher().and_then(|m| m.http_code()).map(Value::str),
                    };
                    if let Some(v) = v {
                        attr::set(&mut h, hk, v);
                    }
                }
                attr::set(&mut a, k, Value::Map(h));
            }
            TG::Tags => {
                if let Some(tags) = tags {
                    attr::set(&mut a, k, tags_value(tags));
                }
            }
            TG::Arn => {
                if let Some(v) = t.target_group_arn() {
                    attr::set(&mut a, k, Value::str(v));
                }
            }
            TG::ArnSuffix => {
                if let Some(v) = t.target_group_arn().and_then(tg::arn_suffix) {
                    attr::set(&mut a, k, Value::str(v));
                }
            }
            // A target group attribute refresh does not fetch: the recorded value stands.
            TG::DeregistrationDelay => {}
        }
    }
    a
}

/// Records a target group's ARN and its metric dimension.
fn set_arn(attrs: &mut Attrs, arn: &str) {
    attr::set(attrs, TG::Arn, Value::str(arn));
    if let Some(s) = tg::arn_suffix(arn) {
        attr::set(attrs, TG::ArnSuffix, Value::str(s));
    }
}
