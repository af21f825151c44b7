//! A real Active Directory domain controller (Samba 4, from Debian packages) on a loopback
//! address, for the integration tests that talk to AD (design.md section 9).
//!
//! ```ignore
//! #[path = "support/samba.rs"]
//! mod samba;
//!
//! let dc = samba::SambaDc::shared(); // one DC for the whole test binary
//! let ou = dc.fresh_ou("delta"); // "OU=delta-1,OU=Tests,DC=lab,DC=example", empty
//! let users = dc.add_users(&ou, 100);
//! dc.ldif_modify(&format!("dn: {}\nchangetype: modify\nreplace: title\ntitle: Boss\n", users[0]));
//! ```
//!
//! The work is done by `tests/samba/lab.sh serve DIR`, which this module runs as a supervisor
//! process: it claims a free address in 127.0.0.100-199 (so several DCs can run at once, e.g.
//! the shared one and a private one), restores the provisioned and seeded domain from a
//! snapshot cache in `target/tmp/samba-lab` (or builds and caches it), starts Samba, and prints
//! the connection details. The seeded content is documented in `tests/samba/seed.ldif`.
//! Samba runs only as root: as anyone else [`SambaDc::start`] panics saying so. The Debian
//! packages are those `tests/samba/lab.sh packages` prints (tests/run.sh installs them).
//!
//! **Failures are loud.** If the DC cannot be started, [`SambaDc::start`] panics with the reason
//! and the tail of Samba's logs. Nothing is skipped.
//!
//! **Cleanup is guaranteed.** The supervisor reads its stdin, a pipe whose only writer is the
//! test process. When the test process ends in any way (normal exit, panic, SIGKILL), the kernel
//! closes that pipe, the supervisor sees end of file, kills the DC's whole process tree and
//! deletes its directory. That is what stops the [`SambaDc::shared`] DC, whose `Drop` never runs
//! (statics are not dropped). The supervisor runs in its own process group, so a Ctrl-C or a
//! group kill aimed at `cargo test` does not take it down before it has cleaned up; if it is
//! killed anyway, the next harness start reaps the orphaned DC (`lab.sh reap`).
//!
//! **Shared or private.** A DC costs 1.2-1.4 s to start from the snapshot (the cold build of
//! the snapshot ~11 s, once per change of lab.sh, seed.ldif or the Samba package) and 170 MB
//! (PSS of its 56 processes), so a test binary normally shares one: [`SambaDc::shared`]. Tests
//! in a binary run on parallel threads, so each test works in its own OU
//! ([`SambaDc::fresh_ou`]) and asserts only on what is under it or on the seeded `OU=Corp`,
//! which no test may modify. A test that must own the whole domain (stop or restart the DC,
//! change domain-wide settings, count changes domain-wide) starts a private DC with
//! [`SambaDc::start`]; dropping it stops the DC.
//!
//! Measured (Debian 12, Samba 4.17.12, 2 cores, idle): `start()` from the snapshot 1.2-1.4 s
//! (restore 0.1-0.2 s, Samba until the rootDSE answers 1.0-1.3 s), 2-5 s when three DCs start
//! at once; cold build 10.7-11.6 s (provision 4.8-6.5 s, first start 1.1 s, seed 1.5-1.8 s,
//! graceful stop + snapshot 0.3-0.4 s, start 1.0-2.0 s), 14-20 s with both cores busy
//! elsewhere; stop (SIGKILL of the process tree, directory removed) 0.2-1.7 s; 1,000 users
//! through [`SambaDc::add_users`] 4.3-6.7 s.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a DC may take to come up: a cold snapshot build takes about 11 s here; slow CI
/// machines get ample headroom before the harness gives up and reports.
const START_TIMEOUT: Duration = Duration::from_secs(300);
/// How long the supervisor may take to kill the DC and delete its directory after being told.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running Samba AD domain controller. See the module documentation.
pub struct SambaDc {
    /// The loopback address the DC listens on (IPv4 only), e.g. "127.0.0.100".
    pub host: String,
    /// Plain LDAP (simple binds are allowed without TLS; StartTLS works too).
    pub ldap_port: u16,
    /// LDAP over TLS.
    pub ldaps_port: u16,
    /// Global catalog (plain LDAP).
    pub gc_port: u16,
    /// Kerberos KDC (TCP and UDP); `krb5_conf` points clients at it.
    pub kerberos_port: u16,
    /// "LAB.EXAMPLE".
    pub realm: String,
    /// The NetBIOS domain name, "LAB".
    pub netbios: String,
    /// "lab.example".
    pub dns_domain: String,
    /// The DC's host name, "dc1.lab.example" (in the TLS certificate; not resolvable).
    pub dc_host_name: String,
    /// "DC=lab,DC=example".
    pub base_dn: String,
    /// "Administrator@LAB.EXAMPLE", for a simple bind.
    pub admin_user: String,
    /// "CN=Administrator,CN=Users,DC=lab,DC=example".
    pub admin_dn: String,
    /// The administrator's password.
    pub admin_password: String,
    /// The password of every seeded user that has one (see tests/samba/seed.ldif).
    pub seed_password: String,
    /// PEM file of the CA that signed the DC's certificate (subjectAltName: the DC's host
    /// name, the domain name and `host` as an IP address). Trust only this to verify TLS.
    pub ca_file: PathBuf,
    /// A krb5.conf naming this DC as the realm's KDC.
    pub krb5_conf: PathBuf,
    /// Pid of the Samba master process.
    pub pid: u32,
    /// Samba services switched off because another program holds their ports on all loopback
    /// addresses: "s3fs" (SMB, ports 139/445, e.g. a host smbd) and/or "dns" (port 53).
    /// Usually empty. LDAP, Kerberos and RPC are never switched off.
    pub disabled_services: Vec<String>,
    /// Everything `lab.sh serve` reported, including the timings of this start
    /// (`restore_ms`, `start_ms`, `total_ms`, `cache` = hit/miss, ...).
    pub info: BTreeMap<String, String>,
    dir: PathBuf,
    supervisor: Mutex<Option<Supervisor>>,
}

