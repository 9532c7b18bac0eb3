//! An endpoint's `autoscaling` table: the capacity range and the target tracking policies
//! the service's scaling target carries.

use super::*;

impl Loader<'_> {
    /// `autoscaling = { min, max, target_cpu }` (target 60% by default); `None` when absent or
    /// invalid.
    pub(super) fn endpoint_autoscaling(
        &mut self,
        f: &Fields<'_>,
        svc_deps: &mut Deps,
    ) -> Option<(i64, i64, i64)> {
        if !f.has("autoscaling") {
            return None;
        }
        let a = self.sub(
            f,
            "autoscaling",
            &[SCALING_MIN, SCALING_MAX, SCALING_TARGET_CPU],
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
            None if a.has(SCALING_TARGET_CPU) => None,
            None => Some(60),
        };
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
        target.map(|t| (mn, mx, t))
    }
}
