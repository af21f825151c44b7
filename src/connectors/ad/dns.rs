//! Domain controller discovery through DNS SRV records (`_ldap._tcp.dc._msdcs.<domain>`), with a
//! small DNS client of our own (RFC 1035 over UDP, TCP when the answer is truncated): a resolver
//! crate would bring a second TLS stack for DNS-over-TLS/HTTPS that discovery does not need.
//!
//! Invariants: the DNS server is the configured one, else the first `nameserver` of
//! /etc/resolv.conf; an answer is accepted only if it carries our query id and question; parsing
//! never panics on malformed packets (compression loops and out-of-range pointers are errors);
//! records come back ordered by priority, then by weight (highest first).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::error::AdError;

/// One SRV record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvRecord {
    /// Lower is preferred.
    pub priority: u16,
    /// Among equal priorities, higher gets more traffic.
    pub weight: u16,
    /// The service's port.
    pub port: u16,
    /// The host (without the trailing dot).
    pub target: String,
}

const TYPE_SRV: u16 = 33;
const CLASS_IN: u16 = 1;

/// The DC locator name for `domain`.
pub fn dc_srv_name(domain: &str) -> String {
    format!("_ldap._tcp.dc._msdcs.{}", domain.trim_end_matches('.'))
}

/// The first nameserver of /etc/resolv.conf.
pub fn system_dns_server() -> Option<IpAddr> {
    let text = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    text.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        (words.next() == Some("nameserver"))
            .then(|| words.next()?.split('%').next()?.parse().ok())
            .flatten()
    })
}

/// A DNS query for `name` of type SRV, with id `id`.
pub fn query(id: u16, name: &str) -> Result<Vec<u8>, AdError> {
    let mut q = Vec::with_capacity(name.len() + 30);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]); // RD; 1 question, 1 additional
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(AdError::Dns(format!("'{name}' is not a valid DNS name")));
        }
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&TYPE_SRV.to_be_bytes());
    q.extend_from_slice(&CLASS_IN.to_be_bytes());
    // EDNS0 OPT: accept answers up to 4096 bytes over UDP.
    q.extend_from_slice(&[0, 0, 41, 0x10, 0x00, 0, 0, 0, 0, 0, 0]);
    Ok(q)
}

struct Packet<'a> {
    b: &'a [u8],
}

impl Packet<'_> {
    fn u16_at(&self, at: usize) -> Option<u16> {
        Some(u16::from_be_bytes([*self.b.get(at)?, *self.b.get(at + 1)?]))
    }

    /// The name at `at` and the offset after it (in the original position).
    fn name(&self, mut at: usize) -> Option<(String, usize)> {
        let mut labels: Vec<String> = Vec::new();
        let mut end = None;
        for _ in 0..128 {
            let len = *self.b.get(at)?;
            match len {
                0 => {
                    return Some((labels.join("."), end.unwrap_or(at + 1)));
                }
                l if l & 0xc0 == 0xc0 => {
                    let pointer = usize::from(self.u16_at(at)? & 0x3fff);
                    end.get_or_insert(at + 2);
                    if pointer >= at {
                        return None; // pointers go backwards; anything else may loop
                    }
                    at = pointer;
                }
                l if l & 0xc0 == 0 => {
                    let label = self.b.get(at + 1..at + 1 + usize::from(l))?;
                    labels.push(String::from_utf8_lossy(label).into_owned());
                    at += 1 + usize::from(l);
                }
                _ => return None,
            }
        }
        None
    }
}

/// What an answer to query `id` for `name` says: its SRV records, or why not.
pub fn parse_answer(id: u16, name: &str, b: &[u8]) -> Result<Vec<SrvRecord>, AdError> {
    let bad = |why: &str| AdError::Dns(format!("malformed DNS answer for {name}: {why}"));
    let p = Packet { b };
    let header = |at| p.u16_at(at).ok_or_else(|| bad("short header"));
    if header(0)? != id {
        return Err(bad("wrong query id"));
    }
    let flags = header(2)?;
    if flags & 0x8000 == 0 {
        return Err(bad("not a response"));
    }
    match flags & 0x000f {
        0 => {}
        3 => {
            return Err(AdError::Dns(format!(
                "{name} does not exist (NXDOMAIN): is the DNS server one of the domain's?"
            )));
        }
        rcode => {
            return Err(AdError::Dns(format!(
                "the DNS server answered rcode {rcode}"
            )));
        }
    }
    let (qd, an) = (header(4)?, header(6)?);
    let mut at = 12;
    for _ in 0..qd {
        let (qname, next) = p.name(at).ok_or_else(|| bad("question name"))?;
        if !qname.eq_ignore_ascii_case(name.trim_end_matches('.')) {
            return Err(bad("answer to another question"));
        }
        at = next + 4;
    }
    let mut out = Vec::new();
    for _ in 0..an {
        let (_, next) = p.name(at).ok_or_else(|| bad("record name"))?;
        let rtype = p.u16_at(next).ok_or_else(|| bad("record type"))?;
        let rdlen = usize::from(p.u16_at(next + 8).ok_or_else(|| bad("record length"))?);
        let rdata = next + 10;
        if b.len() < rdata + rdlen {
            return Err(bad("record data"));
        }
        if rtype == TYPE_SRV {
            let field = |o| p.u16_at(rdata + o).ok_or_else(|| bad("SRV fields"));
            let (target, _) = p.name(rdata + 6).ok_or_else(|| bad("SRV target"))?;
            out.push(SrvRecord {
                priority: field(0)?,
                weight: field(2)?,
                port: field(4)?,
                target,
            });
        }
        at = rdata + rdlen;
    }
    out.sort_by(|a, b| a.priority.cmp(&b.priority).then(b.weight.cmp(&a.weight)));
    Ok(out)
}

