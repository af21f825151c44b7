//! Drawing: the frame every page shares (title with "step k of n", the page body, the footer
//! generated from the key table, the quit dialog) and the small render helpers pages use
//! (checkboxes, radio buttons, text fields with their validation message, spinners).
//!
//! Invariants: drawing reads the state and never changes it; every colour comes from the
//! [`Theme`]; it fits 80x24 and follows any size (the body scrolls to keep the focused line
//! visible); a masked field is drawn as bullets only.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color as RColor, Modifier as RModifier, Style as RStyle};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::effects::CheckStatus;
use crate::wizard::app::{PageId, Quit, State, hints, sequence};
use crate::wizard::keys::footer_hints;
use crate::wizard::pages;
use crate::wizard::text;
use crate::wizard::theme::{Color, Modifier, Style, Theme};
use crate::wizard::widgets::TextField;

/// The theme as ratatui styles.
#[derive(Debug, Clone)]
pub struct Styles {
    /// Ordinary text.
    pub text: RStyle,
    /// Explanations.
    pub muted: RStyle,
    /// Titles.
    pub title: RStyle,
    /// Frames.
    pub border: RStyle,
    /// Focused frame.
    pub focus_border: RStyle,
    /// Highlighted row.
    pub selection: RStyle,
    /// Text fields.
    pub input: RStyle,
    /// Invalid field.
    pub input_invalid: RStyle,
    /// Errors.
    pub error: RStyle,
    /// Warnings.
    pub warning: RStyle,
    /// Success.
    pub success: RStyle,
    /// Footer keys.
    pub key_hint: RStyle,
    /// Checkboxes.
    pub checkbox: RStyle,
    /// Spinners and progress.
    pub progress: RStyle,
}

fn color(c: Color) -> RColor {
    match c {
        Color::Reset => RColor::Reset,
        Color::Ansi(i) => match i {
            0 => RColor::Black,
            1 => RColor::Red,
            2 => RColor::Green,
            3 => RColor::Yellow,
            4 => RColor::Blue,
            5 => RColor::Magenta,
            6 => RColor::Cyan,
            7 => RColor::Gray,
            8 => RColor::DarkGray,
            9 => RColor::LightRed,
            10 => RColor::LightGreen,
            11 => RColor::LightYellow,
            12 => RColor::LightBlue,
            13 => RColor::LightMagenta,
            14 => RColor::LightCyan,
            _ => RColor::White,
        },
        Color::Indexed(i) => RColor::Indexed(i),
        Color::Rgb(r, g, b) => RColor::Rgb(r, g, b),
    }
}

fn style(s: &Style) -> RStyle {
    let mut m = RModifier::empty();
    for x in &s.modifiers {
        m |= match x {
            Modifier::Bold => RModifier::BOLD,
            Modifier::Dim => RModifier::DIM,
            Modifier::Italic => RModifier::ITALIC,
            Modifier::Underlined => RModifier::UNDERLINED,
            Modifier::Reversed => RModifier::REVERSED,
        };
    }
    RStyle::default()
        .fg(color(s.fg))
        .bg(color(s.bg))
        .add_modifier(m)
}

impl Styles {
    /// Convert a theme.
    pub fn from_theme(t: &Theme) -> Self {
        Self {
            text: style(&t.text),
            muted: style(&t.muted),
            title: style(&t.title),
            border: style(&t.border),
            focus_border: style(&t.focus_border),
            selection: style(&t.selection),
            input: style(&t.input),
            input_invalid: style(&t.input_invalid),
            error: style(&t.error),
            warning: style(&t.warning),
            success: style(&t.success),
            key_hint: style(&t.key_hint),
            checkbox: style(&t.checkbox),
            progress: style(&t.progress),
        }
    }
}

/// A page body: its lines and the line that holds the focus (kept visible when scrolling).
#[derive(Debug, Default)]
pub struct Body {
    /// The lines.
    pub lines: Vec<Line<'static>>,
    /// Index of the focused line.
    pub focus: usize,
}

impl Body {
    /// Append a line.
    pub fn push(&mut self, line: Line<'static>) {
        self.lines.push(line);
    }

