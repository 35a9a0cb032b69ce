// The approvals dashboard in a real browser: headless Chromium driven by
// Playwright, steered by tests/test_dashboard.py over stdin/stdout.
//
//   node dashboard.mjs --url http://127.0.0.1:PORT/ --out DIR
//
// Environment: KEYWARD_TEST_PASSPHRASE (the vault passphrase; never on the
// command line), KEYWARD_SCREENSHOTS (optional second directory for the
// screenshots, e.g. docs/screenshots), CHROMIUM (default /usr/bin/chromium).
//
// Protocol: this script prints one word per line when it reaches a step
// (READY, APPROVED, LOCKED, UNLOCKED) and waits for the test's go-ahead
// lines (NEXT, UNLOCK) on stdin. "FAIL <why>" on any failure, exit 1.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

function arg(name) {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`missing ${name}`);
  return process.argv[i + 1];
}

const base = new URL(arg('--url'));
const dirs = [arg('--out')];
if (process.env.KEYWARD_SCREENSHOTS) dirs.push(process.env.KEYWARD_SCREENSHOTS);
const passphrase = process.env.KEYWARD_TEST_PASSPHRASE || '';
const STEP = 30_000;

const rl = createInterface({ input: process.stdin });
const lines = rl[Symbol.asyncIterator]();
async function waitFor(word) {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error(`stdin closed while waiting for ${word}`);
    if (value.trim() === word) return;
  }
}
function say(word) {
  process.stdout.write(word + '\n');
}
let step = 'start';
function at(name) {
  step = name;
}
function check(ok, why) {
  if (!ok) throw new Error(why);
}

async function shot(page, name) {
  for (const d of dirs) {
    mkdirSync(d, { recursive: true });
    await page.screenshot({ path: join(d, `${name}.png`), fullPage: true });
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
});
try {
  const context = await browser.newContext({ viewport: { width: 1120, height: 760 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP);
  const dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss();
  });

  // Logged out, the dashboard sends the browser to the login.
  at('login page');
  await page.goto(new URL('/', base).href);
  check(new URL(page.url()).pathname === '/login', `not sent to the login: ${page.url()}`);
  await shot(page, 'login');

  // A wrong passphrase: a generic refusal, still on the login page.
  at('wrong passphrase');
  await page.fill('#passphrase', 'not the passphrase');
  await page.click('button[type=submit]');
  await page.locator('.flash.error').waitFor();
  check((await page.textContent('.flash.error')).includes('Wrong passphrase'), 'no refusal shown');

  at('log in');
  await page.fill('#passphrase', passphrase);
  await page.click('button[type=submit]');
  await page.locator('#pending').waitFor();
  check(new URL(page.url()).pathname === '/', `not on the dashboard: ${page.url()}`);
  // The HttpOnly cookie is not readable by scripts.
  check((await page.evaluate(() => document.cookie)) === '', 'the session cookie is visible to scripts');
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name.startsWith('keyward_session_'));
  check(session && session.httpOnly && session.sameSite === 'Strict', `cookie flags: ${JSON.stringify(session)}`);
  // Live updates are connected before the test makes its call.
  at('live updates');
  await page.locator('#conn.on').waitFor();
  check((await page.locator('article.question').count()) === 0, 'a question before any call');
  await page.evaluate(() => { window.__kwSamePage = true; });
  say('READY');

  // The held call appears without a reload.
  at('pending question');
  const question = page.locator('article.question').first();
  await question.waitFor();
  check(await page.evaluate(() => window.__kwSamePage === true), 'the page was reloaded');
  const reason = await question.locator('.reason').textContent();
  check(reason.includes('<script>'), `the reason's markup is not shown as text: ${reason}`);
  check(await page.evaluate(() => window.__kwPwned === undefined), 'the agent\'s script ran');
  check(dialogs.length === 0, `a dialog opened: ${dialogs}`);
  check((await question.locator('.target').textContent()).includes('POST /v1/refunds/4417'), 'target not shown');
  await shot(page, 'pending');

  at('allow 5 min');
  await question.locator('button[value="5m"]').click();
  await page.locator('tr.grant').first().waitFor();
  check((await page.locator('article.question').count()) === 0, 'the question is still waiting');
  check((await page.textContent('.flash')).includes('Answered'), 'no confirmation shown');
  await shot(page, 'grants');
  say('APPROVED');

  await waitFor('NEXT');
  at('revoke and lock');
  await page.locator('tr.grant button', { hasText: 'Revoke' }).first().click();
  await page.locator('#grants .empty').waitFor();
  await page.click('#lock-button');
  await page.locator('#lock.locked').waitFor();
  await shot(page, 'locked');
  say('LOCKED');

  await waitFor('UNLOCK');
  at('unlock');
  await page.fill('#unlock-pass', 'not the passphrase');
  await page.click('form.unlock button');
  await page.locator('.flash.error').waitFor();
  check((await page.locator('#lock.locked').count()) === 1, 'unlocked without the passphrase');
  await page.fill('#unlock-pass', passphrase);
  await page.click('form.unlock button');
  await page.locator('#lock-button').waitFor();
  say('UNLOCKED');
  await browser.close();
  rl.close();
  process.exit(0);
} catch (e) {
  say(`FAIL at ${step}: ${String(e && e.message ? e.message : e).split('\n')[0]}`);
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  await browser.close();
  process.exit(1);
}
