//! Small HTML builder for the Jupyter `_repr_html_` of the wrapped objects (Python only).

use std::fmt::Write;

/// Escape text for HTML element content and double-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// An HTML fragment under construction; every text argument is escaped.
#[derive(Default)]
pub struct Html {
    out: String,
}

impl Html {
    /// Start a fragment wrapped in `<div class="dsvmpool-{class}">`.
    pub fn new(class: &str) -> Self {
        let mut h = Html::default();
        let _ = write!(h.out, "<div class=\"dsvmpool-{}\">", escape(class));
        h
    }

    /// A heading line: bold `title` followed by `text`.
    pub fn heading(&mut self, title: &str, text: &str) -> &mut Self {
        let _ = write!(
            self.out,
            "<p><strong>{}</strong> {}</p>",
            escape(title),
            escape(text)
        );
        self
    }

    /// A paragraph.
    pub fn para(&mut self, text: &str) -> &mut Self {
        let _ = write!(self.out, "<p>{}</p>", escape(text));
        self
    }

    /// A table with a header row (empty `header` = no header).
    pub fn table<R, C>(&mut self, header: &[&str], rows: R) -> &mut Self
    where
        R: IntoIterator<Item = C>,
        C: IntoIterator<Item = String>,
    {
        self.out.push_str("<table>");
        if !header.is_empty() {
            self.out.push_str("<thead><tr>");
            for h in header {
                let _ = write!(self.out, "<th style=\"text-align:left\">{}</th>", escape(h));
            }
            self.out.push_str("</tr></thead>");
        }
        self.out.push_str("<tbody>");
        for row in rows {
            self.out.push_str("<tr>");
            for cell in row {
                let _ = write!(
                    self.out,
                    "<td style=\"text-align:left\">{}</td>",
                    escape(&cell)
                );
            }
            self.out.push_str("</tr>");
        }
        self.out.push_str("</tbody></table>");
        self
    }

    /// Preformatted text.
    pub fn pre(&mut self, text: &str) -> &mut Self {
        let _ = write!(self.out, "<pre>{}</pre>", escape(text));
        self
    }

    /// An SVG image made by the core's plotter (trusted markup, inserted as it is).
    pub fn raw_svg(&mut self, svg: &str) -> &mut Self {
        self.out.push_str("<div>");
        self.out.push_str(svg);
        self.out.push_str("</div>");
        self
    }

    /// A bulleted list.
    pub fn list<I: IntoIterator<Item = String>>(&mut self, items: I) -> &mut Self {
        self.out.push_str("<ul>");
        for i in items {
            let _ = write!(self.out, "<li>{}</li>", escape(&i));
        }
        self.out.push_str("</ul>");
        self
    }

    /// Close the fragment and return it.
    pub fn finish(&mut self) -> String {
        let mut out = std::mem::take(&mut self.out);
        out.push_str("</div>");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn table_cells_are_escaped() {
        let html = Html::new("t")
            .table(&["a"], [vec!["<b>".to_string()]])
            .finish();
        assert!(html.contains("<td style=\"text-align:left\">&lt;b&gt;</td>"));
        assert!(html.starts_with("<div class=\"dsvmpool-t\">") && html.ends_with("</div>"));
    }
}
