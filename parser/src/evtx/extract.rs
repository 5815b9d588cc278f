//! Field extraction from `evtx` records without rendering XML or JSON.
//!
//! The crate has no public element model, but it exposes what is needed:
//! `EvtxRecord::template_instances()` gives the typed substitution values of
//! a record's template instance and the chunk-relative offset of its
//! definition; `EvtxChunk::data` holds the definitions and the string table
//! (element and attribute names); and re-pointing the record's public
//! `binxml_offset`/`binxml_size` at a nested BinXML value makes
//! `template_instances()` decode nested instances (EventData, UserData).
//! Template definitions are small and parsed once per chunk. The rules for
//! left-out elements and arrays follow MS-EVEN6 and match what the crate
//! renders (checked field by field on every record of the sample logs).

use evtx::EvtxRecord;

use crate::intern::{Interner, Name};
use evtx::binxml::value_variant::BinXmlValue;
use std::rc::Rc;

/// Fields we want from one record. Numeric fields are `None` when absent/NULL.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct EventFields {
    /// From the 24-byte record header (not the BinXML).
    pub record_id: u64,
    /// Record header "written" FILETIME, raw 100ns ticks since 1601.
    pub header_filetime: u64,
    pub provider_name: Option<String>,
    pub provider_guid: Option<String>,
    pub event_source_name: Option<String>,
    pub event_id: Option<u64>,
    pub qualifiers: Option<u64>,
    pub version: Option<u64>,
    pub level: Option<u64>,
    pub task: Option<u64>,
    pub opcode: Option<u64>,
    pub keywords: Option<u64>,
    /// System/TimeCreated@SystemTime as raw FILETIME ticks (100ns precision).
    pub time_created: Option<u64>,
    /// TimeCreated@SystemTime text when it is not a FILETIME value (SYSTEMTIME, literal).
    pub time_created_text: Option<String>,
    pub event_record_id: Option<u64>,
    pub activity_id: Option<String>,
    pub related_activity_id: Option<String>,
    pub process_id: Option<u64>,
    pub thread_id: Option<u64>,
    pub channel: Option<String>,
    pub computer: Option<String>,
    pub user_id: Option<String>,
    /// EventData/Data in document order: (Name attribute if any, text). Unnamed = positional.
    pub event_data: Vec<(Option<String>, String)>,
    /// EventData/Binary, as upper-case hex (as rendered).
    pub binary: Option<String>,
    /// Leaves under UserData: ("UserData/Elem/Child[@attr]", text).
    pub user_data: Vec<(String, String)>,
}

// ----------------------------------------------------------------------------------------------
// Template definition model (our own, tiny; parsed once per chunk+definition and cached)
// ----------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Site {
    Sub(u16),
    Lit(Rc<str>),
}

/// Which output field a text/attribute feeds; decided when the template is parsed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum F {
    Ignore,
    ProviderName,
    ProviderGuid,
    EventSourceName,
    EventId,
    Qualifiers,
    Version,
    Level,
    Task,
    Opcode,
    Keywords,
    SystemTime,
    EventRecordId,
    ActivityId,
    RelatedActivityId,
    ProcessId,
    ThreadId,
    Channel,
    Computer,
    UserId,
    DataName,
    Data,
    Binary,
    UserData,
}

fn classify(path: &str, attr: Option<&str>) -> F {
    use F::*;
    match (path, attr) {
        ("Event/System/Provider", Some("Name")) => ProviderName,
        ("Event/System/Provider", Some("Guid")) => ProviderGuid,
        ("Event/System/Provider", Some("EventSourceName")) => EventSourceName,
        ("Event/System/EventID", None) => EventId,
        ("Event/System/EventID", Some("Qualifiers")) => Qualifiers,
        ("Event/System/Version", None) => Version,
        ("Event/System/Level", None) => Level,
        ("Event/System/Task", None) => Task,
        ("Event/System/Opcode", None) => Opcode,
        ("Event/System/Keywords", None) => Keywords,
        ("Event/System/TimeCreated", Some("SystemTime")) => SystemTime,
        ("Event/System/EventRecordID", None) => EventRecordId,
        ("Event/System/Correlation", Some("ActivityID")) => ActivityId,
        ("Event/System/Correlation", Some("RelatedActivityID")) => RelatedActivityId,
        ("Event/System/Execution", Some("ProcessID")) => ProcessId,
        ("Event/System/Execution", Some("ThreadID")) => ThreadId,
        ("Event/System/Channel", None) => Channel,
        ("Event/System/Computer", None) => Computer,
        ("Event/System/Security", Some("UserID")) => UserId,
        ("Event/EventData/Data", Some("Name")) => DataName,
        ("Event/EventData/Data", None) => Data,
        ("Event/EventData/Binary", None) => Binary,
        (p, Some(a)) if p.starts_with("Event/UserData/") && !a.starts_with("xmlns") => UserData,
        (p, None) if p.starts_with("Event/UserData/") => UserData,
        _ => Ignore,
    }
}

