// A verified teacher completion of the distillation experiment, and the SFT set's JSON-lines
// form (shared by the CLI and the page, so kept free of the engine).

export interface SftRecord {
  prompt: string;
  completion: string;
  answer: string;
}

/** The SFT set as JSON lines (one {"prompt","completion","answer"} per line). */
export function sftJsonl(records: SftRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '');
}
