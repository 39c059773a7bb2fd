//! Unit tests that build real packages, channels and servers.

mod channel;
mod http;
mod nginx;
mod package;
mod python;
mod util;
mod wheel;

use crate::PLACEHOLDER;

#[test]
fn placeholder_is_long_and_path_like() {
    assert_eq!(PLACEHOLDER.len(), 255);
    assert!(PLACEHOLDER.starts_with("/opt/anaconda1anaconda2anaconda3"));
    assert!(!PLACEHOLDER.contains(char::is_whitespace));
}
