/** The weights of one NAB scoring profile (NAB v1.0 `config/profiles.json`). */
export interface NabProfile {
  /** Reward for the earliest detection at the very start of a window. */
  readonly tp: number;
  /** Cost of a flag outside every window (scaled by its distance to the previous window). */
  readonly fp: number;
  /** Cost of a window with no detection. */
  readonly fn: number;
}

/** The three NAB profiles, keyed by the names used in NAB's results. */
export const NAB_PROFILES = {
  standard: { tp: 1, fp: 0.11, fn: 1 },
  reward_low_FP_rate: { tp: 1, fp: 0.22, fn: 1 },
  reward_low_FN_rate: { tp: 1, fp: 0.11, fn: 2 },
} as const satisfies Record<string, NabProfile>;

/** Name of a NAB profile. */
export type NabProfileName = keyof typeof NAB_PROFILES;

/** Profile names in NAB's report order. */
export const NAB_PROFILE_NAMES = Object.keys(NAB_PROFILES) as NabProfileName[];
