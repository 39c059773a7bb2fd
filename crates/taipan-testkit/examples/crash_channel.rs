//! Writes the channel `bench/crash_sweep.py` kills transactions on: `crash_channel DIR SCALE`.
//! Large packages so commands take seconds: `big-a` in two versions (replacing each
//! other's files), `big-b` depending on it, `dirlink` (`lib64 -> lib`) and `below` writing
//! through it, `scripted` with a post-link script. SCALE multiplies the file counts.

use taipan_testkit::{ArchiveFormat, ChannelBuilder, PackageBuilder};

fn big(name: &str, version: &str, files: usize) -> PackageBuilder {
    let mut pkg = PackageBuilder::new(name, version);
    for f in 0..files {
        let size = 512 + (f * 104_729) % (8 * 1024);
        let path = format!("share/{name}/{}/f{f:05}.txt", f % 50);
        if f % 20 == 0 {
            pkg = pkg.text_prefix_file(
                &path,
                &format!("prefix=@PREFIX@ {version}\n{}", "x".repeat(size)),
            );
        } else {
            pkg = pkg.file(
                &path,
                format!("{name} {version} {f}\n").repeat(size / 16 + 1),
            );
        }
    }
    pkg.file(
        &format!("lib/lib{name}.so.1"),
        format!("{name} {version}\n"),
    )
    .symlink(&format!("lib/lib{name}.so"), &format!("lib{name}.so.1"))
    .file(
        &format!("share/{name}/common.txt"),
        format!("{name} {version}\n"),
    )
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, scale] = args.as_slice() else {
        anyhow::bail!("usage: crash_channel DIR SCALE");
    };
    let scale: usize = scale.parse()?;
    let mut channel = ChannelBuilder::new(std::path::Path::new(dir));
    for version in ["1.0", "2.0"] {
        channel.add(&big("big-a", version, 4000 * scale), ArchiveFormat::Conda);
    }
    channel.add(
        &big("big-b", "1.0", 3000 * scale).depends("big-a"),
        ArchiveFormat::TarBz2,
    );
    channel.add(
        &PackageBuilder::new("dirlink", "1.0")
            .symlink("lib64", "lib")
            .file("lib/dirlink.txt", "d\n"),
        ArchiveFormat::Conda,
    );
    channel.add(
        &big("below", "1.0", 500 * scale)
            .depends("dirlink")
            .file("lib64/below.txt", "below\n"),
        ArchiveFormat::Conda,
    );
    channel.add(
        &PackageBuilder::new("scripted", "1.0")
            .depends("big-a")
            .file("share/scripted.txt", "s\n")
            .post_link("sleep 0.2\necho scripted >> \"$PREFIX/.messages.txt\"\n"),
        ArchiveFormat::Conda,
    );
    channel.index()?;
    println!("{}", channel.url());
    Ok(())
}
