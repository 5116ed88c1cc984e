// Nesting-depth cases for the limit on frames a client reads (src/protocol/frame-limits.ts),
// exported for the Python client (protocol.json): each text, the limit, and whether it is past it.
import { MAX_SERVER_FRAME_DEPTH } from '../../src/protocol/index.js';

export interface NestingCase {
  readonly name: string;
  readonly text: string;
  readonly maxDepth: number;
  readonly exceeds: boolean;
}

/** Objects nested `depth` deep, with `inner` at the bottom: `{"a":{"a":1}}` is 2. */
function objects(depth: number, inner = '1'): string {
  return `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`;
}

function arrays(depth: number, inner = ''): string {
  return `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
}

/** The cases, with the answer worked out by hand (test/protocol/frame-limits.test.ts checks the TypeScript side against them). */
export function nestingCases(): NestingCase[] {
  const max = MAX_SERVER_FRAME_DEPTH;
  const mixed = `{"a":[{"b":[${arrays(2)}]}]}`;
  const escapedBackslash = `{"a":"\\\\","b":${arrays(10)}}`;
  return [
    { name: 'a flat object', text: '{"type":"event","seq":1}', maxDepth: 1, exceeds: false },
    { name: 'one level past a small limit', text: objects(3), maxDepth: 2, exceeds: true },
    { name: 'exactly a small limit', text: objects(3), maxDepth: 3, exceeds: false },
    { name: 'arrays and objects mixed, one past', text: mixed, maxDepth: 5, exceeds: true },
    { name: 'arrays and objects mixed, at the limit', text: mixed, maxDepth: 6, exceeds: false },
    { name: 'brackets inside strings do not count', text: `{"a":"${'[{'.repeat(50)}","b":["]]]}}}"]}`, maxDepth: 2, exceeds: false },
    { name: 'an escaped quote does not end the string', text: `{"a":"\\"${'['.repeat(50)}"}`, maxDepth: 1, exceeds: false },
    { name: 'an escaped backslash before the closing quote', text: escapedBackslash, maxDepth: 11, exceeds: false },
    { name: 'an escaped backslash before the closing quote, one past', text: escapedBackslash, maxDepth: 10, exceeds: true },
    { name: 'siblings are not depth', text: `[${Array.from({ length: 60 }, () => '{"a":[1]}').join(',')}]`, maxDepth: 3, exceeds: false },
    { name: 'whitespace between brackets', text: ' [ \n[\t[ ] ] ] ', maxDepth: 2, exceeds: true },
    { name: `exactly MAX_SERVER_FRAME_DEPTH (${max})`, text: objects(max), maxDepth: max, exceeds: false },
    { name: `one past MAX_SERVER_FRAME_DEPTH (${max + 1})`, text: objects(max + 1), maxDepth: max, exceeds: true },
    { name: 'arrays 3000 deep', text: arrays(3000), maxDepth: max, exceeds: true },
  ];
}
