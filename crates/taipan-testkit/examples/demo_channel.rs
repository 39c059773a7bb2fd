//! Writes a small demo channel (two versions of a library and an app) into the directory given
//! as the first argument, for `scripts/demo.sh`.

use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: demo_channel DIR"))?;
    let mut channel = ChannelBuilder::new(std::path::Path::new(&dir));
    for version in ["1.0", "1.1"] {
        channel.add(
            &PackageBuilder::new("libdemo", version)
                .subdir("linux-64")
                .text_prefix_file("etc/libdemo.conf", "installed_in=@PREFIX@\n"),
            ArchiveFormat::Conda,
        );
        channel.add(
            &PackageBuilder::new("demo-app", version)
                .noarch_generic()
                .depends(&format!("libdemo >={version}"))
                .executable("bin/demo-app", "#!/bin/sh\necho demo-app running\n"),
            ArchiveFormat::TarBz2,
        );
    }
    channel.index()?;
    println!("{}", channel.url());
    Ok(())
}
