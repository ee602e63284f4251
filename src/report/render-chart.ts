// Vega-Lite → Vega → SVG, headless in Node: vega's View with the 'none' renderer produces the
// scene graph and toSVG() serialises it. No canvas and no browser are needed; text widths are
// estimated by vega. The SVG references nothing external (fonts are generic families).
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { ChartSpec } from './chart-specs.js';

export async function renderChartSvg(chart: ChartSpec): Promise<string> {
  let view: vega.View | undefined;
  try {
    const compiled = compile(chart.spec).spec;
    view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Warn });
    const svg = await view.toSVG();
    // Identify the chart inside the report (the browser test counts marks per chart).
    return svg.replace(
      '<svg ',
      `<svg data-chart="${chart.id}" role="img" aria-label="${escapeAttr(chart.title)}" `,
    );
  } catch (e) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `could not render chart '${chart.id}': ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  } finally {
    view?.finalize();
  }
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
