use clap::Parser;

fn main() {
    let cli = loadgen::cli::Cli::parse();
    if let Err(e) = loadgen::cli::dispatch(cli) {
        eprintln!("loadgen: {e}");
        std::process::exit(1);
    }
}
