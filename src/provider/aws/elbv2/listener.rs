//! Listeners (a gateway's `lb_listener`s): the default fixed-response or redirect action,
//! certificates, create, modify, delete, lookup and batched read-back.

use super::*;

fn default_actions(attrs: &Attrs) -> Vec<Action> {
    match attr::str(attrs, LI::DefaultAction) {
        Some(li::ACTION_REDIRECT_HTTPS) => vec![
            Action::builder()
                .r#type(ActionTypeEnum::Redirect)
                .redirect_config(
                    RedirectActionConfig::builder()
                        .protocol("HTTPS")
                        .port("443")
                        .status_code(RedirectActionStatusCodeEnum::Http301)
                        .build(),
                )
                .build(),
        ],
        _ => vec![
            Action::builder()
                .r#type(ActionTypeEnum::FixedResponse)
                .fixed_response_config(
                    FixedResponseActionConfig::builder()
                        .status_code("404")
                        .content_type("text/plain")
                        .message_body(li::NOT_FOUND_BODY)
                        .build(),
                )
                .build(),
        ],
    }
}

fn certificates(attrs: &Attrs) -> Option<Vec<Certificate>> {
    attr::str(attrs, LI::CertificateArn)
        .filter(|c| !c.is_empty())
        .map(|c| vec![Certificate::builder().certificate_arn(c).build()])
}

/// Creates a listener with its default action and tags.
pub async fn create_listener(p: &AwsProvider, r: &ApplyResource) -> Result<Applied, ProviderError> {
    let lb_arn = attr::req_str(&r.attrs, LI::LoadBalancerArn)?;
    let port = attr::int(&r.attrs, LI::Port)
        .ok_or_else(|| ProviderError::invalid(format!("attribute `{}` is required", LI::Port)))?;
    let protocol = attr::str(&r.attrs, LI::Protocol).unwrap_or(li::PROTOCOL_HTTP);
    let out = p
        .clients
        .elb
        .create_listener()
        .load_balancer_arn(lb_arn)
        .port(port as i32)
        .protocol(ProtocolEnum::from(protocol))
        .set_certificates(certificates(&r.attrs))
        .set_default_actions(Some(default_actions(&r.attrs)))
        .set_tags(Some(elb_tags(&r.attrs)))
        .send()
        .await
        .map_err(|e| map(&format!("CreateListener {lb_arn}:{port}"), e))?;
    let arn = out
        .listeners()
        .first()
        .and_then(|l| l.listener_arn())
        .unwrap_or_default()
        .to_string();
    let mut attrs = r.attrs.clone();
    attr::set(&mut attrs, LI::Arn, Value::str(&arn));
    Ok(Applied { id: arn, attrs })
}

/// Changes a listener's protocol, certificate, default action and tags where they changed.
pub async fn update_listener(
    p: &AwsProvider,
    id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let a = &after.attrs;
    if [LI::Protocol, LI::CertificateArn, LI::DefaultAction]
        .into_iter()
        .any(|k| attr::changed(before, a, k))
    {
        p.clients
            .elb
            .modify_listener()
            .listener_arn(id)
            .protocol(ProtocolEnum::from(
                attr::str(a, LI::Protocol).unwrap_or(li::PROTOCOL_HTTP),
            ))
            .set_certificates(certificates(a))
            .set_default_actions(Some(default_actions(a)))
            .send()
            .await
            .map_err(|e| map(&format!("ModifyListener {id}"), e))?;
    }
    retag(p, id, before, a).await?;
    let mut attrs = a.clone();
    attr::set(&mut attrs, LI::Arn, Value::str(id));
    Ok(Applied {
        id: id.to_string(),
        attrs,
    })
}

/// Deletes a listener (already gone counts as deleted).
pub async fn delete_listener(p: &AwsProvider, id: &str) -> Result<(), ProviderError> {
    deleted(
        &format!("DeleteListener {id}"),
        p.clients
            .elb
            .delete_listener()
            .listener_arn(id)
            .send()
            .await,
    )
}

/// The listener on the desired port of the desired load balancer, with its tags.
pub async fn find_listener(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Option<Found>, ProviderError> {
    let Some(lb_arn) = attr::str(&r.attrs, LI::LoadBalancerArn) else {
        return Ok(None);
    };
    let port = attr::int(&r.attrs, LI::Port);
    let listeners = match p
        .clients
        .elb
        .describe_listeners()
        .load_balancer_arn(lb_arn)
        .send()
        .await
    {
        Ok(o) => o.listeners().to_vec(),
        Err(e) => {
            let err = map(&format!("DescribeListeners {lb_arn}"), e);
            return if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            };
        }
    };
    let arn = listeners
        .iter()
        .find(|l| l.port().map(i64::from) == port)
        .and_then(|l| l.listener_arn());
    found(p, arn).await
}

/// Live attributes of listeners by ARN, in request order.
pub async fn read_listeners(
    p: &AwsProvider,
    items: &[(&str, &Attrs)],
) -> Result<Vec<Option<Attrs>>, ProviderError> {
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(BATCH) {
        let ids: Vec<String> = chunk.iter().map(|(id, _)| id.to_string()).collect();
        let found = describe_each(ids, |a| describe_listeners(p, a)).await?;
        out.extend(
            read_back_batch(
                p,
                chunk,
                found,
                |l: &Listener| [l.listener_arn(), None],
                read_back_listener,
            )
            .await?,
        );
    }
    Ok(out)
}

async fn describe_listeners(
    p: &AwsProvider,
    arns: Vec<String>,
) -> Result<Vec<Listener>, ProviderError> {
    match p
        .clients
        .elb
        .describe_listeners()
        .set_listener_arns(Some(arns))
        .send()
        .await
    {
        Ok(o) => Ok(o.listeners().to_vec()),
        Err(e) => {
            let err = map("DescribeListeners", e);
            if err.is_not_found() {
                Ok(Vec::new())
            } else {
                Err(err)
            }
        }
    }
}

fn read_back_listener(
    l: &Listener,
    tags: Option<&BTreeMap<String, String>>,
    recorded: &Attrs,
) -> Attrs {
    let mut a = recorded.clone();
    for &k in LI::ALL {
        match k {
            LI::LoadBalancerArn => {
                if let Some(v) = l.load_balancer_arn() {
                    attr::set(&mut a, k, Value::str(v));
                }
            }
            LI::Port => {
                if let Some(v) = l.port() {
                    attr::set(&mut a, k, Value::Int(i64::from(v)));
                }
            }
            LI::Protocol => {
                if let Some(v) = l.protocol() {
                    attr::set(&mut a, k, Value::str(v.as_str()));
                }
            }
            LI::CertificateArn => {
                let live = l.certificates().first().and_then(|c| c.certificate_arn());
                attr::set(&mut a, k, live.map_or(Value::Null, Value::str));
            }
            LI::DefaultAction => {
                let live = match l.default_actions().first().and_then(|x| x.r#type()) {
                    Some(ActionTypeEnum::Redirect) => li::ACTION_REDIRECT_HTTPS,
                    _ => li::ACTION_FIXED_404,
                };
                attr::set(&mut a, k, Value::str(live));
            }
            LI::Tags => {
                if let Some(t) = tags {
                    attr::set(&mut a, k, tags_value(t));
                }
            }
            LI::Arn => {
                if let Some(v) = l.listener_arn() {
                    attr::set(&mut a, k, Value::str(v));
                }
            }
            // pedestal's own name, never sent.
            LI::Name => {}
        }
    }
    a
}
