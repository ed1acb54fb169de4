// Couples running whole court sessions, one after another, through the
// regions' load balancers while the test restarts every node in turn: the
// real socket.io-client reconnects on its own (and by hand after the
// server's DISCONNECT, as the app does), each socket resyncs by
// court:register, and every action is retried on the documented retryable
// errors only. Partner A is on US_URL, B on ASIA_URL.
//
// Usage: node rolling.mjs. Environment: US_URL, ASIA_URL,
// SUPABASE_JWT_SECRET, COUPLES, MAX_MS (the script's own bound), REPORT
// (the file the report is written to). Each couple starts a new session
// until stdin closes, then finishes the one it is in. Prints "ready" once
// every socket is registered and "session ID" for each session completed;
// the report holds each couple's sessions with the version each partner saw
// it close at, the counters, and the failures (none when all went well).
import { writeFileSync } from 'node:fs';
import { io } from 'socket.io-client';
import { mint, uuid } from './lib.mjs';

const COUPLES = Number(process.env.COUPLES || 10);
const MAX_MS = Number(process.env.MAX_MS || 120000);
const STEP_MS = 20000; // one action, its retries and its effect, at most

// The refusals that say "try again" (protocol/ack.go: MsgNoHome,
// MsgStoreFailed) and the rate limit, which says when.
const RETRYABLE = new Set([
  'Court service unavailable. Please try again.',
  'Service temporarily unavailable. Please try again.',
  'RATE_LIMIT_EXCEEDED',
]);
const EVIDENCE = { evidence: 'The dishes piled up for three days.', feelings: 'Unheard.', needs: 'Shared chores.' };
const ORDER = ['IDLE', 'PENDING', 'EVIDENCE', 'ANALYZING', 'PRIMING', 'JOINT_READY', 'RESOLUTION', 'VERDICT', 'CLOSED'];
const idx = (p) => ORDER.indexOf(p);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const counts = { retryable: 0, unacked: 0, absorbed: 0, disconnects: 0, registers: 0, repeats: 0 };
const failures = [];
const t0 = Date.now();
const fail = (what) => { const w = `${((Date.now() - t0) / 1000).toFixed(1)}s: ${what}`; failures.push(w); console.error(`not ok - ${w}`); };
let stopping = false;
process.stdin.on('end', () => { stopping = true; });
process.stdin.resume();

// Peer is one user's socket; state is the newest state it knows.
class Peer {
  constructor(name, url, id) {
    this.name = name;
    this.id = id;
    this.state = null;
    this.registered = false;
    this.last = new Map(); // session id → the newest version of its court:state events
    this.known = new Set(); // the sessions it has seen a state of
    this.waiters = [];
    this.trail = []; // the socket's last events, for a failure's message
    this.pushed = 0; // court:state pushes received
    this.socket = io(url, {
      transports: ['websocket'], auth: { token: mint(id) }, forceNew: true,
      reconnectionDelay: 100, reconnectionDelayMax: 1000, timeout: 5000,
    });
    this.socket.on('connect', () => { this.note('connect'); this.register(); });
    this.socket.on('disconnect', (reason) => {
      this.note(`disconnect ${reason}`);
      this.registered = false;
      counts.disconnects++;
      if (reason === 'io server disconnect') this.socket.connect(); // the edge's drain: reconnect by hand
    });
    this.socket.on('court:state', (s) => {
      // A session's versions never go back; a reply (register's, an
      // action's) may repeat the version last pushed.
      const sid = s.session?.id;
      if (sid) {
        const last = this.last.get(sid) ?? 0;
        if (s.session.version < last) fail(`${this.name}: court:state of ${sid} at version ${s.session.version} after ${last}`);
        if (s.session.version === last) counts.repeats++;
        this.last.set(sid, Math.max(last, s.session.version));
      }
      this.pushed++;
      this.take(s, 'court:state');
    });
  }

  // take keeps s unless it is older than the state known of the same session.
  note(what) {
    this.trail.push(`${((Date.now() - t0) / 1000).toFixed(2)} ${what}`);
    if (this.trail.length > 12) this.trail.shift();
  }

