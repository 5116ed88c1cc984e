// `lifeline conformance`: placeholder until implemented.
export async function run(_args: string[]): Promise<number> {
  process.stderr.write('lifeline conformance: not implemented yet\n');
  return 1;
}
