// Signs the cases on stdin with @aws-sdk/cloudfront-signer (the AWS SDK for
// JavaScript v3) so reelgate's signer can be compared with it. Input: JSON
// list of cases; output: JSON list of {url, cookies, policy}.
import { readFileSync } from "node:fs";
import { getSignedCookies, getSignedUrl } from "@aws-sdk/cloudfront-signer";

const cases = JSON.parse(readFileSync(0, "utf8"));
const keys = new Map();
const out = cases.map((c) => {
  if (!keys.has(c.key_file)) keys.set(c.key_file, readFileSync(c.key_file, "utf8"));
  const base = { keyPairId: c.key_pair_id, privateKey: keys.get(c.key_file) };
  if (!c.custom) {
    const dateLessThan = new Date(c.expires * 1000).toISOString();
    return { url: getSignedUrl({ ...base, url: c.url, dateLessThan }) };
  }
  // The SDK orders custom conditions differently from botocore, so we hand
  // it reelgate's document to sign, and separately ask it to build its own
  // from the same parameters for a semantic comparison.
  const own = getSignedCookies({
    ...base,
    url: c.resource,
    dateLessThan: new Date(c.expires * 1000).toISOString(),
    dateGreaterThan: c.starts === null ? undefined : new Date(c.starts * 1000).toISOString(),
    ipAddress: c.ip ?? undefined,
  });
  return {
    url: getSignedUrl({ ...base, url: c.url, policy: c.policy_json }),
    cookies: getSignedCookies({ ...base, policy: c.policy_json }),
    own_policy: own["CloudFront-Policy"] ?? null,
  };
});
process.stdout.write(JSON.stringify(out));
