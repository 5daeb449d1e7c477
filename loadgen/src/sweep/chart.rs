//! SVG charts with plotters' SVG backend (no font or system libraries: text
//! is emitted as SVG `<text>` and laid out by the viewer).

use super::{ConcurrencySweep, SizeSweep};
use crate::error::{Error, Result};
use plotters::prelude::*;

type Series<'a> = (&'a str, RGBColor, Vec<(f64, f64)>);

fn chart_err(e: impl std::fmt::Display) -> Error {
    Error::Chart(e.to_string())
}

/// Draws one panel of line series sharing an x axis.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let xs = series.iter().flat_map(|s| s.2.iter().map(|p| p.0));
    let ys = series.iter().flat_map(|s| s.2.iter().map(|p| p.1));
    let (x0, x1) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let y1 = ys.fold(0.0f64, f64::max);
    let (x0, x1) = if x0 >= x1 {
        (x0 - 1.0, x0 + 1.0)
    } else {
        (x0, x1)
    };
    let y1 = if y1 <= 0.0 { 1.0 } else { y1 * 1.1 };
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, 0.0..y1)
        .map_err(chart_err)?;
    // Sizes and user counts are whole numbers: label only integer ticks.
    let x_fmt = |x: &f64| {
        if (x - x.round()).abs() < 1e-9 {
            format!("{}", x.round())
        } else {
            String::new()
        }
    };
    let y_fmt = |y: &f64| {
        if y.abs() >= 100.0 {
            format!("{y:.0}")
        } else {
            format!("{y:.2}")
        }
    };
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .draw()
        .map_err(chart_err)?;
    for (name, color, points) in series {
        let color = *color;
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(chart_err)?
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(chart_err)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(chart_err)?;
    Ok(())
}

/// req/s and mean latency against size, as two stacked panels.
pub fn size_chart(s: &SizeSweep) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 700)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let areas = root.split_evenly((2, 1));
        let pts = |f: fn(&crate::report::RunReport) -> f64| -> Vec<(f64, f64)> {
            s.points
                .iter()
                .map(|p| (p.size as f64, f(&p.report)))
                .collect()
        };
        let title = format!("{} sweep: {}", s.sweep, s.scenario);
        panel(
            &areas[0],
            &title,
            &s.unit,
            "req/s",
            &[("req/s", BLUE, pts(|r| r.rps))],
        )?;
        panel(
            &areas[1],
            "latency",
            &s.unit,
            "ms",
            &[
                ("mean", RED, pts(|r| r.latency_ms.mean)),
                ("p99", MAGENTA, pts(|r| r.latency_ms.p99)),
            ],
        )?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

/// Burst and steady latencies and steady req/s against users.
pub fn concurrency_chart(s: &ConcurrencySweep) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 700)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let areas = root.split_evenly((2, 1));
        let pts = |f: &dyn Fn(&super::UsersPoint) -> f64| -> Vec<(f64, f64)> {
            s.points.iter().map(|p| (p.users as f64, f(p))).collect()
        };
        panel(
            &areas[0],
            &format!("concurrency sweep: {}", s.scenario),
            "users",
            "ms",
            &[
                ("burst mean", BLUE, pts(&|p| p.burst.latency_ms.mean)),
                ("burst max", CYAN, pts(&|p| p.burst.latency_ms.max)),
                ("steady mean", RED, pts(&|p| p.steady.latency_ms.mean)),
                ("steady p99", MAGENTA, pts(&|p| p.steady.latency_ms.p99)),
            ],
        )?;
        panel(
            &areas[1],
            "steady throughput",
            "users",
            "req/s",
            &[("req/s", GREEN, pts(&|p| p.steady.rps))],
        )?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}
