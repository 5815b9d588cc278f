//! Mapped files that shrink under us.
//!
//! Reading a mapped page beyond a file's end raises SIGBUS, which kills the
//! process. Evidence folders are usually quiet copies, but a log still being
//! rotated, or a copy still being made, can be truncated while faultline has
//! it mapped. Each mapping is registered here; a SIGBUS handler that finds
//! the faulting address inside a registered mapping maps zero-filled pages
//! over the rest of it, marks it cut, and returns, so the read completes
//! with zeros instead of killing the process. The reader then sees the mark
//! and reads the file again with `read`, which sees its new length.
//!
//! The registry is a fixed table of atomics: a signal handler may not take
//! locks or allocate. Faults outside registered mappings go to the handler
//! that was installed before (Rust's own stack-overflow handler, or the
//! default action).

use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Mappings guarded at once; more are read instead of mapped.
const SLOTS: usize = 256;
/// A slot being filled in: not yet a mapping the handler may act on.
const CLAIMED: usize = usize::MAX;

struct Slot {
    start: AtomicUsize,
    len: AtomicUsize,
    cut: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)] // the array initialiser
const FREE: Slot = Slot { start: AtomicUsize::new(0), len: AtomicUsize::new(0), cut: AtomicBool::new(false) };
static REGISTRY: [Slot; SLOTS] = [FREE; SLOTS];

/// The handler that was in place before ours, called for faults that are
/// not ours.
static mut PREVIOUS: Option<libc::sigaction> = None;
static INSTALL: Once = Once::new();
static INSTALLED: AtomicBool = AtomicBool::new(false);

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).ok().filter(|s| s.is_power_of_two()).unwrap_or(4096)
}

extern "C" fn on_sigbus(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let address = unsafe { (*info).si_addr() } as usize;
    for slot in &REGISTRY {
        let start = slot.start.load(Ordering::Acquire);
        let len = slot.len.load(Ordering::Acquire);
        if start == 0 || start == CLAIMED || address.wrapping_sub(start) >= len {
            continue;
        }
        let page = address & !(page_size() - 1);
        // SAFETY: the range lies inside a live read-only mapping we own (it
        // is deregistered before it is unmapped); replacing its pages with
        // anonymous zero pages keeps every address valid. mmap is a plain
        // system call, safe to make from a signal handler.
        let mapped = unsafe {
            libc::mmap(
                page as *mut libc::c_void,
                start + len - page,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if mapped != libc::MAP_FAILED {
            slot.cut.store(true, Ordering::Release);
            return;
        }
    }
    // Not ours: hand it to the previous handler, or let the default action
    // (terminate) happen when the faulting access is retried.
    // SAFETY: PREVIOUS is written once, before the handler is installed.
    let previous = unsafe { (*std::ptr::addr_of!(PREVIOUS)).as_ref() };
    match previous {
        Some(p) if p.sa_sigaction != libc::SIG_DFL && p.sa_sigaction != libc::SIG_IGN => {
            if p.sa_flags & libc::SA_SIGINFO != 0 {
                // SAFETY: a handler installed with SA_SIGINFO has this signature.
                let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    unsafe { std::mem::transmute(p.sa_sigaction) };
                handler(signal, info, context);
            } else {
                // SAFETY: a handler installed without SA_SIGINFO takes the signal number.
                let handler: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(p.sa_sigaction) };
                handler(signal);
            }
        }
        _ => {
            // SAFETY: resetting a disposition is async-signal-safe.
            unsafe { libc::signal(signal, libc::SIG_DFL) };
        }
    }
}

fn install() -> bool {
    INSTALL.call_once(|| {
        // SAFETY: sigaction with a zeroed struct, our handler and an empty
        // mask; the previous action is stored before ours can run.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = on_sigbus as *const () as usize;
            new.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
            libc::sigemptyset(&mut new.sa_mask);
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old) != 0 {
                return;
            }
            *std::ptr::addr_of_mut!(PREVIOUS) = Some(old);
            if libc::sigaction(libc::SIGBUS, &new, std::ptr::null_mut()) == 0 {
                INSTALLED.store(true, Ordering::Release);
            }
        }
    });
    INSTALLED.load(Ordering::Acquire)
}

/// A registered mapping; deregistered when dropped (before the unmap).
#[derive(Debug)]
pub(crate) struct Guard {
    slot: usize,
}

impl Guard {
    /// Registers `len` bytes at `start`, or `None` when no guard can be
    /// had (the handler could not be installed, or every slot is taken):
    /// the caller then reads the file instead of mapping it.
    pub(crate) fn register(start: *const u8, len: usize) -> Option<Guard> {
        if start.is_null() || len == 0 || !install() {
            return None;
        }
        for (i, slot) in REGISTRY.iter().enumerate() {
            if slot.start.compare_exchange(0, CLAIMED, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                slot.cut.store(false, Ordering::Release);
                slot.len.store(len, Ordering::Release);
                slot.start.store(start as usize, Ordering::Release);
                return Some(Guard { slot: i });
            }
        }
        None
    }

    /// Whether part of the mapping was replaced by zeros (the file shrank).
    pub(crate) fn was_cut(&self) -> bool {
        REGISTRY[self.slot].cut.load(Ordering::Acquire)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let slot = &REGISTRY[self.slot];
        slot.start.store(CLAIMED, Ordering::Release);
        slot.len.store(0, Ordering::Release);
        slot.start.store(0, Ordering::Release);
    }
}
