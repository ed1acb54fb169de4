// Whole-lifecycle scenarios with the real socket.io-client: partners on the us
// and asia edges. Usage: node lifecycle.mjs <scenario>, where scenario is one of
// happy, mismatch, addendum, settlement, timeouts, analyzing,
// badinput.
import { Client, mint, uuid, assert, US_URL, ASIA_URL } from './lib.mjs';

const step = (s) => console.log(`ok - ${s}`);
const EVIDENCE = { evidence: 'I saw the dishes pile up for three days.', feelings: 'I feel unheard.', needs: 'Shared chores.' };

// couple connects A to the us edge and B to the asia edge and registers both.
async function couple() {
  const A = uuid();
  const B = uuid();
  const a = new Client('A@us', US_URL, mint(A));
  const b = new Client('B@asia', ASIA_URL, mint(B));
  await Promise.all([a.connected(), b.connected()]);
  for (const [c, id] of [[a, A], [b, B]]) {
    const ack = await c.emit('court:register', { userId: id });
    assert(ack.ok === true, `${c.name} register`);
  }
  a.id = A;
  b.id = B;
  return [a, b];
}

async function ok(c, event, payload = {}, timeoutMs = 5000) {
  const ack = await c.emit(event, payload, timeoutMs);
  assert(ack.ok === true, `${c.name} ${event}: ${JSON.stringify(ack).slice(0, 300)}`);
  return ack;
}

const view = (v) => (s) => s.myViewPhase === v;
const phase = (p) => (s) => s.phase === p;

// inOrder checks that a client's pushed states of one session never go back.
function inOrder(c) {
  let last = { id: null, v: 0 };
  for (const s of c.states) {
    if (!s.session) continue;
    if (s.session.id === last.id) assert(s.session.version >= last.v, `${c.name}: version ${s.session.version} after ${last.v}`);
    last = { id: s.session.id, v: s.session.version };
  }
}

async function toEvidence(a, b) {
  await ok(a, 'court:serve', { partnerId: b.id, coupleId: null, judgeType: 'swift' });
  await b.waitState(view('PENDING_PARTNER'), 'PENDING_PARTNER');
  await ok(b, 'court:accept');
  await a.waitState(view('EVIDENCE'), 'EVIDENCE at A');
}

async function toResolution(a, b) {
  await toEvidence(a, b);
  const ev = await ok(a, 'court:submit_evidence', EVIDENCE);
  assert(ev.state.myViewPhase === 'WAITING_EVIDENCE', 'A waits for B');
  await b.waitState((s) => s.session?.evidence?.creator?.submitted === true, 'B sees A submitted');
  await ok(b, 'court:submit_evidence', { evidence: 'The dishes were mine to do.', feelings: 'I feel rushed.', needs: 'Patience.' });
  const primed = [];
  for (const c of [a, b]) primed.push(await c.waitState(view('PRIMING'), `PRIMING at ${c.name}`, 10000));
  // R17: each sees its own priming half and evidence texts, not the other's;
  // R18: both learn the judge.
  const [pa, pb] = primed.map((st) => st.session);
  assert(pa.primingContent.userA !== null && pa.primingContent.userB === null, `A's priming: ${JSON.stringify(pa.primingContent).slice(0, 120)}`);
  assert(pb.primingContent.userB !== null && pb.primingContent.userA === null, `B's priming: ${JSON.stringify(pb.primingContent).slice(0, 120)}`);
  assert(pa.evidence.creator.facts === EVIDENCE.evidence && pa.evidence.partner.facts === null && pa.evidence.partner.submitted === true, 'A sees only its own evidence');
  assert(pb.evidence.partner.facts !== null && pb.evidence.creator.facts === null && pb.evidence.creator.feelings === null, 'B sees only its own evidence');
  assert(pa.judgeType === 'swift' && pb.judgeType === 'swift', `judgeType: ${pa.judgeType}`);
  await ok(a, 'court:priming_complete');
  await a.waitState(view('WAITING_PRIMING'), 'A waits in priming');
  await ok(b, 'court:priming_complete');
  for (const c of [a, b]) await c.waitState(view('JOINT_MENU'), `JOINT_MENU at ${c.name}`);
  await ok(a, 'court:joint_ready');
  await ok(b, 'court:joint_ready');
  for (const c of [a, b]) await c.waitState(view('RESOLUTION_SELECT'), `RESOLUTION_SELECT at ${c.name}`);
}

async function toVerdictAgreeing(a, b) {
  await toResolution(a, b);
  const pick = await ok(a, 'court:resolution_pick', { resolutionId: 'resolution_1' });
  assert(pick.state.myViewPhase === 'WAITING_RESOLUTION', 'A waits for B pick');
  await ok(b, 'court:resolution_pick', { resolutionId: 'resolution_1' });
  for (const c of [a, b]) await c.waitState(view('VERDICT'), `VERDICT at ${c.name}`);
}

