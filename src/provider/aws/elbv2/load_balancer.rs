//! Application Load Balancers (a gateway's `load_balancer`): create, subnet and security group
//! changes, the idle timeout attribute, delete, lookup and batched read-back.

use super::*;

fn idle_attribute(attrs: &Attrs) -> LoadBalancerAttribute {
    LoadBalancerAttribute::builder()
        .key("idle_timeout.timeout_seconds")
        .value(
            attr::int(attrs, LB::IdleTimeout)
                .unwrap_or(lb::DEFAULT_IDLE_TIMEOUT)
                .to_string(),
        )
        .build()
}

async fn describe_load_balancers(
    p: &AwsProvider,
    arns: Option<Vec<String>>,
    names: Option<Vec<String>>,
) -> Result<Vec<LoadBalancer>, ProviderError> {
    match p
        .clients
        .elb
        .describe_load_balancers()
        .set_load_balancer_arns(arns)
        .set_names(names)
        .send()
        .await
    {
        Ok(o) => Ok(o.load_balancers().to_vec()),
        Err(e) => {
            let err = map("DescribeLoadBalancers", e);
            if err.is_not_found() {
                Ok(Vec::new())
            } else {
                Err(err)
            }
        }
    }
}

fn lb_computed(attrs: &mut Attrs, l: &LoadBalancer) {
    for &k in LB::ALL {
        let v = match k {
            LB::Arn => l.load_balancer_arn(),
            LB::DnsName => l.dns_name(),
            LB::VpcId => l.vpc_id(),
            LB::ArnSuffix => l.load_balancer_arn().and_then(lb::arn_suffix),
            _ => continue,
        };
        if let Some(v) = v {
            attr::set(attrs, k, Value::str(v));
        }
    }
}

/// Creates an Application Load Balancer with its tags and idle timeout.
pub async fn create_load_balancer(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let name = attr::req_str(&r.attrs, LB::Name)?;
    let scheme = attr::str(&r.attrs, LB::Scheme).unwrap_or(lb::SCHEME_INTERNAL);
    let out = p
        .clients
        .elb
        .create_load_balancer()
        .name(name)
        .r#type(LoadBalancerTypeEnum::Application)
        .scheme(LoadBalancerSchemeEnum::from(scheme))
        .set_subnets(Some(attr::strings(&r.attrs, LB::Subnets)))
        .set_security_groups(Some(attr::strings(&r.attrs, LB::SecurityGroups)))
        .set_tags(Some(elb_tags(&r.attrs)))
        .send()
        .await
        .map_err(|e| map(&format!("CreateLoadBalancer {name}"), e))?;
    let Some(l) = out.load_balancers().first() else {
        return Err(ProviderError::other(format!(
            "CreateLoadBalancer {name}: no load balancer in the answer"
        ))
        .leaving(LeftBehind::Unknown));
    };
    let mut attrs = r.attrs.clone();
    lb_computed(&mut attrs, l);
    let arn = l.load_balancer_arn().unwrap_or_default().to_string();
    let applied = Applied {
        id: arn.clone(),
        attrs,
    };
    p.clients
        .elb
        .modify_load_balancer_attributes()
        .load_balancer_arn(&arn)
        .attributes(idle_attribute(&r.attrs))
        .send()
        .await
        .map_err(|e| {
            map(&format!("ModifyLoadBalancerAttributes {name}"), e)
                .leaving(LeftBehind::Resource(applied.clone()))
        })?;
    Ok(applied)
}

