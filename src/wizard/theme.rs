//! Colours and text styles of the wizard, grouped by what they paint.
//!
//! Invariants: [`Theme::default`] is complete (every slot has a style), and every theme file,
//! shipped in `themes/` or written by an admin, is a *partial override*: it names only the slots
//! and properties it changes, the rest comes from the default. Theme files reject unknown keys so a
//! typo is reported, not ignored; a bad file yields a [`ThemeError`] that names the file, the key
//! and the fix (the wizard shows it and falls back to the default). Colours are terminal-neutral
//! here; the renderer maps them to ratatui types.

use std::path::Path;

use serde::Deserialize;

use crate::config::validate::BUILTIN_THEMES;

/// A terminal colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    /// The terminal's own default.
    Reset,
    /// One of the 16 ANSI colours, by index 0..=15.
    Ansi(u8),
    /// An entry of the 256-colour palette.
    Indexed(u8),
    /// A 24-bit colour.
    Rgb(u8, u8, u8),
}

const ANSI_NAMES: [&str; 16] = [
    "black",
    "red",
    "green",
    "yellow",
    "blue",
    "magenta",
    "cyan",
    "gray",
    "dark-gray",
    "light-red",
    "light-green",
    "light-yellow",
    "light-blue",
    "light-magenta",
    "light-cyan",
    "white",
];

impl std::str::FromStr for Color {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "'{s}' is not a colour. Use a name ({}, reset), '#rrggbb', or a palette number 0-255",
                ANSI_NAMES.join(", ")
            )
        };
        let lower = s.trim().to_ascii_lowercase();
        if lower == "reset" || lower == "default" {
            return Ok(Self::Reset);
        }
        if let Some(i) = ANSI_NAMES.iter().position(|n| *n == lower) {
            return u8::try_from(i).map(Self::Ansi).map_err(|_| bad());
        }
        if let Some(hex) = lower.strip_prefix('#') {
            if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad());
            }
            let byte = |i: usize| {
                hex.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            };
            return match (byte(0), byte(2), byte(4)) {
                (Some(r), Some(g), Some(b)) => Ok(Self::Rgb(r, g, b)),
                _ => Err(bad()),
            };
        }
        lower.parse::<u8>().map(Self::Indexed).map_err(|_| bad())
    }
}

impl<'de> Deserialize<'de> for Color {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Text attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Modifier {
    /// Bold.
    Bold,
    /// Dim.
    Dim,
    /// Italic.
    Italic,
    /// Underlined.
    Underlined,
    /// Reversed foreground and background.
    Reversed,
}

/// A complete style for one slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    /// Foreground colour.
    pub fg: Color,
    /// Background colour.
    pub bg: Color,
    /// Attributes.
    pub modifiers: Vec<Modifier>,
}

impl Style {
    const fn new(fg: Color, bg: Color) -> Self {
        Self {
            fg,
            bg,
            modifiers: Vec::new(),
        }
    }

    fn with(mut self, m: Modifier) -> Self {
        self.modifiers.push(m);
        self
    }
}

/// The part of a style a theme file changes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StylePatch {
    fg: Option<Color>,
    bg: Option<Color>,
    modifiers: Option<Vec<Modifier>>,
}

impl StylePatch {
    fn apply(&self, base: &mut Style) {
        if let Some(fg) = self.fg {
            base.fg = fg;
        }
        if let Some(bg) = self.bg {
            base.bg = bg;
        }
        if let Some(m) = &self.modifiers {
            base.modifiers.clone_from(m);
        }
    }
}

macro_rules! theme_slots {
    ($($(#[$doc:meta])* $slot:ident),* $(,)?) => {
        /// Every style the wizard paints with, by what it paints.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Theme {
            $($(#[$doc])* pub $slot: Style,)*
        }

        /// A theme file: any subset of the slots.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ThemePatch {
            $($slot: Option<StylePatch>,)*
        }

        impl ThemePatch {
            fn apply(&self, theme: &mut Theme) {
                $(if let Some(p) = &self.$slot { p.apply(&mut theme.$slot); })*
            }
        }

        /// Slot names as written in theme files.
        pub const SLOTS: &[&str] = &[$(stringify!($slot)),*];
    };
}

theme_slots! {
    /// Screen background and ordinary text.
    text,
    /// Secondary text: explanations, hints.
    muted,
    /// The page title and step counter.
    title,
    /// Frames around panels.
    border,
    /// The frame of the focused field or panel.
    focus_border,
    /// The highlighted row of a list or tree.
    selection,
    /// Text input fields.
    input,
    /// A field whose value failed validation.
    input_invalid,
    /// Validation messages and failed checks.
    error,
    /// Warnings.
    warning,
    /// Passed checks and completed steps.
    success,
    /// Key names in the footer.
    key_hint,
    /// Checked and partly checked boxes of the OU tree.
    checkbox,
    /// Progress bars and spinners.
    progress,
}

impl Default for Theme {
    fn default() -> Self {
        use Color::{Ansi, Reset};
        let (black, red, green, yellow, blue, cyan, gray, dark_gray, white) = (
            Ansi(0),
            Ansi(1),
            Ansi(2),
            Ansi(3),
            Ansi(4),
            Ansi(6),
            Ansi(7),
            Ansi(8),
            Ansi(15),
        );
        Self {
            text: Style::new(Reset, Reset),
            muted: Style::new(dark_gray, Reset),
            title: Style::new(cyan, Reset).with(Modifier::Bold),
            border: Style::new(dark_gray, Reset),
            focus_border: Style::new(cyan, Reset),
            selection: Style::new(black, cyan),
            input: Style::new(white, Reset),
            input_invalid: Style::new(red, Reset).with(Modifier::Underlined),
            error: Style::new(red, Reset).with(Modifier::Bold),
            warning: Style::new(yellow, Reset),
            success: Style::new(green, Reset),
            key_hint: Style::new(blue, Reset).with(Modifier::Bold),
            checkbox: Style::new(cyan, Reset),
            progress: Style::new(cyan, gray),
        }
    }
}

/// Why a theme could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    /// Not a built-in name and not a file we can read.
    #[error(
        "theme '{0}' is neither a built-in theme ({list}) nor a readable file",
        list = BUILTIN_THEMES.join(", ")
    )]
    Unknown(String),
    /// The file is not a valid theme.
    #[error("theme file '{file}': {message}. Valid slots: {slots}; each takes fg, bg and modifiers", slots = SLOTS.join(", "))]
    Invalid {
        /// The file.
        file: String,
        /// What is wrong, with the key.
        message: String,
    },
}

