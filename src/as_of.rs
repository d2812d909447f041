//! The `--as-of` instant: an RFC 3339 instant, or a date meaning that day's start in the
//! configured zone. It replaces "now" for the window, the ages and the digest date.

use chrono::{DateTime, Datelike as _, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Resolves `--as-of` (or `now` when absent).
pub fn resolve(raw: Option<&str>, tz: Tz, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let Some(raw) = raw.map(str::trim) else {
        return Ok(now);
    };
    let instant = if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        t.with_timezone(&Utc)
    } else {
        let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
            format!("--as-of {raw:?} is neither an RFC 3339 instant (2026-11-29T07:00:00Z) nor a date (2026-11-29)")
        })?;
        start_of_day(date, tz)
    };
    // The digest date names a folder `YYYY-MM-DD`: a fifth digit would break that shape.
    if digest_date(instant, tz).year() > 9999 {
        return Err(format!(
            "--as-of {raw:?} falls after the year 9999 in {tz}; digest dates have four-digit years"
        ));
    }
    Ok(instant)
}

/// The first instant of `date` in `tz`. Where midnight does not exist (a DST jump at
/// midnight), the day starts at the first local time that does.
pub fn start_of_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let mut local = date.and_time(NaiveTime::MIN);
    for _ in 0..(24 * 4) {
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.with_timezone(&Utc);
        }
        local += chrono::TimeDelta::minutes(15);
    }
    Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN))
}

/// The digest date: the as-of instant's calendar date in the configured zone.
pub fn digest_date(as_of: DateTime<Utc>, tz: Tz) -> NaiveDate {
    as_of.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn instants_and_dates_resolve_in_the_configured_zone() {
        let now = utc("2030-01-01T00:00:00Z");
        let tz: Tz = "Europe/Stockholm".parse().unwrap();
        assert_eq!(resolve(None, tz, now).unwrap(), now);
        assert_eq!(
            resolve(Some("2026-11-29T07:00:00+01:00"), tz, now).unwrap(),
            utc("2026-11-29T06:00:00Z")
        );
        assert_eq!(
            resolve(Some("2026-11-29"), tz, now).unwrap(),
            utc("2026-11-28T23:00:00Z")
        );
        assert_eq!(
            resolve(Some("2026-07-01"), tz, now).unwrap(),
            utc("2026-06-30T22:00:00Z")
        );
        let err = resolve(Some("yesterday"), tz, now).unwrap_err();
        assert!(err.contains("yesterday"), "{err}");
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_at_the_first_real_time() {
        // America/Santiago skipped 2024-09-08 00:00–01:00 (DST began at midnight).
        let tz: Tz = "America/Santiago".parse().unwrap();
        let start = start_of_day(NaiveDate::from_ymd_opt(2024, 9, 8).unwrap(), tz);
        assert_eq!(start, utc("2024-09-08T04:00:00Z"));
        assert_eq!(
            digest_date(start, tz),
            NaiveDate::from_ymd_opt(2024, 9, 8).unwrap()
        );
    }

    #[test]
    fn the_digest_date_near_midnight_follows_the_zone() {
        let as_of = utc("2026-11-29T10:30:00Z");
        let kiritimati: Tz = "Pacific/Kiritimati".parse().unwrap(); // UTC+14
        let baker: Tz = "Etc/GMT+12".parse().unwrap(); // UTC−12
        assert_eq!(digest_date(as_of, kiritimati).to_string(), "2026-11-30");
        assert_eq!(digest_date(as_of, baker).to_string(), "2026-11-28");
    }
}
