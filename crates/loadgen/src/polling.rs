//! One simulated client over HTTP long-polling: the handshake GET, the `40`
//! POST, then GETs that wait for packets (pings answered by a POST `3`).
//! The pending GET keeps one connection; POSTs use a second one, opened when
//! first needed, so an idle client costs the server one connection.

use std::io;

use crate::client::Target;
use crate::frames::{self, Frame};
use crate::http::{self, Conn};

/// A polling session connected to `/`.
#[derive(Debug)]
pub(crate) struct PollingClient {
    target: Target,
    n: usize,
    get: Conn,
    post: Option<Conn>,
    pub(crate) sid: String,
}

fn err(msg: String) -> io::Error {
    io::Error::other(msg)
}

impl PollingClient {
    /// Handshake and connect to `/`.
    pub(crate) async fn connect(target: &Target, n: usize) -> io::Result<PollingClient> {
        let mut get = Conn::new(target.tcp(n).await?);
        let (status, body) = get
            .request("GET", "/socket.io/?EIO=4&transport=polling", b"")
            .await?;
        let text = String::from_utf8_lossy(&body);
        let sid = text
            .split("\"sid\":\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .filter(|_| status == 200)
            .ok_or_else(|| err(format!("bad handshake: {status} {text}")))?
            .to_owned();
        let mut client = PollingClient {
            target: target.clone(),
            n,
            get,
            post: None,
            sid,
        };
        client.post(b"40").await?;
        loop {
            let packets = client.poll().await?;
            if packets.iter().any(|p| frames::parse(p) == Frame::Connected) {
                return Ok(client);
            }
        }
    }

    fn path(&self) -> String {
        format!("/socket.io/?EIO=4&transport=polling&sid={}", self.sid)
    }

    /// POSTs a payload (packets joined by the record separator).
    pub(crate) async fn post(&mut self, body: &[u8]) -> io::Result<()> {
        if self.post.is_none() {
            self.post = Some(Conn::new(self.target.tcp(self.n).await?));
        }
        let path = self.path();
        let conn = self.post.as_mut().expect("just set");
        let (status, _) = conn.request("POST", &path, body).await?;
        if status != 200 {
            return Err(err(format!("POST answered {status}")));
        }
        Ok(())
    }

    /// Closes both connections with a reset (see [`Conn::reset`]).
    pub(crate) fn reset(self) {
        self.get.reset();
        if let Some(post) = self.post {
            post.reset();
        }
    }

    /// Drops the POST connection (idle clients keep only the GET's).
    pub(crate) fn release_post(&mut self) {
        self.post = None;
    }

    /// One GET: the packets it carried, with pings already answered.
    pub(crate) async fn poll(&mut self) -> io::Result<Vec<String>> {
        let path = self.path();
        let (status, body) = self.get.request("GET", &path, b"").await?;
        if status != 200 {
            return Err(err(format!("GET answered {status}")));
        }
        let packets: Vec<String> = http::packets(&body)
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        if packets.iter().any(|p| p == "2") {
            self.post(b"3").await?;
        }
        Ok(packets)
    }
}
