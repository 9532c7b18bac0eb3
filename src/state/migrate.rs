//! Copying a state from one store to another (`pedestal state migrate`), keeping its lineage
//! and serial. The destination must be empty, or hold an older serial of the same lineage; a
//! state of another lineage, or a newer or diverged one, is never overwritten.

use super::{State, StateError, StateStore};

/// What a migration did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migrated {
    /// The source store, as described to the user.
    pub from: String,
    /// The destination store, as described to the user.
    pub to: String,
    /// The lineage copied (kept as is).
    pub lineage: String,
    /// The serial copied (kept as is).
    pub serial: u64,
    /// How many resources the copied state records.
    pub resources: usize,
    /// The destination already held exactly this state; nothing was written.
    pub unchanged: bool,
}

/// Copies the state in `from` to `to` (the caller holds both locks). The copy reads back with
/// the same lineage, serial and content.
pub fn migrate(from: &dyn StateStore, to: &dyn StateStore) -> Result<Migrated, StateError> {
    let Some(source) = from.read()? else {
        return Err(StateError::NothingToMigrate {
            from: from.describe(),
        });
    };
    let done = |unchanged| Migrated {
        from: from.describe(),
        to: to.describe(),
        lineage: source.lineage.clone(),
        serial: source.serial,
        resources: source.resources.len(),
        unchanged,
    };
    match to.read()? {
        Some(dest) if dest.lineage != source.lineage => Err(StateError::LineageMismatch {
            path: to.describe().into(),
            stored: dest.lineage,
            writing: source.lineage.clone(),
        }),
        Some(dest) if dest == source => Ok(done(true)),
        Some(dest) if dest.serial >= source.serial => Err(StateError::DestinationNewer {
            to: to.describe(),
            stored: dest.serial,
            copying: source.serial,
        }),
        _ => {
            // `write` stores max(given, stored) + 1; the destination's serial is below the
            // source's here, so handing it serial − 1 stores exactly the source's serial.
            let mut copy: State = source.clone();
            copy.serial = source.serial.saturating_sub(1);
            to.write(&copy)?;
            match to.read()? {
                Some(written) if written == source => Ok(done(false)),
                other => Err(StateError::Corrupt {
                    path: to.describe().into(),
                    message: format!(
                        "the copy reads back as serial {:?}, not the source's serial {}",
                        other.map(|s| s.serial),
                        source.serial
                    ),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Value;
    use crate::state::MemoryStore;

    fn stored(serial_bumps: usize) -> MemoryStore {
        let m = MemoryStore::new("s", "e");
        let mut st = State::new("s", "e");
        st.outputs.insert("url".into(), Value::str("http://x"));
        for _ in 0..serial_bumps {
            m.write(&st).expect("write");
            st = m.read().expect("read").expect("state");
        }
        m
    }

    #[test]
    fn copies_lineage_serial_and_content_into_an_empty_store() {
        let from = stored(3);
        let to = MemoryStore::new("s", "e");
        let m = migrate(&from, &to).expect("migrate");
        let (a, b) = (from.read().unwrap().unwrap(), to.read().unwrap().unwrap());
        assert_eq!(a, b);
        assert_eq!((m.serial, m.unchanged), (3, false));
        // Again: nothing to do.
        assert!(migrate(&from, &to).expect("again").unchanged);
    }

    #[test]
    fn refuses_another_lineage_a_newer_state_and_an_empty_source() {
        let from = stored(2);
        let other = stored(1);
        let before = other.read().unwrap();
        assert!(matches!(
            migrate(&from, &other),
            Err(StateError::LineageMismatch { .. })
        ));
        assert_eq!(other.read().unwrap(), before, "left alone");
        let to = MemoryStore::new("s", "e");
        migrate(&from, &to).expect("copy");
        let mut newer = to.read().unwrap().unwrap();
        newer.outputs.insert("more".into(), Value::Bool(true));
        to.write(&newer).expect("destination moves on");
        assert!(matches!(
            migrate(&from, &to),
            Err(StateError::DestinationNewer {
                stored: 3,
                copying: 2,
                ..
            })
        ));
        assert!(matches!(
            migrate(&MemoryStore::new("s", "e"), &to),
            Err(StateError::NothingToMigrate { .. })
        ));
    }
}
