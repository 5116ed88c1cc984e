// The HTTP endpoint `npm start` exposes to the inspector page, so stories running in the browser
// can script what only the server can do: crash or deploy a gateway, break the network.
//   GET    /control/info        the demo gateway's URL and the story names
//   POST   /control/stage       {story}: a fresh gateway + fault proxy for that story -> {url}
//   POST   /control/stage/call  {method, args}: one StageControl call -> its JSON result
//   DELETE /control/stage       tear the stage down
// One stage at a time: a new one replaces the last. Local use only: it listens on 127.0.0.1, and
// the inspector server lets through only requests with its key, its Host and no other origin.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { findStory, stories } from '../scenarios/index.js';
import { createStage, type Stage } from './stage.js';
import { invokeStage, isStageCall } from './stage-call.js';

/** The control endpoint: a connect-style middleware plus cleanup. */
export interface ControlApi {
  /** Handles `/control/...`; calls `next()` for anything else. */
  handle(req: IncomingMessage, res: ServerResponse, next: () => void): void;
  /** Close the current stage, if any. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve(text === '' ? undefined : (JSON.parse(text) as unknown));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body ?? null));
}

/** Create the control endpoint; `gatewayUrl` is the long-running demo gateway the page's live mode uses. */
export function createControlApi(gatewayUrl: string): ControlApi {
  let stage: Stage | null = null;
  // Serialise stage changes and calls, so a DELETE cannot race a call on the same stage.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  };
  const closeStage = async (): Promise<void> => {
    const current = stage;
    stage = null;
    await current?.close();
  };

  async function route(req: IncomingMessage, path: string): Promise<[number, unknown]> {
    // A JSON body is something a page of another origin cannot send without asking first (CORS).
    if (req.method === 'POST' && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      return [415, { error: 'send the body as application/json' }];
    }
    if (req.method === 'GET' && path === '/control/info') {
      return [200, { gatewayUrl, stories: stories.map(({ name, title, summary }) => ({ name, title, summary })) }];
    }
    if (req.method === 'POST' && path === '/control/stage') {
      const body = await readJson(req);
      const name = typeof body === 'object' && body !== null && 'story' in body ? body.story : undefined;
      const story = typeof name === 'string' ? findStory(name) : undefined;
      if (!story) return [404, { error: `unknown story ${JSON.stringify(name)}` }];
      return serial(async () => {
        await closeStage();
        stage = await createStage(story.gateway);
        return [200, { url: stage.url }];
      });
    }
    if (req.method === 'POST' && path === '/control/stage/call') {
      const call = await readJson(req);
      if (!isStageCall(call)) return [400, { error: 'expected {method, args} naming a stage method' }];
      return serial(async () => {
        if (!stage) return [409, { error: 'no stage: POST /control/stage first' }];
        return [200, await invokeStage(stage, call)];
      });
    }
    if (req.method === 'DELETE' && path === '/control/stage') {
      return serial(async () => {
        await closeStage();
        return [200, null];
      });
    }
    return [404, { error: `no route ${req.method ?? ''} ${path}` }];
  }

  return {
    handle(req, res, next) {
      const path = (req.url ?? '').split('?')[0] ?? '';
      if (!path.startsWith('/control/')) {
        next();
        return;
      }
      route(req, path).then(
        ([status, body]) => send(res, status, body),
        (error: unknown) => send(res, 500, { error: error instanceof Error ? error.message : String(error) }),
      );
    },
    close: () => serial(closeStage),
  };
}