/// The `lab.sh serve` process and the write end of its stdin.
struct Supervisor {
    child: Child,
    stdin: ChildStdin,
}

impl SambaDc {
    /// The DC shared by every test of this test binary, started on first use. If it could not
    /// start, every test that asks for it panics with the same report.
    pub fn shared() -> &'static SambaDc {
        static SHARED: OnceLock<Result<SambaDc, String>> = OnceLock::new();
        match SHARED.get_or_init(SambaDc::try_start) {
            Ok(dc) => dc,
            Err(report) => {
                panic!("the shared Samba DC of this test binary did not start:\n{report}")
            }
        }
    }

    /// Start a private DC, stopped when the value is dropped (or by [`SambaDc::stop`]).
    /// Panics with the reason and the tail of Samba's logs if it does not come up.
    pub fn start() -> SambaDc {
        match SambaDc::try_start() {
            Ok(dc) => dc,
            Err(report) => panic!("the Samba DC did not start:\n{report}"),
        }
    }

    /// Start a DC; on failure, a report with the reason and the logs.
    pub fn try_start() -> Result<SambaDc, String> {
        let started = Instant::now();
        let script = lab_script();
        let dir = instance_dir();
        let cache = std::env::var_os("LAB_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("samba-lab"));
        let mut child = Command::new("bash")
            .arg(&script)
            .arg("serve")
            .arg(&dir)
            .env("LAB_CACHE", &cache)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Own process group: a signal for the test's group must not kill the supervisor
            // before it has stopped the DC.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot run bash {}: {e}", script.display()))?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err("the supervisor's pipes were not created".to_owned());
        };
        let mut supervisor = Supervisor { child, stdin };

        // The supervisor's stderr (progress notes, failure reports with log tails) is collected
        // in the background; it closes once the DC is ready.
        let stderr_text = Arc::new(Mutex::new(String::new()));
        let stderr_reader = {
            let sink = Arc::clone(&stderr_text);
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = BufReader::new(stderr).read_to_string(&mut text);
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&text);
                }
            })
        };
        // Its stdout: "key=value" lines, then "ready".
        let (lines_tx, lines_rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });

        let mut info = BTreeMap::new();
        let deadline = started + START_TIMEOUT;
        let ready = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines_rx.recv_timeout(left) {
                Ok(line) if line == "ready" => break Ok(()),
                Ok(line) => {
                    if let Some((k, v)) = line.split_once('=') {
                        info.insert(k.to_owned(), v.to_owned());
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    break Err(format!("not ready after {} s", START_TIMEOUT.as_secs()));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    break Err("lab.sh serve exited before the DC was ready".to_owned());
                }
            }
        };
        if let Err(reason) = ready {
            // TERM makes the supervisor clean up (and print the logs) if it still runs.
            signal(supervisor.child.id(), "TERM");
            drop(supervisor.stdin);
            let status = wait_with_timeout(&mut supervisor.child, STOP_TIMEOUT);
            let _ = stderr_reader.join();
            let stderr = stderr_text.lock().map(|s| s.clone()).unwrap_or_default();
            let reported: String = info.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
            let reported = if reported.is_empty() {
                String::new()
            } else {
                format!("--- lab.sh reported:\n{reported}")
            };
            return Err(format!(
                "{reason} (lab.sh serve {}: {status})\n{reported}--- lab.sh stderr (with the \
                 tail of Samba's logs):\n{stderr}",
                dir.display(),
            ));
        }

        let field = |k: &str| -> Result<String, String> {
            info.get(k)
                .cloned()
                .ok_or_else(|| format!("lab.sh serve did not report {k}"))
        };
        let port = |k: &str| -> Result<u16, String> {
            field(k)?
                .parse()
                .map_err(|e| format!("lab.sh serve reported a bad {k}: {e}"))
        };
        let dc = SambaDc {
            host: field("host")?,
            ldap_port: port("ldap_port")?,
            ldaps_port: port("ldaps_port")?,
            gc_port: port("gc_port")?,
            kerberos_port: port("kerberos_port")?,
            realm: field("realm")?,
            netbios: field("netbios")?,
            dns_domain: field("dns_domain")?,
            dc_host_name: field("dc_host_name")?,
            base_dn: field("base_dn")?,
            admin_user: field("admin_user")?,
            admin_dn: field("admin_dn")?,
            admin_password: field("admin_password")?,
            seed_password: field("seed_password")?,
            ca_file: PathBuf::from(field("ca_file")?),
            krb5_conf: PathBuf::from(field("krb5_conf")?),
            disabled_services: field("disabled_services")?
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            pid: field("pid")?
                .parse()
                .map_err(|e| format!("bad pid from lab.sh: {e}"))?,
            info: info.clone(),
            dir,
            supervisor: Mutex::new(Some(supervisor)),
        };
        let _ = stderr_reader.join();

        // Independent of the script's own check: a TCP connection and a real LDAP exchange.
        match read_default_naming_context(&dc.host, dc.ldap_port, Duration::from_secs(10)) {
            Ok(nc) if nc == dc.base_dn => {}
            Ok(nc) => {
                let logs = dc.log_tail(40);
                return Err(format!(
                    "the rootDSE names {nc:?} as defaultNamingContext, not {:?}\n{logs}",
                    dc.base_dn
                ));
            }
            Err(e) => {
                let logs = dc.log_tail(40);
                return Err(format!(
                    "rootDSE read from {}:{} failed: {e}\n{logs}",
                    dc.host, dc.ldap_port
                ));
            }
        }
        eprintln!(
            "samba lab DC on {} (pid {}) up in {:.1} s, snapshot cache {}{}",
            dc.host,
            dc.pid,
            started.elapsed().as_secs_f64(),
            dc.info.get("cache").map_or("?", String::as_str),
            if dc.disabled_services.is_empty() {
                String::new()
            } else {
                format!(
                    ", without {:?} (their ports are taken)",
                    dc.disabled_services
                )
            },
        );
        Ok(dc)
    }

    /// Stop the DC: kill its processes and delete its directory. Returns once the ports are
    /// closed. Idempotent; `Drop` calls it.
    pub fn stop(&self) {
        let Some(mut sup) = self.supervisor.lock().ok().and_then(|mut s| s.take()) else {
            return;
        };
        let _ = sup.stdin.write_all(b"stop\n");
        drop(sup.stdin);
        let status = wait_with_timeout(&mut sup.child, STOP_TIMEOUT);
        if !status.starts_with("exit status: 0") {
            eprintln!(
                "samba lab: stopping the DC on {} ended with {status}",
                self.host
            );
        }
    }

    /// The instance directory (configuration, databases, logs); deleted when the DC stops.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// "ldap://HOST:389".
    pub fn ldap_url(&self) -> String {
        format!("ldap://{}:{}", self.host, self.ldap_port)
    }

    /// "ldaps://HOST:636".
    pub fn ldaps_url(&self) -> String {
        format!("ldaps://{}:{}", self.host, self.ldaps_port)
    }

    /// The administrator as `NETBIOS\Administrator`.
    pub fn admin_down_level(&self) -> String {
        format!("{}\\Administrator", self.netbios)
    }

    /// The last `lines` lines of Samba's log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let path = self.dir.join("log/samba.log");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let all: Vec<&str> = text.lines().collect();
                let tail = all[all.len().saturating_sub(lines)..].join("\n");
                format!("--- tail of {}\n{tail}", path.display())
            }
            Err(e) => format!("--- {} unreadable: {e}", path.display()),
        }
    }

    /// A new, empty OU for one test: `OU=<name>-<n>,OU=Tests,<base>`, unique within this test
    /// process (and so within its DC). `name` must be letters, digits, '-' or '_'.
    pub fn fresh_ou(&self, name: &str) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)),
            "fresh_ou: {name:?} needs DN escaping; use letters, digits, '-' and '_'"
        );
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dn = format!("OU={name}-{n},OU=Tests,{}", self.base_dn);
        self.ldif_modify(&format!(
            "dn: {dn}\nchangetype: add\nobjectClass: organizationalUnit\ndescription: test OU\n"
        ));
        dn
    }

    /// Apply LDIF (changetype records; records without a changetype are adds) as the
    /// administrator over LDAPS with `ldapmodify`. Panics with the server's answer on failure.
    /// Returns ldapmodify's output.
    pub fn ldif_modify(&self, ldif: &str) -> String {
        match self.try_ldif_modify(ldif) {
            Ok(out) => out,
            Err(e) => panic!(
                "ldapmodify against {} failed:\n{e}\n--- LDIF:\n{ldif}",
                self.host
            ),
        }
    }

    /// [`SambaDc::ldif_modify`] for changes the server may refuse: the error is ldapmodify's
    /// message, e.g. "ldap_add: Constraint violation (19)".
    pub fn try_ldif_modify(&self, ldif: &str) -> Result<String, String> {
        let mut cmd = self.ldap_tool("ldapmodify");
        cmd.args(["-a", "-f", "/dev/stdin"]);
        let out = run_with_input(&mut cmd, ldif.as_bytes())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Search as the administrator over LDAPS with `ldapsearch` (subtree below `base`) and return
    /// the entries as unwrapped LDIF (`-LLL`: no comments, no version line). For quick checks in
    /// tests that do not want an LDAP client of their own. Panics on failure.
    pub fn ldap_search(&self, base: &str, filter: &str, attrs: &[&str]) -> String {
        let mut cmd = self.ldap_tool("ldapsearch");
        cmd.args([
            "-LLL",
            "-o",
            "ldif-wrap=no",
            "-b",
            base,
            "-s",
            "sub",
            filter,
        ])
        .args(attrs);
        match run_with_input(&mut cmd, b"") {
            Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
            Ok(out) => panic!(
                "ldapsearch -b {base:?} {filter:?} on {} failed: {}",
                self.host,
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => panic!("ldapsearch on {} failed: {e}", self.host),
        }
    }

    /// Add `count` users below `parent_dn` in one `ldapmodify` run (about 5 ms per user) and
    /// return their DNs in order. User k (unique in this process) is `CN=load<k>,<parent>` with
    /// sAMAccountName `load<k>`, userPrincipalName and mail `load<k>@lab.example`, givenName
    /// "Load", sn `<k>`, displayName "Load <k>", no password (so Samba makes it disabled,
    /// userAccountControl 546), where `<k>` is six digits.
    pub fn add_users(&self, parent_dn: &str, count: usize) -> Vec<String> {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        let first = NEXT.fetch_add(count, Ordering::Relaxed);
        let mut ldif = String::with_capacity(count * 300);
        let mut dns = Vec::with_capacity(count);
        for k in first..first + count {
            let dn = format!("CN=load{k:06},{parent_dn}");
            ldif.push_str(&format!(
                "dn: {dn}\nchangetype: add\nobjectClass: user\nsAMAccountName: load{k:06}\n\
                 userPrincipalName: load{k:06}@{dom}\nmail: load{k:06}@{dom}\n\
                 givenName: Load\nsn: {k:06}\ndisplayName: Load {k:06}\n\n",
                dom = self.dns_domain
            ));
            dns.push(dn);
        }
        self.ldif_modify(&ldif);
        dns
    }

    /// Run `samba-tool ARGS --configfile=<this DC's smb.conf>`: local commands (user, group,
    /// domain passwordsettings, ...) then work on this DC's database. Panics on failure;
    /// returns stdout.
    pub fn samba_tool(&self, args: &[&str]) -> String {
        let conf = self.dir.join("etc/smb.conf");
        let mut cmd = Command::new("samba-tool");
        cmd.args(args)
            .arg(format!("--configfile={}", conf.display()));
        match run_with_input(&mut cmd, b"") {
            Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
            Ok(out) => panic!(
                "samba-tool {args:?} failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => panic!("samba-tool {args:?}: {e}"),
        }
    }

    /// An OpenLDAP client command bound as the administrator over LDAPS, trusting only this DC's
    /// CA and reading no user or system ldap.conf.
    fn ldap_tool(&self, tool: &str) -> Command {
        let mut cmd = Command::new(tool);
        cmd.env("LDAPCONF", "/dev/null")
            .env("LDAPRC", "/nonexistent")
            .env("LDAPTLS_CACERT", &self.ca_file)
            .env("LDAPTLS_REQCERT", "demand")
            .args(["-x", "-o", "nettimeout=10", "-H", &self.ldaps_url()])
            .args(["-D", &self.admin_dn, "-y"])
            .arg(self.dir.join("etc/admin-password"));
        cmd
    }
}

impl Drop for SambaDc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// tests/samba/lab.sh of this package.
fn lab_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samba/lab.sh")
}

/// A new instance directory path (not created): short, because Samba puts Unix sockets in it.
fn instance_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    std::env::temp_dir().join(format!(
        "hybridsync-samba-{}-{}-{nanos:x}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Send a signal with kill(1) (the crate forbids the unsafe libc call).
fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

/// Wait for `child` to exit, at most `timeout`; describes how it ended.
fn wait_with_timeout(child: &mut Child, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.to_string(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => return format!("still running after {} s", timeout.as_secs()),
            Err(e) => return format!("wait failed: {e}"),
        }
    }
}

/// Run `cmd` with `input` on stdin and capture its output.
fn run_with_input(cmd: &mut Command, input: &[u8]) -> Result<Output, String> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    // Feed stdin from another thread while this one drains stdout and stderr: a tool that
    // writes more than a pipe buffer (ldapmodify prints a line per entry) before it has read all
    // its input would otherwise block, and so would we.
    let writer = child.stdin.take().map(|mut stdin| {
        let input = input.to_vec();
        // A tool that fails early closes its stdin; its exit status tells why.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        })
    });
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{:?}: {e}", cmd.get_program()));
    if let Some(w) = writer {
        let _ = w.join();
    }
    out
}

// ---------------------------------------------------------------------------------------------
// A minimal LDAP rootDSE read (anonymous, plain LDAP), so that readiness is checked with a real
// LDAP exchange without tying this module to an LDAP crate or an async runtime.

/// BER: tag, definite length, content.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// SearchRequest (message 1): base "", scope base, filter (objectClass=*), one attribute.
fn root_dse_request(attr: &str) -> Vec<u8> {
    let search = [
        tlv(0x04, b""),                         // baseObject
        tlv(0x0a, &[0]),                        // scope: baseObject
        tlv(0x0a, &[0]),                        // derefAliases: never
        tlv(0x02, &[0]),                        // sizeLimit
        tlv(0x02, &[10]),                       // timeLimit (s)
        tlv(0x01, &[0]),                        // typesOnly: false
        tlv(0x87, b"objectClass"),              // filter: present
        tlv(0x30, &tlv(0x04, attr.as_bytes())), // attributes
    ]
    .concat();
    tlv(0x30, &[tlv(0x02, &[1]), tlv(0x63, &search)].concat())
}

/// A cursor over BER elements.
struct Ber<'a>(&'a [u8]);

