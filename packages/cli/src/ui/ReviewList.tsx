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
export function ReviewList(props: ReviewListProps) {
  const { exit } = useApp();
  const [items, setItems] = useState(props.packages);
  const [index, setIndex] = useState(0);
  const [mode, setMode] = useState<Mode>('list');
  const [previous, setPrevious] = useState<Mode>('list');
  const [decision, setDecision] = useState<ReviewDecisionKind>('approve');
  const [reason, setReasonState] = useState('');
  // Input handlers may run before the next render: read the latest text from a ref.
  const reasonRef = useRef('');
  const setReason = (next: string | ((text: string) => string)) => {
    reasonRef.current = typeof next === 'function' ? next(reasonRef.current) : next;
    setReasonState(reasonRef.current);
  };
  const [busy, setBusyState] = useState(false);
  const busyRef = useRef(false);
  const setBusy = (value: boolean) => {
    busyRef.current = value;
    setBusyState(value);
  };
  const [message, setMessage] = useState<Message | undefined>();
  const selected = items[Math.min(index, items.length - 1)];

  const quit = () => {
    props.onExit?.();
    exit();
  };

  const submit = async (pkg: HeldPackage) => {
    const text = reasonRef.current.trim();
    if (!text) {
      setMessage({ kind: 'error', text: 'a reason is required' });
      return;
    }
    setBusy(true);
    try {
      const result = await props.decide(pkg, decision, text);
      const rest = items.filter((item) => item !== pkg);
      setItems(rest);
      setIndex((i) => Math.max(0, Math.min(i, rest.length - 1)));
      setMode('list');
      setReason('');
      const scans = result.scansUpdated > 0 ? `; ${result.scansUpdated} running scan(s) updated` : '';
      setMessage({ kind: 'ok', text: `${pkg.name}@${pkg.version} ${result.verdict}${scans}` });
    } catch (error) {
      setMessage({ kind: 'error', text: error instanceof Error ? error.message : String(error) });
    } finally {
      setBusy(false);
    }
  };

  useInput((input, key) => {
    if (busyRef.current) return;
    if (mode === 'prompt') {
      if (key.escape) {
        setMode(previous);
        setReason('');
        setMessage(undefined);
      } else if (key.return) {
        if (selected) void submit(selected);
      } else if (key.backspace || key.delete) {
        setReason((text) => text.slice(0, -1));
      } else if (input && !key.ctrl && !key.meta) {
        setReason((text) => text + input.replace(/[\r\n]/g, ' '));
      }
      return;
    }
    if (input === 'q' || (key.escape && mode === 'list')) return quit();
    if (!selected) return;
    if (input === 'a' || input === 'r') {
      setPrevious(mode);
      setDecision(input === 'a' ? 'approve' : 'reject');
      setReason('');
      setMessage(undefined);
      setMode('prompt');
      return;
    }
    if (mode === 'detail') {
      if (key.escape || key.backspace || key.leftArrow) setMode('list');
      return;
    }
    if (key.upArrow || input === 'k') setIndex((i) => Math.max(0, i - 1));
    else if (key.downArrow || input === 'j') setIndex((i) => Math.min(items.length - 1, i + 1));
    else if (key.return) setMode('detail');
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
