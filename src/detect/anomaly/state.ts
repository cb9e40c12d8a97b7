import { LifelineError } from '../../core/errors.ts';
import type { DetectorState } from './detector.ts';

/** Checks that a saved state belongs to `kind` at `version`, and returns its data. */
export function stateData(state: DetectorState, kind: string, version: number): object {
  if (state.kind !== kind || state.version !== version) {
    throw new LifelineError(
      'anomaly.state',
      `saved detector state is ${state.kind} v${state.version}, expected ${kind} v${version}`,
      {
        where: `detector ${kind}`,
        fix: 'delete the saved model state so the detector starts fresh, or use the detector it was saved from',
      },
    );
  }
  if (typeof state.data !== 'object' || state.data === null) {
    throw new LifelineError('anomaly.state', `saved ${kind} state has no data`, {
      where: `detector ${kind}`,
      fix: 'delete the saved model state so the detector starts fresh',
    });
  }
  return state.data;
}
