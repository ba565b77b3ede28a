//! The `flowactor` binary: everything lives in the library.

/// glibc's allocator spends a large share of a run's time consolidating freed chunks (sled copies
/// tree nodes on write, responses build and drop JSON); mimalloc's per-thread free lists do not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    flowactor::cli::main()
}