/// The shipped theme files, by name.
fn builtin_text(name: &str) -> Option<&'static str> {
    match name {
        "default" => Some(include_str!("../../themes/default.toml")),
        "high-contrast" => Some(include_str!("../../themes/high-contrast.toml")),
        "light" => Some(include_str!("../../themes/light.toml")),
        "monochrome" => Some(include_str!("../../themes/monochrome.toml")),
        _ => None,
    }
}

impl Theme {
    /// A built-in theme by name, or a theme file by path, applied over the default.
    pub fn load(name_or_path: &str) -> Result<Self, ThemeError> {
        if let Some(text) = builtin_text(name_or_path) {
            return Self::from_toml(name_or_path, text);
        }
        let path = Path::new(name_or_path);
        let text = std::fs::read_to_string(path)
            .map_err(|_| ThemeError::Unknown(name_or_path.to_string()))?;
        Self::from_toml(&path.display().to_string(), &text)
    }

    /// Apply the theme file text `text` (named `file` in errors) over the default theme.
    pub fn from_toml(file: &str, text: &str) -> Result<Self, ThemeError> {
        let patch: ThemePatch = toml::from_str(text).map_err(|e| ThemeError::Invalid {
            file: file.to_string(),
            message: e
                .message()
                .replace('`', "'")
                .trim_end_matches('.')
                .to_string(),
        })?;
        let mut theme = Self::default();
        patch.apply(&mut theme);
        Ok(theme)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_loads_and_the_list_matches_the_files() {
        for name in BUILTIN_THEMES {
            Theme::load(name).unwrap();
        }
        let mut files: Vec<String> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/themes"))
                .unwrap()
                .map(|e| {
                    e.unwrap()
                        .path()
                        .file_stem()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect();
        files.sort();
        let mut names: Vec<String> = BUILTIN_THEMES.iter().map(|s| s.to_string()).collect();
        names.sort();
        assert_eq!(files, names);
    }

    #[test]
    fn default_file_is_the_builtin_default() {
        assert_eq!(Theme::load("default").unwrap(), Theme::default());
    }

    #[test]
    fn themes_are_partial_overrides() {
        let t = Theme::from_toml("t.toml", "[error]\nfg = \"#ff8800\"\n").unwrap();
        assert_eq!(t.error.fg, Color::Rgb(0xff, 0x88, 0x00));
        assert_eq!(
            t.error.modifiers,
            vec![Modifier::Bold],
            "untouched properties keep the default"
        );
        assert_eq!(
            t.title,
            Theme::default().title,
            "untouched slots keep the default"
        );
        let mono = Theme::load("monochrome").unwrap();
        assert_ne!(mono, Theme::default());
        assert_ne!(Theme::load("high-contrast").unwrap(), Theme::default());
        assert_ne!(Theme::load("light").unwrap(), Theme::default());
    }

    #[test]
    fn bad_theme_files_say_what_and_how() {
        let e = Theme::from_toml("mine.toml", "[eror]\nfg = \"red\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("theme file 'mine.toml': unknown field 'eror', expected one of 'text', "),
            "{e}"
        );
        assert!(e.ends_with("Valid slots: text, muted, title, border, focus_border, selection, input, input_invalid, error, warning, success, key_hint, checkbox, progress; each takes fg, bg and modifiers"), "{e}");
        let e = Theme::from_toml("mine.toml", "[error]\nfg = \"rouge\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("'rouge' is not a colour. Use a name (black, red,"),
            "{e}"
        );
        let e = Theme::load("solarized").unwrap_err().to_string();
        assert_eq!(
            e,
            "theme 'solarized' is neither a built-in theme (default, high-contrast, light, monochrome) nor a readable file"
        );
    }

    #[test]
    fn colours_parse() {
        assert_eq!("dark-gray".parse::<Color>().unwrap(), Color::Ansi(8));
        assert_eq!("#0A0b0C".parse::<Color>().unwrap(), Color::Rgb(10, 11, 12));
        assert_eq!("236".parse::<Color>().unwrap(), Color::Indexed(236));
        assert_eq!("reset".parse::<Color>().unwrap(), Color::Reset);
        for bad in ["#12345", "#gggggg", "256", "purple", ""] {
            assert!(bad.parse::<Color>().is_err(), "{bad}");
        }
    }
}
