//! Logins as the hunt reads them: the web site's and the FTP service's
//! accepted and rejected credentials per client, and a password accepted
//! from a client that was guessing, during the guessing or soon after.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Range;
use std::sync::Arc;

use faultline_parser::{Request, Timestamp};

use crate::finding::Evidence;
use crate::resolve::SourceFile;

use super::keys::{account_key, client_key, login_key};
use super::quiet::{Quiet, Quiets, index_in, offset, wide};
use super::sink::text;
use super::{Detection, Hunt, HuntSink, RuleInfo, pools};

/// A request a client got through with on the web site: answered below
/// 400 with a user name, or a POST to a login page answered 2xx or 3xx.
/// 56 bytes, its text in its chunk's [`WebLogins`]: a busy authenticated
/// site's every client has one, and only a guessing client's become
/// detections.
#[derive(Debug)]
pub(super) struct WebLogin {
    /// The client, as [`client_key`] gives it.
    pub(super) client: u64,
    /// Its key among its client's logins (see [`login_key`]).
    pub(super) user_key: u64,
    pub(super) time: Timestamp,
    pub(super) line: u64,
    /// The IIS site id, or [`Quiet::NONE`].
    pub(super) site: u32,
    /// Its user in [`WebLogins::users`], or [`Quiet::NONE`].
    pub(super) user: u32,
    /// Its method and path in [`WebLogins::text`].
    pub(super) request: Range<u32>,
    /// The proxy it came through in [`WebLogins::proxies`], or
    /// [`Quiet::NONE`].
    pub(super) proxy: u32,
    /// Its host in [`WebLogins::hosts`].
    pub(super) host: u16,
    pub(super) status: u16,
}

/// The requests clients got through with in one chunk of one file: each
/// client's first as each user (or as none).
#[derive(Debug)]
pub(super) struct WebLogins {
    pub(super) file: SourceFile,
    pub(super) hosts: Vec<Arc<str>>,
    pub(super) proxies: Vec<IpAddr>,
    /// The users, and their indexes by name (an authenticated site's few
    /// hundred would make a list slow to search).
    pub(super) users: Vec<Box<str>>,
    pub(super) user_index: hashbrown::HashMap<Box<[u8]>, u32>,
    /// The requests' text, end to end.
    pub(super) text: String,
    pub(super) logins: Vec<WebLogin>,
}

impl WebLogins {
    pub(super) fn new(file: &SourceFile) -> WebLogins {
        WebLogins {
            file: file.clone(),
            hosts: Vec::new(),
            proxies: Vec::new(),
            users: Vec::new(),
            user_index: hashbrown::HashMap::new(),
            text: String::new(),
            logins: Vec::new(),
        }
    }

    /// The index of `user` in [`WebLogins::users`], added when it is not there.
    pub(super) fn user(&mut self, user: &[u8]) -> u32 {
        if let Some(&at) = self.user_index.get(user) {
            return at;
        }
        let at = offset(self.users.len());
        self.users.push(String::from_utf8_lossy(user).into());
        self.user_index.insert(user.into(), at);
        at
    }

    /// The detection of `rule` citing `login`, from `client`.
    pub(super) fn detection(
        &self,
        rule: &Arc<RuleInfo>,
        login: &WebLogin,
        client: IpAddr,
        site_pools: &pools::SitePools,
    ) -> Detection {
        let host: &str = &self.hosts[usize::from(login.host)];
        let site = (login.site != Quiet::NONE).then_some(login.site);
        let request = &self.text[wide(&login.request)];
        // The request as logged: its method, then its path. Its pool is
        // found here, not by `place_in_pools`: a read keeps every login
        // (hundreds of thousands on a busy site), and only these few are
        // shown, so no folder is noted per login.
        let folder = request.split_once(' ').and_then(|(_, path)| pools::folder(path));
        let app_pool = site.zip(folder).and_then(|(site, folder)| site_pools.pool(host, site, folder));
        let user = (login.user != Quiet::NONE).then(|| &*self.users[login.user as usize]);
        let proxy = (login.proxy != Quiet::NONE).then(|| self.proxies[login.proxy as usize]);
        let summary = crate::describe::cut_line(format!(
            "{} {}{} from {client}{}",
            request,
            login.status,
            user.map(|u| format!(" as {u}")).unwrap_or_default(),
            proxy.map(|p| format!(" via {p}")).unwrap_or_default(),
        ));
        let matched = std::iter::once(("c-ip".to_string(), client.to_string()))
            .chain(user.map(|u| ("cs-username".to_string(), u.to_string())))
            .collect();
        let evidence = Evidence::in_file(&self.file, (Some(login.line), None), login.time, summary);
        Detection {
            site: site.map(|s| s.to_string()),
            app_pool: app_pool.map(str::to_string),
            matched,
            ..Detection::new(rule, host, login.time, evidence)
        }
    }
}

