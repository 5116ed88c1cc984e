// Applying a scheduled fault: paths and nodes get an "until" time (so every fault ends on its
// own), links are cut or reset, the gateway crashes, drains or expires a session, and hostile
// frames and peers come from the fuzz suite's catalogue.
import type { Fault } from './faults.js';
import { Path, type ClientSocket } from './network.js';
import { SimNode } from './virtual-time.js';
import { sleep, type World } from './world.js';

/** Apply one fault of the schedule to the world. */
export function applyFault(world: World, fault: Fault): void {
  const now = world.time.now;
  const lane = world.lanes[fault.target];
  world.note(`fault: ${fault.kind} target ${fault.target}${fault.durationMs ? ` for ${fault.durationMs} ms` : ''}`, 'step');
  switch (fault.kind) {
    case 'cut':
      for (const link of [...(lane?.path.links ?? [])]) link.cut();
      return;
    case 'reset':
      for (const link of [...(lane?.path.links ?? [])]) link.reset(fault.param === 1);
      return;
    case 'stall':
      if (lane) lane.path.heldUntil = Math.max(lane.path.heldUntil, now + fault.durationMs);
      return;
    case 'refuse':
      if (lane) lane.path.refusedUntil = Math.max(lane.path.refusedUntil, now + fault.durationMs);
      return;
    case 'flap':
      if (!lane) return;
      lane.path.flapUntil = Math.max(lane.path.flapUntil, now + fault.durationMs);
      for (const link of [...lane.path.links]) link.cut();
      return;
    case 'slow':
      if (!lane) return;
      lane.path.slowUntil = Math.max(lane.path.slowUntil, now + fault.durationMs);
      // A slow reader takes 0.05 to 1 byte per ms.
      lane.path.slowBytesPerMs = fault.param / 20;
      return;
    case 'spike':
      if (!lane) return;
      lane.path.spikeUntil = Math.max(lane.path.spikeUntil, now + fault.durationMs);
      lane.path.spikeMs = fault.param;
      return;
    case 'suspend':
      lane?.node.suspend(fault.durationMs);
      return;
    case 'wall-step':
      if (lane) lane.node.wallOffset += fault.param;
      return;
    case 'hostile-frame': {
      const text = world.hostileServerFrames[fault.param % world.hostileServerFrames.length] ?? '';
      for (const link of lane?.path.links ?? []) link.toClient(() => link.client.receive(text), text.length);
      return;
    }
    case 'hostile-server': {
      if (!lane) return;
      const pool = world.hostileServerFrames;
      lane.path.hostileUntil = Math.max(lane.path.hostileUntil, now + fault.durationMs);
      lane.path.hostileFrames = [0, 1, 2].slice(0, 1 + (fault.param % 3)).map((i) => pool[(fault.param + i) % pool.length] ?? '');
      for (const link of [...lane.path.links]) link.cut();
      return;
    }
    case 'partition':
      for (const l of world.lanes) {
        if ((fault.target & (1 << l.index)) === 0) continue;
        l.path.heldUntil = Math.max(l.path.heldUntil, now + fault.durationMs);
        l.path.refusedUntil = Math.max(l.path.refusedUntil, now + fault.durationMs);
      }
      return;
    case 'crash':
    case 'crash-fresh':
      void crash(world, fault.kind === 'crash', fault.durationMs);
      return;
    case 'drain':
      if (world.gateway && !world.restarting) {
        world.counts.drains++;
        void world.gateway.drain({ spreadMs: fault.param });
      }
      return;
    case 'hostile-client':
      hostileClient(world, fault.param);
      return;
    case 'gateway-wall-step':
      world.gatewayNode.wallOffset += fault.param;
      return;
    case 'expire':
      if (!world.gateway || world.restarting || !lane?.sessionId) return;
      world.counts.expired++;
      void world.gateway.expireSession(lane.sessionId, 'expired by the simulation');
      return;
    case 'block-upgrade':
      if (lane) lane.path.upgradeBlockedUntil = Math.max(lane.path.upgradeBlockedUntil, now + fault.durationMs);
      return;
    case 'post-lost':
      if (!lane) return;
      lane.path.postLossUntil = Math.max(lane.path.postLossUntil, now + fault.durationMs);
      lane.path.postLoss = fault.param === 0 ? 'request' : 'response';
      return;
    case 'half-dead':
      for (const link of [...(lane?.path.links ?? [])]) link.halfDead();
      return;
  }
}

/** Kill the gateway like a crash and start another after `downMs`, with the same log or a fresh one. */
async function crash(world: World, keepLog: boolean, downMs: number): Promise<void> {
  const gateway = world.gateway;
  if (gateway === null || world.restarting) return;
  world.restarting = true;
  // No publish may straddle two gateways sharing one log: let the one in flight finish.
  await Promise.allSettled([...world.inFlight]);
  await gateway.terminate();
  world.gateway = null;
  if (!keepLog) world.log = world.newLog();
  world.counts.restarts++;
  world.note(`gateway crashed${keepLog ? '' : ' and lost its log'}; back in ${downMs} ms`);
  await sleep(world.time, downMs);
  await world.startGateway();
  world.restarting = false;
}

/** A raw peer sends hostile frames; the gateway must refuse with a typed frame and close. */
function hostileClient(world: World, param: number): void {
  const path = new Path(world.time, 200, 5, 1000, world.rng.net.fork(1000 + param));
  const node = new SimNode(world.time, 'hostile');
  const Socket = world.net.webSocketClass(path, node);
  const socket = new Socket('ws://gateway.sim/') as ClientSocket;
  world.counts.hostileClients++;
  // A crash or a drain may end the connection before the refusal: only judge an undisturbed one.
  const lifecycle = world.counts.restarts + world.counts.drains;
  let refused = false;
  socket.onmessage = (m) => {
    const frame = JSON.parse(String(m.data)) as { type?: string; code?: string };
    if ((frame.type === 'hello_error' || frame.type === 'error') && typeof frame.code === 'string') refused = true;
  };
  socket.onopen = () => {
    for (let i = 0; i <= param % 3; i++) socket.send(world.hostileClientFrames[(param + i) % world.hostileClientFrames.length] ?? '');
  };
  world.time.schedule(() => {
    // Nobody listening (a crash) refuses the connection itself, which is fine.
    const undisturbed = world.counts.restarts + world.counts.drains === lifecycle && !world.restarting;
    if (socket.link !== null && !refused && undisturbed) world.fail('a hostile client got no typed refusal within 5 s');
    if (refused) world.counts.hostileClientsRefused++;
    socket.terminate();
  }, 5000);
}