const scenarios = {
  async happy() {
    const [a, b] = await couple();
    await toVerdictAgreeing(a, b);
    const v = a.states.at(-1).session.verdict;
    assert(v && v.status === 'success' && v.judgeContent.theSentence, 'verdict envelope');
    const acc = await ok(a, 'court:accept_verdict');
    assert(acc.state.myViewPhase === 'WAITING_ACCEPT', 'A waits for B accept');
    await ok(b, 'court:accept_verdict');
    const closed = await a.waitState(view('CLOSED'), 'CLOSED at A');
    await b.waitState(view('CLOSED'), 'CLOSED at B');
    assert(typeof closed.session.caseId === 'string', 'case saved on close');
    await a.waitState(phase('IDLE'), 'IDLE after the CLOSED hold', 10000, a.states.indexOf(closed));
    inOrder(a); inOrder(b);
    step('happy path: serve → evidence → analysis → priming → joint menu → resolution → verdict → close, in order for both');
  },

  async mismatch() {
    const [a, b] = await couple();
    await toResolution(a, b);
    await ok(a, 'court:resolution_pick', { resolutionId: 'resolution_1' });
    await ok(b, 'court:resolution_pick', { resolutionId: 'resolution_2' });
    for (const c of [a, b]) await c.waitState(view('RESOLUTION_MISMATCH'), `RESOLUTION_MISMATCH at ${c.name}`);
    const hy = await a.waitState((s) => s.session?.hybridResolution && s.session.hybridResolutionPending === false, 'hybrid ready', 10000);
    assert(hy.session.hybridResolution.id === 'resolution_hybrid', 'hybrid id');
    await ok(a, 'court:resolution_pick', { resolutionId: 'resolution_hybrid' });
    await ok(b, 'court:resolution_pick', { resolutionId: 'resolution_hybrid' });
    const v = await a.waitState(view('VERDICT'), 'VERDICT after the hybrid');
    assert(v.session.finalResolution?.id === 'resolution_hybrid', 'final is the hybrid');
    inOrder(a); inOrder(b);
    step('mismatch resolved through the hybrid');
  },

  async addendum() {
    const [a, b] = await couple();
    await toVerdictAgreeing(a, b);
    await ok(b, 'court:submit_addendum', { text: 'I forgot: I was sick that week.' }, 4000);
    const again = await a.waitState((s) => s.myViewPhase === 'PRIMING' && s.session.addendumCount === 1, 'PRIMING again after the addendum', 10000);
    assert(again.session.addendumRemaining === 1, 'one addendum left');
    inOrder(a); inOrder(b);
    step('an addendum re-runs the judge and counts against the limit');
  },

  async settlement() {
    const [a, b] = await couple();
    await toEvidence(a, b);
    await ok(a, 'court:request_settle');
    await b.waitState((s) => s.session?.settlementRequested === a.id, 'settlementRequested at B');
    const requested = await b.waitEvent('court:settlement_requested');
    assert(requested.byUserId === a.id, `settlement_requested names the requester: ${JSON.stringify(requested)}`);
    await ok(b, 'court:decline_settle');
    const declined = await a.waitEvent('court:settlement_declined');
    assert(declined.byUserId === b.id, `settlement_declined names the decliner: ${JSON.stringify(declined)}`);
    await a.waitState((s) => s.session && s.session.settlementRequested === null && s.session.version > 3, 'request cleared at A');
    step('settlement request then decline');
    const fromB = b.states.length;
    await ok(a, 'court:request_settle');
    await b.waitState((s) => s.session?.settlementRequested === a.id, 'second request at B', 5000, fromB);
    const fromA = a.states.length;
    const acc = await ok(b, 'court:accept_settle');
    assert(acc.state.phase === 'IDLE', 'accept_settle acks the IDLE state');
    await a.waitState(phase('IDLE'), 'IDLE after settle', 5000, fromA);
    step('settlement request then accept: both IDLE');
    await toEvidence(a, b);
    const from = a.states.length;
    await ok(b, 'court:request_settle');
    await a.waitState((s) => s.session?.settlementRequested === b.id, 'request at A', 5000, from);
    await a.waitState((s) => s.session && s.session.settlementRequested === null && s.phase === 'EVIDENCE', 'request expired', 10000, from);
    step('settlement request expires and the session goes on');
  },

  // Every phase timer, each couple in parallel (run with a small COURT_TIMER_SCALE).
  async timeouts() {
    const tossedAfter = async (label, drive) => {
      const [a, b] = await couple();
      await drive(a, b);
      const from = Math.min(a.states.length, b.states.length) - 1;
      await a.waitState(phase('IDLE'), `${label} timeout at A`, 20000, from);
      await b.waitState(phase('IDLE'), `${label} timeout at B`, 20000, from);
      step(`${label} timeout tosses the session; both IDLE`);
    };
    await Promise.all([
      tossedAfter('PENDING', async (a, b) => {
        await ok(a, 'court:serve', { partnerId: b.id, coupleId: null, judgeType: 'swift' });
        await b.waitState(view('PENDING_PARTNER'), 'PENDING_PARTNER');
      }),
      tossedAfter('EVIDENCE', toEvidence),
      tossedAfter('PRIMING', async (a, b) => {
        await toEvidence(a, b);
        await ok(a, 'court:submit_evidence', EVIDENCE);
        await ok(b, 'court:submit_evidence', EVIDENCE);
        await a.waitState(view('PRIMING'), 'PRIMING', 10000);
      }),
      tossedAfter('JOINT_READY', async (a, b) => {
        await toEvidence(a, b);
        await ok(a, 'court:submit_evidence', EVIDENCE);
        await ok(b, 'court:submit_evidence', EVIDENCE);
        await a.waitState(view('PRIMING'), 'PRIMING', 10000);
        await ok(a, 'court:priming_complete');
        await ok(b, 'court:priming_complete');
        await a.waitState(view('JOINT_MENU'), 'JOINT_MENU');
      }),
      tossedAfter('RESOLUTION', toResolution),
      (async () => {
        const [a, b] = await couple();
        await toVerdictAgreeing(a, b);
        await a.waitState(view('CLOSED'), 'VERDICT timeout auto-accepts at A', 20000);
        await b.waitState(view('CLOSED'), 'VERDICT timeout auto-accepts at B', 20000);
        step('VERDICT timeout auto-accepts for both and closes');
      })(),
    ]);
  },

  // The ANALYZING timer: run against homes whose judge is slower than it.
  async analyzing() {
    const [a, b] = await couple();
    await toEvidence(a, b);
    await ok(a, 'court:submit_evidence', EVIDENCE);
    await ok(b, 'court:submit_evidence', EVIDENCE);
    await a.waitState(view('ANALYZING'), 'ANALYZING');
    await a.waitState(phase('IDLE'), 'ANALYZING timeout', 20000, a.states.length - 1);
    await new Promise((r) => setTimeout(r, 500));
    assert(!a.states.some((s) => s.phase === 'PRIMING'), 'a late judge result never resurrects the session (R8)');
    step('ANALYZING timeout tosses, and the late judge result is dropped');
  },

  // Bad input gets the documented error in the ack and as court:error to the
  // caller only; the node keeps serving everyone.
  async badinput() {
    const [a, b] = await couple();
    const refused = async (c, event, payload, want) => {
      const before = c.errors.length;
      const ack = await c.emit(event, payload);
      assert(ack.ok === false && ack.error === want, `${event} ${JSON.stringify(payload)?.slice(0, 40)}: want "${want}", got ${JSON.stringify(ack)}`);
      for (let i = 0; i < 100 && c.errors.length === before; i++) await new Promise((r) => setTimeout(r, 20));
      assert(c.errors.at(-1)?.message === want, `court:error to the caller: ${JSON.stringify(c.errors.at(-1))}`);
    };
    await refused(a, 'court:nope', {}, 'Unknown event');
    await refused(a, 'court:serve', 'not an object', 'Invalid payload');
    await refused(a, 'court:serve', {}, 'partnerId required');
    await refused(a, 'court:serve', { partnerId: a.id }, 'Invalid partnerId for current user');
    await refused(a, 'court:accept', {}, 'No pending session found');
    await toEvidence(a, b);
    const C = uuid();
    const c = new Client('C@us', US_URL, mint(C));
    await c.connected();
    await refused(c, 'court:submit_evidence', EVIDENCE, 'No active session');
    await refused(c, 'court:dismiss', {}, 'No session found');
    await refused(a, 'court:resolution_pick', {}, 'resolutionId required');
    await refused(a, 'court:submit_evidence', { evidence: '   ', feelings: 'x', needs: 'y' }, 'Evidence, feelings and needs are all required.');
    await refused(a, 'court:submit_evidence', {}, 'Evidence, feelings and needs are all required.');
    const long = 'word '.repeat(1500);
    const ev = await ok(a, 'court:submit_evidence', { evidence: long, feelings: long, needs: long });
    const mine = ev.state.session.evidence.creator;
    assert(mine.facts.length <= 5000 && mine.facts.length >= 4000, `evidence truncated to 5000: ${mine.facts.length}`);
    assert(mine.feelings.length <= 2000, `feelings truncated to 2000: ${mine.feelings.length}`);
    assert(b.errors.length === 0, 'the partner got none of the caller\'s errors');
    const still = await b.emit('court:register', { userId: b.id });
    assert(still.ok === true && still.state.phase === 'EVIDENCE', 'the node keeps serving');
    assert(still.state.session.evidence.creator.submitted === true && still.state.session.evidence.creator.facts === null, 'B does not see A\'s evidence text');
    step('bad input: clear errors to the caller only; blank evidence refused before any judge call; evidence truncated, not refused');
  },
};

const name = process.argv[2];
if (!scenarios[name]) {
  console.error(`unknown scenario ${name}; one of ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
scenarios[name]().then(() => { console.log(`e2e ${name}: all passed`); process.exit(0); }, (err) => { console.error(`not ok - ${err.stack || err}`); process.exit(1); });
