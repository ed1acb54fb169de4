// The walking-skeleton scenario: partners on the us and asia edges, a home in
// us. Exits non-zero with a message on the first broken promise.
import { Client, mint, uuid, connectError, rawSocket, assert, within, US_URL, ASIA_URL } from './lib.mjs';

const step = (s) => console.log(`ok - ${s}`);

async function main() {
  const A = uuid();
  const B = uuid();
  const a = new Client('A@us', US_URL, mint(A));
  const b = new Client('B@asia', ASIA_URL, mint(B));
  await Promise.all([a.connected(), b.connected()]);
  step('A on us and B on asia connected with real tokens');

  for (const [c, id] of [[a, A], [b, B]]) {
    const ack = await c.emit('court:register', { userId: id });
    assert(ack.ok === true && ack.state.phase === 'IDLE' && ack.state.session === null, `${c.name} register ack IDLE: ${JSON.stringify(ack)}`);
    await c.waitState((s) => s.phase === 'IDLE', 'IDLE after register');
  }
  step('register acks IDLE and pushes court:state');

  const serve = await a.emit('court:serve', { partnerId: B, coupleId: null, judgeType: 'swift' });
  assert(serve.ok === true, `serve ack ok: ${JSON.stringify(serve)}`);
  assert(serve.state.myViewPhase === 'PENDING_CREATOR', `serve ack view: ${serve.state.myViewPhase}`);
  const pa = await a.waitState((s) => s.myViewPhase === 'PENDING_CREATOR', 'PENDING_CREATOR');
  const pb = await b.waitState((s) => s.myViewPhase === 'PENDING_PARTNER', 'PENDING_PARTNER');
  assert(pb.session.creatorId === A && pb.session.partnerId === B, 'session names creator and partner');
  assert(pb.session.coupleId === `${A}-${B}`, `coupleId default: ${pb.session.coupleId}`);
  assert(!('needs' in pb.session.evidence.creator), 'needs never sent');
  assert(pa.session.id === pb.session.id, 'one session');
  step('A serves B across regions: PENDING_CREATOR / PENDING_PARTNER');

  const accept = await b.emit('court:accept', {});
  assert(accept.ok === true && accept.state.myViewPhase === 'EVIDENCE', `accept ack (R1 fixed): ${JSON.stringify(accept).slice(0, 200)}`);
  await a.waitState((s) => s.phase === 'EVIDENCE' && s.myViewPhase === 'EVIDENCE', 'EVIDENCE at A');
  await b.waitState((s) => s.phase === 'EVIDENCE', 'EVIDENCE at B');
  step('B accepts with a {} payload and gets its ack; both see EVIDENCE');

  const wrong = await a.emit('court:accept', {});
  assert(wrong.ok === false && typeof wrong.error === 'string', `second accept refused: ${JSON.stringify(wrong)}`);
  await within((async () => { while (!a.errors.length) await new Promise((r) => setTimeout(r, 20)); })(), 3000, 'court:error to the caller');
  assert(b.errors.length === 0, 'court:error reaches the caller only');
  step(`a refused action acks ok:false ("${wrong.error}") and court:error goes to the caller only`);

  b.close();
  const b2 = new Client('B@us', US_URL, mint(B));
  await b2.connected();
  const reg = await b2.emit('court:register', { userId: B });
  assert(reg.ok === true && reg.state.phase === 'EVIDENCE' && reg.state.session.id === pa.session.id, `re-register state: ${JSON.stringify(reg).slice(0, 200)}`);
  await b2.waitState((s) => s.phase === 'EVIDENCE', 'EVIDENCE pushed on register');
  step('B reconnects to the us edge and court:register returns the current state');

  for (const [what, tok] of [
    ['missing', undefined],
    ['malformed', 'not-a-jwt'],
    ['wrong secret', mint(A, { secret: 'another-secret' })],
    ['expired', mint(A, { ttlSec: -120 })],
  ]) {
    const msg = await connectError(US_URL, tok);
    assert(msg === 'Unauthorized', `${what} token: connect_error ${msg}`);
  }
  step('missing, malformed, wrongly signed and expired tokens get connect_error "Unauthorized"');

  const C = uuid();
  const c = new Client('C@asia', ASIA_URL, mint(C));
  await c.connected();
  const gone = c.waitDisconnect(5000);
  c.socket.emit('court:register', { userId: C, pad: 'x'.repeat(1_100_000) });
  await gone;
  const stillA = await a.emit('court:register', { userId: A });
  assert(stillA.ok === true && stillA.state.phase === 'EVIDENCE', 'A still served after an oversized frame');
  step('an oversized frame closes only the sender');

  const raw = await rawSocket(ASIA_URL, mint(uuid()));
  raw.ws.send('42["court:register",{oops');
  await within(raw.closed, 5000, 'malformed packet closes the socket');
  const stillB = await b2.emit('court:register', { userId: B });
  assert(stillB.ok === true && stillB.state.phase === 'EVIDENCE', 'B still served after a malformed packet');
  step('a malformed packet closes only the sender');

  const dis = await a.emit('court:dismiss', {});
  assert(dis.ok === true && dis.state === undefined, `dismiss acks {ok:true}: ${JSON.stringify(dis)}`);
  await a.waitState((s) => s.phase === 'IDLE', 'IDLE after dismiss', 5000, 1);
  await b2.waitState((s) => s.phase === 'IDLE', 'IDLE after dismiss at B');
  step('dismiss returns both to IDLE');

  // The PENDING timer: COURT_TIMER_SCALE makes it short in this run.
  const D = uuid();
  const E = uuid();
  const d = new Client('D@us', US_URL, mint(D));
  const e = new Client('E@asia', ASIA_URL, mint(E));
  await Promise.all([d.connected(), e.connected()]);
  await d.emit('court:register', { userId: D });
  await e.emit('court:register', { userId: E });
  const s2 = await d.emit('court:serve', { partnerId: E, coupleId: null, judgeType: 'classic' });
  assert(s2.ok === true, 'second serve');
  await e.waitState((s) => s.myViewPhase === 'PENDING_PARTNER', 'PENDING_PARTNER');
  const from = e.states.length;
  await e.waitState((s) => s.phase === 'IDLE', 'IDLE after the PENDING timeout', 15000, from);
  await d.waitState((s) => s.phase === 'IDLE', 'IDLE after the PENDING timeout at D', 5000, 2);
  step('the PENDING timeout tosses the session and pushes IDLE to both');

  for (const x of [a, b2, d, e]) x.close();
}

main().then(() => { console.log('e2e skeleton: all passed'); process.exit(0); }, (err) => { console.error(`not ok - ${err.stack || err}`); process.exit(1); });
