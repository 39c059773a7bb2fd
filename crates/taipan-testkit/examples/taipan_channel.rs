//! Writes the default distribution's local channel: `taipan_channel DIR BINARY [VERSION]`
//! (one linux-64 package, `taipan`, providing `bin/conda` and the activation files).

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(binary)) = (args.get(1), args.get(2)) else {
        anyhow::bail!("usage: taipan_channel DIR BINARY [VERSION]");
    };
    let version = args
        .get(3)
        .map(String::as_str)
        .unwrap_or(env!("CARGO_PKG_VERSION"));
    let pkg = taipan_testkit::distribution::taipan_package(std::path::Path::new(binary), version)?;
    let mut channel = taipan_testkit::ChannelBuilder::new(std::path::Path::new(dir));
    channel.add(&pkg, taipan_testkit::ArchiveFormat::Conda);
    channel.index()?;
    println!("{}", channel.url());
    Ok(())
}
