import { useRef, useState } from 'react';
import { Box, Text, useApp, useInput } from 'ink';
import type { HeldPackage, ReviewDecisionKind, ReviewDecisionResponse } from '@secure-registry/shared';
import { ReviewDetail, severityColor, topSeverity } from './ReviewDetail.js';

export interface ReviewListProps {
  packages: HeldPackage[];
  decide(pkg: HeldPackage, decision: ReviewDecisionKind, reason: string): Promise<ReviewDecisionResponse>;
  /** Called when the user quits (q / Esc in the list). */
  onExit?: () => void;
}

type Mode = 'list' | 'detail' | 'prompt';
interface Message {
  kind: 'ok' | 'error';
  text: string;
}

const VISIBLE_ROWS = 15;

/**
 * The review queue: ↑/↓ to move, Enter to show a package with its evidence, `a` approve or `r`
 * reject (asks for a comment, Enter records it, Esc cancels), `q` quits.
 */
interface ViewState {
  items: HeldPackage[];
  index: number;
  mode: Mode;
  /** Where Esc in the prompt returns to. */
  previous: Mode;
  decision: ReviewDecisionKind;
  reason: string;
  busy: boolean;
  message: Message | undefined;
}

export function ReviewList(props: ReviewListProps) {
  const { exit } = useApp();
  // Keys may arrive before the next render: the handler reads and writes the latest state in a
  // ref, and a counter triggers the render.
  const state = useRef<ViewState>({
    items: props.packages,
    index: 0,
    mode: 'list',
    previous: 'list',
    decision: 'approve',
    reason: '',
    busy: false,
    message: undefined,
  });
  const [, setRenders] = useState(0);
  const update = (patch: Partial<ViewState>) => {
    state.current = { ...state.current, ...patch };
    setRenders((n) => n + 1);
  };
  const selectedOf = (s: ViewState) => s.items[Math.min(s.index, s.items.length - 1)];
  const { items, index, mode, decision, reason, busy, message } = state.current;
  const selected = selectedOf(state.current);

  const quit = () => {
    props.onExit?.();
    exit();
  };

  const submit = async (pkg: HeldPackage) => {
    const text = state.current.reason.trim();
    if (!text) {
      update({ message: { kind: 'error', text: 'a reason is required' } });
      return;
    }
    update({ busy: true });
    try {
      const result = await props.decide(pkg, state.current.decision, text);
      const rest = state.current.items.filter((item) => item !== pkg);
      const scans = result.scansUpdated > 0 ? `; ${result.scansUpdated} running scan(s) updated` : '';
      update({
        items: rest,
        index: Math.max(0, Math.min(state.current.index, rest.length - 1)),
        mode: 'list',
        reason: '',
        busy: false,
        message: { kind: 'ok', text: `${pkg.name}@${pkg.version} ${result.verdict}${scans}` },
      });
    } catch (error) {
      update({
        busy: false,
        message: { kind: 'error', text: error instanceof Error ? error.message : String(error) },
      });
    }
  };

  useInput((input, key) => {
    const s = state.current;
    if (s.busy) return;
    const current = selectedOf(s);
    if (s.mode === 'prompt') {
      if (key.escape) update({ mode: s.previous, reason: '', message: undefined });
      else if (key.return) {
        if (current) void submit(current);
      } else if (key.backspace || key.delete) update({ reason: s.reason.slice(0, -1) });
      else if (input && !key.ctrl && !key.meta) update({ reason: s.reason + input.replace(/[\r\n]/g, ' ') });
      return;
    }
    if (input === 'q' || (key.escape && s.mode === 'list')) return quit();
    if (!current) return;
    if (input === 'a' || input === 'r') {
      update({
        previous: s.mode,
        decision: input === 'a' ? 'approve' : 'reject',
        reason: '',
        message: undefined,
        mode: 'prompt',
      });
      return;
    }
    if (s.mode === 'detail') {
      if (key.escape || key.backspace || key.leftArrow) update({ mode: 'list' });
      return;
    }
    if (key.upArrow || input === 'k') update({ index: Math.max(0, s.index - 1) });
    else if (key.downArrow || input === 'j') update({ index: Math.min(s.items.length - 1, s.index + 1) });
    else if (key.return) update({ mode: 'detail' });
  });

  const footer = message ? <Text color={message.kind === 'ok' ? 'green' : 'red'}>{message.text}</Text> : null;

  if (items.length === 0) {
    return (
      <Box flexDirection="column">
        {footer}
        <Text>No packages are held for review. (q to quit)</Text>
      </Box>
    );
  }
  if (mode === 'detail' && selected) {
    return (
      <Box flexDirection="column">
        <ReviewDetail pkg={selected} />
        <Text color="gray">a approve · r reject · Esc back · q quit</Text>
        {footer}
      </Box>
    );
  }
  if (mode === 'prompt' && selected) {
    return (
      <Box flexDirection="column">
        <Text>
          {decision === 'approve' ? 'Approve' : 'Reject'} {selected.name}@{selected.version}: why?
        </Text>
        <Text>
          {'> '}
          {reason}
          <Text inverse> </Text>
        </Text>
        <Text color="gray">{busy ? 'recording…' : 'Enter to record · Esc to cancel'}</Text>
        {footer}
      </Box>
    );
  }
  const start = Math.max(0, Math.min(index - Math.floor(VISIBLE_ROWS / 2), items.length - VISIBLE_ROWS));
  const visible = items.slice(start, start + VISIBLE_ROWS);
  return (
    <Box flexDirection="column">
      <Text bold>
        {items.length} package{items.length === 1 ? '' : 's'} held for review
      </Text>
      {visible.map((pkg, offset) => {
        const at = start + offset;
        const severity = topSeverity(pkg);
        return (
          <Text key={`${pkg.name}@${pkg.version}#${pkg.integrity}`} inverse={at === index}>
            {at === index ? '› ' : '  '}
            {pkg.name}@{pkg.version}{' '}
            <Text color={severityColor(severity)}>[{severity ?? 'no findings'}]</Text> {pkg.reason ?? ''}
          </Text>
        );
      })}
      <Text color="gray">↑/↓ move · Enter show · a approve · r reject · q quit</Text>
      {footer}
    </Box>
  );
}
