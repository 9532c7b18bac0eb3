//! Who holds a lock: `user@host` for [`super::LockInfo`], so a refused run can say who to ask.
//! The user comes from `USER`/`LOGNAME`, then the system user database by uid (`/etc/passwd`);
//! the host from `HOSTNAME`, then the kernel's host name.

/// `user@host` for this process.
pub(crate) fn who() -> String {
    let env = |k: &str| std::env::var(k).ok();
    let passwd = std::fs::read_to_string("/etc/passwd").ok();
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok();
    who_from(env, uid(), passwd.as_deref(), hostname.as_deref())
}

/// The real uid of this process (the owner of `/proc/self`), where the system says.
fn uid() -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").ok().map(|m| m.uid())
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// [`who`] from its sources: environment, uid, the user database's text, the kernel's host name.
fn who_from(
    env: impl Fn(&str) -> Option<String>,
    uid: Option<u32>,
    passwd: Option<&str>,
    hostname: Option<&str>,
) -> String {
    let present = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let user = present(env("USER"))
        .or_else(|| present(env("LOGNAME")))
        .or_else(|| present(env("USERNAME")))
        .or_else(|| uid.and_then(|u| passwd.and_then(|p| user_by_uid(p, u))))
        .or_else(|| uid.map(|u| format!("uid{u}")))
        .unwrap_or_else(|| "unknown".into());
    let host = present(env("HOSTNAME"))
        .or_else(|| present(hostname.map(str::to_string)))
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host}")
}

/// The name of `uid` in `/etc/passwd` text (`name:x:uid:gid:...`).
fn user_by_uid(passwd: &str, uid: u32) -> Option<String> {
    passwd
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let mut fields = l.split(':');
            let name = fields.next()?;
            let id: u32 = fields.nth(1)?.parse().ok()?;
            (id == uid && !name.is_empty()).then(|| name.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n# comment\nbroken\nada:x:1000:1000:Ada,,,:/home/ada:/bin/bash\n";

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn environment_first() {
        let vars = [
            ("USER", "grace"),
            ("LOGNAME", "other"),
            ("HOSTNAME", "build-7"),
        ];
        assert_eq!(
            who_from(env(&vars), Some(1000), Some(PASSWD), Some("vm\n")),
            "grace@build-7"
        );
        let vars = [("LOGNAME", "linus"), ("USER", "")];
        assert_eq!(
            who_from(env(&vars), Some(1000), Some(PASSWD), Some("vm\n")),
            "linus@vm"
        );
    }

    #[test]
    fn then_the_user_database_and_the_kernel_host_name() {
        assert_eq!(
            who_from(env(&[]), Some(1000), Some(PASSWD), Some("worker-3\n")),
            "ada@worker-3"
        );
        assert_eq!(
            who_from(env(&[]), Some(0), Some(PASSWD), Some("vm")),
            "root@vm"
        );
    }

    #[test]
    fn a_uid_the_database_lacks_is_still_named() {
        assert_eq!(
            who_from(env(&[]), Some(4242), Some(PASSWD), None),
            "uid4242@localhost"
        );
        assert_eq!(who_from(env(&[]), None, None, None), "unknown@localhost");
    }

    #[test]
    fn this_process_has_a_name() {
        let w = who();
        let (user, host) = w.split_once('@').unwrap();
        assert!(!user.is_empty() && user != "unknown", "{w}");
        assert!(!host.is_empty(), "{w}");
    }
}
