// A family's save() receives any PrunableModel; this narrows it to the family's own class.
import { ErrorCode, ScalpelError } from '../errors.js';
import type { PrunableModel } from '../plugin-api/model.js';

export function ownModel<T extends PrunableModel>(
  model: PrunableModel,
  cls: abstract new (...args: never[]) => T,
  family: string,
): T {
  if (!(model instanceof cls)) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `family '${family}' cannot save a '${model.family}' model`,
    );
  }
  return model;
}
