//! Wheels written by [`WheelBuilder`]: their members, their `RECORD` (checked here and by
//! Python's own hashlib/base64), their validation, and the simple index layout.

use std::{collections::BTreeMap, io::Read, path::Path, process::Command};

use rattler_digest::{compute_bytes_digest, Sha256};

use super::util::hex;
use crate::{wheel::urlsafe_b64_nopad, write_simple_index, HostPython, WheelBuilder};

fn demo() -> WheelBuilder {
    WheelBuilder::new("tp-Demo.pkg", "1.0")
        .module("tp_demo/__init__.py", "def main():\n    print('hi')\n")
        .module("tp_demo/data.txt", vec![0u8, 255, 254, 10])
        .requires("tpdep>=1.0")
        .requires("other; python_version >= '3'")
        .entry_point("tp-demo", "tp_demo:main")
}

fn read_members(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            let mut contents = Vec::new();
            entry.read_to_end(&mut contents).unwrap();
            (entry.name().unwrap().into_owned(), contents)
        })
        .collect()
}

#[test]
fn wheel_names_follow_the_spec() {
    let wheel = demo();
    assert_eq!(wheel.file_name(), "tp_Demo_pkg-1.0-py3-none-any.whl");
    assert_eq!(wheel.dist_info(), "tp_Demo_pkg-1.0.dist-info");
    assert_eq!(wheel.normalized_name(), "tp-demo-pkg");
}

#[test]
fn wheel_has_metadata_wheel_entry_points_and_a_verifiable_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = demo().write(dir.path()).unwrap();
    assert_eq!(path, dir.path().join("tp_Demo_pkg-1.0-py3-none-any.whl"));
    let members = read_members(&path);
    let info = "tp_Demo_pkg-1.0.dist-info";
    let metadata = String::from_utf8(members[&format!("{info}/METADATA")].clone()).unwrap();
    assert!(metadata.starts_with("Metadata-Version: 2.1\nName: tp-Demo.pkg\nVersion: 1.0\n"));
    assert!(metadata.contains("Requires-Dist: tpdep>=1.0\n"));
    assert!(metadata.contains("Requires-Dist: other; python_version >= '3'\n"));
    let wheel = String::from_utf8(members[&format!("{info}/WHEEL")].clone()).unwrap();
    assert!(wheel.contains("Wheel-Version: 1.0\n"));
    assert!(wheel.contains("Root-Is-Purelib: true\n"));
    assert!(wheel.contains("Tag: py3-none-any\n"));
    assert_eq!(
        members[&format!("{info}/entry_points.txt")],
        b"[console_scripts]\ntp-demo = tp_demo:main\n"
    );

    let record = String::from_utf8(members[&format!("{info}/RECORD")].clone()).unwrap();
    let mut listed = Vec::new();
    for line in record.lines() {
        let mut fields = line.split(',');
        let (name, hash, size) = (
            fields.next().unwrap(),
            fields.next().unwrap(),
            fields.next().unwrap(),
        );
        assert!(fields.next().is_none(), "{line}");
        listed.push(name.to_owned());
        if name == format!("{info}/RECORD") {
            assert_eq!((hash, size), ("", ""));
            continue;
        }
        let contents = &members[name];
        let digest = compute_bytes_digest::<Sha256>(contents);
        assert_eq!(hash, format!("sha256={}", urlsafe_b64_nopad(&digest)));
        assert!(!hash.contains(['=', '+', '/']) || hash.starts_with("sha256="));
        assert_eq!(size, contents.len().to_string());
    }
    listed.sort();
    let all: Vec<String> = members.keys().cloned().collect();
    assert_eq!(listed, all, "RECORD lists every member exactly once");
}

