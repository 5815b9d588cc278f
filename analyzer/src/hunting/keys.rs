//! How the hunt keys what it counts: hosts, access-log rows, clients and
//! accounts, each hashed to one number however a log spells it.

use std::net::IpAddr;

/// A client address as a number, the same for its IPv4-mapped form.
pub(super) fn client_key(ip: IpAddr) -> u64 {
    use std::hash::BuildHasher as _;
    SCRIPT_KEYS.hash_one(ip.to_canonical())
}

/// An account's key, the same for each way a log writes its name: without
/// case (any script's), its domain (`CONTOSO\\pwong`) or UPN suffix
/// (`pwong@contoso.com`); `None` for a name with nothing else (`CONTOSO\\`).
/// Two domains' accounts of one name are one: a log names a domain in one
/// form and not in another, and the guessing they are compared in is one
/// client's, on one site.
pub(super) fn account_key(user: &[u8]) -> Option<u64> {
    use std::hash::{BuildHasher as _, Hasher as _};
    let user = user.rsplit(|&b| b == b'\\').next().unwrap_or(user);
    let user = user.split(|&b| b == b'@').next().unwrap_or(user);
    if user.is_empty() {
        return None;
    }
    let mut hasher = SCRIPT_KEYS.build_hasher();
    write_folded(&mut hasher, user);
    Some(hasher.finish())
}

/// Writes a name into `hasher` without its case, beyond ASCII too (as
/// Windows compares account names).
fn write_folded(hasher: &mut impl std::hash::Hasher, name: &[u8]) {
    match name.is_ascii() {
        true => name.iter().for_each(|b| hasher.write_u8(b.to_ascii_lowercase())),
        false => String::from_utf8_lossy(name).to_lowercase().bytes().for_each(|b| hasher.write_u8(b)),
    }
}

/// A login's key among a client's: its user name (the same for every
/// spelling of its case), or, for a login under no name, the page it
/// posted to (an office's one address logs many users in, through more
/// than one form).
pub(super) fn login_key(user: Option<&[u8]>, page: &[u8]) -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut hasher = SCRIPT_KEYS.build_hasher();
    hasher.write_u8(u8::from(user.is_some()));
    write_folded(&mut hasher, user.unwrap_or(page));
    hasher.finish()
}

/// An access-log row's key: its file and line, hashed.
pub(super) fn row_key(path: &str, line: u64) -> u64 {
    use std::hash::BuildHasher as _;
    SCRIPT_KEYS.hash_one((path, line))
}

/// The key of a host and a name on it (a path, a process's GUID),
/// without case.
pub(super) fn host_key(host: &str, stem: &[u8], buf: &mut Vec<u8>) -> u64 {
    use std::hash::BuildHasher;
    buf.clear();
    buf.extend_from_slice(host.as_bytes());
    buf.push(0);
    buf.extend(stem.iter().map(u8::to_ascii_lowercase));
    SCRIPT_KEYS.hash_one(&buf[..])
}

/// One hasher for every sink, so that keys agree across chunks.
pub(super) static SCRIPT_KEYS: std::sync::LazyLock<hashbrown::DefaultHashBuilder> =
    std::sync::LazyLock::new(hashbrown::DefaultHashBuilder::default);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_one_however_a_log_spells_it() {
        let admin = account_key(b"CONTOSO\\Admin");
        assert!(admin.is_some());
        for spelling in
            [b"admin".as_slice(), b"ADMIN@contoso.com", b"corp.contoso.com\\admin", b"FABRIKAM\\admin"]
        {
            assert_eq!(account_key(spelling), admin, "{}", String::from_utf8_lossy(spelling));
        }
        assert_ne!(account_key(b"administrator"), admin);
        // Case beyond ASCII, as Windows compares names.
        assert_eq!(account_key("J\u{dc}RGEN".as_bytes()), account_key("j\u{fc}rgen@contoso.com".as_bytes()));
        // A name in the server's ANSI code page keys as the text a login
        // keeps of it.
        let ansi = b"CONTOSO\\J\xfcrgen";
        assert_eq!(account_key(ansi), account_key(String::from_utf8_lossy(ansi).as_bytes()));
        // A name with nothing but a domain or a suffix names no account.
        for nothing in [b"CONTOSO\\".as_slice(), b"@contoso.com", b"\\", b""] {
            assert_eq!(account_key(nothing), None, "{}", String::from_utf8_lossy(nothing));
        }
    }

    /// A login's user is one whatever the case of its letters, beyond
    /// ASCII too, as its account is.
    #[test]
    fn a_login_is_one_whatever_its_case() {
        assert_eq!(
            login_key(Some("J\u{dc}RGEN".as_bytes()), b"/login"),
            login_key(Some("j\u{fc}rgen".as_bytes()), b"/x")
        );
        assert_ne!(login_key(Some(b"admin"), b"/login"), login_key(None, b"/login"));
        assert_eq!(login_key(None, b"/Login.aspx"), login_key(None, b"/login.aspx"));
    }
}
