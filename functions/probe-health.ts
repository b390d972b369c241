import type { Config } from "@netlify/functions";
export default async (req: Request) => new Response(JSON.stringify({ ok: true, method: req.method, body: await req.text() }), { headers: { "content-type": "application/json" } });
export const config: Config = { schedule: "* * * * *" };
