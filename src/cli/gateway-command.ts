// `lifeline gateway`: placeholder until implemented.
export async function run(_args: string[]): Promise<number> {
  process.stderr.write('lifeline gateway: not implemented yet\n');
  return 1;
}
