// The server side of the Python client's suite: story stages (a real gateway behind the TCP fault
// proxy, restartable with or without its log, deployable with a drain) driven over stdin/stdout,
// one JSON object per line. The Python tests start one harness per session:
//   -> {"id": 1, "op": "stage", "setup": {"heartbeatMs": 300}}   <- {"id": 1, "ok": {"stage": 1, "url": "ws://…"}}
//   -> {"id": 2, "op": "call", "stage": 1, "method": "drop", "args": []}
//   -> {"id": 3, "op": "close", "stage": 1}
// It exits when stdin closes, after closing every stage, so a dead test run leaves nothing behind.
import { createInterface } from 'node:readline';
import { createStage, type Stage } from '../../stories/support/stage.js';
import { invokeStage, isStageCall } from '../../stories/support/stage-call.js';
import type { GatewaySetup } from '../../stories/scenarios/story.js';

const stages = new Map<number, Stage>();
let nextStage = 1;

type Request = { id: number; op: 'stage'; setup?: GatewaySetup } | { id: number; op: 'call'; stage: number; method: string; args: unknown[] } | { id: number; op: 'close'; stage: number };

function stageOf(id: number): Stage {
  const stage = stages.get(id);
  if (!stage) throw new Error(`no stage ${id}`);
  return stage;
}

async function handle(request: Request): Promise<unknown> {
  switch (request.op) {
    case 'stage': {
      const stage = await createStage(request.setup ?? {});
      const id = nextStage++;
      stages.set(id, stage);
      return { stage: id, url: stage.url };
    }
    case 'call': {
      const call = { method: request.method, args: request.args };
      if (!isStageCall(call)) throw new Error(`not a stage call: ${JSON.stringify(call)}`);
      return (await invokeStage(stageOf(request.stage), call)) ?? null;
    }
    case 'close':
      await stageOf(request.stage).close();
      stages.delete(request.stage);
      return null;
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const request = JSON.parse(line) as Request;
  handle(request).then(
    (ok) => process.stdout.write(`${JSON.stringify({ id: request.id, ok })}\n`),
    (error: unknown) => process.stdout.write(`${JSON.stringify({ id: request.id, error: error instanceof Error ? error.message : String(error) })}\n`),
  );
});
lines.on('close', () => {
  void Promise.all([...stages.values()].map((stage) => stage.close())).finally(() => process.exit(0));
});
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
