//! Sorting large records by moving each once: the digest's alerts are a few hundred bytes
//! each, and a comparison sort moves every one of them about log₂ n times. Sorting their
//! positions instead, then putting each record in its place along the permutation's cycles,
//! moves each record once (a swap).

use std::cmp::Ordering;

/// Sorts `items` by `compare`, like `sort_unstable_by`, moving each item at most once.
/// `compare` must be a total order (no two items equal) for the result not to depend on the
/// algorithm.
pub fn sort_in_place_by<T>(items: &mut [T], mut compare: impl FnMut(&T, &T) -> Ordering) {
    let Ok(len) = u32::try_from(items.len()) else {
        // More than 4 billion records do not fit in memory anyway.
        items.sort_unstable_by(compare);
        return;
    };
    // order[k]: the position of the item that goes to position k.
    let mut order: Vec<u32> = (0..len).collect();
    order.sort_unstable_by(|&a, &b| compare(&items[a as usize], &items[b as usize]));
    permute(items, &mut order);
}

/// Puts `items[order[k]]` at position `k` for every `k`, following each cycle of the
/// permutation with one swap per item; `order` is used up.
fn permute<T>(items: &mut [T], order: &mut [u32]) {
    const DONE: u32 = u32::MAX;
    for start in 0..order.len() {
        let mut k = start;
        // The item that belongs at `start` is carried along the cycle until it gets there.
        while order[k] != DONE && order[k] as usize != start {
            let source = order[k] as usize;
            items.swap(k, source);
            order[k] = DONE;
            k = source;
        }
        order[k] = DONE;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        #[test]
        fn sorts_as_the_standard_sort_does(
            mut items in proptest::collection::hash_set(
                (0u8..4, proptest::prelude::any::<u16>()), 0..300
            ).prop_map(|set| set.into_iter().collect::<Vec<_>>())
        ) {
            let mut expected = items.clone();
            expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            sort_in_place_by(&mut items, |a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            proptest::prop_assert_eq!(items, expected);
        }
    }

    #[test]
    fn every_permutation_of_four_is_applied_exactly() {
        let mut seen = 0;
        for p in 0..256u32 {
            let order: Vec<u32> = (0..4).map(|i| (p >> (2 * i)) & 3).collect();
            let mut sorted = order.clone();
            sorted.sort_unstable();
            sorted.dedup();
            if sorted.len() < 4 {
                continue;
            }
            seen += 1;
            let mut items = ['a', 'b', 'c', 'd'];
            let expected: Vec<char> = order.iter().map(|&i| items[i as usize]).collect();
            permute(&mut items, &mut order.clone());
            assert_eq!(items.to_vec(), expected, "order {order:?}");
        }
        assert_eq!(seen, 24);
    }
}