#[derive(Debug)]
struct TAttr {
    f: F,
    /// For F::UserData: "UserData/Elem[@attr]".
    label: Option<Rc<str>>,
    sites: Vec<Site>,
}

#[derive(Debug)]
struct TElem {
    /// Full path from the record root, e.g. "Event/System/Provider".
    path: Rc<str>,
    parent: Option<usize>,
    /// DependencyId: the element is left out when value[dep] is NULL.
    dep: Option<u16>,
    attrs: Vec<TAttr>,
    text: Vec<Site>,
    text_f: F,
    /// For F::UserData text: "UserData/Elem/Child".
    label: Option<Rc<str>>,
    /// Has element children (then it is not a leaf).
    has_child: bool,
}

#[derive(Debug)]
pub(crate) struct Template {
    elems: Vec<TElem>,
    peek: PeekPlan,
    /// Channel, computer and provider as the template alone gives them
    /// (when they are not one substitution), interned on first use: a
    /// template lives in one chunk's cache, read with one interner.
    fixed_names: std::cell::Cell<[Option<Option<Name>>; 3]>,
}

/// Where a template holds a `System` value: an element's text (`None`) or
/// one of its attributes.
type SitePos = (usize, Option<usize>);

/// Where the values [`peek_raw`] reads sit in a template, found once when
/// it is parsed rather than by walking its elements on every record. The
/// last element of a kind wins, as in a full walk.
#[derive(Debug, Default)]
struct PeekPlan {
    event_id: Option<SitePos>,
    channel: Option<SitePos>,
    computer: Option<SitePos>,
    provider: Option<SitePos>,
    time: Option<SitePos>,
}

impl PeekPlan {
    fn of(elems: &[TElem]) -> PeekPlan {
        let mut plan = PeekPlan::default();
        for (e, el) in elems.iter().enumerate() {
            match el.text_f {
                F::EventId => plan.event_id = Some((e, None)),
                F::Channel => plan.channel = Some((e, None)),
                F::Computer => plan.computer = Some((e, None)),
                _ => {}
            }
            for (a, attr) in el.attrs.iter().enumerate() {
                match attr.f {
                    F::ProviderName => plan.provider = Some((e, Some(a))),
                    F::SystemTime => plan.time = Some((e, Some(a))),
                    _ => {}
                }
            }
        }
        plan
    }
}

impl Template {
    fn sites(&self, (e, a): SitePos) -> &[Site] {
        let el = &self.elems[e];
        match a {
            None => &el.text,
            Some(a) => &el.attrs[a].sites,
        }
    }
}

