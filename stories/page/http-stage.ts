// The page's `StageControl`: each side effect is a POST to the `npm start` process, which owns
// the story's gateway and fault proxy (a browser cannot kill a gateway or reset TCP itself). Each
// request carries the key the page was opened with.
import type { StageControl } from '../scenarios/story.js';
import type { StageResult } from '../support/stage-call.js';
import { controlHeaders } from './control-key.js';

/** Ask `npm start` to set up a fresh stage (gateway + fault proxy) for `story`; resolves with the proxy's URL. */
export async function openStage(story: string): Promise<string> {
  const body = await post('/control/stage', { story });
  if (typeof body !== 'object' || body === null || !('url' in body) || typeof body.url !== 'string') throw new Error('npm start answered without a stage url');
  return body.url;
}

/** Tear the current stage down. */
export async function closeStage(): Promise<void> {
  await fetch('/control/stage', { method: 'DELETE', headers: controlHeaders() });
}

async function post(path: string, payload: unknown): Promise<unknown> {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', ...controlHeaders() }, body: JSON.stringify(payload) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${text}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

/** The stage behind `npm start`, over HTTP. */
export function httpStage(): StageControl {
  const call = async <K extends keyof StageControl>(method: K, args: Parameters<StageControl[K]>): Promise<StageResult<K>> =>
    // The server runs the same `StageControl` and answers its JSON result.
    (await post('/control/stage/call', { method, args })) as StageResult<K>;
  return {
    drop: () => call('drop', []),
    stall: () => call('stall', []),
    resume: () => call('resume', []),
    refuse: (...args) => call('refuse', args),
    crashGateway: () => call('crashGateway', []),
    bootGateway: (...args) => call('bootGateway', args),
    deploy: (...args) => call('deploy', args),
    publish: (...args) => call('publish', args),
    setState: (...args) => call('setState', args),
    stats: () => call('stats', []),
  };
}
