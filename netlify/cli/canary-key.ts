import { parseArgs } from "node:util";
import { generateKeyPair, publicKeyFromPrivateKey } from "../../shared/beacon/signing.ts";
import { UsageError } from "./errors.ts";

/**
 * `sentinel canary-key [--kid NAME] [--from-env]`: a new Ed25519 key pair for the canary (or, with
 * --from-env, the public half of CANARY_SIGNING_KEY) and the entry that registers it with Beacon.
 */
export async function canaryKeyCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { kid: { type: "string", default: "sentinel-canary" }, "from-env": { type: "boolean", default: false } } });
  let privateKey: string | undefined;
  let publicKey: string;
  if (values["from-env"]) {
    const configured = process.env.CANARY_SIGNING_KEY?.trim();
    if (!configured) throw new UsageError("--from-env: CANARY_SIGNING_KEY is not set");
    try {
      publicKey = publicKeyFromPrivateKey(configured);
    } catch {
      throw new UsageError("--from-env: CANARY_SIGNING_KEY must be base64 of a 32-byte Ed25519 seed");
    }
  } else {
    ({ privateKey, publicKey } = generateKeyPair());
  }
  const entry = JSON.stringify({ kid: values.kid, public_key: publicKey, status: "active" });
  const lines = [
    ...(privateKey
      ? ["# The sentinel's secret: set it in the Netlify site's environment (never commit it).", `CANARY_SIGNING_KEY=${privateKey}`, ""]
      : []),
    "# Beacon's side: add this entry to the runner's TRUSTED_KEYS_JSON array (or its TRUSTED_KEYS_FILE) and restart it.",
    `# With TRUST_ENFORCE=true Beacon accepts only listed, active keys.`,
    entry,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}
