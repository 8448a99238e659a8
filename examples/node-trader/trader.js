// A Monkonomy trader in Node.js, on plain Redis Streams (docs/writing-a-trader.md).
// Each tick it buys a share when the forecast says the price should rise and it can pay,
// feeds every share but one, and prints each result. MONKONOMY_MAX_TICKS=N stops it after
// N ticks, once every order sent has its result.
import { createClient } from 'redis';
import { randomBytes } from 'node:crypto';

const need = (name) => process.env[name] || fail(`set ${name} (see docs/writing-a-trader.md)`);
function fail(msg) { console.error(`node-trader: ${msg}`); process.exit(2); }

const addr = need('MONKONOMY_REDIS_ADDR');
const market = need('MONKONOMY_MARKET').includes('/') ? process.env.MONKONOMY_MARKET : `default/${process.env.MONKONOMY_MARKET}`;
const trader = need('MONKONOMY_TRADER');
const prefix = process.env.MONKONOMY_KEY_PREFIX || `mk:{${market}}:`;
const maxTicks = Number(process.env.MONKONOMY_MAX_TICKS || 0);
const keys = { ticks: `${prefix}ticks`, orders: `${prefix}orders:${trader}`, results: `${prefix}results:${trader}` };

const writer = createClient({
  url: addr.includes('://') ? addr : `redis://${addr}`,
  username: process.env.MONKONOMY_REDIS_USERNAME || undefined,
  password: process.env.MONKONOMY_REDIS_PASSWORD || undefined,
});
writer.on('error', (err) => console.error(`node-trader: redis: ${err.message}`));
const reader = writer.duplicate(); // a blocking XREAD holds its connection
await Promise.all([writer.connect(), reader.connect()]);

const session = randomBytes(4).toString('hex');
let sent = 0, answered = 0, ticks = 0;
let account = { coins: 10, shares: 5 };

// Ids are unique per run: a retried order keeps its id and is applied once.
const order = (kind, fields) =>
  writer.xAdd(keys.orders, '*', { v: '1', id: `${trader}-${session}-${++sent}`, kind, ...fields });

async function onTick(t) {
  if (t.phase !== 'open' || (maxTicks && ticks >= maxTicks)) return;
  ticks++;
  const price = Number(t.price); // fine for deciding; amounts on the wire stay strings
  if (Number(t.forecast) > 1 && account.coins >= price) await order('buy', { qty: '1' });
  if (account.shares > 1) await order('feed', { qty: String(account.shares - 1) });
}

function onResult(r) {
  if (r.kind !== 'harvest') answered++;
  account = { coins: Number(r.coins), shares: Number(r.shares) };
  console.log(`${r.kind} ${r.status} tick=${r.tick} price=${r.price} coins=${r.coins} shares=${r.shares} fed=${r.fed} score=${r.score}`);
}

const latest = async (key) => (await reader.xRevRange(key, '+', '-', { COUNT: 1 }))[0]?.id ?? '0-0';
const pos = { [keys.ticks]: await latest(keys.ticks), [keys.results]: await latest(keys.results) };
while (!(maxTicks && ticks >= maxTicks && answered >= sent)) {
  const streams = Object.entries(pos).map(([key, id]) => ({ key, id }));
  const reply = await reader.xRead(streams, { BLOCK: 1000, COUNT: 100 });
  for (const { name, messages } of reply ?? []) {
    for (const { id, message } of messages) {
      pos[name] = id;
      if (name === keys.ticks) await onTick(message);
      else onResult(message);
    }
  }
}
console.log(`done: ${ticks} ticks, ${sent} orders, ${answered} results`);
await Promise.all([writer.quit(), reader.quit()]);