fn rd_u16(d: &[u8], p: usize) -> Result<u16, String> {
    d.get(p..p + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or_else(|| format!("u16 out of bounds at {p}"))
}
fn rd_u32(d: &[u8], p: usize) -> Result<u32, String> {
    d.get(p..p + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| format!("u32 out of bounds at {p}"))
}
fn utf16(d: &[u8], p: usize, chars: usize) -> Result<String, String> {
    let b = d.get(p..p + chars * 2).ok_or("utf16 out of bounds")?;
    Ok(String::from_utf16_lossy(&utf16_units(b)))
}
fn utf16_units(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect()
}

/// Name at chunk offset `off` in the string table: next u32, hash u16, count u16, UTF-16, NUL.
fn name_at(d: &[u8], off: usize) -> Result<String, String> {
    let n = rd_u16(d, off + 6)? as usize;
    utf16(d, off + 8, n)
}

/// Read a name reference at `*p` (u32 chunk offset; if it points right after itself, the name
/// is stored inline there and is skipped).
fn name_ref(d: &[u8], p: &mut usize) -> Result<String, String> {
    let off = rd_u32(d, *p)? as usize;
    *p += 4;
    let name = name_at(d, off)?;
    if off == *p {
        let n = rd_u16(d, off + 6)? as usize;
        *p += 10 + 2 * n;
    }
    Ok(name)
}

/// Parse the template definition at chunk offset `def` (24-byte header: next-offset u32,
/// GUID [16], body size u32; then the body: fragment header + element tokens, MS-EVEN6 2.2.12).
/// `prefix` is the path of the element a nested template is substituted into.
fn parse_template(d: &[u8], def: usize, prefix: &str) -> Result<Template, String> {
    let size = rd_u32(d, def + 20)? as usize;
    let mut p = def + 24;
    let end = p + size;
    if end > d.len() {
        return Err("template body out of bounds".into());
    }
    let mut elems: Vec<TElem> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut in_attr = false; // between an Attribute token and CloseStartElement/CloseEmpty
    let push = |elems: &mut Vec<TElem>, stack: &[usize], in_attr: bool, s: Site| {
        if let Some(&top) = stack.last() {
            match (in_attr, elems[top].attrs.last_mut()) {
                (true, Some(a)) => a.sites.push(s),
                _ => elems[top].text.push(s),
            }
        }
    };
    while p < end {
        let tok = *d.get(p).ok_or("template token out of bounds")?;
        p += 1;
        match tok {
            0x00 => break,  // EndOfStream
            0x0f => p += 3, // FragmentHeader: major, minor, flags
            0x01 | 0x41 => {
                // OpenStartElement (0x41: has attributes)
                let dep = rd_u16(d, p)?; // DependencyId (template definitions only)
                p += 2 + 4; // + data size u32
                let name = name_ref(d, &mut p)?;
                if tok == 0x41 {
                    p += 4; // attribute list size
                }
                let parent = stack.last().copied();
                let path: Rc<str> = match parent {
                    Some(pi) => format!("{}/{}", elems[pi].path, name).into(),
                    None if prefix.is_empty() => name.into(),
                    None => format!("{prefix}/{name}").into(),
                };
                if let Some(pi) = parent {
                    elems[pi].has_child = true;
                }
                let text_f = classify(&path, None);
                let label = (text_f == F::UserData).then(|| Rc::from(&path["Event/".len()..]));
                elems.push(TElem {
                    path,
                    parent,
                    dep: (dep != 0xffff).then_some(dep),
                    attrs: Vec::new(),
                    text: Vec::new(),
                    text_f,
                    label,
                    has_child: false,
                });
                stack.push(elems.len() - 1);
                in_attr = false;
            }
            0x02 => in_attr = false, // CloseStartElement
            0x03 | 0x04 => {
                // CloseEmptyElement / EndElement
                stack.pop();
                in_attr = false;
            }
            0x06 | 0x46 => {
                // Attribute
                let name = name_ref(d, &mut p)?;
                let top = *stack.last().ok_or("attribute outside element")?;
                let path = &elems[top].path;
                let f = classify(path, Some(&name));
                let label =
                    (f == F::UserData).then(|| Rc::from(format!("{}[@{name}]", &path["Event/".len()..])));
                elems[top].attrs.push(TAttr { f, label, sites: Vec::new() });
                in_attr = true;
            }
            0x05 | 0x45 => {
                // Value (literal); templates use UTF-16 strings
                let ty = *d.get(p).ok_or("value type out of bounds")?;
                p += 1;
                if ty != 0x01 {
                    return Err(format!("literal value of type {ty:#x} in template"));
                }
                let n = rd_u16(d, p)? as usize;
                let s = utf16(d, p + 2, n)?;
                p += 2 + 2 * n;
                push(&mut elems, &stack, in_attr, Site::Lit(s.into()));
            }
            0x0d | 0x0e => {
                // Normal / Optional substitution: id u16, type u8
                let id = rd_u16(d, p)?;
                p += 3;
                push(&mut elems, &stack, in_attr, Site::Sub(id));
            }
            0x07 | 0x47 => {
                // CDATA section
                let n = rd_u16(d, p)? as usize;
                let s = utf16(d, p + 2, n)?;
                p += 2 + 2 * n;
                push(&mut elems, &stack, in_attr, Site::Lit(s.into()));
            }
            0x08 | 0x48 => {
                // Character reference
                let c = rd_u16(d, p)?;
                p += 2;
                let s: String = char::decode_utf16([c]).map(|r| r.unwrap_or('\u{fffd}')).collect();
                push(&mut elems, &stack, in_attr, Site::Lit(s.into()));
            }
            0x09 | 0x49 => {
                // Entity reference
                let name = name_ref(d, &mut p)?;
                let s = match name.as_str() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => return Err(format!("entity &{name};")),
                };
                push(&mut elems, &stack, in_attr, Site::Lit(s.into()));
            }
            0x0a => {
                // PI target
                name_ref(d, &mut p)?;
            }
            0x0b => {
                // PI data
                let n = rd_u16(d, p)? as usize;
                p += 2 + 2 * n;
            }
            0x0c => return Err("template instance inside template definition".into()),
            t => return Err(format!("unknown token {t:#x} at {}", p - 1)),
        }
    }
    let peek = PeekPlan::of(&elems);
    Ok(Template { elems, peek, fixed_names: Default::default() })
}

// ----------------------------------------------------------------------------------------------
// Value helpers
// ----------------------------------------------------------------------------------------------

