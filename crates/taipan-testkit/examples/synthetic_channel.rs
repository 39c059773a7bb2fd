//! Writes a synthetic channel for benchmarks: `synthetic_channel DIR PACKAGES FILES_PER_PACKAGE`.
//! Package `pkg-NNN` depends on `pkg-(NNN-1)`, so one spec pulls the whole chain; files have
//! sizes between 1 and 16 KiB, a tenth of them carry a text prefix placeholder.

use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, packages, files] = args.as_slice() else {
        anyhow::bail!("usage: synthetic_channel DIR PACKAGES FILES_PER_PACKAGE");
    };
    let packages: usize = packages.parse()?;
    let files: usize = files.parse()?;
    let mut channel = ChannelBuilder::new(std::path::Path::new(dir));
    for i in 0..packages {
        let mut pkg = PackageBuilder::new(&format!("pkg-{i:03}"), "1.0").noarch_generic();
        if i > 0 {
            pkg = pkg.depends(&format!("pkg-{:03}", i - 1));
        }
        for f in 0..files {
            let size = 1024 + (i * 7919 + f * 104_729) % (15 * 1024);
            let path = format!("share/pkg-{i:03}/f{f:03}.txt");
            if f % 10 == 0 {
                let text = format!("prefix=@PREFIX@\n{}", "x".repeat(size));
                pkg = pkg.text_prefix_file(&path, &text);
            } else {
                pkg = pkg.file(&path, vec![b'a' + (f % 26) as u8; size]);
            }
        }
        channel.add(&pkg, ArchiveFormat::Conda);
    }
    channel.index()?;
    println!("{}", channel.url());
    Ok(())
}
