import type { ShapeName } from './shapes.js';

/**
 * go-ethereum's own matcher (core/bloombits, 16 handlers, batch 16, its LevelDB options) in
 * sections/s on one 5,000-section classic-level store at 10% vector density, measured side by
 * side with this library's engine of commit 85f80da ("old"), and old ÷ geth at 10% and 1%.
 */
export const GETH_10PCT: Record<ShapeName, number> = { a: 32_800, b: 18_700, c: 4_050, d: 14_300 };
export const OLD_OVER_GETH: Record<'1' | '10', Record<ShapeName, number>> = {
  '10': { a: 0.94, b: 0.8, c: 0.44, d: 1.04 },
  '1': { a: 0.53, b: 0.66, c: 0.29, d: 0.72 },
};

/**
 * geth at 1% and 50%, derived once from the old engine's own rates at 1/10/50% in one run
 * (bench/deriveTargets.ts; see bench/README.md):
 *   geth_1%  = geth_10% × (r10 / r1) × (old_1% / old_10%)   (r = old ÷ geth, measured)
 *   geth_50% = geth_10% × (old_50% / old_10%)                (no geth figure at 50%)
 */
export const GETH: Record<'1' | '10' | '50', Record<ShapeName, number>> = {
  '1': { a: 65_056, b: 54_250, c: 6_701, d: 44_155 },
  '10': GETH_10PCT,
  '50': { a: 19_479, b: 20_145, c: 3_998, d: 7_926 },
};

/** The speed bar: 1.25 × go-ethereum. */
export const TARGET_OVER_GETH = 1.25;
