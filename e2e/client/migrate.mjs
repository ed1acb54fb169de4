// Live migration race with the real socket.io-client (e2e/migrate_test.go):
// A on the us edge and B on the asia edge act on their session while the
// test moves it back and forth between home nodes with courtctl migrate.
//
// The conversation with the test, one line each way:
//   prints "SESSION <id>" once the session is in EVIDENCE, then both partners
//   spam settlement requests and declines (every few seconds a request is
//   left to expire by its timer) until the test sends "finish";
//   drives the session to VERDICT (judge calls included), prints "VERDICT",
//   and waits for "done" (the last migration);
//   both accept the verdict, wait for CLOSED and IDLE, and print
//   "RESULT <json>": the versions each saw, the final states, and how many
//   requests, declines and expiries were acknowledged.
// Every action must be acknowledged ok: one that arrives during a hand-off
// is held by the edge and answered by the new owner.
import readline from 'node:readline';
import { Client, mint, uuid, assert, within, US_URL, ASIA_URL } from './lib.mjs';

const EVIDENCE = { evidence: 'The dishes piled up.', feelings: 'Unheard.', needs: 'Shared chores.' };
const ACK_MS = 8000; // above the edge's 3 s retry budget: a slow ack is a pause, not a loss
const MAX_ROUNDS = 2000; // bounds the spam in count; the test's "finish" and SPAM_MS in time
const SPAM_MS = 90000;
const EXPIRE_EVERY_MS = 4000;

const signals = [];
const waiters = [];
readline.createInterface({ input: process.stdin }).on('line', (l) => {
  signals.push(l.trim());
  for (const w of waiters.splice(0)) w();
});
const signalled = (s) => signals.includes(s);
async function waitSignal(s, ms) {
  const deadline = Date.now() + ms;
  while (!signalled(s)) {
    const left = deadline - Date.now();
    assert(left > 0, `no "${s}" from the test within ${ms} ms`);
    await new Promise((r) => { const t = setTimeout(r, left); waiters.push(() => { clearTimeout(t); r(); }); });
  }
}

const latencies = [];
const started = Date.now();
async function ok(c, event, payload = {}) {
  const t0 = Date.now();
  const ack = await c.emit(event, payload, ACK_MS);
  latencies.push(Date.now() - t0);
  assert(ack.ok === true, `${c.name} ${event} after ${Date.now() - started} ms, ${latencies.length} actions: ${JSON.stringify(ack).slice(0, 300)}`);
  return ack;
}

const view = (v) => (s) => s.myViewPhase === v;

async function main() {
  const ids = [uuid(), uuid()];
  const a = new Client('A@us', US_URL, mint(ids[0]));
  const b = new Client('B@asia', ASIA_URL, mint(ids[1]));
  await Promise.all([a.connected(), b.connected()]);
  for (const [c, id] of [[a, ids[0]], [b, ids[1]]]) {
    await ok(c, 'court:register', { userId: id });
    c.id = id;
  }
  const served = await ok(a, 'court:serve', { partnerId: b.id, coupleId: null, judgeType: 'swift' });
  const sid = served.state.session.id;
  await b.waitState(view('PENDING_PARTNER'), 'PENDING_PARTNER');
  await ok(b, 'court:accept');
  await a.waitState(view('EVIDENCE'), 'EVIDENCE at A');
  console.log(`SESSION ${sid}`);

  // Spam: the partners take turns requesting a settlement and declining the
  // other's; now and then a request is left for its timer to expire.
  let requests = 0, declines = 0, expiries = 0, rounds = 0;
  let lastExpiry = Date.now();
  const spamEnd = Date.now() + SPAM_MS;
  while (!signalled('finish')) {
    assert(rounds < MAX_ROUNDS && Date.now() < spamEnd, `no "finish" within ${MAX_ROUNDS} rounds or ${SPAM_MS} ms`);
    const [req, dec] = rounds % 2 === 0 ? [a, b] : [b, a];
    rounds++;
    const asked = await ok(req, 'court:request_settle');
    requests++;
    if (Date.now() - lastExpiry >= EXPIRE_EVERY_MS) {
      const v = asked.state.session.version;
      await req.waitState((s) => s.session?.id === sid && s.session.version > v && s.session.settlementRequested === null,
        'the settlement request expired by its timer', 15000);
      expiries++;
      lastExpiry = Date.now();
      continue;
    }
    await ok(dec, 'court:decline_settle');
    declines++;
    await new Promise((r) => setTimeout(r, 10));
  }

  // Finish to VERDICT while the migrations go on.
  await ok(a, 'court:submit_evidence', EVIDENCE);
  await ok(b, 'court:submit_evidence', EVIDENCE);
  for (const c of [a, b]) await c.waitState(view('PRIMING'), `PRIMING at ${c.name}`, 15000);
  await ok(a, 'court:priming_complete');
  await ok(b, 'court:priming_complete');
  for (const c of [a, b]) await c.waitState(view('JOINT_MENU'), `JOINT_MENU at ${c.name}`, 10000);
  await ok(a, 'court:joint_ready');
  await ok(b, 'court:joint_ready');
  for (const c of [a, b]) await c.waitState(view('RESOLUTION_SELECT'), `RESOLUTION_SELECT at ${c.name}`, 10000);
  await ok(a, 'court:resolution_pick', { resolutionId: 'resolution_1' });
  await ok(b, 'court:resolution_pick', { resolutionId: 'resolution_1' });
  for (const c of [a, b]) await c.waitState(view('VERDICT'), `VERDICT at ${c.name}`, 10000);
  console.log('VERDICT');
  await waitSignal('done', 90000);

  await ok(a, 'court:accept_verdict');
  await ok(b, 'court:accept_verdict');
  const closed = [];
  for (const c of [a, b]) closed.push(await c.waitState(view('CLOSED'), `CLOSED at ${c.name}`, 10000));
  for (const [i, c] of [a, b].entries()) await c.waitState((s) => s.phase === 'IDLE', `IDLE at ${c.name}`, 10000, c.states.indexOf(closed[i]));

  const seen = (c) => c.states.filter((s) => s.session?.id === sid).map((s) => s.session.version);
  const last = (c) => {
    const s = c.states.filter((x) => x.session?.id === sid).at(-1);
    return { phase: s.phase, version: s.session.version, caseId: s.session.caseId };
  };
  latencies.sort((x, y) => x - y);
  const result = {
    session: sid, rounds, requests, declines, expiries,
    a: { versions: seen(a), last: last(a) },
    b: { versions: seen(b), last: last(b) },
    ackMs: { n: latencies.length, p50: latencies[Math.floor(latencies.length / 2)], p99: latencies[Math.floor(latencies.length * 0.99)], max: latencies.at(-1) },
  };
  a.close();
  b.close();
  console.log(`RESULT ${JSON.stringify(result)}`);
}

within(main(), 240000, 'migrate scenario').then(() => process.exit(0), (err) => { console.error(`not ok - ${err.stack || err}`); process.exit(1); });
