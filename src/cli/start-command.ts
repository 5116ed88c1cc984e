// `lifeline start`: placeholder until implemented.
export async function run(_args: string[]): Promise<number> {
  process.stderr.write('lifeline start: not implemented yet\n');
  return 1;
}