/// Ask `server` (port 53 unless given) for the SRV records of `name`.
pub async fn srv_lookup(
    server: SocketAddr,
    name: &str,
    timeout: Duration,
) -> Result<Vec<SrvRecord>, AdError> {
    let mut idb = [0u8; 2];
    getrandom::fill(&mut idb).map_err(|e| AdError::Dns(format!("no randomness: {e}")))?;
    let id = u16::from_be_bytes(idb);
    let q = query(id, name)?;
    let io = |e: std::io::Error| AdError::Dns(format!("asking {server} for {name}: {e}"));
    let bind: SocketAddr = if server.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let udp = async {
        let sock = tokio::net::UdpSocket::bind(bind).await.map_err(io)?;
        sock.connect(server).await.map_err(io)?;
        sock.send(&q).await.map_err(io)?;
        let mut buf = vec![0u8; 4096];
        loop {
            let n = sock.recv(&mut buf).await.map_err(io)?;
            let answer = buf.get(..n).unwrap_or_default();
            // Ignore stray datagrams that are not the answer to this query.
            if answer.get(..2) == Some(&idb[..]) {
                return Ok::<Vec<u8>, AdError>(answer.to_vec());
            }
        }
    };
    let answer = tokio::time::timeout(timeout, udp).await.map_err(|_| {
        AdError::Dns(format!(
            "{server} did not answer for {name} within {timeout:?}"
        ))
    })??;
    let truncated = answer.get(2).is_some_and(|f| f & 0x02 != 0);
    if !truncated {
        return parse_answer(id, name, &answer);
    }
    let tcp = async {
        let mut s = tokio::net::TcpStream::connect(server).await.map_err(io)?;
        let len = u16::try_from(q.len()).map_err(|_| AdError::Dns("query too long".into()))?;
        s.write_all(&len.to_be_bytes()).await.map_err(io)?;
        s.write_all(&q).await.map_err(io)?;
        let mut lb = [0u8; 2];
        s.read_exact(&mut lb).await.map_err(io)?;
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(lb))];
        s.read_exact(&mut buf).await.map_err(io)?;
        Ok::<Vec<u8>, AdError>(buf)
    };
    let answer = tokio::time::timeout(timeout, tcp)
        .await
        .map_err(|_| AdError::Dns(format!("{server} did not answer over TCP for {name}")))??;
    parse_answer(id, name, &answer)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    fn answer(id: u16, name: &str) -> Vec<u8> {
        let mut a = query(id, name).unwrap();
        a.truncate(a.len() - 11); // drop the OPT record
        a[2] = 0x81;
        a[3] = 0x80;
        a[7] = 2; // two answers
        a[11] = 0; // no additional
        for (prio, weight, target) in [(10u16, 5u16, "dc2"), (0, 100, "dc1")] {
            a.extend_from_slice(&[0xc0, 12]); // pointer to the question name
            a.extend_from_slice(&[0, 33, 0, 1, 0, 0, 2, 88]);
            let mut rdata = Vec::new();
            rdata.extend_from_slice(&prio.to_be_bytes());
            rdata.extend_from_slice(&weight.to_be_bytes());
            rdata.extend_from_slice(&389u16.to_be_bytes());
            rdata.push(target.len() as u8);
            rdata.extend_from_slice(target.as_bytes());
            // ".lab.example" by pointer into the question: offset of "lab" label.
            let lab = 12 + name.find("lab").unwrap();
            rdata.extend_from_slice(&[0xc0, lab as u8]);
            a.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            a.extend_from_slice(&rdata);
        }
        a
    }

    #[test]
    fn parses_srv_answers_with_compression() {
        let name = dc_srv_name("lab.example");
        let recs = parse_answer(7, &name, &answer(7, &name)).unwrap();
        assert_eq!(
            recs.iter().map(|r| r.target.as_str()).collect::<Vec<_>>(),
            ["dc1.lab.example", "dc2.lab.example"]
        );
        assert_eq!(recs[0].port, 389);
        assert!(parse_answer(8, &name, &answer(7, &name)).is_err());
        let other = dc_srv_name("other.example");
        assert!(parse_answer(7, &other, &answer(7, &name)).is_err());
    }

    #[test]
    fn compression_loops_are_errors() {
        let mut a = answer(1, "_ldap._tcp.dc._msdcs.lab.example");
        a[12] = 0xc0;
        a[13] = 12;
        assert!(parse_answer(1, "_ldap._tcp.dc._msdcs.lab.example", &a).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_packets_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_answer(0, "a.b", &bytes);
        }
    }
}