/// Sets a load balancer's subnets, security groups, idle timeout and tags where they changed.
pub async fn update_load_balancer(
    p: &AwsProvider,
    id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let a = &after.attrs;
    if sorted_strings(before, LB::Subnets) != sorted_strings(a, LB::Subnets) {
        p.clients
            .elb
            .set_subnets()
            .load_balancer_arn(id)
            .set_subnets(Some(attr::strings(a, LB::Subnets)))
            .send()
            .await
            .map_err(|e| map(&format!("SetSubnets {id}"), e))?;
    }
    if sorted_strings(before, LB::SecurityGroups) != sorted_strings(a, LB::SecurityGroups) {
        p.clients
            .elb
            .set_security_groups()
            .load_balancer_arn(id)
            .set_security_groups(Some(attr::strings(a, LB::SecurityGroups)))
            .send()
            .await
            .map_err(|e| map(&format!("SetSecurityGroups {id}"), e))?;
    }
    if attr::changed(before, a, LB::IdleTimeout) {
        p.clients
            .elb
            .modify_load_balancer_attributes()
            .load_balancer_arn(id)
            .attributes(idle_attribute(a))
            .send()
            .await
            .map_err(|e| map(&format!("ModifyLoadBalancerAttributes {id}"), e))?;
    }
    retag(p, id, before, a).await?;
    let mut attrs = a.clone();
    if let Some(l) = describe_load_balancers(p, Some(vec![id.to_string()]), None)
        .await?
        .first()
    {
        lb_computed(&mut attrs, l);
    }
    Ok(Applied {
        id: id.to_string(),
        attrs,
    })
}

/// Deletes a load balancer (already gone counts as deleted).
pub async fn delete_load_balancer(p: &AwsProvider, id: &str) -> Result<(), ProviderError> {
    deleted(
        &format!("DeleteLoadBalancer {id}"),
        p.clients
            .elb
            .delete_load_balancer()
            .load_balancer_arn(id)
            .send()
            .await,
    )
}

/// The load balancer the desired name names, with its tags.
pub async fn find_load_balancer(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Option<Found>, ProviderError> {
    let name = attr::req_str(&r.attrs, LB::Name)?;
    let lbs = describe_load_balancers(p, None, Some(vec![name.to_string()])).await?;
    found(p, lbs.first().and_then(|l| l.load_balancer_arn())).await
}

/// Live attributes of load balancers by ARN (the recorded id), in request order.
pub async fn read_load_balancers(
    p: &AwsProvider,
    items: &[(&str, &Attrs)],
) -> Result<Vec<Option<Attrs>>, ProviderError> {
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(BATCH) {
        let found = describe_by_arn_or_name(chunk, |a, n| describe_load_balancers(p, a, n)).await?;
        out.extend(
            read_back_batch(
                p,
                chunk,
                found,
                |l: &LoadBalancer| [l.load_balancer_arn(), l.load_balancer_name()],
                read_back_lb,
            )
            .await?,
        );
    }
    Ok(out)
}

fn read_back_lb(
    l: &LoadBalancer,
    tags: Option<&BTreeMap<String, String>>,
    recorded: &Attrs,
) -> Attrs {
    let mut a = recorded.clone();
    for &k in LB::ALL {
        match k {
            LB::Name => {
                if let Some(n) = l.load_balancer_name() {
                    attr::set(&mut a, k, Value::str(n));
                }
            }
            LB::Scheme => {
                if let Some(s) = l.scheme() {
                    attr::set(&mut a, k, Value::str(s.as_str()));
                }
            }
            LB::Subnets => {
                let mut subnets: Vec<String> = l
                    .availability_zones()
                    .iter()
                    .filter_map(|z| z.subnet_id().map(str::to_string))
                    .collect();
                subnets.sort();
                if subnets != sorted_strings(recorded, k) {
                    attr::set(&mut a, k, strs(&subnets));
                }
            }
            LB::SecurityGroups => {
                let mut live = l.security_groups().to_vec();
                live.sort();
                if live != sorted_strings(recorded, k) {
                    attr::set(&mut a, k, strs(&live));
                }
            }
            LB::Tags => {
                if let Some(t) = tags {
                    attr::set(&mut a, k, tags_value(t));
                }
            }
            LB::Arn | LB::DnsName | LB::VpcId | LB::ArnSuffix => {
                let v = match k {
                    LB::Arn => l.load_balancer_arn(),
                    LB::DnsName => l.dns_name(),
                    LB::ArnSuffix => l.load_balancer_arn().and_then(lb::arn_suffix),
                    _ => l.vpc_id(),
                };
                if let Some(v) = v {
                    attr::set(&mut a, k, Value::str(v));
                }
            }
            // Read with the load balancer's attributes, which refresh does not fetch: the
            // recorded value stands.
            LB::IdleTimeout => {}
        }
    }
    a
}
