//! Plots of simulation reports (with `plotters`): instances against active users over time,
//! and cost per day, one line per policy. [`plot_svg`] returns SVG text; [`write_plot`] is the
//! only function that writes a file (SVG or PNG by extension). Text is drawn with the bundled
//! DejaVu Sans, so PNGs need no system fonts.

use super::report::{SimReport, date_of};
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 800;
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
];

static FONT: Once = Once::new();

fn register_font() {
    FONT.call_once(|| {
        // The bundled font is valid; a failure would only leave text undrawn.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

fn render_err<E: std::fmt::Display>(e: E) -> Error {
    Error::Render(format!("plot: {e}"))
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, reports: &[SimReport]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(render_err)?;
    let (top, bottom) = root.split_vertically(HEIGHT * 11 / 20);
    let start = reports
        .iter()
        .flat_map(|r| r.timeline.first().map(|p| p.time))
        .min()
        .unwrap_or(0);
    let day = |t: i64| (t - start) as f64 / 86_400.0;
    let x_end = reports
        .iter()
        .flat_map(|r| r.timeline.last().map(|p| day(p.time)))
        .fold(1.0f64, f64::max);
    let y_max = reports
        .iter()
        .flat_map(|r| r.timeline.iter().map(|p| p.instances.max(p.active_users)))
        .max()
        .unwrap_or(1)
        .max(1);
    let date_label = |d: &f64| date_of(start + (*d * 86_400.0) as i64);
    let mut chart = ChartBuilder::on(&top)
        .caption("Instances and active users", ("sans-serif", 24))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(0.0..x_end, 0.0..(f64::from(y_max) * 1.1))
        .map_err(render_err)?;
    chart
        .configure_mesh()
        .x_label_formatter(&date_label)
        .x_labels(8)
        .y_desc("count")
        .draw()
        .map_err(render_err)?;
    if let Some(r) = reports.first() {
        chart
            .draw_series(LineSeries::new(
                r.timeline
                    .iter()
                    .map(|p| (day(p.time), f64::from(p.active_users))),
                BLACK.mix(0.35).stroke_width(1),
            ))
            .map_err(render_err)?
            .label("active users")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.mix(0.35)));
    }
    for (i, r) in reports.iter().enumerate() {
        let c = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(
                r.timeline
                    .iter()
                    .map(|p| (day(p.time), f64::from(p.instances))),
                c.stroke_width(2),
            ))
            .map_err(render_err)?
            .label(format!("instances: {}", r.policy))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(render_err)?;

    let priced = reports.iter().all(|r| r.hourly_price.is_some());
    let value = |d: &super::report::DayStats| {
        if priced {
            d.cost.unwrap_or(0.0)
        } else {
            d.instance_hours
        }
    };
    let c_max = reports
        .iter()
        .flat_map(|r| r.daily.iter().map(value))
        .fold(1.0f64, f64::max);
    let mut chart = ChartBuilder::on(&bottom)
        .caption(
            if priced {
                "Compute cost per day (USD)"
            } else {
                "Instance hours per day"
            },
            ("sans-serif", 24),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(0.0..x_end, 0.0..c_max * 1.1)
        .map_err(render_err)?;
    chart
        .configure_mesh()
        .x_label_formatter(&date_label)
        .x_labels(8)
        .draw()
        .map_err(render_err)?;
    for (i, r) in reports.iter().enumerate() {
        let c = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(
                r.daily
                    .iter()
                    .enumerate()
                    .map(|(d, s)| (d as f64 + 0.5, value(s))),
                c.stroke_width(2),
            ))
            .map_err(render_err)?
            .label(r.policy.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(render_err)?;
    root.present().map_err(render_err)?;
    Ok(())
}

/// The plots as SVG text.
pub fn plot_svg(reports: &[SimReport]) -> Result<String> {
    register_font();
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, reports)?;
    }
    Ok(s)
}

/// Write the plots to `path`: SVG for `.svg`, PNG for `.png`.
pub fn write_plot(path: &Path, reports: &[SimReport]) -> Result<()> {
    register_font();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => {
            let svg = plot_svg(reports)?;
            std::fs::write(path, svg).map_err(|e| Error::io(path, e))
        }
        Some("png") => {
            let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
            draw(&root, reports).map_err(|e| match e {
                Error::Render(m) => Error::Io {
                    path: path.display().to_string(),
                    message: m,
                },
                other => other,
            })
        }
        _ => Err(Error::Io {
            path: path.display().to_string(),
            message: "the plot file must end in .svg or .png".into(),
        }),
    }
}
