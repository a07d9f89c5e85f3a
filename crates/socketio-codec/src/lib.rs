//! Socket.IO packet codec.
#![warn(missing_docs)]
