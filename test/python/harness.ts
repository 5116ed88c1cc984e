// The server side of the Python client's suite: story stages (a real gateway behind the TCP fault
// proxy, restartable with or without its log, deployable with a drain) driven over stdin/stdout,
// one JSON object per line. The Python tests start one harness per session:
//   -> {"id": 1, "op": "stage", "setup": {"heartbeatMs": 300}}   <- {"id": 1, "ok": {"stage": 1, "url": "ws://…"}}
//   -> {"id": 2, "op": "call", "stage": 1, "method": "drop", "args": []}
//   -> {"id": 3, "op": "close", "stage": 1}
// and gateway nodes sharing one log, for failover (fleet-nodes.ts):
//   -> {"id": 4, "op": "fleet", "nodes": 2}                      <- {"id": 4, "ok": {"fleet": 1, "urls": ["ws://…", "ws://…"]}}
//   -> {"id": 5, "op": "node", "fleet": 1, "node": 0, "method": "terminate", "args": []}
//   -> {"id": 6, "op": "closeFleet", "fleet": 1}
// and the PraisonAI stand-in (test/conformance/praisonai-fake.ts) behind the TCP fault proxy:
//   -> {"id": 7, "op": "praisonai", "token": "t", "persisted": 2}  <- {"id": 7, "ok": {"praisonai": 1, "url": "ws://…/ws"}}
//   -> {"id": 8, "op": "praisonaiCall", "praisonai": 1, "method": "refuse", "args": [true]}  (drop, refuse, publish)
//   -> {"id": 9, "op": "closePraisonAI", "praisonai": 1}
// It exits when stdin closes, after closing every stage, so a dead test run leaves nothing behind.
import { createInterface } from 'node:readline';
import { createStage, type Stage } from '../../stories/support/stage.js';
import { invokeStage, isStageCall } from '../../stories/support/stage-call.js';
import type { GatewaySetup } from '../../stories/scenarios/story.js';
import { isNodeCall, startFleetNodes, type FleetNodes } from './fleet-nodes.js';
import { startPraisonAIStage, type PraisonAIStage } from './praisonai-stage.js';

const stages = new Map<number, Stage>();
let nextStage = 1;
const fleets = new Map<number, FleetNodes>();
let nextFleet = 1;
const praisonais = new Map<number, PraisonAIStage>();
let nextPraisonAI = 1;

type Request =
  | { id: number; op: 'stage'; setup?: GatewaySetup }
  | { id: number; op: 'call'; stage: number; method: string; args: unknown[] }
  | { id: number; op: 'close'; stage: number }
  | { id: number; op: 'fleet'; nodes: number; heartbeatMs?: number }
  | { id: number; op: 'node'; fleet: number; node: number; method: string; args: unknown[] }
  | { id: number; op: 'closeFleet'; fleet: number }
  | { id: number; op: 'praisonai'; token: string; persisted?: number }
  | { id: number; op: 'praisonaiCall'; praisonai: number; method: string; args: unknown[] }
  | { id: number; op: 'closePraisonAI'; praisonai: number };

function stageOf(id: number): Stage {
  const stage = stages.get(id);
  if (!stage) throw new Error(`no stage ${id}`);
  return stage;
}

function praisonaiOf(id: number): PraisonAIStage {
  const stage = praisonais.get(id);
  if (!stage) throw new Error(`no PraisonAI stand-in ${id}`);
  return stage;
}

function fleetOf(id: number): FleetNodes {
  const fleet = fleets.get(id);
  if (!fleet) throw new Error(`no fleet ${id}`);
  return fleet;
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
    case 'fleet': {
      const fleet = await startFleetNodes(request.nodes, request.heartbeatMs === undefined ? {} : { heartbeatMs: request.heartbeatMs });
      const id = nextFleet++;
      fleets.set(id, fleet);
      return { fleet: id, urls: fleet.urls };
    }
    case 'node': {
      const call = { method: request.method, args: request.args };
      if (!isNodeCall(call)) throw new Error(`not a node call: ${JSON.stringify(call)}`);
      return (await fleetOf(request.fleet).call(request.node, call)) ?? null;
    }
    case 'closeFleet':
      await fleetOf(request.fleet).close();
      fleets.delete(request.fleet);
      return null;
    case 'praisonai': {
      const stage = await startPraisonAIStage(request.token, request.persisted);
      const id = nextPraisonAI++;
      praisonais.set(id, stage);
      return { praisonai: id, url: stage.url };
    }
    case 'praisonaiCall':
      return praisonaiOf(request.praisonai).call(request.method, request.args) ?? null;
    case 'closePraisonAI':
      await praisonaiOf(request.praisonai).close();
      praisonais.delete(request.praisonai);
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
  const open = [...stages.values(), ...fleets.values(), ...praisonais.values()];
  void Promise.all(open.map((each) => each.close())).finally(() => process.exit(0));
});
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
