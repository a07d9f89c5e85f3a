//! Socket.IO server.
#![warn(missing_docs)]