/// Text of a value as the crate renders it (strings decoded, not escaped).
pub(crate) fn value_text(v: &BinXmlValue<'_>) -> String {
    match v {
        BinXmlValue::NullType => String::new(),
        BinXmlValue::StringType(s) => {
            s.to_string().unwrap_or_else(|_| String::from_utf16_lossy(&utf16_units(s.as_bytes())))
        }
        BinXmlValue::AnsiStringType(s) => (*s).to_string(),
        // Numbers, GUIDs ({lower-case}), SIDs, FILETIME/SYSTEMTIME (7 digits), hex ints, binary
        // (upper hex): the crate's Display is its JSON text form, which for these is plain text.
        other => other.to_string(),
    }
}

fn value_u64(v: &BinXmlValue<'_>) -> Option<u64> {
    Some(match *v {
        BinXmlValue::UInt8Type(x) => x as u64,
        BinXmlValue::UInt16Type(x) => x as u64,
        BinXmlValue::UInt32Type(x) => x as u64,
        BinXmlValue::UInt64Type(x) => x,
        BinXmlValue::Int8Type(x) => x as u64,
        BinXmlValue::Int16Type(x) => x as u64,
        BinXmlValue::Int32Type(x) => x as u64,
        BinXmlValue::Int64Type(x) => x as u64,
        BinXmlValue::HexInt32Type(x) => x as u64,
        BinXmlValue::HexInt64Type(x) => x,
        BinXmlValue::SizeTType(x) => x as u64,
        _ => return None,
    })
}

fn parse_u64(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// A resolved element text/attribute: absent (NULL / no content), one typed value, or text.
enum Resolved<'a> {
    Absent,
    One(BinXmlValue<'a>),
    Text(String),
}

impl Resolved<'_> {
    fn text(&self) -> Option<String> {
        match self {
            Resolved::Absent => None,
            Resolved::One(v) => Some(value_text(v)),
            Resolved::Text(s) => Some(s.clone()),
        }
    }
    fn num(&self) -> Option<u64> {
        match self {
            Resolved::Absent => None,
            Resolved::One(v) => value_u64(v).or_else(|| parse_u64(&value_text(v))),
            Resolved::Text(s) => parse_u64(s),
        }
    }
}

fn resolve<'a>(sites: &[Site], vals: &[BinXmlValue<'a>]) -> Resolved<'a> {
    match sites {
        [] => Resolved::Absent,
        [Site::Sub(i)] => match vals.get(*i as usize) {
            None | Some(BinXmlValue::NullType) => Resolved::Absent,
            Some(v) => Resolved::One(v.clone()),
        },
        [Site::Lit(l)] => Resolved::Text(l.to_string()),
        _ => {
            let mut s = String::new();
            for site in sites {
                match site {
                    Site::Lit(l) => s.push_str(l),
                    Site::Sub(i) => {
                        if let Some(v) = vals.get(*i as usize) {
                            s.push_str(&value_text(v))
                        }
                    }
                }
            }
            Resolved::Text(s)
        }
    }
}

/// Items of an array value (Windows writes one element per item).
fn array_items(v: &BinXmlValue<'_>) -> Option<Vec<String>> {
    fn all<T: ToString>(a: &[T]) -> Vec<String> {
        a.iter().map(|x| x.to_string()).collect()
    }
    Some(match v {
        BinXmlValue::StringArrayType(items) => items
            .iter()
            .map(|s| s.to_string().unwrap_or_else(|_| String::from_utf16_lossy(&utf16_units(s.as_bytes()))))
            .collect(),
        BinXmlValue::AnsiStringArrayType(items) => all(items),
        BinXmlValue::Int8ArrayType(a) => all(a),
        BinXmlValue::UInt8ArrayType(a) => all(a),
        BinXmlValue::Int16ArrayType(a) => all(a),
        BinXmlValue::UInt16ArrayType(a) => all(a),
        BinXmlValue::Int32ArrayType(a) => all(a),
        BinXmlValue::UInt32ArrayType(a) => all(a),
        BinXmlValue::Int64ArrayType(a) => all(a),
        BinXmlValue::UInt64ArrayType(a) => all(a),
        BinXmlValue::HexInt32ArrayType(a) => a.iter().map(|x| format!("{x:#x}")).collect(),
        BinXmlValue::HexInt64ArrayType(a) => a.iter().map(|x| format!("{x:#x}")).collect(),
        // Remaining array kinds (GUID/SID/FILETIME/...): render each item through the crate.
        BinXmlValue::GuidArrayType(a) => a.iter().map(|g| BinXmlValue::GuidType(*g).to_string()).collect(),
        BinXmlValue::SidArrayType(a) => all(a),
        BinXmlValue::FileTimeArrayType(a) => {
            a.iter().map(|t| BinXmlValue::FileTimeType(*t).to_string()).collect()
        }
        _ => return None,
    })
}

