//! Recognising evidence by content. File names only break ties.

use std::fmt;

use serde::Serialize;

use crate::framing::{BOM, lines};
use crate::w3c::{self, Dialect};

/// The evidence formats faultline reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// W3C extended access log.
    W3c,
    /// HTTP.sys error log.
    Httperr,
    /// IIS native (comma-separated) access log.
    IisNative,
    /// NCSA common access log.
    Ncsa,
    /// Failed Request Tracing XML.
    Freb,
    /// Binary Windows event log.
    Evtx,
    /// Windows events exported as XML.
    EventXml,
    /// An IIS detailed error page (`HTTP Error 500.19 - ...`).
    ErrorPage,
    /// iisnode's log of a Node.js application's uncaught exceptions
    /// (`logging-errors.txt`).
    IisnodeLog,
    /// A request App Service's Kudu site traced (`LogFiles/kudu/trace`).
    KuduTrace,
}

impl Format {
    /// Stable lower-case name, as used in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Format::W3c => "w3c",
            Format::Httperr => "httperr",
            Format::IisNative => "iis-native",
            Format::Ncsa => "ncsa",
            Format::Freb => "freb",
            Format::Evtx => "evtx",
            Format::EventXml => "event-xml",
            Format::ErrorPage => "error-page",
            Format::IisnodeLog => "iisnode-log",
            Format::KuduTrace => "kudu-trace",
        }
    }

    /// The text dialect, for the W3C-framed family.
    pub fn dialect(self) -> Option<Dialect> {
        Some(match self {
            Format::W3c => Dialect::W3c,
            Format::Httperr => Dialect::HttpErr,
            Format::IisNative => Dialect::IisNative,
            Format::Ncsa => Dialect::Ncsa,
            _ => return None,
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What detection decided about one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detection {
    /// A format we read.
    Format(Format),
    /// Not evidence we read, and why.
    Skip(String),
}

/// How many leading bytes detection looks at.
pub const SNIFF_LEN: usize = 64 * 1024;

/// Decides the format of a file from its first bytes (`head`, up to
/// [`SNIFF_LEN`]) and, only to break ties, its name.
pub fn detect(name: &str, head: &[u8]) -> Detection {
    let lower = name.to_ascii_lowercase();
    if head.is_empty() {
        return Detection::Skip("empty file".into());
    }
    if head.starts_with(b"ElfFile\0") {
        return Detection::Format(Format::Evtx);
    }
    // A header overwritten or zeroed, its chunks intact: the reader reads
    // the chunks whatever the header says.
    if head.get(crate::evtx::FILE_HEADER_SIZE..).is_some_and(|h| h.starts_with(crate::evtx::CHUNK_MAGIC)) {
        return Detection::Format(Format::Evtx);
    }
    // Chunks carved without the file header: each holds its own strings
    // and templates, and the reader reads them from the start.
    if head.starts_with(crate::evtx::CHUNK_MAGIC) {
        return Detection::Format(Format::Evtx);
    }
    if head.iter().all(|&b| b == 0) {
        return Detection::Skip("only NUL bytes (preallocated or zeroed file)".into());
    }
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        // The readers transcode UTF-16 before detection; this is only what
        // detection says of raw UTF-16 bytes given to it directly.
        return Detection::Skip("UTF-16 text".into());
    }
    if lower.ends_with(".ibl") {
        return Detection::Skip("IIS centralized binary log (.ibl): only Log Parser decodes it".into());
    }
    if let Some(what) = container(head) {
        return Detection::Skip(what.into());
    }
    let text = head.strip_prefix(BOM).unwrap_or(head);
    let trimmed = text.trim_ascii_start();
    if trimmed.starts_with(b"<") {
        return detect_xml(trimmed);
    }
    let window = &text[..text.len().min(4096)];
    let binary = window.iter().filter(|&&b| b == 0 || (b < 0x09)).count();
    // Control characters no log writes, NUL apart (a log's zeroed stretch
    // is damage to report, not a reason to skip it): an image or random
    // bytes hold about one in ten, and newlines by chance.
    let controls = window.iter().filter(|&&b| matches!(b, 0x01..=0x08 | 0x0E..=0x1A | 0x1C..=0x1F)).count();
    // A log whose first bytes were damaged (a copy's torn start, junk
    // written over it) still has its directives below: its rows are read,
    // the damage rejected line by line.
    let directive = |d: &[u8]| memchr::memmem::find(text, d).is_some();
    let a_log_below = directive(b"\n#Fields:") || directive(b"\n#Software: Microsoft");
    if ((binary > 0 && memchr::memchr(b'\n', window).is_none()) || controls * 50 > window.len())
        && !a_log_below
    {
        return Detection::Skip("binary data, not a log".into());
    }
    detect_text(&lower, text)
}

/// What a triage bundle also holds that faultline does not open, told by
/// its magic, with what to do: a skip that only says "binary" leaves the
/// analyst to guess that the logs are inside.
fn container(head: &[u8]) -> Option<&'static str> {
    const KNOWN: [(usize, &[u8], &str); 9] = [
        (0, b"vhdxfile", "a VHDX disk image (a KAPE target): mount it and give faultline the mounted folder"),
        (0, b"conectix", "a VHD disk image: mount it and give faultline the mounted folder"),
        (
            0,
            b"EVF\x09\x0d\x0a\xff\x00",
            "an E01 forensic image: mount it (ewfmount) and give faultline the mounted folder",
        ),
        (0, b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive: extract it and give faultline the folder"),
        (0, b"Rar!\x1a\x07", "a RAR archive: extract it and give faultline the folder"),
        (4, b"1AY&SY", "bzip2-compressed data: decompress it (bunzip2) and give faultline the result"),
        (0, b"\xfd7zXZ\x00", "xz-compressed data: decompress it (unxz) and give faultline the result"),
        (
            0,
            b"\x28\xb5\x2f\xfd",
            "zstd-compressed data: decompress it (unzstd) and give faultline the result",
        ),
        (257, b"ustar", "a tar archive: extract it (tar -xf) and give faultline the folder"),
    ];
    // Each magic with what must come with it: a tar's `ustar` ends in NUL
    // or two spaces (a log with "mustard" at byte 257 is no tar), bzip2's
    // block magic follows `BZh` and a level.
    let with = |magic: &[u8]| match magic {
        b"ustar" => matches!(head.get(262), Some(0 | b' ')),
        b"1AY&SY" => head.starts_with(b"BZh") && head.get(3).is_some_and(|l| (b'1'..=b'9').contains(l)),
        _ => true,
    };
    KNOWN
        .iter()
        .find(|(at, magic, _)| head.get(*at..).is_some_and(|h| h.starts_with(magic)) && with(magic))
        .map(|(_, _, what)| *what)
}

fn detect_xml(xml: &[u8]) -> Detection {
    let find = |needle: &[u8]| memchr::memmem::find(xml, needle).is_some();
    if find(b"<failedRequest") {
        Detection::Format(Format::Freb)
    } else if find(b"<xsl:stylesheet") {
        Detection::Skip("XSL stylesheet (freb.xsl renders FREB traces; it holds no evidence)".into())
    } else if find(b"<Events") || find(b"<Event>") || find(b"<Event ") {
        Detection::Format(Format::EventXml)
    } else if crate::errorpage::looks_like_error_page(xml) {
        Detection::Format(Format::ErrorPage)
    } else if crate::kudu::looks_like_kudu_trace(xml) {
        Detection::Format(Format::KuduTrace)
    } else {
        Detection::Skip(
            "XML or HTML, but neither a FREB trace, an event log export nor an IIS error page".into(),
        )
    }
}

fn detect_text(lower_name: &str, text: &[u8]) -> Detection {
    if crate::iisnode::looks_like_iisnode_log(text) {
        return Detection::Format(Format::IisnodeLog);
    }
    let mut saw_directive = false;
    let mut rows: Vec<&[u8]> = Vec::new();
    for line in lines(text, 0).take(400) {
        let t = line.text;
        if t.first() == Some(&b'#') {
            let body = &t[1..];
            let starts = |p: &[u8]| body.len() >= p.len() && body[..p.len()].eq_ignore_ascii_case(p);
            if starts(b"Software: Microsoft HTTP API") {
                return Detection::Format(Format::Httperr);
            }
            if starts(b"Fields:") {
                let layout = w3c::Layout::parse(&body[7..], false);
                return Detection::Format(if layout.is_httperr() { Format::Httperr } else { Format::W3c });
            }
            if starts(b"Software:") || starts(b"Version:") || starts(b"Date:") || starts(b"Start-Date:") {
                saw_directive = true;
            }
        } else if !t.trim_ascii().is_empty() && rows.len() < 16 {
            rows.push(t);
        }
    }
    if rows.iter().take(4).any(|r| w3c::looks_like_iis_native(r)) {
        return Detection::Format(Format::IisNative);
    }
    if rows.iter().take(4).any(|r| w3c::looks_like_ncsa(r)) {
        return Detection::Format(Format::Ncsa);
    }
    let fits = |dialect| w3c::count_default_fits(text, dialect);
    let (access, errors) = (fits(Dialect::W3c), fits(Dialect::HttpErr));
    if access == 0 && errors == 0 {
        return Detection::Skip(if saw_directive {
            "W3C directives but no #Fields and no rows of a known layout".into()
        } else {
            "text, but not an IIS, HTTP.sys or event log".into()
        });
    }
    let prefer_errors = errors > access || (errors == access && lower_name.contains("httperr"));
    Detection::Format(if prefer_errors { Format::Httperr } else { Format::W3c })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(name: &str, head: &[u8]) -> Option<Format> {
        match detect(name, head) {
            Detection::Format(f) => Some(f),
            Detection::Skip(_) => None,
        }
    }

    /// Disk images, other archives and compressors are named, with what to
    /// do, not skipped as "binary data".
    #[test]
    fn containers_faultline_does_not_open_are_named() {
        let said = |head: &[u8]| match detect("bundle.bin", head) {
            Detection::Skip(why) => why,
            Detection::Format(f) => panic!("read as {f:?}"),
        };
        assert!(said(b"vhdxfile\0\0\0\0").starts_with("a VHDX disk image (a KAPE target): mount it"));
        assert!(said(b"7z\xbc\xaf\x27\x1c\0\x04").starts_with("a 7-Zip archive"));
        let mut tar = vec![0u8; 512];
        tar[..9].copy_from_slice(b"u_ex1.log");
        tar[257..265].copy_from_slice(b"ustar\x0000");
        assert!(said(&tar).starts_with("a tar archive: extract it"));
        tar[257..265].copy_from_slice(b"ustard a");
        assert!(!said(&tar).starts_with("a tar archive"), "a word at byte 257 is no tar");
        assert!(said(b"BZh91AY&SY\x01\x02").starts_with("bzip2-compressed data"));
        assert_eq!(said(b"\x01\x02\x03\x00\x05"), "binary data, not a log");
        // An image, or random bytes, with newlines by chance.
        let noise: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        assert_eq!(said(&noise), "binary data, not a log");
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&noise[..512]);
        assert_eq!(said(&png), "binary data, not a log");
        // A log whose first bytes were overwritten is still the log below.
        let mut torn = noise.clone();
        torn.extend_from_slice(b"\r\n#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time cs-uri-stem sc-status\r\n");
        assert_eq!(format("u_ex240101.log", &torn), Some(Format::W3c));
    }

    #[test]
    fn recognises_by_content_not_name() {
        assert_eq!(format("x.txt", b"ElfFile\0rest"), Some(Format::Evtx));
        assert_eq!(format("carved.bin", b"ElfChnk\0rest"), Some(Format::Evtx));
        let mut damaged = vec![0u8; 4096];
        damaged.extend_from_slice(b"ElfChnk\0 and the rest of a chunk");
        assert_eq!(format("System.evtx", &damaged), Some(Format::Evtx), "a zeroed header, its chunks intact");
        assert_eq!(format("notes.log", b"#Software: Microsoft HTTP API 2.0\r\n"), Some(Format::Httperr));
        assert_eq!(format("a", b"#Fields: date time c-ip c-port s-reason\n"), Some(Format::Httperr));
        assert_eq!(format("a", b"\xEF\xBB\xBF#Fields: date time c-ip\n"), Some(Format::W3c));
        assert_eq!(format("a", b"<?xml version='1.0'?>\n<failedRequest url='x'>"), Some(Format::Freb));
        assert_eq!(
            format("a", b"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>"),
            Some(Format::EventXml)
        );
        assert_eq!(format("a", b"<Events><Event>"), Some(Format::EventXml));
        assert_eq!(format("freb.xsl", b"<?xml version='1.0'?><xsl:stylesheet>"), None);
        let page = b"<!DOCTYPE html>\n<html><title>IIS Detailed Error - 500.30</title><a href='x?IIS70Error=500,30,0x8007023e,20348'>";
        assert_eq!(format("ErrorPage000027.htm", page), Some(Format::ErrorPage));
        assert_eq!(format("index.htm", b"<!DOCTYPE html><html><body>Welcome</body></html>"), None);
        assert_eq!(format("a.log", b""), None);
        assert_eq!(format("a.log", b"\0\0\0\0"), None);
        assert_eq!(format("a.log", b"hello world\nthis is prose\n"), None);
    }

    #[test]
    fn header_less_rows_are_told_apart() {
        let httperr =
            b"2018-05-05 05:05:55 67.43.156.15 12345 192.168.101.101 443 HTTP/1.1 GET /x 400 - URL -\n";
        assert_eq!(format("whatever.log", httperr), Some(Format::Httperr));
        let w3c = b"2020-10-04 22:00:34 10.0.0.1 GET /favicon.ico - 80 - 10.0.0.2 Mozilla/5.0 - 404 0 2 0\n";
        assert_eq!(format("whatever.log", w3c), Some(Format::W3c));
        let native = b"192.168.114.201, -, 03/20/01, 7:55:20, W3SVC2, SERVER, 172.21.13.45, 4502, 163, 3223, 200, 0, GET, /DeptLogo.gif, -,\r\n";
        assert_eq!(format("in010320.log", native), Some(Format::IisNative));
    }
}
