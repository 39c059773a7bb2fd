//! conda's dist string, `channel/subdir::name-version-build`: how history, plans and
//! revision listings name an installed package. Written and read here only.

use rattler_conda_types::RepoDataRecord;

/// A package as conda's history names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dist {
    /// The channel's canonical name (`conda-forge`, `pkgs/main`, or a URL).
    pub channel: String,
    /// The platform (`linux-64`, `noarch`).
    pub subdir: String,
    /// The package name.
    pub name: String,
    /// The version.
    pub version: String,
    /// The build string.
    pub build: String,
}

impl Dist {
    /// The dist of a record.
    pub fn of(record: &RepoDataRecord) -> Self {
        let r = &record.package_record;
        Self {
            channel: channel_name(record),
            subdir: r.subdir.clone(),
            name: r.name.as_normalized().to_string(),
            version: r.version.to_string(),
            build: r.build.to_string(),
        }
    }

    /// Reads a dist string; the parts it lacks are empty (old histories write just
    /// `name-version-build`).
    pub fn parse(text: &str) -> Self {
        let (channel_subdir, nvb) = text.rsplit_once("::").unwrap_or(("", text));
        let (channel, subdir) = channel_subdir
            .rsplit_once('/')
            .unwrap_or((channel_subdir, ""));
        let mut parts = nvb.rsplitn(3, '-');
        let build = parts.next().unwrap_or_default().to_string();
        let version = parts.next().unwrap_or_default().to_string();
        let name = parts.next().unwrap_or_default().to_string();
        Self {
            channel: channel.to_string(),
            subdir: subdir.to_string(),
            name,
            version,
            build,
        }
    }

    /// `name-version`, with ` (channel)` unless it comes from Anaconda's `pkgs/…` channels,
    /// as `conda list --revisions` shows a package.
    pub fn short(&self) -> String {
        format!("{}-{}{}", self.name, self.version, self.channel_note())
    }

    /// The version, with ` (channel)` as in [`Dist::short`].
    pub fn version_with_channel(&self) -> String {
        format!("{}{}", self.version, self.channel_note())
    }

    fn channel_note(&self) -> String {
        // conda hides `defaults`; histories written before taipan knew canonical names
        // say `pkgs/main`.
        if self.channel.is_empty()
            || self.channel == "defaults"
            || self.channel.starts_with("pkgs/")
        {
            String::new()
        } else {
            format!(" ({})", self.channel)
        }
    }
}

impl std::fmt::Display for Dist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}::{}-{}-{}",
            self.channel, self.subdir, self.name, self.version, self.build
        )
    }
}

/// The channel's canonical name for a record (`defaults`, `conda-forge`, the URL of a local
/// channel): see [`crate::naming`].
pub fn channel_name(record: &RepoDataRecord) -> String {
    crate::naming::canonical_name(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let text = "conda-forge/linux-64::python-dateutil-2.9.0-pyhd8ed1ab_0";
        let d = Dist::parse(text);
        assert_eq!(d.channel, "conda-forge");
        assert_eq!(d.subdir, "linux-64");
        assert_eq!(d.name, "python-dateutil");
        assert_eq!(d.version, "2.9.0");
        assert_eq!(d.build, "pyhd8ed1ab_0");
        assert_eq!(d.to_string(), text);
        assert_eq!(d.short(), "python-dateutil-2.9.0 (conda-forge)");
        let local = Dist::parse("file:///tmp/ch/noarch::dep-1.0-0");
        assert_eq!(local.channel, "file:///tmp/ch");
        assert_eq!(local.to_string(), "file:///tmp/ch/noarch::dep-1.0-0");
        assert_eq!(
            Dist::parse("pkgs/main/linux-64::zlib-1.2.13-h0").short(),
            "zlib-1.2.13"
        );
        assert_eq!(Dist::parse("zlib-1.2.13-h0").name, "zlib");
    }
}
