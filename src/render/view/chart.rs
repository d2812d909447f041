//! The 14-day chart of new alerts per day by severity, as rows of percentages: the HTML draws
//! them as table cells (no images: many clients block them), the text as letters.

use crate::digest::Day;
use crate::render::lang::Catalogue;

/// One day's bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRow {
    pub label: String,
    pub total: usize,
    /// Coloured parts, most severe first; `pct` of the whole bar's width.
    pub segments: Vec<Segment>,
    /// What is left of the width after the segments.
    pub rest_pct: u32,
    /// The bar in letters, one per alert (scaled when the busiest day has more than
    /// [`TEXT_WIDTH`]).
    pub text_bar: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub class: &'static str,
    pub count: usize,
    pub pct: u32,
}

/// The widest text bar, in characters.
pub const TEXT_WIDTH: usize = 40;

/// The letters of the text bars and what they mean: "H high · M medium · …".
pub fn legend(t: &Catalogue) -> String {
    parts(t)
        .iter()
        .map(|(_, letter, name)| format!("{letter} {name}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The HTML legend: each bar colour's class and the severity it stands for.
pub fn swatches(t: &Catalogue) -> Vec<(&'static str, &'static str)> {
    parts(t)
        .iter()
        .map(|(class, _, name)| (*class, *name))
        .collect()
}

fn parts(t: &Catalogue) -> [(&'static str, char, &'static str); 5] {
    let letter = |name: &str| {
        name.chars()
            .next()
            .map_or('?', |c| c.to_uppercase().next().unwrap_or(c))
    };
    [
        ("high", letter(t.sev_high), t.sev_high),
        ("medium", letter(t.sev_medium), t.sev_medium),
        ("low", letter(t.sev_low), t.sev_low),
        ("info", letter(t.sev_informational), t.sev_informational),
        ("other", letter(t.sev_unknown), t.sev_unknown),
    ]
}

pub fn rows(t: &Catalogue, days: &[Day]) -> Vec<ChartRow> {
    let max = days.iter().map(Day::total).max().unwrap_or(0).max(1);
    let names = parts(t);
    days.iter()
        .map(|day| {
            let counts = [day.high, day.medium, day.low, day.informational, day.other];
            let segments: Vec<Segment> = counts
                .iter()
                .zip(names)
                .filter(|(count, _)| **count > 0)
                .map(|(&count, (class, _, _))| Segment {
                    class,
                    count,
                    pct: scaled(count, max, 100).max(1),
                })
                .collect();
            let used: u32 = segments.iter().map(|s| s.pct).sum();
            let mut text_bar = String::new();
            for (&count, (_, letter, _)) in counts.iter().zip(names) {
                let n = if max <= TEXT_WIDTH {
                    count
                } else {
                    usize::try_from(scaled(count, max, TEXT_WIDTH)).unwrap_or(0)
                };
                let n = if count > 0 { n.max(1) } else { 0 };
                text_bar.extend(std::iter::repeat_n(letter, n));
            }
            ChartRow {
                label: t.short_date(day.date),
                total: day.total(),
                segments,
                rest_pct: 100u32.saturating_sub(used),
                text_bar,
            }
        })
        .collect()
}

/// `count / max × width`, rounded to the nearest whole number.
fn scaled(count: usize, max: usize, width: usize) -> u32 {
    u32::try_from((count * width * 2 + max) / (2 * max)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::render::lang::Language;

    fn day(d: u32, high: usize, low: usize) -> Day {
        Day {
            date: NaiveDate::from_ymd_opt(2026, 11, d).unwrap(),
            high,
            medium: 0,
            low,
            informational: 0,
            other: 0,
        }
    }

    #[test]
    fn bars_are_scaled_to_the_busiest_day() {
        let t = Language::English.catalogue();
        let rows = rows(t, &[day(28, 3, 1), day(29, 0, 0), day(27, 1, 0)]);
        assert_eq!(rows[0].label, "Sat 28 Nov");
        assert_eq!(rows[0].total, 4);
        assert_eq!(
            rows[0]
                .segments
                .iter()
                .map(|s| (s.class, s.count, s.pct))
                .collect::<Vec<_>>(),
            [("high", 3, 75), ("low", 1, 25)]
        );
        assert_eq!(rows[0].rest_pct, 0);
        assert_eq!(rows[0].text_bar, "HHHL");
        assert!(rows[1].segments.is_empty());
        assert_eq!(rows[1].rest_pct, 100);
        assert_eq!(rows[2].rest_pct, 75);
    }

    #[test]
    fn a_busy_day_is_scaled_to_the_text_width_and_small_counts_stay_visible() {
        let t = Language::Swedish.catalogue();
        let rows = rows(t, &[day(28, 400, 1)]);
        assert_eq!(rows[0].text_bar.chars().count(), TEXT_WIDTH + 1);
        assert!(rows[0].text_bar.ends_with('L'), "{}", rows[0].text_bar);
        assert_eq!(rows[0].segments[1].pct, 1, "one alert still shows");
        assert_eq!(
            legend(t),
            "H hög · M medel · L låg · I information · O okänd"
        );
    }
}
