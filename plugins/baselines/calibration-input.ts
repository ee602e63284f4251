// The per-layer calibration statistic a pruner needs, or a clear error (the prune stage checks
// coverage before calling a pruner, so this only fires when a pruner is called directly).
import { ErrorCode, ScalpelError } from '../../src/index.js';
import type { CalibrationData, LayerCalibration } from '../../src/index.js';

export function layerCalibration<K extends 'inputNorms' | 'gram' | 'meanGradient'>(
  pruner: string,
  calibration: CalibrationData | undefined,
  layer: string,
  stat: K,
): NonNullable<LayerCalibration[K]> & ArrayLike<number> {
  const value = calibration?.layers.get(layer)?.[stat];
  if (value === undefined) {
    throw new ScalpelError(
      ErrorCode.Stage,
      `pruner '${pruner}' needs calibration ${stat} for layer '${layer}'`,
      {
        layer,
        hint: "add a calibrate stage that covers this layer to the prune stage's needs",
      },
    );
  }
  return value;
}