/// How long after a client's password guessing a password the FTP service
/// or the web site accepts from it is taken for a guess that worked.
pub(super) const GUESSED_WITHIN: i64 = 30 * 60;

/// The bundled file of the FTP service's password guessing correlations.
pub(super) const FTP_GUESSING: &str = "ftp_password_guessing.yml";

/// The bundled file of the web site's.
pub(super) const WEB_GUESSING: &str = "web_auth_brute_force.yml";

/// The detections of the bundled guessing correlations of `file`, with the
/// client each names.
pub(super) fn guessing<'d>(
    detections: &'d [Detection],
    file: &'d str,
) -> impl Iterator<Item = (&'d Detection, IpAddr)> {
    detections.iter().filter(move |d| super::posted::bundled(d, file)).filter_map(|d| {
        let (_, client) = d.matched.iter().find(|(f, _)| f == "c-ip")?;
        Some((d, client.parse::<IpAddr>().ok()?.to_canonical()))
    })
}

/// A password a service accepted, as [`guessed_logins`] reads it.
#[derive(Debug)]
pub(super) struct Login {
    pub(super) client: IpAddr,
    /// The account it was accepted as (see [`account_key`]), if named.
    pub(super) account: Option<u64>,
    /// The detection citing it.
    pub(super) detection: Detection,
}

/// The passwords accepted from clients the bundled guessing correlations
/// of `file` found, during the guessing or within [`GUESSED_WITHIN`] of
/// its end, on any server (the guessing is counted per client, a farm's
/// servers together), that `admits` takes for the guessing's: the first
/// such login per guessing episode, citing the login and naming how many
/// refusals came before.
pub(super) fn guessed_logins(
    detections: &[Detection],
    file: &str,
    logins: Vec<Login>,
    admits: impl Fn(&Detection, &Login) -> bool,
) -> Vec<Detection> {
    let mut out: Vec<Detection> = Vec::new();
    // A login follows the fast and the sustained guessing alike: once.
    let mut cited: Vec<&Evidence> = Vec::new();
    for (g, client) in guessing(detections, file) {
        let (from, to) = (g.time.seconds(), g.end.unwrap_or(g.time).seconds().saturating_add(GUESSED_WITHIN));
        let login = logins
            .iter()
            .filter(|l| {
                l.client.to_canonical() == client
                    && (from..=to).contains(&l.detection.time.seconds())
                    && admits(g, l)
            })
            .map(|l| &l.detection)
            .min_by(|a, b| a.key().cmp(&b.key()));
        let Some(login) = login else { continue };
        if cited.contains(&&login.evidence) {
            continue;
        }
        cited.push(&login.evidence);
        let mut d = login.clone();
        d.evidence.summary = crate::describe::cut_line(format!(
            "accepted after {} ({}): {}",
            g.rule.meta.title,
            g.evidence.summary.split(';').next().unwrap_or_default(),
            login.evidence.summary
        ));
        out.push(d);
    }
    out
}

/// The account of a rejection that named none (a form's), among the
/// accounts [`Pending::rejections`](super::Pending::rejections) holds: the guessing tried some
/// account, which may be any.
pub(super) const UNNAMED_ACCOUNT: u64 = 0;

/// The most accounts noted per client and minute of rejections: whether
/// the guessing tried one account or several is all that is read of them.
pub(super) const ACCOUNTS_PER_MINUTE: usize = 3;

/// Whether a path is a login page's (as the bundled rejection rule reads
/// one).
pub(super) fn login_page(stem: &[u8]) -> bool {
    LOGIN_WORDS.iter().any(|w| faultline_parser::value::contains_ignore_case(stem, w.as_bytes()))
}

