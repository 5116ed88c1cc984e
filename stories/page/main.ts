// The inspector page: draws the client's chart, runs a story (or a live client against a gateway:
// the demo one of `npm start`, or any one given to `agent-lifeline inspect`) right here in the browser,
// and shows every transition, event, gap, resync, backoff and error as it happens. Server-side
// faults go through the local server's control endpoint. The page never reloads itself: the live
// client rides out gateway restarts, and its link to the local server reconnects on its own.
// No token is ever shown: every text the page draws goes through `shown`.
import { createGatewayClient, GatewayConnectError, type ClientState, type GatewayClient, type ResumeInfo } from '../../src/client/index.js';
import { gatewayMachine } from '../../machines/gateway-machine.js';
import { redactTokens, scrubSecret } from '../../src/protocol/credentials.js';
import { findStory, stories } from '../scenarios/index.js';
import { runStory } from '../support/run-story.js';
import { createTimeline, type Timeline, type TimelineEntry } from '../support/timeline.js';
import type { InspectorConfig } from '../support/inspector-server.js';
import layouts from 'virtual:chart-layouts';
import { createChartPanel } from './chart-panel.js';
import { closeStage, httpStage, openStage } from './http-stage.js';
import { configRows, liveSummary, startHint, targetText } from './live-words.js';
import { openLocalLink, type LinkState } from './local-link.js';
import { createTimelineView } from './timeline-view.js';