// ----------------------------------------------------------------------------------------------
// Extraction
// ----------------------------------------------------------------------------------------------

/// A template definition parsed for the element path it is substituted into.
type PrefixedTemplate = (Rc<str>, Rc<Template>);

/// Per-chunk cache of parsed template definitions. Template offsets are chunk-relative, so
/// create one per `EvtxChunk` (never share across chunks).
#[derive(Default)]
pub(crate) struct TemplateCache {
    /// def offset -> [(prefix, parsed)] (a definition is nearly always used under one prefix).
    map: hashbrown::HashMap<u32, Vec<PrefixedTemplate>>,
    /// Scratch "element left out" flags, reused across records.
    skipped: Vec<bool>,
}

/// Extract the fields of one record. Takes the record by value because it temporarily re-points
/// `binxml_offset/binxml_size` at nested BinXML values. `Err` means "shape not handled here"
/// (caller may fall back to `record.into_xml()` / `into_json_value()`).
pub(crate) fn extract_record(
    mut record: EvtxRecord<'_>,
    cache: &mut TemplateCache,
) -> Result<EventFields, String> {
    let ts = record.timestamp; // jiff::Timestamp (ns precision) from the record header FILETIME
    let header_filetime =
        ((ts.as_second() + 11_644_473_600) as u64) * 10_000_000 + (ts.subsec_nanosecond() as u64) / 100;
    let mut out = EventFields { record_id: record.event_record_id, header_filetime, ..Default::default() };
    let data: &[u8] = record.chunk.data;
    let instances = record.template_instances().map_err(|e| e.to_string())?;
    let [inst] = instances.as_slice() else {
        return Err(format!("record has {} top-level template instances", instances.len()));
    };
    let (orig_off, orig_size) = (record.binxml_offset, record.binxml_size);
    let r = walk_instance(&mut record, data, inst.template_def_offset, &inst.values, "", cache, &mut out, 0);
    record.binxml_offset = orig_off;
    record.binxml_size = orig_size;
    r.map(|()| out)
}

/// What the top-level template says about a record's `System` section: enough
/// to decide whether to keep it, and to count it if not.
#[derive(Debug, Default)]
pub(crate) struct Peek {
    pub provider: Option<Name>,
    pub event_id: Option<u64>,
    pub time_created: Option<u64>,
    pub channel: Option<Name>,
    pub computer: Option<Name>,
}

/// Interned text of a site list, without building a `String` for the
/// common cases (a literal, or one UTF-16 substitution).
fn intern_sites(sites: &[Site], vals: &[BinXmlValue<'_>], interner: &mut Interner) -> Option<Name> {
    match sites {
        [Site::Lit(l)] => Some(interner.name(l)),
        [Site::Sub(i)] => match vals.get(*i as usize) {
            None | Some(BinXmlValue::NullType) => None,
            Some(BinXmlValue::StringType(s)) => Some(interner.name_utf16(s.as_bytes())),
            Some(v) => Some(interner.name(&value_text(v))),
        },
        _ => resolve(sites, vals).text().map(|t| interner.name(&t)),
    }
}

/// A substitution value as stored: its type and bytes.
type RawValue<'a> = (u8, &'a [u8]);

/// The substitution values of a record's top-level template instance, read
/// straight from the chunk (MS-EVEN6 2.2.12), without copying: the value
/// descriptors (size u16, type u8, pad) followed by the values.
struct RawValues<'a> {
    data: &'a [u8],
    descriptors: usize,
    count: usize,
    /// Where the first values start, so reading one does not sum the
    /// lengths before it (a `System` template has about twenty).
    starts: [usize; INDEXED_VALUES],
}

const INDEXED_VALUES: usize = 32;

impl<'a> RawValues<'a> {
    /// Value `i`'s type and bytes. Every value is known to lie inside the
    /// record (checked by [`raw_instance`]).
    fn get(&self, i: usize) -> Option<RawValue<'a>> {
        if i >= self.count {
            return None;
        }
        let from = i.min(INDEXED_VALUES - 1);
        let mut p = self.starts[from];
        for k in from..i {
            p += rd_u16(self.data, self.descriptors + 4 * k).ok()? as usize;
        }
        let d = self.descriptors + 4 * i;
        let len = rd_u16(self.data, d).ok()? as usize;
        Some((*self.data.get(d + 2)?, self.data.get(p..p + len)?))
    }
}

