//! Which CSVs the email carries: all of them are written to the run folder, and attached while
//! together they stay under the attachment limit.

/// Which CSVs the email carries; the others stay in the run folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attachments {
    pub alerts_csv: Option<usize>,
    pub summary_csv: Option<usize>,
    pub older_csv: Option<usize>,
    /// Sizes, for the note when one is left out.
    pub alerts_bytes: usize,
    pub summary_bytes: usize,
    pub older_bytes: usize,
}

impl Attachments {
    /// What fits `max` together, in this order: the summary, then `alerts.csv` with it, then
    /// `older.csv` with what is attached.
    pub fn fitting(alerts: usize, summary: usize, older: usize, max: usize) -> Self {
        let summary_fits = summary <= max;
        let both = alerts + summary <= max;
        let attached = if both {
            alerts + summary
        } else if summary_fits {
            summary
        } else {
            0
        };
        Self {
            alerts_csv: both.then_some(alerts),
            summary_csv: summary_fits.then_some(summary),
            older_csv: (attached + older <= max).then_some(older),
            alerts_bytes: alerts,
            summary_bytes: summary,
            older_bytes: older,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Attachments;

    #[test]
    fn the_summary_then_alerts_csv_then_older_csv_are_attached_while_they_fit() {
        let all = Attachments::fitting(50, 10, 30, 100);
        assert_eq!(
            (all.alerts_csv, all.summary_csv, all.older_csv),
            (Some(50), Some(10), Some(30))
        );
        // older.csv does not fit beside the other two.
        let two = Attachments::fitting(50, 10, 41, 100);
        assert_eq!(
            (two.alerts_csv, two.summary_csv, two.older_csv),
            (Some(50), Some(10), None)
        );
        // alerts.csv does not fit: the summary and older.csv still may.
        let small = Attachments::fitting(95, 10, 30, 100);
        assert_eq!(
            (small.alerts_csv, small.summary_csv, small.older_csv),
            (None, Some(10), Some(30))
        );
        let none = Attachments::fitting(200, 200, 200, 100);
        assert_eq!(
            (none.alerts_csv, none.summary_csv, none.older_csv),
            (None, None, None)
        );
        assert_eq!(none.older_bytes, 200);
    }
}