    /// Append a line and mark it as the focused one when `focused`.
    pub fn push_focus(&mut self, line: Line<'static>, focused: bool) {
        if focused {
            self.focus = self.lines.len();
        }
        self.lines.push(line);
    }

    /// Append an empty line.
    pub fn blank(&mut self) {
        self.lines.push(Line::default());
    }

    /// Append a paragraph of text in `style`.
    pub fn text(&mut self, s: impl Into<String>, style: RStyle) {
        self.lines.push(Line::styled(s.into(), style));
    }

    /// Append a text field (label, value, validation message).
    pub fn field(
        &mut self,
        label: &str,
        f: &TextField,
        focused: bool,
        error: Option<&str>,
        st: &Styles,
    ) {
        self.push(Line::styled(label.to_string(), st.text));
        let value_style = if error.is_some() {
            st.input_invalid
        } else {
            st.input
        };
        let marker = if focused { "› " } else { "  " };
        let cursor = if focused { "▏" } else { "" };
        let border = if focused { st.focus_border } else { st.border };
        self.push_focus(
            Line::from(vec![
                Span::styled(marker, border),
                Span::styled("[ ", border),
                Span::styled(f.display(), value_style),
                Span::styled(cursor, st.focus_border),
                Span::styled(" ]", border),
            ]),
            focused,
        );
        if let Some(e) = error {
            self.push(Line::styled(format!("  {e}"), st.error));
        }
    }
}

/// A checkbox state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// `[ ]`.
    Off,
    /// `[x]`.
    On,
    /// `[-]`: some children differ.
    Partial,
}

impl From<bool> for Check {
    fn from(b: bool) -> Self {
        if b { Check::On } else { Check::Off }
    }
}

fn marker(focused: bool) -> &'static str {
    if focused { "› " } else { "  " }
}

/// A checkbox row.
pub fn checkbox(
    check: Check,
    label: &str,
    focused: bool,
    enabled: bool,
    st: &Styles,
) -> Line<'static> {
    let mark = match check {
        Check::Off => "[ ]",
        Check::On => "[x]",
        Check::Partial => "[-]",
    };
    let label_style = if !enabled {
        st.muted
    } else if focused {
        st.selection
    } else {
        st.text
    };
    Line::from(vec![
        Span::styled(marker(focused), st.focus_border),
        Span::styled(mark, st.checkbox),
        Span::raw(" "),
        Span::styled(label.to_string(), label_style),
    ])
}

/// A radio option row.
pub fn radio(selected: bool, label: &str, focused: bool, st: &Styles) -> Line<'static> {
    let mark = if selected { "(•)" } else { "( )" };
    Line::from(vec![
        Span::styled(marker(focused), st.focus_border),
        Span::styled(mark, st.checkbox),
        Span::raw(" "),
        Span::styled(
            label.to_string(),
            if focused { st.selection } else { st.text },
        ),
    ])
}

/// An indented explanation under an option.
pub fn note(s: &str, st: &Styles) -> Line<'static> {
    Line::styled(format!("      {s}"), st.muted)
}

/// The spinner glyph for animation frame `tick`.
pub fn spinner(tick: u64) -> &'static str {
    const FRAMES: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];
    FRAMES[usize::try_from(tick % 8).unwrap_or(0)]
}

/// A line with a spinner and a label.
pub fn working(tick: u64, label: &str, st: &Styles) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{} ", spinner(tick)), st.progress),
        Span::styled(format!("{label}…"), st.text),
    ])
}

/// The symbol and style of a check status.
pub fn status(s: CheckStatus, st: &Styles) -> (&'static str, RStyle) {
    match s {
        CheckStatus::Pass => ("✓", st.success),
        CheckStatus::Warn => ("!", st.warning),
        CheckStatus::Fail => ("✗", st.error),
    }
}

