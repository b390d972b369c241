import http from "node:http";
import { once } from "node:events";
import { Readable } from "node:stream";
import path from "node:path";
import { NetlifyDev } from "@netlify/dev";
import { listFunctions } from "@netlify/zip-it-and-ship-it";
import { Cron } from "croner";
import { readFile } from "node:fs/promises";
import { parse as parseToml } from "smol-toml";

/**
 * Runs the deployable function files under Netlify's own local emulation (@netlify/dev), serves them
 * over HTTP, and fires the scheduled ones on their cron, since nothing does that locally. Schedules are
 * read by Netlify's bundler (zip-it-and-ship-it), exactly as a deploy reads them: from each file, and
 * from netlify.toml's `[functions.<name>] schedule` (the per-probe topology's block, once uncommented).
 */
export interface LocalNetlify {
  url: string;
  scheduled: { name: string; schedule: string }[];
  invoke(name: string): Promise<Response>;
  close(): Promise<void>;
}

export interface LocalNetlifyOptions {
  projectRoot: string;
  port: number;
  /** Called with each scheduled invocation's answer (the result document for probes). */
  onInvocation?: (name: string, response: Response) => void;
  /** Fire every scheduled function once at start, so results appear without waiting a minute. */
  fireOnStart?: boolean;
  /** Called when a cron comes while the previous run of the same function is still going: skipped, as Netlify does. */
  onSkip?: (name: string) => void;
}

export async function startLocalNetlify(options: LocalNetlifyOptions): Promise<LocalNetlify> {
  const dev = new NetlifyDev({
    projectRoot: options.projectRoot,
    blobs: { enabled: false }, edgeFunctions: { enabled: false }, images: { enabled: false },
    database: { enabled: false }, aiGateway: { enabled: false }, geolocation: { enabled: false },
    staticFiles: { enabled: false }, redirects: { enabled: false }, server: { enabled: false },
  });
  await dev.start();

  const server = http.createServer(async (req, res) => {
    try {
      const handled = await dev.handleAndIntrospectNodeRequest(req);
      if (!handled) {
        res.writeHead(404, { "content-type": "text/plain" }).end("no function at this path\n");
        return;
      }
      const { response } = handled;
      res.writeHead(response.status, Object.fromEntries(response.headers));
      if (response.body) Readable.fromWeb(response.body as never).pipe(res);
      else res.end();
    } catch (error) {
      res.writeHead(502, { "content-type": "text/plain" }).end(`local runtime error: ${(error as Error).message}\n`);
    }
  });
  server.listen(options.port, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : options.port}`;

  const functions = await listFunctions([path.join(options.projectRoot, "functions")], { parseISC: true, config: await tomlSchedules(options.projectRoot) });
  const scheduled = functions.flatMap((f) => (f.schedule ? [{ name: f.name, schedule: f.schedule }] : []));

  const invoke = async (name: string) => {
    const response = await dev.handle(new Request(`${url}/.netlify/functions/${name}`, {
      method: "POST",
      headers: { "user-agent": "Netlify Clockwork", "content-type": "application/json" },
      body: JSON.stringify({ next_run: new Date(Date.now() + 60_000).toISOString() }),
    }));
    return response ?? new Response("function not found", { status: 404 });
  };
  // One run of a function at a time, the run at start included: while the first run is still being
  // bundled, the crons that come are skipped, as Netlify skips a schedule whose previous run is going.
  const running = new Set<string>();
  const fire = async (name: string) => {
    if (running.has(name)) return options.onSkip?.(name);
    running.add(name);
    try {
      options.onInvocation?.(name, await invoke(name));
    } catch (error) {
      options.onInvocation?.(name, new Response(String(error), { status: 599 }));
    } finally {
      running.delete(name);
    }
  };
  const crons = scheduled.map((f) => new Cron(f.schedule, { timezone: "UTC" }, () => fire(f.name)));
  if (options.fireOnStart) for (const f of scheduled) void fire(f.name);

  return {
    url, scheduled, invoke,
    async close() {
      for (const c of crons) c.stop();
      server.closeAllConnections();
      server.close();
      await dev.stop();
    },
  };
}

/** netlify.toml's `[functions.<name>] schedule` entries, as the bundler's `config` takes them (none without the file). */
async function tomlSchedules(projectRoot: string): Promise<Record<string, { schedule: string }>> {
  const text = await readFile(path.join(projectRoot, "netlify.toml"), "utf8").catch(() => "");
  const toml = parseToml(text) as { functions?: Record<string, { schedule?: unknown }> };
  return Object.fromEntries(Object.entries(toml.functions ?? {}).flatMap(([name, f]) => (typeof f?.schedule === "string" ? [[name, { schedule: f.schedule }]] : [])));
}
