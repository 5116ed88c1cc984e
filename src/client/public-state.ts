// The public status apps see (`client.state`, `onState`), projected from the chart's states.
import type { SnapshotFrom } from 'xstate';
import { gatewayMachine } from '../../machines/gateway-machine.js';
import { assertNever } from '../protocol/assert-never.js';
import type { ClientState } from './types.js';

/**
 * The public status, projected from every state of the chart by exhaustive switches: adding a
 * state or substate without deciding what apps see fails to compile.
 */
export function publicState(snapshot: SnapshotFrom<typeof gatewayMachine>): ClientState {
  const value = snapshot.value;
  if (typeof value === 'string') {
    switch (value) {
      case 'disconnected':
      case 'connecting':
      case 'negotiating':
        return value;
      default:
        return assertNever(value);
    }
  }
  if ('joined' in value) {
    switch (value.joined) {
      case 'replaying':
      case 'live':
        return 'joined';
      default:
        return assertNever(value.joined);
    }
  }
  if ('reconnecting' in value) return waitingState('reconnecting', value.reconnecting);
  return waitingState('suspended', value.suspended);
}

function waitingState<S extends 'reconnecting' | 'suspended'>(state: S, sub: 'waiting' | 'offline' | 'backpressure'): S {
  switch (sub) {
    case 'waiting':
    case 'offline':
    // Paused for a slow events() reader: apps see `reconnecting` (and `info.backpressure.paused`).
    case 'backpressure':
      return state;
    default:
      return assertNever(sub);
  }
}
