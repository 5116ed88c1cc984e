// The inspector page: draws the client's chart, runs a story (or a live client against the demo
// gateway) right here in the browser, and shows every transition, event, gap, resync, backoff and
// error as it happens. Server-side faults go through `npm start`'s control endpoint.
import { createGatewayClient, gatewayMachine, type GatewayClient } from '../../src/client/index.js';
import { findStory, stories } from '../scenarios/index.js';
import { runStory } from '../support/run-story.js';
import { createTimeline, type Timeline, type TimelineEntry } from '../support/timeline.js';
import { chartGraph } from './chart-graph.js';
import { layoutChart } from './chart-layout.js';
import { renderChart, type ChartView } from './chart-view.js';
import { closeStage, httpStage, openStage } from './http-stage.js';
import { createTimelineView } from './timeline-view.js';

/** What the page exposes for automation (the browser test) and for curious people in devtools. */
export interface InspectorHandle {
  /** Each highlight the chart drew: the active state ids, as read back from the SVG. */
  readonly highlights: string[][];
  /** `idle`, `running`, `passed`, `failed` or `live`. */
  status: string;
  /** The error message of the last failed story. */
  error: string | null;
}

declare global {
  interface Window {
    lifelineInspector?: InspectorHandle;
  }
}

const LIVE = 'live';

function byId<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`missing #${id}`);
  return found as T;
}

const select = byId<HTMLSelectElement>('story');
const pace = byId<HTMLSelectElement>('pace');
const runButton = byId<HTMLButtonElement>('run');
const status = byId<HTMLSpanElement>('status');
const summary = byId<HTMLParagraphElement>('summary');
const chartBox = byId<HTMLDivElement>('chart');
const info = byId<HTMLDListElement>('info');
const sendForm = byId<HTMLFormElement>('send');
const messageInput = byId<HTMLInputElement>('message');
const timelineView = createTimelineView(byId<HTMLOListElement>('timeline'));
const handle: InspectorHandle = { highlights: [], status: 'idle', error: null };
window.lifelineInspector = handle;

let chart: ChartView | null = null;
let client: GatewayClient | null = null;
let liveClient: GatewayClient | null = null;

function setStatus(value: string, text = value): void {
  handle.status = value;
  status.className = `status ${value}`;
  status.textContent = text;
}

function highlight(active: readonly string[], taken: readonly string[]): void {
  if (!chart) return;
  chart.highlight(active, taken);
  const drawn = [...chart.element.querySelectorAll<SVGGElement>('g.state.active')].map((g) => g.dataset['state'] ?? '');
  handle.highlights.push(drawn);
}

function showInfo(): void {
  const rows: Array<[string, string]> = [];
  if (client) {
    const i = client.info;
    rows.push(
      ['state', client.state],
      ['protocol', i.protocol === null ? '-' : `v${i.protocol}`],
      ['session', i.sessionId ?? '-'],
      ['epoch', i.epoch ?? '-'],
      ['cursor', String(i.cursor)],
      ['failed attempts', String(i.attempt)],
      ['retry in', i.retryInMs === null ? '-' : `${i.retryInMs} ms`],
      ['last close', i.lastClose ? `${i.lastClose.code} ${i.lastClose.reason}` : '-'],
      ['last resume', i.resume ? `${i.resume.mode} (${i.resume.from}..${i.resume.to})` : '-'],
    );
  }
  info.replaceChildren(
    ...rows.flatMap(([key, value]) => {
      const dt = document.createElement('dt');
      dt.textContent = key;
      const dd = document.createElement('dd');
      dd.textContent = value;
      return [dt, dd];
    }),
  );
}

function freshTimeline(): Timeline {
  timelineView.clear();
  handle.highlights.length = 0;
  highlight([`${gatewayMachine.root.id}.disconnected`], []);
  const timeline = createTimeline();
  timeline.subscribe((entry: TimelineEntry) => {
    timelineView.add(entry);
    if (entry.kind === 'transition') highlight(entry.active, entry.edges);
    showInfo();
  });
  return timeline;
}

async function stopLive(): Promise<void> {
  const live = liveClient;
  liveClient = null;
  sendForm.hidden = true;
  await live?.disconnect();
}

async function startLive(gatewayUrl: string): Promise<void> {
  const timeline = freshTimeline();
  timeline.add({ kind: 'step', text: `Live: a client in this page connected to the demo gateway at ${gatewayUrl}. Send a message; stop and restart npm start to watch it reconnect.` });
  const live = createGatewayClient({ url: gatewayUrl, agentId: 'demo', inspect: timeline.inspect });
  timeline.attach(live);
  live.onState(showInfo);
  liveClient = live;
  client = live;
  sendForm.hidden = false;
  setStatus('live');
  await live.connect().catch(() => undefined);
}

async function runSelected(gatewayUrl: string): Promise<void> {
  runButton.disabled = true;
  try {
    await stopLive();
    const name = select.value;
    if (name === LIVE) {
      await startLive(gatewayUrl);
      return;
    }
    const story = findStory(name);
    if (!story) return;
    const timeline = freshTimeline();
    setStatus('running', `running ${story.name}...`);
    const url = await openStage(story.name);
    const result = await runStory(story, {
      stage: httpStage(),
      url,
      timeline,
      stepPauseMs: Number(pace.value),
      onClient: (c) => {
        client = c;
        // Inspection events arrive before the snapshot settles; refresh again once it has.
        c.onState(showInfo);
      },
    });
    await closeStage();
    handle.error = result.error?.message ?? null;
    setStatus(result.ok ? 'passed' : 'failed', result.ok ? `passed in ${(result.durationMs / 1000).toFixed(1)} s` : `failed: ${result.error?.message ?? ''}`);
  } catch (error) {
    handle.error = error instanceof Error ? error.message : String(error);
    setStatus('failed', `failed: ${handle.error}`);
  } finally {
    runButton.disabled = false;
  }
}

function describe(): void {
  const story = findStory(select.value);
  summary.textContent = story ? story.summary : 'A client in this page, connected to the demo gateway started by npm start.';
  runButton.textContent = story ? 'Run story' : 'Connect';
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  select.append(new Option('Live: the demo gateway', LIVE));
  for (const story of stories) select.append(new Option(story.title, story.name));
  const wanted = params.get('story');
  if (wanted !== null && findStory(wanted)) select.value = wanted;
  const wantedPace = params.get('pace');
  if (wantedPace !== null && /^\d+$/.test(wantedPace)) {
    if (![...pace.options].some((o) => o.value === wantedPace)) pace.append(new Option(`${wantedPace} ms`, wantedPace));
    pace.value = wantedPace;
  }
  describe();

  const layout = await layoutChart(chartGraph(gatewayMachine));
  chart = renderChart(layout);
  chartBox.replaceChildren(chart.element);
  chartBox.removeAttribute('aria-busy');
  highlight([`${gatewayMachine.root.id}.disconnected`], []);

  const response = await fetch('/control/info');
  const control = (await response.json()) as { gatewayUrl: string };
  select.addEventListener('change', () => {
    describe();
    const url = new URL(location.href);
    url.searchParams.set('story', select.value);
    history.replaceState(null, '', url);
  });
  runButton.addEventListener('click', () => void runSelected(control.gatewayUrl));
  sendForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = messageInput.value.trim();
    if (text === '' || !liveClient) return;
    messageInput.value = '';
    void liveClient.send(text).catch(() => undefined);
  });
  if (params.get('run') === '1') void runSelected(control.gatewayUrl);
}

main().catch((error: unknown) => {
  setStatus('failed', `page error: ${error instanceof Error ? error.message : String(error)}`);
});