/// The title of a page.
pub fn page_title(p: PageId) -> &'static str {
    use text::title::*;
    match p {
        PageId::Welcome => WELCOME,
        PageId::Prerequisites => PREREQUISITES,
        PageId::ExpressSettings => EXPRESS,
        PageId::ConnectToEntra => ENTRA,
        PageId::ConnectDirectories => DIRECTORIES,
        PageId::UpnSuffixes => UPN,
        PageId::OuFiltering => OUS,
        PageId::IdentifyingUsers => IDENTITY,
        PageId::FilterUsersAndDevices => FILTER,
        PageId::OptionalFeatures => FEATURES,
        PageId::DirectoryExtensions => EXTENSIONS,
        PageId::GroupWriteback => GROUP_WRITEBACK,
        PageId::ReadyToConfigure => READY,
        PageId::Configure => CONFIGURE,
        PageId::Complete => COMPLETE,
        PageId::AdditionalTasks => TASKS,
        PageId::ViewConfiguration => VIEW,
        PageId::CustomizeSyncOptions => CUSTOMIZE,
        PageId::RefreshDirectorySchema => SCHEMA,
        PageId::ConfigureStagingMode => STAGING,
        PageId::ChangeUserSignIn => USER_SIGN_IN,
        PageId::Troubleshoot => TROUBLESHOOT,
        PageId::UserSignIn => text::nav::USER_SIGN_IN,
        PageId::InstallComponents => text::install::TITLE,
        // wizfeatures
        PageId::AppFiltering => text::app_filtering::TITLE,
        PageId::AttributeFiltering => text::attribute_filtering::TITLE,
        PageId::DeviceWritebackForest => text::device_writeback::FOREST_TITLE,
        PageId::DeviceContainer => text::device_writeback::CONTAINER_TITLE,
        PageId::DeviceOptions => text::device_options::TITLE,
        PageId::HybridJoin => text::hybrid_join::TITLE,
        PageId::ConfigureSourceAnchor => text::source_anchor::TITLE,
    }
}

fn nav_name(p: PageId) -> &'static str {
    use text::nav::*;
    match p {
        PageId::Welcome => WELCOME,
        PageId::Prerequisites => PREREQUISITES,
        PageId::ExpressSettings => EXPRESS,
        PageId::ConnectToEntra => ENTRA,
        PageId::ConnectDirectories => DIRECTORIES,
        PageId::UpnSuffixes => UPN,
        PageId::OuFiltering => OUS,
        PageId::IdentifyingUsers => IDENTITY,
        PageId::FilterUsersAndDevices => FILTER,
        PageId::OptionalFeatures => FEATURES,
        PageId::DirectoryExtensions => EXTENSIONS,
        PageId::GroupWriteback => GROUP_WRITEBACK,
        PageId::ReadyToConfigure => READY,
        PageId::Configure => CONFIGURE,
        PageId::Complete => COMPLETE,
        PageId::AdditionalTasks => TASKS,
        PageId::ViewConfiguration => VIEW,
        PageId::CustomizeSyncOptions => CUSTOMIZE,
        PageId::RefreshDirectorySchema => SCHEMA,
        PageId::ConfigureStagingMode => STAGING,
        PageId::ChangeUserSignIn | PageId::UserSignIn => USER_SIGN_IN,
        PageId::Troubleshoot => TROUBLESHOOT,
        PageId::InstallComponents => text::install::NAV,
        // wizfeatures
        PageId::AppFiltering => text::app_filtering::NAV,
        PageId::AttributeFiltering => text::attribute_filtering::NAV,
        PageId::DeviceWritebackForest => text::device_writeback::FOREST_NAV,
        PageId::DeviceContainer => text::device_writeback::CONTAINER_NAV,
        PageId::DeviceOptions => text::device_options::NAV,
        PageId::HybridJoin => text::hybrid_join::NAV,
        PageId::ConfigureSourceAnchor => text::source_anchor::NAV,
    }
}

/// The page list drawn left of the body on wide screens: pages done, the current one, the rest.
fn nav(s: &State, st: &Styles) -> Vec<Line<'static>> {
    let seq = sequence(s);
    let here = seq.iter().position(|p| *p == s.page).unwrap_or(0);
    seq.iter()
        .enumerate()
        .map(|(i, p)| {
            let (mark, style) = match i.cmp(&here) {
                std::cmp::Ordering::Less => ("✓ ", st.success),
                std::cmp::Ordering::Equal => ("› ", st.selection),
                std::cmp::Ordering::Greater => ("  ", st.muted),
            };
            Line::from(vec![
                Span::styled(mark, style),
                Span::styled(nav_name(*p), style),
            ])
        })
        .collect()
}

