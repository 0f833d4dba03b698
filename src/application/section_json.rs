//! Writes a section as Python's `json.dumps` does by default (`", "` and `": "`
//! separators, non-ASCII escaped as `\uXXXX`), so the bytes match a Python server.

use std::fmt::Write;

use base64::{engine::general_purpose::STANDARD, Engine};

use super::notification_log::{Section, SectionId};
use crate::persistence::Notification;

/// A section: `NotificationLogJSONService.get_log_section`.
pub(super) fn write(section: &Section) -> String {
    let mut out = String::with_capacity(64 + section.items.len() * 256);
    out.push_str("{\"id\": ");
    section_id(&mut out, section.id);
    out.push_str(", \"next_id\": ");
    section_id(&mut out, section.next_id);
    out.push_str(", \"items\": ");
    items(&mut out, &section.items);
    out.push('}');
    out
}

/// A list of notifications: `NotificationLogJSONService.get_notifications`.
pub(super) fn write_notifications(notifications: &[Notification]) -> String {
    let mut out = String::with_capacity(2 + notifications.len() * 256);
    items(&mut out, notifications);
    out
}

fn items(out: &mut String, notifications: &[Notification]) {
    list(out, notifications, notification);
}

/// A list as `json.dumps` writes it: `[`, the items joined by `", "`, `]`.
pub(super) fn list<T>(out: &mut String, items: impl IntoIterator<Item = T>, mut item: impl FnMut(&mut String, T)) {
    out.push('[');
    for (i, each) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        item(out, each);
    }
    out.push(']');
}

/// One notification, as an item of a list.
pub(super) fn notification(out: &mut String, item: &Notification) {
    let _ = write!(
        out,
        "{{\"id\": {}, \"originator_id\": \"{}\", \"originator_version\": {}, \"topic\": ",
        item.id,
        item.originator_id.simple(),
        item.originator_version
    );
    string(out, &item.topic);
    let _ = write!(out, ", \"state\": \"{}\"}}", STANDARD.encode(&item.state));
}

fn section_id(out: &mut String, id: Option<SectionId>) {
    match id {
        Some(id) => {
            let _ = write!(out, "\"{id}\"");
        }
        None => out.push_str("null"),
    }
}

/// A JSON string with `ensure_ascii`: escapes as Python does, lowercase hex,
/// characters outside the BMP as surrogate pairs.
fn string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::string;

    #[test]
    fn strings_are_escaped_as_python_json_dumps_escapes_them() {
        let mut out = String::new();
        string(&mut out, "a\"\\\n\t\u{1}\u{7f}é🐕");
        // json.dumps('a"\\\n\t\x01\x7fé🐕') in Python 3.11
        assert_eq!(out, r#""a\"\\\n\t\u0001\u007f\u00e9\ud83d\udc15""#);
    }
}