/** What the page exposes for automation (the browser test) and for curious people in devtools. */
export interface InspectorHandle {
  /** Each highlight the chart drew since the last run started (the last 2000): the active state ids, as read back from the SVG. */
  readonly highlights: string[][];
  /** `idle`, `running`, `passed`, `failed` (a story, or a live client that stopped) or `live`. */
  status: string;
  /** The error message of the last failed story. */
  error: string | null;
  /** The page's own link to its local server. */
  localServer: LinkState;
  /** The gateway node the shown client is on (`info.url`), as the header shows it; null before its first attempt. */
  node: string | null;
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
const nodeLabel = byId<HTMLSpanElement>('node');
const local = byId<HTMLSpanElement>('local');
const summary = byId<HTMLParagraphElement>('summary');
const chartBox = byId<HTMLDivElement>('chart');
const info = byId<HTMLDListElement>('info');
const sendForm = byId<HTMLFormElement>('send');
const messageInput = byId<HTMLInputElement>('message');
const timelineView = createTimelineView(byId<HTMLOListElement>('timeline'), { redact: shown });
const handle: InspectorHandle = { highlights: [], status: 'idle', error: null, localServer: 'connecting', node: null };
window.lifelineInspector = handle;

let config: InspectorConfig | null = null;
let client: GatewayClient | null = null;
let liveClient: GatewayClient | null = null;
let liveTimeline: Timeline | null = null;
/** Whether anything ran yet: until then the timeline says what will happen. */
let ran = false;
/** Entries the live timeline keeps (a story's run stays far below). */
const LIVE_MAX_ENTRIES = 2000;

/** `text` as the page may show it: `?token=` values, URL passwords and the configured token hidden (the CLI's rule). */
function shown(text: string): string {
  return scrubSecret(redactTokens(text), config?.token);
}

function setStatus(value: string, text = value): void {
  handle.status = value;
  status.className = `status ${value}`;
  status.textContent = text;
}

/** The live status pill: the client's public state, whatever states a newer chart adds. */
function showLiveState(state: ClientState): void {
  setStatus('live', `live: ${state}`);
}

const chart = createChartPanel(chartBox, layouts);

function highlight(active: readonly string[], taken: readonly string[]): void {
  handle.highlights.push(chart.highlight(active, taken));
  if (handle.highlights.length > LIVE_MAX_ENTRIES) handle.highlights.splice(0, handle.highlights.length - LIVE_MAX_ENTRIES);
}

function resumeText(resume: ResumeInfo | null): string {
  if (!resume) return '-';
  return resume.from > resume.to ? `${resume.mode} (nothing to replay)` : `${resume.mode} (#${resume.from}..#${resume.to})`;
}

/** The header's node: which gateway the client is on, so a failover shows the moment it happens. */
function showNode(url: string | null): void {
  handle.node = url;
  nodeLabel.hidden = url === null;
  nodeLabel.textContent = url === null ? '' : shown(`on ${url}`);
}

function showInfo(): void {
  // Before any client: what Connect will use.
  const rows: Array<[string, string]> = client || !config ? [] : configRows(config, findStory(select.value));
  showNode(client?.info.url ?? null);
  if (client) {
    const i = client.info;
    rows.push(
      ['state', client.state],
      ['node', i.url ?? '-'],
      ['transport', i.transport],
      ['protocol', i.protocol === null ? '-' : `v${i.protocol}`],
      ['session', i.sessionId ?? '-'],
      ['epoch', i.epoch ?? '-'],
      ['cursor', String(i.cursor)],
      ['failed attempts', String(i.attempt)],
      ['retry in', i.retryInMs === null ? '-' : `${i.retryInMs} ms`],
      ['last close', i.lastClose ? `${i.lastClose.code} ${i.lastClose.reason}` : '-'],
      ['last resume', resumeText(i.resume)],
    );
  }
  info.replaceChildren(
    ...rows.flatMap(([key, value]) => {
      const dt = document.createElement('dt');
      dt.textContent = key;
      const dd = document.createElement('dd');
      dd.textContent = shown(value);
      dd.title = dd.textContent;
      return [dt, dd];
    }),
  );
}

function freshTimeline(options: { maxEntries?: number } = {}): Timeline {
  ran = true;
  timelineView.clear();
  handle.highlights.length = 0;
  highlight([`${gatewayMachine.root.id}.disconnected`], []);
  const timeline = createTimeline(undefined, options);
  timeline.subscribe((entry: TimelineEntry) => {
    timelineView.add(entry);
    if (entry.kind === 'transition') highlight(entry.active, entry.edges);
    showInfo();
  });
  return timeline;
}

/** Stop the live client: the reader's Disconnect, or the client gave up by itself (`stopped`). */
async function stopLive(stopped = false): Promise<void> {
  const live = liveClient;
  liveClient = null;
  sendForm.hidden = true;
  if (stopped && live && config) {
    setStatus('failed', `stopped: ${live.info.lastError?.code ?? 'disconnected'}`);
    summary.textContent = shown(liveSummary('stopped', live.info, config));
  }
  describe();
  await live?.disconnect();
}

/** Start the live client. Returns at once: the client connects (and retries) while Disconnect stays available. */
function startLive(target: InspectorConfig): void {
  const timeline = freshTimeline({ maxEntries: LIVE_MAX_ENTRIES });
  const restartHint = target.mode === 'start' ? 'stop and restart npm start' : target.gatewayUrls ? 'stop (Ctrl-C) the node it is on' : 'restart the gateway';
  timeline.add({ kind: 'step', text: `Live: a client in this page connects to ${targetText(target)}${target.gatewayUrls ? ', in turn,' : ''} as agent "${target.agentId}". Send a message; ${restartHint} to watch it reconnect.` });
  const live = createGatewayClient({
    // Several nodes: the client's own failover tries them in turn (a drain or a drop moves it on).
    url: target.gatewayUrls ?? target.gatewayUrl,
    agentId: target.agentId,
    ...(target.token === undefined ? {} : { token: target.token }),
    inspect: timeline.inspect,
  });
  timeline.attach(live);
  live.onState((state) => {
    showInfo();
    if (live !== liveClient) return;
    // Disconnected without the reader asking: the client gave up (a fatal refusal, retries spent).
    if (state === 'disconnected') return void stopLive(true);
    showLiveState(state);
    summary.textContent = shown(liveSummary(state, live.info, target));
  });
  liveClient = live;
  liveTimeline = timeline;
  client = live;
  sendForm.hidden = false;
  messageInput.placeholder = `Message to agent "${target.agentId}"`;
  showLiveState('connecting');
  summary.textContent = shown(liveSummary('connecting', live.info, target));
  describe();
  // Not awaited: connect() settles only on a join or a final failure, and the button must stay
  // usable (as Disconnect) while the client retries. A failure shows through onState.
  live.connect().catch(() => undefined);
}

async function runSelected(): Promise<void> {
  if (!config) return;
  runButton.disabled = true;
  try {
    if (liveClient) {
      // The button reads "Disconnect" while live.
      await stopLive();
      setStatus('idle');
      return;
    }
    const name = select.value;
    if (name === LIVE) {
      startLive(config);
      return;
    }
    const story = findStory(name);
    if (!story) return;
    const timeline = freshTimeline();
    client = null;
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
    describe();
  }
}

/** The button, the story picker and, when nothing runs, the subtitle and the empty panels. */
function describe(): void {
  const story = findStory(select.value);
  runButton.textContent = story ? 'Run story' : liveClient ? 'Disconnect' : 'Connect';
  select.disabled = liveClient !== null;
  if (liveClient || handle.status === 'running' || !config) return;
  if (story) summary.textContent = story.summary;
  // A stopped client keeps its own words (why it stopped) until the next run.
  else if (handle.status !== 'failed') summary.textContent = shown(`Connect a client in this page to ${targetText(config)} (agent "${config.agentId}"), and watch its lifecycle live.`);
  if (!ran) timelineView.clear(startHint(config, story));
  showInfo();
}

const LINK_TEXT: Record<LinkState, string> = {
  connecting: 'local server: connecting...',
  connected: 'local server: connected',
  reconnecting: 'local server: reconnecting...',
  refused: 'local server: refused this page (too many open pages, or a key from an earlier run); open the URL agent-lifeline printed',
};

function showLink(state: LinkState): void {
  handle.localServer = state;
  local.className = `local ${state}`;
  local.textContent = LINK_TEXT[state];
}

function loadConfig(): Promise<InspectorConfig> {
  return new Promise((resolve) => {
    openLocalLink(showLink, (next) => {
      // A restarted `npm start` may have picked other ports: the next Connect uses them.
      const moved = config !== null && config.gatewayUrl !== next.gatewayUrl;
      config = next;
      if (moved) summary.textContent = shown(`The local server restarted; the gateway is now ${next.gatewayUrl}.`);
      resolve(next);
    });
  });
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const configured = loadConfig();
  select.append(new Option('Live: the gateway', LIVE));
  const first = await configured;
  if (first.mode === 'start') for (const story of stories) select.append(new Option(story.title, story.name));
  else byId('story-label').hidden = byId('pace-label').hidden = true;
  const wanted = params.get('story');
  if (wanted !== null && findStory(wanted)) select.value = wanted;
  const wantedPace = params.get('pace');
  if (wantedPace !== null && /^\d+$/.test(wantedPace)) {
    if (![...pace.options].some((o) => o.value === wantedPace)) pace.append(new Option(`${wantedPace} ms`, wantedPace));
    pace.value = wantedPace;
  }
  describe();

  highlight([`${gatewayMachine.root.id}.disconnected`], []);
  byId('zoom-in').addEventListener('click', () => chart.zoom(1.25));
  byId('zoom-out').addEventListener('click', () => chart.zoom(0.8));
  byId('zoom-fit').addEventListener('click', () => chart.fit());

  select.addEventListener('change', () => {
    describe();
    const url = new URL(location.href);
    url.searchParams.set('story', select.value);
    history.replaceState(null, '', url);
  });
  runButton.addEventListener('click', () => void runSelected());
  sendForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = messageInput.value.trim();
    if (text === '' || !liveClient) return;
    messageInput.value = '';
    const timeline = liveTimeline;
    // The ack shows the send was applied once; a refusal (outbox_full, a closed client) shows why.
    liveClient.send(text).then(
      (result) => timeline?.add({ kind: 'ack', duplicate: result.duplicate, text: `ack for "${text}"${result.duplicate ? ' (duplicate: already applied)' : ''}` }),
      (error: unknown) => {
        const typed = error instanceof GatewayConnectError ? error : null;
        const message = error instanceof Error ? error.message : String(error);
        timeline?.add({ kind: 'error', code: typed?.code ?? 'send_failed', nextStep: typed?.nextStep ?? 'retry', retryAfterMs: null, text: `send "${text}" failed: ${message}` });
      },
    );
  });
  // `agent-lifeline inspect` exists to watch its gateway: connect at once.
  if (params.get('run') === '1' || first.mode === 'inspect') void runSelected();
}

main().catch((error: unknown) => {
  setStatus('failed', `page error: ${error instanceof Error ? error.message : String(error)}`);
});
