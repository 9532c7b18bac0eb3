//! Creating a resource, and adopting it instead when an earlier attempt's outcome is unknown:
//! an intent left by a crash, or a lost answer, a timeout or "already exists" after AWS acted.

use super::*;

/// Before creating, look for the physical resource: adopt it when a previous run of this very
/// stack/env/address made it (tags, or an intent naming it), refuse it otherwise.
pub(super) async fn create_or_adopt(
    shared: &Shared,
    res: &ApplyResource,
) -> Result<(Applied, bool), ProviderError> {
    let addr = &res.address;
    let name = res.physical_name().unwrap_or_default().to_string();
    let intent_names_it = {
        let st = lock(&shared.state);
        st.intents
            .get(addr)
            .is_some_and(|i| i.physical_name == name && i.kind == res.kind)
    };
    if let Some(found) = shared.provider.find(res).await? {
        let owner = Owner::classify(&found.tags, &shared.stack, &shared.env, addr);
        // An intent proves only that this stack tried to create the name: it adopts an untagged
        // leftover (created, not yet tagged), never a resource tagged for someone else.
        let adopt = owner == Owner::This
            || (owner == Owner::Nobody && (intent_names_it || !res.kind.taggable()));
        if !adopt {
            return Err(ProviderError::new(
                ErrorKind::AlreadyExists {
                    owner: owner.clone(),
                },
                format!(
                    "{} {name} already exists, {owner}; run `pedestal import {addr} {}` or use the right state",
                    res.kind, found.id
                ),
            ));
        }
        let live = shared
            .provider
            .read(res.kind, &found.id, &res.attrs)
            .await?
            .unwrap_or_default();
        let applied = shared.provider.update(&found.id, &live, res).await?;
        return Ok((applied, true));
    }
    shared
        .commit(addr, |st| {
            st.intents.insert(
                addr.clone(),
                Intent {
                    kind: res.kind,
                    physical_name: name.clone(),
                    started_at: now_rfc3339(),
                },
            );
        })
        .await;
    match shared.provider.create(res).await {
        Ok(applied) => Ok((applied, false)),
        Err(err) => adopt_after_ambiguous(shared, res, err).await,
    }
}

/// After a create failed in a way that may hide its success — the answer was lost or late (a
/// timeout, a dropped connection), or the SDK's retry of a call AWS had already carried out met
/// "already exists" / a failed precondition — looks for the resource again: one tagged for this
/// very stack, env and address was made by this apply and is adopted. Otherwise the error
/// stands; when the call's outcome is unknown the create's intent stays, so the next apply
/// adopts what it may have made.
async fn adopt_after_ambiguous(
    shared: &Shared,
    res: &ApplyResource,
    err: ProviderError,
) -> Result<(Applied, bool), ProviderError> {
    if err.left_behind != LeftBehind::Nothing {
        return Err(err);
    }
    let err = match err.kind {
        ErrorKind::Timeout | ErrorKind::Unreachable => err.leaving(LeftBehind::Unknown),
        ErrorKind::AlreadyExists { .. } | ErrorKind::Conflict => err,
        _ => return Err(err),
    };
    let Ok(Some(found)) = shared.provider.find(res).await else {
        return Err(err);
    };
    if Owner::classify(&found.tags, &shared.stack, &shared.env, &res.address) != Owner::This {
        return Err(err);
    }
    let live = shared
        .provider
        .read(res.kind, &found.id, &res.attrs)
        .await?
        .unwrap_or_default();
    let applied = shared.provider.update(&found.id, &live, res).await?;
    Ok((applied, true))
}
