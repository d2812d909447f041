//! The generator's random numbers: `SplitMix64`, tiny, fast and good enough to make alerts look
//! random, and the same on every machine for the same seed.

use chrono::TimeDelta;

/// `SplitMix64`, from its state.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

/// `SplitMix64`'s increment.
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// `SplitMix64`'s output function.
fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A good 64-bit mix of `x`: the first draw of `Rng(x)`.
pub fn mix64(x: u64) -> u64 {
    finalize(x.wrapping_add(GOLDEN_GAMMA))
}

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN_GAMMA);
        finalize(self.0)
    }

    /// Uniform in `0..n` (the modulo bias is irrelevant here).
    pub fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n).expect("usize fits in u64");
        usize::try_from(self.next_u64() % n).expect("less than a usize")
    }

    /// Uniform in `lo..hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        let span = u64::try_from(hi - lo).expect("hi > lo");
        lo + i64::try_from(self.next_u64() % span).expect("span fits in i64")
    }

    pub fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    pub fn pick_ref<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// One of `items`, each as likely as its weight.
    pub fn weighted<T: Copy>(&mut self, items: &[(T, usize)]) -> T {
        let mut roll = self.below(items.iter().map(|(_, w)| w).sum());
        for &(item, weight) in items {
            if roll < weight {
                return item;
            }
            roll -= weight;
        }
        unreachable!("roll is below the total weight")
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }

    /// A version-4 GUID in lower case, from two draws.
    pub fn guid(&mut self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        guid_text(a, b >> 48, b)
    }

    /// A version-4 GUID in lower case whose last group is `node` (48 bits), from two draws.
    pub fn guid_with_node(&mut self, node: u64) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        guid_text(a, b, node)
    }

    /// Up to a second of 100 ns ticks, so that seven fractional digits carry information.
    pub fn jitter(&mut self) -> TimeDelta {
        TimeDelta::nanoseconds(self.between(0, 10_000_000) * 100)
    }
}

/// `xxxxxxxx-xxxx-4xxx-Vxxx-nnnnnnnnnnnn`: the time fields from `a`, the variant's 14 bits from
/// `clock` and the last group from `node`.
fn guid_text(a: u64, clock: u64, node: u64) -> String {
    let mut s = String::with_capacity(36);
    push_hex(&mut s, a >> 32, 8);
    s.push('-');
    push_hex(&mut s, a >> 16, 4);
    s.push_str("-4");
    push_hex(&mut s, a, 3);
    s.push('-');
    push_hex(&mut s, 0x8000 | (clock & 0x3FFF), 4);
    s.push('-');
    push_hex(&mut s, node, 12);
    s
}

const MASK48: u64 = (1 << 48) - 1;

/// A bijection of 48-bit numbers (odd multipliers and xor-shifts), keyed by `key`: distinct
/// indices give distinct GUID tails.
pub fn permute48(index: usize, key: u64) -> u64 {
    let mut x = (u64::try_from(index).expect("usize fits in u64") ^ key) & MASK48;
    x = x.wrapping_mul(0x9E37_79B9_7F4B) & MASK48;
    x ^= x >> 21;
    x = x.wrapping_mul(0xBF58_476D_1CE5) & MASK48;
    x ^ (x >> 24)
}

/// Appends the last `width` decimal digits of `value`, zero-padded (`format!` is slow here).
pub fn push_decimal(s: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = value / 10u32.pow(place) % 10;
        s.push(char::from_digit(digit, 10).expect("a digit"));
    }
}

/// Appends the last `width` hexadecimal digits of `value`, lower case, zero-padded.
pub fn push_hex(s: &mut String, value: u64, width: u32) {
    for place in (0..width).rev() {
        let digit = u32::try_from((value >> (4 * place)) & 0xF).expect("a nibble");
        s.push(char::from_digit(digit, 16).expect("a digit"));
    }
}
