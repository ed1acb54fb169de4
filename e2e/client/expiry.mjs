// The token-expiry scenario (court-protocol.md §6 R15): a socket whose token
// expires is ended by the edge; the court client's own reconnect logic
// rebuilds it with the refreshed token and resyncs with court:register.
// The edge runs with --token-grace 1s. Exits non-zero on the first broken
// promise.
import { io } from 'socket.io-client';
import { Client, mint, uuid, assert, US_URL, ASIA_URL } from './lib.mjs';

const step = (s) => console.log(`ok - ${s}`);
const GRACE_MS = 1000;
const EVIDENCE = { evidence: 'I saw the dishes pile up for three days.', feelings: 'I feel unheard.', needs: 'Shared chores.' };

// CourtSocket is the court client's connection logic, unchanged
// (useCourtSocket.js, court-protocol.md §2.7): the library's reconnection is
// off; on 'disconnect' for any reason but 'io client disconnect' a new socket
// is built with the session's current token after 1000 × 2^attempts ms;
// 'connect_error' raises attempts and retries while attempts < 5; a connect
// resets attempts; after every connect it emits court:register and applies
// ack.state.
class CourtSocket {
  constructor(name, url, userId, currentToken) {
    Object.assign(this, { name, url, userId, currentToken });
    this.attempts = 0;
    this.registers = [];
    this.disconnects = [];
    this.tokens = [];
    this.waiters = [];
    this.connect();
  }
  _wake() { for (const w of this.waiters.splice(0)) w(); }
  connect() {
    const token = this.currentToken();
    this.tokens.push(token);
    const s = io(this.url, { transports: ['websocket', 'polling'], timeout: 10000, reconnection: false, auth: { token }, forceNew: true });
    this.socket = s;
    s.on('connect', async () => {
      this.attempts = 0;
      const ack = await s.timeout(5000).emitWithAck('court:register', { userId: this.userId });
      this.state = ack.state;
      this.registers.push({ token, state: ack.state });
      this._wake();
    });
    s.on('court:state', (st) => { this.state = st; this._wake(); });
    s.on('disconnect', (reason) => {
      this.disconnects.push({ reason, at: Date.now() });
      this._wake();
      if (reason !== 'io client disconnect') setTimeout(() => this.connect(), 1000 * 2 ** this.attempts);
    });
    s.on('connect_error', () => {
      this.attempts++;
      if (this.attempts < 5) setTimeout(() => this.connect(), 1000 * 2 ** this.attempts);
    });
  }
  async until(pred, what, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: not ${what} within ${timeoutMs} ms`);
      await new Promise((r) => { const t = setTimeout(r, left); this.waiters.push(() => { clearTimeout(t); r(); }); });
    }
  }
  close() { this.socket.close(); }
}

async function main() {
  const A = uuid();
  const B = uuid();
  const TTL = 4;
  let tokenA = mint(A, { ttlSec: TTL });
  const expMs = JSON.parse(Buffer.from(tokenA.split('.')[1], 'base64url').toString()).exp * 1000;
  const a = new CourtSocket('A@us', US_URL, A, () => tokenA);
  const b = new Client('B@asia', ASIA_URL, mint(B));
  await b.connected();
  assert((await b.emit('court:register', { userId: B })).ok === true, 'B registers');
  await a.until(() => a.registers.length === 1, 'registered', 5000);
  step(`A connects with a token that expires in ${TTL} s`);

  const serve = await a.socket.timeout(5000).emitWithAck('court:serve', { partnerId: B, coupleId: null, judgeType: 'swift' });
  assert(serve.ok === true, `serve: ${JSON.stringify(serve).slice(0, 200)}`);
  const accept = await b.emit('court:accept', {});
  assert(accept.ok === true, `accept: ${JSON.stringify(accept).slice(0, 200)}`);
  await a.until(() => a.state?.phase === 'EVIDENCE', 'in EVIDENCE', 5000);
  const sid = a.state.session.id;
  step('A serves B, B accepts: both in EVIDENCE');

  // The app refreshes its session; the open socket keeps the old token.
  tokenA = mint(A, { ttlSec: 3600 });
  await a.until(() => a.disconnects.length === 1, 'disconnected', (TTL + 10) * 1000);
  const d = a.disconnects[0];
  assert(d.reason === 'io server disconnect', `disconnect reason: ${d.reason}`);
  assert(d.at >= expMs + GRACE_MS - 50, `closed ${d.at - expMs} ms after exp, before the grace`);
  assert(d.at <= expMs + GRACE_MS + 3000, `closed ${d.at - expMs} ms after exp`);
  step(`the edge ends A's socket ${d.at - expMs} ms after exp: "${d.reason}"`);

  // While A is away, B submits: A must learn it from the resync.
  const sub = await b.emit('court:submit_evidence', EVIDENCE);
  assert(sub.ok === true && sub.state.myViewPhase === 'WAITING_EVIDENCE', `B submits: ${JSON.stringify(sub).slice(0, 200)}`);

  await a.until(() => a.registers.length === 2, 'registered again', 10000);
  const re = a.registers[1];
  assert(re.token === tokenA && re.token !== a.tokens[0], 'the new socket uses the refreshed token');
  assert(re.state.phase === 'EVIDENCE' && re.state.session.id === sid, `resynced state: ${JSON.stringify(re.state).slice(0, 200)}`);
  assert(re.state.session.evidence.partner.submitted === true, 'resync shows what B did meanwhile');
  assert(re.state.myViewPhase === 'EVIDENCE', `A's view: ${re.state.myViewPhase}`);
  step('the court client reconnects with the refreshed token; court:register resyncs its state');

  const mine = await a.socket.timeout(5000).emitWithAck('court:submit_evidence', EVIDENCE);
  assert(mine.ok === true && mine.state.phase === 'ANALYZING', `A submits on the new socket: ${JSON.stringify(mine).slice(0, 200)}`);
  await b.waitState((s) => s.phase === 'ANALYZING', 'ANALYZING at B');
  await new Promise((r) => setTimeout(r, GRACE_MS + 500));
  assert(a.disconnects.length === 1 && a.socket.connected, 'the refreshed socket stays');
  assert(b.socket.connected, 'B, whose token is live, was never disconnected');
  step('the new socket serves actions and stays; B was never disconnected');

  a.close();
  b.close();
  console.log('e2e expiry: all passed');
}

main().then(() => process.exit(0), (e) => { console.error(`FAIL: ${e.message}`); process.exit(1); });
