// Checks signatures with the official `stripe` package for
// tests/tests/stripe_differential.rs. Input (stdin): JSON list of
// {payload, secret, header, timestamp}; for each, whether
// `stripe.webhooks.constructEvent` accepts reelgate's `header`, and the
// header `generateTestHeaderString` makes for the same payload, secret and
// timestamp. Output: JSON list of {accepted, error?, stripe_header}.
import { readFileSync } from "node:fs";
import Stripe from "stripe";

const stripe = new Stripe("sk_test_reelgate_never_used");
const cases = JSON.parse(readFileSync(0, "utf8"));
const out = cases.map((c) => {
  const stripe_header = stripe.webhooks.generateTestHeaderString({ payload: c.payload, secret: c.secret, timestamp: c.timestamp });
  try {
    stripe.webhooks.constructEvent(c.payload, c.header, c.secret, 300);
    return { accepted: true, stripe_header };
  } catch (error) {
    return { accepted: false, error: error.message, stripe_header };
  }
});
process.stdout.write(JSON.stringify(out));