  // take makes s the known state. The state in an ack (from is an ack, and
  // pushed is the push count when its request was sent) is the state when
  // the action committed: a push received meanwhile is as new or newer, so
  // the ack's state replaces it only if it is a later version of the same
  // session. States of one session are ordered by version.
  take(s, from, pushed) {
    this.note(`${from} ${s.phase} v${s.session?.version ?? '-'}`);
    const cur = this.state;
    if (cur?.session && s.session && cur.session.id === s.session.id && s.session.version < cur.session.version) return;
    if (pushed !== undefined && this.pushed > pushed && cur?.session?.id !== s.session?.id) return;
    if (cur?.session && !s.session && idx(cur.phase) < idx('VERDICT')) {
      // No session of this driver ends before its verdict.
      fail(`${this.name}: ${from} shows no session while ${cur.session.id} is at ${cur.phase} v${cur.session.version}`);
    }
    this.state = s;
    if (s.session) this.known.add(s.session.id);
    for (const w of this.waiters.splice(0)) w();
  }

  changed(ms) {
    return new Promise((r) => { const t = setTimeout(r, ms); this.waiters.push(() => { clearTimeout(t); r(); }); });
  }

  // register resyncs the socket after each (re)connect: the ack carries the
  // current state.
  async register(deadline = Infinity) {
    while (this.socket.connected && Date.now() < deadline) {
      try {
        const pushed = this.pushed;
        const ack = await this.socket.timeout(5000).emitWithAck('court:register', { userId: this.id });
        if (ack.ok) {
          counts.registers++;
          this.registered = true;
          this.take(ack.state, 'court:register', pushed);
          return;
        }
        if (RETRYABLE.has(ack.error)) counts.retryable++;
        else fail(`${this.name}: court:register: ${JSON.stringify(ack)}`);
      } catch {
        counts.unacked++;
      }
      await sleep(100);
    }
  }

  async ready(deadline) {
    while (!this.registered) {
      if (Date.now() > deadline) throw new Error(`${this.name}: not registered again in time`);
      await sleep(20);
    }
  }

  // until waits for a state that pred accepts.
  async until(pred, what, deadline) {
    for (;;) {
      if (this.state && pred(this)) return;
      if (Date.now() > deadline) throw new Error(`${this.name}: no state ${what}; last ${this.state?.phase} v${this.state?.session?.version}; trail ${this.trail.join(', ')}`);
      await this.changed(Math.min(200, Math.max(deadline - Date.now(), 1)));
    }
  }
}

// at is the index of the phase of session sid in the state p knows: -1
// before p has seen it, past CLOSED once p has seen it end (no session, or
// another one).
function at(p, sid) {
  if (p.state?.session?.id === sid) return idx(p.state.phase);
  return p.known.has(sid) ? ORDER.length : -1;
}

// act makes actor do event until done(actor) holds: it retries after a lost
// ack (the socket dropped) and after a retryable refusal; any other refusal
// fails, unless it answers a retry of an action that took effect before its
// ack was lost (done then holds after a resync).
async function act(actor, event, payload, done) {
  const deadline = Date.now() + STEP_MS;
  let lost = false;
  let pushed;
  for (;;) {
    await actor.ready(deadline);
    if (done(actor)) return;
    let ack;
    try {
      pushed = actor.pushed;
      ack = await actor.socket.timeout(5000).emitWithAck(event, payload);
    } catch {
      counts.unacked++;
      lost = true;
      continue;
    }
    if (ack.ok) {
      if (ack.state) actor.take(ack.state, `the ack of ${event}`, pushed);
      return;
    }
    if (RETRYABLE.has(ack.error)) {
      counts.retryable++;
      const wait = ack.retryAfterMs ?? 100;
      if (Date.now() + wait > deadline) throw new Error(`${actor.name} ${event}: ${JSON.stringify(ack)} until past the step's deadline`);
      await sleep(wait);
    } else if (lost) {
      await actor.register(deadline);
      if (done(actor)) { counts.absorbed++; return; }
      throw new Error(`${actor.name} ${event}: ${JSON.stringify(ack).slice(0, 200)} (after a lost ack)`);
    } else {
      await actor.register(deadline);
      throw new Error(`${actor.name} ${event}: ${JSON.stringify(ack).slice(0, 200)} (applied after all: ${done(actor)})`);
    }
    if (Date.now() > deadline) throw new Error(`${actor.name} ${event}: still refused after ${STEP_MS} ms`);
  }
}

// Each step after the serve: the phase it acts in, the event, its payload,
// and the flag of the actor's own part in the session's view.
const STEPS = [
  ['PENDING', 'court:accept', {}, null],
  ['EVIDENCE', 'court:submit_evidence', EVIDENCE, (x, side) => x.evidence[side].submitted],
  ['PRIMING', 'court:priming_complete', {}, (x, side) => x.primingReady[side]],
  ['JOINT_READY', 'court:joint_ready', {}, (x, side) => x.jointReady[side]],
  ['RESOLUTION', 'court:resolution_pick', { resolutionId: 'resolution_1' }, (x, side) => x.resolutionPicks[side === 'creator' ? 'userA' : 'userB'] !== null],
  ['VERDICT', 'court:accept_verdict', {}, (x, side) => x.verdictAcceptances[side]],
];

