//! The command line as an admin meets it: help for every command, exit codes, completions,
//! commands that are not built yet, and the configuration commands end to end on real files.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use clap::CommandFactory;
use hybridsync::cli::Cli;
use support::{hybridsync, run, text};

/// Every subcommand path, e.g. ["sync", "run"].
fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut path = prefix.clone();
            path.push(sub.get_name().to_string());
            out.push(path.clone());
            walk(sub, path, out);
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), Vec::new(), &mut out);
    out
}

#[test]
fn every_command_and_argument_has_help_text() {
    fn check(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        if cmd.get_about().is_none() {
            missing.push(format!("{path}: no description"));
        }
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if id != "help" && id != "version" && arg.get_help().is_none() {
                missing.push(format!("{path} {id}: no help"));
            }
        }
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            check(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    check(&Cli::command(), "hybridsync", &mut missing);
    assert!(missing.is_empty(), "{missing:#?}");
}

#[test]
fn help_works_for_every_command() {
    let home = tempfile::tempdir().unwrap();
    let paths = command_paths();
    assert!(paths.len() >= 25, "the whole surface is there: {paths:?}");
    for path in paths {
        let out = run(hybridsync(home.path()).args(&path).arg("--help"));
        assert_eq!(out.status.code(), Some(0), "{path:?} --help");
        let help = text(&out.stdout);
        assert!(help.contains("Usage: hybridsync"), "{path:?}: {help}");
    }
    let top = text(&run(hybridsync(home.path()).arg("--help")).stdout);
    assert!(
        top.contains("Exit codes:") && top.contains("3  the configuration file has errors"),
        "{top}"
    );
}

#[test]
fn commands_that_cannot_run_here_say_so_and_exit_2() {
    let home = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (
            &["wizard"][..],
            "hybridsync wizard: needs an interactive terminal",
        ),
        (
            &["demo"][..],
            "hybridsync demo: the wizard needs an interactive terminal",
        ),
    ] {
        let out = run(hybridsync(home.path()).args(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(
            stderr.contains("Nothing was changed."),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn preflight_without_a_configuration_reports_it() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let out = run(hybridsync(home.path())
        .args(["preflight", "--json"])
        .env("HYBRIDSYNC_STATE_DIR", &state));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let checks = v["checks"].as_array().unwrap();
    let config = checks.iter().find(|c| c["id"] == "local.config").unwrap();
    assert_eq!(config["status"], "fail");
    assert!(
        config["fix"]
            .as_str()
            .unwrap()
            .contains("hybridsync wizard")
    );
    assert!(checks.iter().any(|c| c["id"] == "local.disk"));
    assert!(!state.exists(), "the preflight changes nothing");
}

#[test]
fn tenant_emulator_help_explains_every_flag_and_bad_rates_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let out = run(hybridsync(home.path()).args(["tenant-emulator", "--help"]));
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for flag in [
        "--listen",
        "--state",
        "--ca-out",
        "--bootstrap-out",
        "--tenant",
        "--tenant-name",
        "--domain",
        "--seed",
        "--plain-http",
        "--no-throttle",
        "--throttle-scale",
        "--fail-rate",
        "--latency-ms",
        "--drop-rate",
        "--state-dir",
    ] {
        assert!(help.contains(flag), "{flag} in {help}");
    }
    let out = run(hybridsync(home.path()).args(["tenant-emulator", "--fail-rate", "2"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn usage_errors_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let out = run(hybridsync(home.path()).args(["sync", "run", "--full", "--delta"]));
    assert_eq!(out.status.code(), Some(2));
    let out = run(hybridsync(home.path()).args(["staging", "maybe"]));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bash_completions_cover_the_commands() {
    let home = tempfile::tempdir().unwrap();
    let out = run(hybridsync(home.path()).args(["completions", "bash"]));
    assert_eq!(out.status.code(), Some(0));
    let script = text(&out.stdout);
    assert!(
        script.contains("complete -F _hybridsync"),
        "a bash completion function"
    );
    for word in [
        "pending-exports",
        "allow-deletes",
        "tenant-emulator",
        "preflight",
    ] {
        assert!(script.contains(word), "{word}");
    }
}

#[test]
fn missing_config_file_is_a_clear_error() {
    let home = tempfile::tempdir().unwrap();
    let out = run(hybridsync(home.path()).args(["config", "check"]));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    use std::os::unix::fs::MetadataExt;
    let root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
    let default = if root {
        std::path::PathBuf::from("/etc/hybridsync/hybridsync.toml")
    } else {
        home.path().join("config/hybridsync/hybridsync.toml")
    };
    assert!(
        !default.exists(),
        "{} exists on this machine; this test needs it absent",
        default.display()
    );
    let expected = format!(
        "error: cannot read configuration file '{}': No such file or directory (os error 2)\n",
        default.display()
    );
    assert_eq!(stderr, expected);
}

#[test]
fn config_flag_and_environment_choose_the_file() {
    let home = tempfile::tempdir().unwrap();
    let out = run(hybridsync(home.path())
        .env("HYBRIDSYNC_CONFIG", "tests/config/valid/minimal.toml")
        .args(["config", "check"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("tests/config/valid/minimal.toml: valid (1 directory"));
    let out = run(hybridsync(home.path()).args([
        "--config",
        "tests/config/invalid/bad_theme.toml",
        "config",
        "check",
    ]));
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn check_json_lists_issues_with_keys_and_lines() {
    let home = tempfile::tempdir().unwrap();
    let out = run(hybridsync(home.path()).args([
        "config",
        "check",
        "--json",
        "tests/config/invalid/many_problems.toml",
    ]));
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    let keys: Vec<&str> = v["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "directories[1].port",
            "sign_in.single_sign_on",
            "sync.interval",
            "sync.staging"
        ]
    );
    assert_eq!(v["issues"][0]["line"], 13);
    assert_eq!(v["issues"][0]["severity"], "error");
}

#[test]
fn show_prints_the_effective_configuration_without_secrets() {
    let home = tempfile::tempdir().unwrap();
    let out =
        run(hybridsync(home.path()).args(["config", "show", "tests/config/valid/minimal.toml"]));
    assert_eq!(out.status.code(), Some(0));
    let shown = text(&out.stdout);
    // Defaults are filled in ...
    assert!(shown.contains("interval = \"30m\""), "{shown}");
    assert!(shown.contains("count = 500"), "{shown}");
    // ... and secrets are references only.
    assert!(shown.contains("secret_ref = \"store:ad-connector\""));
    // The effective configuration is itself a valid file that means the same.
    let body: String = shown
        .lines()
        .skip_while(|l| l.starts_with('#') || l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    let reparsed = hybridsync::config::parse(&body).unwrap().config;
    let original =
        hybridsync::config::load(&support::root().join("tests/config/valid/minimal.toml"))
            .unwrap()
            .config;
    assert_eq!(reparsed, original);

    let out = run(hybridsync(home.path()).args([
        "config",
        "show",
        "--json",
        "tests/config/valid/minimal.toml",
    ]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sync"]["delete_guard"]["count"], 500);
}

#[test]
fn diff_compares_key_by_key() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = support::root().join("tests/config/valid/minimal.toml");
    let base = std::fs::read_to_string(&a).unwrap();
    // Spelling out a default is no difference.
    let same = dir.path().join("same.toml");
    std::fs::write(&same, format!("{base}\n[sync]\ninterval = \"30m\"\n")).unwrap();
    let out = run(hybridsync(home.path())
        .args(["config", "diff"])
        .arg(&a)
        .arg(&same));
    assert_eq!(text(&out.stdout), "no differences\n");
    assert_eq!(out.status.code(), Some(0));

    let b = dir.path().join("b.toml");
    std::fs::write(&b, format!("{base}\n[sync]\ninterval = \"1h\"\nstaging_mode = true\n\n[service]\nmetrics_listen = \"127.0.0.1:9464\"\n")).unwrap();
    let out = run(hybridsync(home.path())
        .args(["config", "diff", "--json"])
        .arg(&a)
        .arg(&b));
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!([
            { "change": "added", "key": "service.metrics_listen", "new": "'127.0.0.1:9464'" },
            { "change": "changed", "key": "sync.interval", "old": "'30m'", "new": "'1h'" },
            { "change": "changed", "key": "sync.staging_mode", "old": "false", "new": "true" },
        ])
    );
    let out = run(hybridsync(home.path())
        .args(["config", "diff"])
        .arg(&a)
        .arg(&b));
    let lines = text(&out.stdout);
    assert!(
        lines.contains("~ sync.interval: '30m' -> '1h'\n"),
        "{lines}"
    );
    assert!(
        lines.contains("+ service.metrics_listen = '127.0.0.1:9464'\n"),
        "{lines}"
    );
}

#[test]
fn export_then_import_moves_settings_and_turns_staging_on() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("settings.json");
    let out = run(hybridsync(home.path())
        .args([
            "config",
            "export",
            "tests/config/valid/two_forests_selected_ous.toml",
            "-o",
        ])
        .arg(&bundle));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json = std::fs::read_to_string(&bundle).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["hybridsync_settings"]["secrets_to_provide"],
        serde_json::json!([
            "store:ad-corp",
            "systemd:ad-fabrikam",
            "file:/etc/hybridsync/app-secret"
        ])
    );

    let target = dir.path().join("imported.toml");
    let out = run(hybridsync(home.path())
        .args(["config", "import"])
        .arg(&bundle)
        .arg("-o")
        .arg(&target));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("staging mode is ON"), "{stdout}");
    assert!(stdout.contains("  store:ad-corp\n"), "{stdout}");
    let imported = hybridsync::config::load(&target).unwrap().config;
    let original = hybridsync::config::load(
        &support::root().join("tests/config/valid/two_forests_selected_ous.toml"),
    )
    .unwrap()
    .config;
    assert!(imported.sync.staging_mode);
    assert_eq!(imported.directories, original.directories);
    assert_eq!(imported.features, original.features);
    // The written file is the commented template with these settings.
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains("# Connect your directories")
    );

    // Never over an existing file without --force.
    let out = run(hybridsync(home.path())
        .args(["config", "import"])
        .arg(&bundle)
        .arg("-o")
        .arg(&target));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("already exists"));
}

#[test]
fn staging_toggle_edits_only_that_key() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hybridsync.toml");
    let original =
        std::fs::read_to_string(support::root().join("tests/config/save/before.toml")).unwrap();
    std::fs::write(&file, &original).unwrap();
    let staging = |action: &str| {
        run(hybridsync(home.path())
            .arg("--config")
            .arg(&file)
            .args(["staging", action]))
    };

    let out = staging("status");
    assert_eq!(
        text(&out.stdout),
        "staging mode: off (this server exports)\n"
    );
    let out = staging("on");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let on = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        on,
        original.replace(
            "interval = \"30m\"\n",
            "interval = \"30m\"\nstaging_mode = true\n"
        )
    );
    let out = run(hybridsync(home.path())
        .arg("--config")
        .arg(&file)
        .args(["staging", "status", "--json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["staging_mode"], true);
    let out = staging("off");
    assert_eq!(out.status.code(), Some(0));
    let off = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        off,
        original.replace(
            "interval = \"30m\"\n",
            "interval = \"30m\"\nstaging_mode = false\n"
        )
    );
}

#[test]
fn staging_refuses_a_broken_configuration() {
    let home = tempfile::tempdir().unwrap();
    let out = run(hybridsync(home.path()).args([
        "--config",
        "tests/config/invalid/password_writeback.toml",
        "staging",
        "off",
    ]));
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn secrets_round_trip_through_the_encrypted_file_and_never_print_values() {
    let home = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let cmd = || {
        let mut c = hybridsync(home.path());
        c.arg("--state-dir")
            .arg(state.path())
            .arg("--config")
            .arg("tests/config/valid/minimal.toml");
        c
    };
    let mut set = cmd();
    set.args(["secrets", "set", "ad-connector"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = set.spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"S3cret-Value!\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "stored 'ad-connector' (backend: encrypted-file); reference it as \"store:ad-connector\"\n"
    );

    let out = run(cmd().args(["secrets", "list"]));
    assert!(text(&out.stdout).contains("  ad-connector\n"));
    // The minimal configuration also references store:entra-app-certificate, not stored yet.
    let out = run(cmd().args(["secrets", "check"]));
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(report.contains("  store:ad-connector: ok\n"), "{report}");
    assert!(
        report.contains("  store:entra-app-certificate: MISSING"),
        "{report}"
    );
    for dir in [state.path(), home.path()] {
        for entry in walk(dir) {
            let bytes = std::fs::read(&entry).unwrap_or_default();
            assert!(
                !bytes.windows(13).any(|w| w == b"S3cret-Value!"),
                "plain secret in {}",
                entry.display()
            );
        }
    }
    assert!(!report.contains("S3cret"));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn rules_test_evaluates_an_expression_for_scripts() {
    let home = tempfile::tempdir().unwrap();
    let test = |args: &[&str]| {
        let out = run(hybridsync(home.path()).args(["rules", "test"]).args(args));
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    // Disabled account (514): the documented accountEnabled flow.
    let (code, out, _) = test(&[
        "--expr",
        "IIF(BitAnd([userAccountControl],2)=0,True,False)",
        "--attr",
        "userAccountControl=514",
        "--json",
    ]);
    assert_eq!((code, out.as_str()), (Some(0), "{\"value\":false}\n"));
    // A repeated --attr makes a multi-valued attribute; functions apply value by value.
    let (code, out, _) = test(&[
        "--expr",
        "Trim([proxyAddresses])",
        "--attr",
        "proxyAddresses= SMTP:ann@contoso.com",
        "--attr",
        "proxyAddresses=smtp:a@contoso.com ",
        "--json",
    ]);
    assert_eq!(
        (code, out.as_str()),
        (
            Some(0),
            "{\"value\":[\"SMTP:ann@contoso.com\",\"smtp:a@contoso.com\"]}\n"
        )
    );
    // Binary values as in LDIF: name::base64.
    let (_, out, _) = test(&[
        "--expr",
        "ConvertToBase64([objectGUID])",
        "--attr",
        "objectGUID::1MOyofblGAcpOktcbX6PkA==",
    ]);
    assert_eq!(out, "1MOyofblGAcpOktcbX6PkA==\n");
    let (_, out, _) = test(&["--expr", "Len([x])", "--json"]);
    assert_eq!(out, "{\"value\":null}\n");
    let (_, out, _) = test(&["--expr", "[n] * 2", "--attr", "n=21", "--json"]);
    assert_eq!(out, "{\"value\":42}\n");
    let (_, out, _) = test(&[
        "--expr",
        "[sAMAccountName]&\"@\"&%Domain.FQDN%",
        "--attr",
        "sAMAccountName=jdoe",
        "--param",
        "Domain.FQDN=corp.example.com",
        "--json",
    ]);
    assert_eq!(out, "{\"value\":\"jdoe@corp.example.com\"}\n");
    // Errors: exit 1, {"error": ...} with the column.
    let (code, out, _) = test(&["--expr", "Error(\"AccountName is not present\")", "--json"]);
    assert_eq!(
        (code, out.as_str()),
        (
            Some(1),
            "{\"error\":\"column 1: AccountName is not present\"}\n"
        )
    );
    let (code, out, _) = test(&["--expr", "Left([cn]", "--json"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        out,
        "{\"error\":\"the expression does not parse: column 10: expected ',' or ')' in the call to Left opened at column 5\"}\n"
    );
    let (code, _, err) = test(&["--expr", "Left([cn], 2)", "--attr", "cn"]);
    assert_eq!(
        (code, err.as_str()),
        (
            Some(1),
            "error: --attr cn: write name=value (text) or name::base64 (binary)\n"
        )
    );
}

const ANN: &str = "dn: CN=Ann Smith,OU=Staff,DC=corp,DC=example,DC=com
objectClass: user
cn: Ann Smith
sAMAccountName: asmith
displayName: Ann Smith
userAccountControl: 514
objectGUID:: 1MOyofblGAcpOktcbX6PkA==
proxyAddresses: SMTP:ann.smith@corp.example.com
proxyAddresses: smtp:asmith@corp.example.com
";

#[test]
fn rules_list_show_and_test_a_whole_rule() {
    let home = tempfile::tempdir().unwrap();
    let out = run(hybridsync(home.path()).args(["rules", "list"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    assert!(listing.contains("  100  inbound   ad      user -> person            provision    In from AD - User Join\n"), "{listing}");
    assert!(listing.contains("Out to Entra - User Join"), "{listing}");
    let out = run(hybridsync(home.path()).args(["rules", "list", "--json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let precedences: Vec<u64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["precedence"].as_u64().unwrap())
        .collect();
    assert!(
        precedences.windows(2).all(|w| w[0] < w[1]),
        "listed in precedence order"
    );

    let out = run(hybridsync(home.path()).args(["rules", "show", "in from ad - user join"]));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("defined in     templates/rules/in-from-ad-user.toml:6 (shipped)"),
        "{shown}"
    );
    assert!(
        shown.contains("scope          isCriticalSystemObject NOTEQUAL"),
        "{shown}"
    );
    let out = run(hybridsync(home.path()).args(["rules", "show", "No such rule"]));
    assert_eq!(out.status.code(), Some(1));

    let dir = tempfile::tempdir().unwrap();
    let ldif = dir.path().join("ann.ldif");
    std::fs::write(&ldif, ANN).unwrap();
    // One rule: the Join rule's cloudFiltered flow on an MSOL_ account.
    let out = run(hybridsync(home.path())
        .args([
            "rules",
            "test",
            "--rule",
            "In from AD - User Join",
            "--json",
            "--ldif",
        ])
        .arg(&ldif)
        .args(["--attr", "sAMAccountName=MSOL_0123456789ab"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["in_scope"], true);
    assert_eq!(
        v["flows"][0],
        serde_json::json!({ "target": "sourceAnchorBinary", "kind": "value", "value": "1MOyofblGAcpOktcbX6PkA==" })
    );
    assert_eq!(v["flows"][1]["value"], true);
    // The whole inbound set: a disabled user keeps its source anchor but is not enabled.
    let out = run(hybridsync(home.path())
        .args([
            "rules",
            "test",
            "--object-type",
            "user",
            "--json",
            "--param",
            "Domain.FQDN=corp.example.com",
            "--ldif",
        ])
        .arg(&ldif));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["connected"], true);
    assert_eq!(v["attributes"]["accountEnabled"]["value"], false);
    assert_eq!(
        v["attributes"]["sourceAnchor"]["value"],
        "1MOyofblGAcpOktcbX6PkA=="
    );
    assert_eq!(
        v["attributes"]["cloudFiltered"]["value"],
        serde_json::Value::Null
    );
    assert_eq!(
        v["attributes"]["proxyAddresses"]["value"],
        serde_json::json!([
            "SMTP:ann.smith@corp.example.com",
            "smtp:asmith@corp.example.com"
        ])
    );
}

#[test]
fn rules_next_to_the_config_file_replace_shipped_rules_or_are_rejected_with_file_and_line() {
    let home = tempfile::tempdir().unwrap();
    let etc = tempfile::tempdir().unwrap();
    let config = etc.path().join("hybridsync.toml");
    std::fs::copy(
        support::root().join("tests/config/valid/minimal.toml"),
        &config,
    )
    .unwrap();
    std::fs::create_dir(etc.path().join("rules")).unwrap();
    let mine = etc.path().join("rules/mine.toml");
    let shipped =
        std::fs::read_to_string(support::root().join("templates/rules/in-from-ad-contact.toml"))
            .unwrap();
    // Replace the shipped Contact Common rule by a copy under the same name.
    let start = shipped
        .find("[[rule]]\nname = \"In from AD - Contact Common\"")
        .unwrap();
    std::fs::write(&mine, &shipped[start..]).unwrap();
    let out = run(hybridsync(home.path()).arg("--config").arg(&config).args([
        "rules",
        "show",
        "In from AD - Contact Common",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains(&format!("defined in     {}:1, replacing the shipped rule at templates/rules/in-from-ad-contact.toml:", mine.display())), "{shown}");

    std::fs::write(&mine, "[[rule]]\nname = \"Mine\"\ndirection = \"inbound\"\nconnector = \"ad\"\nsource_object_type = \"user\"\ntarget_object_type = \"person\"\nlink_type = \"join\"\nprecedence = 106\n").unwrap();
    let out = run(hybridsync(home.path())
        .arg("--config")
        .arg(&config)
        .args(["rules", "list"]));
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.starts_with(&format!("error: {}:8: rule 'Mine': precedence 106 is also used by rule 'In from AD - User Common'", mine.display())), "{err}");
}

#[test]
fn pending_exports_are_read_from_the_store_as_table_and_json() {
    use hybridsync::domain::{AttributeName, Dn};
    use hybridsync::engine::expr::Value;
    use hybridsync::engine::model::{
        AttributeChange, Attributes, ConnectorName, Operation, PendingExport,
    };
    use hybridsync::engine::rules::MvObjectType;
    use hybridsync::engine::store::{SqliteStore, Store};

    let home = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let cmd = |json: bool| {
        let mut c = hybridsync(home.path());
        c.arg("--state-dir").arg(state.path()).args([
            "--config",
            "tests/config/valid/minimal.toml",
            "sync",
            "pending-exports",
        ]);
        if json {
            c.arg("--json");
        }
        run(&mut c)
    };
    // No cycle has run: nothing yet, not an error.
    let out = cmd(false);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).starts_with("no pending exports: no synchronization has run yet"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(text(&cmd(true).stdout), "[]\n");

    {
        let mut store = SqliteStore::open(&state.path().join("hybridsync.db"), "test").unwrap();
        let mut tx = store.begin().unwrap();
        let entra = ConnectorName::new("entra");
        let mv = tx.create_mv(MvObjectType::Person).unwrap();
        let dn = Dn::parse("CN=Ann Smith,OU=Cloud").unwrap();
        let cs = tx
            .provision_export_object(&entra, mv, &dn, "user", &Attributes::new())
            .unwrap();
        let upn = AttributeChange {
            attribute: AttributeName::new("userPrincipalName").unwrap(),
            old: vec![],
            new: vec![Value::Str("ann@contoso.example".into())],
            kind: hybridsync::engine::model::ChangeKind::Replace,
        };
        tx.put_pending_export(&PendingExport {
            connector: entra,
            cs,
            anchor: None,
            dn,
            object_class: "user".into(),
            operation: Operation::Add,
            changes: vec![upn],
        })
        .unwrap();
        tx.commit().unwrap();
    }
    let out = cmd(false);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "ADD     entra CN=Ann Smith,OU=Cloud (user)\n          userPrincipalName: (none) -> 'ann@contoso.example'\n1 pending export(s): 1 add\n"
    );
    let v: serde_json::Value = serde_json::from_slice(&cmd(true).stdout).unwrap();
    assert_eq!(v[0]["operation"], "add");
    assert_eq!(
        v[0]["changes"][0]["new"],
        serde_json::json!(["ann@contoso.example"])
    );
    // Filtered by connector.
    let out = run(hybridsync(home.path())
        .arg("--state-dir")
        .arg(state.path())
        .args([
            "--config",
            "tests/config/valid/minimal.toml",
            "sync",
            "pending-exports",
            "--connector",
            "contoso.example",
        ]));
    assert_eq!(text(&out.stdout), "no pending exports\n");
}

#[test]
fn history_and_allow_deletes_use_the_store() {
    use hybridsync::domain::Dn;
    use hybridsync::engine::expr::DateTime;
    use hybridsync::engine::model::ConnectorName;
    use hybridsync::engine::store::{
        NewRun, RunCounts, RunEnd, RunObjectError, RunStatus, SqliteStore, Store,
    };

    let home = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let sync = |args: &[&str]| {
        run(hybridsync(home.path())
            .arg("--state-dir")
            .arg(state.path())
            .args(["--config", "tests/config/valid/minimal.toml", "sync"])
            .args(args))
    };
    assert!(text(&sync(&["history"]).stdout).starts_with("no runs yet"));
    assert!(
        text(&sync(&["allow-deletes"]).stdout)
            .starts_with("nothing to release: no synchronization has run yet")
    );

    let db = state.path().join("hybridsync.db");
    {
        let mut store = SqliteStore::open(&db, "test").unwrap();
        let mut tx = store.begin().unwrap();
        let at = DateTime::from_parts(2026, 11, 22, 3, 0, 0, 0).unwrap();
        let run = tx
            .start_run(&NewRun {
                profile: "delta-cycle".into(),
                connectors: vec![ConnectorName::new("contoso.example")],
                started_at: at,
            })
            .unwrap();
        tx.add_run_error(
            run,
            &RunObjectError {
                connector: ConnectorName::new("contoso.example"),
                dn: Some(Dn::parse("CN=Walter Grieve,OU=Users,DC=contoso,DC=example").unwrap()),
                anchor: None,
                attribute: None,
                message: "AccountName is not present".into(),
            },
        )
        .unwrap();
        let counts = RunCounts {
            adds: 3,
            updates: 2,
            deletes: 0,
            errors: 1,
            filtered: 4,
        };
        tx.finish_run(
            run,
            &RunEnd {
                status: RunStatus::CompletedWithErrors,
                counts,
                per_connector: Vec::new(),
                finished_at: at,
                duration: std::time::Duration::from_millis(1500),
                message: None,
            },
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let out = sync(&["history"]);
    let shown = text(&out.stdout);
    assert!(
        shown.starts_with("#1 2026-11-22 03:00:00 delta-cycle [contoso.example] completed-with-errors, 1.5 s: 3 added, 2 updated, 0 deleted, 1 errors, 4 filtered\n"),
        "{shown}"
    );
    assert!(shown.contains("    contoso.example CN=Walter Grieve,OU=Users,DC=contoso,DC=example: AccountName is not present\n"), "{shown}");
    let v: serde_json::Value =
        serde_json::from_slice(&sync(&["history", "5", "--json"]).stdout).unwrap();
    assert_eq!(v[0]["status"], "completed-with-errors");
    assert_eq!(
        v[0]["object_errors"][0]["message"],
        "AccountName is not present"
    );

    // A release is recorded once and used up by the next export.
    let out = sync(&["allow-deletes", "--connector", "entra"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("the next export to entra may delete 0 object(s)"));
    let mut store = SqliteStore::open(&db, "test").unwrap();
    let mut tx = store.begin().unwrap();
    assert!(
        tx.take_delete_release(&ConnectorName::new("entra"))
            .unwrap()
    );
    assert!(
        !tx.take_delete_release(&ConnectorName::new("entra"))
            .unwrap()
    );
}

#[test]
fn sync_run_and_status_with_an_ldif_forest_and_an_ldif_tenant() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::copy(
        support::root().join("templates/sample-directory.ldif"),
        work.path().join("contoso.ldif"),
    )
    .unwrap();
    let minimal =
        std::fs::read_to_string(support::root().join("tests/config/valid/minimal.toml")).unwrap();
    let config = minimal
        .replace(
            "forest = \"corp.example.com\"",
            "forest = \"contoso.example\"\nldif_file = \"contoso.ldif\"",
        )
        .replace(
            "tenant_id = \"contoso.onmicrosoft.com\"",
            "tenant_id = \"contoso.onmicrosoft.com\"\nldif_file = \"tenant.ldif\"",
        )
        .replace(
            "schema_version = 1",
            &format!(
                "schema_version = 1\n\n[install]\nstate_dir = '{}'",
                work.path().join("state").display()
            ),
        );
    let path = work.path().join("hybridsync.toml");
    std::fs::write(&path, &config).unwrap();
    let sync = |args: &[&str]| {
        run(hybridsync(home.path())
            .arg("--config")
            .arg(&path)
            .arg("sync")
            .args(args))
    };

    let out = sync(&["run"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let report = text(&out.stdout);
    assert!(
        report.contains("full cycle (no full cycle has run yet), success"),
        "{report}"
    );
    assert!(
        report.contains("entra") && report.contains("export: 2"),
        "{report}"
    );
    assert!(work.path().join("tenant.ldif").exists());
    {
        use hybridsync::engine::store::{SqliteStore, Store};
        let mut store =
            SqliteStore::open_read_only(&work.path().join("state/hybridsync.db")).unwrap();
        let tx = store.begin().unwrap();
        let applied = tx.latest_config().unwrap().unwrap();
        assert_eq!(
            applied.text, config,
            "the applied configuration is kept in the history"
        );
    }

    let out = sync(&["run", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "delta");
    assert_eq!(v["status"], "success");
    let stages: u64 = ["import", "sync", "export"]
        .iter()
        .map(|s| v["stages_ms"][s].as_u64().unwrap())
        .sum();
    assert!(
        stages <= v["duration_ms"].as_u64().unwrap(),
        "the stages are parts of the cycle: {v}"
    );
    let entra = v["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "entra")
        .unwrap();
    assert_eq!(entra["export"]["adds"], 0);

    let out = sync(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["last_run"]["status"], "success");
    assert_eq!(v["staging_mode"], false);
    let out = sync(&["status"]);
    assert!(
        text(&out.stdout).contains("last cycle:   run 2 (delta) success"),
        "{}",
        text(&out.stdout)
    );
    // While the wizard holds the suspend lock, status says the scheduler is suspended.
    let held =
        hybridsync::service::SuspendLock::acquire(&work.path().join("state"), "wizard").unwrap();
    assert!(held.is_some());
    let v: serde_json::Value = serde_json::from_slice(&sync(&["status", "--json"]).stdout).unwrap();
    assert_eq!(v["scheduler"]["suspended"], true);
    drop(held);

    // Without an LDIF file the forest is read over LDAP, with the account's password from the
    // credential store; a password that was never stored is said plainly, exit 2.
    let ldap_only = config.replace("ldif_file = \"contoso.ldif\"\n", "");
    std::fs::write(&path, ldap_only).unwrap();
    let out = sync(&["run"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot read the password of the connector account"),
        "{}",
        text(&out.stderr)
    );
}
