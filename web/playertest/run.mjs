// run.mjs plays an HLS stream with hls.js and a DASH stream with dash.js in
// headless Chromium, at the same time, each in its own page, and prints one
// JSON object with what each player did.
//
//   node run.mjs --hls URL --dash URL [--play 20] [--play-max 45] [--cap-bps N]
//                [--switch-wait 40] [--hls-sync SECONDS] [--warmup SECONDS]
//   node run.mjs --mode vod --hls URL --dash URL [--end-wait 60]
//
// hls.js runs in low-latency mode (parts, blocking reloads, preload hints);
// --hls-sync sets how far behind the live edge it plays (liveSyncDuration),
// instead of the playlist's PART-HOLD-BACK.
//
// The test page and the players' scripts are served by this script on a
// loopback port of their own, so every stream request is cross-origin and
// exercises the server's CORS answers. For each player it:
//   1. waits for playback to start (the first "playing" event);
//   2. lets it play --warmup seconds (players pick their rung at the start),
//      then samples currentTime once a second, with the "waiting" events and
//      the players' stall errors, until it has advanced every second for
//      --play seconds in a row (cleanRun), or --play-max seconds have passed;
//   3. caps the page's download rate to --cap-bps bits/s with the DevTools
//      protocol (Network.emulateNetworkConditions) and waits up to
//      --switch-wait seconds for the picture height to change: the player's
//      ABR moved to another rung.
//
// With --mode vod the streams are recordings (VOD) and, for each player, it:
//   1. waits for playback to start and notes where (the first played range)
//      and the duration the player reports;
//   2. once currentTime passes 1 s, seeks to the middle (duration / 2),
//      waits for the "seeked" event and notes where it landed;
//   3. samples currentTime once a second until it has advanced 2 s with no
//      "waiting" event or stall error in between (cleanRun);
//   4. waits up to --end-wait seconds for the "ended" event and reports the
//      ranges the video element played (video.played).
// The players buffer only a few seconds ahead in this mode, so that the
// seek target is not yet loaded and the player fetches it.
// Chromium is /usr/bin/chromium (CHROMIUM overrides it), started so that no
// request can leave loopback.
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

// Scripts the page loads, by path on the page's server.
const scripts = {
  '/hls.js': join(here, 'node_modules/hls.js/dist/hls.min.js'),
  '/dash.js': join(here, 'node_modules/dashjs/dist/modern/umd/dash.all.min.js'),
};

const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>onair player test</title>
<script src="/hls.js"></script><script src="/dash.js"></script></head>
<body><video id="v" muted playsinline autoplay width="768" height="432"></video>
<script src="/player.js"></script></body></html>`;

// playerScript runs in the page: it starts the player named by the page's
// query and keeps what happens in window.report.
const playerScript = `
const q = new URLSearchParams(location.search);
const video = document.getElementById('v');
const vod = q.get('mode') === 'vod';
const report = window.report = {playing: false, waiting: 0, stallErrors: 0, errors: [],
  heights: [], switches: [], waits: [], seeked: [], ended: false};
