//! Which app pool serves a site's requests, as the evidence says: an access
//! log's row names its site but not the pool (W3C has no such field), while
//! a Failed Request Tracing trace names both (`siteId`, `appPoolId`) and an
//! HTTP.sys error row names the site and the request queue, which IIS names
//! after the pool. A web detection takes its pool from them, so a web shell
//! request and the worker process it started are one chain only when their
//! pools agree.
//!
//! A site's applications may run in pools of their own (`/api` in one, the
//! root in another), and the evidence names applications only by the paths
//! requested: a path's first folder stands for its application. A request
//! under a folder seen in one pool alone is that pool's; under a folder
//! seen in several, no pool's; elsewhere (a page at the root, a folder not
//! seen), the pool of the site's root pages, when one pool alone served
//! them.

use std::collections::{BTreeMap, BTreeSet};

/// Per host and site, per first folder of the paths requested (lower-case;
/// empty for the site's root pages), the pools that served them.
#[derive(Debug, Default)]
pub(crate) struct SitePools(BTreeMap<(String, u32), BTreeMap<String, BTreeSet<String>>>);

impl SitePools {
    /// Notes that `pool` served `path` of `site` on `host`.
    pub(crate) fn note(&mut self, host: &str, site: u32, path: &str, pool: &str) {
        let folders = self.0.entry((host.to_string(), site)).or_default();
        let pools = folders.entry(folder(path).to_ascii_lowercase()).or_default();
        if !pools.iter().any(|p| p.eq_ignore_ascii_case(pool)) {
            pools.insert(pool.to_string());
        }
    }

    pub(crate) fn absorb(&mut self, other: SitePools) {
        for ((host, site), folders) in other.0 {
            for (folder, pools) in folders {
                for pool in pools {
                    let path = if folder.is_empty() { "/".to_string() } else { format!("/{folder}/") };
                    self.note(&host, site, &path, &pool);
                }
            }
        }
    }

    /// The pool that served `path` of `site` on `host`, when the evidence
    /// names one alone.
    pub(crate) fn pool(&self, host: &str, site: u32, path: &str) -> Option<&str> {
        let folders = self.0.get(&(host.to_string(), site))?;
        fn one(pools: &BTreeSet<String>) -> Option<&str> {
            match pools.len() {
                1 => pools.first().map(String::as_str),
                _ => None,
            }
        }
        let own = folder(path);
        if !own.is_empty()
            && let Some(pools) = folders.get(&own.to_ascii_lowercase())
        {
            return one(pools);
        }
        folders.get("").and_then(one)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The first folder of a path (`api` of `/api/orders`); empty for a page
/// at the root (`/default.aspx`, `/`).
pub(crate) fn folder(path: &str) -> &str {
    path.trim_start_matches('/').split_once('/').map_or("", |(first, _)| first)
}

/// [`folder`] of a path as logged.
pub(crate) fn folder_bytes(path: &[u8]) -> &[u8] {
    let path = path.trim_ascii_start();
    let from = path.iter().position(|&b| b != b'/').unwrap_or(path.len());
    let rest = &path[from..];
    rest.iter().position(|&b| b == b'/').map_or(&[][..], |end| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_takes_the_pool_of_its_folder_else_of_the_root() {
        let mut pools = SitePools::default();
        pools.note("WEB01", 1, "/default.aspx", "DefaultAppPool");
        pools.note("WEB01", 1, "/Api/orders/7", "ApiPool");
        pools.note("WEB01", 1, "/api/health", "apipool");
        pools.note("WEB01", 2, "/shop/cart.aspx", "ShopPool");
        pools.note("WEB01", 2, "/shop/cart.aspx", "ShopPool2");
        assert_eq!(pools.pool("WEB01", 1, "/api/x.aspx"), Some("ApiPool"), "its folder's, any case");
        assert_eq!(pools.pool("WEB01", 1, "/aspnet_client/x.aspx"), Some("DefaultAppPool"), "the root's");
        assert_eq!(pools.pool("WEB01", 1, "/cmd.aspx"), Some("DefaultAppPool"));
        assert_eq!(pools.pool("WEB01", 2, "/shop/x.aspx"), None, "a folder two pools served");
        assert_eq!(pools.pool("WEB01", 2, "/x.aspx"), None, "no root pages seen");
        assert_eq!(pools.pool("WEB01", 3, "/x.aspx"), None, "another site");
        assert_eq!(pools.pool("WEB02", 1, "/x.aspx"), None, "another host");
    }

    #[test]
    fn stores_absorbed_say_what_each_said() {
        let (mut a, mut b) = (SitePools::default(), SitePools::default());
        a.note("WEB01", 1, "/", "Root");
        b.note("WEB01", 1, "/api/x", "Api");
        b.note("WEB01", 1, "/index.html", "Other");
        a.absorb(b);
        assert_eq!(a.pool("WEB01", 1, "/api/y"), Some("Api"));
        assert_eq!(a.pool("WEB01", 1, "/y"), None, "two pools served the root");
    }
}
