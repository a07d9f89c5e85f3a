//! Engine.IO v4 and v3 server.
#![warn(missing_docs)]