impl<'a> Ber<'a> {
    /// The next element: (tag, content).
    fn next(&mut self) -> Result<(u8, &'a [u8]), String> {
        let (&tag, rest) = self.0.split_first().ok_or("truncated BER element")?;
        let (&first, mut rest) = rest.split_first().ok_or("truncated BER length")?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return Err(format!("unsupported BER length form {first:#x}"));
            }
            let (bytes, after) = rest.split_at(n);
            rest = after;
            bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
        };
        if rest.len() < len {
            return Err("BER element longer than its container".to_owned());
        }
        let (content, after) = rest.split_at(len);
        self.0 = after;
        Ok((tag, content))
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Read one LDAPMessage (its content) from the stream.
fn read_ldap_message(stream: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut head = [0u8; 2];
    stream
        .read_exact(&mut head)
        .map_err(|e| format!("reading a response: {e}"))?;
    if head[0] != 0x30 {
        return Err(format!("not an LDAPMessage (tag {:#x})", head[0]));
    }
    let len = if head[1] < 0x80 {
        usize::from(head[1])
    } else {
        let n = usize::from(head[1] & 0x7f);
        if n == 0 || n > 4 {
            return Err(format!("unsupported BER length form {:#x}", head[1]));
        }
        let mut bytes = vec![0u8; n];
        stream
            .read_exact(&mut bytes)
            .map_err(|e| format!("reading a length: {e}"))?;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    if len > 1 << 20 {
        return Err(format!("response of {len} bytes is not a rootDSE"));
    }
    let mut content = vec![0u8; len];
    stream
        .read_exact(&mut content)
        .map_err(|e| format!("reading a response: {e}"))?;
    Ok(content)
}

/// Connect to `host:port`, read the rootDSE anonymously and return its defaultNamingContext.
pub fn read_default_naming_context(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<String, String> {
    let addr: SocketAddr = format!("{host}:{port}")
        .parse()
        .map_err(|e| format!("bad address {host}:{port}: {e}"))?;
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(&root_dse_request("defaultNamingContext"))
        .map_err(|e| format!("sending the search: {e}"))?;
    let mut naming_context = None;
    loop {
        let message = read_ldap_message(&mut stream)?;
        let mut fields = Ber(&message);
        let _message_id = fields.next()?;
        let (op, body) = fields.next()?;
        match op {
            // SearchResultEntry: objectName, then attributes: SEQUENCE OF (type, SET OF value).
            0x64 => {
                let mut entry = Ber(body);
                let _dn = entry.next()?;
                let (_, attributes) = entry.next()?;
                let mut attributes = Ber(attributes);
                while !attributes.is_empty() {
                    let (_, attribute) = attributes.next()?;
                    let mut attribute = Ber(attribute);
                    let (_, name) = attribute.next()?;
                    let (_, values) = attribute.next()?;
                    if name.eq_ignore_ascii_case(b"defaultNamingContext") {
                        let (_, value) = Ber(values).next()?;
                        naming_context = Some(String::from_utf8_lossy(value).into_owned());
                    }
                }
            }
            // SearchResultDone: resultCode, matchedDN, diagnosticMessage.
            0x65 => {
                let mut done = Ber(body);
                let (_, code) = done.next()?;
                let _matched = done.next()?;
                let (_, message) = done.next()?;
                if code != [0] {
                    return Err(format!(
                        "search failed with result code {code:?}: {}",
                        String::from_utf8_lossy(message)
                    ));
                }
                return naming_context
                    .ok_or_else(|| "no defaultNamingContext in the rootDSE".into());
            }
            // SearchResultReference or anything else: not expected for a base search; ignore.
            _ => {}
        }
    }
}
