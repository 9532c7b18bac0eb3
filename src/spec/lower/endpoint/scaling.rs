//! An endpoint's `autoscaling` table: the capacity range and the target tracking policies
//! the service's scaling target carries — average CPU, average memory and (for a routed
//! endpoint) requests per target.

use super::*;

/// What `autoscaling` says, validated.
pub(super) struct ScalingSpec {
    pub(super) min: i64,
    pub(super) max: i64,
    /// Percent; 60 when no target is written.
    pub(super) cpu: Option<i64>,
    /// Percent.
    pub(super) memory: Option<i64>,
    /// Requests per target per minute, and where it is written.
    pub(super) requests: Option<(i64, Span)>,
}

impl Loader<'_> {
    /// `autoscaling = { min, max, target_cpu, target_memory, target_requests }` (CPU at 60%
    /// when no target is written); `None` when absent or invalid.
    pub(super) fn endpoint_autoscaling(
        &mut self,
        f: &Fields<'_>,
        svc_deps: &mut Deps,
    ) -> Option<ScalingSpec> {
        if !f.has("autoscaling") {
            return None;
        }
        let a = self.sub(
            f,
            "autoscaling",
            &[
                SCALING_MIN,
                SCALING_MAX,
                SCALING_TARGET_CPU,
                SCALING_TARGET_MEMORY,
                SCALING_TARGET_REQUESTS,
            ],
            svc_deps,
        )?;
        let amin = self.v_int(&a, SCALING_MIN, svc_deps);
        let amax = self.v_int(&a, SCALING_MAX, svc_deps);
        for (k, v) in [(SCALING_MIN, &amin), (SCALING_MAX, &amax)] {
            if v.is_none() && !a.has(k) {
                self.missing(&a, k, "autoscaling = { min = 1, max = 4, target_cpu = 60 }");
            }
        }
        let what_a = a.what.clone();
        let min_s = amin.as_ref().map(|x| x.1.clone());
        let max_s = amax.as_ref().map(|x| x.1.clone());
        let mn = self.in_range(amin, &scaling_rules::CAPACITY, SCALING_MIN, &what_a);
        let mx = self.in_range(amax, &scaling_rules::CAPACITY, SCALING_MAX, &what_a);
        let target = match self.v_int(&a, SCALING_TARGET_CPU, svc_deps) {
            Some((t, span)) if !(1..=100).contains(&t) => {
                self.err(
                    ErrorCode::Autoscaling,
                    &span,
                    "`target_cpu` must be a percentage between 1 and 100",
                    "out of range",
                );
                None
            }
            Some((t, _)) => Some(t),
            None => None,
        };
        let memory = self.v_int(&a, SCALING_TARGET_MEMORY, svc_deps);
        let memory = self.in_range(
            memory,
            &scaling_rules::TARGET_MEMORY,
            SCALING_TARGET_MEMORY,
            &what_a,
        );
        let requests = self.v_int(&a, SCALING_TARGET_REQUESTS, svc_deps);
        let req_span = requests.as_ref().map(|x| x.1.clone());
        let requests = self
            .in_range(
                requests,
                &scaling_rules::TARGET_REQUESTS,
                SCALING_TARGET_REQUESTS,
                &what_a,
            )
            .zip(req_span);
        let written = [
            SCALING_TARGET_CPU,
            SCALING_TARGET_MEMORY,
            SCALING_TARGET_REQUESTS,
        ]
        .iter()
        .any(|k| a.has(k));
        if written && target.is_none() && memory.is_none() && requests.is_none() {
            return None;
        }
        let cpu = if written { target } else { Some(60) };
        let (mn, mx) = (mn?, mx?);
        if mn > mx {
            if let (Some(ms), Some(xs)) = (min_s, max_s) {
                self.err(
                    ErrorCode::Autoscaling,
                    &ms,
                    format!("autoscaling min ({mn}) is greater than max ({mx})"),
                    format!("min = {mn}"),
                )
                .label(&xs, format!("max = {mx}"))
                .help = Some("min must be less than or equal to max".into());
            }
            return None;
        }
        Some(ScalingSpec {
            min: mn,
            max: mx,
            cpu,
            memory,
            requests,
        })
    }

    /// `target_requests` counts the requests of the endpoint's target group: it needs a route,
    /// and a release strategy that keeps one target group serving (`rolling`).
    pub(super) fn check_request_scaling(
        &mut self,
        what: &str,
        scaling: Option<&ScalingSpec>,
        routed: bool,
        strategy: Option<&(String, Span)>,
    ) {
        let Some((_, span)) = scaling.and_then(|s| s.requests.as_ref()) else {
            return;
        };
        if !routed {
            self.err(
                ErrorCode::Autoscaling,
                span,
                format!("{what} scales on requests per target, and it has no route"),
                "needs a route",
            )
            .help = Some(
                "the request count comes from the gateway's load balancer: add route = { gateway = \"<gateway>\", path = \"/<name>/*\" }, or scale on target_cpu / target_memory".into(),
            );
            return;
        }
        if let Some((s, sspan)) = strategy
            && s != svc::STRATEGY_ROLLING
        {
            self.err(
                ErrorCode::Autoscaling,
                span,
                format!("{what} scales on requests per target and releases with strategy {s:?}"),
                "counts one target group",
            )
            .label(sspan, "moves traffic between two target groups")
            .help = Some(
                "ALBRequestCountPerTarget is measured on one target group, and a blue_green, canary or linear release serves from the other one every second release: scale on target_cpu / target_memory, or use strategy = \"rolling\"".into(),
            );
        }
    }
}
