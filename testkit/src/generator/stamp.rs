//! Timestamps written the ways the service writes them: it is not consistent about it.

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};

use super::rng::push_decimal;

/// How a timestamp is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `2026-11-27T15:58:02.8454142Z`
    Ticks,
    /// `2026-11-27T16:02:59Z`
    Whole,
    /// `2026-11-27T16:03:33.050Z`
    Millis,
    /// `2026-11-27T16:03:33.05Z`: milliseconds, trailing zeros dropped (none left: no fraction)
    Trimmed,
    /// `2026-11-27T18:02:59+02:00`
    PlusTwo,
}

/// `t` written in `shape`.
pub fn stamp(t: DateTime<Utc>, shape: Shape) -> String {
    let (t, zone) = match shape {
        Shape::PlusTwo => (t.naive_utc() + TimeDelta::hours(2), "+02:00"),
        _ => (t.naive_utc(), "Z"),
    };
    let (date, time) = (t.date(), t.time());
    let mut s = String::with_capacity(34);
    push_decimal(&mut s, date.year().unsigned_abs(), 4);
    s.push('-');
    push_decimal(&mut s, date.month(), 2);
    s.push('-');
    push_decimal(&mut s, date.day(), 2);
    s.push('T');
    push_decimal(&mut s, time.hour(), 2);
    s.push(':');
    push_decimal(&mut s, time.minute(), 2);
    s.push(':');
    push_decimal(&mut s, time.second(), 2);
    let nanos = time.nanosecond();
    match shape {
        Shape::Ticks => {
            s.push('.');
            push_decimal(&mut s, nanos / 100, 7);
        }
        Shape::Millis => {
            s.push('.');
            push_decimal(&mut s, nanos / 1_000_000, 3);
        }
        Shape::Trimmed => {
            let mut millis = nanos / 1_000_000;
            if millis > 0 {
                let mut width = 3;
                while millis % 10 == 0 {
                    millis /= 10;
                    width -= 1;
                }
                s.push('.');
                push_decimal(&mut s, millis, width);
            }
        }
        Shape::Whole | Shape::PlusTwo => {}
    }
    s.push_str(zone);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shape_writes_the_service_s_form() {
        let t: DateTime<Utc> = "2026-11-27T15:58:02.8454142Z".parse().unwrap();
        assert_eq!(stamp(t, Shape::Ticks), "2026-11-27T15:58:02.8454142Z");
        assert_eq!(stamp(t, Shape::Whole), "2026-11-27T15:58:02Z");
        assert_eq!(stamp(t, Shape::Millis), "2026-11-27T15:58:02.845Z");
        assert_eq!(stamp(t, Shape::Trimmed), "2026-11-27T15:58:02.845Z");
        assert_eq!(stamp(t, Shape::PlusTwo), "2026-11-27T17:58:02+02:00");
        let t: DateTime<Utc> = "2026-11-27T16:03:33.0509Z".parse().unwrap();
        assert_eq!(stamp(t, Shape::Millis), "2026-11-27T16:03:33.050Z");
        assert_eq!(stamp(t, Shape::Trimmed), "2026-11-27T16:03:33.05Z");
        let t: DateTime<Utc> = "2026-11-27T16:03:33.0009Z".parse().unwrap();
        assert_eq!(stamp(t, Shape::Trimmed), "2026-11-27T16:03:33Z");
    }
}
