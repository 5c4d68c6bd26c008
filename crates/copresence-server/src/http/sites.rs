//! `GET /v1/sites` and `GET /v1/sites/{site}`: the caller's sites with who is on them.

use axum::extract::State;
use axum::Json;
use copresence_core::{SiteState, SiteSummary};

use super::{ApiResult, AppState, Caller, PathParams};
use crate::error::ApiError;
use crate::store::StoredSite;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<SiteSummary>>> {
    let sites = state.store.sites_of(caller.0.who()).await?;
    let mut summaries = Vec::with_capacity(sites.len());
    for site in sites {
        let online = state.presence.roster(&site.info.id).await?;
        summaries.push(SiteSummary {
            site: site.info,
            version: site.version,
            online: online.members().to_vec(),
        });
    }
    Ok(Json(summaries))
}

pub async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(site): PathParams<String>,
) -> ApiResult<Json<SiteState>> {
    copresence_core::validate_site_id(&site)?;
    // With the current version: not the cached membership answer.
    let site = state
        .store
        .site_of(caller.0.who(), &site)
        .await?
        .ok_or_else(|| ApiError::not_found("site"))?;
    let roster = state.presence.roster(&site.info.id).await?;
    Ok(Json(site_state(&state, site, roster).await?))
}

/// A site's full state: its stored part (pages, version, first and last save) with a roster.
pub async fn site_state(
    state: &AppState,
    site: StoredSite,
    members: copresence_core::roster::Roster,
) -> ApiResult<SiteState> {
    let pages = state.store.current_pages(&site.info.id).await?;
    let (first_save, last_save) = state.store.first_and_last_save(&site.info.id).await?;
    Ok(SiteState {
        // A save committed between the two reads shows as the newer last save: keep them agreeing.
        version: site
            .version
            .max(last_save.as_ref().map_or(0, |s| s.version)),
        site: site.info,
        pages,
        first_save,
        last_save,
        members,
    })
}