/// Python's own `hashlib` and `base64` agree with every `RECORD` line.
#[test]
fn wheel_record_verifies_with_python() {
    let Ok(host) = HostPython::detect() else {
        panic!("{:#}", HostPython::detect().unwrap_err());
    };
    let dir = tempfile::tempdir().unwrap();
    let path = demo().write(dir.path()).unwrap();
    let script = r#"
import base64, csv, hashlib, io, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
names = set(z.namelist())
record = [n for n in names if n.endswith(".dist-info/RECORD")]
assert len(record) == 1, record
seen = set()
for name, digest, size in csv.reader(io.TextIOWrapper(z.open(record[0]), "utf-8")):
    seen.add(name)
    if name == record[0]:
        continue
    data = z.read(name)
    algo, _, value = digest.partition("=")
    want = base64.urlsafe_b64encode(hashlib.new(algo, data).digest()).rstrip(b"=").decode()
    assert value == want, (name, value, want)
    assert int(size) == len(data), name
assert seen == names, (seen ^ names)
print("ok", len(seen))
"#;
    let out = Command::new(&host.executable)
        .args(["-I", "-c", script])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok 6\n");
}

#[test]
fn wheel_base64_matches_rfc4648_urlsafe() {
    let cases: [(&[u8], &str); 8] = [
        (b"", ""),
        (b"f", "Zg"),
        (b"fo", "Zm8"),
        (b"foo", "Zm9v"),
        (b"foob", "Zm9vYg"),
        (b"fooba", "Zm9vYmE"),
        (b"foobar", "Zm9vYmFy"),
        (&[0xfb, 0xff, 0xbf], "-_-_"),
    ];
    for (input, want) in cases {
        assert_eq!(urlsafe_b64_nopad(input), want, "{input:?}");
    }
}

#[test]
fn wheel_builder_rejects_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let bad = [
        WheelBuilder::new("bad name", "1.0"),
        WheelBuilder::new("-x", "1.0"),
        WheelBuilder::new("ok", "1 0"),
        WheelBuilder::new("ok", "1.0").module("../escape.py", ""),
        WheelBuilder::new("ok", "1.0").module("/abs.py", ""),
        WheelBuilder::new("ok", "1.0").module("ok-1.0.dist-info/METADATA", ""),
        WheelBuilder::new("ok", "1.0").entry_point("cmd", "no_colon"),
        WheelBuilder::new("ok", "1.0").entry_point("a b", "m:f"),
    ];
    for wheel in bad {
        assert!(wheel.write(dir.path()).is_err(), "{wheel:?}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn wheel_simple_index_links_every_wheel_with_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let one = WheelBuilder::new("Tp.Demo", "1.0")
        .module("a.py", "")
        .write(dir.path())
        .unwrap();
    let two = WheelBuilder::new("tp_demo", "2.0")
        .module("a.py", "")
        .write(dir.path())
        .unwrap();
    let other = WheelBuilder::new("other", "1")
        .module("b.py", "")
        .write(dir.path())
        .unwrap();
    let simple = write_simple_index(dir.path(), &[one.clone(), two.clone(), other]).unwrap();
    assert_eq!(simple, dir.path().join("simple"));
    let top = std::fs::read_to_string(simple.join("index.html")).unwrap();
    assert!(top.contains("<a href=\"tp-demo/\">tp-demo</a>"), "{top}");
    assert!(top.contains("<a href=\"other/\">other</a>"), "{top}");
    let page = std::fs::read_to_string(simple.join("tp-demo/index.html")).unwrap();
    for wheel in [one, two] {
        let file = wheel.file_name().unwrap().to_str().unwrap();
        let sha = hex(&compute_bytes_digest::<Sha256>(
            std::fs::read(&wheel).unwrap(),
        ));
        assert!(
            page.contains(&format!("<a href=\"../../{file}#sha256={sha}\">{file}</a>")),
            "{page}"
        );
    }
    let elsewhere = tempfile::tempdir().unwrap();
    let stray = WheelBuilder::new("x", "1").write(elsewhere.path()).unwrap();
    assert!(write_simple_index(dir.path(), &[stray]).is_err());
}
