//! The operations conda's commands are made of. Each is a whole command without its
//! printing: it takes a request built from flags and configuration, talks to the user
//! through a [`Reporter`](crate::reporter::Reporter), and returns what happened for the
//! CLI to render.
//!
//! - [`create`], [`install`] (and update), [`remove`] (and `--all`): the commands.
//! - [`solve`]: a request solved against the prefix and the channels.
//! - [`transact`]: carrying out a plan (show, confirm, download, link).
//! - [`explicit`]: `@EXPLICIT` files and installer locks.

pub mod clean;
pub mod clone;
pub mod compare;
pub mod create;
pub mod doctor;
pub mod env_file;
pub mod explicit;
pub mod install;
pub mod notices;
pub mod package;
pub mod remove;
pub mod rename;
pub mod revision;
pub mod search;
pub mod solve;
pub mod transact;

pub use create::{create, create_empty, root_setup, CreateRequest, Created};
pub use explicit::{
    explicit_plan, explicit_records, explicit_urls, install_records, read_spec_files, ExplicitUrl,
};
pub use install::{install, update, Change, InstallRequest};
pub use remove::{remove, remove_env, RemoveRequest, Removed};
pub use revision::{install_revision, RevisionRequest};
pub use solve::{channel_priority, solve_request, virtual_packages, Solved};
pub use transact::{apply, download, prelink_messages, transact, Done, Transact, Transacted};
