//! Per-stage micro-benchmarks (divan): page parsing, grouping, CSV writing.
fn main() {
    divan::main();
}
