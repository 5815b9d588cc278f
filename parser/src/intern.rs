//! Interning of the strings a file repeats (provider names, channels,
//! event data values), so that millions of events share a few thousand
//! allocations.

use std::sync::Arc;

/// Interns the strings that repeat across a file's events: names, and the
/// values of event data.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    // Only looked up, never iterated: a fast hasher cannot change any output.
    // The key shares the text's allocation with `names`.
    strings: hashbrown::HashMap<Arc<str>, Name>,
    utf16: hashbrown::HashMap<Vec<u8>, Name>,
    names: Vec<Arc<str>>,
}

/// An interned string, by its place in its [`Interner`]: a hot loop can hold
/// and compare these without touching the strings' reference counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Name(u32);

impl Interner {
    pub(crate) fn get(&mut self, s: &str) -> Arc<str> {
        let name = self.name(s);
        Arc::clone(self.text(name))
    }

    /// Interns UTF-16LE text by its raw bytes, so a repeated value costs a
    /// lookup and no decoding.
    pub(crate) fn name_utf16(&mut self, bytes: &[u8]) -> Name {
        if let Some(&n) = self.utf16.get(bytes) {
            return n;
        }
        let units: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        let n = self.name(&String::from_utf16_lossy(&units));
        self.utf16.insert(bytes.to_vec(), n);
        n
    }

    /// [`Interner::get`], as a [`Name`].
    pub(crate) fn name(&mut self, s: &str) -> Name {
        if let Some(&n) = self.strings.get(s) {
            return n;
        }
        // More distinct strings than a u32 counts cannot fit in memory first.
        let n = Name(self.names.len() as u32);
        let text: Arc<str> = Arc::from(s);
        self.names.push(Arc::clone(&text));
        self.strings.insert(text, n);
        n
    }

    /// The text of a name this interner gave.
    pub(crate) fn text(&self, name: Name) -> &Arc<str> {
        &self.names[name.0 as usize]
    }
}