const ranges = (r) => Array.from({length: r.length}, (_, i) => [r.start(i), r.end(i)]);
window.ranges = ranges;
video.addEventListener('playing', () => { report.playing = true; });
video.addEventListener('waiting', () => {
  if (report.playing) { report.waiting++; report.waits.push(Math.round(performance.now())); }
});
video.addEventListener('seeked', () => { report.seeked.push(video.currentTime); });
video.addEventListener('ended', () => {
  report.ended = true;
  report.endedAt = video.currentTime;
});
setInterval(() => {
  const h = video.videoHeight;
  if (h && report.heights[report.heights.length - 1] !== h) report.heights.push(h);
}, 100);
if (q.get('player') === 'hls') {
  // A high first estimate starts on the top rung; loopback keeps it there.
  const config = vod ? {abrEwmaDefaultEstimate: 20e6, maxBufferLength: 2, maxMaxBufferLength: 4}
    : {lowLatencyMode: true, abrEwmaDefaultEstimate: 20e6};
  const sync = Number(q.get('sync'));
  if (sync > 0) config.liveSyncDuration = sync;
  const hls = new Hls(config);
  hls.on(Hls.Events.ERROR, (_, d) => {
    if (d.details === Hls.ErrorDetails.BUFFER_STALLED_ERROR) report.stallErrors++;
    if (d.fatal) report.errors.push(d.type + ': ' + d.details);
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, (_, d) => {
    report.switches.push([hls.levels[d.level].height, Math.round(performance.now())]);
  });
  window.latency = () => hls.latency;
  hls.loadSource(q.get('src'));
  hls.attachMedia(video);
} else {
  const player = dashjs.MediaPlayer().create();
  const streaming = {abr: {initialBitrate: {video: 20000}}};
  if (vod) {
    streaming.buffer = {bufferTimeDefault: 2, bufferTimeAtTopQuality: 2,
      bufferTimeAtTopQualityLongForm: 2};
  }
  player.updateSettings({streaming});
  player.on(dashjs.MediaPlayer.events.ERROR, (e) => {
    report.errors.push(JSON.stringify(e.error || e));
  });
  player.on(dashjs.MediaPlayer.events.PLAYBACK_STALLED, () => {
    if (report.playing) report.stallErrors++;
  });
  player.on(dashjs.MediaPlayer.events.QUALITY_CHANGE_RENDERED, (e) => {
    if (e.mediaType === 'video' && e.newRepresentation) {
      report.switches.push([e.newRepresentation.height, Math.round(performance.now())]);
    }
  });
  window.latency = () => player.getCurrentLiveLatency();
  player.initialize(video, q.get('src'), true);
}
`;

function parseArgs(argv) {
  const opts = { mode: 'live', play: 20, playMax: 45, capBps: 0, switchWait: 40, hlsSync: 0,
    warmup: 0, endWait: 60 };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    switch (name) {
      case '--hls': opts.hls = value; break;
      case '--dash': opts.dash = value; break;
      case '--play': opts.play = Number(value); break;
      case '--play-max': opts.playMax = Number(value); break;
      case '--cap-bps': opts.capBps = Number(value); break;
      case '--switch-wait': opts.switchWait = Number(value); break;
      case '--hls-sync': opts.hlsSync = Number(value); break;
      case '--warmup': opts.warmup = Number(value); break;
      case '--mode': opts.mode = value; break;
      case '--end-wait': opts.endWait = Number(value); break;
      default: throw new Error(`unknown argument ${name}`);
    }
  }
  if (!opts.hls && !opts.dash) throw new Error('want --hls URL and/or --dash URL');
  if (!['live', 'vod'].includes(opts.mode)) throw new Error(`unknown mode ${opts.mode}`);
  return opts;
}

// serve starts the page's server on a loopback port.
function serve() {
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://127.0.0.1').pathname;
    const send = (type, body) => {
      res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(body);
    };
    if (path === '/') return send('text/html; charset=utf-8', page);
    if (path === '/favicon.ico') return res.writeHead(204).end();
    if (path === '/player.js') return send('text/javascript', playerScript);
    if (scripts[path]) return send('text/javascript', readFileSync(scripts[path]));
    res.writeHead(404).end();
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// open opens the test page for one player and records, in result, the
// requests that leave loopback, fail or are answered with an error.
async function open(context, base, player, src, opts, result) {
  const page = await context.newPage();
  const edge = new URL(src).host;

  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) return; // blob:, data:
    if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') result.foreign.push(r.url());
  });
  page.on('response', (r) => {
    if (r.status() >= 400) result.failed.push(`${r.url()}: status ${r.status()}`);
  });
  page.on('requestfailed', (r) => {
    // Requests the player aborts on purpose (a switch) are not failures.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') {
      result.failed.push(`${r.url()}: ${r.failure()?.errorText}`);
    }
  });
  page.on('console', (m) => {
    if (m.type() === 'error') result.console.push(m.text());
  });

  await page.goto(`${base}/?player=${player}&sync=${opts.hlsSync}&mode=${opts.mode}` +
    `&src=${encodeURIComponent(src)}`);
  result.crossOrigin = new URL(base).host !== edge;
  return page;
}

// play runs one player through the three steps and returns its result.
async function play(context, base, player, src, opts) {
  const result = { player, src, started: false, samples: [], foreign: [],
    failed: [], console: [] };
  const page = await open(context, base, player, src, opts, result);

  const t0 = Date.now();
  try {
    await page.waitForFunction(() => window.report.playing && document
      .getElementById('v').currentTime > 0, null, { timeout: 60000, polling: 100 });
    result.started = true;
    result.startupMs = Date.now() - t0;
  } catch (err) {
    result.report = await page.evaluate(() => window.report);
    result.startError = String(err);
    await page.close();
    return result;
  }

  await sleep(opts.warmup * 1000);
  result.playFrom = await page.evaluate(() => Math.round(performance.now()));
  result.latencyAtStart = await page.evaluate(() => window.latency());

  // Watch until currentTime has advanced every second for --play seconds in
  // a row with no waiting event or stall error, or --play-max seconds pass.
  const state = () => page.evaluate(() => ({
    t: document.getElementById('v').currentTime,
    stalls: window.report.waiting + window.report.stallErrors,
  }));
  let last = await state();
  result.samples.push(last.t);
  result.cleanRun = 0;
  result.stalls = [];
  for (let i = 0; i < opts.playMax && result.cleanRun < opts.play; i++) {
    await sleep(1000);
    const now = await state();
    result.samples.push(now.t);
    if (now.t > last.t && now.stalls === last.stalls) {
      result.cleanRun++;
    } else {
      result.stalls.push({ second: i + 1, currentTime: now.t, events: now.stalls - last.stalls });
      result.cleanRun = 0;
    }
    last = now;
  }
  const after = await page.evaluate(() => ({
    ...window.report, heights: [...window.report.heights],
  }));
  result.heightBeforeCap = after.heights[after.heights.length - 1];
  result.latency = await page.evaluate(() => window.latency());

  result.failedBeforeCap = [...result.failed];

  if (opts.capBps > 0) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: 0, uploadThroughput: -1,
      downloadThroughput: opts.capBps / 8,
    });
    result.capBps = opts.capBps;
    result.capAt = await page.evaluate(() => Math.round(performance.now()));

    const deadline = Date.now() + opts.switchWait * 1000;
    while (Date.now() < deadline) {
      const h = await page.evaluate(() => document.getElementById('v').videoHeight);
      if (h && h !== result.heightBeforeCap) {
        result.heightAfterCap = h;
        result.switchMs = opts.switchWait * 1000 - (deadline - Date.now());
        break;
      }
      await sleep(250);
    }
  }

  result.report = await page.evaluate(() => window.report);
  await page.close();
  return result;
}

// playVOD plays a recording through the four steps of --mode vod and returns
// its result.
async function playVOD(context, base, player, src, opts) {
  const result = { player, src, started: false, samples: [], foreign: [],
    failed: [], console: [] };
  const page = await open(context, base, player, src, opts, result);
  const video = () => page.evaluate(() => {
    const v = document.getElementById('v');
    return { t: v.currentTime, duration: v.duration, played: window.ranges(v.played),
      buffered: window.ranges(v.buffered),
      stalls: window.report.waiting + window.report.stallErrors };
  });
  const finish = async () => {
    result.report = await page.evaluate(() => window.report);
    result.played = (await video()).played;
    await page.close();
    return result;
  };

  const step = async (what, fn, arg, timeout) => {
    try {
      await page.waitForFunction(fn, arg, { timeout, polling: 100 });
      return true;
    } catch (err) {
      result.error = `${what}: ${err}`;
      return false;
    }
  };

  // 1. Playback starts; where, and the duration the player reports.
  if (!await step('start', () => window.report.playing &&
      document.getElementById('v').currentTime > 0, null, 60000)) {
    result.startError = result.error;
    return finish();
  }
  result.started = true;
  let now = await video();
  result.startedAt = now.played.length ? now.played[0][0] : -1;
  result.bufferedAtStart = now.buffered;
  result.duration = Number.isFinite(now.duration) ? now.duration : null;
  result.durationText = String(now.duration);

  // 2. Seek to the middle once playback is under way.
  if (!await step('play 1 s', () => document.getElementById('v').currentTime >= 1, null,
      30000)) return finish();
  now = await video();
  result.seekFrom = now.t;
  result.seekTarget = now.duration / 2;
  result.bufferedAtSeek = now.buffered;
  // dash.js seeks to the first frame as it starts: only this seek counts.
  await page.evaluate((target) => {
    window.report.seeked = [];
    document.getElementById('v').currentTime = target;
  }, result.seekTarget);
  if (!await step('seeked', () => window.report.seeked.length > 0, null, 30000)) {
    return finish();
  }
  result.seekedAt = await page.evaluate(() => window.report.seeked[0]);

  // 3. Playback goes on from there: 2 s of currentTime, advancing every
  // second with no waiting event or stall error.
  // cleanRun is how far currentTime went since the last stall (or the seek).
  let last = await video();
  let cleanFrom = last.t;
  result.samples.push(last.t);
  result.cleanRun = 0;
  result.stalls = [];
  for (let i = 0; i < 20 && result.cleanRun < 2; i++) {
    await sleep(1000);
    now = await video();
    result.samples.push(now.t);
    if (now.t > last.t && now.stalls === last.stalls) {
      result.cleanRun = now.t - cleanFrom;
    } else {
      result.stalls.push({ second: i + 1, currentTime: now.t, events: now.stalls - last.stalls });
      cleanFrom = now.t;
      result.cleanRun = 0;
    }
    last = now;
    if (await page.evaluate(() => window.report.ended)) break;
  }

  // 4. It plays to the end.
  await step('ended', () => window.report.ended, null, opts.endWait * 1000);
  result.ended = await page.evaluate(() => window.report.ended);
  result.endedAt = await page.evaluate(() => window.report.endedAt ?? null);
  return finish();
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const server = await serve();
  const base = `http://127.0.0.1:${server.address().port}`;
  const userDataDir = mkdtempSync(join(tmpdir(), 'onair-chromium-'));
  let context;

  const stop = async () => {
    if (context) await context.close().catch(() => {});
    server.close();
    rmSync(userDataDir, { recursive: true, force: true });
  };
  process.on('SIGTERM', () => stop().then(() => process.exit(143)));

  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: [
        // Nothing may leave loopback: no proxy that works, no name resolves.
        '--proxy-server=127.0.0.1:9',
        '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.*',
        '--no-sandbox', '--disable-gpu', '--disable-quic',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--autoplay-policy=no-user-gesture-required',
      ],
    });

    const runs = [];
    const run = opts.mode === 'vod' ? playVOD : play;
    if (opts.hls) runs.push(run(context, base, 'hls', opts.hls, opts));
    if (opts.dash) runs.push(run(context, base, 'dash', opts.dash, opts));

    const out = {};
    for (const r of await Promise.all(runs)) out[r.player] = r;
    out.browser = context.browser()?.version() ?? '';
    process.stdout.write(JSON.stringify(out) + '\n');
  } finally {
    await stop();
  }
}

main().catch((err) => {
  process.stderr.write(`run.mjs: ${err.stack || err}\n`);
  process.exit(1);
});
