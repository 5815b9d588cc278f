//! Which app pool serves a site's requests, as the evidence says: an access
//! log's row names its site but not the pool (W3C has no such field), while
//! a Failed Request Tracing trace names both (`siteId`, `appPoolId`) and an
//! HTTP.sys error row names the site and the request queue, which IIS names
//! after the pool. A web detection takes its pool from them, so a web shell
//! request and the worker process it started are one chain only when their
//! pools agree.
//!
//! A site's applications may run in pools of their own (`/api` in one, the
//! root in another, `/apps/hr` in a third under a plain folder), and the
//! evidence names applications only by the paths requested, so a pool is
//! given only where the evidence shows it: a request takes the pool that
//! served the same folder (the site's root pages, for a page at the root),
//! when one pool alone did. A folder the evidence never shows, however
//! likely the root's, gives none: an unseen application may be any pool's,
//! and a wrong pool would part a web shell's request from the worker it
//! started. A path of one segment without an extension (`/api`) may be an
//! application's root or a page of the root's: it says nothing.

use std::collections::{BTreeMap, BTreeSet};

use super::keys::SCRIPT_KEYS;

/// Per host and site, per folder of the paths requested (lower-case, no
/// slashes at its ends; empty for the site's root pages), the pools that
/// served them.
#[derive(Debug, Default)]
pub(crate) struct SitePools(BTreeMap<(String, u32), BTreeMap<String, BTreeSet<String>>>);

impl SitePools {
    /// Notes that `pool` served `folder` (as [`folder`] gives it) of
    /// `site` on `host`.
    pub(crate) fn note(&mut self, host: &str, site: u32, folder: &str, pool: &str) {
        let folders = self.0.entry((host.to_string(), site)).or_default();
        add(folders.entry(folder.to_ascii_lowercase()).or_default(), pool);
    }

    pub(crate) fn absorb(&mut self, other: SitePools) {
        for (place, folders) in other.0 {
            let mine = self.0.entry(place).or_default();
            for (folder, pools) in folders {
                let kept = mine.entry(folder).or_default();
                pools.iter().for_each(|pool| add(kept, pool));
            }
        }
    }

