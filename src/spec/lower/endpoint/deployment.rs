//! An endpoint's `deployment` table: rolling settings (healthy and maximum percent, circuit
//! breaker, waiting and its timeout) and the ECS native release strategies (blue/green, canary,
//! linear) with their percentages, interval and bake time, each checked against the strategy
//! that uses it.

use super::*;

impl Loader<'_> {
    /// `deployment = { min_healthy_percent, max_percent, circuit_breaker, wait, timeout,
    /// strategy, canary_percent, step_percent, interval, bake, role }`, defaults filled in;
    /// also the strategy as written and the role.
    #[allow(clippy::type_complexity)]
    pub(super) fn endpoint_deployment(
        &mut self,
        f: &Fields<'_>,
        svc_deps: &mut Deps,
    ) -> (
        crate::resource::Attrs,
        Option<(String, Span)>,
        Option<Value>,
    ) {
        let mut deployment = svc::default_deployment();
        if !f.has(DEPLOYMENT) {
            return (deployment, None, None);
        }
        let keys = [
            DEPLOY_MIN_HEALTHY_PERCENT,
            DEPLOY_MAX_PERCENT,
            DEPLOY_CIRCUIT_BREAKER,
            DEPLOY_WAIT,
            "timeout",
            DEPLOY_STRATEGY,
            DEPLOY_CANARY_PERCENT,
            DEPLOY_STEP_PERCENT,
            "interval",
            "bake",
            "role",
        ];
        let Some(d) = self.sub(f, DEPLOYMENT, &keys, svc_deps) else {
            return (deployment, None, None);
        };
        // These spec keys are spelt like the attributes they set.
        for k in [
            svc::Deployment::MinHealthyPercent,
            svc::Deployment::MaxPercent,
        ] {
            let v = self.v_int(&d, k.as_str(), svc_deps);
            let rule = if k == svc::Deployment::MinHealthyPercent {
                &ecs_rules::MIN_HEALTHY_PERCENT
            } else {
                &ecs_rules::MAX_PERCENT
            };
            if let Some(n) = self.in_range(v, rule, k.as_str(), &d.what.clone()) {
                deployment.insert(k.into(), Value::Int(n));
            }
        }
        for k in [svc::Deployment::CircuitBreaker, svc::Deployment::Wait] {
            if let Some((x, _)) = self.v_bool(&d, k.as_str(), svc_deps) {
                deployment.insert(k.into(), Value::Bool(x));
            }
        }
        if let Some(s) = self.deployment_duration(&d, "timeout", svc_deps) {
            deployment.insert(svc::Deployment::TimeoutSeconds.into(), Value::Int(s));
        }
        let strategy = self.v_plain_str(&d, DEPLOY_STRATEGY, svc_deps);
        if let Some((s, span)) = &strategy
            && !svc::STRATEGIES.contains(&s.as_str())
        {
            let help = crate::spec::diag::did_you_mean(s, svc::STRATEGIES)
                .unwrap_or_else(|| format!("strategies: {}", svc::STRATEGIES.join(", ")));
            self.err(
                ErrorCode::InvalidValue,
                span,
                format!("unknown release strategy {s:?} in {}", d.what),
                "not a strategy",
            )
            .help = Some(help);
            return (deployment, None, None);
        }
        let name = strategy
            .as_ref()
            .map_or(svc::STRATEGY_ROLLING, |x| x.0.as_str());
        let canary = self.deployment_percent(&d, DEPLOY_CANARY_PERCENT, 1..=99, svc_deps);
        let step = self.deployment_percent(&d, DEPLOY_STEP_PERCENT, 1..=100, svc_deps);
        let interval = self.deployment_duration(&d, "interval", svc_deps);
        let bake = self.deployment_duration(&d, "bake", svc_deps);
        let role = self.v_str(&d, "role", svc_deps).map(|x| x.0);
        self.check_strategy_keys(&d, name);
        strategy_settings(
            &mut deployment,
            name,
            (canary.map(|x| x.0), step.map(|x| x.0)),
            (interval, bake),
        );
        (deployment, strategy, role)
    }

    /// A percentage key of `deployment`, checked against `range`.
    fn deployment_percent(
        &mut self,
        d: &Fields<'_>,
        key: &str,
        range: std::ops::RangeInclusive<i64>,
        svc_deps: &mut Deps,
    ) -> Option<(i64, Span)> {
        let (n, span) = self.v_int(d, key, svc_deps)?;
        if !range.contains(&n) {
            self.err(
                ErrorCode::InvalidValue,
                &span,
                format!(
                    "`{key}` in {} must be a percentage between {} and {}",
                    d.what,
                    range.start(),
                    range.end()
                ),
                "out of range",
            );
            return None;
        }
        Some((n, span))
    }

    /// Keys that the chosen strategy does not use are mistakes worth saying.
    fn check_strategy_keys(&mut self, d: &Fields<'_>, name: &str) {
        for (key, used) in [
            (DEPLOY_CANARY_PERCENT, name == svc::STRATEGY_CANARY),
            (DEPLOY_STEP_PERCENT, name == svc::STRATEGY_LINEAR),
            (
                "interval",
                name == svc::STRATEGY_CANARY || name == svc::STRATEGY_LINEAR,
            ),
            ("bake", name != svc::STRATEGY_ROLLING),
            ("role", name != svc::STRATEGY_ROLLING),
        ] {
            if !used && let Some(src) = d.src(key) {
                let span = src.span().clone();
                self.err(
                    ErrorCode::InvalidValue,
                    &span,
                    format!("`{key}` in {} does not apply to {name} releases", d.what),
                    "not used by this strategy",
                )
                .help = Some(
                    "canary_percent goes with strategy = \"canary\", step_percent with \"linear\", interval with both, bake and role with every strategy but \"rolling\"".into(),
                );
            }
        }
    }

    /// A duration key of `deployment` (`"15m"`, `"90s"` or seconds), in seconds.
    fn deployment_duration(
        &mut self,
        d: &Fields<'_>,
        key: &str,
        svc_deps: &mut Deps,
    ) -> Option<i64> {
        let (v, span) = self.value(d, key, svc_deps)?;
        let secs = match &v {
            Value::Int(n) if *n > 0 => Some(*n),
            Value::String(s) => humantime::parse_duration(s)
                .ok()
                .map(|d| d.as_secs() as i64)
                .filter(|n| *n > 0),
            _ => None,
        };
        if secs.is_none() {
            self.err(
                ErrorCode::InvalidValue,
                &span,
                format!("`{key}` in {} must be a duration", d.what),
                "not a duration",
            )
            .help = Some("for example \"15m\", \"90s\" or 600 (seconds)".into());
        }
        secs
    }
}

