import { strict as assert } from 'node:assert';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFixtureRegistry } from './support/fixture-registry.js';
import type { FixtureRegistry } from './support/fixture-registry.js';
import { cleanEnv } from './support/npm-env.js';
import { REPO_ROOT } from './support/paths.js';
import { makeProject, runCommand } from './support/project.js';
import type { CommandResult } from './support/project.js';
import { startServerProcess } from './support/server-process.js';
import type { ServerProcess } from './support/server-process.js';

// The GitHub Action's entry point, run as the composite action's "Scan" step runs it: the
// environment GitHub gives a step (GITHUB_WORKSPACE, GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, the INPUT_*
// variables action.yml passes), against a real server process and the fixture upstream.
const ENTRY = path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'action', 'main.js');

function parseOutputs(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('the GitHub Action (action.yml, entry point run as a step)', () => {
  let registry: FixtureRegistry;
  let server: ServerProcess;
  let tmp: string;
  before(async () => {
    registry = await startFixtureRegistry();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'sr-e2e-action-'));
    server = await startServerProcess({
      SR_AUTH: 'none',
      SR_DATA_DIR: path.join(tmp, 'server'),
      SR_UPSTREAM_REGISTRY: registry.url,
    });
  });
  after(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
    await registry.close();
    await rm(tmp, { recursive: true, force: true });
  });

  async function step(
    slug: string,
    inputs: Record<string, string>,
  ): Promise<{ result: CommandResult; summary: string; outputs: Record<string, string>; workspace: string }> {
    const workspace = path.join(tmp, slug);
    const runnerTemp = path.join(workspace, '_temp');
    await mkdir(runnerTemp, { recursive: true });
    const summaryFile = path.join(runnerTemp, 'step_summary');
    const outputFile = path.join(runnerTemp, 'output');
    await writeFile(summaryFile, '');
    await writeFile(outputFile, '');
    const env = cleanEnv({
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: workspace,
      GITHUB_STEP_SUMMARY: summaryFile,
      GITHUB_OUTPUT: outputFile,
      RUNNER_TEMP: runnerTemp,
      HOME: path.join(workspace, '_home'),
      ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k}`, v])),
    });
    const result = await runCommand(process.execPath, [ENTRY], { cwd: workspace, env, timeoutMs: 120_000 });
    return {
      result,
      summary: await readFile(summaryFile, 'utf8'),
      outputs: parseOutputs(await readFile(outputFile, 'utf8')),
      workspace,
    };
  }

  test('a rejected dependency: summary with counts, reasons and the blocked chain; SARIF; outputs', async () => {
    await makeProject(
      path.join(tmp, 'bad', 'app'),
      { 'fixture-cli-kit': '^3.1.0', loadsh: '^1.0.0' },
      registry.url,
    );
    const { result, summary, outputs, workspace } = await step('bad', {
      PATH: 'app',
      SERVER: server.url,
      FAIL_ON: 'unvettable',
      SARIF_FILE: 'out/secure-registry.sarif',
    });
    const log = `${result.stdout}\n${result.stderr}`;
    assert.equal(result.code, 0, log);
    assert.match(result.stdout, /^REJECTED fixture-termcolor@1\.0\.1: /m, log);

    assert.equal(outputs['exit-code'], '1', JSON.stringify(outputs));
    assert.equal(outputs.rejected, '1');
    assert.equal(outputs.blocked, '2');
    assert.equal(outputs.review, '1');
    assert.equal(Number(outputs.total), Number(outputs.approved) + 4);
    assert.match(outputs['scan-id'] ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(outputs['sarif-file'], path.join(workspace, 'out', 'secure-registry.sarif'));

    assert.match(summary, /^## secure-registry: 3 rejected or blocked, 1 held of \d+$/m, summary);
    assert.match(summary, /^\| approved \| rejected \| blocked \| review \| unvettable \| total \|$/m);
    assert.match(
      summary,
      new RegExp(`^\\| ${outputs.approved} \\| 1 \\| 2 \\| 1 \\| 0 \\| ${outputs.total} \\|$`, 'm'),
    );
    assert.match(
      summary,
      /### Rejected\n\n\| package \| reason \| findings \|\n\| --- \| --- \| --- \|\n\| `fixture-termcolor@1\.0\.1` \| [^|]+\| [^|]*(critical|high) /,
    );
    assert.match(summary, /### Held for review\n\n[^#]*\| `loadsh@1\.0\.0` \| [^|]*lodash[^|]*\|/);
    assert.match(
      summary,
      /^- `fixture-cli-kit@3\.1\.0` → `fixture-reporter@1\.0\.0` → `fixture-termcolor@1\.0\.1`$/m,
    );
    assert.match(summary, /^- `fixture-reporter@1\.0\.0` → `fixture-termcolor@1\.0\.1`$/m);
    assert.match(summary, /```text\nanalysis in this scan:\n {2}fetch/);
    assert.match(summary, /^Exit code 1 \(`--fail-on unvettable`\)\.$/m);

    const sarif = JSON.parse(await readFile(outputs['sarif-file']!, 'utf8')) as {
      version: string;
      runs: {
        tool: { driver: { name: string; rules: { id: string }[] } };
        results: {
          ruleId: string;
          level: string;
          locations: {
            physicalLocation: { artifactLocation: { uri: string } };
            logicalLocations: { name: string }[];
          }[];
        }[];
      }[];
    };
    assert.equal(sarif.version, '2.1.0');
    const run = sarif.runs[0]!;
    const termcolor = run.results.filter(
      (r) => r.locations[0]?.logicalLocations[0]?.name === 'fixture-termcolor@1.0.1',
    );
    assert.ok(
      termcolor.some((r) => r.level === 'error'),
      JSON.stringify(run.results),
    );
    // Relative to the repository root, as code scanning resolves it.
    assert.ok(
      run.results.every(
        (r) => r.locations[0]?.physicalLocation.artifactLocation.uri === 'app/package-lock.json',
      ),
    );
    const ids = new Set(run.tool.driver.rules.map((r) => r.id));
    assert.ok(run.results.every((r) => ids.has(r.ruleId)));
  });

  test('a clean project: exit-code 0 and a summary that says so', async () => {
    await makeProject(path.join(tmp, 'clean'), { 'fixture-strpad': '^1.1.0' }, registry.url);
    const { result, summary, outputs } = await step('clean', { SERVER: server.url });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(outputs['exit-code'], '0');
    assert.match(summary, /^## secure-registry: every package is approved \(1\)$/m);
    await access(outputs['sarif-file']!);
  });

  test('bad input: an error annotation and the CLI exit code, no stack trace', async () => {
    const { result } = await step('bad-input', { PATH: 'missing', SERVER: server.url, FAIL_ON: 'sometimes' });
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /^::error title=secure-registry::.*fail-on/m, result.stderr);
    assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/);
  });

  test('action.yml runs this entry point with every input, and pins upload-sarif by commit', async () => {
    const text = await readFile(path.join(REPO_ROOT, 'action.yml'), 'utf8');
    assert.match(text, /^ {2}using: composite$/m);
    assert.match(text, /"\$GITHUB_ACTION_PATH\/packages\/cli\/dist\/action\/main\.js"/);
    await access(ENTRY);
    assert.match(text, /uses: github\/codeql-action\/upload-sarif@[0-9a-f]{40} # v\d+\.\d+\.\d+$/m);
    const inputsBlock = text.slice(text.indexOf('\ninputs:\n'), text.indexOf('\noutputs:\n'));
    const inputs = [...inputsBlock.matchAll(/^ {2}([a-z-]+):\n {4}description:/gm)].map((m) => m[1]!);
    assert.ok(inputs.length >= 9, inputs.join());
    for (const input of inputs.filter((i) => !['upload-sarif', 'category'].includes(i))) {
      const variable = `INPUT_${input.toUpperCase().replace(/-/g, '_')}`;
      assert.match(
        text,
        new RegExp(`^ {8}${variable}: \\$\\{\\{ inputs\\.${input} \\}\\}$`, 'm'),
        `${input} is not passed`,
      );
    }
  });
});
