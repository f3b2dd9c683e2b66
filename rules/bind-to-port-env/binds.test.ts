import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyseBinds, type BindSite } from '../../src/analysis/binds.js';
import { pyWord } from '../../src/analysis/python-commands.js';
import { loadDockerfile } from '../../src/sources/dockerfile/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Writes a build context (Dockerfile + files) to a temp dir and returns the bind sites, short. */
function sitesOf(files: Record<string, string>): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smcl-binds-'));
  dirs.push(dir);
  for (const [p, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), text);
  }
  return analyseBinds(loadDockerfile({ file: path.join(dir, 'Dockerfile') })).sites.map(short);
}

const short = (s: BindSite) => `${s.server} ${s.role} ${s.port.kind === 'literal' ? s.port.port : s.port.kind} @${s.location.line}`;
const py = (code: string) => sitesOf({ Dockerfile: 'FROM python:3.12\nCOPY serve.py /app/serve.py\n', 'serve.py': code });
const r = (code: string, env = '') => sitesOf({ Dockerfile: `FROM r-base\n${env}COPY serve.R /app/serve.R\n`, 'serve.R': code });

describe('Python server commands in argument lists', () => {
  it('reads subprocess lists written in place, over several lines', () => {
    expect(py('import subprocess\nsubprocess.Popen([\n    "tensorflow_model_server",\n    "--rest_api_port=8501",\n    "--port=9000",\n])\n')).toEqual([
      'tensorflow_model_server --port internal 9000 @5',
      'tensorflow_model_server --rest_api_port serving 8501 @4',
    ]);
  });
  it('reads os.execvp argument lists and asyncio positional arguments', () => {
    expect(py('import os\nos.execvp("gunicorn", ["gunicorn", "-b", "0.0.0.0:8080", "app:app"])\n')).toEqual(['gunicorn -b serving 8080 @2']);
    expect(py('import asyncio\nasyncio.create_subprocess_exec("vllm", "serve", "m", "--port", "8000")\n')).toEqual(['vllm --port serving 8000 @2']);
  });
  it('follows a list built up in a variable (=, +=, append, extend, cmd = cmd + [...])', () => {
    const code = 'import os, subprocess\nport = os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080")\ncmd = ["gunicorn", "app:app"]\ncmd += ["--bind", f"0.0.0.0:{port}"]\ncmd.extend(["--workers", "2"])\ncmd = cmd + ["--metrics-port", "9100"]\nsubprocess.run(cmd, check=True)\n';
    expect(py(code)).toEqual(['gunicorn --metrics-port internal 9100 @6', 'gunicorn --bind serving bind-env @4']);
  });
  it('follows each reassignment once (a long cmd = cmd + [...] chain stays linear, capped at the hop limit)', () => {
    const chain = (n: number) => 'import subprocess\ncmd = ["gunicorn", "app:app"]\n' + Array.from({ length: n }, (_, i) => `cmd = cmd + ["--x${i}", "v"]\ncmd += ["--y", "z"]\n`).join('') + 'cmd += ["--bind", "0.0.0.0:8080"]\nsubprocess.Popen(cmd)\n';
    expect(py(chain(5))).toEqual(['gunicorn --bind serving 8080 @13']);
    // Beyond the hop limit the start of the list (the server name) is not known: no site, no guess.
    expect(py(chain(40))).toEqual([]);
  });
  it('resolves f-strings, .format and % arguments in the Python scope', () => {
    const code = 'import os\nimport subprocess as sp\nlow = int(os.environ["SAGEMAKER_SAFE_PORT_RANGE"].split("-")[0])\nsp.Popen(["tensorflow_model_server", "--rest_api_port={}".format(os.environ["SAGEMAKER_BIND_TO_PORT"]), "--port=%d" % low])\n';
    expect(py(code)).toEqual(['tensorflow_model_server --port internal safe-range @4', 'tensorflow_model_server --rest_api_port serving bind-env @4']);
    expect(py('import subprocess\nPORT = 8080\nsubprocess.run(["uvicorn", "app:app", "--port", str(PORT)])\n')).toEqual(['uvicorn --port serving 8080 @3']);
  });
  it('expands $VAR only when a shell runs the command', () => {
    expect(py('import subprocess\nsubprocess.Popen("gunicorn -b 0.0.0.0:$SAGEMAKER_BIND_TO_PORT app:app", shell=True)\n')).toEqual(['gunicorn -b serving bind-env @2']);
    expect(py('import subprocess\nsubprocess.run(["gunicorn", "-b", "0.0.0.0:$SAGEMAKER_BIND_TO_PORT", "app:app"])\n')).toEqual(['gunicorn -b serving unknown @2']);
  });
  it('leaves a port it cannot follow unknown, and ignores non-servers, non-subprocess run() and comments', () => {
    expect(py('import subprocess\nsubprocess.Popen(["gunicorn", "-b", "0.0.0.0:" + str(args.port)])\n')).toEqual(['gunicorn -b serving unknown @2']);
    expect(py('import subprocess\nsubprocess.run(["curl", "-f", "http://localhost:8080/ping"])\nsubprocess.run(["python", "train.py", "--port", "8080"])\n# subprocess.run(["gunicorn", "-b", ":8080"])\n')).toEqual([]);
    expect(py('def run(x): pass\nrun(["gunicorn", "-b", ":8080"])\n')).toEqual([]);
  });
  it('does not read the list a second time as app.run(port=…)', () => {
    expect(py('import subprocess\nsubprocess.run(["uvicorn", "app:app", "--port=8000"])\n')).toEqual(['uvicorn --port serving 8000 @2']);
  });
  it('pyWord turns one element into the word the program receives', () => {
    const holes: Array<{ expr: string; offset: number }> = [];
    expect(pyWord('f"0.0.0.0:{port}"', 0, holes)).toBe('0.0.0.0:${__py_0}');
    expect(pyWord('"--a={}:{b}".format(x, b=y)', 0, holes)).toBe('--a=${__py_1}:${__py_2}');
    expect(pyWord('"%s:%d" % (host, port)', 0, holes)).toBe('${__py_3}:${__py_4}');
    expect(pyWord("'--port'", 0, holes)).toBe('--port');
    expect(holes.map((h) => h.expr)).toEqual(['port', 'x', 'y', 'host', 'port']);
  });
});

