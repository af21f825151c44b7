//! The wizard driven without a terminal, shared by the key-flow tests: [`pump`] hands a message
//! to the app and answers every effect it asks for from the fake runner's script until nothing
//! is left (so a key press returns once the wizard is idle); [`Keys`] gives a test's own driver
//! the key presses an admin makes; [`render`] draws the screen at 80x24 as the snapshots show it;
//! a few fixtures (the Contoso tenant, the corp.example.com forest) are the tests' common world.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use hybridsync::domain::{Dn, ObjectGuid};
use hybridsync::effects::{FakeRunner, ForestDomain, ForestInfo, Runner, TenantDomain, TenantInfo};
use hybridsync::wizard::app::{Message, State, update};
use hybridsync::wizard::keys::{ctrl, press};
use hybridsync::wizard::theme::Theme;
use hybridsync::wizard::ui::{Styles, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;

/// Hands `msg` to the app, then runs every effect (and the effects its replies cause) on
/// `runner` until the wizard is idle.
pub fn pump(state: &mut State, runner: &mut FakeRunner, msg: Message) {
    for e in update(state, msg) {
        runner.run(e);
    }
    while let Some(r) = runner.next_reply() {
        for e in update(state, Message::Reply(r)) {
            runner.run(e);
        }
    }
}

/// The screen at 80x24 with the default theme.
pub fn render(state: &State) -> String {
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let styles = Styles::from_theme(&Theme::default());
    t.draw(|f| draw(f, state, &styles)).unwrap();
    t.backend().to_string()
}

/// Key presses, for a driver that can take a message.
pub trait Keys: Sized {
    /// Hands one message to the wizard (usually through [`pump`]).
    fn send(&mut self, msg: Message);

    fn key(&mut self, code: KeyCode) -> &mut Self {
        self.send(Message::Key(press(code)));
        self
    }

    fn enter(&mut self) -> &mut Self {
        self.key(KeyCode::Enter)
    }

    fn tab(&mut self) -> &mut Self {
        self.key(KeyCode::Tab)
    }

    fn down(&mut self) -> &mut Self {
        self.key(KeyCode::Down)
    }

    fn downs(&mut self, n: usize) -> &mut Self {
        for _ in 0..n {
            self.down();
        }
        self
    }

    fn up(&mut self) -> &mut Self {
        self.key(KeyCode::Up)
    }

    fn space(&mut self) -> &mut Self {
        self.key(KeyCode::Char(' '))
    }

    fn ctrl(&mut self, c: char) -> &mut Self {
        self.send(Message::Key(ctrl(c)));
        self
    }

    fn typ(&mut self, text: &str) -> &mut Self {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
        self
    }
}

/// A DN from a literal.
pub fn dn(s: &str) -> Dn {
    Dn::parse(s).unwrap()
}

/// A GUID of sixteen equal bytes.
pub fn guid(n: u8) -> ObjectGuid {
    ObjectGuid::from_bytes(&[n; 16]).unwrap()
}

/// The tenant: contoso.onmicrosoft.com with corp.example.com verified.
pub fn tenant() -> TenantInfo {
    TenantInfo {
        tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
        initial_domain: "contoso.onmicrosoft.com".into(),
        admin: "admin@contoso.onmicrosoft.com".into(),
        domains: vec![
            TenantDomain {
                name: "contoso.onmicrosoft.com".into(),
                verified: true,
            },
            TenantDomain {
                name: "corp.example.com".into(),
                verified: true,
            },
        ],
    }
}

/// The forest corp.example.com (one domain, no Exchange schema).
pub fn forest() -> ForestInfo {
    ForestInfo {
        forest: "corp.example.com".into(),
        domains: vec![ForestDomain {
            name: "corp.example.com".into(),
            naming_context: dn("DC=corp,DC=example,DC=com"),
        }],
        upn_suffixes: vec!["corp.example.com".into()],
        exchange_schema: false,
    }
}
