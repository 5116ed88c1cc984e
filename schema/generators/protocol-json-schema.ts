// The contract as JSON Schema (draft-07), built by valibot's own converter, so a client in any
// language can validate frames. `npm run schema` writes it to schema/protocol.schema.json.
import { toJsonSchema } from '@valibot/to-json-schema';
import * as frames from '../../src/protocol/frames.js';
import { MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from '../../src/protocol/versions.js';

const definitions = {
  HelloFrame: frames.HelloFrame,
  JoinFrame: frames.JoinFrame,
  MessageFrame: frames.MessageFrame,
  ResyncFrame: frames.ResyncFrame,
  LeaveFrame: frames.LeaveFrame,
  PingFrame: frames.PingFrame,
  PongFrame: frames.PongFrame,
  HelloOkFrame: frames.HelloOkFrame,
  HelloErrorFrame: frames.HelloErrorFrame,
  JoinedFrame: frames.JoinedFrame,
  EventFrame: frames.EventFrame,
  ReplayFrame: frames.ReplayFrame,
  CaughtUpFrame: frames.CaughtUpFrame,
  BatchFrame: frames.BatchFrame,
  SnapshotFrame: frames.SnapshotFrame,
  AckFrame: frames.AckFrame,
  ErrorFrame: frames.ErrorFrame,
  DrainingFrame: frames.DrainingFrame,
  EventPayload: frames.EventPayload,
  Gap: frames.Gap,
  Policy: frames.Policy,
  Features: frames.Features,
  Health: frames.Health,
  PresenceEntry: frames.PresenceEntry,
  ClientFrame: frames.ClientFrame,
  ServerFrame: frames.ServerFrame,
};

/** Build the JSON Schema document for the whole contract. */
export function buildProtocolJsonSchema(): Record<string, unknown> {
  const converted = toJsonSchema(frames.ServerFrame, { definitions, target: 'draft-07' }) as Record<string, unknown>;
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://lifeline.dev/schema/protocol.schema.json',
    title: 'Lifeline gateway protocol',
    description: `Frames of the Lifeline protocol, versions ${MIN_PROTOCOL_VERSION}..${PROTOCOL_VERSION}. Each WebSocket text frame holds one JSON object; "type" discriminates. Unknown fields are ignored.`,
    'x-protocol-version': { min: MIN_PROTOCOL_VERSION, max: PROTOCOL_VERSION },
    // anyOf, not oneOf: ping and pong are valid in both directions.
    anyOf: [{ $ref: '#/$defs/ClientFrame' }, { $ref: '#/$defs/ServerFrame' }],
    $defs: converted['$defs'],
  };
}

/** The schema as it is written to disk (stable formatting, trailing newline). */
export function renderProtocolJsonSchema(): string {
  return `${JSON.stringify(buildProtocolJsonSchema(), null, 2)}\n`;
}
