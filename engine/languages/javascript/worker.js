// Long-lived JavaScript sandbox worker: runs many untrusted programs, each in a locked-down vm context.
//
// Wire protocol (stdin -> stdout, both length-prefixed: 4-byte little-endian length + UTF-8 JSON):
//   request  {"timeout": s, "max_output": n, "units": [[code, [case_json_or_null, ...]], ...],
//             "stop_on_timeout": bool (optional: a unit's cases after a timeout are not run)}
//   response {"results": [[[status, stdout, error, duration_s], ...per case], ...per unit]}
//   first message the worker sends on start: {"ready": facts}
// Fd 3 is a 16-byte "marker" file the engine maps: int32 unit index, int32 case index (-1 when
// idle), float64 start (CLOCK_MONOTONIC ms). The engine uses it to blame the right program when it
// has to SIGKILL this process (hard deadline) or when the process dies (V8 out of memory).
//
// Why one shared, frozen context instead of a fresh context per program: vm.createContext costs
// ~0.8 ms, ten times a typical program. Every intrinsic reachable from the context (plus the hidden
// ones: generator, async and iterator prototypes, %TypedArray%) is frozen once, the global object's
// own built-in properties are made read-only, and after each program every global it added is
// deleted, so prototype poisoning cannot reach the next program. After a timeout the interrupted
// program's pending microtasks are drained (under a timeout, output discarded); the context is
// rebuilt (~15 ms with the freezing) when that fails, after any integrity failure and every
// RECYCLE_CONTEXT programs.
//
// Nothing of the host realm is reachable from a program: console is built inside the context and
// writes into a context-side string, errors are described inside the context, and only primitive
// strings cross back. Timeouts use vm's own `timeout` (a watchdog thread that terminates the
// program uncatchably). Not `breakOnSigint` with a watchdog of our own: node restores a SIGINT
// handler that exits the process when the call returns, so a signal landing in that window killed
// innocent programs (measured: ~5% of timeouts).
'use strict';

const fs = require('fs');
const vm = require('vm');

const RECYCLE_CONTEXT = 20000;

// A program's rejected promise is its own business (real node would print and exit; we ignore it).
process.on('unhandledRejection', () => {});

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

