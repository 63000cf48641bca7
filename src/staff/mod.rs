//! Front-desk staff at work: password hashing, console sessions and the
//! throttle on failed sign-ins. (Who they are, an account and its role, is
//! `accounts`.)

pub mod password;
pub mod sessions;
pub mod throttle;