/// What a login page's path holds: the bundled rejection rule's
/// `selection_form` list, which a test holds them to.
pub(super) const LOGIN_WORDS: [&str; 5] = ["login", "logon", "signin", "auth", "token"];

impl HuntSink<'_> {
    /// Keeps a password the FTP service accepted, with its client, for
    /// [`guessed_logins`].
    pub(super) fn note_ftp_login(&mut self, r: &Request<'_>, command: &[u8]) {
        let Some(natives) = &self.hunt.natives else { return };
        let (Some(client), Some(230)) = (self.hunt.client(r), r.status) else { return };
        if !command.eq_ignore_ascii_case(b"PASS") {
            return;
        }
        let host = self.resolve.host(r.computer_name);
        let Some(time) = self.resolve.time(&host, r.time) else { return };
        let summary = crate::describe::cut_line(crate::describe::describe_ftp_command(r, command));
        let user = r.username.filter(|u| *u != b"-").map(|u| String::from_utf8_lossy(u).into_owned());
        let account = r.username.and_then(faultline_parser::value::present).and_then(account_key);
        let matched = std::iter::once(("c-ip".to_string(), client.to_string()))
            .chain(user.map(|u| ("cs-username".to_string(), u)))
            .collect();
        let detection = self.row_detection(&natives.ftp_guessed, r, (&host.name, time), summary, matched);
        self.pending.ftp_logins.push(Login { client, account, detection });
    }

    /// Keeps, for [`guessed_logins`], a web request that got through
    /// (answered below 400 with a user name, or a POST to a login page
    /// answered 2xx or 3xx) when it is its client's first as its user (or
    /// without one) in the chunk: a guess that worked is a user's first
    /// success from the guessing client, and the first of a whole read is
    /// the earliest of the chunks' firsts, whichever file or chunk holds
    /// the guessing. An authenticated site's every request is not kept.
    pub(super) fn note_web_login(&mut self, r: &Request<'_>) {
        let Some(natives) = &self.hunt.natives else { return };
        let Some(status) = r.status else { return };
        let user = r.username.and_then(faultline_parser::value::present);
        if natives.web_rejected.iter().any(|i| self.hits.contains(i)) {
            // A rejection under a user name: IIS's own authentication; one
            // under none: a form's, of an account that may be any.
            let Some(client) = self.hunt.client(r).map(client_key) else { return };
            let account = user.and_then(account_key).unwrap_or(UNNAMED_ACCOUNT);
            let noted = self.rejections_noted.entry((client, r.time.seconds().div_euclid(60))).or_default();
            if noted.len() < ACCOUNTS_PER_MINUTE && !noted.contains(&account) {
                noted.push(account);
                let host = self.resolve.host(r.computer_name);
                if let Some(time) = self.resolve.time(&host, r.time) {
                    self.pending.rejections.push((client, time.seconds().div_euclid(60), account));
                }
            }
            return;
        }
        if !(200..400).contains(&status) {
            return;
        }
        let login_form = r.method == Some(b"POST".as_slice()) && r.uri_stem.is_some_and(login_page);
        // A login form's answer says nothing of the name it was sent, which
        // some log (Outlook on the web's: every POST to auth.owa answered
        // 302 under the name tried): a form's login, whoever it names.
        let user = if login_form { None } else { user };
        if user.is_none() && !login_form {
            return;
        }
        let Some(client) = self.hunt.client(r) else { return };
        let host = self.resolve.host(r.computer_name);
        let Some(time) = self.resolve.time(&host, r.time) else { return };
        let (client, user_key) = (client_key(client), login_key(user, r.uri_stem.unwrap_or_default()));
        if !self.login_seen.insert((client, user_key)) {
            return;
        }
        let file = self.resolve.file();
        let logins = self.web_logins.get_or_insert_with(|| WebLogins::new(file));
        // A chunk naming more hosts than a login can say is a hostile one.
        let Ok(host) = u16::try_from(Quiets::named(&mut logins.hosts, &host.name)) else { return };
        let from = logins.text.len();
        logins.text.push_str(&text(r.method));
        logins.text.push(' ');
        logins.text.push_str(&text(r.uri_stem));
        let request = offset(from)..offset(logins.text.len());
        let proxy = match self.hunt.forwarded(r).and_then(|_| r.client_ip.and_then(|a| a.ip())) {
            Some(p) => index_in(&mut logins.proxies, |&q| q == p, || p),
            None => Quiet::NONE,
        };
        let login = WebLogin {
            client,
            user_key,
            time,
            line: r.origin.line,
            site: self.resolve.site_named(r.site_name).unwrap_or(Quiet::NONE),
            user: user.map_or(Quiet::NONE, |u| logins.user(u)),
            request,
            proxy,
            host,
            status,
        };
        logins.logins.push(login);
    }
}

