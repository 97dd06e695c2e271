//! The process's heap: freed memory kept for the next run.
//!
//! A run allocates a few read buffers of up to 70 KB (a library's read size)
//! and payloads of up to a few hundred KB, and frees them at the end. glibc
//! returns the top of the heap to the kernel as soon as more than 128 KB is
//! free, so every run paid `brk` calls and page faults on fresh zeroed pages:
//! 30% of a fuzz execution and a third of a WebSocket property case, measured
//! with `perf` (BENCHMARKS.md). Raising the trim and mmap thresholds (what
//! `MALLOC_TRIM_THRESHOLD_` would do) removes that cost without touching what
//! the harness does. The fuzz targets ([`crate::fuzzing::init`]) and every
//! property check ([`crate::properties::check_drawn`]) call it.
//!
//! [`ReadBuffer`] goes further for the read buffers the harness itself
//! allocates in every run (its scripted peers' and applications'): their
//! allocations are kept on the thread for the next run.

mod read_buffer;

pub use read_buffer::ReadBuffer;

/// Sets glibc's trim and mmap thresholds so that freed memory stays in the
/// process: once per process, however often it is called. A no-op on other C
/// libraries.
pub fn keep_freed_memory() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(set_thresholds);
}

fn set_thresholds() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const M_TRIM_THRESHOLD: std::ffi::c_int = -1;
        const M_TOP_PAD: std::ffi::c_int = -2;
        const M_MMAP_THRESHOLD: std::ffi::c_int = -3;
        unsafe extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        // SAFETY: mallopt only changes glibc's allocator tunables, and any
        // value is memory-safe.
        unsafe {
            mallopt(M_TRIM_THRESHOLD, 1 << 30);
            mallopt(M_TOP_PAD, 16 << 20);
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
        }
    }
}
