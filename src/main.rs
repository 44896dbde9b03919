//! The `onrecord` binary: parse arguments, run the command, turn the outcome into an exit code.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod cli;
mod cmd;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Ctrl-C or SIGTERM while writing: remove our temporary files, then exit as killed.
    let _ = ctrlc::set_handler(|| {
        onrecord::outputs::remove_temporaries();
        std::process::exit(130);
    });
    let config = match cli::parse() {
        Ok(config) => config,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    match cmd::run(&config) {
        Ok(outcome) => ExitCode::from(outcome as u8),
        // The reader of our output went away (`| head`): nothing is left to tell it.
        Err(err)
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("onrecord: error: {err:#}");
            ExitCode::from(cmd::Outcome::BadInput as u8)
        }
    }
}
