import { z } from 'zod';

/*
 * The dashboard is served under a strict Content-Security-Policy (no 'unsafe-eval'). zod probes once whether it
 * may compile parsers with `new Function`; it catches the refusal, but the browser still reports a CSP
 * violation in the console on every page load. jitless skips the probe (and the compiled fast path the policy
 * forbids anyway). main.tsx imports this first, before any schema runs.
 */
z.config({ jitless: true });
