// Exhaustiveness guard for switches over unions: adding a union member breaks the build here.

/** Call in the `default` branch of a switch that handles every member of a union. */
export function assertNever(value: never): never {
  throw new Error(`Unhandled value: ${JSON.stringify(value)}`);
}