describe('R servers', () => {
  it('reads plumber run()/pr_run() ports, named, positional and through a pipe', () => {
    expect(r('library(plumber)\npr <- pr("api.R")\npr_run(pr, host = "0.0.0.0", port = 8080)\n')).toEqual(['plumber pr_run(port=…) serving 8080 @3']);
    expect(r('pr("api.R") |> pr_run("0.0.0.0", 8000)\n')).toEqual(['plumber pr_run(port=…) serving 8000 @1']);
    expect(r('plumber::plumb("x.R")$run(port=8123)\n')).toEqual(['plumber $run(port=…) serving 8123 @1']);
  });
  it('follows Sys.getenv through <-, = and -> assignments and as.integer()', () => {
    expect(r('library(plumber)\nport <- as.integer(Sys.getenv("SAGEMAKER_BIND_TO_PORT", unset = "8080"))\napp <- plumb("api.R")\napp$run(host = "0.0.0.0", port = port)\n')).toEqual(['plumber $run(port=…) serving bind-env @4']);
    expect(r('Sys.getenv("SAGEMAKER_BIND_TO_PORT") -> p\nif (p == "") p <- "8080"\nr <- plumber::pr("a.R")\nr$run(port = as.numeric(p))\n')).toEqual(['plumber $run(port=…) serving bind-env @4']);
    expect(r('library(plumber)\np = Sys.getenv("PORT", "8000")\npr("a.R") %>% pr_run(port = strtoi(p))\n')).toEqual(['plumber pr_run(port=…) serving 8000 @3']);
  });
  it('without a port: the plumber.port option, else $PLUMBER_PORT (unknown unless the image sets it)', () => {
    expect(r('library(plumber)\npr("a.R") %>% pr_run(host = "0.0.0.0")\n')).toEqual(['plumber pr_run(port=…) serving unknown @2']);
    expect(r('library(plumber)\npr("a.R") %>% pr_run(host = "0.0.0.0")\n', 'ENV PLUMBER_PORT=8000\n')).toEqual(['plumber pr_run(port=…) serving 8000 @2']);
    expect(r('library(plumber)\noptions(plumber.port = 7000)\np <- plumb("a.R")\np$run(host="0.0.0.0")\n')).toEqual(['plumber $run(port=…) serving 7000 @2']);
  });
  it('reads httpuv servers; ignores run() of other objects and commented code', () => {
    expect(r('library(httpuv)\nrunServer("0.0.0.0", 8080, list(call = function(req) list(status = 200L)))\n')).toEqual(['httpuv runServer(port) serving 8080 @2']);
    expect(r('job <- Job$new()\njob$run(port = 5)\n')).toEqual([]);
    expect(r('library(plumber)\n# pr_run(pr, port = 8080)\n')).toEqual([]);
  });
});
