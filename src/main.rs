//! The `flowactor` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    flowactor::cli::main()
}