// session runs one whole session of a couple, serve to the CLOSED hold's
// end, and returns its record.
async function session(c) {
  // The partners take turns to serve (court:serve is limited to 5 in 5 min a user).
  const [a, b] = c.sessions.length % 2 === 0 ? [c.a, c.b] : [c.b, c.a];
  let deadline = Date.now() + STEP_MS;
  for (const p of [a, b]) await p.until((q) => q.state.phase === 'IDLE', 'IDLE before serving', deadline);
  await act(a, 'court:serve', { partnerId: b.id, coupleId: null, judgeType: 'swift' }, (q) => q.state.phase !== 'IDLE');
  // The serve's ack may have lost to a push received meanwhile (take), so
  // the session is known once a state of it reaches the actor.
  await a.until((q) => Boolean(q.state.session), 'of the served session', deadline);
  const sid = a.state.session.id;
  for (const [phase, event, payload, mine] of STEPS) {
    deadline = Date.now() + STEP_MS;
    const actors = phase === 'PENDING' ? [[b, 'partner']] : [[a, 'creator'], [b, 'partner']];
    for (const [p, side] of actors) {
      c.at = `${sid} ${p.name} ${event}`;
      await p.until((q) => at(q, sid) >= idx(phase), `${phase} of ${sid}`, deadline);
      await act(p, event, payload, (q) => at(q, sid) > idx(phase) || (mine !== null && at(q, sid) === idx(phase) && mine(q.state.session, side)));
    }
  }
  deadline = Date.now() + STEP_MS;
  c.at = `${sid} closing`;
  const closed = {};
  for (const p of [a, b]) {
    await p.until((q) => at(q, sid) >= idx('CLOSED'), `CLOSED of ${sid}`, deadline);
    if (p.state.session?.id === sid) closed[p.name] = p.state.session.version;
    await p.until((q) => q.state.phase === 'IDLE', `IDLE after ${sid}`, deadline);
  }
  if (closed.A !== undefined && closed.B !== undefined && closed.A !== closed.B) fail(`${sid}: A closed at version ${closed.A}, B at ${closed.B}`);
  return { id: sid, closed };
}

// SESSIONS_PER_COUPLE keeps each user under the serve limit: a couple
// makes way for a new one after that many sessions.
const SESSIONS_PER_COUPLE = 8;

// connectCouple connects a new couple in slot c.
async function connectCouple(c) {
  c.a = new Peer('A', process.env.US_URL, uuid());
  c.b = new Peer('B', process.env.ASIA_URL, uuid());
  const deadline = Date.now() + STEP_MS;
  await Promise.all([c.a.ready(deadline), c.b.ready(deadline)]);
}

async function couple(i) {
  const c = { i, sessions: [] };
  await connectCouple(c);
  return c;
}

async function run(c) {
  while (!stopping) {
    c.at = 'serving';
    try {
      const rec = await session(c);
      c.sessions.push(rec);
      console.log(`session ${rec.id}`);
      c.at = null;
      if (c.sessions.length % SESSIONS_PER_COUPLE === 0 && !stopping) {
        c.a.socket.close();
        c.b.socket.close();
        await connectCouple(c);
      }
    } catch (err) {
      fail(`couple ${c.i} at ${c.at}: ${err.message}; A's trail ${c.a.trail.join(', ')}; B's trail ${c.b.trail.join(', ')}`);
      c.at = null;
      return;
    }
  }
}

let all = [];
const timer = setTimeout(() => {
  for (const c of all) {
    if (c.at) fail(`couple ${c.i} stuck at ${c.at}; A ${JSON.stringify(c.a.state).slice(0, 300)}; B ${JSON.stringify(c.b.state).slice(0, 300)}`);
  }
  fail(`not done within ${MAX_MS} ms`);
  report();
}, MAX_MS);
function report() {
  const out = { couples: all.map((c) => ({ sessions: c.sessions })), counts, failures };
  writeFileSync(process.env.REPORT, JSON.stringify(out)); // a pipe would be cut short by the exit
  console.log('report written');
  process.exit(0);
}

all = await Promise.all(Array.from({ length: COUPLES }, (_, i) => couple(i)));
console.log(`driver times count from ${new Date(t0).toISOString()}`);
console.log('ready');
await Promise.all(all.map(run));
clearTimeout(timer);
for (const c of all) { c.a.socket.close(); c.b.socket.close(); }
report();
