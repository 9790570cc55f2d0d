/** A fenced code block of a markdown file. */
export interface CodeBlock {
  /** The fence's info string, first word (`ts`, `sh`, …; '' when none). */
  lang: string;
  body: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** Words of a `<!-- readme-test: … -->` comment on the line before the fence. */
  marks: string[];
}

/** The fenced (```) code blocks of `markdown`, in order. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`unclosed code block at line ${start + 1}`);
    const mark = /^<!--\s*readme-test:(.*)-->\s*$/.exec(lines[start - 1] ?? '');
    blocks.push({
      lang: open[1] ?? '',
      body: `${lines.slice(start + 1, end).join('\n')}\n`,
      line: start + 1,
      marks: mark ? mark[1]!.trim().split(/\s+/) : [],
    });
    i = end;
  }
  return blocks;
}
