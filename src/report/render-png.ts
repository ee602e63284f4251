// A chart's SVG → PNG with resvg (its native renderer ships inside the npm package). Fonts are
// chosen deterministically: DejaVu Sans from the usual Debian/Ubuntu location when that file is
// there, so a PNG comes out the same on every machine that has it; only without it are the
// system fonts scanned (and the first one resvg finds draws the text).
import { existsSync } from 'node:fs';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import { ErrorCode, ScalpelError } from '../errors.js';

const FONT_DIR = '/usr/share/fonts/truetype/dejavu';
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => `${FONT_DIR}/${f}`);
const FAMILY = 'DejaVu Sans';

export interface Png {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

/** The fonts resvg gets: the DejaVu files when present (every generic family mapped to them). */
export function chartFonts(): NonNullable<ResvgRenderOptions['font']> {
  const files = FONT_FILES.filter((f) => existsSync(f));
  if (files.length === 0) return { loadSystemFonts: true };
  return {
    loadSystemFonts: false,
    fontFiles: files,
    defaultFontFamily: FAMILY,
    sansSerifFamily: FAMILY,
    serifFamily: FAMILY,
    monospaceFamily: FAMILY,
  };
}

/** Rasterise at `scale` pixels per SVG unit (2: sharp on slides and high-density screens). */
export function renderPng(svg: string, scale = 2): Png {
  try {
    const image = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: scale },
      background: 'white',
      font: chartFonts(),
      logLevel: 'off',
    }).render();
    return { data: image.asPng(), width: image.width, height: image.height };
  } catch (e) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `could not rasterise a chart: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}
