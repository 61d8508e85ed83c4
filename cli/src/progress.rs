//! Renders lifecycle progress events on standard error: live indicatif lines (one per resource
//! of a deployment, with state and elapsed time) on a terminal, plain lines otherwise.

use dsvmpool::azure::ClientEvent;
use dsvmpool::lifecycle::{Progress, ProgressSink, ResourceProgress};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where progress goes.
pub struct Renderer {
    live: Option<MultiProgress>,
    bars: HashMap<String, ProgressBar>,
    status: HashMap<String, ProgressBar>,
    started: Instant,
}

fn short_type(t: &str) -> &str {
    t.rsplit('/').next().unwrap_or(t)
}

fn running_style() -> ProgressStyle {
    ProgressStyle::with_template("  {spinner} {prefix:<58} {msg:<12} {elapsed:>4}")
        .expect("static template")
}

fn waiting_style() -> ProgressStyle {
    ProgressStyle::with_template("  · {prefix:<58} {msg}").expect("static template")
}

fn done_style() -> ProgressStyle {
    ProgressStyle::with_template("  {prefix:<60} {msg}").expect("static template")
}

fn secs(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.0}s")
    } else {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}

impl Renderer {
    /// Live bars when standard error is a terminal, plain lines otherwise.
    pub fn new() -> Self {
        let live = std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Self {
            live,
            bars: HashMap::new(),
            status: HashMap::new(),
            started: Instant::now(),
        }
    }

    /// A progress sink feeding this renderer.
    pub fn sink(this: &Arc<Mutex<Renderer>>) -> ProgressSink {
        let r = this.clone();
        Arc::new(move |p: &Progress| {
            if let Ok(mut r) = r.lock() {
                r.on(p);
            }
        })
    }

    fn line(&self, text: &str) {
        match &self.live {
            Some(mp) => {
                let _ = mp.println(text);
            }
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            }
        }
    }

    fn resource(&mut self, r: &ResourceProgress) {
        let label = format!("{} {}", short_type(&r.resource_type), r.name);
        let Some(mp) = &self.live else {
            if r.state != "Waiting" {
                let extra = r
                    .message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default();
                self.line(&format!(
                    "[{:>6}] {label}: {} ({}){extra}",
                    secs(self.started.elapsed().as_secs_f64()),
                    r.state,
                    secs(r.elapsed_secs)
                ));
            }
            return;
        };
        let bar = self.bars.entry(label.clone()).or_insert_with(|| {
            let b = mp.add(ProgressBar::new_spinner());
            b.set_style(waiting_style());
            b.set_prefix(label.clone());
            b
        });
        if r.state == "Waiting" {
            bar.set_message("waiting");
        } else if r.is_finished() {
            bar.set_style(done_style());
            let mark = if r.state.eq_ignore_ascii_case("succeeded") {
                "✔"
            } else {
                "✘"
            };
            let extra = r
                .message
                .as_deref()
                .map(|m| format!(" — {m}"))
                .unwrap_or_default();
            bar.finish_with_message(format!(
                "{mark} {} in {}{extra}",
                r.state,
                secs(r.elapsed_secs)
            ));
        } else {
            if bar.is_finished() || bar.message() == "waiting" {
                bar.set_style(running_style());
                bar.reset_elapsed();
                bar.enable_steady_tick(Duration::from_millis(120));
            }
            bar.set_message(r.state.clone());
        }
    }

    fn waiting(&mut self, operation: &str, status: Option<&str>, elapsed: f64) {
        let Some(mp) = &self.live else {
            return;
        };
        // Deployments show their resources; other operations get one status line.
        if !self.bars.is_empty() {
            return;
        }
        let bar = self.status.entry(operation.to_string()).or_insert_with(|| {
            let b = mp.add(ProgressBar::new_spinner());
            b.set_style(running_style());
            b.set_prefix(operation.to_string());
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        let _ = elapsed;
        bar.set_message(status.unwrap_or("running").to_string());
    }

    /// Handles one event.
    pub fn on(&mut self, p: &Progress) {
        match p {
            Progress::Step { message, .. } => self.line(&format!("→ {message}")),
            Progress::Resource(r) => self.resource(r),
            Progress::Waiting {
                operation,
                status,
                elapsed_secs,
            } => self.waiting(operation, status.as_deref(), *elapsed_secs),
            Progress::Conflict {
                message, attempt, ..
            } => self.line(&format!("conflict (#{attempt}): {message}; reading again")),
            Progress::Warning { message } => self.line(&format!("warning: {message}")),
            Progress::Client { detail } => match detail {
                ClientEvent::Retry {
                    operation,
                    delay,
                    reason,
                    ..
                } => self.line(&format!(
                    "retrying {operation} in {:.1}s ({reason})",
                    delay.as_secs_f64()
                )),
                ClientEvent::RateLimit { class, remaining } => {
                    let low = [remaining.reads, remaining.writes, remaining.deletes]
                        .into_iter()
                        .flatten()
                        .any(|n| n < 10);
                    if low {
                        self.line(&format!(
                            "throttling: few {} requests left ({remaining:?})",
                            serde_json::to_value(class)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_string))
                                .unwrap_or_default()
                        ));
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// Stops every live line (call before printing the result).
    pub fn finish(&mut self) {
        for b in self.status.values() {
            b.finish_and_clear();
        }
        for b in self.bars.values() {
            if !b.is_finished() {
                b.abandon();
            }
        }
        self.status.clear();
        // The resource lines stay on screen; end the last one before the result is printed.
        if self.live.is_some() && !self.bars.is_empty() {
            self.bars.clear();
            let _ = writeln!(std::io::stderr().lock());
        }
    }
}