// ---------------------------------------------------------------------------------------------
// Context construction (runs inside the new context).
// ---------------------------------------------------------------------------------------------
const SETUP = String.raw`(function (RUN_NAME) {
  'use strict';
  const G = globalThis;
  // Sources of work that would run outside a program's time or output: gone.
  for (const name of ['WebAssembly', 'FinalizationRegistry', 'WeakRef', 'Atomics',
                      'SharedArrayBuffer', 'eval']) {
    delete G[name];
  }
  // RegExp legacy statics (RegExp.$1, lastMatch, ...) carry the last match across programs.
  for (const k of Object.getOwnPropertyNames(RegExp)) {
    if (k.startsWith('$') || ['input', 'lastMatch', 'lastParen', 'leftContext', 'rightContext'].includes(k)) {
      try { delete RegExp[k]; } catch (e) {}
    }
  }
  const stringify = JSON.stringify;
  const keys = Object.keys;
  const getOwnPropertyNames = Object.getOwnPropertyNames;
  const getOwnPropertySymbols = Object.getOwnPropertySymbols;
  const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const getPrototypeOf = Object.getPrototypeOf;
  const defineProperty = Object.defineProperty;
  const isExtensible = Object.isExtensible;
  const isArray = Array.isArray;
  const ObjectProto = Object.prototype;
  const FunctionProto = Function.prototype;
  const ErrorCtor = Error;
  const StringCtor = String;
  const parse = JSON.parse;
  const call = FunctionProto.call.bind(FunctionProto.call);
  const objToString = ObjectProto.toString;
  const errToString = ErrorCtor.prototype.toString;
  const numToString = Number.prototype.toString;

  let out = '';
  let maxOut = 0;
  let overflow = false;
  let running = false;

  // -- util.inspect-compatible formatting for the usual values ---------------------------------
  function quote(s) {
    let q = "'";
    if (s.includes("'")) q = s.includes('"') ? (s.includes('\x60') ? "'" : '\x60') : '"';
    let r = '';
    for (const ch of s) {
      if (ch === q || ch === '\\') r += '\\' + ch;
      else if (ch === '\n') r += '\\n';
      else if (ch === '\t') r += '\\t';
      else if (ch === '\r') r += '\\r';
      else if (ch === '\b') r += '\\b';
      else if (ch === '\f') r += '\\f';
      else if (ch === '\v') r += '\\v';
      else if (ch < ' ' || ch === '\x7f') r += '\\x' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
      else r += ch;
    }
    return q + r + q;
  }
  function num(n) { return n === 0 && 1 / n < 0 ? '-0' : call(numToString, n); }
  function key(k) {
    return typeof k === 'symbol' ? '[' + fmtSymbol(k) + ']'
      : /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : quote(k);
  }
  function fmtSymbol(s) { return s.toString(); }
  function fnName(f) {
    const d = getOwnPropertyDescriptor(f, 'name');
    const n = d && typeof d.value === 'string' ? d.value : '';
    const isClass = /^class[\s{]/.test(call(FunctionProto.toString, f));
    if (isClass) return n ? '[class ' + n + ']' : '[class (anonymous)]';
    return n ? '[Function: ' + n + ']' : '[Function (anonymous)]';
  }
  function inspect(v, depth, seen, top) {
    switch (typeof v) {
      case 'string': return top ? v : quote(v);
      case 'number': return num(v);
      case 'bigint': return v.toString() + 'n';
      case 'boolean': return v ? 'true' : 'false';
      case 'undefined': return 'undefined';
      case 'symbol': return fmtSymbol(v);
      case 'function': return fnName(v);
    }
    if (v === null) return 'null';
    if (seen.includes(v)) return '[Circular *1]';
    const tag = call(objToString, v);
    if (tag === '[object Error]') {
      const stack = getOwnPropertyDescriptor(v, 'stack');
      return stack && typeof stack.value === 'string' ? stack.value : errToString.call(v);
    }
    if (tag === '[object Number]' || tag === '[object String]' || tag === '[object Boolean]') {
      const t = tag.slice(8, -1);
      return '[' + t + ': ' + inspect(v.valueOf(), depth, seen, false) + ']';
    }
    if (depth > 2) return isArray(v) ? '[Array]' : '[Object]';
    seen.push(v);
    const parts = [];
    let more = 0;
    const arr = isArray(v);
    if (arr) {
      let holes = 0;
      const n = v.length;
      for (let i = 0; i < n; i++) {
        if (parts.length >= 100) { more = n - i; break; }
        const d = getOwnPropertyDescriptor(v, i);
        if (!d) { holes++; continue; }
        if (holes) { parts.push('<' + holes + ' empty item' + (holes > 1 ? 's' : '') + '>'); holes = 0; }
        parts.push('get' in d ? (d.set ? '[Getter/Setter]' : '[Getter]') : inspect(d.value, depth + 1, seen, false));
      }
      if (holes) parts.push('<' + holes + ' empty item' + (holes > 1 ? 's' : '') + '>');
    }
    for (const k of keys(v)) {
      if (arr && /^(0|[1-9][0-9]*)$/.test(k)) continue;
      const d = getOwnPropertyDescriptor(v, k);
      if (!d) continue;
      const val = 'get' in d ? (d.set ? '[Getter/Setter]' : '[Getter]') : inspect(d.value, depth + 1, seen, false);
      parts.push(key(k) + ': ' + val);
    }
    seen.pop();
    if (more) parts.push('... ' + more + ' more item' + (more > 1 ? 's' : ''));
    let prefix = '';
    if (!arr) {
      const proto = getPrototypeOf(v);
      if (proto === null) prefix = '[Object: null prototype] ';
      else if (proto !== ObjectProto) {
        const c = getOwnPropertyDescriptor(proto, 'constructor');
        const cname = c && typeof c.value === 'function' ? getOwnPropertyDescriptor(c.value, 'name') : null;
        if (cname && typeof cname.value === 'string' && cname.value) prefix = cname.value + ' ';
      }
    }
    if (parts.length === 0) return prefix + (arr ? '[]' : '{}');
    const open = arr ? '[' : '{', close = arr ? ']' : '}';
    const line = prefix + open + ' ' + parts.join(', ') + ' ' + close;
    if (line.length <= 72 && !line.includes('\n')) return line;
    const pad = '  '.repeat(depth + 1);
    return prefix + open + '\n' + pad + parts.join(',\n' + pad) + '\n' + '  '.repeat(depth) + close;
  }
  function format(args) {
    let i = 0;
    let head = '';
    if (typeof args[0] === 'string' && args.length > 1 && args[0].includes('%')) {
      const f = args[0];
      i = 1;
      for (let p = 0; p < f.length; p++) {
        const c = f[p];
        if (c === '%' && p + 1 < f.length) {
          const t = f[p + 1];
          if (t === '%') { head += '%'; p++; continue; }
          if (i < args.length && 'sdifjoOc'.includes(t)) {
            const a = args[i++];
            if (t === 's') head += typeof a === 'string' ? a : inspect(a, 1, [], false);
            else if (t === 'd' || t === 'i') {
              const x = typeof a === 'bigint' ? a : Number(a);
              head += typeof x === 'bigint' ? x + 'n' : num(t === 'i' ? Math.trunc(x) : x);
            } else if (t === 'f') head += num(parseFloat(a));
            else if (t === 'j') head += stringify(a);
            else if (t === 'c') {}
            else head += inspect(a, 0, [], false);
            p++;
            continue;
          }
        }
        head += c;
      }
    } else if (args.length) {
      head = inspect(args[0], 0, [], true);
      i = 1;
    }
    for (; i < args.length; i++) head += ' ' + inspect(args[i], 0, [], true);
    return head;
  }
  function write(args) {
    if (overflow) throw new ErrorCtor('OutputLimitExceeded');
    const line = format(args) + '\n';
    if (out.length + line.length > maxOut) {
      out = (out + line).slice(0, maxOut);
      overflow = true;
      throw new ErrorCtor('OutputLimitExceeded');
    }
    out += line;
  }
  function log(...args) { write(args); }
  function discard(...args) { format(args); }
  const con = { log, info: log, debug: log, error: discard, warn: discard, trace: discard };
  defineProperty(G, 'console', { value: con, writable: true, configurable: true, enumerable: false });

  function describe(e) {
    try {
      if (e !== null && (typeof e === 'object' || typeof e === 'function') &&
          call(objToString, e) === '[object Error]') {
        let name = e.name, message = e.message;
        name = typeof name === 'string' ? name : StringCtor(name);
        message = typeof message === 'string' ? message : StringCtor(message);
        return message ? name + ': ' + message : name;
      }
      return 'Uncaught ' + inspect(e, 0, [], false);
    } catch (e2) {
      return 'Uncaught exception';
    }
  }

  // -- freeze every intrinsic --------------------------------------------------------------------
  const roots = [G, getPrototypeOf(function* () {}), getPrototypeOf(async function () {}),
    getPrototypeOf(async function* () {}), getPrototypeOf(getPrototypeOf(function* () {}).prototype),
    getPrototypeOf((async function* () {}).prototype), getPrototypeOf([][Symbol.iterator]()),
    getPrototypeOf(new Map().entries()), getPrototypeOf(new Set().values()),
    getPrototypeOf(''[Symbol.iterator]()), getPrototypeOf(/a/[Symbol.matchAll]('')),
    getPrototypeOf(Int8Array), getPrototypeOf(Int8Array.prototype), con,
    (function () { 'use strict'; return getOwnPropertyDescriptor(arguments, 'callee').get; })()];
  const seenObjs = new Set();
  const stack = [];
  for (const r of roots) stack.push(r);
  while (stack.length) {
    const o = stack.pop();
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seenObjs.has(o)) continue;
    seenObjs.add(o);
    if (o !== G) Object.freeze(o);
    stack.push(getPrototypeOf(o));
    for (const k of [...getOwnPropertyNames(o), ...getOwnPropertySymbols(o)]) {
      const d = getOwnPropertyDescriptor(o, k);
      if (!d) continue;
      if ('value' in d) stack.push(d.value); else { stack.push(d.get); stack.push(d.set); }
    }
  }
  // The global's own built-ins: read-only, so a program cannot replace Math or Array for the next.
  const baseline = new Set([...getOwnPropertyNames(G), ...getOwnPropertySymbols(G), RUN_NAME]);
  for (const k of baseline) {
    if (k === RUN_NAME) continue;
    const d = getOwnPropertyDescriptor(G, k);
    if (d && d.configurable) {
      if ('value' in d) defineProperty(G, k, { value: d.value, writable: false, enumerable: d.enumerable, configurable: false });
      else defineProperty(G, k, { get: d.get, set: d.set, enumerable: d.enumerable, configurable: false });
    }
  }
  const globalProto = getPrototypeOf(G);

  let pending = null;
  let batch = null;  // [functions, case JSONs]: one program on several cases in one call
  let done = [];  // the batch's finished cases, each [status, stdout, error] as a JSON string
  let status = 'ok', error = '';
  function bind(caseJson) {
    if (caseJson !== null) {
      const c = parse(caseJson);
      for (const k of keys(c)) defineProperty(G, k, { value: c[k], writable: true, enumerable: true, configurable: true });
    }
  }
  function result() {
    if (overflow) { status = 'error'; error = 'OutputLimitExceeded: more than ' + maxOut + ' characters of output'; }
    return stringify([status, out, error]);
  }
  // Remove globals the program added; false when the context can no longer be trusted.
  function cleanGlobals() {
    if (!isExtensible(G) || getPrototypeOf(G) !== globalProto) return false;
    for (const k of [...getOwnPropertyNames(G), ...getOwnPropertySymbols(G)]) {
      if (!baseline.has(k)) {
        try { if (!delete G[k]) return false; } catch (e) { return false; }
      }
    }
    return true;
  }
  function run() {
    if (running || (pending === null && batch === null)) throw new ErrorCtor('not available');
    running = true;
    if (batch !== null) {
      // The cases one after another under the caller's one timeout: each with fresh output and
      // its own function, the globals of the one before removed (as between programs). A case
      // that cannot be cleaned after ends the batch: the host runs the rest one by one.
      const [fs, cases] = batch;
      batch = null;
      for (let i = 0; i < fs.length; i++) {
        out = ''; overflow = false; status = 'ok'; error = '';
        try {
          bind(cases[i]);
          fs[i]();
        } catch (e) {
          status = 'error';
          error = describe(e);
        }
        done[done.length] = result();
        out = '';
        if (!cleanGlobals()) return;
      }
      return;
    }
    const [f, caseJson] = pending;
    pending = null;
    try {
      bind(caseJson);
      f();
    } catch (e) {
      status = 'error';
      error = describe(e);
    }
  }
  defineProperty(G, RUN_NAME, { value: run, writable: false, enumerable: false, configurable: false });

  // Host-side API (only the host holds this object).
  return Object.freeze({
    prepare(f, caseJson, max) {
      out = ''; maxOut = max; overflow = false; running = false;
      status = 'ok'; error = '';
      pending = [f, caseJson]; batch = null;
    },
    // Several cases of one program in one run (copied into context arrays: nothing host-side
    // stays referenced while the program runs).
    prepareMany(fs, caseJsons, max) {
      out = ''; maxOut = max; overflow = false; running = false;
      status = 'ok'; error = '';
      const a = [], b = [];
      for (let i = 0; i < fs.length; i++) { a[i] = fs[i]; b[i] = caseJsons[i]; }
      pending = null; batch = [a, b]; done = [];
    },
    // [status, stdout, error] as one JSON string (primitives only cross to the host).
    collect() {
      return result();
    },
    // The batch's finished cases as one JSON string (a list of those strings).
    collectMany() {
      const r = stringify(done);
      done = [];
      return r;
    },
    // Remove globals the program added; false when the context can no longer be trusted.
    clean() {
      running = false; pending = null; batch = null; out = '';
      return cleanGlobals();
    },
  });
})`;

