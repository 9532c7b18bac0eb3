//! Variable values from outside the spec files: `--var NAME=VALUE` arguments and
//! `PEDESTAL_VAR_<NAME>` environment variables, gathered into [`LoadOptions`]. The one place
//! either form is parsed.

use std::collections::BTreeMap;

use super::LoadOptions;

/// The prefix of environment variables that set spec variables.
pub const ENV_VAR_PREFIX: &str = "PEDESTAL_VAR_";

/// A malformed `--var` argument.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VarArgError {
    #[error("--var {0:?} is not of the form NAME=VALUE")]
    /// The argument has no `=`.
    NoEquals(String),
    #[error("--var {0:?} has an empty name")]
    /// The argument has nothing before `=`.
    EmptyName(String),
}

/// Splits one `--var NAME=VALUE` argument (the value may itself hold `=`; the name is
/// trimmed).
pub fn parse_var_arg(arg: &str) -> Result<(String, String), VarArgError> {
    let (k, v) = arg
        .split_once('=')
        .ok_or_else(|| VarArgError::NoEquals(arg.to_string()))?;
    let k = k.trim();
    if k.is_empty() {
        return Err(VarArgError::EmptyName(arg.to_string()));
    }
    Ok((k.to_string(), v.to_string()))
}

/// Parses `--var` arguments in command-line order (a later one for the same name wins).
pub fn parse_var_args(args: &[String]) -> Result<BTreeMap<String, String>, VarArgError> {
    args.iter().map(|a| parse_var_arg(a)).collect()
}

/// `PEDESTAL_VAR_<NAME>` values of the process environment, by `NAME`.
pub fn env_vars() -> BTreeMap<String, String> {
    env_vars_from(std::env::vars())
}

/// [`env_vars`] over any list of environment pairs.
pub fn env_vars_from(vars: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, String> {
    vars.into_iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(ENV_VAR_PREFIX)
                .filter(|n| !n.is_empty())
                .map(|n| (n.to_string(), v))
        })
        .collect()
}

impl LoadOptions {
    /// Options for `env` with `--var` values (already parsed) and the `PEDESTAL_VAR_*` values of
    /// the process environment.
    pub fn with_inputs(env: &str, vars: &BTreeMap<String, String>) -> LoadOptions {
        LoadOptions {
            env: env.to_string(),
            vars: vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            env_vars: env_vars(),
            ..LoadOptions::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn var_args_split_at_the_first_equals_and_later_ones_win() {
        let args = ["a=1", " b =x=y", "a=2"].map(String::from);
        let vars = parse_var_args(&args).unwrap();
        assert_eq!(vars["a"], "2");
        assert_eq!(vars["b"], "x=y");
        assert_eq!(
            parse_var_arg("nope"),
            Err(VarArgError::NoEquals("nope".into()))
        );
        assert_eq!(
            parse_var_arg(" =1"),
            Err(VarArgError::EmptyName(" =1".into()))
        );
    }

    #[test]
    fn env_vars_keep_only_named_pedestal_vars() {
        let vars = env_vars_from([
            ("PEDESTAL_VAR_replicas".to_string(), "3".to_string()),
            ("PEDESTAL_VAR_".to_string(), "x".to_string()),
            ("HOME".to_string(), "/root".to_string()),
        ]);
        assert_eq!(vars.len(), 1);
        assert_eq!(vars["replicas"], "3");
    }
}
