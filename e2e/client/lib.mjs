// Helpers shared by the end-to-end scenarios: tokens, connections, and waits
// that are bounded in time.
import crypto from 'node:crypto';
import { io } from 'socket.io-client';
import WebSocket from 'ws';

export const SECRET = process.env.SUPABASE_JWT_SECRET;
export const US_URL = process.env.US_URL;
export const ASIA_URL = process.env.ASIA_URL;

const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

// mint signs an HS256 Supabase-style token for userId.
export function mint(userId, { secret = SECRET, ttlSec = 3600 } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const head = b64({ alg: 'HS256', typ: 'JWT' });
  const body = b64({ sub: userId, role: 'authenticated', aud: 'authenticated', iat: now, exp: now + ttlSec });
  const sig = crypto.createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

export const uuid = () => crypto.randomUUID();

// Client wraps one socket.io-client socket and records every court:state it gets.
export class Client {
  constructor(name, url, token) {
    this.name = name;
    this.states = [];
    this.errors = [];
    this.events = [];
    this.waiters = [];
    this.socket = io(url, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true, timeout: 5000 });
    this.socket.on('court:state', (s) => { this.states.push(s); this._wake(); });
    this.socket.on('court:error', (e) => { this.errors.push(e); this._wake(); });
    this.socket.onAny((name, payload) => { this.events.push({ name, payload }); this._wake(); });
  }
  _wake() { for (const w of this.waiters.splice(0)) w(); }
  connected() {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name}: connect timeout`)), 5000);
      this.socket.once('connect', () => { clearTimeout(t); resolve(); });
      this.socket.once('connect_error', (e) => { clearTimeout(t); reject(e); });
    });
  }
  async emit(event, payload = {}, timeoutMs = 5000) {
    return this.socket.timeout(timeoutMs).emitWithAck(event, payload);
  }
  // waitState resolves with the first recorded state (from index `from`) that matches pred.
  async waitState(pred, what, timeoutMs = 5000, from = 0) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.states.slice(from).find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no court:state ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.states.map((s) => s.myViewPhase))}`);
      await new Promise((r) => { const t = setTimeout(r, left); this.waiters.push(() => { clearTimeout(t); r(); }); });
    }
  }
  // waitEvent resolves with the payload of the first recorded event name.
  async waitEvent(name, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find((e) => e.name === name);
      if (hit) return hit.payload;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no ${name} within ${timeoutMs} ms`);
      await new Promise((r) => { const t = setTimeout(r, left); this.waiters.push(() => { clearTimeout(t); r(); }); });
    }
  }
  waitDisconnect(timeoutMs = 5000) {
    if (!this.socket.connected) return Promise.resolve('already');
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name}: not disconnected within ${timeoutMs} ms`)), timeoutMs);
      this.socket.once('disconnect', (reason) => { clearTimeout(t); resolve(reason); });
    });
  }
  close() { this.socket.close(); }
}

// connectError returns the connect_error message for a connection attempt with token.
export function connectError(url, token) {
  return new Promise((resolve, reject) => {
    const s = io(url, { transports: ['websocket'], auth: token === undefined ? {} : { token }, reconnection: false, forceNew: true, timeout: 5000 });
    const t = setTimeout(() => { s.close(); reject(new Error('no connect_error within 5 s')); }, 5000);
    s.once('connect', () => { clearTimeout(t); s.close(); reject(new Error('connected with a bad token')); });
    s.once('connect_error', (e) => { clearTimeout(t); s.close(); resolve(e.message); });
  });
}

// rawSocket opens a plain WebSocket, completes the Socket.IO CONNECT with token,
// and returns {ws, closed} where closed resolves when the server closes it.
export function rawSocket(url, token) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/socket.io/?EIO=4&transport=websocket');
    const closed = new Promise((r) => ws.once('close', (code) => r(code)));
    const t = setTimeout(() => reject(new Error('raw socket: no CONNECT ack within 5 s')), 5000);
    ws.on('message', (data) => {
      const msg = data.toString();
      if (msg.startsWith('0{')) ws.send(`40${JSON.stringify({ token })}`);
      else if (msg.startsWith('40')) { clearTimeout(t); resolve({ ws, closed }); }
    });
    ws.once('error', (e) => { clearTimeout(t); reject(e); });
  });
}

export function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

export function within(p, ms, what) {
  return Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`${what}: not within ${ms} ms`)), ms))]);
}
