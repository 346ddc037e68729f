/** The app's log lines (override LOG_DESTINATION with it, and set LOG_LEVEL), parsed. */
export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];

  write(line: string): void {
    this.lines.push(JSON.parse(line) as Record<string, unknown>);
  }

  /** Everything logged so far, as one string (to look for a value that must not be there). */
  text(): string {
    return JSON.stringify(this.lines);
  }

  /** The request log line is written when the response has finished, maybe just after the client saw it. */
  async find(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    for (let i = 0; i < 50; i++) {
      const line = this.lines.find(match);
      if (line) return line;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('no such log line');
  }
}