/// Terminals at least this wide get the page list.
pub const NAV_MIN_WIDTH: u16 = 100;

fn body(s: &State, st: &Styles) -> Body {
    match s.page {
        PageId::Welcome => pages::welcome::view(s, st),
        PageId::Prerequisites => pages::prerequisites::view(s, st),
        PageId::ExpressSettings => pages::express_or_custom::view(s, st),
        PageId::ConnectToEntra => pages::connect_to_entra::view(s, st),
        PageId::ConnectDirectories => pages::connect_directories::view(s, st),
        PageId::UpnSuffixes => pages::upn_suffixes::view(s, st),
        PageId::OuFiltering => pages::ou_filtering::view(s, st),
        PageId::IdentifyingUsers => pages::identifying_users::view(s, st),
        PageId::FilterUsersAndDevices => pages::filter_users_and_devices::view(s, st),
        PageId::OptionalFeatures => pages::optional_features::view(s, st),
        PageId::DirectoryExtensions => pages::directory_extensions::view(s, st),
        PageId::GroupWriteback => pages::group_writeback::view(s, st),
        PageId::ReadyToConfigure => pages::ready_to_configure::view(s, st),
        PageId::Configure => pages::configure::view(s, st),
        PageId::Complete => pages::complete::view(s, st),
        PageId::AdditionalTasks => pages::additional_tasks::view(s, st),
        PageId::ViewConfiguration => pages::view_configuration::view(s, st),
        PageId::CustomizeSyncOptions => pages::customize_sync_options::view(s, st),
        PageId::RefreshDirectorySchema => pages::refresh_directory_schema::view(s, st),
        PageId::ConfigureStagingMode => pages::configure_staging_mode::view(s, st),
        PageId::ChangeUserSignIn => pages::change_user_sign_in::view(s, st),
        PageId::UserSignIn => pages::user_sign_in::view(s, st),
        PageId::InstallComponents => pages::install_components::view(s, st),
        PageId::Troubleshoot => pages::troubleshoot::view(s, st),
        // wizfeatures
        PageId::AppFiltering => pages::app_filtering::view(s, st),
        PageId::AttributeFiltering => pages::attribute_filtering::view(s, st),
        PageId::DeviceWritebackForest => pages::device_writeback::view(s, st),
        PageId::DeviceContainer => pages::device_container::view(s, st),
        PageId::DeviceOptions => pages::configure_device_options::view(s, st),
        PageId::HybridJoin => pages::hybrid_join::view(s, st),
        PageId::ConfigureSourceAnchor => pages::configure_source_anchor::view(s, st),
    }
}

/// Draw the whole screen.
pub fn draw(frame: &mut Frame<'_>, s: &State, st: &Styles) {
    let area = frame.area();
    frame.render_widget(Block::default().style(st.text), area);
    let [head, main, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);

    let (k, n) = s.step();
    let step = text::step(k, n);
    let title = format!(" {} · {}", text::APP, page_title(s.page));
    let pad =
        usize::from(head.width).saturating_sub(title.chars().count() + step.chars().count() + 1);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(title, st.title),
            Span::raw(" ".repeat(pad)),
            Span::styled(step, st.muted),
        ])),
        head,
    );

    let main = if main.width >= NAV_MIN_WIDTH {
        let [side, rest] =
            Layout::horizontal([Constraint::Length(24), Constraint::Min(40)]).areas(main);
        frame.render_widget(
            Paragraph::new(nav(s, st)).block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(st.border),
            ),
            side,
        );
        rest
    } else {
        main
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(st.border);
    let inner = block.inner(main);
    frame.render_widget(block, main);
    let b = body(s, st);
    let (lines, focus) = wrap_body(b, usize::from(inner.width));
    let height = usize::from(inner.height);
    // Keep the focused line and the two below it (a field's validation message) in view.
    let scroll = (focus + 3).min(lines.len()).saturating_sub(height);
    frame.render_widget(
        Paragraph::new(lines).scroll((u16::try_from(scroll).unwrap_or(0), 0)),
        inner,
    );

    let mut spans = vec![Span::raw(" ")];
    for (key, hint) in footer_hints(&hints(s)) {
        spans.push(Span::styled(key, st.key_hint));
        spans.push(Span::styled(format!(" {hint}  "), st.muted));
    }
    // As in Entra Connect, the footer says when the server is in staging mode.
    if s.loaded().is_some_and(|c| c.sync.staging_mode) {
        let used: usize = spans.iter().map(|x| x.content.chars().count()).sum();
        let mark = format!(" {} ", text::STAGING_MARK);
        let pad = usize::from(foot.width).saturating_sub(used + mark.chars().count());
        spans.push(Span::raw(" ".repeat(pad)));
        spans.push(Span::styled(mark, st.warning));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), foot);

    if s.quit == Quit::Asking {
        quit_dialog(frame, s, area, st);
    }
}