/// The definition offset and values of a record's top-level template
/// instance; `None` for any other shape or when a value would run past the
/// record.
fn raw_instance(data: &[u8], offset: usize, size: usize) -> Option<(u32, RawValues<'_>)> {
    let d = data.get(..offset.checked_add(size)?)?;
    let mut p = offset;
    if *d.get(p)? == 0x0f {
        p += 4; // fragment header: token, major, minor, flags
    }
    if *d.get(p)? != 0x0c {
        return None;
    }
    p += 2; // token, unknown byte
    p += 4; // template id
    let def_offset = rd_u32(d, p).ok()? as usize;
    p += 4;
    if def_offset == p {
        // The definition is inline here (its first use in the chunk): skip it.
        let body = rd_u32(d, p + 20).ok()? as usize;
        p = p.checked_add(24 + body)?;
    }
    let count = rd_u32(d, p).ok()? as usize;
    p += 4;
    if count > 4096 {
        return None;
    }
    let descriptors = p;
    let values = descriptors.checked_add(4 * count)?;
    let mut end = values;
    let mut starts = [0; INDEXED_VALUES];
    for k in 0..count {
        if let Some(start) = starts.get_mut(k) {
            *start = end;
        }
        end += rd_u16(d, descriptors + 4 * k).ok()? as usize;
    }
    if end > d.len() {
        return None;
    }
    Some((u32::try_from(def_offset).ok()?, RawValues { data: d, descriptors, count, starts }))
}

/// A raw value as interned text (strings) or `None` (null, or another type).
fn raw_text(value: Option<&RawValue<'_>>, interner: &mut Interner) -> Option<Name> {
    match value? {
        (0x00, _) => None,
        (0x01, bytes) => {
            let mut b = *bytes;
            while let [rest @ .., 0, 0] = b {
                b = rest;
            }
            Some(interner.name_utf16(b))
        }
        (0x02, bytes) => Some(interner.name(&String::from_utf8_lossy(bytes))),
        _ => None,
    }
}

/// A raw value as an unsigned number (any integer type).
fn raw_num(value: Option<&RawValue<'_>>) -> Option<u64> {
    let (ty, b) = value?;
    let le = |n: usize| -> Option<u64> {
        let bytes = b.get(..n)?;
        let mut buf = [0u8; 8];
        buf[..n].copy_from_slice(bytes);
        Some(u64::from_le_bytes(buf))
    };
    match ty {
        0x03 | 0x04 => le(1),
        0x05 | 0x06 => le(2),
        0x07 | 0x08 | 0x14 => le(4),
        0x09 | 0x0a | 0x15 => le(8),
        _ => None,
    }
}

/// Cheap pre-filter: reads provider, event id, time, channel and computer
/// from the top-level template only, without walking EventData/UserData or
/// building any output. Uses the same per-chunk cache as [`extract_record`].
pub(crate) fn peek_system(
    record: &EvtxRecord<'_>,
    cache: &mut TemplateCache,
    interner: &mut Interner,
) -> Result<Peek, String> {
    let binxml = record.binxml_offset as usize..record.binxml_offset as usize + record.binxml_size as usize;
    match peek_raw(record.chunk.data, binxml, cache, interner) {
        Some(peek) => peek,
        None => peek_through_crate(record, cache, interner),
    }
}

/// [`peek_system`] from a chunk and a record's BinXML window alone; `None`
/// when the record is not a single template instance.
pub(crate) fn peek_raw(
    data: &[u8],
    binxml: std::ops::Range<usize>,
    cache: &mut TemplateCache,
    interner: &mut Interner,
) -> Option<Result<Peek, String>> {
    let (def_offset, raw) = raw_instance(data, binxml.start, binxml.len())?;
    let tpl = match cached_template(cache, data, def_offset) {
        Ok(t) => t,
        Err(e) => return Some(Err(e)),
    };
    // A lone substitution is read from the record; anything else (literals,
    // mixed text) is resolved from the template alone.
    let single = |pos: SitePos| match tpl.sites(pos) {
        [Site::Sub(i)] => Some(raw.get(*i as usize)),
        _ => None,
    };
    let text = |field: usize, pos: Option<SitePos>, interner: &mut Interner| {
        let pos = pos?;
        match single(pos) {
            Some(v) => raw_text(v.as_ref(), interner),
            None => {
                let mut fixed = tpl.fixed_names.get();
                if let Some(name) = fixed[field] {
                    return name;
                }
                let name = resolve(tpl.sites(pos), &[]).text().map(|t| interner.name(&t));
                fixed[field] = Some(name);
                tpl.fixed_names.set(fixed);
                name
            }
        }
    };
    let plan = &tpl.peek;
    let peek = Peek {
        event_id: plan.event_id.and_then(|pos| match single(pos) {
            Some(v) => raw_num(v.as_ref()),
            None => resolve(tpl.sites(pos), &[]).num(),
        }),
        time_created: plan.time.and_then(single).and_then(|v| match v {
            Some((0x11, b)) => raw_num(Some(&(0x0a, b))),
            _ => None,
        }),
        channel: text(0, plan.channel, interner),
        computer: text(1, plan.computer, interner),
        provider: text(2, plan.provider, interner),
    };
    Some(Ok(peek))
}

