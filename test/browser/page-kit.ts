// What the browser tests read off the inspector page: its status, its panels, and whether the
// chart is on one screen (every top-level state's box inside the chart's visible area and the
// window, every text in the chart at 11 px or more, the current state and the transition just
// taken highlighted).
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export const SCREENSHOT_DIR = 'test-results';

/** The window sizes the chart must fit without panning. */
export const SIZES = [
  { width: 1024, height: 768 },
  { width: 1400, height: 900 },
] as const;

/** The info panel as key -> value (`session`, `epoch`, `node`, ...). */
export function infoRows(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => {
    const rows: Record<string, string> = {};
    for (const dt of document.querySelectorAll('#info dt')) rows[dt.textContent ?? ''] = dt.nextElementSibling?.textContent ?? '';
    return rows;
  });
}

export function waitForStatus(page: Page, text: string, timeout = 5000): Promise<unknown> {
  return page.waitForFunction((expected) => document.getElementById('status')?.textContent === expected, text, { timeout }).catch(async (error: unknown) => {
    throw new Error(`status is "${await page.textContent('#status')}", not "${text}"; summary: ${await page.textContent('#summary')}`, { cause: error });
  });
}

/** Everything a reader of the page can see or hover: its text and its title attributes. */
export function pageText(page: Page): Promise<string> {
  return page.evaluate(() => [document.body.innerText, ...[...document.querySelectorAll('[title]')].map((el) => el.getAttribute('title') ?? '')].join('\n'));
}

/** The chart as drawn now: each top-level state's place, the smallest text, the highlights. */
function measure(page: Page) {
  return page.evaluate(() => {
    const box = document.getElementById('chart');
    const svg = document.querySelector<SVGSVGElement>('svg.chart');
    if (!box || !svg) return null;
    const view = box.getBoundingClientRect();
    const visible = { left: view.left + box.clientLeft, top: view.top + box.clientTop, right: view.left + box.clientLeft + box.clientWidth, bottom: view.top + box.clientTop + box.clientHeight };
    const inside = (r: DOMRect): boolean =>
      r.left >= Math.max(visible.left, 0) && r.top >= Math.max(visible.top, 0) && r.right <= Math.min(visible.right, innerWidth) && r.bottom <= Math.min(visible.bottom, innerHeight);
    const tops = [...svg.querySelectorAll<SVGGElement>('g.state')].filter((g) => (g.dataset['state'] ?? '').split('.').length === 2);
    const outside = tops.filter((g) => !inside(g.querySelector('rect')?.getBoundingClientRect() ?? new DOMRect())).map((g) => g.dataset['state'] ?? '');
    // The drawn size of the chart's text: its font size in the SVG's units times the SVG's scale.
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    const sizes = [...svg.querySelectorAll<SVGTextContentElement>('text, tspan')].filter((t) => (t.textContent ?? '') !== '').map((t) => parseFloat(getComputedStyle(t).fontSize) * scale);
    const active = [...svg.querySelectorAll<SVGGElement>('g.state.active')].map((g) => g.dataset['state'] ?? '');
    const taken = [...svg.querySelectorAll<SVGGElement>('g.arrow.taken')].map((g) => g.dataset['arrow'] ?? '');
    return { tops: tops.map((g) => g.dataset['state'] ?? ''), outside, smallestText: Math.min(...sizes), active, taken };
  });
}

/**
 * At each window size, while the client is in top-level `state`: every top-level state's box lies
 * inside the chart's visible area and the window (no panning), every text in the chart is at
 * least 11 px, `state` is highlighted, and (when `taken`) the transition just taken is highlighted
 * and leads into a highlighted state. A client that is retrying flips between reconnecting and
 * connecting, so a measurement taken in the other state is taken again (bounded). A screenshot
 * of each goes to test-results/.
 */
export async function checkSizes(page: Page, state: string, taken = true): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  for (const size of SIZES) {
    const where = `${size.width}x${size.height}`;
    await page.setViewportSize(size);
    let seen: Awaited<ReturnType<typeof measure>> = null;
    for (let attempt = 0; attempt < 20 && !seen?.active.includes(`gateway.${state}`); attempt++) {
      await page.waitForSelector(`svg.chart g.state.active[data-state="gateway.${state}"]`, { timeout: 10_000 });
      // Resize observers run before the next frame is painted; two frames later the chart is refitted.
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      seen = await measure(page);
    }
    expect(seen, where).not.toBeNull();
    expect(seen?.active, where).toContain(`gateway.${state}`);
    expect(seen?.tops.length, `${where}: top-level states drawn`).toBe(6);
    expect(seen?.outside, `${where}: top-level states out of view`).toEqual([]);
    expect(seen?.smallestText, `${where}: smallest text in px`).toBeGreaterThanOrEqual(11);
    if (taken) {
      expect(seen?.taken.length, `${where}: the transition just taken`).toBeGreaterThanOrEqual(1);
      for (const arrow of seen?.taken ?? []) expect(seen?.active, `${where}: ${arrow} leads into the current state`).toContain(arrow.split('->')[1]);
    }
    await page.screenshot({ path: `${SCREENSHOT_DIR}/inspector-${state}-${where}.png` });
  }
}