/// Wrap every line to `width` with a hanging indent (continuations line up under the text, past
/// any leading spaces and a bullet), and find the first wrapped line of the focused one.
fn wrap_body(b: Body, width: usize) -> (Vec<Line<'static>>, usize) {
    let mut out = Vec::new();
    let mut focus = 0;
    for (i, line) in b.lines.into_iter().enumerate() {
        if i == b.focus {
            focus = out.len();
        }
        out.extend(wrap_line(line, width));
    }
    (out, focus)
}

fn wrap_line(line: Line<'static>, width: usize) -> Vec<Line<'static>> {
    let full: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    if width == 0 || full.chars().count() <= width {
        return vec![line];
    }
    let lead = full.chars().take_while(|c| *c == ' ').count();
    let rest: String = full.chars().skip(lead).collect();
    let bullet = ["• ", "✗ ", "✓ ", "! "]
        .iter()
        .find(|b| rest.starts_with(*b))
        .map_or(0, |b| b.chars().count());
    let indent = (lead + bullet).min(width / 2);
    // Words with their styles; a word is a run of non-spaces plus the spaces after it.
    let mut words: Vec<(String, RStyle)> = Vec::new();
    for span in &line.spans {
        let mut cur = String::new();
        for c in span.content.chars() {
            if c != ' ' && cur.ends_with(' ') {
                words.push((std::mem::take(&mut cur), span.style));
            }
            cur.push(c);
        }
        if !cur.is_empty() {
            words.push((cur, span.style));
        }
    }
    let mut lines = Vec::new();
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for (word, style) in words {
        let len = word.trim_end().chars().count();
        if used > indent && used + len > width {
            lines.push(Line::from(std::mem::take(&mut spans)));
            spans.push(Span::raw(" ".repeat(indent)));
            let trimmed = word.trim_start().to_string();
            used = indent + trimmed.chars().count();
            spans.push(Span::styled(trimmed, style));
            continue;
        }
        used += word.chars().count();
        spans.push(Span::styled(word, style));
    }
    if !spans.is_empty() {
        lines.push(Line::from(spans));
    }
    lines
}

fn quit_dialog(frame: &mut Frame<'_>, s: &State, area: Rect, st: &Styles) {
    let w = area.width.min(60);
    let h = 7.min(area.height);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height.saturating_sub(h)) / 2,
        width: w,
        height: h,
    };
    frame.render_widget(Clear, r);
    let body = if pages::configure::is_running(s) {
        text::QUIT_RUNNING
    } else {
        text::QUIT_BODY
    };
    frame.render_widget(
        Paragraph::new(vec![
            Line::styled(body, st.text),
            Line::default(),
            Line::from(
                text::QUIT_KEYS
                    .iter()
                    .flat_map(|(k, h)| {
                        [
                            Span::styled(*k, st.key_hint),
                            Span::styled(format!(" {h}   "), st.muted),
                        ]
                    })
                    .collect::<Vec<_>>(),
            ),
        ])
        .wrap(Wrap { trim: true })
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(st.focus_border)
                .title(Span::styled(format!(" {} ", text::QUIT_TITLE), st.title)),
        ),
        r,
    );
}
