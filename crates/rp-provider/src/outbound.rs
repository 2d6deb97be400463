//! Where the provider may send requests of its own (back-channel logout tokens, request
//! objects by reference, a client's `jwks_uri`).
//!
//! A client registers those URLs, so without a policy dynamic registration turns the
//! provider into a request relay: `http://127.0.0.1:22/x` or `https://10.0.0.1/x` would be
//! fetched from inside the deployment. By default only loopback targets on unprivileged
//! ports (1024 and up: the ports relying parties on this machine listen on) are allowed;
//! the operator adds hosts, host:port pairs or address ranges. URLs are checked at
//! registration (a clear `invalid_client_metadata`) and again before each request.

use std::net::IpAddr;
use url::Url;

/// One allowed target.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// A host name or IP literal, on any port or on one.
    Host { host: String, port: Option<u16> },
    /// An address range (CIDR).
    Net { addr: IpAddr, prefix: u8 },
}

/// The provider's outbound policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    rules: Vec<Rule>,
}

impl OutboundPolicy {
    /// Loopback on ports 1024 and up only.
    pub fn loopback() -> Self {
        Self::default()
    }

    /// Also allow `pattern`: `host`, `host:port`, `[v6]:port`, or an address range such as
    /// `10.0.0.0/8`.
    pub fn allow(&mut self, pattern: &str) -> crate::error::Result<()> {
        self.allow_text(pattern)
            .map_err(crate::error::Error::Target)
    }

    fn allow_text(&mut self, pattern: &str) -> Result<(), String> {
        let bad = || format!("`{pattern}` is not HOST, HOST:PORT or ADDRESS/PREFIX");
        if let Some((addr, prefix)) = pattern.split_once('/') {
            let addr: IpAddr = addr.parse().map_err(|_| bad())?;
            let prefix: u8 = prefix.parse().map_err(|_| bad())?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            if prefix > max {
                return Err(bad());
            }
            self.rules.push(Rule::Net { addr, prefix });
            return Ok(());
        }
        let url = Url::parse(&format!("http://{pattern}")).map_err(|_| bad())?;
        let host = url.host_str().ok_or_else(bad)?.to_ascii_lowercase();
        if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
            return Err(bad());
        }
        self.rules.push(Rule::Host {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port: url.port(),
        });
        Ok(())
    }

    /// Whether the provider may send a request to `url` (http or https only).
    pub fn check(&self, url: &Url) -> crate::error::Result<()> {
        self.check_text(url).map_err(crate::error::Error::Target)
    }

    fn check_text(&self, url: &Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("`{}`: only http and https", url.scheme()));
        }
        let port = url.port_or_known_default().unwrap_or(0);
        let host = url
            .host_str()
            .ok_or_else(|| "the URL has no host".to_string())?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let ip: Option<IpAddr> = host.parse().ok();
        let loopback = ip.is_some_and(|ip| ip.is_loopback()) || host == "localhost";
        if loopback && port >= 1024 {
            return Ok(());
        }
        let allowed = self.rules.iter().any(|rule| match rule {
            Rule::Host { host: h, port: p } => *h == host && p.is_none_or(|p| p == port),
            Rule::Net { addr, prefix } => ip.is_some_and(|ip| in_range(ip, *addr, *prefix)),
        });
        if allowed {
            Ok(())
        } else if loopback {
            Err(format!(
                "port {port} on loopback is not a relying party's (only ports 1024 and up are allowed)"
            ))
        } else {
            Err(format!(
                "{host} is not a host this provider sends requests to (loopback only, unless its operator allows more)"
            ))
        }
    }
}

fn in_range(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(p: &OutboundPolicy, u: &str) -> bool {
        p.check(&Url::parse(u).unwrap()).is_ok()
    }

    #[test]
    fn loopback_unprivileged_ports_by_default() {
        let p = OutboundPolicy::loopback();
        assert!(ok(&p, "http://127.0.0.1:43211/backchannel-logout"));
        assert!(ok(&p, "http://[::1]:8080/x"));
        assert!(ok(&p, "http://localhost:9000/x"));
        for bad in [
            "http://127.0.0.1:22/x",
            "http://127.0.0.1/x",
            "https://10.0.0.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://rp.example/logout",
            "ftp://127.0.0.1:2121/x",
        ] {
            assert!(!ok(&p, bad), "{bad}");
        }
    }

    #[test]
    fn the_operator_can_allow_more() {
        let mut p = OutboundPolicy::loopback();
        p.allow("rp.example").unwrap();
        p.allow("10.1.0.0/16").unwrap();
        p.allow("api.example:8443").unwrap();
        assert!(ok(&p, "https://rp.example/logout"));
        assert!(ok(&p, "https://10.1.2.3/x"));
        assert!(!ok(&p, "https://10.2.0.1/x"));
        assert!(ok(&p, "https://api.example:8443/x"));
        assert!(!ok(&p, "https://api.example/x"));
        assert!(p.allow("a/b/c").is_err());
        assert!(p.allow("10.0.0.0/99").is_err());
    }
}