/// Fills in the strategy `name` and what it uses, defaults for what is not written:
/// `(canary_percent, step_percent)` and `(interval, bake)` in seconds.
fn strategy_settings(
    deployment: &mut crate::resource::Attrs,
    name: &str,
    (canary, step): (Option<i64>, Option<i64>),
    (interval, bake): (Option<i64>, Option<i64>),
) {
    let minutes = |secs: i64| (secs + 59) / 60;
    if name != svc::STRATEGY_ROLLING {
        deployment.insert(svc::Deployment::Strategy.into(), Value::str(name));
        deployment.insert(
            svc::Deployment::BakeMinutes.into(),
            Value::Int(bake.map_or(svc::DEFAULT_BAKE_MINUTES, minutes)),
        );
    }
    if name == svc::STRATEGY_CANARY || name == svc::STRATEGY_LINEAR {
        deployment.insert(
            svc::Deployment::IntervalMinutes.into(),
            Value::Int(interval.map_or(svc::DEFAULT_INTERVAL_MINUTES, minutes)),
        );
    }
    if name == svc::STRATEGY_CANARY {
        deployment.insert(
            svc::Deployment::CanaryPercent.into(),
            Value::Int(canary.unwrap_or(svc::DEFAULT_CANARY_PERCENT)),
        );
    }
    if name == svc::STRATEGY_LINEAR {
        deployment.insert(
            svc::Deployment::StepPercent.into(),
            Value::Int(step.unwrap_or(svc::DEFAULT_STEP_PERCENT)),
        );
    }
}
