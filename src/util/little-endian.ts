// scalpel's binary files (dataset and calibration artifacts, training checkpoints) are
// little-endian and read by viewing their bytes as typed arrays, which use the host's byte order.
import { endianness } from 'node:os';
import { ErrorCode, ScalpelError } from '../errors.js';

/** Throws unless this host is little-endian; `what` names the files ("dataset artifacts"). */
export function assertLittleEndian(what: string): void {
  if (endianness() !== 'LE') {
    throw new ScalpelError(
      ErrorCode.Internal,
      `${what} are little-endian; this machine is big-endian`,
      {
        hint: 'run scalpel on a little-endian machine (x86-64, arm64)',
      },
    );
  }
}
