//! Writes the default distribution's local channel, for benchmarks that compare installers:
//! `taipan_channel DIR BINARY [VERSION]` (one linux-64 package, `taipan`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(binary)) = (args.get(1), args.get(2)) else {
        return Err("usage: taipan_channel DIR BINARY [VERSION]".into());
    };
    let version = args
        .get(3)
        .map(String::as_str)
        .unwrap_or(env!("CARGO_PKG_VERSION"));
    let dir = std::path::Path::new(dir);
    taipan_installer::default_dist::write_channel(dir, std::path::Path::new(binary), version)
        .map_err(|e| e.to_string())?;
    println!("file://{}", std::path::absolute(dir)?.display());
    Ok(())
}
