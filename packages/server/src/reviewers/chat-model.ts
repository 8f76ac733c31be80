/**
 * The provider-neutral conversation the investigator holds with a model. Adapters translate it to
 * the OpenAI chat-completions and Anthropic messages wire formats.
 */

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON schema of the tool's arguments. */
  inputSchema: Record<string, unknown>;
}

export interface ToolCall {
  id: string;
  name: string;
  /** Parsed arguments, or undefined when `argumentsError` is set. */
  arguments: unknown;
  /** The arguments as the model sent them (OpenAI sends a JSON string). */
  rawArguments: string;
  argumentsError?: string;
}

export interface ToolResult {
  callId: string;
  name: string;
  content: string;
  isError: boolean;
}

export type ChatMessage =
  | { role: 'user'; text: string }
  | { role: 'assistant'; text: string; toolCalls: ToolCall[] }
  | { role: 'tool'; results: ToolResult[] };

export interface ModelTurn {
  text: string;
  toolCalls: ToolCall[];
  /** Why the model stopped: a final answer, tool calls, the output limit, or a refusal. */
  stop: 'end' | 'tool_calls' | 'length' | 'refusal';
  refusal?: string;
  usage: { input: number; output: number };
}

export interface CompletionRequest {
  system: string;
  messages: readonly ChatMessage[];
  tools: readonly ToolSpec[];
  maxOutputTokens: number;
  signal: AbortSignal;
}

export interface ChatModel {
  readonly provider: 'openai' | 'anthropic';
  readonly model: string;
  complete(request: CompletionRequest): Promise<ModelTurn>;
}

/** The provider answered with an HTTP error or a body that is not its protocol. */
export class ModelProtocolError extends Error {
  override readonly name = 'ModelProtocolError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Parses tool-call arguments sent as a JSON string; records the error instead of throwing. */
export function parseArguments(raw: string): { value: unknown; error?: string } {
  if (raw.trim() === '') return { value: {} };
  try {
    return { value: JSON.parse(raw) };
  } catch (error) {
    return {
      value: undefined,
      error: `arguments are not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