impl Hunt {
    /// The web site's guessed passwords: of each guessing client and user
    /// (or login form, for a login under no name), the first request of
    /// the read that got through, when it came during the guessing or soon
    /// after. Where the guessing's rejections named users (IIS's own
    /// authentication), only a request as a user is a login: a form's
    /// redirect may be its failure page; and where they named one account
    /// alone, only a request as that account.
    pub(super) fn web_guessed(
        &self,
        detections: &[Detection],
        web_logins: &[WebLogins],
        rejections: &[(u64, i64, u64)],
        site_pools: &pools::SitePools,
    ) -> Vec<Detection> {
        let Some(natives) = &self.natives else { return Vec::new() };
        let clients: BTreeMap<u64, IpAddr> =
            guessing(detections, WEB_GUESSING).map(|(_, ip)| (client_key(ip), ip)).collect();
        let mut firsts: hashbrown::HashMap<(u64, u64), (&WebLogins, &WebLogin)> = hashbrown::HashMap::new();
        fn first_of<'w>((w, l): (&'w WebLogins, &WebLogin)) -> (Timestamp, &'w str, u64) {
            (l.time, &w.file.path, l.line)
        }
        for w in web_logins {
            for l in w.logins.iter().filter(|l| clients.contains_key(&l.client)) {
                firsts
                    .entry((l.client, l.user_key))
                    .and_modify(|kept| {
                        if first_of((w, l)) < first_of(*kept) {
                            *kept = (w, l);
                        }
                    })
                    .or_insert((w, l));
            }
        }
        let logins = firsts
            .into_values()
            .filter_map(|(w, l)| {
                let client = *clients.get(&l.client)?;
                let detection = w.detection(&natives.web_guessed, l, client, site_pools);
                // The name as kept, read as UTF-8, keys as the raw one does.
                let account = w.users.get(l.user as usize).and_then(|u| account_key(u.as_bytes()));
                Some(Login { client, account, detection })
            })
            .collect();
        // The accounts the client's rejections named during the guessing.
        let tried = |client: u64, from: i64, to: i64| {
            let (from, to) = (from.div_euclid(60), to.div_euclid(60));
            let at = rejections.partition_point(|&(c, minute, _)| (c, minute) < (client, from));
            rejections[at..].iter().take_while(move |&&(c, minute, _)| c == client && minute <= to)
        };
        guessed_logins(detections, WEB_GUESSING, logins, |g, login| {
            // A form's redirect followed by a rejection of the same client
            // (in its minute or the next: rejections are noted by the
            // minute) was a failure shown its page again, Outlook on the
            // web's among them.
            let minute = login.detection.time.seconds().div_euclid(60) * 60;
            if login.account.is_none()
                && tried(client_key(login.client), minute, minute + 60).next().is_some()
            {
                return false;
            }
            let (from, to) = (g.time.seconds(), g.end.unwrap_or(g.time).seconds());
            let mut named: Vec<u64> = tried(client_key(login.client), from, to).map(|&(_, _, a)| a).collect();
            let unnamed = named.contains(&UNNAMED_ACCOUNT);
            named.retain(|&a| a != UNNAMED_ACCOUNT);
            named.sort_unstable();
            named.dedup();
            match (named.as_slice(), login.account) {
                // No rejection named an account: a form's guessing.
                ([], _) => true,
                // Where rejections named accounts, a login is under a name.
                (_, None) => false,
                // One account's password guessed (or a client's stale one
                // retried) and no other tried: the guess that worked is
                // that account's, not another user's signing in from the
                // same office address. Several accounts tried (a spray of
                // one password), or some under no name: any.
                ([one], Some(login)) if !unnamed => *one == login,
                _ => true,
            }
        })
    }
}