    /// The pool that served `folder` (as [`folder`] gives it) of `site` on
    /// `host`, when the evidence names one alone.
    pub(crate) fn pool(&self, host: &str, site: u32, folder: &str) -> Option<&str> {
        let pools = self.0.get(&(host.to_string(), site))?.get(&folder.to_ascii_lowercase())?;
        match pools.len() {
            1 => pools.first().map(String::as_str),
            _ => None,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Adds `pool` to `pools` unless it is there in another case (IIS names
/// pools without regard to case).
fn add(pools: &mut BTreeSet<String>, pool: &str) {
    if !pools.iter().any(|p| p.eq_ignore_ascii_case(pool)) {
        pools.insert(pool.to_string());
    }
}

/// The folder of a path or URL (`apps/hr` of `/apps/hr/x.aspx?a=1`;
/// empty for a page at the root, `/default.aspx`, `/`), or `None` for one
/// segment without an extension (`/api`: an application's root, or a page
/// of the root's). Only a leading `http://` or `https://` starts a URL: a
/// path may hold one further on (`/proxy/http://169.254.169.254/`).
pub(crate) fn folder(path: &str) -> Option<&str> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let scheme = ["http://", "https://"]
        .into_iter()
        .find(|s| path.get(..s.len()).is_some_and(|p| p.eq_ignore_ascii_case(s)));
    let path = match scheme {
        Some(s) => path[s.len()..].find('/').map_or("", |at| &path[s.len() + at..]),
        None => path,
    };
    let path = path.trim_start_matches('/');
    match path.rsplit_once('/') {
        Some((folder, _)) => Some(folder.trim_end_matches('/')),
        None if path.is_empty() || path.contains('.') => Some(""),
        None => None,
    }
}

impl super::HuntSink<'_> {
    /// Notes that the app pool `pool` served `path` of `site` (see
    /// [`SitePools`]), once per site, pool and folder in a chunk:
    /// a flood of HTTP.sys errors names the same few.
    pub(super) fn note_pool(
        &mut self,
        site: Option<u32>,
        computer: Option<&str>,
        pool: Option<&[u8]>,
        path: Option<&[u8]>,
    ) {
        use faultline_parser::value::present;
        let (Some(site), Some(pool), Some(path)) =
            (self.resolve.site(site), pool.and_then(present), path.and_then(present))
        else {
            return;
        };
        let path = String::from_utf8_lossy(path);
        let Some(folder) = folder(&path) else { return };
        use std::hash::{BuildHasher as _, Hash as _, Hasher as _};
        let mut key = SCRIPT_KEYS.build_hasher();
        (site, computer, pool).hash(&mut key);
        folder.bytes().for_each(|b| key.write_u8(b.to_ascii_lowercase()));
        if !self.pools_noted.insert(key.finish()) {
            return;
        }
        let host = self.resolve.host_of(computer);
        self.pending.site_pools.note(&host.name, site, folder, &String::from_utf8_lossy(pool));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Notes that `pool` served `path`, as the read does.
    fn note(pools: &mut SitePools, host: &str, site: u32, path: &str, pool: &str) {
        if let Some(folder) = folder(path) {
            pools.note(host, site, folder, pool);
        }
    }

    /// The pool the evidence shows serving `path`'s folder.
    fn pool_of<'p>(pools: &'p SitePools, host: &str, site: u32, path: &str) -> Option<&'p str> {
        pools.pool(host, site, folder(path)?)
    }

    #[test]
    fn a_request_takes_the_pool_that_served_its_folder() {
        let mut pools = SitePools::default();
        note(&mut pools, "WEB01", 1, "/default.aspx", "DefaultAppPool");
        note(&mut pools, "WEB01", 1, "/Api/orders.aspx", "ApiPool");
        note(&mut pools, "WEB01", 1, "/api/health.ashx?full=1", "apipool");
        note(&mut pools, "WEB01", 1, "/apps/billing/invoice.aspx", "BillingPool");
        note(&mut pools, "WEB01", 1, "/portal", "PortalPool");
        note(&mut pools, "WEB01", 2, "/shop/cart.aspx", "ShopPool");
        note(&mut pools, "WEB01", 2, "http://shop.example.com:80/shop/x.aspx", "ShopPool2");
        assert_eq!(pool_of(&pools, "WEB01", 1, "/api/x.aspx"), Some("ApiPool"), "its folder's, any case");
        assert_eq!(pool_of(&pools, "WEB01", 1, "/cmd.aspx"), Some("DefaultAppPool"), "a root page");
        assert_eq!(pool_of(&pools, "WEB01", 1, "/"), Some("DefaultAppPool"));
        // A folder the evidence never shows may be any application's.
        assert_eq!(pool_of(&pools, "WEB01", 1, "/owa/auth/shell.aspx"), None);
        assert_eq!(pool_of(&pools, "WEB01", 1, "/api/v2/x.aspx"), None);
        assert_eq!(pool_of(&pools, "WEB01", 1, "/apps/hr/spy.aspx"), None, "another application of /apps");
        // `/portal` may be an application's root: it said nothing.
        assert_eq!(pool_of(&pools, "WEB01", 1, "/portal/x.aspx"), None);
        assert_eq!(pool_of(&pools, "WEB01", 1, "/portal"), None);
        assert_eq!(pool_of(&pools, "WEB01", 2, "/shop/x.aspx"), None, "a folder two pools served");
        assert_eq!(pool_of(&pools, "WEB01", 3, "/x.aspx"), None, "another site");
        assert_eq!(pool_of(&pools, "WEB02", 1, "/x.aspx"), None, "another host");
        // A URL inside a path is no URL of the request's.
        note(&mut pools, "WEB01", 1, "/proxy/http://169.254.169.254/x.aspx", "Other");
        assert_eq!(
            pool_of(&pools, "WEB01", 1, "/y.aspx"),
            Some("DefaultAppPool"),
            "the root's pages untouched"
        );
        assert_eq!(folder("HTTPS://shop.example.com:443/a/b.aspx?c=http://x/y"), Some("a"));
    }

    #[test]
    fn stores_absorbed_say_what_each_said() {
        let (mut a, mut b) = (SitePools::default(), SitePools::default());
        note(&mut a, "WEB01", 1, "/", "Root");
        note(&mut b, "WEB01", 1, "/api/x", "Api");
        note(&mut b, "WEB01", 1, "/index.html", "Other");
        a.absorb(b);
        assert_eq!(pool_of(&a, "WEB01", 1, "/api/y.aspx"), Some("Api"));
        assert_eq!(pool_of(&a, "WEB01", 1, "/y.aspx"), None, "two pools served the root");
    }
}