const RUN_NAME = '__altlas_run_' + Math.random().toString(36).slice(2);
const RUN_SCRIPT = new vm.Script(`${RUN_NAME}()`);
// A standalone parse is needed only when the source could mean something else as a function body.

let ctx = null;
let api = null;
let noop = null;
let programsInContext = 0;

function newContext() {
  ctx = vm.createContext(Object.create(null), {
    codeGeneration: { strings: false, wasm: false },
    microtaskMode: 'afterEvaluate',
  });
  const setup = new vm.Script(SETUP).runInContext(ctx);
  api = setup(RUN_NAME);
  noop = new vm.Script('(function () {})').runInContext(ctx);
  programsInContext = 0;
}

// ---------------------------------------------------------------------------------------------
// Wire protocol.
// ---------------------------------------------------------------------------------------------
const markerBuf = Buffer.alloc(16);
let markerOk = true;
function mark(unit, kase, start) {
  if (!markerOk) return;
  markerBuf.writeInt32LE(unit, 0);
  markerBuf.writeInt32LE(kase, 4);
  markerBuf.writeDoubleLE(start, 8);
  try { fs.writeSync(3, markerBuf, 0, 16, 0); } catch (e) { markerOk = false; }
}

function writeAll(buf) {
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(1, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
}
function send(obj) {
  const body = Buffer.from(JSON.stringify(obj), 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length, 0);
  writeAll(Buffer.concat([head, body]));
}

function readExactly(n) {
  const buf = Buffer.alloc(n);
  let off = 0;
  while (off < n) {
    let got;
    try {
      got = fs.readSync(0, buf, off, n - off, null);
    } catch (e) {
      if (e.code === 'EAGAIN') continue;
      throw e;
    }
    if (got === 0) return null;
    off += got;
  }
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Running one program on its cases.
// ---------------------------------------------------------------------------------------------
// A program is a function body wrapped in a Script evaluated in the context (so the function and
// every object it makes belong to the context realm; vm.compileFunction's functions do not). The
// standalone parse first rejects anything that is not a valid script on its own, which also stops
// a source from closing the wrapper and declaring globals of the shared context.
//
// `import()` rejects with a host-realm error (a way out of the context) and settles after the
// program ended, so it is refused before compiling. Keywords cannot be spelt with escapes and
// strings cannot become code (codeGeneration.strings is off), so a source without the word
// `import` cannot reach it; a source that merely mentions the word is refused too (documented).
const IMPORT = /\bimport\b/;
function compile(code) {
  if (IMPORT.test(code)) {
    const e = new SyntaxError('import is not available in the sandbox');
    throw e;
  }
  new vm.Script(code);
  return new vm.Script('(function () {' + code + '\n})');
}
// A fresh function of a compiled program in the current context (evaluating the wrapper only
// creates the function: no program code runs).
function fresh(script) {
  return script.runInContext(ctx);
}

function hostError(e) {
  // Compile errors are host objects made by V8: read name and message only.
  try {
    const name = typeof e.name === 'string' ? e.name : 'Error';
    const message = typeof e.message === 'string' ? e.message : '';
    return message ? `${name}: ${message}` : name;
  } catch (e2) {
    return 'Error';
  }
}

// Run an empty program so that the context's leftover microtasks run; false if they time out.
function drain(timeoutMs) {
  api.prepare(noop, null, 0);
  try {
    RUN_SCRIPT.runInContext(ctx, { timeout: Math.max(1, Math.ceil(timeoutMs)) });
  } catch (e) {
    return false;
  }
  return true;
}

// Run the prepared program(s) in the context under vm's timeout, recording the start for the
// parent's deadline: whether it was interrupted, its wall time (ms) and its CPU at the start.
function timedRun(timeoutMs, unit, kase) {
  const start = nowMs();
  mark(unit, kase, start);
  const cpuStart = process.cpuUsage();
  let interrupted = false;
  try {
    RUN_SCRIPT.runInContext(ctx, { timeout: Math.max(1, Math.ceil(timeoutMs)) });
  } catch (e) {
    interrupted = true;
  }
  return { interrupted, duration: nowMs() - start, cpuStart };
}

// Run `code` (already compiled as `f` in the current context) on one case.
function runOne(script, f, caseJson, timeoutMs, maxOut, unit, kase) {
  for (let attempt = 0; ; attempt++) {
    api.prepare(f, caseJson, maxOut);
    const { interrupted, duration, cpuStart } = timedRun(timeoutMs, unit, kase);
    programsInContext++;
    if (interrupted) {
      // Pending microtasks of the interrupted program must not run in the next one: drain them
      // now (under the same timeout, output discarded), or give up the context if they go on.
      if (!drain(timeoutMs) || !api.clean()) newContext();
      const cpu = process.cpuUsage(cpuStart);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      if (cpuMs < timeoutMs / 4 && attempt < 1) {
        // The deadline is wall-clock: a program that barely ran was starved by a loaded
        // machine, not slow. Run it again in the fresh context.
        f = fresh(script);
        continue;
      }
      return ['timeout', '', `Timeout: more than ${timeoutMs} ms`, duration / 1000];
    }
    const raw = api.collect();
    const result = typeof raw === 'string' ? JSON.parse(raw) : ['error', '', 'internal'];
    if (!api.clean() || programsInContext >= RECYCLE_CONTEXT) newContext();
    result.push(duration / 1000);
    return result;
  }
}

// Several cases of one program under one timeout: vm's watchdog (a thread per call) is most of
// a short program's cost, so a program on 7 cases costs about one call, not seven. Each case
// still gets its full timeout: the cases finished before an interruption keep their results,
// the interrupted case is a timeout only if it was the first and really ran (else it started
// late), and the rest run one by one as before. Programs that may queue microtasks run case by
// case: their microtasks run after the whole call, so they would print into a later case.
const MAY_QUEUE = /\b(?:async|await|Promise|then)\b/;
function timedOut(r) {
  return r[0] === 'timeout';
}
// `stop`: after a case that timed out, the unit's later cases are timeouts without running.
function finish(row, n, stop, run) {
  for (let c = row.length; c < n; c++) {
    if (stop && row.length && timedOut(row[row.length - 1])) row.push([...row[row.length - 1].slice(0, 3), 0]);
    else row.push(run(c));
  }
  return row;
}
function runBatch(code, script, cases, timeoutMs, maxOut, unit, stop) {
  const fs = cases.map(() => fresh(script));
  api.prepareMany(fs, cases, maxOut);
  const { interrupted, duration, cpuStart } = timedRun(timeoutMs, unit, 0);
  const raw = api.collectMany();
  const row = [];
  let finished = [];
  try { finished = typeof raw === 'string' ? JSON.parse(raw) : []; } catch (e) { finished = []; }
  for (const r of finished) {
    if (row.length >= cases.length) break;
    const one = typeof r === 'string' ? JSON.parse(r) : ['error', '', 'internal'];
    one.push(duration / 1000 / Math.max(1, finished.length));
    row.push(one);
  }
  programsInContext += row.length + (interrupted ? 1 : 0);
  if (interrupted) {
    if (!drain(timeoutMs) || !api.clean()) newContext();
    const cpu = process.cpuUsage(cpuStart);
    if (row.length === 0 && (cpu.user + cpu.system) / 1000 >= timeoutMs / 4) {
      row.push(['timeout', '', `Timeout: more than ${timeoutMs} ms`, duration / 1000]);
    }
  } else if (!api.clean() || programsInContext >= RECYCLE_CONTEXT) {
    newContext();
  }
  return finish(row, cases.length, stop,
    (c) => runOne(script, fresh(script), cases[c], timeoutMs, maxOut, unit, c));
}

function runUnits(req) {
  const timeoutMs = req.timeout * 1000;
  const maxOut = req.max_output;
  const stop = req.stop_on_timeout === true;
  const results = [];
  for (let u = 0; u < req.units.length; u++) {
    const [code, cases] = req.units[u];
    const row = [];
    // Compiled once; a fresh function per case: the function object is mutable state of its
    // own (arguments.callee), and a timeout replaces the context the last one was made in.
    const t0 = nowMs();
    mark(u, 0, t0);
    let script;
    try {
      script = compile(code);
    } catch (e) {
      const err = ['error', '', hostError(e), (nowMs() - t0) / 1000];
      while (row.length < cases.length) row.push(err);
      results.push(row);
      continue;
    }
    if (cases.length > 1 && !MAY_QUEUE.test(code)) {
      results.push(runBatch(code, script, cases, timeoutMs, maxOut, u, stop));
      continue;
    }
    results.push(finish(row, cases.length, stop,
      (c) => runOne(script, fresh(script), cases[c], timeoutMs, maxOut, u, c)));
  }
  mark(-1, -1, 0);
  return results;
}

function facts() {
  let uid = -1;
  try { uid = process.getuid(); } catch (e) {}
  let root = [];
  try { root = fs.readdirSync('/'); } catch (e) {}
  return { pid: process.pid, uid, node: process.version, root_entries: root.length };
}

function main() {
  newContext();
  send({ ready: facts() });
  for (;;) {
    const head = readExactly(4);
    if (head === null) break;
    const body = readExactly(head.readUInt32LE(0));
    if (body === null) break;
    const req = JSON.parse(body.toString('utf8'));
    send({ results: runUnits(req) });
  }
  process.exit(0);
}

main();