fn cached_template(cache: &mut TemplateCache, data: &[u8], def_offset: u32) -> Result<Rc<Template>, String> {
    let slot = cache.map.entry(def_offset).or_default();
    Ok(match slot.iter().find(|(p, _)| p.is_empty()) {
        Some((_, t)) => t.clone(),
        None => {
            let t = Rc::new(parse_template(data, def_offset as usize, "")?);
            slot.push(("".into(), t.clone()));
            t
        }
    })
}

/// [`peek_system`] through the crate's own value decoding, for shapes the
/// direct reader does not take.
fn peek_through_crate(
    record: &EvtxRecord<'_>,
    cache: &mut TemplateCache,
    interner: &mut Interner,
) -> Result<Peek, String> {
    let instances = record.template_instances().map_err(|e| e.to_string())?;
    let [inst] = instances.as_slice() else {
        return Err(format!("record has {} top-level template instances", instances.len()));
    };
    let tpl = cached_template(cache, record.chunk.data, inst.template_def_offset)?;
    let plan = &tpl.peek;
    let vals = &inst.values;
    let text = |pos: Option<SitePos>, interner: &mut Interner| intern_sites(tpl.sites(pos?), vals, interner);
    let peek = Peek {
        event_id: plan.event_id.and_then(|pos| resolve(tpl.sites(pos), vals).num()),
        time_created: plan.time.and_then(|pos| match resolve(tpl.sites(pos), vals) {
            Resolved::One(BinXmlValue::FileTimeType(ft)) => Some(ft.0),
            _ => None,
        }),
        channel: text(plan.channel, interner),
        computer: text(plan.computer, interner),
        provider: text(plan.provider, interner),
    };
    Ok(peek)
}

#[allow(clippy::too_many_arguments)]
fn walk_instance<'a>(
    record: &mut EvtxRecord<'a>,
    data: &'a [u8],
    def_offset: u32,
    vals: &[BinXmlValue<'a>],
    prefix: &str,
    cache: &mut TemplateCache,
    out: &mut EventFields,
    depth: usize,
) -> Result<(), String> {
    if depth > 8 {
        return Err("BinXML nesting too deep".into());
    }
    let slot = cache.map.entry(def_offset).or_default();
    let tpl = match slot.iter().find(|(p, _)| &**p == prefix) {
        Some((_, t)) => t.clone(),
        None => {
            let t = Rc::new(parse_template(data, def_offset as usize, prefix)?);
            slot.push((prefix.into(), t.clone()));
            t
        }
    };
    let mut skipped = std::mem::take(&mut cache.skipped);
    skipped.clear();
    skipped.resize(tpl.elems.len(), false);
    let r = walk_elems(record, data, &tpl, vals, cache, out, depth, &mut skipped);
    cache.skipped = skipped;
    r
}

fn set_field(out: &mut EventFields, f: F, v: &Resolved<'_>) {
    match f {
        F::ProviderName => out.provider_name = v.text(),
        F::ProviderGuid => out.provider_guid = v.text(),
        F::EventSourceName => out.event_source_name = v.text(),
        F::EventId => out.event_id = v.num(),
        F::Qualifiers => out.qualifiers = v.num(),
        F::Version => out.version = v.num(),
        F::Level => out.level = v.num(),
        F::Task => out.task = v.num(),
        F::Opcode => out.opcode = v.num(),
        F::Keywords => out.keywords = v.num(),
        F::SystemTime => match v {
            Resolved::One(BinXmlValue::FileTimeType(ft)) => out.time_created = Some(ft.0),
            other => out.time_created_text = other.text(), // SYSTEMTIME / literal: keep text
        },
        F::EventRecordId => out.event_record_id = v.num(),
        F::ActivityId => out.activity_id = v.text(),
        F::RelatedActivityId => out.related_activity_id = v.text(),
        F::ProcessId => out.process_id = v.num(),
        F::ThreadId => out.thread_id = v.num(),
        F::Channel => out.channel = v.text(),
        F::Computer => out.computer = v.text(),
        F::UserId => out.user_id = v.text(),
        F::Binary => out.binary = v.text(),
        F::Ignore | F::DataName | F::Data | F::UserData => {}
    }
}

