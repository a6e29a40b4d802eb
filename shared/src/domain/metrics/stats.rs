//! Order statistics over integer samples, computed exactly (medians and quartiles kept in
//! half-units so no float rounding enters).
//!
//! Quartile method ("median of halves", Tukey's hinges without the median): sort the
//! samples; the lower half is the first ⌊n/2⌋ values and the upper half the last ⌊n/2⌋
//! (the middle value of an odd count belongs to neither); Q1 and Q3 are the medians of those
//! halves, each the mean of the two middle values for an even count. IQR = Q3 − Q1. An
//! outlier is a sample strictly above Q3 + 1.5 × IQR. With fewer than 2 samples there are no
//! halves and no outliers.

/// Median × 2 of sorted samples (`None` when empty): the middle value, or the sum of the two
/// middle values for an even count.
pub fn median_x2(sorted: &[i64]) -> Option<i128> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let hi = i128::from(*sorted.get(n / 2)?);
    if n % 2 == 1 {
        Some(2 * hi)
    } else {
        Some(hi + i128::from(*sorted.get(n / 2 - 1)?))
    }
}

/// Nearest-rank p90: the ⌈0.9·n⌉-th smallest sample.
pub fn p90(sorted: &[i64]) -> Option<i64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = (9 * n).div_ceil(10).max(1);
    sorted.get(rank - 1).copied()
}

/// (Q1 × 2, Q3 × 2) by the median-of-halves method (`None` below 2 samples).
pub fn quartiles_x2(sorted: &[i64]) -> Option<(i128, i128)> {
    let n = sorted.len();
    if n < 2 {
        return None;
    }
    let half = n / 2;
    let lower = sorted.get(..half)?;
    let upper = sorted.get(n - half..)?;
    Some((median_x2(lower)?, median_x2(upper)?))
}

/// Samples strictly above Q3 + 1.5 × IQR.
pub fn outliers(sorted: &[i64]) -> usize {
    let Some((q1x2, q3x2)) = quartiles_x2(sorted) else {
        return 0;
    };
    // x > Q3 + 1.5 (Q3 − Q1)  ⇔  4x > 5·(2·Q3) − 3·(2·Q1)
    let bound = 5 * q3x2 - 3 * q1x2;
    sorted
        .iter()
        .filter(|&&x| 4 * i128::from(x) > bound)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_and_even() {
        assert_eq!(median_x2(&[1, 3, 10]), Some(6));
        assert_eq!(median_x2(&[1, 3, 4, 10]), Some(7)); // 3.5
        assert_eq!(median_x2(&[]), None);
        assert_eq!(median_x2(&[5]), Some(10));
    }

    #[test]
    fn p90_nearest_rank() {
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(p90(&ten), Some(9)); // ceil(9.0) = 9th
        let eleven: Vec<i64> = (1..=11).collect();
        assert_eq!(p90(&eleven), Some(10)); // ceil(9.9) = 10th
        assert_eq!(p90(&[7]), Some(7));
        assert_eq!(p90(&[1, 2]), Some(2)); // ceil(1.8) = 2nd
        assert_eq!(p90(&[]), None);
    }

    #[test]
    fn quartiles_and_outliers() {
        let s = [1, 2, 3, 4, 5, 6, 7, 8, 100];
        // lower = [1,2,3,4] → Q1 = 2.5; upper = last 4 = [6,7,8,100] → Q3 = 7.5.
        assert_eq!(quartiles_x2(&s), Some((5, 15)));
        // IQR = 5, fence = 7.5 + 7.5 = 15: only 100 is above.
        assert_eq!(outliers(&s), 1);
        // n = 7: lower [0,0,0] → Q1 = 0, upper [10,10,x] → Q3 = 10, fence 25: exactly on
        // the fence is not an outlier.
        assert_eq!(outliers(&[0, 0, 0, 10, 10, 10, 25]), 0);
        assert_eq!(outliers(&[0, 0, 0, 10, 10, 10, 26]), 1);
        assert_eq!(outliers(&[1000]), 0);
    }
}