#[allow(clippy::too_many_arguments)]
fn walk_elems<'a>(
    record: &mut EvtxRecord<'a>,
    data: &'a [u8],
    tpl: &Template,
    vals: &[BinXmlValue<'a>],
    cache: &mut TemplateCache,
    out: &mut EventFields,
    depth: usize,
    skipped: &mut [bool],
) -> Result<(), String> {
    for (ei, el) in tpl.elems.iter().enumerate() {
        // MS-EVEN6 2.2.12 (and the crate): an element whose DependencyId names a NULL value is
        // left out with its subtree; a template's root is always kept; a dependency past the
        // values counts as none.
        let dep_null = el.parent.is_some()
            && el.dep.is_some_and(|d| matches!(vals.get(d as usize), Some(BinXmlValue::NullType)));
        if dep_null || el.parent.is_some_and(|p| skipped[p]) {
            skipped[ei] = true;
            continue;
        }
        let mut data_name: Option<String> = None;
        for a in &el.attrs {
            if a.f == F::Ignore {
                continue;
            }
            let v = resolve(&a.sites, vals);
            match a.f {
                F::DataName => data_name = v.text(),
                F::UserData => {
                    if let (Some(t), Some(l)) = (v.text(), &a.label) {
                        out.user_data.push((l.to_string(), t));
                    }
                }
                f => set_field(out, f, &v),
            }
        }
        // Text that is a single substitution holding nested BinXML (EventData/UserData
        // fragments): decode the nested TemplateInstance through the crate, then recurse.
        if let [Site::Sub(i)] = el.text.as_slice()
            && let Some(BinXmlValue::BinXmlType(bytes)) = vals.get(*i as usize)
        {
            if bytes.is_empty() {
                continue;
            }
            let off = (bytes.as_ptr() as usize)
                .checked_sub(data.as_ptr() as usize)
                .filter(|o| o + bytes.len() <= data.len())
                .ok_or("nested BinXML not inside chunk")?;
            record.binxml_offset = off as u64;
            record.binxml_size = bytes.len() as u32;
            let nested = record.template_instances().map_err(|e| e.to_string())?;
            let [ni] = nested.as_slice() else {
                return Err(format!("nested BinXML with {} template instances", nested.len()));
            };
            walk_instance(record, data, ni.template_def_offset, &ni.values, &el.path, cache, out, depth + 1)?;
            continue;
        }
        if el.has_child || el.text_f == F::Ignore {
            continue;
        }
        // Array substitution: Windows repeats the element once per item (MS-EVEN6 3.1.4.7.5);
        // an empty array still renders one empty element (as the crate does).
        if let [Site::Sub(i)] = el.text.as_slice()
            && let Some(items) = vals.get(*i as usize).and_then(array_items)
            && matches!(el.text_f, F::Data | F::UserData)
        {
            let items = if items.is_empty() { vec![String::new()] } else { items };
            for it in items {
                match &el.label {
                    Some(l) => out.user_data.push((l.to_string(), it)),
                    None => out.event_data.push((data_name.clone(), it)),
                }
            }
            continue;
        }
        let v = resolve(&el.text, vals);
        match el.text_f {
            F::Data => out.event_data.push((data_name, v.text().unwrap_or_default())),
            F::UserData => {
                if let (Some(t), Some(l)) = (v.text(), &el.label) {
                    out.user_data.push((l.to_string(), t));
                }
            }
            f => set_field(out, f, &v),
        }
    }
    Ok(())
}

/// Header CRC32 of a chunk: CRC32 over bytes 0..120 and 128..512.
pub(crate) fn chunk_header_crc(chunk: &[u8]) -> u32 {
    let mut buf = Vec::with_capacity(504);
    buf.extend_from_slice(&chunk[..120]);
    buf.extend_from_slice(&chunk[128..512]);
    evtx::checksum_ieee(&buf)
}

/// "outer: inner: innermost" for evtx's nested errors (their Display only shows the outer one).
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_values_are_found_past_the_indexed_ones() {
        // A template instance (token 0x0c, its definition elsewhere) with
        // more values than `RawValues` indexes; value k is k%5+1 bytes of k.
        let count = INDEXED_VALUES + 8;
        let mut d = vec![0x0c, 0x01];
        d.extend(7u32.to_le_bytes());
        d.extend(0x200u32.to_le_bytes());
        d.extend((count as u32).to_le_bytes());
        let len = |k: usize| k % 5 + 1;
        for k in 0..count {
            d.extend((len(k) as u16).to_le_bytes());
            d.extend([(k % 3) as u8, 0]);
        }
        for k in 0..count {
            d.extend(std::iter::repeat_n(k as u8, len(k)));
        }
        let (def, values) = raw_instance(&d, 0, d.len()).expect("an instance");
        assert_eq!(def, 0x200);
        for k in 0..count {
            let want = vec![k as u8; len(k)];
            assert_eq!(values.get(k), Some(((k % 3) as u8, want.as_slice())), "value {k}");
        }
        assert_eq!(values.get(count), None);
        // One byte short: the last value would run past the record.
        assert!(raw_instance(&d, 0, d.len() - 1).is_none());
    }
}
